//! How big a study may be. Its grid points and runs are counted before anything is allocated, so
//! `--seeds 4000000000`, a million-point grid or a manifest that claims either is one error line,
//! not an allocator abort; a study that fits but will take long says so before it starts.

use super::{Kind, Prepared, Study};
use crate::error::{Error, Result};

/// Grid points a study may have: each is a whole scenario held in memory (about 2 KB).
pub const MAX_POINTS: usize = 100_000;
/// Runs a study may have, all seeds and rates included: each keeps a row of metrics.
pub const MAX_RUNS: usize = 1_000_000;
/// Records simulated per second per thread, a cautious reading of the benchmarks (an hour of
/// 10,000 records/s takes about 0.6 s), for the time estimate.
const RECORDS_PER_SECOND: f64 = 30e6;
/// Seconds a run costs whatever its size: building the model, histograms and the summary.
const SECONDS_PER_RUN: f64 = 1e-3;
/// A study expected to take longer than this says so before it starts.
const WARN_SECONDS: f64 = 600.0;

fn too_big(argument: &str, message: String) -> Error {
    Error::Argument { argument: argument.to_string(), message }
}

/// Checks the counts of grid points and runs, with arithmetic that cannot overflow.
pub fn check(study: &Study) -> Result<()> {
    let mut points: usize = 1;
    for d in &study.grid.dimensions {
        points = points.checked_mul(d.values.len()).filter(|&n| n <= MAX_POINTS).ok_or_else(|| {
            too_big(
                "--grid",
                format!("more than {MAX_POINTS} grid points; allowed: at most {MAX_POINTS}, narrow the grid"),
            )
        })?;
    }
    let rates = match &study.kind {
        Kind::Capacity(spec) => spec.rates.len().max(1),
        _ => 1,
    };
    let runs = (points as u128) * (rates as u128) * u128::from(study.seeds);
    if runs > MAX_RUNS as u128 {
        let message = format!(
            "{points} grid points × {rates} rate(s) × {} seeds is {runs} runs; allowed: at most {MAX_RUNS} runs",
            study.seeds
        );
        return Err(too_big("--seeds", message));
    }
    Ok(())
}

/// A warning with the number of runs and an estimate of the time, when it is long.
pub fn estimate_warning(p: &Prepared, threads: usize) -> Option<String> {
    let rates: Vec<f64> = match &p.study.kind {
        Kind::Capacity(spec) => spec.rates.clone(),
        _ => vec![],
    };
    let mut records = 0.0;
    for loaded in &p.points {
        let s = &loaded.scenario;
        let base = super::capacity::base_rate(s);
        let one = crate::budget::records_held_at_most(s).max(1.0);
        records += if rates.is_empty() { one } else { rates.iter().map(|r| one * r / base.max(1e-9)).sum() };
    }
    records *= f64::from(p.study.seeds);
    let runs = p.points.len() * rates.len().max(1) * p.study.seeds as usize;
    let seconds = (records / RECORDS_PER_SECOND + runs as f64 * SECONDS_PER_RUN) / threads.max(1) as f64;
    let threads = if threads == 1 { "1 thread".to_string() } else { format!("{threads} threads") };
    (seconds > WARN_SECONDS).then(|| {
        format!(
            "this study is {runs} runs of about {records:.3e} records in all: roughly {} on {threads} \
             (a rough estimate); Ctrl-C stops it and writes nothing",
            duration_text(seconds)
        )
    })
}

fn duration_text(seconds: f64) -> String {
    match seconds {
        s if s < 3600.0 => format!("{:.0} min", s / 60.0),
        s if s < 86_400.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.1} days", s / 86_400.0),
    }
}
