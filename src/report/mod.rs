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
    let (mut files, svgs) = rendered_charts(run_charts::run_charts(&report.timeseries, &loaded.config), dir)?;
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
    files.push((REPORT_HTML.to_string(), html::run_page(&page).into_bytes()));
    write_files(dir, &files)
}

/// Each chart as `<stem>.png` and `<stem>.svg` contents, and the SVGs again for the page.
type RenderedCharts = (Vec<(String, Vec<u8>)>, Vec<(&'static str, String)>);

fn rendered_charts<C: Chart>(specs: Vec<(&'static str, C)>, dir: &Path) -> Result<RenderedCharts> {
    let mut files = Vec::new();
    let mut svgs = Vec::new();
    for (stem, chart) in &specs {
        let rendered = render(chart).map_err(|e| draw_error(dir, stem, e))?;
        files.push((format!("{stem}.png"), rendered.png));
        files.push((format!("{stem}.svg"), rendered.svg.clone().into_bytes()));
        svgs.push((*stem, rendered.svg));
    }
    Ok((files, svgs))
}

/// A scenario of several mappings: each mapping's own charts and page in `mappings/<name>/`, then
/// the side-by-side charts and the page of all of them in `dir`.
pub fn write_mappings_run_report(
    report: &crate::MappingsReport,
    loaded: &crate::scenario::LoadedMappings,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let m = &loaded.mappings;
    let mut written = Vec::new();
    for ((name, mapping_report), mapping) in report.mappings.iter().zip(&m.mappings) {
        let alone = Loaded {
            scenario: mapping.scenario.clone(),
            config: mapping.config.clone(),
            warnings: Vec::new(),
            file: loaded.file.clone(),
        };
        written.extend(write_run_report(mapping_report, &alone, &dir.join("mappings").join(name))?);
    }
    let rows: Vec<(&str, &[crate::metrics::Row])> =
        report.mappings.iter().map(|(name, r)| (name.as_str(), r.timeseries.as_slice())).collect();
    let specs = run_charts::mapping_charts(&rows, &report.totals.timeseries, &m.mappings[0].config);
    let (mut files, svgs) = rendered_charts(specs, dir)?;
    let mut resolved = m.source.clone();
    resolved["seed"] = serde_json::Value::from(report.totals.summary.seed);
    let scenario_json = serde_json::to_string_pretty(&resolved).expect("scenario serialises");
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    let charts: Vec<(&str, &str)> = svgs.iter().map(|(stem, svg)| (*stem, svg.as_str())).collect();
    let page = html::MappingsPage {
        report,
        description: &m.description,
        scenario_json: &scenario_json,
        warnings: &warnings,
        charts: &charts,
    };
    files.push((REPORT_HTML.to_string(), html::mappings_page(&page).into_bytes()));
    written.extend(write_files(dir, &files)?);
    Ok(written)
}

/// The names of the files [`write_run_report`] and [`write_mappings_run_report`] write in a
/// run's directory.
pub fn run_report_files() -> Vec<String> {
    let stems = run_charts::RUN_CHARTS.iter().chain(&run_charts::MAPPING_CHARTS);
    let charts = stems.flat_map(|stem| [format!("{stem}.png"), format!("{stem}.svg")]);
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
