//! The Rust twin of `reports_failures.py`: returns `batchItemFailures` naming each poison record
//! (value `{"poison":true}`) as `{"partition": "<topic>-<partition>", "offset": N}`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// base64 of `{"poison":true}`, the poison value of `examples/handlers/poison.json`.
const POISON: &str = "eyJwb2lzb24iOnRydWV9";

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let mut failures = Vec::new();
    if let Some(records) = event.payload["records"].as_object() {
        for (key, list) in records {
            for record in list.as_array().into_iter().flatten() {
                if record["value"] == POISON {
                    failures.push(json!({"itemIdentifier": {"partition": key, "offset": record["offset"]}}));
                }
            }
        }
    }
    Ok(json!({ "batchItemFailures": failures }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
