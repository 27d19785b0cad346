//! `--grid PATH=V1,V2,...`: parsing, the cartesian product of the dimensions (in the order the
//! flags were given, the last varying fastest) and the scenario of each grid point.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// One `--grid` flag: a scenario path and its values, as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    pub path: String,
    pub values: Vec<String>,
}

/// The dimensions of a study; no dimension is a single grid point (the scenario as it is).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grid {
    pub dimensions: Vec<Dimension>,
}

impl Grid {
    /// Parses each `--grid` argument; a path may appear once.
    pub fn parse(args: &[String]) -> Result<Grid> {
        let mut dimensions: Vec<Dimension> = Vec::new();
        for arg in args {
            let dimension = parse_dimension(arg)?;
            if dimensions.iter().any(|d| d.path == dimension.path) {
                return Err(grid_error(
                    arg,
                    format!("{} is given twice; put all its values in one --grid", dimension.path),
                ));
            }
            dimensions.push(dimension);
        }
        Ok(Grid { dimensions })
    }

    /// The number of grid points: the product of the dimensions' sizes (1 without dimensions).
    pub fn len(&self) -> usize {
        self.dimensions.iter().map(|d| d.values.len()).product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn paths(&self) -> Vec<&str> {
        self.dimensions.iter().map(|d| d.path.as_str()).collect()
    }

    /// The value index of each dimension at grid point `index` (mixed radix, last fastest).
    pub fn coordinates(&self, index: usize) -> Vec<usize> {
        let mut rest = index;
        let mut coordinates = vec![0; self.dimensions.len()];
        for (slot, d) in coordinates.iter_mut().zip(&self.dimensions).rev() {
            *slot = rest % d.values.len();
            rest /= d.values.len();
        }
        coordinates
    }

    /// The values of grid point `index`, as given on the command line.
    pub fn values(&self, index: usize) -> Vec<&str> {
        let coordinates = self.coordinates(index);
        self.dimensions.iter().zip(coordinates).map(|(d, c)| d.values[c].as_str()).collect()
    }

    /// Grid point `index` as `--set` assignments.
    pub fn assignments(&self, index: usize) -> Vec<String> {
        self.paths().iter().zip(self.values(index)).map(|(p, v)| format!("{p}={v}")).collect()
    }
}

fn grid_error(arg: &str, message: String) -> Error {
    Error::Argument { argument: format!("--grid {arg}"), message }
}

fn parse_dimension(arg: &str) -> Result<Dimension> {
    let usage = "expected PATH=V1,V2,..., e.g. esm.batch_size=100,500,1000";
    let Some((path, list)) = arg.split_once('=') else {
        return Err(grid_error(arg, usage.into()));
    };
    let path = path.trim();
    if path.is_empty() || path.split('.').any(|s| s.trim().is_empty()) {
        return Err(grid_error(arg, format!("the path must be dot-separated names; {usage}")));
    }
    let values = split_values(list);
    if values.iter().any(String::is_empty) {
        return Err(grid_error(arg, format!("empty value in the list; {usage}")));
    }
    if let Some(repeated) = values.iter().enumerate().find_map(|(i, v)| values[..i].contains(v).then_some(v)) {
        return Err(grid_error(arg, format!("the value {repeated} is given twice")));
    }
    Ok(Dimension { path: path.to_string(), values })
}

/// Splits on commas outside JSON brackets and strings, so an object value such as
/// `{"mode":"provisioned","min_pollers":2}` stays whole. Values are trimmed.
pub fn split_values(list: &str) -> Vec<String> {
    let (mut values, mut current) = (Vec::new(), String::new());
    let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
    for c in list.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '{' | '[' if !in_string => depth += 1,
            '}' | ']' if !in_string => depth -= 1,
            ',' if !in_string && depth == 0 => {
                values.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    values.push(current.trim().to_string());
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(args: &[&str]) -> Result<Grid> {
        Grid::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn cartesian_product_varies_the_last_dimension_fastest() {
        let g = grid(&["esm.batch_size=10,100,1000", "esm.batching_window=0s,1s"]).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(g.values(0), ["10", "0s"]);
        assert_eq!(g.values(1), ["10", "1s"]);
        assert_eq!(g.values(5), ["1000", "1s"]);
        assert_eq!(g.assignments(3), ["esm.batch_size=100", "esm.batching_window=1s"]);
        assert_eq!(grid(&[]).unwrap().len(), 1);
    }

    #[test]
    fn json_values_keep_their_commas() {
        let values = split_values(r#"{"mode":"provisioned","min_pollers":2}, {"mode":"on_demand"},"a,b""#);
        assert_eq!(values, [r#"{"mode":"provisioned","min_pollers":2}"#, r#"{"mode":"on_demand"}"#, r#""a,b""#]);
    }

    #[test]
    fn malformed_grids_are_rejected() {
        for bad in [&["esm.batch_size"][..], &["=1,2"], &["esm..x=1"], &["esm.batch_size=1,,2"], &["a=1,1"]] {
            let e = grid(bad).unwrap_err().to_string();
            assert!(e.starts_with("--grid "), "{e}");
        }
        assert!(grid(&["a=1", "a=2"]).unwrap_err().to_string().contains("twice"));
    }
}
