//! What a person reads first about a study: the answer in a sentence, a short table of the rows
//! that matter (for the terminal and for `report.html`), and tooltips naming each chart point's
//! configuration.

use super::charts::path_short;
use super::grid::Grid;
use super::metrics::metric_names;
use super::study::Prepared;
use super::summary::PointStats;
use crate::human;
use crate::report::scatter::pareto_front;
use crate::report::study::{StudyPage, Table};

/// The metrics a study's tables show, with their column headers.
pub const TABLE_METRICS: [(&str, &str); 5] = [
    ("cost_usd.per_month", "cost/month"),
    ("latency_ms.p99", "p99 latency"),
    ("lag.max_records", "max lag"),
    ("throughput.mean_records_per_second", "records/s"),
    ("concurrency.peak", "peak concurrency"),
];

/// Rows a page's table shows at most; the CSV files hold every row.
pub const MAX_TABLE_ROWS: usize = 15;

/// A metric's value as a person reads it: dollars, a duration, or a number with separators.
pub fn metric_cell(name: &str, value: Option<f64>) -> String {
    let Some(v) = value else { return "–".into() };
    if name.starts_with("cost_usd.") {
        format!("${}", human::decimal(v, if v.abs() >= 100.0 { 0 } else { 2 }))
    } else if name.ends_with("_ms") || name.starts_with("latency_ms.") || name.starts_with("duration_ms.") {
        human::duration_ms(v)
    } else if v.fract() == 0.0 {
        human::decimal(v, 0)
    } else {
        human::decimal(v, 1)
    }
}

/// A grid point's settings for people: `batch size 500, window 0s`.
pub fn config_label(grid: &Grid, point: usize) -> String {
    if grid.dimensions.is_empty() {
        return "the scenario as it is".into();
    }
    let pairs = grid.paths().into_iter().zip(grid.values(point));
    pairs.map(|(p, v)| format!("{} {v}", path_short(p))).collect::<Vec<_>>().join(", ")
}

/// A chart point's tooltip: the settings as `--set` assignments, then the key metrics.
pub fn tooltip(grid: &Grid, stats: &PointStats) -> String {
    let names = metric_names();
    let mut parts = grid.assignments(stats.point);
    for (metric, header) in TABLE_METRICS {
        let index = names.iter().position(|n| n == metric).expect("a known metric");
        parts.push(format!("{header} {}", metric_cell(metric, stats.mean(index))));
    }
    parts.join("; ")
}

fn index(metric: &str) -> usize {
    metric_names().iter().position(|n| n == metric).expect("a known metric")
}

/// A table of grid points: their settings, then [`TABLE_METRICS`]' means over seeds.
pub fn points_table(title: impl Into<String>, grid: &Grid, points: &[&PointStats]) -> Table {
    let mut headers: Vec<String> = grid.paths().into_iter().map(path_short).collect();
    headers.extend(TABLE_METRICS.iter().map(|(_, h)| h.to_string()));
    let mut table = Table::new(title, headers);
    for ps in points.iter().take(MAX_TABLE_ROWS) {
        let mut row: Vec<String> = grid.values(ps.point).into_iter().map(String::from).collect();
        row.extend(TABLE_METRICS.iter().map(|(m, _)| metric_cell(m, ps.mean(index(m)))));
        table.rows.push(row);
    }
    table
}

/// The grid points on the cost-against-p99 Pareto front, cheapest first.
pub fn pareto_points(points: &[PointStats]) -> Vec<&PointStats> {
    let (cost, p99) = (index("cost_usd.per_month"), index("latency_ms.p99"));
    let xy = |ps: &PointStats| Some((ps.mean(cost)?, ps.mean(p99)?));
    let front = pareto_front(points.iter().filter_map(xy));
    // One grid point per front point: the first in grid order with those values.
    front.iter().filter_map(|&f| points.iter().find(|ps| xy(ps) == Some(f))).collect()
}

/// Orders grid points by a metric's mean, points without one last.
pub fn by_mean(metric: usize, a: &PointStats, b: &PointStats) -> std::cmp::Ordering {
    let key = |ps: &PointStats| ps.mean(metric).unwrap_or(f64::INFINITY);
    key(a).total_cmp(&key(b))
}

/// The sweep's page: the cheapest and the fastest configuration, the Pareto table, every point.
pub fn sweep_page(p: &Prepared, points: &[PointStats], runs: usize) -> StudyPage {
    let grid = &p.study.grid;
    let name = p.points.first().map_or("", |l| l.scenario.name.as_str());
    let (cost, p99) = (index("cost_usd.per_month"), index("latency_ms.p99"));
    let best_by =
        |metric: usize| points.iter().filter(|ps| ps.mean(metric).is_some()).min_by(|a, b| by_mean(metric, a, b));
    let describe = |ps: &PointStats| {
        format!(
            "{} (cost {}/month, p99 {})",
            config_label(grid, ps.point),
            metric_cell("cost_usd.per_month", ps.mean(cost)),
            metric_cell("latency_ms.p99", ps.mean(p99))
        )
    };
    let front = pareto_points(points);
    let mut answer = Vec::new();
    match (best_by(cost), best_by(p99)) {
        (Some(cheapest), Some(fastest)) => {
            answer.push(format!("Cheapest: {}. Lowest p99 latency: {}.", describe(cheapest), describe(fastest)));
            answer.push(format!(
                "{} of {} configurations are on the Pareto front of cost against p99 latency: no other is both cheaper and faster.",
                front.len(),
                points.len()
            ));
        }
        _ => answer.push("No run committed a record, so no latency or cost comparison is possible.".into()),
    }
    let mut all: Vec<&PointStats> = points.iter().collect();
    all.sort_by(|a, b| by_mean(cost, a, b));
    let shown = all.len().min(MAX_TABLE_ROWS);
    StudyPage {
        title: format!("Sweep: {name}"),
        meta: format!(
            "{runs} runs: {} grid points × {} seeds · means over seeds · esmsim {}",
            points.len(),
            p.study.seeds,
            env!("CARGO_PKG_VERSION")
        ),
        answer,
        commands: None,
        tables: vec![
            points_table("Pareto front: cost against p99 latency, cheapest first", grid, &front),
            points_table(format!("Grid points by cost ({shown} of {})", all.len()), grid, &all),
        ],
        notes: vec![
            "Values are means over seeds; sweep_summary.csv has min, max and the 95% interval of each.".into(),
            "Hover over a point of the Pareto chart to see its configuration.".into(),
        ],
    }
}
