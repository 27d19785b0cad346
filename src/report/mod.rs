//! Charts (PNG and SVG) and the self-contained HTML report of a run.
//!
//! The drawing primitives are data-driven: build a spec ([`LineChart`], [`Scatter`] with an
//! optional Pareto front, [`HeatMap`]) and render it with
//! [`render`] (both formats in memory) or [`write_chart`] (`<stem>.png` and `<stem>.svg`).
//! Everything is drawn with the bundled DejaVu Sans, so output does not depend on the machine's
//! fonts, and nothing reads the clock: the same run gives the same SVG and HTML bytes.

pub mod axis;
pub mod canvas;
pub mod charts;
mod coord;
mod fonts;
pub mod heatmap;
pub mod html;
pub mod run_charts;
pub mod scatter;
pub mod study;
mod summary_rows;

pub use axis::{Axis, Bounds, Scale};
pub use canvas::{Chart, DrawError, Rendered, palette, render, render_png, render_svg};
pub use charts::{LineChart, Series};
pub use heatmap::HeatMap;
pub use scatter::{Guide, PointSet, Scatter, pareto_front};

use crate::error::{Error, Result};
use crate::output::write_files;
use crate::scenario::Loaded;
use crate::sim::Report;
use std::path::{Path, PathBuf};

/// The file a run report's page is written to.
pub const REPORT_HTML: &str = "report.html";

/// Writes each run chart as `<name>.png` and `<name>.svg` (lag, throughput, concurrency,
/// latency, invocations) and `report.html` into `dir`, each file atomically. Returns the paths
/// written, charts first.
pub fn write_run_report(report: &Report, loaded: &Loaded, dir: &Path) -> Result<Vec<PathBuf>> {
    let specs = run_charts::run_charts(&report.timeseries, &loaded.config);
    let mut names = Vec::new();
    let mut contents = Vec::new();
    let mut svgs = Vec::new();
    for (stem, chart) in &specs {
        let rendered = render(chart).map_err(|e| draw_error(dir, stem, e))?;
        names.extend([format!("{stem}.png"), format!("{stem}.svg")]);
        contents.extend([rendered.png, rendered.svg.clone().into_bytes()]);
        svgs.push((*stem, rendered.svg));
    }
    // The scenario as it ran: a `--seed` override is part of it, so that copying the page's JSON
    // reproduces this run and not the file's seed.
    let mut resolved = loaded.scenario.clone();
    resolved.seed = report.summary.seed;
    let scenario_json = serde_json::to_string_pretty(&resolved).expect("scenario serialises");
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    let charts: Vec<(&str, &str)> = svgs.iter().map(|(stem, svg)| (*stem, svg.as_str())).collect();
    let page = html::RunPage {
        summary: &report.summary,
        description: &loaded.scenario.description,
        scenario_json: &scenario_json,
        warnings: &warnings,
        charts: &charts,
    };
    names.push(REPORT_HTML.to_string());
    contents.push(html::run_page(&page).into_bytes());
    let files: Vec<(&str, Vec<u8>)> = names.iter().map(String::as_str).zip(contents).collect();
    write_files(dir, &files)
}

/// The names of the files [`write_run_report`] writes.
pub fn run_report_files() -> Vec<String> {
    let charts = run_charts::RUN_CHARTS.iter().flat_map(|stem| [format!("{stem}.png"), format!("{stem}.svg")]);
    charts.chain([REPORT_HTML.to_string()]).collect()
}

/// Renders `chart` and writes `<stem>.png` and `<stem>.svg` into `dir`; returns their paths.
pub fn write_chart(chart: &impl Chart, dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
    let rendered = render(chart).map_err(|e| draw_error(dir, stem, e))?;
    let (png, svg) = (format!("{stem}.png"), format!("{stem}.svg"));
    write_files(dir, &[(&png, rendered.png), (&svg, rendered.svg.into_bytes())])
}

/// A chart that failed to draw is reported as a failure to write its file.
fn draw_error(dir: &Path, stem: &str, e: DrawError) -> Error {
    Error::Write { path: dir.join(format!("{stem}.png")), source: std::io::Error::other(e.0) }
}
