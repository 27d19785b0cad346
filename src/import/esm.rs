//! An event source mapping in the Lambda API's shape (`aws lambda get-event-source-mapping`, one
//! item of `list-event-source-mappings`, or a CloudFormation / Terraform resource brought to that
//! shape) onto the scenario's `esm` and `topic` fields.

use super::{Draft, unmodelled};
use crate::error::{Error, Result};
use serde_json::{Map, Value, json};
use std::path::Path;

/// The API fields esmsim maps. `StartingPositionTimestamp` is read with `StartingPosition`.
const MODELLED: &[&str] = &[
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "StartingPosition",
    "StartingPositionTimestamp",
    "ProvisionedPollerConfig",
    "DestinationConfig",
    "FunctionResponseTypes",
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "Topics",
    "FilterCriteria",
    "AmazonManagedKafkaEventSourceConfig",
    "SelfManagedKafkaEventSourceConfig",
];

/// The mapping in `document`: the object itself, or the only item of `EventSourceMappings`.
pub fn from_cli_output<'a>(file: &Path, document: &'a Value) -> Result<&'a Map<String, Value>> {
    let object = document.as_object().ok_or_else(|| Error::field(file, "(root)", "expected a JSON object"))?;
    let Some(list) = object.get("EventSourceMappings") else { return Ok(object) };
    match list.as_array().map(Vec::as_slice) {
        Some([one]) => one.as_object().ok_or_else(|| Error::field(file, "EventSourceMappings.0", "expected an object")),
        Some(items) => Err(Error::field(
            file,
            "EventSourceMappings",
            format!(
                "holds {} mappings; import takes one: pick it with jq '.EventSourceMappings[K]' or use get-event-source-mapping --uuid",
                items.len()
            ),
        )),
        None => Err(Error::field(file, "EventSourceMappings", "expected a list")),
    }
}

/// Maps `api` (described as `source` in messages) onto the draft.
pub fn apply(api: &Map<String, Value>, source: &str, draft: &mut Draft) -> Result<()> {
    let wrong = |field: &str, message: String| Error::field(source, field, message);
    let int = |field: &str| -> Result<Option<i64>> {
        api.get(field)
            .filter(|v| !v.is_null())
            .map(|v| v.as_i64().ok_or_else(|| wrong(field, format!("expected an integer, found {v}"))))
            .transpose()
    };
    draft.sources.push(source.to_string());
    if let Some(n) = int("BatchSize")? {
        draft.set("esm", "batch_size", json!(n));
    }
    if let Some(n) = int("MaximumBatchingWindowInSeconds")? {
        draft.set("esm", "batching_window", json!(format!("{n}s")));
    }
    starting_position(api, source, draft)?;
    if let Some(config) = api.get("ProvisionedPollerConfig").and_then(Value::as_object) {
        let mut scaling = json!({ "mode": "provisioned" });
        for (aws, ours) in [("MinimumPollers", "min_pollers"), ("MaximumPollers", "max_pollers")] {
            if let Some(n) = config.get(aws).and_then(Value::as_i64) {
                scaling[ours] = json!(n);
            }
        }
        if let Some(group) = config.get("PollerGroupName").and_then(Value::as_str) {
            scaling["poller_group"] = json!(group);
        }
        draft.set("esm", "scaling", scaling);
        let extra = unmodelled(config, &["MinimumPollers", "MaximumPollers", "PollerGroupName"]);
        let extra: Vec<String> = extra.iter().map(|f| format!("ProvisionedPollerConfig.{f}")).collect();
        draft.ignored(source, &extra);
    }
    if let Some(destination) = api.get("DestinationConfig").and_then(|d| d.pointer("/OnFailure/Destination")) {
        let arn = destination
            .as_str()
            .ok_or_else(|| wrong("DestinationConfig.OnFailure.Destination", "expected an ARN".into()))?;
        let kind = destination_kind(arn).ok_or_else(|| {
            wrong(
                "DestinationConfig.OnFailure.Destination",
                format!("{arn:?} is not an SQS queue, SNS topic or S3 bucket ARN, nor a kafka:// URI"),
            )
        })?;
        draft.set("esm", "on_failure_destination", json!({ "kind": kind }));
    }
    if let Some(types) = api.get("FunctionResponseTypes").filter(|v| !v.is_null()) {
        draft.set("esm", "function_response_types", types.clone());
    }
    if let Some(n) = int("MaximumRetryAttempts")? {
        draft.set("esm", "maximum_retry_attempts", json!(n));
    }
    if let Some(n) = int("MaximumRecordAgeInSeconds")? {
        draft.set("esm", "maximum_record_age", json!(n));
    }
    if let Some(bisect) = api.get("BisectBatchOnFunctionError").and_then(Value::as_bool) {
        draft.set("esm", "bisect_batch_on_function_error", json!(bisect));
    }
    if let Some(topics) = api.get("Topics").and_then(Value::as_array) {
        if let Some(name) = topics.first().and_then(Value::as_str) {
            draft.set("topic", "name", json!(name));
        }
        if topics.len() > 1 {
            draft.warnings.push(format!("{source}: Topics has {} topics; esmsim simulates the first", topics.len()));
        }
    }
    if let Some(filters) = api.get("FilterCriteria").filter(|v| !super::is_empty(v)) {
        super::filter::apply(filters, source, draft)?;
    }
    let mut ignored = unmodelled(api, MODELLED);
    for name in super::registry::KAFKA_CONFIGS {
        if let Some(config) = api.get(name).and_then(Value::as_object) {
            ignored.extend(super::registry::apply(config, name, source, draft)?);
        }
    }
    ignored.sort();
    draft.ignored(source, &ignored);
    Ok(())
}

/// `StartingPosition` (and `AT_TIMESTAMP`'s timestamp, which the scenario expresses as an age
/// before t = 0: without a backlog it changes nothing, so a placeholder is said to be one).
fn starting_position(api: &Map<String, Value>, source: &str, draft: &mut Draft) -> Result<()> {
    let Some(position) = api.get("StartingPosition").and_then(Value::as_str) else { return Ok(()) };
    if !matches!(position, "LATEST" | "TRIM_HORIZON" | "AT_TIMESTAMP") {
        return Err(Error::field(
            source,
            "StartingPosition",
            format!("{position:?}; allowed: LATEST, TRIM_HORIZON, AT_TIMESTAMP"),
        ));
    }
    draft.set("esm", "starting_position", json!(position));
    if position == "AT_TIMESTAMP" {
        draft.set("esm", "starting_position_age", json!("1h"));
        let at = api.get("StartingPositionTimestamp").map_or("(none)".to_string(), Value::to_string);
        draft.warnings.push(format!(
            "placeholder: esm.starting_position_age = \"1h\" (StartingPositionTimestamp {at} is absolute; \
             set how long before the simulated start it lies, and topic.backlog for the records it reads)"
        ));
    }
    Ok(())
}

/// The destination kind from an ARN (`arn:aws:sqs:...`) or a Kafka topic URI (`kafka://topic`).
pub fn destination_kind(arn: &str) -> Option<&'static str> {
    if arn.starts_with("kafka://") {
        return Some("kafka");
    }
    let mut parts = arn.split(':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_partition), Some("sqs")) => Some("sqs"),
        (Some("arn"), Some(_), Some("sns")) => Some("sns"),
        (Some("arn"), Some(_), Some("s3")) => Some("s3"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::destination_kind;

    #[test]
    fn destination_kinds_come_from_the_arn() {
        assert_eq!(destination_kind("arn:aws:sqs:us-east-1:123456789012:dlq"), Some("sqs"));
        assert_eq!(destination_kind("arn:aws-cn:sns:cn-north-1:123456789012:t"), Some("sns"));
        assert_eq!(destination_kind("arn:aws:s3:::example-bucket"), Some("s3"));
        assert_eq!(destination_kind("kafka://orders-failures"), Some("kafka"));
        assert_eq!(destination_kind("arn:aws:lambda:us-east-1:123456789012:function:f"), None);
        assert_eq!(destination_kind("orders-dlq"), None);
    }
}
