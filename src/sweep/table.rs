//! The run table behind `sweep.csv`, `tune_runs.csv` and `capacity.csv`: one row per run with the
//! grid values as given on the command line, the seed, and the [metrics](super::metrics). Numbers
//! are written with Rust's shortest round-trip `Display`, so a table read back (by `merge`) holds
//! exactly the numbers that were written.

use super::grid::Grid;
use crate::error::{Error, Result};
use std::path::Path;

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
    fn cells_round_trip() {
        for v in [Some(0.1 + 0.2), Some(10_801_328.0), Some(1e-7), None] {
            assert_eq!(parse_cell(&cell(v)), Some(v));
        }
        assert_eq!(cell(Some(12.0)), "12");
        assert_eq!(parse_cell("x"), None);
    }
}
