//! The decision commands: `sweep` (a grid of runs over seeds), `tune` (the cheapest
//! configuration that meets constraints), `capacity` (the highest sustainable producer rate),
//! sharding over a cluster's array job, and `merge` of the shards.
//!
//! Every command plans its runs in a fixed order (grid point, then rate, then seed), runs them in
//! parallel with [`run::Execution`], and writes files from results sorted in that order, so the
//! output is the same bytes whatever `--jobs` is, and merged shards equal a run on one machine.

pub mod analytic;
pub mod assumed;
pub mod aws;
pub mod capacity;
pub mod capacity_page;
pub mod charts;
pub mod constraint;
pub mod diff;
pub mod diff_page;
pub mod grid;
pub mod merge;
pub mod metrics;
pub mod morris;
pub mod pages;
pub mod record;
pub mod robust;
pub mod run;
pub mod sensitivity;
pub mod sensitivity_page;
pub mod shard;
pub mod size;
pub mod space;
pub mod stats;
pub mod study;
pub mod summary;
pub mod sustain;
pub mod table;
pub mod tune;
pub mod tune_page;

pub use run::{Execution, Progress, Silent};
pub use shard::Shard;
pub use study::{Base, Kind, Prepared, Study};

use crate::error::Result;
use crate::output::write_files;
use crate::report;
use record::RunRecord;
use std::path::{Path, PathBuf};

/// The file names of a sweep's results.
pub const SWEEP_CSV: &str = "sweep.csv";
pub const SWEEP_SUMMARY_CSV: &str = "sweep_summary.csv";

/// What a command wrote, and what it has to say about the result.
#[derive(Debug, Default)]
pub struct Done {
    pub files: Vec<PathBuf>,
    pub text: String,
}

/// Output options shared by the commands.
#[derive(Clone, Copy, Debug)]
pub struct Output<'a> {
    pub dir: &'a Path,
    pub charts: bool,
}

/// `esmsim sweep`: every grid point with every seed, or this shard's slice of them.
pub fn sweep(p: &Prepared, exec: &Execution, shard: Option<Shard>, out: Output) -> Result<Done> {
    let plan = plan(p);
    if let Some(shard) = shard {
        return write_shard(p, shard, &plan, exec, SWEEP_CSV, out.dir);
    }
    let records = execute(p, exec, &plan)?;
    finish_sweep(p, &records, out)
}

/// Writes `sweep.csv`, `sweep_summary.csv` and the charts from every run's record.
pub fn finish_sweep(p: &Prepared, records: &[RunRecord], out: Output) -> Result<Done> {
    let grid = &p.study.grid;
    let table = table::csv_bytes(&record::header(grid, false), records.iter().map(|r| record::to_row(grid, r, &[])));
    let points = summary::point_stats(p, records);
    let summary_csv = summary::summary_csv(grid, &points);
    let mut files = write_files(out.dir, &[(SWEEP_CSV, table), (SWEEP_SUMMARY_CSV, summary_csv)])?;
    let page = pages::sweep_page(p, &points, records.len());
    if out.charts {
        let charts = charts::sweep_charts(grid, &points, out.dir)?;
        let page_file = report::study::write_study_report(&page, &charts, out.dir)?;
        files.extend(charts.into_iter().chain(page_file));
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let (runs, n_points, seeds) = (records.len(), grid.len(), p.study.seeds as usize);
    let mut text = format!("{}: {} × {}\n", plural(runs, "run"), plural(n_points, "grid point"), plural(seeds, "seed"));
    text += &page.terminal_text();
    Ok(Done { files, text })
}

/// The runs of a study before any phase that depends on results: every grid point × seed, and
/// for `capacity` × each `--rates` value. Metrics are empty until [`execute`] fills them.
pub fn plan(p: &Prepared) -> Vec<RunRecord> {
    let rates: Vec<Option<f64>> = match &p.study.kind {
        Kind::Capacity(spec) => spec.rates.iter().copied().map(Some).collect(),
        _ => vec![None],
    };
    let mut plan = Vec::new();
    for point in 0..p.points.len() {
        for &rate in &rates {
            for offset in 0..p.study.seeds {
                let seed = p.seed(point, offset);
                plan.push(RunRecord { point, seed, metrics: Vec::new(), rate: rate.map(capacity::planned) });
            }
        }
    }
    plan
}

/// Runs every planned record in parallel; results come back in plan order. A run stopped by
/// the memory budget fails the study, naming its grid point and seed.
pub fn execute(p: &Prepared, exec: &Execution, plan: &[RunRecord]) -> Result<Vec<RunRecord>> {
    let results = exec.map(plan, |planned| {
        let loaded = &p.points[planned.point];
        let record = match planned.rate {
            None => run::simulate(&loaded.config, planned.seed, exec)
                .map(|report| RunRecord { metrics: metrics::values(&report.summary), ..planned.clone() }),
            Some(rate) => capacity::run_at(loaded, planned, rate, exec),
        };
        record.map_err(|stopped| run::stopped_error(p, planned, &stopped))
    });
    results.into_iter().collect()
}

/// Runs this shard's slice of `plan` and writes its rows and `shard.json`.
fn write_shard(
    p: &Prepared,
    shard: Shard,
    plan: &[RunRecord],
    exec: &Execution,
    table_name: &str,
    dir: &Path,
) -> Result<Done> {
    let mine: Vec<RunRecord> = shard.runs(plan.len()).into_iter().map(|i| plan[i].clone()).collect();
    let records = execute(p, exec, &mine)?;
    let grid = &p.study.grid;
    let capacity = matches!(p.study.kind, Kind::Capacity(_));
    let slos = capacity::slos(p)?;
    let rows = records.iter().map(|r| record::to_row(grid, r, &slos));
    let table = table::csv_bytes(&record::header(grid, capacity), rows);
    let manifest = shard::Manifest {
        esmsim_version: env!("CARGO_PKG_VERSION").to_string(),
        shard,
        runs: plan.len(),
        table: table_name.to_string(),
        rows_sha256: shard::digest(&table),
        study: p.study.clone(),
    };
    let mut json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    json.push(b'\n');
    let files = write_files(dir, &[(table_name, table), (shard::MANIFEST, json)])?;
    let text = format!(
        "shard {} of {}: {} of {} runs; join the shards with `esmsim merge DIR... --out DIR`\n",
        shard.index,
        shard.count,
        records.len(),
        plan.len()
    );
    Ok(Done { files, text })
}
