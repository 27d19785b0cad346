//! A Kafka mapping's `SchemaRegistryConfig` (inside `AmazonManagedKafkaEventSourceConfig` or
//! `SelfManagedKafkaEventSourceConfig`) onto `esm.schema_registry`. The registry's kind comes
//! from its URI: a Glue registry ARN, a Confluent Cloud address, else a self-managed Confluent
//! registry. What a config cannot say (the schema format, failure rates) stays at esmsim's
//! defaults, and a registry needs provisioned mode, as in AWS.

use super::{Draft, unmodelled};
use crate::error::{Error, Result};
use serde_json::{Map, Value, json};

/// The config objects that may hold a registry, by their API names.
pub const KAFKA_CONFIGS: [&str; 2] = ["AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig"];

/// Maps `config` (the object named `name` in `source`) and returns its fields esmsim does not
/// model, by their paths, for the mapping's one "not modelled" warning.
pub fn apply(config: &Map<String, Value>, name: &str, source: &str, draft: &mut Draft) -> Result<Vec<String>> {
    let mut ignored: Vec<String> =
        unmodelled(config, &["SchemaRegistryConfig"]).iter().map(|f| format!("{name}.{f}")).collect();
    let Some(registry) = config.get("SchemaRegistryConfig").filter(|v| !super::is_empty(v)) else { return Ok(ignored) };
    let path = format!("{name}.SchemaRegistryConfig");
    let registry = registry.as_object().ok_or_else(|| Error::field(source, &path, "expected an object"))?;
    if draft.scenario["esm"]["scaling"]["mode"] != json!("provisioned") {
        draft.warnings.push(format!(
            "{source}: {path} not imported: a schema registry needs provisioned mode (ProvisionedPollerConfig), \
             which this mapping does not have"
        ));
        return Ok(ignored);
    }
    let text = |field: &str| -> Result<&str> {
        registry
            .get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| Error::field(source, format!("{path}.{field}"), "expected a string"))
    };
    let format = match text("EventRecordFormat")? {
        f @ ("JSON" | "SOURCE") => f,
        other => {
            let message = format!("{other:?} is not an event record format: JSON or SOURCE");
            return Err(Error::field(source, format!("{path}.EventRecordFormat"), message));
        }
    };
    let mut validate = Vec::new();
    for (i, item) in registry.get("SchemaValidationConfigs").and_then(Value::as_array).into_iter().flatten().enumerate()
    {
        match item.get("Attribute").and_then(Value::as_str) {
            Some(attribute @ ("KEY" | "VALUE")) => validate.push(json!(attribute)),
            _ => {
                let message = format!("{item} has no Attribute KEY or VALUE");
                return Err(Error::field(source, format!("{path}.SchemaValidationConfigs.{i}"), message));
            }
        }
    }
    if validate.is_empty() {
        let message = "lists no attribute to validate (KEY and/or VALUE)";
        return Err(Error::field(source, format!("{path}.SchemaValidationConfigs"), message));
    }
    let kind = registry_kind(text("SchemaRegistryURI")?);
    draft.set("esm", "schema_registry", json!({ "kind": kind, "event_record_format": format, "validate": validate }));
    draft.warnings.push(format!(
        "{source}: {path} imported as a {kind} registry; the schema format (AVRO by default: set \
         esm.schema_registry.schema_format) and the rates of records that fail validation are not in the mapping"
    ));
    let modelled = ["SchemaRegistryURI", "EventRecordFormat", "SchemaValidationConfigs"];
    ignored.extend(unmodelled(registry, &modelled).iter().map(|f| format!("{path}.{f}")));
    Ok(ignored)
}

/// The registry's kind from its URI: `arn:aws:glue:…` is Glue, a `confluent.cloud` address is
/// Confluent Cloud, anything else a self-managed Confluent registry.
fn registry_kind(uri: &str) -> &'static str {
    if uri.starts_with("arn:aws:glue:") {
        "glue"
    } else if uri.contains(".confluent.cloud") {
        "confluent_cloud"
    } else {
        "confluent_self_managed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_comes_from_the_uri() {
        assert_eq!(registry_kind("arn:aws:glue:us-east-1:123456789012:registry/orders"), "glue");
        assert_eq!(registry_kind("https://psrc-abc12.us-east-2.aws.confluent.cloud"), "confluent_cloud");
        assert_eq!(registry_kind("https://schema-registry.internal.example.com:8081"), "confluent_self_managed");
    }
}
