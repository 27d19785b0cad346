//! `esmsim tune`: the grid point with the lowest mean of `--minimize` among those whose means
//! meet every `--constraint`, over `--seeds` seeds.
//!
//! Strategies:
//! - `brute-force` runs every grid point with every seed (and is what `--shard` slices).
//! - `halving` (default) is successive halving over seeds: round `r` runs the surviving points
//!   up to `min(N, 3^r)` seeds, ranks them (feasible first by objective, then infeasible by how
//!   far they miss the constraints) and keeps the best third (at least 4) for the next round;
//!   the last round has all `N` seeds. With one seed it is brute force. It costs about
//!   `C × (1 + 2/3 + ...)` runs for `C` points instead of `C × N`, and can only differ from
//!   brute force when one seed ranks the true best below two thirds of the points.

use super::constraint::{Constraint, short};
use super::metrics::{metric_index, metric_names};
use super::record::{self, RunRecord};
use super::summary::{PointStats, point_stats};
use super::table::{self, Ordered, cell};
use super::{Done, Execution, Kind, Output, Prepared, Shard, aws, charts, execute, plan, write_shard};
use crate::error::{Error, Result};
use crate::output::write_files;
use crate::report::study::{StudyPage, write_study_report};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const TUNE_CSV: &str = "tune.csv";
pub const TUNE_JSON: &str = "tune.json";
pub const TUNE_RUNS_CSV: &str = "tune_runs.csv";
/// Halving keeps at least this many points per round.
const MIN_SURVIVORS: usize = 4;
/// Halving keeps one point in this many.
const ETA: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    Halving,
    BruteForce,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Halving => "halving",
            Strategy::BruteForce => "brute-force",
        }
    }

    /// The strategy to use: as asked, else brute force for a shard (the only one that can be
    /// sliced up front) and halving otherwise.
    pub fn resolve(asked: Option<&str>, shard: Option<Shard>) -> Result<Strategy> {
        let bad = |message: String| Error::Argument { argument: "--strategy".into(), message };
        let strategy = match asked {
            None if shard.is_some() => Strategy::BruteForce,
            None | Some("halving") => Strategy::Halving,
            Some("brute-force") => Strategy::BruteForce,
            Some(other) => return Err(bad(format!("unknown strategy {other:?}; allowed: halving, brute-force"))),
        };
        if shard.is_some() && strategy == Strategy::Halving {
            return Err(bad("--shard needs brute-force: halving picks its runs from earlier results".into()));
        }
        Ok(strategy)
    }
}

/// `tune`'s settings, as written into a shard's manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TuneSpec {
    pub minimize: String,
    pub constraints: Vec<String>,
    pub strategy: Strategy,
    /// `--robust`: re-check the winner at the ends of the most influential ASSUMED parameters.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub robust: bool,
}

/// The `tune` study kind from the command line, checked before anything runs.
pub fn spec_from_args(
    minimize: String,
    constraints: Vec<String>,
    strategy: Option<String>,
    shard: Option<Shard>,
    robust: bool,
) -> Result<Kind> {
    if robust && shard.is_some() {
        let message = "re-checks after the whole search; run it without sharding".to_string();
        return Err(Error::Argument { argument: "--robust".into(), message });
    }
    let spec = TuneSpec { minimize, constraints, strategy: Strategy::resolve(strategy.as_deref(), shard)?, robust };
    Goal::new(&spec)?;
    Ok(Kind::Tune(spec))
}

/// The objective and constraints, checked against the metric names.
pub struct Goal {
    pub objective: usize,
    pub constraints: Vec<Constraint>,
}

impl Goal {
    pub fn new(spec: &TuneSpec) -> Result<Goal> {
        let objective = metric_index("--minimize", &spec.minimize)?;
        let constraints = spec.constraints.iter().map(|c| Constraint::parse(c)).collect::<Result<_>>()?;
        Ok(Goal { objective, constraints })
    }

    /// Sort key: feasible first by objective, then infeasible by total relative miss.
    fn score(&self, ps: &PointStats) -> (bool, f64, f64, usize) {
        let miss: f64 = self.constraints.iter().map(|c| c.excess(ps.mean(c.index))).sum();
        let objective = ps.mean(self.objective).unwrap_or(f64::INFINITY);
        (!self.feasible(ps), miss, objective, ps.point)
    }

    pub(super) fn feasible(&self, ps: &PointStats) -> bool {
        ps.mean(self.objective).is_some() && self.constraints.iter().all(|c| c.holds(ps.mean(c.index)))
    }

    fn violations(&self, ps: &PointStats) -> Vec<String> {
        let failing = self.constraints.iter().filter(|c| !c.holds(ps.mean(c.index)));
        let mut why: Vec<String> = failing.map(|c| c.violation(ps.mean(c.index))).collect();
        if ps.mean(self.objective).is_none() {
            why.push(format!("{} is empty", metric_names()[self.objective]));
        }
        why
    }
}

pub(super) fn ranked(goal: &Goal, stats: &[&PointStats]) -> Vec<usize> {
    let mut keyed: Vec<_> = stats.iter().map(|ps| goal.score(ps)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.total_cmp(&b.2)).then(a.3.cmp(&b.3)));
    keyed.into_iter().map(|k| k.3).collect()
}

/// Where halving dropped a point: after `seeds` seeds, ranked `place` of `of`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elimination {
    pub seeds: u32,
    pub place: usize,
    pub of: usize,
}

pub fn spec(p: &Prepared) -> &TuneSpec {
    match &p.study.kind {
        Kind::Tune(spec) => spec,
        _ => unreachable!("a tune study"),
    }
}

/// `esmsim tune`.
pub fn tune(p: &Prepared, exec: &Execution, shard: Option<Shard>, out: Output) -> Result<Done> {
    let spec = spec(p);
    let goal = Goal::new(spec)?;
    if let Some(shard) = shard {
        return write_shard(p, shard, &plan(p), exec, TUNE_RUNS_CSV, out.dir);
    }
    let (records, eliminated) = match spec.strategy {
        Strategy::BruteForce => (execute(p, exec, &plan(p))?, vec![None; p.points.len()]),
        Strategy::Halving => halving(p, exec, &goal)?,
    };
    if spec.robust {
        let stats = point_stats(p, &records);
        let mut written = write_outcome(p, &goal, records, &eliminated, out)?;
        let (done, verdict) = super::robust::recheck(p, &goal, &stats, &eliminated, exec, out, written.done)?;
        written.done = done;
        written.page.answer.push(verdict.trim_end().replace('\n', " · "));
        return write_page(written, out);
    }
    finish(p, &goal, records, &eliminated, out)
}

fn halving(p: &Prepared, exec: &Execution, goal: &Goal) -> Result<(Vec<RunRecord>, Vec<Option<Elimination>>)> {
    let seeds = p.study.seeds;
    let mut alive: Vec<usize> = (0..p.points.len()).collect();
    let mut eliminated = vec![None; p.points.len()];
    let (mut records, mut done, mut budget) = (Vec::new(), 0u32, 1u32);
    loop {
        budget = budget.min(seeds);
        let round: Vec<RunRecord> = alive
            .iter()
            .flat_map(|&point| (done..budget).map(move |o| (point, o)))
            .map(|(point, o)| RunRecord { point, seed: p.seed(point, o), metrics: Vec::new(), rate: None })
            .collect();
        records.extend(execute(p, exec, &round)?);
        done = budget;
        if done == seeds {
            return Ok((records, eliminated));
        }
        let stats = point_stats(p, &records);
        let order = ranked(goal, &alive.iter().map(|&i| &stats[i]).collect::<Vec<_>>());
        let keep = order.len().div_ceil(ETA).max(MIN_SURVIVORS.min(order.len()));
        for (place, &point) in order.iter().enumerate().skip(keep) {
            eliminated[point] = Some(Elimination { seeds: done, place: place + 1, of: order.len() });
        }
        alive = order[..keep].to_vec();
        alive.sort_unstable();
        budget = budget.saturating_mul(ETA as u32);
    }
}

/// Writes `tune_runs.csv`, `tune.csv`, `tune.json`, the Pareto chart and `report.html`; also
/// used by `merge`.
pub fn finish(
    p: &Prepared,
    goal: &Goal,
    records: Vec<RunRecord>,
    eliminated: &[Option<Elimination>],
    out: Output,
) -> Result<Done> {
    let written = write_outcome(p, goal, records, eliminated, out)?;
    write_page(written, out)
}

/// What tune wrote before its page, and the page, which `--robust` adds its verdict to.
struct Written {
    done: Done,
    page: StudyPage,
    charts: Vec<std::path::PathBuf>,
}

/// Writes `report.html` (with the charts) when charts are on.
fn write_page(mut written: Written, out: Output) -> Result<Done> {
    if out.charts {
        written.done.files.extend(write_study_report(&written.page, &written.charts, out.dir)?);
    }
    Ok(written.done)
}

/// Writes the tables, `tune.json` and the chart, and makes the page.
fn write_outcome(
    p: &Prepared,
    goal: &Goal,
    mut records: Vec<RunRecord>,
    eliminated: &[Option<Elimination>],
    out: Output,
) -> Result<Written> {
    let grid = &p.study.grid;
    records.sort_by_key(|r| (r.point, r.seed.wrapping_sub(p.seed(r.point, 0))));
    let stats = point_stats(p, &records);
    let finalists: Vec<&PointStats> = stats.iter().filter(|ps| eliminated[ps.point].is_none()).collect();
    let order = ranked(goal, &finalists);
    let feasible: Vec<usize> = order.iter().copied().filter(|&i| goal.feasible(&stats[i])).collect();
    let groups = tie_groups(&stats, &feasible);
    let aws = match feasible.first() {
        Some(&best) => Some(aws::settings(&p.study.base.load(&[])?.scenario, &p.points[best].scenario, &grid.paths())),
        None => None,
    };
    let outcome = Outcome { goal, stats: &stats, eliminated, feasible: &feasible, groups: &groups, aws: aws.as_ref() };
    let runs = table::csv_bytes(&record::header(grid, false), records.iter().map(|r| record::to_row(grid, r, &[])));
    let mut json = serde_json::to_vec_pretty(&outcome.json(p, records.len())).expect("tune.json serialises");
    json.push(b'\n');
    let files = [(TUNE_RUNS_CSV, runs), (TUNE_CSV, outcome.csv(p)), (TUNE_JSON, json)];
    let mut written = write_files(out.dir, &files)?;
    let charts =
        if out.charts { charts::tune_chart(grid, goal, &stats, &feasible, eliminated, out.dir)? } else { Vec::new() };
    written.extend(charts.iter().cloned());
    let page = outcome.page(p, records.len(), None);
    Ok(Written { done: Done { files: written, text: outcome.text(p, &page) }, page, charts })
}

pub(super) struct Outcome<'a> {
    pub(super) goal: &'a Goal,
    pub(super) stats: &'a [PointStats],
    pub(super) eliminated: &'a [Option<Elimination>],
    /// Feasible finalists, best first.
    pub(super) feasible: &'a [usize],
    /// The feasible finalists grouped by identical results, best first; each group in rank order.
    pub(super) groups: &'a [Vec<usize>],
    /// The winner's deployment ([`aws::settings`]).
    pub(super) aws: Option<&'a Value>,
}

/// Two grid points with the same result: as many runs and the same mean of every metric.
fn same_result(a: &PointStats, b: &PointStats) -> bool {
    a.runs == b.runs && a.metrics.iter().zip(&b.metrics).all(|(x, y)| x.map(|s| s.mean) == y.map(|s| s.mean))
}

/// The feasible points (best first) grouped by identical results, so that settings that make no
/// difference are reported once.
fn tie_groups(stats: &[PointStats], feasible: &[usize]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for &i in feasible {
        match groups.iter_mut().find(|g| same_result(&stats[g[0]], &stats[i])) {
            Some(group) => group.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

/// The searched paths the winner's result does not depend on: every other value of the path,
/// the rest of the winner's settings kept, gives the same result (a point halving dropped
/// counts as different, since it was not run as far).
pub(super) fn insensitive_to(grid: &super::grid::Grid, stats: &[PointStats], best: usize) -> Vec<String> {
    let coordinates = grid.coordinates(best);
    let mut paths = Vec::new();
    for (d, dimension) in grid.dimensions.iter().enumerate() {
        if dimension.values.len() < 2 {
            continue;
        }
        let same = (0..dimension.values.len()).all(|v| {
            let mut c = coordinates.clone();
            c[d] = v;
            let index = c.iter().zip(&grid.dimensions).fold(0, |acc, (&x, dim)| acc * dim.values.len() + x);
            same_result(&stats[index], &stats[best])
        });
        if same {
            paths.push(dimension.path.clone());
        }
    }
    paths
}

impl Outcome<'_> {
    fn status(&self, point: usize) -> (&'static str, String, String) {
        let ps = &self.stats[point];
        let why = self.goal.violations(ps).join("; ");
        if let Some(e) = self.eliminated[point] {
            let seeds = if e.seeds == 1 { "1 seed".to_string() } else { format!("{} seeds", e.seeds) };
            let objective = &metric_names()[self.goal.objective];
            let value = ps.mean(self.goal.objective).map_or("-".into(), short);
            let detail = if why.is_empty() { String::new() } else { format!("; {why}") };
            let text = format!("ranked {} of {} after {seeds} ({objective} = {value}{detail})", e.place, e.of);
            return ("eliminated", String::new(), text);
        }
        match self.feasible.iter().position(|&i| i == point) {
            Some(0) => ("best", "1".into(), String::new()),
            Some(rank) => ("feasible", (rank + 1).to_string(), String::new()),
            None => ("infeasible", String::new(), why),
        }
    }

    /// `tune.csv`: one row per grid point with its status and the mean of every metric.
    fn csv(&self, p: &Prepared) -> Vec<u8> {
        let grid = &p.study.grid;
        let mut header = table::grid_header(grid);
        header.extend(["seeds_run", "status", "rank", "why"].map(String::from));
        header.extend(metric_names());
        let rows = self.stats.iter().map(|ps| {
            let (status, rank, why) = self.status(ps.point);
            let mut row: Vec<String> = grid.values(ps.point).into_iter().map(String::from).collect();
            row.extend([ps.runs.to_string(), status.to_string(), rank, why]);
            row.extend(ps.metrics.iter().map(|s| cell(s.map(|s| s.mean))));
            row
        });
        table::csv_bytes(&header, rows)
    }

    fn json(&self, p: &Prepared, runs: usize) -> TuneJson {
        let spec = spec(p);
        let best = self.feasible.first().copied();
        let grid = &p.study.grid;
        let point_json = |point: usize| {
            Ordered(grid.paths().iter().zip(grid.values(point)).map(|(k, v)| (k.to_string(), grid_value(v))).collect())
        };
        let metrics_json = |point: usize| {
            let means = self.stats[point].metrics.iter().map(|s| s.map_or(Value::Null, |s| json!(s.mean)));
            Ordered(metric_names().into_iter().zip(means).collect())
        };
        let runners_up = self.groups.iter().skip(1).take(4);
        let runners_up = runners_up
            .map(|g| RunnerUp {
                config: point_json(g[0]),
                metrics: self.key_metrics(g[0]),
                ties: g[1..].iter().map(|&i| point_json(i)).collect(),
            })
            .collect();
        let mut rejected: Vec<(String, Value)> = self
            .goal
            .constraints
            .iter()
            .map(|c| (c.to_string(), json!(self.finalists().filter(|ps| !c.holds(ps.mean(c.index))).count())))
            .collect();
        rejected.push(("eliminated_by_halving".into(), json!(self.eliminated.iter().flatten().count())));
        TuneJson {
            scenario: p.study.base.file.display().to_string(),
            minimize: spec.minimize.clone(),
            constraints: self.goal.constraints.iter().map(ToString::to_string).collect(),
            strategy: spec.strategy.name(),
            seeds: p.study.seeds,
            configurations: self.stats.len(),
            runs,
            feasible: best.is_some(),
            best: best.map(point_json),
            best_ties: self.groups.first().map_or(Vec::new(), |g| g[1..].iter().map(|&i| point_json(i)).collect()),
            insensitive_to: best.map_or(Vec::new(), |b| insensitive_to(grid, self.stats, b)),
            best_metrics: best.map(metrics_json),
            runners_up,
            rejected: Ordered(rejected),
            aws: self.aws.cloned(),
        }
    }

    pub(super) fn finalists(&self) -> impl Iterator<Item = &PointStats> {
        self.stats.iter().filter(|ps| self.eliminated[ps.point].is_none())
    }

    /// The objective's and the constraints' metrics of a point.
    fn key_metrics(&self, point: usize) -> Ordered {
        let names = metric_names();
        let indices = std::iter::once(self.goal.objective).chain(self.goal.constraints.iter().map(|c| c.index));
        let mut seen = Vec::new();
        for i in indices {
            if !seen.iter().any(|(n, _)| n == &names[i]) {
                seen.push((names[i].clone(), self.stats[point].mean(i).map_or(Value::Null, |v| json!(v))));
            }
        }
        Ordered(seen)
    }

    /// What the CLI prints: the winner, why the rest fail, the top configurations (the
    /// runners-up) as the page's first table, and the AWS commands.
    fn text(&self, p: &Prepared, page: &StudyPage) -> String {
        let grid = &p.study.grid;
        let describe = |i: usize| grid.assignments(i).join(" ");
        let metrics = |i: usize| {
            let pairs = self.key_metrics(i).0.into_iter();
            pairs.map(|(k, v)| format!("{k} {}", v.as_f64().map_or("-".into(), short))).collect::<Vec<_>>().join(", ")
        };
        let spec = spec(p);
        let mut text = format!(
            "{} configurations × up to {} seeds ({}), minimising {}\n",
            self.stats.len(),
            p.study.seeds,
            spec.strategy.name(),
            spec.minimize
        );
        match self.feasible.first() {
            None => text.push_str("no configuration meets the constraints\n"),
            Some(&best) => {
                text.push_str(&format!("best        {}\n            {}\n", describe(best), metrics(best)));
                let insensitive = insensitive_to(grid, self.stats, best);
                if !insensitive.is_empty() {
                    text.push_str(&format!("            the same whatever {}\n", insensitive.join(", ")));
                }
                text.push_str(&ties_text(self.groups[0].len()));
            }
        }
        text.push_str(&self.failures_text());
        if let Some(top) = page.tables.first().filter(|t| !t.rows.is_empty()) {
            text.push('\n');
            text.push_str(&top.to_text());
            text.push('\n');
        }
        if let Some(settings) = self.aws {
            text.push_str(&super::tune_page::aws_text(settings, p));
        }
        text
    }

    /// The constraints a point misses, as `tune.csv`'s `why` says them.
    pub(super) fn violations_text(&self, point: usize) -> String {
        self.goal.violations(&self.stats[point]).join("; ")
    }

    pub(super) fn failures_text(&self) -> String {
        let finalists = self.finalists().count();
        let infeasible = finalists - self.feasible.len();
        let mut text = format!("{} feasible, {infeasible} infeasible", self.feasible.len());
        for c in &self.goal.constraints {
            let failing: Vec<&PointStats> = self.finalists().filter(|ps| !c.holds(ps.mean(c.index))).collect();
            if !failing.is_empty() {
                text.push_str(&format!("; {} fail {c}", failing.len()));
            }
        }
        let dropped = self.eliminated.iter().flatten().count();
        if dropped > 0 {
            text.push_str(&format!("; {dropped} eliminated early by halving"));
        }
        text + " (see tune.csv)\n"
    }
}

/// "and N more with the same result" under a configuration that ties with others.
fn ties_text(group: usize) -> String {
    match group {
        0 | 1 => String::new(),
        2 => "            and 1 more configuration with the same result (tune.json)\n".to_string(),
        n => format!("            and {} more configurations with the same result (tune.json)\n", n - 1),
    }
}

/// A grid value as JSON: a number or object when it parses as JSON, else the string.
pub fn grid_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// `tune.json`, in this field order.
#[derive(Serialize)]
struct TuneJson {
    scenario: String,
    minimize: String,
    constraints: Vec<String>,
    strategy: &'static str,
    seeds: u32,
    configurations: usize,
    runs: usize,
    feasible: bool,
    /// The winning grid point, path → value.
    best: Option<Ordered>,
    /// Other feasible grid points with exactly the winner's result.
    best_ties: Vec<Ordered>,
    /// Searched paths whose every value (the winner's other settings kept) gives the same result.
    insensitive_to: Vec<String>,
    /// Every metric's mean over the winner's seeds.
    best_metrics: Option<Ordered>,
    runners_up: Vec<RunnerUp>,
    /// How many finalists fail each constraint, and how many halving dropped early.
    rejected: Ordered,
    aws: Option<Value>,
}

#[derive(Serialize)]
struct RunnerUp {
    config: Ordered,
    metrics: Ordered,
    /// Other grid points with exactly this result.
    ties: Vec<Ordered>,
}
