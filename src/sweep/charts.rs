//! Charts of sweeps, tuning and capacity, drawn with the `report` primitives: a heatmap per key
//! metric on 2-D grids, lines on 1-D grids, a cost against p99 latency Pareto chart, tune's
//! Pareto chart and capacity's metrics against rate with the breaking point marked.

use super::capacity::{RATE_METRICS, RatePoint};
use super::grid::Grid;
use super::metrics::metric_names;
use super::pages;
use super::summary::PointStats;
use super::tune::{Elimination, Goal};
use crate::engine::{NS_PER_SEC, parse_duration};
use crate::error::Result;
use crate::report::{Axis, Bounds, Guide, HeatMap, LineChart, PointSet, Scatter, Series, palette, write_chart};
use plotters::style::RGBColor;
use std::path::{Path, PathBuf};

/// The metrics a sweep charts: (column, file stem, title, axis label with unit).
const KEY_METRICS: [(&str, &str, &str, &str); 4] = [
    ("latency_ms.p99", "sweep-latency", "p99 latency", "p99 latency (ms)"),
    ("cost_usd.per_month", "sweep-cost", "Cost per month", "USD per month"),
    ("lag.max_records", "sweep-lag", "Maximum lag", "lag (records)"),
    ("concurrency.peak", "sweep-concurrency", "Peak concurrency", "concurrent executions"),
];

pub(super) const COLOURS: [RGBColor; 6] =
    [palette::BLUE, palette::ORANGE, palette::GREEN, palette::VERMILION, palette::PURPLE, palette::SKY];

/// An axis label for a scenario path.
pub fn path_label(path: &str) -> String {
    match path {
        "esm.batch_size" => "batch size (records)".into(),
        "esm.batching_window" => "batching window".into(),
        "function.memory_mb" => "memory (MB)".into(),
        "esm.scaling.min_pollers" => "minimum pollers".into(),
        "esm.scaling.max_pollers" => "maximum pollers".into(),
        "esm.scaling.factor" => "parallelization factor".into(),
        "topic.partitions" => "partitions".into(),
        other => other.into(),
    }
}

/// An axis label for a metric column, with its unit.
pub fn metric_label(name: &str) -> String {
    match name {
        "cost_usd.per_month" => "cost (USD per month)".into(),
        "cost_usd.total" => "cost of the run (USD)".into(),
        "cost_usd.per_million_records" => "cost (USD per million records)".into(),
        "latency_ms.p50" | "latency_ms.p90" | "latency_ms.p99" | "latency_ms.max" => {
            format!("{} latency (ms)", name.trim_start_matches("latency_ms."))
        }
        "lag.max_records" => "maximum lag (records)".into(),
        "lag.max_age_ms" => "oldest unprocessed record's age (ms)".into(),
        "concurrency.peak" => "peak concurrency".into(),
        "throughput.mean_records_per_second" => "throughput (records/s)".into(),
        other => other.into(),
    }
}

/// A rate for a legend: whole records per second with thousands separators.
fn rate_label(rate: f64) -> String {
    let digits = format!("{:.0}", rate.max(0.0));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped} records/s")
}

/// A short name for a scenario path, for legends: `batch size`, `window`, else its last segment.
pub fn path_short(path: &str) -> String {
    match path {
        "esm.batch_size" => "batch size".into(),
        "esm.batching_window" => "window".into(),
        "function.memory_mb" => "memory MB".into(),
        "esm.scaling.min_pollers" => "min pollers".into(),
        other => other.rsplit('.').next().unwrap_or(other).into(),
    }
}

fn metric(name: &str) -> usize {
    metric_names().iter().position(|n| n == name).expect("a known metric")
}

/// A value axis: logarithmic when positive values span at least a factor of 20, so a few
/// extreme points do not flatten the rest.
pub(super) fn value_axis(label: &str, values: impl IntoIterator<Item = f64>) -> Axis {
    let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if lo > 0.0 && hi / lo >= 20.0 {
        Axis::log(format!("{label}, log scale"))
    } else {
        Axis::linear(label, Bounds::FromZero)
    }
}

/// Grid values as numbers (durations in seconds), if all of them are.
fn numeric(values: &[String]) -> Option<(Vec<f64>, bool)> {
    if let Ok(numbers) = values.iter().map(|v| v.parse::<f64>()).collect::<Result<Vec<f64>, _>>() {
        return Some((numbers, false));
    }
    let seconds = values.iter().map(|v| parse_duration(v).map(|ns| ns as f64 / NS_PER_SEC as f64));
    seconds.collect::<Result<Vec<f64>, _>>().ok().map(|s| (s, true))
}

/// The sweep's charts: heatmaps (2-D) or lines (1-D) of the key metrics, and the Pareto chart.
pub fn sweep_charts(grid: &Grid, points: &[PointStats], dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let seeds = points.iter().map(|p| p.runs).max().unwrap_or(0);
    for &(name, stem, title, label) in &KEY_METRICS {
        let m = metric(name);
        let title = format!("{title}: mean over {seeds} seed{} per grid point", if seeds == 1 { "" } else { "s" });
        written.extend(match grid.dimensions.len() {
            1 => match numeric(&grid.dimensions[0].values) {
                Some((xs, seconds)) => line(grid, points, m, (&title, label), (&xs, seconds), dir, stem)?,
                None => heatmap(grid, points, m, (&title, label), dir, stem)?,
            },
            2 => heatmap(grid, points, m, (&title, label), dir, stem)?,
            _ => Vec::new(),
        });
    }
    written.extend(pareto(grid, points, dir)?);
    Ok(written)
}

fn heatmap(
    grid: &Grid,
    points: &[PointStats],
    m: usize,
    text: (&str, &str),
    dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>> {
    let x = &grid.dimensions[0];
    let (y_label, y_values) = match grid.dimensions.get(1) {
        Some(y) => (path_label(&y.path), y.values.clone()),
        None => (String::new(), vec![String::new()]),
    };
    let axis = value_axis(text.1, points.iter().filter_map(|p| p.mean(m)));
    let mut map = HeatMap::new(text.0, (&path_label(&x.path), x.values.clone()), (&y_label, y_values), axis);
    for ps in points {
        let c = grid.coordinates(ps.point);
        if let Some(v) = ps.mean(m) {
            map.set(c[0], c.get(1).copied().unwrap_or(0), v);
        }
    }
    write_chart(&map, dir, stem)
}

fn line(
    grid: &Grid,
    points: &[PointStats],
    m: usize,
    (title, label): (&str, &str),
    (xs, seconds): (&[f64], bool),
    dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>> {
    let path = &grid.dimensions[0].path;
    let x_label = if seconds { format!("{} (s)", path_label(path)) } else { path_label(path) };
    let (lo, hi) = xs.iter().fold((f64::INFINITY, 0f64), |(a, b), &v| (a.min(v), b.max(v)));
    let x_axis = if lo > 0.0 && hi / lo >= 100.0 {
        Axis::log(format!("{x_label}, log scale"))
    } else {
        Axis::linear(x_label, Bounds::Data)
    };
    let pick = |f: &dyn Fn(&PointStats) -> Option<f64>| -> Vec<(f64, Option<f64>)> {
        points.iter().map(|ps| (xs[ps.point], f(ps))).collect()
    };
    let mean = pick(&|ps| ps.mean(m));
    let y_axis = value_axis(label, points.iter().flat_map(|ps| ps.metrics[m].map(|s| [s.min, s.max])).flatten());
    let mut series = vec![Series::with_gaps("mean", palette::BLUE, mean)];
    if points.iter().any(|p| p.runs > 1) {
        series.push(
            Series::with_gaps("min over seeds", palette::GREEN, pick(&|ps| ps.metrics[m].map(|s| s.min))).dashed(),
        );
        series.push(
            Series::with_gaps("max over seeds", palette::VERMILION, pick(&|ps| ps.metrics[m].map(|s| s.max))).dashed(),
        );
    }
    write_chart(&LineChart::new(title, x_axis, y_axis, series), dir, stem)
}

/// Cost per month against p99 latency, one dot per grid point (coloured by the first grid
/// dimension when it has at most six values), with the Pareto front.
fn pareto(grid: &Grid, points: &[PointStats], dir: &Path) -> Result<Vec<PathBuf>> {
    let (cost, p99) = (metric("cost_usd.per_month"), metric("latency_ms.p99"));
    // Each dot's tooltip names its configuration.
    let xy = |ps: &PointStats| Some(((ps.mean(cost)?, ps.mean(p99)?), pages::tooltip(grid, ps)));
    let sets = match grid.dimensions.first() {
        Some(d) if d.values.len() <= COLOURS.len() && grid.dimensions.len() > 1 => (0..d.values.len())
            .map(|v| {
                let mine = points.iter().filter(|ps| grid.coordinates(ps.point)[0] == v).filter_map(xy);
                PointSet::labelled(format!("{} {}", path_short(&d.path), d.values[v]), COLOURS[v], mine)
            })
            .collect(),
        _ => vec![PointSet::labelled("grid points", palette::BLUE, points.iter().filter_map(xy))],
    };
    let y = value_axis("p99 latency (ms)", points.iter().filter_map(|ps| ps.mean(p99)));
    let chart = Scatter::new(
        "Cost against p99 latency (mean over seeds per grid point)",
        Axis::linear("cost (USD per month)", Bounds::FromZero),
        y,
        sets,
    )
    .with_pareto_front();
    write_chart(&chart, dir, "sweep-pareto")
}

/// Tune's chart: the objective against the first constrained metric (or p99 latency), each
/// grid point coloured by its outcome and named in its tooltip, the best ringed, every
/// constraint on either axis's metric drawn as a guide line, with the Pareto front.
pub fn tune_chart(
    grid: &Grid,
    goal: &Goal,
    stats: &[PointStats],
    feasible: &[usize],
    eliminated: &[Option<Elimination>],
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let names = metric_names();
    let x = goal.objective;
    let fallback = [metric("latency_ms.p99"), metric("cost_usd.per_month")];
    let y = goal.constraints.iter().map(|c| c.index).chain(fallback).find(|&i| i != x).unwrap_or(x);
    let xy = |ps: &PointStats| Some(((ps.mean(x)?, ps.mean(y)?), pages::tooltip(grid, ps)));
    let group =
        |keep: &dyn Fn(usize) -> bool| stats.iter().filter(|ps| keep(ps.point)).filter_map(xy).collect::<Vec<_>>();
    let best = feasible.first().copied();
    let sets = vec![
        PointSet::labelled("dropped early by halving (fewer seeds)", palette::SKY, group(&|i| eliminated[i].is_some())),
        PointSet::labelled(
            "infeasible",
            palette::ORANGE,
            group(&|i| eliminated[i].is_none() && !feasible.contains(&i)),
        ),
        PointSet::labelled("feasible", palette::BLUE, group(&|i| feasible.contains(&i) && Some(i) != best)),
        PointSet::labelled("best", palette::VERMILION, group(&|i| Some(i) == best)).emphasised(),
    ];
    let sets = sets.into_iter().filter(|s| !s.points.is_empty()).collect();
    let subject: Vec<String> = goal.constraints.iter().map(ToString::to_string).collect();
    let subject = if subject.is_empty() { String::new() } else { format!(" with {}", subject.join(", ")) };
    // The title names the search; the legend and axes carry the rest, so it stays one line.
    let title = format!("Minimise {}{subject}", names[x]);
    let guides = goal
        .constraints
        .iter()
        .filter_map(|c| {
            let label = format!("constraint {c}");
            if c.index == y {
                Some(Guide::horizontal(c.bound, label))
            } else if c.index == x {
                Some(Guide::vertical(c.bound, label))
            } else {
                None
            }
        })
        .collect();
    let chart = Scatter::new(
        title,
        value_axis(&metric_label(&names[x]), stats.iter().filter_map(|ps| ps.mean(x))),
        value_axis(&metric_label(&names[y]), stats.iter().filter_map(|ps| ps.mean(y))),
        sets,
    )
    .with_pareto_front()
    .with_guides(guides);
    write_chart(&chart, dir, "tune-pareto")
}

/// One chart per rate metric: a line per grid point against rate, the breaking point dashed.
pub fn capacity_charts(grid: &Grid, views: &[Vec<RatePoint>], limits: &[f64], dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (i, &(_, stem, title, label)) in RATE_METRICS.iter().enumerate() {
        let values = views.iter().flatten().filter_map(|rp| rp.values[i]);
        let y_axis = value_axis(label, values.clone());
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let floor = if matches!(y_axis.scale, crate::report::Scale::Log) { lo } else { lo.min(0.0) };
        let mut series = Vec::new();
        for (point, view) in views.iter().enumerate().take(COLOURS.len()) {
            let colour = COLOURS[point % COLOURS.len()];
            let name = if grid.dimensions.is_empty() {
                "mean over seeds".to_string()
            } else {
                let values = grid.paths().into_iter().zip(grid.values(point));
                values.map(|(p, v)| format!("{} {v}", path_short(p))).collect::<Vec<_>>().join(", ")
            };
            series.push(Series::with_gaps(name, colour, view.iter().map(|rp| (rp.rate, rp.values[i]))));
            if hi.is_finite() && limits[point] > 0.0 {
                let limit = format!("limit {}", rate_label(limits[point]));
                // One line: the limit in a contrasting colour; several: each in its line's colour.
                let colour = if views.len() == 1 { palette::VERMILION } else { colour };
                series.push(Series::new(limit, colour, [(limits[point], floor), (limits[point], hi)]).dashed());
            }
        }
        let chart_title = format!("{title} against producer rate");
        let x_axis = Axis::linear("total producer rate (records/s)", Bounds::FromZero);
        written.extend(write_chart(&LineChart::new(chart_title, x_axis, y_axis, series), dir, stem)?);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_for_people() {
        assert_eq!(rate_label(2015.625), "2,016 records/s");
        assert_eq!(rate_label(999.0), "999 records/s");
        assert_eq!(metric_label("latency_ms.p99"), "p99 latency (ms)");
        assert_eq!(numeric(&["0s".into(), "500ms".into()]), Some((vec![0.0, 0.5], true)));
        assert_eq!(numeric(&["10".into(), "x".into()]), None);
    }
}
