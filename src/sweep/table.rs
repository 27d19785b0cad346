//! The run table behind `sweep.csv`, `tune_runs.csv` and `capacity.csv`: one row per run with the
//! grid values as given on the command line, the seed, and every numeric field of `summary.json`
//! by its dotted path. Numbers are written with Rust's shortest round-trip `Display`, so a table
//! read back (by `merge`) holds exactly the numbers that were written.

use super::grid::Grid;
use crate::error::{Error, Result};
use crate::metrics::Summary;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::path::Path;

/// Top-level summary fields left out of the metric columns: the seed has its own column.
const SKIPPED: [&str; 1] = ["seed"];

/// The numeric fields of a summary by dotted path, in `summary.json`'s order; `null` is `None`.
/// Strings (`scenario`, `config_hash`) and lists (`poison_pills`) are left out.
pub fn flatten(summary: &Summary) -> Vec<(String, Option<f64>)> {
    let text = serde_json::to_string(summary).expect("summary serialises");
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_str(&text);
    Flatten { prefix: String::new(), out: &mut out }.deserialize(&mut de).expect("summary JSON is valid");
    out.retain(|(name, _)| !SKIPPED.contains(&name.as_str()));
    out
}

/// The metric values of a summary, in [`metric_names`] order.
pub fn metrics(summary: &Summary) -> Vec<Option<f64>> {
    flatten(summary).into_iter().map(|(_, v)| v).collect()
}

/// Every metric column, e.g. `latency_ms.p99`, `cost_usd.total`.
pub fn metric_names() -> Vec<String> {
    flatten(&Summary::default()).into_iter().map(|(name, _)| name).collect()
}

/// The position of a metric, or an argument error listing the metrics allowed.
pub fn metric_index(argument: &str, name: &str) -> Result<usize> {
    let names = metric_names();
    names.iter().position(|n| n == name).ok_or_else(|| Error::Argument {
        argument: argument.to_string(),
        message: format!("unknown metric {name:?}; allowed: {}", names.join(", ")),
    })
}

/// Walks JSON in document order (serde_json's `Value` would sort the keys).
struct Flatten<'a> {
    prefix: String,
    out: &'a mut Vec<(String, Option<f64>)>,
}

impl<'de> DeserializeSeed<'de> for Flatten<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Flatten<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a summary")
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.out.push((self.prefix, Some(v as f64)));
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.out.push((self.prefix, Some(v as f64)));
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.out.push((self.prefix, Some(v)));
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.out.push((self.prefix, None));
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let prefix = if self.prefix.is_empty() { key } else { format!("{}.{key}", self.prefix) };
            map.next_value_seed(Flatten { prefix, out: &mut *self.out })?;
        }
        Ok(())
    }
}

/// A number as a CSV cell: shortest round-trip text; empty for `None`.
pub fn cell(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| format!("{v}"))
}

/// Parses a cell written by [`cell`].
pub fn parse_cell(text: &str) -> Option<Option<f64>> {
    if text.is_empty() { Some(None) } else { text.parse().ok().map(Some) }
}

/// Serialises rows of cells as CSV (RFC 4180 quoting where a grid value needs it).
pub fn csv_bytes(header: &[String], rows: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).expect("writing to memory");
    for row in rows {
        writer.write_record(&row).expect("writing to memory");
    }
    writer.into_inner().expect("writing to memory")
}

/// Reads a CSV file written by [`csv_bytes`], checking its header.
pub fn read_csv(path: &Path, header: &[String]) -> Result<Vec<Vec<String>>> {
    let bad = |message: String| Error::Argument { argument: path.display().to_string(), message };
    let bytes = std::fs::read(path).map_err(|source| Error::Read { file: path.to_path_buf(), source })?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let found: Vec<String> = reader.headers().map_err(|e| bad(e.to_string()))?.iter().map(String::from).collect();
    if found != header {
        return Err(bad("its columns differ from this study's; was it written by another study or version?".into()));
    }
    let records = reader.records().map(|r| r.map(|r| r.iter().map(String::from).collect()));
    records.collect::<Result<_, _>>().map_err(|e| bad(e.to_string()))
}

/// The grid columns' header: one per grid path.
pub fn grid_header(grid: &Grid) -> Vec<String> {
    grid.paths().into_iter().map(String::from).collect()
}

/// A JSON object that keeps the order given: serde_json's own map sorts its keys, and output
/// reads best in the summary's order.
#[derive(Clone, Debug, PartialEq)]
pub struct Ordered(pub Vec<(String, serde_json::Value)>);

impl serde::Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_numeric_fields_in_summary_order() {
        let names = metric_names();
        assert_eq!(names[0], "simulated_seconds");
        assert_eq!(names[1], "records.produced");
        for expected in ["latency_ms.p99", "cost_usd.total", "cost_usd.per_month", "throughput.mean_records_per_second"]
        {
            assert!(names.iter().any(|n| n == expected), "{expected} in {names:?}");
        }
        for absent in ["seed", "scenario", "config_hash", "esmsim_version", "poison_pills"] {
            assert!(!names.iter().any(|n| n == absent), "{absent}");
        }
        let p99 = names.iter().position(|n| n == "latency_ms.p99").unwrap();
        assert_eq!(metrics(&Summary::default())[p99], None);
    }

    #[test]
    fn cells_round_trip() {
        for v in [Some(0.1 + 0.2), Some(10_801_328.0), Some(1e-7), None] {
            assert_eq!(parse_cell(&cell(v)), Some(v));
        }
        assert_eq!(cell(Some(12.0)), "12");
        assert_eq!(parse_cell("x"), None);
    }
}
