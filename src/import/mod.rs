//! `esmsim import`: a scenario from what the user already has — the JSON of
//! `aws lambda get-event-source-mapping`, `get-function-configuration` and
//! `get-function-concurrency`, a CloudFormation template or `terraform show -json` output.
//!
//! Every source is first brought to the Lambda API's own shape (`BatchSize`, `MemorySize`, ...),
//! then [`esm::apply`] and [`function::apply`] map the fields esmsim models onto scenario fields.
//! Fields esmsim does not model are listed in a warning, never dropped silently; what a
//! configuration cannot tell (partitions, traffic, durations) comes from flags or is a
//! placeholder, marked in a warning and in the scenario's description.

pub mod cloudformation;
pub mod esm;
pub mod filter;
pub mod function;
pub mod registry;
pub mod terraform;

use crate::error::{Error, Result};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// The AWS documents to read.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub esm: Option<PathBuf>,
    pub function: Option<PathBuf>,
    pub concurrency: Option<PathBuf>,
    pub cloudformation: Option<PathBuf>,
    pub terraform: Option<PathBuf>,
}

/// What the documents cannot tell.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub name: Option<String>,
    pub partitions: Option<u32>,
    /// Records per second, constant.
    pub rate: Option<f64>,
    /// A traffic file (`.csv`, or CloudWatch `.json`), as the scenario's `rate_from`.
    pub rate_from: Option<PathBuf>,
    /// Average value bytes per record.
    pub record_bytes: Option<u64>,
}

/// A scenario (JSON, ready to write) and what the user should know about it.
#[derive(Clone, Debug)]
pub struct Imported {
    pub scenario: Value,
    pub warnings: Vec<String>,
}

/// Placeholders when nothing says otherwise: MSK's default partition count for a new topic is 1,
/// which would hide every scaling effect, so a typical small production topic is used.
const PLACEHOLDER_PARTITIONS: u32 = 12;
const PLACEHOLDER_RATE: f64 = 1000.0;

/// Builds a scenario from `sources` and `facts`; `out` is where it will be written (paths in it
/// are relative to that file's directory).
pub fn import(sources: &Sources, facts: &Facts, out: &Path) -> Result<Imported> {
    let mut draft = Draft::new(facts.name.clone().unwrap_or_else(|| "imported".into()));
    if sources.esm.is_none() && sources.cloudformation.is_none() && sources.terraform.is_none() {
        return Err(Error::Argument {
            argument: "import".into(),
            message: "needs a mapping: --esm FILE, --cloudformation FILE or --terraform FILE".into(),
        });
    }
    if let Some(file) = &sources.esm {
        let document = read_json(file)?;
        let mapping = esm::from_cli_output(file, &document)?;
        esm::apply(mapping, &file.display().to_string(), &mut draft)?;
    }
    if let Some(file) = &sources.cloudformation {
        cloudformation::apply(file, &read_json(file)?, &mut draft)?;
    }
    if let Some(file) = &sources.terraform {
        terraform::apply(file, &read_json(file)?, &mut draft)?;
    }
    if let Some(file) = &sources.function {
        let document = read_json(file)?;
        let api = document.as_object().ok_or_else(|| Error::field(file, "(root)", "expected a JSON object"))?;
        function::apply(api, &file.display().to_string(), &mut draft)?;
    }
    if let Some(file) = &sources.concurrency {
        function::apply_concurrency(file, &read_json(file)?, &mut draft)?;
    }
    draft.facts(facts, out)?;
    Ok(draft.finish())
}

/// A scenario being built, with its warnings and placeholders.
pub struct Draft {
    pub scenario: Value,
    pub warnings: Vec<String>,
    placeholders: Vec<String>,
    pub sources: Vec<String>,
    /// Filter criteria esmsim could not simulate, kept in the description.
    pub filter_criteria: Option<Value>,
    /// The filter was imported: the producer's values need a template (a placeholder).
    pub value_placeholder: bool,
}

impl Draft {
    fn new(name: String) -> Self {
        Draft {
            scenario: json!({ "name": name, "description": "", "topic": {}, "producers": [], "esm": {}, "function": {} }),
            warnings: vec![],
            placeholders: vec![],
            sources: vec![],
            filter_criteria: None,
            value_placeholder: false,
        }
    }

    /// Sets `section.field` (e.g. `esm`, `batch_size`).
    pub fn set(&mut self, section: &str, field: &str, value: Value) {
        self.scenario[section][field] = value;
    }

    /// Lists the fields of `source` that esmsim does not model (null and empty ones carry
    /// nothing and are left out).
    pub fn ignored(&mut self, source: &str, fields: &[String]) {
        if !fields.is_empty() {
            self.warnings.push(format!("{source}: not modelled, ignored: {}", fields.join(", ")));
        }
    }

    fn placeholder(&mut self, field: &str, value: Value, how: &str) {
        let (section, name) = field.split_once('.').unwrap_or(("", field));
        if section.is_empty() {
            self.scenario[name] = value.clone()
        } else {
            self.scenario[section][name] = value.clone()
        }
        self.warnings.push(format!("placeholder: {field} = {value}; {how}"));
        self.placeholders.push(field.to_string());
    }

    /// The flags: partitions, traffic, and the placeholders where they are missing.
    fn facts(&mut self, facts: &Facts, out: &Path) -> Result<()> {
        match facts.partitions {
            Some(n) => self.set("topic", "partitions", json!(n)),
            None => self.placeholder(
                "topic.partitions",
                json!(PLACEHOLDER_PARTITIONS),
                "give --partitions (aws kafka describe-topic, or kafka-topics.sh --describe)",
            ),
        }
        let mut producer = Map::new();
        producer.insert("name".into(), json!("imported"));
        match (&facts.rate_from, facts.rate) {
            (Some(file), _) => {
                let kind =
                    if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) { "cloudwatch" } else { "csv" };
                producer.insert("rate_from".into(), json!({ kind: relative_to(file, out)? }));
            }
            (None, Some(rate)) => {
                producer.insert("rate".into(), json!(rate));
            }
            (None, None) => {
                producer.insert("rate".into(), json!(PLACEHOLDER_RATE));
                self.warnings.push(format!(
                    "placeholder: producers.0.rate = {PLACEHOLDER_RATE}; give --rate R or --rate-from traffic.csv / metrics.json"
                ));
                self.placeholders.push("producers.0.rate".into());
            }
        }
        if let Some(bytes) = facts.record_bytes {
            producer.insert("record_bytes".into(), json!(bytes));
        }
        self.scenario["producers"] = json!([producer]);
        if self.value_placeholder {
            // Without a template every value is {}: a filter on value fields drops every record.
            self.placeholders.push("producers.0.value".into());
            self.warnings.push(
                "placeholder: producers.0.value is not set, so every record's value is {} and FilterCriteria matches \
                 only `exists: false` patterns; describe your records' values (README, Event filtering)"
                    .into(),
            );
        }
        if self.scenario["function"].get("duration").is_none() {
            self.placeholders.push("function.duration".into());
            self.warnings.push(
                "placeholder: function.duration is esmsim's default (10 ms per invocation); measure it with \
                 esmsim calibrate --durations and merge the patch"
                    .into(),
            );
        }
        Ok(())
    }

    fn finish(mut self) -> Imported {
        let mut description = format!("Imported by esmsim import from {}.", self.sources.join(", "));
        if !self.placeholders.is_empty() {
            description += &format!(" PLACEHOLDERS (not from AWS; replace them): {}.", self.placeholders.join(", "));
        }
        if let Some(filters) = &self.filter_criteria {
            description += &format!(" FilterCriteria (not simulated, see the import's warning): {filters}.");
        }
        self.scenario["description"] = json!(description);
        for section in ["esm", "function"] {
            if self.scenario[section].as_object().is_some_and(Map::is_empty) {
                self.scenario.as_object_mut().expect("an object").remove(section);
            }
        }
        Imported { scenario: self.scenario, warnings: self.warnings }
    }
}

/// Reads an AWS document (JSON, at most 16 MiB).
pub fn read_json(file: &Path) -> Result<Value> {
    let text = crate::text::read_capped(file, crate::scenario::MAX_SCENARIO_BYTES, "an AWS document")?;
    serde_json::from_str(&text).map_err(|e| Error::field(file, "(file)", format!("not valid JSON: {e}")))
}

/// `file` as the scenario at `out` should name it: relative to `out`'s directory when both
/// are under the current directory's tree, else absolute.
fn relative_to(file: &Path, out: &Path) -> Result<String> {
    let absolute = |p: &Path| -> Result<PathBuf> {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().map_err(|source| Error::Read { file: p.into(), source })?.join(p)
        };
        Ok(normalise(&p))
    };
    let file_abs = absolute(file)?;
    let out_dir = absolute(out)?.parent().map(Path::to_path_buf).unwrap_or_default();
    let (file_parts, dir_parts): (Vec<_>, Vec<_>) = (file_abs.components().collect(), out_dir.components().collect());
    let common = file_parts.iter().zip(&dir_parts).take_while(|(a, b)| a == b).count();
    let mut relative = PathBuf::new();
    for _ in common..dir_parts.len() {
        relative.push("..");
    }
    for part in &file_parts[common..] {
        relative.push(part);
    }
    relative.to_str().map(str::to_string).ok_or_else(|| Error::field(file, "(path)", "is not UTF-8"))
}

/// `a/./b/../c` as `a/c`, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The names of `object`'s fields outside `modelled`, skipping null and empty values.
pub fn unmodelled(object: &Map<String, Value>, modelled: &[&str]) -> Vec<String> {
    object
        .iter()
        .filter(|(key, value)| !modelled.contains(&key.as_str()) && !is_empty(value))
        .map(|(key, _)| key.clone())
        .collect()
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_scenario() {
        let here = |p: &str| relative_to(Path::new(p), Path::new("examples/aws/scenario.json")).unwrap();
        assert_eq!(here("examples/aws/traffic.csv"), "traffic.csv");
        assert_eq!(here("data/traffic.csv"), "../../data/traffic.csv");
        assert_eq!(relative_to(Path::new("t.csv"), Path::new("s.json")).unwrap(), "t.csv");
    }
}
