//! `esmsim capacity`: metrics against the producers' total rate, and the highest sustainable
//! rate (see [`super::sustain`] for the definition) by bisection.
//!
//! A rate `R` scales every producer's `rate` and schedule rates by `R / base`, where `base` is
//! the sum of the producers' `rate` fields, so the total base rate is `R` and a schedule keeps
//! its shape. After the `--rates` runs, each grid point's search starts from the highest
//! sustainable rate below the lowest unsustainable one (doubling past the top rate if every rate
//! was sustainable, from 0 if none was) and bisects until the bracket is within 1 % of its top.
//! The answer is the highest rate found sustainable.

use super::metrics::{self, metric_index};
use super::record::{Phase, RateRun, RunRecord};
use super::stats::Stats;
use super::sustain::{self, FINAL_LAG_LIMIT_S, MIN_SAMPLES, SLOPE_LIMIT_FRACTION, Trend};
use super::table::{self, Ordered, cell};
use super::tune::grid_value;
use super::{Done, Execution, Output, Prepared, Shard, charts, execute, plan, record, run, write_shard};
use crate::error::{Error, Result};
use crate::output::write_files;
use crate::scenario::{Loaded, Scenario};
use crate::sim::Stopped;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const CAPACITY_CSV: &str = "capacity.csv";
pub const CAPACITY_JSON: &str = "capacity.json";
/// Bisection stops when the bracket is within this fraction of its top.
pub const TOLERANCE: f64 = 0.01;
/// Doublings tried above the top rate when every `--rates` value was sustainable.
const MAX_DOUBLINGS: u32 = 10;
const MAX_STEPS: u32 = 30;
/// The highest total rate tried, as a scenario's producers allow: one millisecond of arrivals
/// must fit in memory.
const MAX_RATE: f64 = 1e9;

/// The metrics charted and listed against rate: (column, chart stem, title, axis label).
pub const RATE_METRICS: [(&str, &str, &str, &str); 4] = [
    ("steady_lag_records", "capacity-lag", "Steady-state lag (mean over the second half)", "lag (records)"),
    ("latency_ms.p99", "capacity-latency", "p99 latency", "p99 latency (ms)"),
    ("concurrency.peak", "capacity-concurrency", "Peak concurrency", "concurrent executions"),
    ("cost_usd.per_month", "capacity-cost", "Cost per month", "USD per month"),
];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CapacitySpec {
    /// Total base rates in records/s, increasing.
    pub rates: Vec<f64>,
}

impl CapacitySpec {
    /// Parses `--rates R1,R2,...` (records/s, each > 0); sorted, repeats removed.
    pub fn parse(text: &str) -> Result<CapacitySpec> {
        let bad = |m: String| Error::Argument { argument: format!("--rates {text}"), message: m };
        let mut rates = Vec::new();
        for part in text.split(',') {
            let rate: f64 =
                part.trim().parse().map_err(|_| bad(format!("{:?} is not a number of records/s", part.trim())))?;
            if !(rate.is_finite() && rate > 0.0 && rate <= MAX_RATE) {
                let shown = crate::text::number(rate);
                return Err(bad(format!("{shown} is not allowed; rates must be > 0 and at most 1e9 records/s")));
            }
            rates.push(rate);
        }
        rates.sort_by(f64::total_cmp);
        rates.dedup();
        Ok(CapacitySpec { rates })
    }
}

/// A `--rates` run before it ran.
pub fn planned(rate: f64) -> RateRun {
    let trend = Trend { slope_records_per_s: 0.0, steady_lag_records: 0.0, final_lag_records: 0.0, sustainable: false };
    RateRun { rate, phase: Phase::Fixed, trend }
}

/// The sum of the producers' base rates.
pub fn base_rate(s: &Scenario) -> f64 {
    s.producers.iter().map(|p| p.rate.unwrap_or(0.0)).sum()
}

/// The scenario with every producer's rates scaled so that the base rates sum to `rate`.
pub fn scaled(s: &Scenario, rate: f64) -> Scenario {
    let factor = rate / base_rate(s);
    let mut s = s.clone();
    for producer in &mut s.producers {
        producer.rate = producer.rate.map(|r| r * factor);
        for step in &mut producer.schedule {
            step.rate *= factor;
        }
    }
    s
}

/// Runs `planned` at its rate and measures the lag trend.
pub fn run_at(loaded: &Loaded, planned: &RunRecord, rate: RateRun, exec: &Execution) -> Result<RunRecord, Stopped> {
    let s = scaled(&loaded.scenario, rate.rate);
    let mut config = loaded.config.with_rates_scaled(rate.rate / base_rate(&loaded.scenario));
    config.config_hash = crate::config_hash(&s);
    let report = run::simulate(&config, planned.seed, exec)?;
    let trend = sustain::trend(&report.timeseries, s.duration.secs_f64(), rate.rate);
    Ok(RunRecord {
        metrics: metrics::values(&report.summary),
        rate: Some(RateRun { trend, ..rate }),
        ..planned.clone()
    })
}

/// Checks what capacity needs of every grid point: producers to scale and enough samples.
pub fn check(p: &Prepared) -> Result<()> {
    for loaded in &p.points {
        let s = &loaded.scenario;
        let field = |path: &str, message: String| Error::field(&loaded.file, path, message);
        if base_rate(s) <= 0.0 {
            return Err(field("producers", "capacity scales the producers' rates, which sum to 0 here".into()));
        }
        if s.duration.ns() / s.sample_interval.ns().max(1) < MIN_SAMPLES {
            let message = format!("capacity needs at least {MIN_SAMPLES} samples in the run to see a lag trend");
            return Err(field("sample_interval", message));
        }
    }
    Ok(())
}

/// `esmsim capacity`.
pub fn capacity(p: &Prepared, exec: &Execution, shard: Option<Shard>, out: Output) -> Result<Done> {
    check(p)?;
    let plan = plan(p);
    if let Some(shard) = shard {
        return write_shard(p, shard, &plan, exec, CAPACITY_CSV, out.dir);
    }
    let fixed = execute(p, exec, &plan)?;
    finish(p, exec, fixed, out)
}

/// One grid point's search for its highest sustainable rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Search {
    /// The highest rate found sustainable (0: none yet).
    pub lo: f64,
    /// The lowest rate found unsustainable above `lo`.
    pub hi: Option<f64>,
    doublings: u32,
    steps: u32,
}

impl Search {
    /// Starts from the `--rates` results: `(rate, sustainable)` in increasing rate order.
    fn start(results: &[(f64, bool)]) -> Search {
        let hi = results.iter().find(|r| !r.1).map(|r| r.0);
        let below = results.iter().filter(|r| r.1 && hi.is_none_or(|hi| r.0 < hi));
        let lo = below.map(|r| r.0).fold(0.0, f64::max);
        Search { lo, hi, doublings: 0, steps: 0 }
    }

    /// The next rate to try, or `None` when the search is over.
    fn next(&self) -> Option<f64> {
        match self.hi {
            None if self.doublings < MAX_DOUBLINGS && self.lo > 0.0 && self.lo * 2.0 <= MAX_RATE => Some(self.lo * 2.0),
            None => None,
            Some(hi) if (hi - self.lo) <= TOLERANCE * hi || self.steps >= MAX_STEPS => None,
            Some(hi) => Some((self.lo + hi) / 2.0),
        }
    }

    fn record(&mut self, rate: f64, sustainable: bool) {
        if self.hi.is_none() {
            self.doublings += 1;
        } else {
            self.steps += 1;
        }
        if sustainable { self.lo = self.lo.max(rate) } else { self.hi = Some(self.hi.map_or(rate, |h| h.min(rate))) }
    }
}

/// Rate results of one grid point: every seed's run at each rate, by increasing rate.
fn by_rate(records: &[RunRecord], point: usize) -> Vec<(f64, Vec<&RunRecord>)> {
    let mut rates: Vec<(f64, Vec<&RunRecord>)> = Vec::new();
    for r in records.iter().filter(|r| r.point == point) {
        let rate = r.rate.expect("capacity run").rate;
        match rates.iter_mut().find(|(x, _)| *x == rate) {
            Some((_, runs)) => runs.push(r),
            None => rates.push((rate, vec![r])),
        }
    }
    rates.sort_by(|a, b| a.0.total_cmp(&b.0));
    rates
}

fn all_sustainable(runs: &[&RunRecord]) -> bool {
    runs.iter().all(|r| r.rate.is_some_and(|x| x.trend.sustainable))
}

/// Bisects every grid point from the `--rates` results, then writes `capacity.csv`,
/// `capacity.json` and the charts; also used by `merge`.
pub fn finish(p: &Prepared, exec: &Execution, mut records: Vec<RunRecord>, out: Output) -> Result<Done> {
    let mut searches: Vec<Search> = (0..p.points.len())
        .map(|point| {
            let results: Vec<(f64, bool)> =
                by_rate(&records, point).iter().map(|(r, runs)| (*r, all_sustainable(runs))).collect();
            Search::start(&results)
        })
        .collect();
    // Every point's next rate runs in one parallel batch, so points and seeds share the cores.
    loop {
        let next: Vec<(usize, f64)> =
            searches.iter().enumerate().filter_map(|(i, s)| s.next().map(|r| (i, r))).collect();
        if next.is_empty() {
            break;
        }
        let plan: Vec<RunRecord> = next
            .iter()
            .flat_map(|&(point, rate)| (0..p.study.seeds).map(move |o| (point, rate, o)))
            .map(|(point, rate, o)| {
                let rate = RateRun { phase: Phase::Bisection, ..planned(rate) };
                RunRecord { point, seed: p.seed(point, o), metrics: Vec::new(), rate: Some(rate) }
            })
            .collect();
        let results = execute(p, exec, &plan)?;
        for &(point, rate) in &next {
            let runs: Vec<&RunRecord> = results.iter().filter(|r| r.point == point).collect();
            searches[point].record(rate, all_sustainable(&runs));
        }
        records.extend(results);
    }
    let key = |r: &RunRecord| {
        let rate = r.rate.expect("capacity run");
        (r.point, rate.rate, rate.phase, r.seed.wrapping_sub(p.seed(r.point, 0)))
    };
    records.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(ka.2.cmp(&kb.2)).then(ka.3.cmp(&kb.3))
    });
    write(p, &records, &searches, out)
}

/// One row of the per-rate view: means over seeds.
pub struct RatePoint {
    pub rate: f64,
    pub sustainable: bool,
    /// In [`RATE_METRICS`] order.
    pub values: Vec<Option<f64>>,
}

fn rate_points(records: &[RunRecord], point: usize) -> Vec<RatePoint> {
    let indices: Vec<Option<usize>> = RATE_METRICS.iter().map(|m| metric_index("", m.0).ok()).collect();
    let value = |r: &RunRecord, i: usize| match indices[i] {
        Some(m) => r.metrics[m],
        None => r.rate.map(|x| x.trend.steady_lag_records),
    };
    by_rate(records, point)
        .into_iter()
        .map(|(rate, runs)| RatePoint {
            rate,
            sustainable: all_sustainable(&runs),
            values: (0..RATE_METRICS.len())
                .map(|i| Stats::of(runs.iter().map(|r| value(r, i))).map(|s| s.mean))
                .collect(),
        })
        .collect()
}

fn write(p: &Prepared, records: &[RunRecord], searches: &[Search], out: Output) -> Result<Done> {
    let grid = &p.study.grid;
    let csv = table::csv_bytes(&record::header(grid, true), records.iter().map(|r| record::to_row(grid, r)));
    let views: Vec<Vec<RatePoint>> = (0..p.points.len()).map(|i| rate_points(records, i)).collect();
    let mut json = serde_json::to_vec_pretty(&capacity_json(p, searches, &views)).expect("capacity.json serialises");
    json.push(b'\n');
    let mut files = write_files(out.dir, &[(CAPACITY_CSV, csv), (CAPACITY_JSON, json)])?;
    if out.charts {
        let limits: Vec<f64> = searches.iter().map(|s| s.lo).collect();
        files.extend(charts::capacity_charts(grid, &views, &limits, out.dir)?);
    }
    Ok(Done { files, text: text(p, searches, &views) })
}

/// `capacity.json`, in this field order.
#[derive(Serialize)]
struct CapacityJson {
    scenario: String,
    /// The highest over the grid points.
    max_sustainable_rate: f64,
    base_rate: f64,
    seeds: u32,
    sustainable: Definition,
    points: Vec<PointJson>,
}

#[derive(Serialize)]
struct Definition {
    slope_limit_fraction_of_rate: f64,
    final_lag_limit_seconds_of_traffic: f64,
    bisection_tolerance: f64,
}

#[derive(Serialize)]
struct PointJson {
    config: Ordered,
    max_sustainable_rate: f64,
    lowest_unsustainable_rate: Option<f64>,
    rates: Vec<Ordered>,
}

fn capacity_json(p: &Prepared, searches: &[Search], views: &[Vec<RatePoint>]) -> CapacityJson {
    let grid = &p.study.grid;
    let rate_json = |rp: &RatePoint| {
        let mut row =
            vec![("rate_records_per_s".to_string(), json!(rp.rate)), ("sustainable".into(), json!(rp.sustainable))];
        row.extend(RATE_METRICS.iter().zip(&rp.values).map(|(m, v)| (m.0.to_string(), json!(v))));
        Ordered(row)
    };
    let point_json = |(i, (search, view)): (usize, (&Search, &Vec<RatePoint>))| PointJson {
        config: Ordered(grid.paths().iter().zip(grid.values(i)).map(|(k, v)| (k.to_string(), grid_value(v))).collect()),
        max_sustainable_rate: search.lo,
        lowest_unsustainable_rate: search.hi,
        rates: view.iter().map(rate_json).collect(),
    };
    CapacityJson {
        scenario: p.study.base.file.display().to_string(),
        max_sustainable_rate: searches.iter().map(|s| s.lo).fold(0.0, f64::max),
        base_rate: base_rate(&p.points[0].scenario),
        seeds: p.study.seeds,
        sustainable: Definition {
            slope_limit_fraction_of_rate: SLOPE_LIMIT_FRACTION,
            final_lag_limit_seconds_of_traffic: FINAL_LAG_LIMIT_S,
            bisection_tolerance: TOLERANCE,
        },
        points: searches.iter().zip(views).enumerate().map(point_json).collect(),
    }
}

fn text(p: &Prepared, searches: &[Search], views: &[Vec<RatePoint>]) -> String {
    let grid = &p.study.grid;
    let mut text = String::new();
    for (i, (search, view)) in searches.iter().zip(views).enumerate() {
        let name =
            if grid.dimensions.is_empty() { p.points[i].scenario.name.clone() } else { grid.assignments(i).join(" ") };
        let upper = search.hi.map_or("not reached".to_string(), |h| format!("unsustainable at {}", cell(Some(h))));
        text.push_str(&format!("{name}: max sustainable rate {} records/s ({upper})\n", cell(Some(search.lo))));
        text.push_str("  rate/s        sustainable  steady lag   p99 ms      peak conc.  USD/month\n");
        for rp in view {
            let v = |i: usize, decimals: usize| rp.values[i].map_or("-".to_string(), |v| format!("{v:.decimals$}"));
            text.push_str(&format!(
                "  {:<13} {:<12} {:<12} {:<11} {:<11} {}\n",
                super::constraint::short(rp.rate),
                if rp.sustainable { "yes" } else { "no" },
                v(0, 0),
                v(1, 1),
                v(2, 0),
                v(3, 2)
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_sorted_and_positive() {
        assert_eq!(CapacitySpec::parse("2000, 500,1000,500").unwrap().rates, [500.0, 1000.0, 2000.0]);
        for bad in ["", "1,x", "0", "-5", "inf"] {
            assert!(CapacitySpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn search_brackets_then_bisects_to_the_tolerance() {
        let mut s = Search::start(&[(1000.0, true), (2000.0, true), (4000.0, false), (8000.0, false)]);
        assert_eq!((s.lo, s.hi), (2000.0, Some(4000.0)));
        let capacity = 3000.0;
        while let Some(rate) = s.next() {
            s.record(rate, rate <= capacity);
        }
        assert!(s.lo <= capacity && s.hi.unwrap() - s.lo <= TOLERANCE * s.hi.unwrap(), "{s:?}");
        let mut open = Search::start(&[(1000.0, true)]);
        assert_eq!(open.next(), Some(2000.0));
        open.record(2000.0, false);
        assert_eq!(open.next(), Some(1500.0));
        assert_eq!(Search::start(&[(1000.0, false)]).next(), Some(500.0));
    }
}
