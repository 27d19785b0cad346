//! Capacity's `report.html`: the verdict first (the highest sustainable rate, what the next rate
//! missed, the limit that binds at the knee, the analytic limit and the margin, the SLOs), then a
//! chart of each SLO's metric against rate with the SLO and the knee drawn, then the per-rate
//! tables with the `why` column.

use super::capacity::{PointResult, RATE_METRICS, by_rate};
use super::charts::{COLOURS, metric_label, path_short, value_axis};
use super::constraint::Constraint;
use super::metrics::metric_names;
use super::pages::{config_label, metric_cell};
use super::record::RunRecord;
use super::stats::Stats;
use super::{Prepared, capacity::CapacitySpec};
use crate::error::Result;
use crate::human;
use crate::report::study::{StudyPage, Table};
use crate::report::{Axis, Bounds, Guide, PointSet, Scatter, palette, write_chart};
use std::path::{Path, PathBuf};

/// A rate for people: `2,679.7 records/s`.
pub fn rate_text(rate: f64) -> String {
    format!("{} records/s", human::decimal(rate, if rate.fract() == 0.0 { 0 } else { 1 }))
}

/// The chart file of an SLO's metric: `capacity-slo-lag-max_age_ms`.
pub fn slo_chart_stem(metric: &str) -> String {
    format!("capacity-slo-{}", metric.replace('.', "-"))
}

/// The SLOs' metrics, each once, in the order given.
fn slo_metrics(slos: &[Constraint]) -> Vec<usize> {
    let mut metrics: Vec<usize> = Vec::new();
    for c in slos {
        if !metrics.contains(&c.index) {
            metrics.push(c.index);
        }
    }
    metrics
}

/// The mean over seeds of `metric` at each rate a grid point ran, by increasing rate.
fn metric_by_rate(records: &[RunRecord], point: usize, metric: usize) -> Vec<(f64, Option<f64>)> {
    let rates = by_rate(records, point);
    rates
        .into_iter()
        .map(|(rate, runs)| (rate, Stats::of(runs.iter().map(|r| r.metrics[metric])).map(|s| s.mean)))
        .collect()
}

/// One chart per SLO metric: its mean over seeds against rate (a dot per rate run, named in its
/// tooltip), each SLO on it as a horizontal guide, each grid point's knee (its highest
/// sustainable rate) as a vertical guide with that rate's dot ringed.
pub(super) fn slo_charts(
    p: &Prepared,
    records: &[RunRecord],
    results: &[PointResult<'_>],
    slos: &[Constraint],
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let names = metric_names();
    let grid = &p.study.grid;
    let mut written = Vec::new();
    for metric in slo_metrics(slos) {
        let name = &names[metric];
        let mut sets = Vec::new();
        let mut knees = Vec::new();
        let mut guides: Vec<Guide> =
            slos.iter().filter(|c| c.index == metric).map(|c| Guide::horizontal(c.bound, format!("SLO {c}"))).collect();
        let mut all_values = Vec::new();
        for (point, result) in results.iter().enumerate().take(COLOURS.len()) {
            let view = result.view;
            let dots: Vec<((f64, f64), String)> = metric_by_rate(records, point, metric)
                .into_iter()
                .filter_map(|(rate, value)| {
                    let value = value?;
                    all_values.push(value);
                    let rp = view.iter().find(|rp| rp.rate == rate);
                    let verdict = match rp {
                        Some(rp) if rp.sustainable => "sustainable".to_string(),
                        Some(rp) => format!("not sustainable: {}", human::numbers_in(&rp.missed.join("; "))),
                        None => String::new(),
                    };
                    let label = format!("{}: {name} {}; {verdict}", rate_text(rate), metric_cell(name, Some(value)));
                    let label = if grid.dimensions.is_empty() {
                        label
                    } else {
                        format!("{}; {label}", config_label(grid, point))
                    };
                    if rate == result.search.lo {
                        knees.push(((rate, value), label.clone()));
                    }
                    Some(((rate, value), label))
                })
                .collect();
            let set_name = if grid.dimensions.is_empty() {
                "mean over seeds per rate".to_string()
            } else {
                let values = grid.paths().into_iter().zip(grid.values(point));
                values.map(|(p, v)| format!("{} {v}", path_short(p))).collect::<Vec<_>>().join(", ")
            };
            sets.push(PointSet::labelled(set_name, COLOURS[point], dots));
            if result.search.lo > 0.0 {
                let whose = if grid.dimensions.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", config_label(grid, point))
                };
                let colour = if results.len() == 1 { palette::GREEN } else { COLOURS[point] };
                let label = format!("knee: max sustainable {}{whose}", rate_text(result.search.lo));
                guides.push(Guide::vertical(result.search.lo, label).coloured(colour));
            }
        }
        if !knees.is_empty() {
            sets.push(PointSet::labelled("highest sustainable rate", palette::GREEN, knees).emphasised());
        }
        let label = metric_label(name);
        let chart = Scatter::new(
            format!("{name} against producer rate (mean over seeds)"),
            Axis::linear("total producer rate (records/s)", Bounds::FromZero),
            value_axis(&label, all_values),
            sets,
        )
        .with_guides(guides);
        written.extend(write_chart(&chart, dir, &slo_chart_stem(name))?);
    }
    Ok(written)
}

/// The verdict of one grid point, in sentences.
fn verdict(r: &PointResult<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    match (&r.binding, r.search.lo > 0.0) {
        (None, _) => lines.push(format!(
            "No rate tried was unsustainable: the highest tried, {}, kept up and met every SLO.",
            rate_text(r.search.lo)
        )),
        (Some(b), _) => {
            let missed = if b.missed.is_empty() {
                "kept up".to_string()
            } else {
                format!("missed {}", human::numbers_in(&b.missed.join("; ")))
            };
            let seconds = b.seconds.0.iter().find(|(l, _)| *l == b.limit).and_then(|(_, s)| s.as_f64());
            let held = seconds.map_or(String::new(), |s| format!(" for {} s after the warm-up", human::decimal(s, 0)));
            lines.push(format!(
                "At {} the run {missed}. The limit that binds at the knee: {}{held}.",
                rate_text(b.at_rate),
                b.limit
            ));
        }
    }
    if let Some(a) = &r.analytic {
        let peak = if a.peak_to_base > 1.0 {
            format!(
                " The schedule peaks at {}× the base rate, so the run sustained a peak of {}.",
                super::constraint::short(a.peak_to_base),
                rate_text(a.measured_records_per_second)
            )
        } else {
            String::new()
        };
        lines.push(format!(
            "Analytic limit: {} ({}, {}, set by {}).{peak} Measured against it: {:+.1} %.",
            rate_text(a.records_per_second),
            a.kind,
            a.formula,
            a.bound,
            a.margin_fraction * 100.0
        ));
        if a.margin_fraction > 0.0 {
            lines.push(
                "Above the analytic limit the lag grows too slowly for this run to show; the limit holds in the long run."
                    .into(),
            );
        }
    }
    lines
}

/// The per-rate table of one grid point: the rate-metric means, each SLO metric, and why.
fn rates_table(title: String, records: &[RunRecord], point: usize, r: &PointResult<'_>, slos: &[Constraint]) -> Table {
    let names = metric_names();
    let slo_metrics: Vec<usize> =
        slo_metrics(slos).into_iter().filter(|&m| !RATE_METRICS.iter().any(|(n, ..)| *n == names[m])).collect();
    let mut headers = vec!["rate (records/s)".to_string(), "sustainable".into()];
    headers.extend(["steady lag", "p99 latency", "peak concurrency", "cost/month"].map(String::from));
    headers.extend(slo_metrics.iter().map(|&m| names[m].clone()));
    headers.push("why".into());
    let mut table = Table::new(title, headers);
    let slo_values: Vec<Vec<(f64, Option<f64>)>> =
        slo_metrics.iter().map(|&m| metric_by_rate(records, point, m)).collect();
    for rp in r.view {
        let sustainable = match (rp.sustainable, rp.rate == r.search.lo) {
            (true, true) => "yes (the highest)",
            (true, false) => "yes",
            (false, _) => "no",
        };
        let mut row = vec![human::decimal(rp.rate, if rp.rate.fract() == 0.0 { 0 } else { 1 }), sustainable.into()];
        row.extend(RATE_METRICS.iter().zip(&rp.values).map(|((m, ..), v)| metric_cell(m, *v)));
        for (values, &m) in slo_values.iter().zip(&slo_metrics) {
            let v = values.iter().find(|(rate, _)| *rate == rp.rate).and_then(|(_, v)| *v);
            row.push(metric_cell(&names[m], v));
        }
        row.push(if rp.missed.is_empty() { "–".into() } else { human::numbers_in(&rp.missed.join("; ")) });
        table.rows.push(row);
    }
    table
}

/// Capacity's page; `order` lists the grid points, the one with the highest rate first.
pub(super) fn capacity_page(
    p: &Prepared,
    spec: &CapacitySpec,
    records: &[RunRecord],
    results: &[PointResult<'_>],
    order: &[usize],
) -> StudyPage {
    let grid = &p.study.grid;
    let slos: Vec<Constraint> = spec.constraints().unwrap_or_default();
    let slo_text = if slos.is_empty() {
        "(no SLOs)".to_string()
    } else {
        slos.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    };
    let best = order[0];
    let top = &results[best];
    let whose =
        if grid.dimensions.is_empty() { String::new() } else { format!(" (with {})", config_label(grid, best)) };
    let mut answer = vec![format!("Max sustainable rate: {}{whose}.", rate_text(top.search.lo))];
    answer.push(format!("Sustainable means the lag does not grow after the warm-up and every SLO is met: {slo_text}."));
    answer.extend(verdict(top));
    let mut tables = Vec::new();
    if results.len() > 1 {
        let mut headers: Vec<String> = grid.paths().into_iter().map(path_short).collect();
        headers.extend(
            ["max sustainable (records/s)", "binding limit", "analytic limit (records/s)", "margin"].map(String::from),
        );
        let mut summary = Table::new("Configurations, highest sustainable rate first", headers);
        for &i in order {
            let r = &results[i];
            let mut row: Vec<String> = grid.values(i).into_iter().map(String::from).collect();
            row.push(human::decimal(r.search.lo, 1));
            row.push(r.binding.as_ref().map_or("–".into(), |b| b.limit.clone()));
            row.push(r.analytic.as_ref().map_or("–".into(), |a| human::decimal(a.records_per_second, 1)));
            row.push(r.analytic.as_ref().map_or("–".into(), |a| format!("{:+.1}%", a.margin_fraction * 100.0)));
            summary.rows.push(row);
        }
        tables.push(summary);
    }
    for &i in order {
        let title = if grid.dimensions.is_empty() {
            "Every rate run (means over seeds)".to_string()
        } else {
            format!("Rates of {} (means over seeds)", config_label(grid, i))
        };
        tables.push(rates_table(title, records, i, &results[i], &slos));
    }
    let runs = records.len();
    StudyPage {
        title: format!("Capacity: {}", p.points.first().map_or("", |l| l.scenario.name.as_str())),
        meta: format!(
            "{runs} runs: {} --rates values and the bisection × {} seed{} per configuration · esmsim {}",
            spec.rates.len(),
            p.study.seeds,
            if p.study.seeds == 1 { "" } else { "s" },
            env!("CARGO_PKG_VERSION")
        ),
        answer,
        commands: None,
        tables,
        notes: vec![
            "A rate is sustainable when every seed's run is; the bisection stops within 1 % of the lowest unsustainable rate.".into(),
            "On the SLO charts the dashed orange-red line is the SLO, the dashed green line the knee (the highest sustainable rate, its dot ringed); hover over a dot for its rate and verdict.".into(),
            "capacity.csv has every run with its why; capacity.json the binding limit's seconds per limit and every analytic cap.".into(),
        ],
    }
}
