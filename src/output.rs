//! Writing a run's files. Each file is written to a temporary name and renamed, so a failed
//! run leaves no partial output.

use crate::error::{Error, Result};
use crate::metrics::{write_cloudwatch_csv, write_timeseries_csv};
use crate::sim::Report;
use std::fs::File;
use std::io::{BufWriter, Write};
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
    let files = [("summary.json", summary), ("timeseries.csv", csv), ("cloudwatch.csv", cloudwatch)];
    let mut written = write_files(dir, &files)?;
    let destination = dir.join("destination.jsonl");
    if report.destination.is_empty() {
        if destination.exists() {
            std::fs::remove_file(&destination).map_err(|source| Error::Write { path: destination, source })?;
        }
    } else {
        // Line by line, straight to the file: on a failure path with an S3 destination it is
        // large (each line holds a batch's payload), and gathering it in memory first took a
        // tenth of the run's time in page faults.
        written.push(write_atomically(dir, "destination.jsonl", |file| {
            report.destination.iter().try_for_each(|line| {
                file.write_all(line.as_bytes())?;
                file.write_all(b"\n")
            })
        })?);
    }
    Ok(written)
}

/// Writes every `(name, bytes)` into `dir` atomically per file.
pub fn write_files(dir: &Path, files: &[(impl AsRef<str>, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    files.iter().map(|(name, bytes)| write_atomically(dir, name.as_ref(), |file| file.write_all(bytes))).collect()
}

/// Writes file `name` into `dir` (created if needed) through `write`: to a temporary name, then
/// renamed, so that it is never seen half written.
fn write_atomically(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<PathBuf> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let target = dir.join(name);
    let temporary = dir.join(format!(".{name}.partial"));
    let mut file = BufWriter::new(File::create(&temporary).map_err(io(&temporary))?);
    write(&mut file).and_then(|()| file.flush()).map_err(io(&temporary))?;
    drop(file);
    std::fs::rename(&temporary, &target).map_err(io(&target))?;
    Ok(target)
}

/// The summary as a table for people, with units.
pub fn summary_table(s: &crate::metrics::Summary) -> String {
    use crate::human::{count, decimal, duration_ms};
    let ms = |v: Option<f64>| v.map_or("-".to_string(), duration_ms);
    let r = &s.records;
    let i = &s.invocations;
    let mut rows: Vec<(&str, String)> = vec![
        ("verdict", s.verdict()),
        ("scenario", format!("{}  (seed {}, config {})", s.scenario, s.seed, s.config_hash)),
        ("simulated", format!("{:.0} s", s.simulated_seconds)),
        ("records produced", count(r.produced)),
        ("  succeeded", count(r.succeeded)),
        ("  to destination", count(r.to_destination)),
        ("  discarded", count(r.discarded)),
        ("  lost to retention", count(r.lost_to_retention)),
        ("  pending at end", count(r.pending_at_end)),
        ("  redelivered", count(r.redelivered)),
        ("throughput", format!("{} records/s", decimal(s.throughput.mean_records_per_second, 1))),
        (
            "invocations",
            format!(
                "{} ({} ok, {} failed, {} timed out), {} throttled, {} cold starts",
                count(i.total),
                count(i.succeeded),
                count(i.failed),
                count(i.timed_out),
                count(i.throttled),
                count(i.cold_starts)
            ),
        ),
        (
            "batches",
            format!(
                "{} of mean {:.1} / max {} records; flushed by size {}, window {}, payload {}",
                count(s.batches.count),
                s.batches.mean_records,
                count(s.batches.max_records),
                count(s.batches.flushed_by_size),
                count(s.batches.flushed_by_window),
                count(s.batches.flushed_by_payload)
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
                "max {} records, final {} records, oldest record {}",
                count(s.lag.max_records),
                count(s.lag.final_records),
                duration_ms(s.lag.max_age_ms)
            ),
        ),
        ("concurrency", format!("peak {}, mean {:.2}", s.concurrency.peak, s.concurrency.mean)),
        // The factor model has no pollers: a dash, not zero.
        (
            "pollers",
            if s.pollers.peak == 0 {
                "—".into()
            } else {
                format!("peak {}, mean {:.2}", s.pollers.peak, s.pollers.mean)
            },
        ),
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
        ("cost per month", format!("${} at this rate", decimal(s.cost_usd.per_month, 2))),
    ];
    let cost_at = rows.iter().position(|(k, _)| *k == "cost").map_or(rows.len(), |i| i + 1);
    if let Some(ss) = &s.cost_usd.snapstart {
        rows.insert(
            cost_at,
            ("  snapstart", format!("${:.4} cache, ${:.4} restores (in total)", ss.cache, ss.restore)),
        );
    }
    if let Some(pc) = &s.cost_usd.provisioned_concurrency {
        let text = format!("${:.4} allocation (in total), ${:.4} duration (in compute)", pc.allocation, pc.duration);
        rows.insert(cost_at, ("  provisioned conc.", text));
    }
    let invocations_at = rows.iter().position(|(k, _)| *k == "invocations").map_or(rows.len(), |i| i + 1);
    if let Some(n) = i.restores {
        rows.insert(invocations_at, ("  snapstart", format!("{} cold starts restored from the snapshot", count(n))));
    }
    if let (Some(p), Some(o)) = (i.provisioned, i.on_demand) {
        let text = format!("{} on provisioned environments, {} spilled over to on-demand", count(p), count(o));
        rows.insert(invocations_at, ("  provisioned conc.", text));
    }
    if let Some(n) = r.filtered_out {
        // Beside the other resolutions, after "lost to retention".
        rows.insert(8, ("  filtered out", n.to_string()));
    }
    if let Some(g) = &s.schema_registry {
        // Already in "to destination" or "discarded": shown after them, not added.
        let at = rows.iter().position(|(k, _)| *k == "  discarded").map_or(rows.len(), |i| i + 1);
        rows.insert(
            at,
            (
                "  failed schema validation",
                format!(
                    "{} ({} SCHEMA_NOT_FOUND, {} DESERIALIZATION_ERROR; counted above)",
                    count(g.schema_not_found + g.deserialization_error),
                    count(g.schema_not_found),
                    count(g.deserialization_error)
                ),
            ),
        );
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter().map(|(k, v)| format!("{k:<width$}  {v}\n")).collect()
}

/// `summary.json` of a scenario of several mappings: the totals in the contract's fields, then
/// the poller groups' bills, then each mapping's own summary under its name.
#[derive(serde::Serialize)]
struct MappingsSummary<'a> {
    #[serde(flatten)]
    totals: &'a crate::metrics::Summary,
    poller_groups: &'a [crate::PollerGroupBill],
    mappings: Vec<MappingSummary<'a>>,
}

#[derive(serde::Serialize)]
struct MappingSummary<'a> {
    mapping: &'a str,
    #[serde(flatten)]
    summary: &'a crate::metrics::Summary,
}

/// Writes a scenario of several mappings: the totals (`summary.json` with every mapping in it,
/// `timeseries.csv`, `cloudwatch.csv`) in `dir`, and each mapping's own files in
/// `dir/mappings/<name>/`.
pub fn write_mappings_report(report: &crate::MappingsReport, dir: &Path) -> Result<Vec<PathBuf>> {
    let summary = MappingsSummary {
        totals: &report.totals.summary,
        poller_groups: &report.poller_groups,
        mappings: report
            .mappings
            .iter()
            .map(|(name, r)| MappingSummary { mapping: name, summary: &r.summary })
            .collect(),
    };
    let mut json = serde_json::to_vec_pretty(&summary).expect("summary serialises");
    json.push(b'\n');
    let mut csv = Vec::new();
    write_timeseries_csv(&report.totals.timeseries, &mut csv).expect("writing to memory");
    let mut cloudwatch = Vec::new();
    write_cloudwatch_csv(&report.totals.cloudwatch, &mut cloudwatch).expect("writing to memory");
    let mut written =
        write_files(dir, &[("summary.json", json), ("timeseries.csv", csv), ("cloudwatch.csv", cloudwatch)])?;
    for (name, mapping) in &report.mappings {
        written.extend(write_report(mapping, &dir.join("mappings").join(name))?);
    }
    Ok(written)
}

/// The terminal's table for a scenario of several mappings: the totals, then one line per
/// mapping and per poller group.
pub fn mappings_table(report: &crate::MappingsReport) -> String {
    use crate::human::{count, decimal};
    let mut text = summary_table(&report.totals.summary);
    let width = report.mappings.iter().map(|(n, _)| n.len()).max().unwrap_or(0).max(7);
    text += &format!(
        "\n{:<width$}  {:>12}  {:>12}  {:>10}  {:>8}  {:>10}\n",
        "mapping", "succeeded", "invocations", "max lag", "p99", "cost"
    );
    for (name, r) in &report.mappings {
        let s = &r.summary;
        let p99 = s.latency_ms.p99.map_or("-".into(), crate::human::duration_ms);
        text += &format!(
            "{name:<width$}  {:>12}  {:>12}  {:>10}  {:>8}  {:>10}\n",
            count(s.records.succeeded),
            count(s.invocations.total),
            count(s.lag.max_records),
            p99,
            format!("${}", decimal(s.cost_usd.total, 4)),
        );
    }
    for g in &report.poller_groups {
        text += &format!(
            "poller group {}: {} mappings, {} EPU-hours (${}); billed alone they would use {} (${})\n",
            g.name,
            g.mappings.len(),
            decimal(g.epu_hours, 2),
            decimal(g.cost_usd, 4),
            decimal(g.ungrouped_epu_hours, 2),
            decimal(g.ungrouped_cost_usd, 4),
        );
    }
    text
}
