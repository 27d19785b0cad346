//! `terraform show -json` output (a state, or a plan's `planned_values`): its
//! `aws_lambda_event_source_mapping` and the `aws_lambda_function` it invokes, found in the root
//! module or any child module. Attributes are brought to the Lambda API's names (nested blocks
//! are one-element lists in Terraform's JSON); the rest are listed by their Terraform names.

use super::{Draft, esm, function, unmodelled};
use crate::error::{Error, Result};
use serde_json::{Map, Value, json};
use std::path::Path;

/// Terraform attribute → API field, for attributes with the same meaning and value.
const MAPPING_FIELDS: &[(&str, &str)] = &[
    ("batch_size", "BatchSize"),
    ("maximum_batching_window_in_seconds", "MaximumBatchingWindowInSeconds"),
    ("starting_position", "StartingPosition"),
    ("starting_position_timestamp", "StartingPositionTimestamp"),
    ("function_response_types", "FunctionResponseTypes"),
    ("maximum_retry_attempts", "MaximumRetryAttempts"),
    ("maximum_record_age_in_seconds", "MaximumRecordAgeInSeconds"),
    ("bisect_batch_on_function_error", "BisectBatchOnFunctionError"),
    ("topics", "Topics"),
];
const FUNCTION_FIELDS: &[(&str, &str)] = &[
    ("memory_size", "MemorySize"),
    ("timeout", "Timeout"),
    ("architectures", "Architectures"),
    ("reserved_concurrent_executions", "ReservedConcurrentExecutions"),
];
/// Blocks handled one by one below.
const MAPPING_BLOCKS: &[&str] = &["provisioned_poller_config", "destination_config", "filter_criteria"];

pub fn apply(file: &Path, document: &Value, draft: &mut Draft) -> Result<()> {
    let root = document
        .pointer("/values/root_module")
        .or_else(|| document.pointer("/planned_values/root_module"))
        .ok_or_else(|| {
            Error::field(file, "values.root_module", "not `terraform show -json` output (no values or planned_values)")
        })?;
    let mut resources = vec![];
    collect(root, &mut resources);
    let of_type =
        |kind: &str| -> Vec<&Value> { resources.iter().copied().filter(|r| r["type"] == json!(kind)).collect() };
    let mappings = of_type("aws_lambda_event_source_mapping");
    let mapping = match mappings.as_slice() {
        [one] => *one,
        [] => return Err(Error::field(file, "values.root_module", "has no aws_lambda_event_source_mapping")),
        many => {
            let addresses: Vec<String> =
                many.iter().map(|r| r["address"].as_str().unwrap_or("?").to_string()).collect();
            return Err(Error::field(
                file,
                "values.root_module",
                format!(
                    "has {} aws_lambda_event_source_mapping resources ({}); import takes one",
                    many.len(),
                    addresses.join(", ")
                ),
            ));
        }
    };
    let address = mapping["address"].as_str().unwrap_or("aws_lambda_event_source_mapping");
    let values = mapping["values"].as_object().cloned().unwrap_or_default();
    let source = format!("{}: {address}", file.display());
    let api = mapping_api(&values);
    esm::apply(&api, &source, draft)?;
    // esm::apply listed nothing of Terraform's own (the API map holds only mapped fields).
    let mut known: Vec<&str> = MAPPING_FIELDS.iter().map(|(tf, _)| *tf).collect();
    known.extend(MAPPING_BLOCKS);
    let mut ignored = unmodelled(&values, &known);
    if let Some(block) = first_block(&values, "provisioned_poller_config") {
        ignored.extend(
            unmodelled(block, &["minimum_pollers", "maximum_pollers"])
                .iter()
                .map(|f| format!("provisioned_poller_config.{f}")),
        );
    }
    draft.ignored(&source, &ignored);

    let functions = of_type("aws_lambda_function");
    let target = values.get("function_name").and_then(Value::as_str).unwrap_or("");
    let chosen = functions
        .iter()
        .find(|f| ["function_name", "arn", "qualified_arn"].iter().any(|k| f["values"][k].as_str() == Some(target)))
        .or(if functions.len() == 1 { functions.first() } else { None });
    match chosen {
        Some(resource) => {
            let values = resource["values"].as_object().cloned().unwrap_or_default();
            let api = rename(&values, FUNCTION_FIELDS);
            let source =
                format!("{}: {}", file.display(), resource["address"].as_str().unwrap_or("aws_lambda_function"));
            function::apply(&api, &source, draft)?;
            let known: Vec<&str> = FUNCTION_FIELDS.iter().map(|(tf, _)| *tf).collect();
            draft.ignored(&source, &unmodelled(&values, &known));
        }
        None => draft.warnings.push(format!(
            "{}: no aws_lambda_function matches function_name {target:?}; give --function FILE for memory and timeout",
            file.display()
        )),
    }
    Ok(())
}

/// Every resource of a module and its child modules, in document order.
fn collect<'a>(module: &'a Value, out: &mut Vec<&'a Value>) {
    out.extend(module["resources"].as_array().into_iter().flatten());
    for child in module["child_modules"].as_array().into_iter().flatten() {
        collect(child, out);
    }
}

fn first_block<'a>(values: &'a Map<String, Value>, name: &str) -> Option<&'a Map<String, Value>> {
    values.get(name)?.as_array()?.first()?.as_object()
}

fn rename(values: &Map<String, Value>, table: &[(&str, &str)]) -> Map<String, Value> {
    table
        .iter()
        .filter_map(|(tf, api)| Some((api.to_string(), values.get(*tf)?.clone())))
        .filter(|(_, v)| !v.is_null())
        .collect()
}

/// The mapping's attributes in the API's shape.
fn mapping_api(values: &Map<String, Value>) -> Map<String, Value> {
    let mut api = rename(values, MAPPING_FIELDS);
    // Terraform writes "" for an unset starting position and 0 for an unset window.
    if api.get("StartingPosition") == Some(&json!("")) {
        api.remove("StartingPosition");
    }
    if let Some(block) = first_block(values, "provisioned_poller_config") {
        let mut config = Map::new();
        let fields = [
            ("minimum_pollers", "MinimumPollers"),
            ("maximum_pollers", "MaximumPollers"),
            ("poller_group_name", "PollerGroupName"),
        ];
        for (tf, name) in fields {
            if let Some(n) = block.get(tf).filter(|v| !v.is_null()) {
                config.insert(name.into(), n.clone());
            }
        }
        api.insert("ProvisionedPollerConfig".into(), Value::Object(config));
    }
    let arn = first_block(values, "destination_config")
        .and_then(|d| d.get("on_failure")?.as_array()?.first()?.get("destination_arn").cloned());
    if let Some(arn) = arn {
        api.insert("DestinationConfig".into(), json!({ "OnFailure": { "Destination": arn } }));
    }
    if let Some(block) = first_block(values, "filter_criteria") {
        let filters: Vec<Value> = block
            .get("filter")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|f| json!({ "Pattern": f["pattern"] }))
            .collect();
        api.insert("FilterCriteria".into(), json!({ "Filters": filters }));
    }
    api
}
