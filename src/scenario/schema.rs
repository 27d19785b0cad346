//! `esmsim schema`: the JSON Schema of the scenario file, for editors (VS Code completes and
//! checks a scenario that names it in `"$schema"`). The serde types derive most of it; the forms
//! with hand-written deserialisers (durations, "a number or an object") are described here, and
//! the numeric ranges `config::check` enforces are added from one table so the types stay plain.

use super::{AgeLimit, Backlog, Dur, OtherConcurrency, RecordBytes, Scenario, SnapStart, TimeDistribution};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};
use std::borrow::Cow;

/// The pattern of a duration string: numbers with units, combined (`1m30s`) or decimal (`1.5s`).
pub const DURATION_PATTERN: &str = r"^\s*(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|ms|s|m|h|d))+\s*$";

/// Ranges `config::check` enforces, as (definition, property, minimum, maximum); a missing bound
/// is open. Tests check each bound against the validator, so the two cannot drift apart.
pub const RANGES: &[(&str, &str, Option<f64>, Option<f64>)] = &[
    ("Topic", "partitions", Some(1.0), None),
    ("Producer", "rate", Some(0.0), Some(1e9)),
    ("Esm", "batch_size", Some(1.0), Some(10_000.0)),
    ("Esm", "max_payload_bytes", Some(1.0), Some(6_291_456.0)),
    ("Esm", "maximum_retry_attempts", Some(-1.0), Some(10_000.0)),
    ("Scaling", "factor", Some(1.0), Some(10.0)),
    ("Scaling", "min_pollers", Some(1.0), Some(200.0)),
    ("Scaling", "max_pollers", Some(1.0), Some(2_000.0)),
    ("Scaling", "invocations_per_poller", Some(1.0), Some(5.0)),
    ("Function", "memory_mb", Some(128.0), Some(10_240.0)),
    ("DurationModel", "jitter_sigma", Some(0.0), Some(5.0)),
    ("DurationModel", "reference_memory_mb", Some(128.0), Some(10_240.0)),
    ("DurationModel", "threads", Some(1.0), Some(64.0)),
    ("DurationModel", "arm64_factor", Some(0.1), Some(10.0)),
    ("Failures", "poison_rate", Some(0.0), Some(1.0)),
    ("Failures", "transient_error_rate", Some(0.0), Some(1.0)),
    ("Failures", "transient_record_error_rate", Some(0.0), Some(1.0)),
    ("SchemaRegistry", "schema_not_found_rate", Some(0.0), Some(1.0)),
    ("SchemaRegistry", "deserialization_error_rate", Some(0.0), Some(1.0)),
    ("SchemaRegistry", "json_size_factor", Some(1.0), Some(20.0)),
    ("SchemaRegistry", "epu_factor", Some(1.0), Some(10.0)),
];

/// The scenario format's JSON Schema (draft 2020-12), with descriptions, defaults and ranges.
pub fn scenario_schema() -> Value {
    let mut schema = SchemaGenerator::default().into_root_schema_for::<Scenario>().to_value();
    schema["title"] = json!("esmsim scenario");
    schema["description"] = json!(
        "One esmsim simulation input. Durations are strings with a unit (ns us ms s m h d), e.g. \"500ms\", \"1m30s\"."
    );
    add_mappings(&mut schema);
    let defs = schema.get_mut("$defs").and_then(Value::as_object_mut).expect("the schema has definitions");
    for (definition, property, min, max) in RANGES {
        // A name in RANGES that the types lack is a bug the schema test catches.
        let Some(node) = defs.get_mut(*definition).and_then(|d| d.pointer_mut(&format!("/properties/{property}")))
        else {
            panic!("schema range for {definition}.{property}: no such property")
        };
        if let Some(min) = min {
            node["minimum"] = json!(min);
        }
        if let Some(max) = max {
            node["maximum"] = json!(max);
        }
    }
    schema
}

/// `mappings` is read from the JSON tree (`scenario::mappings`), not derived: each mapping holds
/// a name and the sections a scenario of one mapping has at its top, and a scenario has either
/// `topic` or `mappings`.
fn add_mappings(schema: &mut Value) {
    let properties = &schema["properties"];
    let mut sections = serde_json::Map::new();
    sections.insert(
        "name".into(),
        json!({"type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$", "description": "Unique; names the mapping's folder under mappings/."}),
    );
    for section in super::mappings::MAPPING_SECTIONS {
        sections.insert(section.into(), properties[section].clone());
    }
    schema["properties"]["mappings"] = json!({
        "description": "Several event source mappings on one clock in one account, each with its own topic, producers, esm, function (shared by mappings that give the same function.name), failures and faults. The other top-level fields apply to all.",
        "type": "array",
        "items": {"type": "object", "additionalProperties": false, "required": ["name", "topic"], "properties": sections},
    });
    schema["required"] = json!(["name"]);
    schema["anyOf"] = json!([{"required": ["topic"]}, {"required": ["mappings"]}]);
}

impl JsonSchema for Dur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration with a unit (ns, us, ms, s, m, h, d): \"500ms\", \"1m30s\", \"1.5s\".",
        })
    }
}

impl JsonSchema for AgeLimit {
    fn schema_name() -> Cow<'static, str> {
        "AgeLimit".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "-1 (no limit), whole seconds, or a duration string; 60 s to 7 days.",
            "anyOf": [
                { "type": "integer", "minimum": -1 },
                { "type": "string", "pattern": DURATION_PATTERN },
            ],
        })
    }
}

impl JsonSchema for RecordBytes {
    fn schema_name() -> Cow<'static, str> {
        "RecordBytes".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let shape = generator.subschema_for::<super::SizeDistribution>();
        json_schema!({
            "description": "Bytes: a number, or a uniform or lognormal distribution.",
            "anyOf": [{ "type": "integer", "minimum": 0 }, shape],
        })
    }
}

impl JsonSchema for TimeDistribution {
    fn schema_name() -> Cow<'static, str> {
        "TimeDistribution".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let fixed = generator.subschema_for::<Dur>();
        let shape = generator.subschema_for::<super::TimeShape>();
        json_schema!({
            "description": "A time: a duration, or a uniform or lognormal distribution of durations.",
            "anyOf": [fixed, shape],
        })
    }
}

impl JsonSchema for OtherConcurrency {
    fn schema_name() -> Cow<'static, str> {
        "OtherConcurrency".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let steps = generator.subschema_for::<Vec<super::ConcurrencyStep>>();
        json_schema!({
            "description": "Concurrency used by other functions: a number, or steps [{\"at\": \"10m\", \"value\": 300}].",
            "anyOf": [{ "type": "integer", "minimum": 0 }, steps],
        })
    }
}

impl JsonSchema for Backlog {
    fn schema_name() -> Cow<'static, str> {
        "Backlog".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let fields = generator.subschema_for::<super::topic::BacklogFields>();
        json_schema!({
            "description": "Records per partition at t = 0: a number, or {\"records\": N, \"span\": \"1h\", \"record_bytes\": 1024}.",
            "anyOf": [{ "type": "integer", "minimum": 0 }, fields],
        })
    }
}

impl JsonSchema for SnapStart {
    fn schema_name() -> Cow<'static, str> {
        "SnapStart".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let settings = generator.subschema_for::<super::SnapStartSettings>();
        json_schema!({
            "description": "SnapStart: true, false, or {\"restore\": \"200ms\"} (true with its own restore time).",
            "anyOf": [{ "type": "boolean" }, settings],
        })
    }
}
