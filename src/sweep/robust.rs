//! `tune --robust`: does the choice survive esmsim's own guesses?
//!
//! 1. Screen: the winner runs at both ends of every ASSUMED parameter's range
//!    ([`super::assumed`]) with the study's seeds; a parameter's influence is the largest
//!    relative change it makes to the objective or a constrained metric,
//!    `|m(high) − m(low)| / |m(winner)|`. The [`TOP`] most influential are kept (`sensitivity`
//!    gives the full Morris ranking).
//! 2. Re-check: the winner and up to four runners-up run at each end of each kept parameter;
//!    at each end the best feasible of them is found as tune finds it. The choice holds when
//!    the winner is still best at every end.
//!
//! Points halving dropped and points that were infeasible are not re-run: an assumption could
//! make one of them best, which this check does not see.

use super::assumed::{self, Range};
use super::metrics::{metric_names, values};
use super::record::RunRecord;
use super::summary::{PointStats, point_stats};
use super::tune::{Elimination, Goal, ranked};
use super::{Done, Execution, Output, Prepared};
use crate::error::{Error, Result};
use crate::output::write_files;
use serde::Serialize;
use serde_json::{Value, json};

pub const ROBUST_JSON: &str = "robust.json";
/// Assumptions re-checked.
pub const TOP: usize = 3;
/// Candidates re-checked: the winner and up to four runners-up.
const CANDIDATES: usize = 5;

#[derive(Serialize)]
struct Screened {
    parameter: &'static str,
    low: String,
    high: String,
    /// Largest relative change of the objective or a constrained metric between the two ends.
    influence: Option<f64>,
}

#[derive(Serialize)]
struct Extreme {
    parameter: &'static str,
    value: String,
    /// The best feasible candidate at this value (grid assignments), or null if none is feasible.
    best: Option<Vec<String>>,
    holds: bool,
    /// Each candidate's objective and constrained metrics at this value, in candidate order.
    candidates: Vec<Value>,
}

#[derive(Serialize)]
struct RobustJson {
    holds: bool,
    winner: Vec<String>,
    candidates: Vec<Vec<String>>,
    screened: Vec<Screened>,
    extremes: Vec<Extreme>,
}

/// The metrics the goal looks at: the objective, then each constrained metric once.
fn goal_metrics(goal: &Goal) -> Vec<usize> {
    let mut out = vec![goal.objective];
    for c in &goal.constraints {
        if !out.contains(&c.index) {
            out.push(c.index);
        }
    }
    out
}

/// Re-checks tune's result (`stats` of every grid point) and adds `robust.json` and its answer to
/// what tune wrote; returns that answer too, for the page.
pub fn recheck(
    p: &Prepared,
    goal: &Goal,
    stats: &[PointStats],
    eliminated: &[Option<Elimination>],
    exec: &Execution,
    out: Output,
    mut done: Done,
) -> Result<(Done, String)> {
    let finalists: Vec<&PointStats> = stats.iter().filter(|ps| eliminated[ps.point].is_none()).collect();
    let feasible: Vec<usize> = ranked(goal, &finalists).into_iter().filter(|&i| goal.feasible(&stats[i])).collect();
    let Some(&winner) = feasible.first() else {
        let verdict = "robust: nothing to re-check, no configuration meets the constraints\n".to_string();
        done.text.push_str(&verdict);
        return Ok((done, verdict));
    };
    let candidates: Vec<usize> = feasible.iter().copied().take(CANDIDATES).collect();
    // The winner's ranges, kept only where every candidate has the parameter too (a grid over
    // scaling modes would otherwise set a field another candidate's mode refuses).
    let (mut ranges, _) = assumed::ranges(&p.points[winner].scenario);
    for &c in &candidates {
        let theirs = assumed::ranges(&p.points[c].scenario).0;
        ranges.retain(|r| theirs.iter().any(|t| t.parameter == r.parameter));
    }
    let watched = goal_metrics(goal);

    // 1. The winner at both ends of every range.
    let ends: Vec<(usize, f64)> = (0..ranges.len()).flat_map(|r| [(r, 0.0), (r, 1.0)]).collect();
    let screen = run_at(p, &ranges, &ends, &[winner], exec)?;
    let screened: Vec<Screened> = ranges
        .iter()
        .enumerate()
        .map(|(r, range)| {
            let (low, high) = (&screen[2 * r][winner], &screen[2 * r + 1][winner]);
            let change = |m: usize| {
                let (a, b, base) = (low.mean(m)?, high.mean(m)?, stats[winner].mean(m)?);
                Some(if base != 0.0 {
                    (b - a).abs() / base.abs()
                } else if a == b {
                    0.0
                } else {
                    f64::INFINITY
                })
            };
            let influence = watched.iter().filter_map(|&m| change(m)).reduce(f64::max);
            Screened {
                parameter: range.parameter,
                low: range.show(range.value(0.0)),
                high: range.show(range.value(1.0)),
                influence,
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..ranges.len()).filter(|&r| screened[r].influence.is_some_and(|v| v > 0.0)).collect();
    order.sort_by(|&a, &b| {
        screened[b].influence.unwrap_or(0.0).total_cmp(&screened[a].influence.unwrap_or(0.0)).then(a.cmp(&b))
    });
    order.truncate(TOP);

    // 2. Every candidate at both ends of the most influential.
    let ends: Vec<(usize, f64)> = order.iter().flat_map(|&r| [(r, 0.0), (r, 1.0)]).collect();
    let rechecked = run_at(p, &ranges, &ends, &candidates, exec)?;
    let names = metric_names();
    let grid = &p.study.grid;
    let extremes: Vec<Extreme> = ends
        .iter()
        .zip(&rechecked)
        .map(|(&(r, u), at)| {
            let mine: Vec<&PointStats> = candidates.iter().map(|&i| &at[i]).collect();
            let best = ranked(goal, &mine).into_iter().find(|&i| goal.feasible(&at[i]));
            let describe = |i: usize| {
                let metrics: Vec<(String, Value)> =
                    watched.iter().map(|&m| (names[m].clone(), at[i].mean(m).map_or(Value::Null, |v| json!(v)))).collect();
                json!({ "config": grid.assignments(i), "feasible": goal.feasible(&at[i]), "metrics": super::table::Ordered(metrics) })
            };
            Extreme {
                parameter: ranges[r].parameter,
                value: ranges[r].show(ranges[r].value(u)),
                best: best.map(|i| grid.assignments(i)),
                holds: best == Some(winner),
                candidates: candidates.iter().map(|&i| describe(i)).collect(),
            }
        })
        .collect();
    let holds = extremes.iter().all(|e| e.holds);
    let json = RobustJson {
        holds,
        winner: grid.assignments(winner),
        candidates: candidates.iter().map(|&i| grid.assignments(i)).collect(),
        screened,
        extremes,
    };
    let verdict = text(&json, candidates.len());
    done.text.push_str(&verdict);
    let mut bytes = serde_json::to_vec_pretty(&json).expect("robust.json serialises");
    bytes.push(b'\n');
    done.files.extend(write_files(out.dir, &[(ROBUST_JSON, bytes)])?);
    Ok((done, verdict))
}

/// Runs `points` with each (range, end) assignment and every seed of the study; returns, per
/// assignment, the statistics of every grid point (empty for those not run).
fn run_at(
    p: &Prepared,
    ranges: &[Range],
    ends: &[(usize, f64)],
    points: &[usize],
    exec: &Execution,
) -> Result<Vec<Vec<PointStats>>> {
    let mut plan = Vec::new();
    for (e, &(r, u)) in ends.iter().enumerate() {
        for &point in points {
            let s = &p.points[point].scenario;
            let set = ranges[r].assignment(s, ranges[r].value(u));
            let mut sets = p.study.grid.assignments(point);
            sets.push(set.clone());
            let loaded = p.study.base.load(&sets).map_err(|err| match err {
                Error::Field { file, path, message } => {
                    Error::Field { file, path, message: format!("{message} (re-checking at {set})") }
                }
                other => other,
            })?;
            for offset in 0..p.study.seeds {
                plan.push((e, point, p.seed(point, offset), loaded.clone()));
            }
        }
    }
    let results = exec.map(&plan, |(e, point, seed, loaded)| {
        let at = format!(" (in the robustness run of grid point {point}, seed {seed})");
        super::run::simulate(&loaded.config, *seed, exec)
            .map(|report| (*e, RunRecord { point: *point, seed: *seed, metrics: values(&report.summary), rate: None }))
            .map_err(|stopped| crate::budget::stopped_error(&loaded.file, &stopped, &at))
    });
    let results = results.into_iter().collect::<Result<Vec<_>>>()?;
    Ok((0..ends.len())
        .map(|e| {
            let records: Vec<RunRecord> = results.iter().filter(|(x, _)| *x == e).map(|(_, r)| r.clone()).collect();
            point_stats(p, &records)
        })
        .collect())
}

fn text(json: &RobustJson, candidates: usize) -> String {
    let verdict = if json.holds { "holds" } else { "does NOT hold" };
    let mut text = format!(
        "robust: the choice {verdict} at the ends of the {} most influential ASSUMED parameters ({candidates} candidates re-run; see robust.json)\n",
        json.extremes.len() / 2
    );
    for e in &json.extremes {
        let best = e.best.as_ref().map_or("no candidate feasible".to_string(), |b| b.join(" "));
        let mark = if e.holds { "same winner" } else { "winner changes to" };
        text.push_str(&format!(
            "  {:<40} = {:<12} {mark}{}\n",
            e.parameter,
            e.value,
            if e.holds { String::new() } else { format!(" {best}") }
        ));
    }
    if json.extremes.is_empty() {
        text.push_str("  no ASSUMED parameter changed the objective or a constrained metric of the winner\n");
    }
    text
}
