//! `--observed cloudwatch.csv --traffic FILE`: fit the ASSUMED autoscaling parameters by
//! searching simulated runs against an observed `OffsetLag` series.
//!
//! The scenario is replayed under the traffic the observation was made under (its one producer
//! takes `rate_from` = the traffic file), for the observation's span, with CloudWatch periods of
//! the observation's period, so simulated period `i` is observed row `i` (both start when the
//! traffic does). Every candidate of a grid over the parameters runs with the same seeds, in
//! parallel on the study machinery; results are gathered in grid order, so the output does not
//! depend on `--jobs`.
//!
//! The error is the RMSE, in records, between the observed `OffsetLag_Maximum` and the simulated
//! one (averaged over the seeds) over the periods where both have a value; NRMSE (RMSE / mean
//! observed) is printed for scale. Candidates are ranked by RMSE, ties in grid order.

use super::observation::Observation;
use crate::error::{Error, Result};
use crate::report::charts::{LineChart, Series};
use crate::report::{Axis, Bounds, palette};
use crate::scenario::{Dur, ScalingMode, Scenario};
use crate::sweep::grid::{Dimension, Grid};
use crate::sweep::{Base, Done, Execution, Kind, Output, Prepared, Study, assumed, run};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Levels per fitted parameter unless `--levels` says otherwise: 4 × 4 × 4 = 64 runs per seed.
pub const DEFAULT_LEVELS: usize = 4;
const LEVELS: std::ops::RangeInclusive<usize> = 2..=10;

/// Candidates printed in the ranked table (every one is in `candidates.csv`).
const SHOWN: usize = 5;

/// Within this fraction of the best RMSE, candidates are called indistinguishable.
const TIE_FRACTION: f64 = 0.01;

/// What `calibrate --observed` was asked.
#[derive(Clone, Debug)]
pub struct Spec {
    pub traffic: PathBuf,
    /// Levels per default parameter, spread over its plausible range.
    pub levels: usize,
    /// `--grid PATH=V1,V2,...`: a parameter's candidates instead of the default levels, or one more
    /// parameter.
    pub grids: Vec<String>,
    pub seeds: u32,
}

/// The ASSUMED autoscaling parameters fitted by default, by scaling mode.
pub fn fitted_parameters(mode: ScalingMode) -> &'static [&'static str] {
    match mode {
        ScalingMode::OnDemand => {
            &["esm.scaling.initial_pollers", "esm.scaling.scale_up_lag_per_poller", "esm.scaling.scale_delay"]
        }
        ScalingMode::Provisioned => {
            &["esm.scaling.scale_up_lag_per_poller", "esm.scaling.scale_delay", "esm.scaling.evaluation_interval"]
        }
        ScalingMode::ParallelizationFactor => &[],
    }
}

/// The search, checked: every candidate's scenario parsed and validated.
pub fn prepare(scenario: &Path, sets: &[String], spec: &Spec, observation: &Observation) -> Result<Prepared> {
    if !LEVELS.contains(&spec.levels) {
        let message = format!("{} is out of range; allowed: {} to {}", spec.levels, LEVELS.start(), LEVELS.end());
        return Err(Error::Argument { argument: "--levels".into(), message });
    }
    let given = Base::read(scenario, sets)?.load(&[])?.scenario;
    if given.producers.len() != 1 {
        let message = format!(
            "replaces the one producer's rate, but {} has {} producers; keep one (or --set the others' rate to 0 and \
             merge them)",
            scenario.display(),
            given.producers.len()
        );
        return Err(Error::Argument { argument: "--traffic".into(), message });
    }
    if given.esm.scaling.mode == ScalingMode::ParallelizationFactor {
        return Err(Error::field(
            scenario,
            "esm.scaling.mode",
            "parallelization_factor has no autoscaling to fit; allowed with --observed: on_demand, provisioned",
        ));
    }
    let mut replay = sets.to_vec();
    replay.extend(replay_sets(&spec.traffic, observation)?);
    let base = Base::read(scenario, &replay)?;
    let s = base.load(&[])?.scenario;
    let grid = candidates(&s, spec)?;
    Prepared::new(Study { kind: Kind::Sweep, base, grid, seeds: spec.seeds })
}

/// The `--set`s that replay the observation: the traffic as the producer's `rate_from`, the
/// observation's span as the run and its period as CloudWatch's.
fn replay_sets(traffic: &Path, observation: &Observation) -> Result<Vec<String>> {
    let absolute = std::path::absolute(traffic).map_err(|source| Error::Read { file: traffic.into(), source })?;
    let kind = if traffic.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) { "cloudwatch" } else { "csv" };
    let name = absolute.to_str().ok_or_else(|| Error::Argument {
        argument: "--traffic".into(),
        message: format!("{} is not valid UTF-8; rename it", traffic.display()),
    })?;
    Ok(vec![
        "producers.0.rate=null".into(),
        "producers.0.schedule=[]".into(),
        format!("producers.0.rate_from={}", json!({ kind: name })),
        format!("duration={}", Dur(observation.span_ns())),
        format!("cloudwatch_period={}", Dur(observation.period_ns)),
        // The whole observation is compared; a warm-up longer than it would not validate.
        "warmup=null".into(),
    ])
}

/// The default levels of the mode's parameters, with `--grid` replacing or adding dimensions.
fn candidates(s: &Scenario, spec: &Spec) -> Result<Grid> {
    let (ranges, _) = assumed::ranges(s);
    let mut dimensions: Vec<Dimension> = fitted_parameters(s.esm.scaling.mode)
        .iter()
        .filter_map(|&path| ranges.iter().find(|r| r.parameter == path))
        .map(|range| {
            let mut values: Vec<String> = vec![];
            for k in 0..spec.levels {
                let shown = range.level(k as f64 / (spec.levels - 1) as f64);
                if !values.contains(&shown) {
                    values.push(shown);
                }
            }
            Dimension { path: range.parameter.to_string(), values }
        })
        .collect();
    for given in Grid::parse(&spec.grids)?.dimensions {
        match dimensions.iter_mut().find(|d| d.path == given.path) {
            Some(d) => *d = given,
            None => dimensions.push(given),
        }
    }
    Ok(Grid { dimensions })
}

/// One candidate's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Its index in the grid.
    pub point: usize,
    /// `(path, value)` per parameter, as `--set` takes them.
    pub parameters: Vec<(String, String)>,
    pub rmse: Option<f64>,
    pub nrmse: Option<f64>,
    /// The simulated `OffsetLag_Maximum` per period, averaged over the seeds.
    pub simulated: Vec<Option<f64>>,
}

/// The search's answer: candidates best first.
#[derive(Clone, Debug)]
pub struct Calibration {
    pub observation: Observation,
    pub parameters: Vec<String>,
    pub ranked: Vec<Candidate>,
    pub seeds: u32,
}

/// Runs every candidate with every seed and ranks them.
pub fn search(p: &Prepared, observation: &Observation, exec: &Execution) -> Result<Calibration> {
    // Grid point, then seed: the order results are gathered in.
    let plan = crate::sweep::plan(p);
    let series = exec.map(&plan, |planned| {
        run::simulate(&p.points[planned.point].config, planned.seed, exec)
            .map(|report| {
                let periods = &report.cloudwatch.periods;
                (0..observation.offset_lag.len())
                    .map(|i| periods.get(i).and_then(|p| p.offset_lag_max).map(|v| v as f64))
                    .collect::<Vec<_>>()
            })
            .map_err(|stopped| run::stopped_error(p, planned, &stopped))
    });
    let series = series.into_iter().collect::<Result<Vec<_>>>()?;
    let seeds = p.study.seeds as usize;
    let mut ranked: Vec<Candidate> = series
        .chunks(seeds)
        .enumerate()
        .map(|(point, runs)| {
            let simulated = mean_series(runs);
            let (rmse, nrmse) = error(&observation.offset_lag, &simulated);
            let grid = &p.study.grid;
            let parameters =
                grid.paths().into_iter().zip(grid.values(point)).map(|(a, v)| (a.to_string(), v.to_string()));
            let parameters = parameters.collect();
            Candidate { point, parameters, rmse, nrmse, simulated }
        })
        .collect();
    ranked.sort_by(|a, b| match (a.rmse, b.rmse) {
        (Some(x), Some(y)) => x.total_cmp(&y).then(a.point.cmp(&b.point)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.point.cmp(&b.point),
    });
    if ranked.first().is_none_or(|c| c.rmse.is_none()) {
        return Err(Error::field(
            &observation.file,
            "(data)",
            "no simulated period has a sample where the observation has a datapoint; check the period and the traffic",
        ));
    }
    let parameters = p.study.grid.paths().iter().map(|s| s.to_string()).collect();
    Ok(Calibration { observation: observation.clone(), parameters, ranked, seeds: p.study.seeds })
}

/// Per period, the mean over the seeds' runs; `None` unless every run has a sample in it.
fn mean_series(runs: &[Vec<Option<f64>>]) -> Vec<Option<f64>> {
    let periods = runs.first().map_or(0, Vec::len);
    (0..periods)
        .map(|i| {
            let values: Option<Vec<f64>> = runs.iter().map(|r| r[i]).collect();
            values.map(|v| v.iter().sum::<f64>() / v.len() as f64)
        })
        .collect()
}

/// RMSE over the periods where both series have a value, and NRMSE (RMSE / mean observed over
/// those periods; `None` when that mean is 0).
pub fn error(observed: &[Option<f64>], simulated: &[Option<f64>]) -> (Option<f64>, Option<f64>) {
    let pairs: Vec<(f64, f64)> = observed.iter().zip(simulated).filter_map(|(o, s)| Some(((*o)?, (*s)?))).collect();
    if pairs.is_empty() {
        return (None, None);
    }
    let n = pairs.len() as f64;
    let rmse = (pairs.iter().map(|(o, s)| (s - o).powi(2)).sum::<f64>() / n).sqrt();
    let mean = pairs.iter().map(|(o, _)| o).sum::<f64>() / n;
    (Some(rmse), (mean > 0.0).then(|| rmse / mean))
}

impl Calibration {
    pub fn best(&self) -> &Candidate {
        &self.ranked[0]
    }

    /// The best candidate's values as a scenario patch (JSON to merge).
    pub fn patch(&self) -> Value {
        let mut patch = json!({});
        for line in self.set_lines() {
            // Paths come from the grid, which every candidate's scenario accepted.
            let _ = crate::scenario::apply_set(&mut patch, &line);
        }
        patch
    }

    /// The best candidate's values as `--set` arguments.
    pub fn set_lines(&self) -> Vec<String> {
        self.best().parameters.iter().map(|(path, value)| format!("{path}={value}")).collect()
    }

    /// Candidates within [`TIE_FRACTION`] of the best RMSE, the best included.
    pub fn indistinguishable(&self) -> usize {
        let best = self.best().rmse.unwrap_or(0.0);
        self.ranked.iter().filter(|c| c.rmse.is_some_and(|e| e <= best * (1.0 + TIE_FRACTION))).count()
    }

    fn table(&self, rows: usize) -> crate::report::study::Table {
        let mut headers = vec!["rank".to_string()];
        headers.extend(self.parameters.iter().cloned());
        headers.extend(["rmse_records".to_string(), "nrmse".to_string()]);
        let mut table = crate::report::study::Table::new("candidates, best first", headers);
        let number = |v: Option<f64>, decimals: usize| v.map_or(String::new(), |v| format!("{v:.decimals$}"));
        for (rank, c) in self.ranked.iter().take(rows).enumerate() {
            let mut row = vec![(rank + 1).to_string()];
            row.extend(c.parameters.iter().map(|(_, v)| v.clone()));
            row.extend([number(c.rmse, 1), number(c.nrmse, 4)]);
            table.rows.push(row);
        }
        table
    }

    /// What people read: the search, the ranked best few, the error and the patch.
    pub fn report(&self) -> String {
        let o = &self.observation;
        let runs = self.ranked.len() * self.seeds as usize;
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let mut text = format!(
            "searched {} × {} = {} against {} OffsetLag datapoints ({} periods)\n",
            plural(self.ranked.len(), "candidate"),
            plural(self.seeds as usize, "seed"),
            plural(runs, "run"),
            o.datapoints(),
            Dur(o.period_ns),
        );
        text += "error: RMSE of OffsetLag_Maximum per period, in records (NRMSE = RMSE / mean observed)\n";
        text += &self.table(SHOWN).to_text();
        let best = self.best();
        let nrmse = best.nrmse.map_or(String::new(), |n| format!(" (NRMSE {n:.4})"));
        text += &format!("best: RMSE {:.1} records{nrmse}\n", best.rmse.unwrap_or(f64::NAN));
        let ties = self.indistinguishable();
        if ties > 1 {
            text += &format!(
                "note: {ties} candidates are within 1 % of the best: the observation cannot tell them apart; \
                 the first in grid order is reported\n"
            );
        }
        text += "patch (--set):\n";
        for line in self.set_lines() {
            text += &format!("  --set '{line}'\n");
        }
        text
    }

    /// `calibration.json`: the search, the best candidate, the patch and every candidate ranked.
    fn json(&self) -> Value {
        let best = self.best();
        let candidates: Vec<Value> = self
            .ranked
            .iter()
            .map(|c| {
                let values: serde_json::Map<String, Value> =
                    c.parameters.iter().map(|(p, v)| (p.clone(), json!(v))).collect();
                json!({ "parameters": values, "rmse_records": c.rmse, "nrmse": c.nrmse })
            })
            .collect();
        json!({
            "observed": self.observation.file,
            "period_s": self.observation.period_ns / crate::engine::NS_PER_SEC,
            "datapoints": self.observation.datapoints(),
            "error": "rmse_records: root mean square of simulated minus observed OffsetLag_Maximum per period; nrmse: rmse / mean observed",
            "seeds": self.seeds,
            "best": { "rmse_records": best.rmse, "nrmse": best.nrmse, "indistinguishable": self.indistinguishable() },
            "patch": self.patch(),
            "set": self.set_lines(),
            "candidates": candidates,
        })
    }

    /// Observed and best simulated lag per period.
    fn series_csv(&self) -> Vec<u8> {
        let cell = |v: Option<f64>| v.map_or(String::new(), crate::sweep::constraint::short);
        let mut text = "time_s,observed_offset_lag,simulated_offset_lag\n".to_string();
        let period_s = self.observation.period_ns / crate::engine::NS_PER_SEC;
        for (i, (o, s)) in self.observation.offset_lag.iter().zip(&self.best().simulated).enumerate() {
            text += &format!("{},{},{}\n", i as u64 * period_s, cell(*o), cell(*s));
        }
        text.into_bytes()
    }

    /// Observed against the best candidate's simulated lag, in minutes.
    pub fn chart(&self) -> LineChart {
        let minutes = |i: usize| i as f64 * self.observation.period_ns as f64 / 60e9;
        let observed = self.observation.offset_lag.iter().enumerate().map(|(i, v)| (minutes(i), *v));
        let simulated = self.best().simulated.iter().enumerate().map(|(i, v)| (minutes(i), *v));
        LineChart::new(
            "OffsetLag: observed and the best fit",
            Axis::linear("time (min)", Bounds::Data),
            Axis::linear("OffsetLag, maximum per period (records)", Bounds::FromZero),
            vec![
                Series::with_gaps("observed", palette::BLACK, observed),
                Series::with_gaps("simulated (best fit)", palette::ORANGE, simulated).dashed(),
            ],
        )
    }
}

/// The files of `calibrate --observed`.
pub const FILES: [&str; 4] = ["calibration.json", "candidates.csv", "patch.json", "offset_lag_fit.csv"];

/// Writes the files (and the chart, unless `out.charts` is false) into `out.dir`.
pub fn write(c: &Calibration, out: Output) -> Result<Done> {
    let pretty = |v: &Value| serde_json::to_vec_pretty(v).expect("a JSON value serialises").into_iter().chain(*b"\n");
    let table = c.table(c.ranked.len());
    let csv = crate::sweep::table::csv_bytes(&table.headers, table.rows.iter().cloned());
    let files = [
        (FILES[0], pretty(&c.json()).collect()),
        (FILES[1], csv),
        (FILES[2], pretty(&c.patch()).collect()),
        (FILES[3], c.series_csv()),
    ];
    let mut written = crate::output::write_files(out.dir, &files)?;
    if out.charts {
        written.extend(crate::report::write_chart(&c.chart(), out.dir, "offset_lag_fit")?);
    }
    Ok(Done { files: written, text: c.report() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_pairs_periods_where_both_have_a_value() {
        // Pairs (10, 13) and (20, 16): squares 9 and 16, mean 12.5, RMSE √12.5 = 3.5355; the mean
        // observed over those periods is 15, so NRMSE = 3.5355 / 15 = 0.2357.
        let observed = [Some(10.0), None, Some(30.0), Some(20.0)];
        let simulated = [Some(13.0), Some(5.0), None, Some(16.0)];
        let (rmse, nrmse) = error(&observed, &simulated);
        assert!((rmse.unwrap() - 12.5f64.sqrt()).abs() < 1e-12);
        assert!((nrmse.unwrap() - 12.5f64.sqrt() / 15.0).abs() < 1e-12);
        assert_eq!(error(&[Some(1.0), None], &[None, Some(2.0)]), (None, None));
        // Zero observed lag: RMSE 2, no NRMSE.
        assert_eq!(error(&[Some(0.0)], &[Some(2.0)]), (Some(2.0), None));
        // The mean of two seeds, and a gap where one seed has no sample.
        assert_eq!(mean_series(&[vec![Some(1.0), Some(4.0)], vec![Some(3.0), None]]), vec![Some(2.0), None]);
    }

    #[test]
    fn default_levels_spread_over_the_plausible_ranges_and_grids_replace_or_add() {
        let text = r#"{"name": "s", "topic": {"partitions": 8}, "producers": [{"rate": 100}],
          "esm": {"scaling": {"mode": "on_demand"}}}"#;
        let s = crate::scenario::parse_scenario(Path::new("s.json"), text, &[]).unwrap().scenario;
        let spec = |grids: &[&str]| Spec {
            traffic: PathBuf::from("t.csv"),
            levels: 4,
            grids: grids.iter().map(|g| g.to_string()).collect(),
            seeds: 1,
        };
        // Four levels at fractions 0, 1/3, 2/3, 1 of each range (README's range table):
        // initial_pollers 1 – 5 linear: 1, 2.33 → 2, 3.67 → 4, 5;
        // scale_up_lag_per_poller 100 – 10,000 log: 100, 100 × 100^(1/3) = 464.2 → 464, 2154.4 → 2154, 10000;
        // scale_delay 30 s – 180 s linear: 30 s, 80 s, 130 s, 180 s.
        let grid = candidates(&s, &spec(&[])).unwrap();
        let values: Vec<(&str, Vec<&str>)> =
            grid.dimensions.iter().map(|d| (d.path.as_str(), d.values.iter().map(String::as_str).collect())).collect();
        assert_eq!(
            values,
            vec![
                ("esm.scaling.initial_pollers", vec!["1", "2", "4", "5"]),
                ("esm.scaling.scale_up_lag_per_poller", vec!["100", "464", "2154", "10000"]),
                ("esm.scaling.scale_delay", vec!["30s", "80s", "130s", "3m"]),
            ]
        );
        let grid =
            candidates(&s, &spec(&["esm.scaling.scale_delay=1m,2m", "esm.scaling.rebalance_pause=1s,5s"])).unwrap();
        assert_eq!(grid.dimensions[2].values, ["1m", "2m"]);
        assert_eq!(grid.dimensions[3].path, "esm.scaling.rebalance_pause");
        assert_eq!(grid.len(), 4 * 4 * 2 * 2);
    }
}
