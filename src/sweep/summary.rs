//! `sweep_summary.csv`: one row per grid point with, for every metric, the mean, min, max and
//! the 95 % confidence interval of the mean over the seeds (see [`super::stats`]).

use super::grid::Grid;
use super::metrics::metric_names;
use super::record::RunRecord;
use super::stats::Stats;
use super::study::Prepared;
use super::table::{cell, csv_bytes, grid_header};

/// The statistics of one grid point's runs, metric by metric.
#[derive(Clone, Debug, PartialEq)]
pub struct PointStats {
    pub point: usize,
    pub runs: usize,
    /// In [`metric_names`] order; `None` where the metric was empty in every run.
    pub metrics: Vec<Option<Stats>>,
}

impl PointStats {
    pub fn mean(&self, metric: usize) -> Option<f64> {
        self.metrics[metric].map(|s| s.mean)
    }
}

/// Metric by metric statistics of some runs, in the runs' order.
pub fn stats_of(records: &[&RunRecord]) -> Vec<Option<Stats>> {
    let count = metric_names().len();
    (0..count).map(|m| Stats::of(records.iter().map(|r| r.metrics[m]))).collect()
}

/// The statistics of every grid point, in grid order.
pub fn point_stats(p: &Prepared, records: &[RunRecord]) -> Vec<PointStats> {
    let mut by_point: Vec<Vec<&RunRecord>> = vec![Vec::new(); p.points.len()];
    for r in records {
        by_point[r.point].push(r);
    }
    let stats =
        |(point, runs): (usize, Vec<&RunRecord>)| PointStats { point, runs: runs.len(), metrics: stats_of(&runs) };
    by_point.into_iter().enumerate().map(stats).collect()
}

/// The CSV: the grid values, `seeds` (runs per point), then for each metric `M`:
/// `M.mean`, `M.min`, `M.max`, `M.ci95_low`, `M.ci95_high` (the interval is empty for one seed).
pub fn summary_csv(grid: &Grid, points: &[PointStats]) -> Vec<u8> {
    let mut header = grid_header(grid);
    header.push("seeds".into());
    for name in metric_names() {
        header.extend(["mean", "min", "max", "ci95_low", "ci95_high"].map(|s| format!("{name}.{s}")));
    }
    let rows = points.iter().map(|ps| {
        let mut row: Vec<String> = grid.values(ps.point).into_iter().map(String::from).collect();
        row.push(ps.runs.to_string());
        for s in &ps.metrics {
            let ci = s.and_then(|s| s.ci95);
            row.extend([
                cell(s.map(|s| s.mean)),
                cell(s.map(|s| s.min)),
                cell(s.map(|s| s.max)),
                cell(ci.map(|c| c.0)),
                cell(ci.map(|c| c.1)),
            ]);
        }
        row
    });
    csv_bytes(&header, rows)
}
