//! `esmsim capacity`: metrics against the producers' total rate, and the highest sustainable
//! rate by bisection.
//!
//! A run is **sustainable** when its lag keeps up after the warm-up (see [`super::sustain`]) and
//! it meets every SLO (`--slo 'METRIC<=VALUE'`, as `tune --constraint`; by default
//! [`DEFAULT_SLO`], the oldest unprocessed record at most a minute old); a rate is sustainable
//! when every seed's run is. A rate that misses an SLO is never called sustainable.
//!
//! A rate `R` scales every producer's `rate` and schedule rates by `R / base`, where `base` is
//! the sum of the producers' `rate` fields, so the total base rate is `R` and a schedule keeps
//! its shape. After the `--rates` runs, each grid point's search starts from the highest
//! sustainable rate and the lowest unsustainable one above it (doubling past the top rate if every
//! rate was sustainable, from 0 if none was) and bisects until the bracket is within 1 % of its
//! top. The answer is the highest rate found sustainable, with the limit that binds at the knee
//! (the bottleneck seconds of the lowest unsustainable rate) and the analytic limit
//! ([`super::analytic`]) beside it.

use super::analytic::{self, Cap};
use super::constraint::{Constraint, short};
use super::metrics::{self, metric_index, metric_names};
use super::record::{Phase, RateRun, RunRecord};
use super::stats::Stats;
use super::sustain::{self, FINAL_LAG_LIMIT_S, MIN_SAMPLES, SLOPE_LIMIT_FRACTION, Trend};
use super::table::{self, Ordered};
use super::tune::grid_value;
use super::{Done, Execution, Output, Prepared, Shard, capacity_page, charts, execute, plan, record, run, write_shard};
use crate::error::{Error, Result};
use crate::output::write_files;
use crate::scenario::{Loaded, Scenario};
use crate::sim::Stopped;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const CAPACITY_CSV: &str = "capacity.csv";
/// The SLO judged when `--slo` is not given: the oldest unprocessed record at most a minute old.
pub const DEFAULT_SLO: &str = "lag.max_age_ms<=60000";
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
    ("steady_lag_records", "capacity-lag", "Steady-state lag (mean after the warm-up)", "lag (records)"),
    ("latency_ms.p99", "capacity-latency", "p99 latency", "p99 latency (ms)"),
    ("concurrency.peak", "capacity-concurrency", "Peak concurrency", "concurrent executions"),
    ("cost_usd.per_month", "capacity-cost", "Cost per month", "USD per month"),
];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CapacitySpec {
    /// Total base rates in records/s, increasing.
    pub rates: Vec<f64>,
    /// The SLOs each run must meet, as given (or [`DEFAULT_SLO`]).
    pub slos: Vec<String>,
}

impl CapacitySpec {
    /// From `--rates` and the `--slo`s (each checked; none given: [`DEFAULT_SLO`]).
    pub fn from_args(rates: &str, slos: Vec<String>) -> Result<CapacitySpec> {
        let slos = if slos.is_empty() { vec![DEFAULT_SLO.to_string()] } else { slos };
        for slo in &slos {
            Constraint::parse_flag("--slo", slo)?;
        }
        Ok(CapacitySpec { rates: CapacitySpec::parse(rates)?.rates, slos })
    }

    /// The SLOs, parsed.
    pub fn constraints(&self) -> Result<Vec<Constraint>> {
        self.slos.iter().map(|s| Constraint::parse_flag("--slo", s)).collect()
    }

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
        Ok(CapacitySpec { rates, slos: Vec::new() })
    }
}

/// The SLOs of a capacity study (none for other studies).
pub fn slos(p: &Prepared) -> Result<Vec<Constraint>> {
    match &p.study.kind {
        super::Kind::Capacity(spec) => spec.constraints(),
        _ => Ok(Vec::new()),
    }
}

/// A `--rates` run before it ran.
pub fn planned(rate: f64) -> RateRun {
    let trend = Trend { slope_records_per_s: 0.0, steady_lag_records: 0.0, final_lag_records: 0.0, keeps_up: false };
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
    let trend = sustain::trend(&report.timeseries, report.summary.warmup_seconds, rate.rate);
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
        let steady_ns = s.duration.ns().saturating_sub(s.warmup.map_or(0, |w| w.ns()));
        if steady_ns / s.sample_interval.ns().max(1) < MIN_SAMPLES {
            let message = format!("capacity needs at least {MIN_SAMPLES} samples after the warm-up to see a lag trend");
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
    /// Starts from the `--rates` results: `(rate, sustainable)` in increasing rate order. The
    /// bracket is the highest sustainable rate and the lowest unsustainable one above it: an SLO
    /// that low rates miss (a window's latency) does not hide a knee above them.
    fn start(results: &[(f64, bool)]) -> Search {
        let lo = results.iter().filter(|r| r.1).map(|r| r.0).fold(0.0, f64::max);
        let hi = results.iter().find(|r| !r.1 && r.0 > lo).map(|r| r.0);
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
pub(super) fn by_rate(records: &[RunRecord], point: usize) -> Vec<(f64, Vec<&RunRecord>)> {
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

fn all_sustainable(runs: &[&RunRecord], slos: &[Constraint]) -> bool {
    runs.iter().all(|r| r.rate.is_some() && record::missed(r, slos).is_empty())
}

/// Bisects every grid point from the `--rates` results, then writes `capacity.csv`,
/// `capacity.json` and the charts; also used by `merge`.
pub fn finish(p: &Prepared, exec: &Execution, mut records: Vec<RunRecord>, out: Output) -> Result<Done> {
    let slos = slos(p)?;
    let mut searches: Vec<Search> = (0..p.points.len())
        .map(|point| {
            let results: Vec<(f64, bool)> =
                by_rate(&records, point).iter().map(|(r, runs)| (*r, all_sustainable(runs, &slos))).collect();
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
            searches[point].record(rate, all_sustainable(&runs, &slos));
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
    write(p, &records, &searches, &slos, out)
}

/// One row of the per-rate view: means over seeds.
pub struct RatePoint {
    pub rate: f64,
    pub sustainable: bool,
    /// Every seed's lag keeps up.
    pub keeps_up: bool,
    /// Why it is not sustainable: each criterion some seed's run fails, as that run fails it.
    pub missed: Vec<String>,
    /// In [`RATE_METRICS`] order.
    pub values: Vec<Option<f64>>,
}

fn rate_points(records: &[RunRecord], point: usize, slos: &[Constraint]) -> Vec<RatePoint> {
    let indices: Vec<Option<usize>> = RATE_METRICS.iter().map(|m| metric_index("", m.0).ok()).collect();
    let value = |r: &RunRecord, i: usize| match indices[i] {
        Some(m) => r.metrics[m],
        None => r.rate.map(|x| x.trend.steady_lag_records),
    };
    by_rate(records, point)
        .into_iter()
        .map(|(rate, runs)| {
            let mut missed: Vec<String> = Vec::new();
            for why in runs.iter().flat_map(|r| record::missed(r, slos)) {
                // One entry per criterion (the text before its value), from the first seed missing it.
                let criterion = |w: &str| w.split([' ', '=']).next().unwrap_or_default().to_string();
                if !missed.iter().any(|m| criterion(m) == criterion(&why)) {
                    missed.push(why);
                }
            }
            RatePoint {
                rate,
                sustainable: all_sustainable(&runs, slos),
                keeps_up: runs.iter().all(|r| r.rate.is_some_and(|x| x.trend.keeps_up)),
                missed,
                values: (0..RATE_METRICS.len())
                    .map(|i| Stats::of(runs.iter().map(|r| value(r, i))).map(|s| s.mean))
                    .collect(),
            }
        })
        .collect()
}

/// The limit that binds at a grid point's knee: from the bottleneck seconds (mean over seeds)
/// of the lowest unsustainable rate above the highest sustainable one where a limit bound at
/// all (just past the knee the lag may grow too slowly for any interval to count as behind),
/// else of the lowest unsustainable rate, `none` when the lag kept up and an SLO alone failed.
#[derive(Clone, Debug, Serialize)]
pub struct BindingLimit {
    pub at_rate: f64,
    pub limit: String,
    /// Mean seconds after the warm-up per limit that bound at all, most first.
    pub seconds: Ordered,
    /// What the rate missed.
    pub missed: Vec<String>,
}

fn binding_limit(records: &[RunRecord], point: usize, search: &Search, view: &[RatePoint]) -> Option<BindingLimit> {
    search.hi?;
    let names = metric_names();
    let at = |rate: f64| {
        let runs: Vec<&RunRecord> =
            records.iter().filter(|r| r.point == point && r.rate.is_some_and(|x| x.rate == rate)).collect();
        let mut seconds: Vec<(String, f64)> = names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.strip_prefix("bottlenecks.").map(|limit| (i, limit)))
            .filter_map(|(i, limit)| Stats::of(runs.iter().map(|r| r.metrics[i])).map(|s| (limit.to_string(), s.mean)))
            .filter(|(_, s)| *s > 0.0)
            .collect();
        // Most seconds first; ties keep the bottleneck's own order.
        seconds.sort_by(|a, b| b.1.total_cmp(&a.1));
        let limit = seconds.iter().find(|(l, _)| l != "none").map(|(l, _)| l.clone());
        (rate, limit, seconds)
    };
    let above: Vec<&RatePoint> = view.iter().filter(|rp| rp.rate > search.lo && !rp.sustainable).collect();
    let candidates: Vec<_> = above.iter().map(|rp| at(rp.rate)).collect();
    let chosen = candidates.iter().find(|c| c.1.is_some()).or(candidates.first())?;
    let (rate, limit, seconds) = chosen.clone();
    let missed = view.iter().find(|rp| rp.rate == rate).map(|rp| rp.missed.clone()).unwrap_or_default();
    Some(BindingLimit {
        at_rate: rate,
        limit: limit.unwrap_or_else(|| "none".to_string()),
        seconds: Ordered(seconds.into_iter().map(|(l, s)| (l, json!(s))).collect()),
        missed,
    })
}

/// The analytic limit of a grid point beside the measured one.
#[derive(Clone, Debug, Serialize)]
pub struct AnalyticLimit {
    /// The lowest cap, records/s the consumer can take at most.
    pub records_per_second: f64,
    /// Which cap: `concurrent_batches` or `poller_throughput`.
    pub kind: &'static str,
    /// What sets it (for `concurrent_batches`, what sets `C`).
    pub bound: &'static str,
    pub formula: String,
    /// The producers' peak total rate over their base total rate (1 without a schedule).
    pub peak_to_base: f64,
    /// The measured `max_sustainable_rate` × `peak_to_base`: the peak rate it sustained.
    pub measured_records_per_second: f64,
    /// `measured / limit − 1`: below 0 when the run falls short of the limit.
    pub margin_fraction: f64,
    /// Every cap, lowest first.
    pub caps: Vec<Cap>,
}

fn analytic_limit(loaded: &crate::scenario::Loaded, measured_base_rate: f64) -> Option<AnalyticLimit> {
    let caps = analytic::caps(loaded)?;
    let first = caps[0].clone();
    let peak_to_base = analytic::peak_to_base(loaded);
    let measured = measured_base_rate * peak_to_base;
    Some(AnalyticLimit {
        records_per_second: first.records_per_second,
        kind: first.kind,
        bound: first.bound,
        formula: first.formula,
        peak_to_base,
        measured_records_per_second: measured,
        margin_fraction: measured / first.records_per_second - 1.0,
        caps,
    })
}

/// What capacity found at one grid point.
pub(super) struct PointResult<'a> {
    pub(super) search: Search,
    pub(super) view: &'a [RatePoint],
    pub(super) binding: Option<BindingLimit>,
    pub(super) analytic: Option<AnalyticLimit>,
}

fn write(p: &Prepared, records: &[RunRecord], searches: &[Search], slos: &[Constraint], out: Output) -> Result<Done> {
    let grid = &p.study.grid;
    let rows = records.iter().map(|r| record::to_row(grid, r, slos));
    let csv = table::csv_bytes(&record::header(grid, true), rows);
    let views: Vec<Vec<RatePoint>> = (0..searches.len()).map(|i| rate_points(records, i, slos)).collect();
    let results: Vec<PointResult> = searches
        .iter()
        .zip(&views)
        .enumerate()
        .map(|(i, (search, view))| PointResult {
            search: *search,
            binding: binding_limit(records, i, search, view),
            analytic: analytic_limit(&p.points[i], search.lo),
            view,
        })
        .collect();
    let mut json = serde_json::to_vec_pretty(&capacity_json(p, slos, &results)).expect("capacity.json serialises");
    json.push(b'\n');
    let mut files = write_files(out.dir, &[(CAPACITY_CSV, csv), (CAPACITY_JSON, json)])?;
    if out.charts {
        let limits: Vec<f64> = searches.iter().map(|s| s.lo).collect();
        let mut charts = capacity_page::slo_charts(p, records, &results, slos, out.dir)?;
        charts.extend(charts::capacity_charts(grid, &views, &limits, out.dir)?);
        let spec = match &p.study.kind {
            super::Kind::Capacity(spec) => spec,
            _ => unreachable!("a capacity study"),
        };
        let page = capacity_page::capacity_page(p, spec, records, &results, &order(&results));
        files.extend(charts.iter().cloned());
        files.extend(crate::report::study::write_study_report(&page, &charts, out.dir)?);
    }
    Ok(Done { files, text: text(p, slos, &results) })
}

/// The grid point with the highest sustainable rate (the first on ties).
fn best(results: &[PointResult<'_>]) -> usize {
    let mut best = 0;
    for (i, r) in results.iter().enumerate() {
        if r.search.lo > results[best].search.lo {
            best = i;
        }
    }
    best
}

/// The grid points, the one with the highest sustainable rate first, then in grid order.
fn order(results: &[PointResult<'_>]) -> Vec<usize> {
    let best = best(results);
    std::iter::once(best).chain((0..results.len()).filter(|&i| i != best)).collect()
}

/// `capacity.json`, in this field order.
#[derive(Serialize)]
struct CapacityJson {
    scenario: String,
    /// The highest over the grid points.
    max_sustainable_rate: f64,
    /// The SLOs every run had to meet, besides keeping up.
    slos: Vec<String>,
    /// At the knee of the grid point with the highest rate.
    binding_limit: Option<BindingLimit>,
    /// Of the grid point with the highest rate.
    analytic_limit: Option<AnalyticLimit>,
    base_rate: f64,
    seeds: u32,
    sustainable: Definition,
    points: Vec<PointJson>,
}

#[derive(Serialize)]
struct Definition {
    lag_window: &'static str,
    slope_limit_fraction_of_rate: f64,
    final_lag_limit_seconds_of_traffic: f64,
    bisection_tolerance: f64,
}

#[derive(Serialize)]
struct PointJson {
    config: Ordered,
    max_sustainable_rate: f64,
    lowest_unsustainable_rate: Option<f64>,
    binding_limit: Option<BindingLimit>,
    analytic_limit: Option<AnalyticLimit>,
    rates: Vec<Ordered>,
}

fn capacity_json(p: &Prepared, slos: &[Constraint], results: &[PointResult<'_>]) -> CapacityJson {
    let grid = &p.study.grid;
    let rate_json = |rp: &RatePoint| {
        let mut row = vec![
            ("rate_records_per_s".to_string(), json!(rp.rate)),
            ("sustainable".into(), json!(rp.sustainable)),
            ("lag_keeps_up".into(), json!(rp.keeps_up)),
            ("missed".into(), json!(rp.missed)),
        ];
        row.extend(RATE_METRICS.iter().zip(&rp.values).map(|(m, v)| (m.0.to_string(), json!(v))));
        Ordered(row)
    };
    let point_json = |(i, r): (usize, &PointResult<'_>)| PointJson {
        config: Ordered(grid.paths().iter().zip(grid.values(i)).map(|(k, v)| (k.to_string(), grid_value(v))).collect()),
        max_sustainable_rate: r.search.lo,
        lowest_unsustainable_rate: r.search.hi,
        binding_limit: r.binding.clone(),
        analytic_limit: r.analytic.clone(),
        rates: r.view.iter().map(rate_json).collect(),
    };
    let top = &results[best(results)];
    CapacityJson {
        scenario: p.study.base.file.display().to_string(),
        max_sustainable_rate: top.search.lo,
        slos: slos.iter().map(ToString::to_string).collect(),
        binding_limit: top.binding.clone(),
        analytic_limit: top.analytic.clone(),
        base_rate: base_rate(&p.points[0].scenario),
        seeds: p.study.seeds,
        sustainable: Definition {
            lag_window: "after the warm-up",
            slope_limit_fraction_of_rate: SLOPE_LIMIT_FRACTION,
            final_lag_limit_seconds_of_traffic: FINAL_LAG_LIMIT_S,
            bisection_tolerance: TOLERANCE,
        },
        points: results.iter().enumerate().map(point_json).collect(),
    }
}

/// The answer first: the highest sustainable rate, why the next rate fails, the binding limit
/// and the analytic limit; then each grid point's rates.
fn text(p: &Prepared, slos: &[Constraint], results: &[PointResult<'_>]) -> String {
    let grid = &p.study.grid;
    let name = |i: usize| {
        if grid.dimensions.is_empty() { p.points[i].scenario.name.clone() } else { grid.assignments(i).join(" ") }
    };
    let slo_text: Vec<String> = slos.iter().map(ToString::to_string).collect();
    let mut text = format!(
        "sustainable = lag not growing after the warm-up and every SLO met: {}\n",
        if slo_text.is_empty() { "(no SLOs)".to_string() } else { slo_text.join(", ") }
    );
    for i in order(results) {
        text.push_str(&point_text(&name(i), &results[i]));
    }
    text
}

fn point_text(name: &str, r: &PointResult<'_>) -> String {
    let rate = short;
    let mut text = format!("{name}: max sustainable rate {} records/s", rate(r.search.lo));
    match &r.binding {
        None => text.push_str(" (no unsustainable rate found)\n"),
        Some(b) => {
            let missed = if b.missed.is_empty() { String::new() } else { format!(": {}", b.missed.join("; ")) };
            text.push_str(&format!("\n  unsustainable at {}{missed}\n", rate(b.at_rate)));
            let seconds = b.seconds.0.iter().find(|(l, _)| *l == b.limit).and_then(|(_, s)| s.as_f64());
            let held = seconds.map_or(String::new(), |s| format!("{} s ", short(s)));
            text.push_str(&format!(
                "  binding limit at the knee: {} ({held}at {} records/s)\n",
                b.limit,
                rate(b.at_rate)
            ));
        }
    }
    if let Some(a) = &r.analytic {
        let peak = if a.peak_to_base > 1.0 {
            format!(
                "; the schedule peaks at {}× the base rate, so it sustained a peak of {}",
                short(a.peak_to_base),
                rate(a.measured_records_per_second)
            )
        } else {
            String::new()
        };
        text.push_str(&format!(
            "  analytic limit {} records/s ({}, {}, set by {}){peak}: measured {:+.1} %\n",
            rate(a.records_per_second),
            a.kind,
            a.formula,
            a.bound,
            a.margin_fraction * 100.0
        ));
        if a.margin_fraction > 0.0 {
            text.push_str("  above the analytic limit: lag grows there too slowly for this run to show; the limit holds in the long run\n");
        }
    }
    text.push_str("  rate/s        sustainable  steady lag   p99 ms      peak conc.  USD/month   missed\n");
    for rp in r.view {
        let v = |i: usize, decimals: usize| rp.values[i].map_or("-".to_string(), |v| format!("{v:.decimals$}"));
        let row = format!(
            "  {:<13} {:<12} {:<12} {:<11} {:<11} {:<11} {}",
            short(rp.rate),
            if rp.sustainable { "yes" } else { "no" },
            v(0, 0),
            v(1, 1),
            v(2, 0),
            v(3, 2),
            rp.missed.join("; ")
        );
        text.push_str(row.trim_end());
        text.push('\n');
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
