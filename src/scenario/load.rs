//! Reading a scenario: JSON text → `serde_json::Value` → `--set` overrides → typed `Scenario`
//! with the exact field path of the first problem → validation.

use super::strict::Invalid;
use super::{Scenario, Warning};
use crate::config::{Config, Problem, compile_in, problem};
use crate::error::{Error, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A scenario that parsed and validated, with the warnings it raised.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub scenario: Scenario,
    /// What the scenario means, ready to simulate.
    pub config: Config,
    pub warnings: Vec<Warning>,
    pub file: PathBuf,
}

/// The largest scenario file read: shipped ones are a few KB.
pub const MAX_SCENARIO_BYTES: u64 = 16 << 20;

/// Reads a scenario file's text, at most [`MAX_SCENARIO_BYTES`].
pub fn read_scenario_text(file: &Path) -> Result<String> {
    crate::text::read_capped(file, MAX_SCENARIO_BYTES, "a scenario")
}

/// Reads `file`, applies each `PATH=VALUE` in `sets` in order, and validates the result.
pub fn load_scenario(file: &Path, sets: &[String]) -> Result<Loaded> {
    let text = read_scenario_text(file)?;
    parse_scenario(file, &text, sets)
}

/// A scenario of one mapping, or of several (`mappings`).
#[derive(Clone, Debug)]
pub enum Parsed {
    One(Box<Loaded>),
    Many(LoadedMappings),
}

/// A scenario with `mappings` that parsed and validated.
#[derive(Clone, Debug)]
pub struct LoadedMappings {
    pub mappings: super::mappings::Mappings,
    pub warnings: Vec<Warning>,
    pub file: PathBuf,
}

/// As [`load_scenario`], for the commands that also run scenarios of several mappings.
pub fn load_any(file: &Path, sets: &[String]) -> Result<Parsed> {
    let text = read_scenario_text(file)?;
    parse_any(file, &text, sets)
}

/// As [`load_scenario`], with the text already read. `file` names the source in errors. A
/// scenario with `mappings` is refused with one line: only `run` and `validate` take those
/// (see [`parse_any`]), so that no study silently simulates one mapping of several.
pub fn parse_scenario(file: &Path, text: &str, sets: &[String]) -> Result<Loaded> {
    match parse_any(file, text, sets)? {
        Parsed::One(loaded) => Ok(*loaded),
        Parsed::Many(_) => Err(Error::field(
            file,
            "mappings",
            "several mappings run with `esmsim run` and `esmsim validate` only; this command takes a scenario of one \
             mapping (move one mapping's sections to the top level)",
        )),
    }
}

/// As [`parse_scenario`], accepting scenarios of several mappings.
pub fn parse_any(file: &Path, text: &str, sets: &[String]) -> Result<Parsed> {
    let mut value = super::strict::parse(text).map_err(|invalid| match invalid {
        Invalid::Syntax(e) => Error::field(file, "(file)", format!("not valid JSON: {e}")),
        Invalid::Duplicate(path) => Error::field(file, path, "is given twice; each key may appear once"),
    })?;
    if !value.is_object() {
        let found = kind_of(&value);
        return Err(Error::field(file, "(root)", format!("a scenario is a JSON object {{...}}, found {found}")));
    }
    for set in sets {
        apply_set(&mut value, set).map_err(|p| Error::field(file, p.path, p.message))?;
    }
    // Traffic files are relative to the scenario file.
    let base = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let at_file = |p: Problem| Error::field(file, p.path, p.message);
    if value.get("mappings").is_some() {
        let mut warnings = Vec::new();
        let mappings = super::mappings::read(&value, base, &mut warnings).map_err(at_file)?;
        return Ok(Parsed::Many(LoadedMappings { mappings, warnings, file: file.to_path_buf() }));
    }
    let (scenario, compiled) = compile_value(&value, base).map_err(at_file)?;
    let loaded = Loaded { scenario, config: compiled.config, warnings: compiled.warnings, file: file.to_path_buf() };
    Ok(Parsed::One(Box::new(loaded)))
}

/// The typed scenario of a JSON tree (with the exact path of the first problem), compiled.
pub(super) fn compile_value(value: &Value, base: &Path) -> Result<(Scenario, crate::config::Compiled), Problem> {
    let mut scenario: Scenario =
        serde_path_to_error::deserialize(value).map_err(|e| problem(dotted(e.path()), e.into_inner().to_string()))?;
    if value.get("duration").is_none() {
        duration_from_traffic(&mut scenario, base)?;
    }
    let compiled = compile_in(&scenario, base)?;
    Ok((scenario, compiled))
}

/// Without a `duration`, a scenario whose producers replay traffic files runs for the longest
/// file's span.
fn duration_from_traffic(scenario: &mut Scenario, base: &Path) -> Result<(), Problem> {
    let spans = crate::config::traffic_of(scenario, base)?;
    if let Some(span) = spans.iter().flatten().map(|t| t.span_ns).max() {
        scenario.duration = super::Dur(span);
    }
    Ok(())
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A serde path in the dotted form `--set` uses: `producers.0.rate`.
fn dotted(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let parts: Vec<String> = path
        .iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.clone()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect();
    if parts.is_empty() { "(root)".into() } else { parts.join(".") }
}

/// Applies one `--set PATH=VALUE` to the JSON tree. `VALUE` is read as JSON when it parses as
/// JSON (numbers, `true`, `null`, objects, quoted strings) and as a plain string otherwise, so
/// `esm.batching_window=2s` needs no quotes. Missing objects along the path are created; unknown
/// names are caught afterwards by the typed parse, with the path.
pub fn apply_set(root: &mut Value, assignment: &str) -> Result<(), Problem> {
    let Some((path, raw)) = assignment.split_once('=') else {
        return Err(problem(assignment, "--set needs PATH=VALUE, e.g. esm.batch_size=500"));
    };
    let path = path.trim();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(problem(path, "--set path must be dot-separated names, e.g. esm.batch_size"));
    }
    let value = serde_json::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    let mut node = root;
    let mut walked = String::new();
    let segments: Vec<&str> = path.split('.').collect();
    for (i, segment) in segments.iter().enumerate() {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(segment);
        let last = i + 1 == segments.len();
        node = step(node, segment, last, &walked)?;
    }
    *node = value;
    Ok(())
}

/// One step of a `--set` path: into an object member (created as needed) or an array element.
fn step<'a>(node: &'a mut Value, segment: &str, last: bool, walked: &str) -> Result<&'a mut Value, Problem> {
    if node.is_null() {
        *node = Value::Object(Default::default());
    }
    match node {
        Value::Object(map) => {
            let entry = map.entry(segment.to_string()).or_insert(Value::Null);
            if !last && entry.is_null() {
                *entry = Value::Object(Default::default());
            }
            Ok(entry)
        }
        Value::Array(items) => {
            let len = items.len();
            let index: usize = segment
                .parse()
                .map_err(|_| problem(walked, format!("expected an array index 0..{len}, found {segment:?}")))?;
            items
                .get_mut(index)
                .ok_or_else(|| problem(walked, format!("index {index} is out of range: the list has {len} entries")))
        }
        _ => Err(problem(walked, "cannot set a field inside a number, string or boolean")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_parses_json_or_falls_back_to_string() {
        let mut v = json!({"esm": {"batch_size": 100}, "producers": [{"rate": 1}]});
        apply_set(&mut v, "esm.batch_size=500").unwrap();
        apply_set(&mut v, "esm.batching_window=2s").unwrap();
        apply_set(&mut v, "producers.0.rate=8000").unwrap();
        apply_set(&mut v, "function.cold_start.init=1s").unwrap();
        assert_eq!(v["esm"]["batch_size"], json!(500));
        assert_eq!(v["esm"]["batching_window"], json!("2s"));
        assert_eq!(v["producers"][0]["rate"], json!(8000));
        assert_eq!(v["function"]["cold_start"]["init"], json!("1s"));
    }

    #[test]
    fn set_reports_bad_paths() {
        let mut v = json!({"producers": [{"rate": 1}], "seed": 3});
        assert_eq!(apply_set(&mut v, "producers.3.rate=1").unwrap_err().path, "producers.3");
        assert_eq!(apply_set(&mut v, "seed.x=1").unwrap_err().path, "seed.x");
        assert!(apply_set(&mut v, "novalue").is_err());
        assert!(apply_set(&mut v, "a..b=1").is_err());
    }
}
