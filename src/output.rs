//! Writing a run's files. Each file is written to a temporary name and renamed, so a failed
//! run leaves no partial output.

use crate::error::{Error, Result};
use crate::metrics::{write_cloudwatch_csv, write_timeseries_csv};
use crate::sim::Report;
use std::path::{Path, PathBuf};

/// Writes `summary.json`, `timeseries.csv`, `cloudwatch.csv` and, when a destination got records,
/// `destination.jsonl` into `dir` (created if needed). A stale `destination.jsonl` from an
/// earlier run is removed.
pub fn write_report(report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut summary = serde_json::to_vec_pretty(&report.summary).expect("summary serialises");
    summary.push(b'\n');
    let mut csv = Vec::new();
    write_timeseries_csv(&report.timeseries, &mut csv).expect("writing to memory");
    let mut cloudwatch = Vec::new();
    write_cloudwatch_csv(&report.cloudwatch, &mut cloudwatch).expect("writing to memory");
    let mut files = vec![("summary.json", summary), ("timeseries.csv", csv), ("cloudwatch.csv", cloudwatch)];
    let destination = dir.join("destination.jsonl");
    if report.destination.is_empty() {
        if destination.exists() {
            std::fs::remove_file(&destination).map_err(|source| Error::Write { path: destination, source })?;
        }
    } else {
        files.push((
            "destination.jsonl",
            report.destination.iter().flat_map(|l| [l.as_bytes(), b"\n"]).flatten().copied().collect(),
        ));
    }
    write_files(dir, &files)
}

/// Writes every `(name, bytes)` into `dir` atomically per file.
pub fn write_files(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut written = Vec::new();
    for (name, bytes) in files {
        let target = dir.join(name);
        let temporary = dir.join(format!(".{name}.partial"));
        std::fs::write(&temporary, bytes).map_err(io(&temporary))?;
        std::fs::rename(&temporary, &target).map_err(io(&target))?;
        written.push(target);
    }
    Ok(written)
}

/// The summary as a table for people, with units.
pub fn summary_table(s: &crate::metrics::Summary) -> String {
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1} ms"));
    let r = &s.records;
    let i = &s.invocations;
    let rows: Vec<(&str, String)> = vec![
        ("verdict", s.verdict()),
        ("scenario", format!("{}  (seed {}, config {})", s.scenario, s.seed, s.config_hash)),
        ("simulated", format!("{:.0} s", s.simulated_seconds)),
        ("records produced", r.produced.to_string()),
        ("  succeeded", r.succeeded.to_string()),
        ("  to destination", r.to_destination.to_string()),
        ("  discarded", r.discarded.to_string()),
        ("  lost to retention", r.lost_to_retention.to_string()),
        ("  pending at end", r.pending_at_end.to_string()),
        ("  redelivered", r.redelivered.to_string()),
        ("throughput", format!("{:.1} records/s", s.throughput.mean_records_per_second)),
        (
            "invocations",
            format!(
                "{} ({} ok, {} failed, {} timed out), {} throttled, {} cold starts",
                i.total, i.succeeded, i.failed, i.timed_out, i.throttled, i.cold_starts
            ),
        ),
        (
            "batches",
            format!(
                "{} of mean {:.1} / max {} records; flushed by size {}, window {}, payload {}",
                s.batches.count,
                s.batches.mean_records,
                s.batches.max_records,
                s.batches.flushed_by_size,
                s.batches.flushed_by_window,
                s.batches.flushed_by_payload
            ),
        ),
        (
            "latency",
            format!(
                "p50 {}, p90 {}, p99 {}, max {}",
                ms(s.latency_ms.p50),
                ms(s.latency_ms.p90),
                ms(s.latency_ms.p99),
                ms(s.latency_ms.max)
            ),
        ),
        (
            "duration",
            format!(
                "mean {}, p50 {}, p99 {}, max {} per invocation",
                ms(s.duration_ms.mean),
                ms(s.duration_ms.p50),
                ms(s.duration_ms.p99),
                ms(s.duration_ms.max)
            ),
        ),
        (
            "lag",
            format!(
                "max {} records, final {} records, oldest record {:.1} s",
                s.lag.max_records,
                s.lag.final_records,
                s.lag.max_age_ms / 1000.0
            ),
        ),
        ("concurrency", format!("peak {}, mean {:.2}", s.concurrency.peak, s.concurrency.mean)),
        ("pollers", format!("peak {}, mean {:.2}", s.pollers.peak, s.pollers.mean)),
        (
            "stalls",
            format!(
                "{} ({:.1} s in total, longest {:.1} s)",
                s.stalls.count, s.stalls.total_seconds, s.stalls.longest_seconds
            ),
        ),
        (
            "cost",
            format!(
                "${:.4} (requests ${:.4}, compute ${:.4}, pollers ${:.4}); {}",
                s.cost_usd.total,
                s.cost_usd.requests,
                s.cost_usd.compute,
                s.cost_usd.pollers,
                s.cost_usd.per_million_records.map_or("-".into(), |c| format!("${c:.4} per million records"))
            ),
        ),
        ("cost per month", format!("${:.2} at this rate", s.cost_usd.per_month)),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter().map(|(k, v)| format!("{k:<width$}  {v}\n")).collect()
}
