//! `esmsim sensitivity SCENARIO --metric M`: how much each ASSUMED parameter moves a metric,
//! by Morris elementary effects ([`super::morris`]) over the ranges in [`super::assumed`].
//!
//! Every design point runs with the same seeds (the scenario's seed + 0 .. seeds − 1), so an
//! elementary effect is the parameter's effect and not run-to-run noise: a parameter that cannot
//! change the run has μ* = 0 exactly. The design is drawn from the scenario's seed, so the same
//! scenario gives the same files.

use super::assumed::{self, Range, Skipped, Spread};
use super::metrics::metric_index;
use super::morris::{self, Effects, Trajectory};
use super::study::Base;
use super::table::{self, cell};
use super::{Done, Execution, Output};
use crate::error::{Error, Result};
use crate::output::write_files;
use crate::report::{Axis, Bounds, PointSet, Scatter, palette, write_chart};
use crate::scenario::Loaded;
use serde::Serialize;

pub const SENSITIVITY_CSV: &str = "sensitivity.csv";
pub const SENSITIVITY_JSON: &str = "sensitivity.json";
pub const SENSITIVITY_CHART: &str = "sensitivity";
/// `--trajectories` allowed.
pub const MAX_TRAJECTORIES: u32 = 1000;

/// What `sensitivity` was asked.
pub struct Spec<'a> {
    pub metric: &'a str,
    pub trajectories: u32,
    pub seeds: u32,
}

/// One parameter's result.
#[derive(Serialize)]
pub(super) struct Row {
    pub(super) rank: usize,
    pub(super) parameter: &'static str,
    pub(super) low: String,
    pub(super) high: String,
    pub(super) spread: Spread,
    pub(super) scenario_value: String,
    /// Mean |elementary effect|: the metric's change across the whole range, in its units.
    pub(super) mu_star: Option<f64>,
    pub(super) mu: Option<f64>,
    pub(super) sigma: Option<f64>,
    pub(super) elementary_effects: Vec<Option<f64>>,
}

/// One run of the design: which point of which trajectory, the parameters' values and the
/// metric's mean over the seeds.
#[derive(Serialize)]
struct DesignPoint {
    trajectory: usize,
    point: usize,
    /// The parameter changed from the previous point (none at a trajectory's start).
    moved: Option<&'static str>,
    values: Vec<String>,
    metric: Option<f64>,
}

#[derive(Serialize)]
pub(super) struct SensitivityJson<'a> {
    pub(super) scenario: String,
    pub(super) metric: &'a str,
    pub(super) method: &'static str,
    pub(super) levels: u32,
    pub(super) delta: f64,
    pub(super) trajectories: u32,
    pub(super) seeds: Vec<u64>,
    pub(super) runs: usize,
    /// The metric at the scenario's own values (mean over the seeds).
    pub(super) scenario_metric: Option<f64>,
    pub(super) parameters: Vec<Row>,
    pub(super) skipped: Vec<Skipped>,
    design: Vec<DesignPoint>,
}

/// Checks the arguments before anything runs.
pub fn check(spec: &Spec) -> Result<usize> {
    let index = metric_index("--metric", spec.metric)?;
    if !(1..=MAX_TRAJECTORIES).contains(&spec.trajectories) {
        let message = format!("{} is out of range; allowed: 1 to {MAX_TRAJECTORIES}", spec.trajectories);
        return Err(Error::Argument { argument: "--trajectories".into(), message });
    }
    if spec.seeds == 0 {
        return Err(Error::Argument { argument: "--seeds".into(), message: "must be at least 1".into() });
    }
    Ok(index)
}

/// `esmsim sensitivity`.
pub fn sensitivity(base: &Base, spec: &Spec, exec: &Execution, out: Output) -> Result<Done> {
    let metric = check(spec)?;
    let scenario = base.load(&[])?;
    let s = &scenario.scenario;
    let (ranges, skipped) = assumed::ranges(s);
    let k = ranges.len();
    let design = morris::design(k, spec.trajectories as usize, s.seed);
    // Point 0 is the scenario as given; then every trajectory's points in order.
    let mut points: Vec<Loaded> = vec![scenario.clone()];
    for traj in &design {
        for levels in &traj.points {
            points.push(load_point(base, &ranges, s, levels)?);
        }
    }
    let seeds: Vec<u64> = (0..u64::from(spec.seeds)).map(|o| s.seed.wrapping_add(o)).collect();
    let plan: Vec<(usize, u64)> = (0..points.len()).flat_map(|p| seeds.iter().map(move |&seed| (p, seed))).collect();
    let values = exec.map(&plan, |&(p, seed)| {
        let at = format!(" (in the sensitivity run at design point {p}, seed {seed})");
        super::run::simulate(&points[p].config, seed, exec)
            .map(|report| (super::metrics::METRICS[metric].value)(&report.summary))
            .map_err(|stopped| crate::budget::stopped_error(&points[p].file, &stopped, &at))
    });
    let values = values.into_iter().collect::<Result<Vec<_>>>()?;
    let means: Vec<Option<f64>> = values.chunks(seeds.len()).map(mean).collect();
    let per_point = k + 1;
    let outputs: Vec<Vec<Option<f64>>> = means[1..].chunks(per_point).map(<[_]>::to_vec).collect();
    let effects = morris::effects(k, &design, &outputs);
    let result = Screening { spec, ranges: &ranges, effects: &effects, ranks: morris::ranks(&effects) };

    let rows = result.rows(s);
    let csv = result.csv(&rows);
    let json = SensitivityJson {
        scenario: base.file.display().to_string(),
        metric: spec.metric,
        method: "morris",
        levels: morris::LEVELS,
        delta: morris::delta(),
        trajectories: spec.trajectories,
        seeds: seeds.clone(),
        runs: plan.len(),
        scenario_metric: means[0],
        parameters: rows,
        skipped,
        design: design_json(&design, &ranges, &means[1..]),
    };
    let mut json_bytes = serde_json::to_vec_pretty(&json).expect("sensitivity.json serialises");
    json_bytes.push(b'\n');
    let mut files = write_files(out.dir, &[(SENSITIVITY_CSV, csv), (SENSITIVITY_JSON, json_bytes)])?;
    if out.charts {
        let charts = write_chart(&result.chart(), out.dir, SENSITIVITY_CHART)?;
        let page = super::sensitivity_page::sensitivity_page(&json);
        files.extend(charts.iter().cloned());
        files.extend(crate::report::study::write_study_report(&page, &charts, out.dir)?);
    }
    Ok(Done { files, text: result.text(&json) })
}

fn mean(values: &[Option<f64>]) -> Option<f64> {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
}

/// The scenario with every parameter at its level; a value the scenario refuses names the point.
fn load_point(base: &Base, ranges: &[Range], s: &crate::scenario::Scenario, levels: &[u32]) -> Result<Loaded> {
    let sets: Vec<String> =
        ranges.iter().zip(levels).map(|(r, &l)| r.assignment(s, r.value(morris::unit(l)))).collect();
    base.load(&sets).map_err(|e| match e {
        Error::Field { file, path, message } => {
            Error::Field { file, path, message: format!("{message} (at sensitivity point {})", sets.join(" ")) }
        }
        other => other,
    })
}

fn design_json(design: &[Trajectory], ranges: &[Range], means: &[Option<f64>]) -> Vec<DesignPoint> {
    let per_point = ranges.len() + 1;
    let mut out = Vec::new();
    for (t, traj) in design.iter().enumerate() {
        for (j, levels) in traj.points.iter().enumerate() {
            let values = ranges.iter().zip(levels).map(|(r, &l)| r.show(r.value(morris::unit(l)))).collect();
            let moved = j.checked_sub(1).map(|m| ranges[traj.moved[m]].parameter);
            out.push(DesignPoint { trajectory: t, point: j, moved, values, metric: means[t * per_point + j] });
        }
    }
    out
}

struct Screening<'a> {
    spec: &'a Spec<'a>,
    ranges: &'a [Range],
    effects: &'a [Effects],
    ranks: Vec<usize>,
}

impl Screening<'_> {
    /// Parameter indices, best rank first (ties in README's order).
    fn order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.ranges.len()).collect();
        order.sort_by_key(|&i| (self.ranks[i], i));
        order
    }

    fn rows(&self, s: &crate::scenario::Scenario) -> Vec<Row> {
        self.order()
            .into_iter()
            .map(|i| {
                let (r, e) = (&self.ranges[i], &self.effects[i]);
                Row {
                    rank: self.ranks[i],
                    parameter: r.parameter,
                    low: r.show(r.value(0.0)),
                    high: r.show(r.value(1.0)),
                    spread: r.spread,
                    scenario_value: r.current(s),
                    mu_star: e.mu_star,
                    mu: e.mu,
                    sigma: e.sigma,
                    elementary_effects: e.elementary.clone(),
                }
            })
            .collect()
    }

    fn csv(&self, rows: &[Row]) -> Vec<u8> {
        let header =
            ["rank", "parameter", "low", "high", "spread", "scenario_value", "mu_star", "mu", "sigma", "effects"];
        let header: Vec<String> = header.map(String::from).to_vec();
        let body = rows.iter().map(|r| {
            let spread = if r.spread == Spread::Log { "log" } else { "linear" };
            let effects = r.elementary_effects.iter().flatten().count();
            let fixed = [r.rank.to_string(), r.parameter.into(), r.low.clone(), r.high.clone(), spread.into()];
            let mut row: Vec<String> = fixed.into_iter().chain([r.scenario_value.clone()]).collect();
            row.extend([cell(r.mu_star), cell(r.mu), cell(r.sigma), effects.to_string()]);
            row
        });
        table::csv_bytes(&header, body)
    }

    /// μ* against σ, one colour for each of the three most influential parameters (the legend
    /// is one line), the rest in grey.
    fn chart(&self) -> Scatter {
        let colours = [palette::VERMILION, palette::BLUE, palette::GREEN];
        // Each dot's tooltip names the parameter, its range and its statistics.
        let point = |i: usize| {
            let (e, r) = (&self.effects[i], &self.ranges[i]);
            let (mu_star, sigma) = (e.mu_star?, e.sigma.unwrap_or(0.0));
            let shown = |v: Option<f64>| v.map_or("—".to_string(), super::constraint::short);
            let label = format!(
                "{}. {} ({} – {}): μ* {}, μ {}, σ {}",
                self.ranks[i],
                r.parameter,
                r.show(r.value(0.0)),
                r.show(r.value(1.0)),
                shown(e.mu_star),
                shown(e.mu),
                shown(e.sigma)
            );
            Some(((mu_star, sigma), label))
        };
        let order = self.order();
        let mut sets: Vec<PointSet> = order
            .iter()
            .take(colours.len())
            .zip(colours)
            .map(|(&i, c)| {
                let name = self.ranges[i].parameter.rsplit('.').next().unwrap_or_default();
                PointSet::labelled(format!("{}. {name}", self.ranks[i]), c, point(i))
            })
            .collect();
        let rest: Vec<((f64, f64), String)> = order.iter().skip(colours.len()).filter_map(|&i| point(i)).collect();
        if !rest.is_empty() {
            sets.push(PointSet::labelled("the others", palette::GREY, rest));
        }
        let unit = format!("change in {} over the range", self.spec.metric);
        Scatter::new(
            format!("Sensitivity of {} to the ASSUMED parameters (Morris)", self.spec.metric),
            Axis::linear(format!("μ*, mean |effect| ({unit})"), Bounds::FromZero),
            Axis::linear("σ of the effects", Bounds::FromZero),
            sets,
        )
    }

    /// The answer first: the ranking, most influential on top.
    fn text(&self, json: &SensitivityJson) -> String {
        let short = |v: Option<f64>| v.map_or("—".to_string(), super::constraint::short);
        let seeds = json.seeds.len();
        let mut text = format!(
            "sensitivity of {} to {} ASSUMED parameters: Morris, {} trajectories × {} points × {} seed{} + the scenario = {} runs\n",
            self.spec.metric,
            self.ranges.len(),
            self.spec.trajectories,
            self.ranges.len() + 1,
            seeds,
            if seeds == 1 { "" } else { "s" },
            json.runs
        );
        text.push_str(&format!("{} at the scenario's values: {}\n", self.spec.metric, short(json.scenario_metric)));
        text.push_str(&format!(
            "  {:<4} {:<38} {:<22} {:>14} {:>14} {:>14}\n",
            "rank", "parameter", "range", "μ*", "μ", "σ"
        ));
        for row in &json.parameters {
            let range = format!("{} – {}", row.low, row.high);
            text.push_str(&format!(
                "  {:<4} {:<38} {:<22} {:>14} {:>14} {:>14}\n",
                row.rank,
                row.parameter,
                range,
                short(row.mu_star),
                short(row.mu),
                short(row.sigma)
            ));
        }
        let skipped: Vec<&str> = json.skipped.iter().map(|s| s.parameter).collect();
        if !skipped.is_empty() {
            text.push_str(&format!("not varied (why: sensitivity.json): {}\n", skipped.join(", ")));
        }
        text.push_str(&format!(
            "μ*: the mean size of the change in {} from one end of a range to the other; a σ as large as μ* means the effect depends on the other parameters\n",
            self.spec.metric
        ));
        text
    }
}
