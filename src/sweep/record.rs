//! One run's row: its grid point, seed and metrics, and for `capacity` the rate and the lag
//! trend. Rows convert to CSV cells and back, so shards' tables can be merged.

use super::constraint::Constraint;
use super::grid::Grid;
use super::metrics::metric_names;
use super::sustain::{self, Trend};
use super::table::{cell, parse_cell};
use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub point: usize,
    pub seed: u64,
    /// In [`metric_names`] order.
    pub metrics: Vec<Option<f64>>,
    /// `capacity` runs only.
    pub rate: Option<RateRun>,
}

/// A `capacity` run: the producers' total base rate it ran at and how its lag behaved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateRun {
    pub rate: f64,
    pub phase: Phase,
    pub trend: Trend,
}

/// Whether a capacity rate came from `--rates` or from the bisection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Fixed,
    Bisection,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Fixed => "rates",
            Phase::Bisection => "bisection",
        }
    }
}

const RATE_COLUMNS: [&str; 8] = [
    "rate_records_per_s",
    "seed",
    "phase",
    "sustainable",
    "why",
    "lag_slope_records_per_s",
    "steady_lag_records",
    "final_lag_records",
];

/// The table's columns: the grid paths, (for capacity) the rate, the seed, (for capacity) the
/// trend, then every metric.
pub fn header(grid: &Grid, capacity: bool) -> Vec<String> {
    let middle: &[&str] = if capacity { &RATE_COLUMNS } else { &["seed"] };
    let paths = grid.paths().into_iter().chain(middle.iter().copied()).map(String::from);
    paths.chain(metric_names()).collect()
}

/// Why a capacity run is not sustainable: the lag criteria it fails, then each SLO it misses
/// (`capacity`'s `--slo`s); empty when it is sustainable. Not a capacity run: empty.
pub fn missed(record: &RunRecord, slos: &[Constraint]) -> Vec<String> {
    let Some(rate) = record.rate else { return Vec::new() };
    let lag = rate.trend.why(rate.rate);
    let slos = slos.iter().filter(|c| !c.holds(record.metrics[c.index])).map(|c| c.violation(record.metrics[c.index]));
    lag.into_iter().chain(slos).collect()
}

/// The row of a run; `slos` judge a capacity run (see [`missed`]).
pub fn to_row(grid: &Grid, record: &RunRecord, slos: &[Constraint]) -> Vec<String> {
    let mut row: Vec<String> = grid.values(record.point).into_iter().map(String::from).collect();
    match &record.rate {
        None => row.push(record.seed.to_string()),
        Some(r) => row.extend([
            cell(Some(r.rate)),
            record.seed.to_string(),
            r.phase.name().to_string(),
            missed(record, slos).is_empty().to_string(),
            missed(record, slos).join("; "),
            cell(Some(r.trend.slope_records_per_s)),
            cell(Some(r.trend.steady_lag_records)),
            cell(Some(r.trend.final_lag_records)),
        ]),
    }
    row.extend(record.metrics.iter().map(|&v| cell(v)));
    row
}

/// Reads a row back, checking that it is the run expected at this place (grid values, seed and,
/// for capacity, the rate).
pub fn from_row(grid: &Grid, row: &[String], expected: &RunRecord, source: &str) -> Result<RunRecord> {
    let bad = |what: &str| Error::Argument {
        argument: source.to_string(),
        message: format!("{what} does not match the study in its shard.json (a row missing, reordered or edited?)"),
    };
    let dims = grid.dimensions.len();
    if row[..dims] != grid.values(expected.point)[..] {
        return Err(bad("a row's grid values"));
    }
    let rest = &row[dims..];
    let (seed, metrics_from) = if expected.rate.is_some() { (&rest[1], RATE_COLUMNS.len()) } else { (&rest[0], 1) };
    if *seed != expected.seed.to_string() {
        return Err(bad("a row's seed"));
    }
    let number = |text: &str| parse_cell(text).ok_or_else(|| bad("a number"));
    let metrics = rest[metrics_from..].iter().map(|c| number(c)).collect::<Result<Vec<_>>>()?;
    let rate = match expected.rate {
        None => None,
        Some(r) if rest[0] == cell(Some(r.rate)) && rest[2] == r.phase.name() => {
            // `sustainable` and `why` are derived from the trend, the metrics and the SLOs.
            let value = |i: usize| number(&rest[i]).map(|v| v.unwrap_or(f64::NAN));
            let (slope, final_lag) = (value(5)?, value(7)?);
            let trend = Trend {
                keeps_up: sustain::keeps_up(slope, final_lag, r.rate),
                slope_records_per_s: slope,
                steady_lag_records: value(6)?,
                final_lag_records: final_lag,
            };
            Some(RateRun { trend, ..r })
        }
        Some(_) => return Err(bad("a row's rate")),
    };
    Ok(RunRecord { point: expected.point, seed: expected.seed, metrics, rate })
}
