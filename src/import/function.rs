//! A function's configuration in the Lambda API's shape (`aws lambda get-function-configuration`,
//! or a CloudFormation / Terraform function brought to it) and its reserved concurrency
//! (`aws lambda get-function-concurrency`) onto the scenario's `function` fields.

use super::{Draft, unmodelled};
use crate::error::{Error, Result};
use serde_json::{Map, Value, json};
use std::path::Path;

const MODELLED: &[&str] = &["MemorySize", "Timeout", "Architectures", "ReservedConcurrentExecutions"];

/// Maps `api` (described as `source` in messages) onto the draft.
pub fn apply(api: &Map<String, Value>, source: &str, draft: &mut Draft) -> Result<()> {
    let int = |field: &str| -> Result<Option<i64>> {
        api.get(field)
            .filter(|v| !v.is_null())
            .map(|v| v.as_i64().ok_or_else(|| Error::field(source, field, format!("expected an integer, found {v}"))))
            .transpose()
    };
    draft.sources.push(source.to_string());
    if let Some(mb) = int("MemorySize")? {
        draft.set("function", "memory_mb", json!(mb));
    }
    if let Some(seconds) = int("Timeout")? {
        draft.set("function", "timeout", json!(format!("{seconds}s")));
    }
    if let Some(architectures) = api.get("Architectures").and_then(Value::as_array) {
        match architectures.first().and_then(Value::as_str) {
            Some(a @ ("x86_64" | "arm64")) => draft.set("function", "architecture", json!(a)),
            Some(other) => {
                return Err(Error::field(source, "Architectures.0", format!("{other:?}; allowed: x86_64, arm64")));
            }
            None => {}
        }
    }
    // Terraform writes -1 for "no reserved concurrency".
    if let Some(n) = int("ReservedConcurrentExecutions")?.filter(|n| *n >= 0) {
        draft.set("function", "reserved_concurrency", json!(n));
    }
    draft.ignored(source, &unmodelled(api, MODELLED));
    Ok(())
}

/// `get-function-concurrency`: `{"ReservedConcurrentExecutions": N}`, or `{}` without a reservation.
pub fn apply_concurrency(file: &Path, document: &Value, draft: &mut Draft) -> Result<()> {
    let api = document.as_object().ok_or_else(|| Error::field(file, "(root)", "expected a JSON object"))?;
    let source = file.display().to_string();
    let known = unmodelled(api, &["ReservedConcurrentExecutions"]);
    if let Some(first) = known.first() {
        return Err(Error::field(
            file,
            first,
            "unexpected in get-function-concurrency output (it holds ReservedConcurrentExecutions only)",
        ));
    }
    apply(api, &source, draft)
}
