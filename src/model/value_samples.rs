//! Record values from a user's file of sample messages (`producers[].values`), for a real
//! handler to read. A record's value is a pure function of (partition, offset): line
//! `(partition + offset) mod n` of the file, or the poison value where poison is placed, so a
//! batch built twice (a retry, a bisected half) carries the same bytes, and nothing is stored
//! per record.

use crate::engine::{mix64, unit_f64};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `producers[].values` as written: a file name, or a file with poison placement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ValuesSpec {
    File(String),
    Detailed(ValuesDetail),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValuesDetail {
    /// JSON Lines, relative to the scenario file.
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poison: Option<PoisonValues>,
}

/// Where the poison value replaces the sample: listed records, and a share of all records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoisonValues {
    /// The poison message: a JSON string is taken as its text, anything else as its JSON.
    pub value: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub at: Vec<PoisonAt>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rate: f64,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoisonAt {
    pub partition: u32,
    pub offset: u64,
}

impl ValuesSpec {
    pub fn file(&self) -> &str {
        match self {
            ValuesSpec::File(f) => f,
            ValuesSpec::Detailed(d) => &d.file,
        }
    }

    fn poison(&self) -> Option<&PoisonValues> {
        match self {
            ValuesSpec::File(_) => None,
            ValuesSpec::Detailed(d) => d.poison.as_ref(),
        }
    }
}

/// The largest samples file read.
pub const MAX_SAMPLES_BYTES: u64 = 64 << 20;

/// Sample values, cycled over a partition's offsets, with poison placed in them.
#[derive(Clone, Debug)]
pub struct ValueSamples {
    samples: Vec<Vec<u8>>,
    poison: Option<Vec<u8>>,
    /// Listed poison records, sorted.
    poison_at: Vec<(u32, u64)>,
    poison_rate: f64,
    seed: u64,
}

/// Why a samples file cannot be used: the field path below `producers.N.values` and the problem.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplesProblem {
    pub field: &'static str,
    pub message: String,
}

impl ValueSamples {
    /// Reads the samples `spec` names, relative to `scenario_dir`.
    pub fn load(spec: &ValuesSpec, scenario_dir: &Path, seed: u64) -> Result<Self, SamplesProblem> {
        let path: PathBuf = scenario_dir.join(spec.file());
        let problem = |message: String| SamplesProblem { field: "file", message };
        let text =
            crate::text::read_capped(&path, MAX_SAMPLES_BYTES, "a samples file").map_err(|e| problem(e.to_string()))?;
        Self::parse(spec, &text, seed).map_err(|mut p| {
            p.message = format!("{}: {}", path.display(), p.message);
            p
        })
    }

    /// As [`load`](Self::load), with the file's text already read.
    pub fn parse(spec: &ValuesSpec, text: &str, seed: u64) -> Result<Self, SamplesProblem> {
        let mut samples = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(line).map_err(|e| SamplesProblem {
                field: "file",
                message: format!("line {}: not a JSON value ({e}); each line is one message", i + 1),
            })?;
            samples.push(message_bytes(&value, line));
        }
        if samples.is_empty() {
            return Err(SamplesProblem {
                field: "file",
                message: "holds no messages; allowed: one JSON value per line".into(),
            });
        }
        let poison = spec.poison();
        if let Some(p) = poison
            && !(0.0..=1.0).contains(&p.rate)
        {
            let message = format!("{} is out of range; allowed: 0 to 1", p.rate);
            return Err(SamplesProblem { field: "poison.rate", message });
        }
        let mut poison_at: Vec<(u32, u64)> =
            poison.map_or(vec![], |p| p.at.iter().map(|a| (a.partition, a.offset)).collect());
        poison_at.sort_unstable();
        poison_at.dedup();
        Ok(ValueSamples {
            samples,
            poison: poison.map(|p| message_bytes(&p.value, &p.value.to_string())),
            poison_at,
            poison_rate: poison.map_or(0.0, |p| p.rate),
            seed,
        })
    }

    /// Whether the record at (partition, offset) carries the poison value.
    pub fn is_poison(&self, partition: u32, offset: u64) -> bool {
        self.poison.is_some()
            && (self.poison_at.binary_search(&(partition, offset)).is_ok()
                || (self.poison_rate > 0.0
                    && unit_f64(mix64(&[self.seed, 0x7661_6c75_6573, partition as u64, offset])) < self.poison_rate))
    }

    /// The value of the record at (partition, offset).
    pub fn value(&self, partition: u32, offset: u64) -> &[u8] {
        if self.is_poison(partition, offset)
            && let Some(p) = &self.poison
        {
            return p;
        }
        let n = self.samples.len() as u64;
        let index = (partition as u64 % n + offset % n) % n;
        &self.samples[index as usize]
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// A message's bytes: a JSON string is its text; any other JSON value is the line as written.
fn message_bytes(value: &serde_json::Value, written: &str) -> Vec<u8> {
    match value {
        serde_json::Value::String(s) => s.as_bytes().to_vec(),
        _ => written.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(poison: Option<PoisonValues>) -> ValuesSpec {
        ValuesSpec::Detailed(ValuesDetail { file: "s.jsonl".into(), poison })
    }

    #[test]
    fn samples_cycle_by_partition_plus_offset() {
        let s = ValueSamples::parse(&spec(None), "\"a\"\n{\"b\": 1}\n\n\"c\"\n", 1).unwrap();
        assert_eq!(s.len(), 3);
        // Partition 0: offsets 0, 1, 2, 3 take lines 0, 1, 2, 0; partition 1 starts one later.
        assert_eq!(s.value(0, 0), b"a");
        assert_eq!(s.value(0, 1), b"{\"b\": 1}");
        assert_eq!(s.value(0, 2), b"c");
        assert_eq!(s.value(0, 3), b"a");
        assert_eq!(s.value(1, 0), b"{\"b\": 1}");
        assert_eq!(s.value(2, u64::MAX), s.value(2, u64::MAX));
    }

    #[test]
    fn poison_replaces_listed_records_only() {
        let poison = PoisonValues {
            value: serde_json::json!("POISON"),
            at: vec![PoisonAt { partition: 0, offset: 2 }],
            rate: 0.0,
        };
        let s = ValueSamples::parse(&spec(Some(poison)), "\"a\"\n", 1).unwrap();
        assert_eq!(s.value(0, 2), b"POISON");
        assert_eq!(s.value(0, 1), b"a");
        assert_eq!(s.value(1, 2), b"a");
    }

    #[test]
    fn a_poison_rate_places_about_that_share_and_repeats() {
        let poison = PoisonValues { value: serde_json::json!({"bad": true}), at: vec![], rate: 0.1 };
        let s = ValueSamples::parse(&spec(Some(poison.clone())), "1\n", 7).unwrap();
        let hits = (0..10_000).filter(|&o| s.is_poison(3, o)).count();
        assert!((900..1100).contains(&hits), "{hits}");
        let again = ValueSamples::parse(&spec(Some(poison)), "1\n", 7).unwrap();
        assert!((0..10_000).all(|o| s.is_poison(3, o) == again.is_poison(3, o)));
        let first = (0..10_000).find(|&o| s.is_poison(3, o)).unwrap();
        assert_eq!(s.value(3, first), b"{\"bad\":true}");
    }

    #[test]
    fn bad_files_name_the_line() {
        let e = ValueSamples::parse(&spec(None), "\"a\"\nnot json\n", 1).unwrap_err();
        assert!(e.message.starts_with("line 2: not a JSON value"), "{}", e.message);
        let e = ValueSamples::parse(&spec(None), "\n\n", 1).unwrap_err();
        assert!(e.message.contains("holds no messages"));
    }
}
