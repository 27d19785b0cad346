//! `esmsim schema`: the JSON Schema describes what the validator accepts. Every shipped scenario
//! conforms to it (checked by a small validator of the keywords schemars emits), files that the
//! parser rejects for shape are rejected by it too, and each range it states is the validator's.

use esmsim::scenario::schema::{DURATION_PATTERN, RANGES, scenario_schema};
use serde_json::{Value, json};
use std::path::Path;

/// Whether `value` conforms to `schema` (keywords: $ref, anyOf, oneOf, type, enum, const,
/// pattern, properties, required, additionalProperties, items, minimum, maximum).
fn conforms(value: &Value, schema: &Value, root: &Value) -> Result<(), String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = root.pointer(reference.trim_start_matches('#')).ok_or(format!("no {reference}"))?;
        conforms(value, target, root)?;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            let errors: Vec<String> = branches.iter().filter_map(|b| conforms(value, b, root).err()).collect();
            if errors.len() == branches.len() {
                return Err(format!("{value} matches no branch of {key}: {errors:?}"));
            }
        }
    }
    if let Some(kind) = schema.get("type") {
        let kinds: Vec<&str> = match kind {
            Value::Array(k) => k.iter().filter_map(Value::as_str).collect(),
            k => vec![k.as_str().unwrap()],
        };
        let ok = kinds.iter().any(|k| match *k {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            _ => false,
        });
        if !ok {
            return Err(format!("{value} is not {kinds:?}"));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            return Err(format!("{value} not in {options:?}"));
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            return Err(format!("{value} is not {c}"));
        }
    }
    if let (Some(pattern), Some(text)) = (schema.get("pattern").and_then(Value::as_str), value.as_str()) {
        if !regex::Regex::new(pattern).unwrap().is_match(text) {
            return Err(format!("{text:?} does not match {pattern}"));
        }
    }
    if let Some(n) = value.as_f64() {
        if schema.get("minimum").and_then(Value::as_f64).is_some_and(|min| n < min) {
            return Err(format!("{n} below minimum"));
        }
        if schema.get("maximum").and_then(Value::as_f64).is_some_and(|max| n > max) {
            return Err(format!("{n} above maximum"));
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !object.contains_key(required.as_str().unwrap()) {
                return Err(format!("missing {required}"));
            }
        }
        for (key, item) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(property) => conforms(item, property, root).map_err(|e| format!("{key}: {e}"))?,
                None if schema.get("additionalProperties") == Some(&json!(false)) => {
                    return Err(format!("unknown property {key}"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            conforms(item, items, root).map_err(|e| format!("{i}: {e}"))?;
        }
    }
    Ok(())
}

fn shipped() -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir("scenarios").unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()))
        .collect()
}

#[test]
fn every_shipped_scenario_conforms_and_malformed_ones_do_not() {
    let schema = scenario_schema();
    let scenarios = shipped();
    assert!(scenarios.len() >= 15);
    for (file, scenario) in &scenarios {
        conforms(scenario, &schema, &schema).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    // Each mutation is one the parser refuses; the schema must refuse it too.
    let quickstart = &scenarios.iter().find(|(f, _)| f.ends_with("quickstart.json")).unwrap().1;
    let mutations: [(&str, Value); 6] = [
        ("/esm/batchsize", json!(100)),
        ("/esm/batching_window", json!("2 seconds")),
        ("/esm/batch_size", json!(0)),
        ("/esm/scaling/mode", json!("automatic")),
        ("/function/memory_mb", json!("1024")),
        ("/producers/0/record_bytes", json!({"distribution": "normal"})),
    ];
    for (pointer, bad) in mutations {
        let mut scenario = quickstart.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        scenario.pointer_mut(parent).unwrap()[key] = bad.clone();
        assert!(conforms(&scenario, &schema, &schema).is_err(), "schema accepts {pointer} = {bad}");
        let text = scenario.to_string();
        assert!(esmsim::parse_scenario(Path::new("q.json"), &text, &[]).is_err(), "parser accepts {pointer}");
    }
}

#[test]
fn a_scenario_of_several_mappings_conforms_and_a_bad_mapping_does_not() {
    let schema = scenario_schema();
    let scenarios = shipped();
    let grouped = &scenarios.iter().find(|(f, _)| f.ends_with("poller-group-cuts-epu-cost.json")).unwrap().1;
    conforms(grouped, &schema, &schema).unwrap();
    for (pointer, bad) in [("/mappings/0/esm/batch_size", json!(0)), ("/mappings/0/colour", json!("red"))] {
        let mut scenario = grouped.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        scenario.pointer_mut(parent).unwrap()[key] = bad.clone();
        assert!(conforms(&scenario, &schema, &schema).is_err(), "schema accepts {pointer} = {bad}");
        let text = scenario.to_string();
        let parsed = esmsim::scenario::parse_any(Path::new("g.json"), &text, &[]);
        assert!(parsed.is_err(), "parser accepts {pointer}");
    }
    // Neither a topic nor mappings: refused by both.
    let mut empty = grouped.clone();
    empty.as_object_mut().unwrap().remove("mappings");
    assert!(conforms(&empty, &schema, &schema).is_err());
}

#[test]
fn the_duration_pattern_accepts_what_the_parser_accepts() {
    let pattern = regex::Regex::new(DURATION_PATTERN).unwrap();
    for text in ["500ms", "1m30s", "1.5s", "0s", ".5s", "5.s", "7d", "10us", "3ns", " 2h "] {
        assert!(esmsim::engine::parse_duration(text).is_ok(), "{text}");
        assert!(pattern.is_match(text), "{text}");
    }
    for text in ["", "5", "5 s", "-1s", "1.2.3s", "1y", "s"] {
        assert!(esmsim::engine::parse_duration(text).is_err(), "{text}");
        assert!(!pattern.is_match(text), "{text}");
    }
}

/// Each stated range: both bounds validate, one step beyond each is refused.
#[test]
fn every_range_in_the_schema_is_the_validators() {
    let base = r#"{"name": "r", "topic": {"partitions": 4}, "producers": [{"rate": 10}]}"#;
    let schema = scenario_schema();
    for (definition, property, min, max) in RANGES {
        let (prefix, context): (&str, &[&str]) = match *definition {
            "Topic" => ("topic", &[]),
            "Producer" => ("producers.0", &[]),
            "Esm" => ("esm", &[]),
            "Scaling" if *property == "factor" => ("esm.scaling", &["esm.scaling.mode=parallelization_factor"]),
            "Scaling" => ("esm.scaling", &["esm.scaling.mode=provisioned"]),
            "Function" => ("function", &[]),
            "DurationModel" => ("function.duration", &[]),
            "Failures" => ("failures", &[]),
            "SchemaRegistry" => (
                "esm.schema_registry",
                &[
                    "esm.scaling.mode=provisioned",
                    r#"esm.schema_registry={"kind":"glue","event_record_format":"JSON","validate":["VALUE"]}"#,
                ],
            ),
            other => panic!("no path for {other}"),
        };
        let stated = &schema["$defs"][*definition]["properties"][*property];
        assert_eq!(stated["minimum"].as_f64(), *min, "{definition}.{property}");
        let integer = stated["type"] == json!("integer") || stated["type"].to_string().contains("integer");
        let step = if integer { 1.0 } else { 1e-3 };
        let try_value = |v: f64| {
            let mut sets: Vec<String> = context.iter().map(|s| s.to_string()).collect();
            let shown = if integer { format!("{}", v as i64) } else { format!("{v}") };
            sets.push(format!("{prefix}.{property}={shown}"));
            esmsim::parse_scenario(Path::new("r.json"), base, &sets).map(|_| ()).map_err(|e| e.to_string())
        };
        for bound in min.iter().chain(max.iter()) {
            try_value(*bound).unwrap_or_else(|e| panic!("{definition}.{property} = {bound} refused: {e}"));
        }
        if let Some(min) = min {
            assert!(try_value(min - step).is_err(), "{definition}.{property} below {min} accepted");
        }
        if let Some(max) = max {
            assert!(try_value(max + step).is_err(), "{definition}.{property} above {max} accepted");
        }
    }
}

#[test]
fn a_schema_key_is_accepted_and_does_not_change_the_run() {
    let plain = r#"{"name": "s", "topic": {"partitions": 2}, "producers": [{"rate": 10}]}"#;
    let marked =
        r#"{"$schema": "./esmsim.schema.json", "name": "s", "topic": {"partitions": 2}, "producers": [{"rate": 10}]}"#;
    let a = esmsim::parse_scenario(Path::new("a.json"), plain, &[]).unwrap();
    let b = esmsim::parse_scenario(Path::new("b.json"), marked, &[]).unwrap();
    assert_eq!(a.config.config_hash, b.config.config_hash);
    let wrong = r#"{"$schema": 3, "name": "s", "topic": {"partitions": 2}}"#;
    assert!(esmsim::parse_scenario(Path::new("c.json"), wrong, &[]).is_err());
}
