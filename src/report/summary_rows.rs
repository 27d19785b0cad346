//! The summary as labelled rows with units, grouped into sections, for the HTML report. Kept
//! apart from the page layout so a new summary field is one line here.

use crate::human;
use crate::metrics::{PoisonPill, Summary};

pub struct Section {
    pub title: &'static str,
    /// (label, value, unit)
    pub rows: Vec<(&'static str, String, &'static str)>,
}

fn int(v: impl Into<u64>) -> String {
    human::count(v.into())
}

fn dec(v: f64, decimals: usize) -> String {
    human::decimal(v, decimals)
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "–".to_string(), |v| dec(v, decimals))
}

/// A latency row in the unit that suits the run's largest latency, so p50 and p99 compare.
fn latency_row(
    label: &'static str,
    ms: Option<f64>,
    unit: (&'static str, f64),
) -> (&'static str, String, &'static str) {
    (label, ms.map_or_else(|| "–".to_string(), |ms| dec(ms / unit.1, 1)), unit.0)
}

/// The factor model has no pollers: its counts read as a dash, not zero.
fn pollers(s: &Summary, value: String) -> String {
    if s.pollers.peak == 0 { "—".to_string() } else { value }
}

pub fn sections(s: &Summary) -> Vec<Section> {
    let (r, i, b) = (&s.records, &s.invocations, &s.batches);
    let section = |title, rows| Section { title, rows };
    let latency_unit = match human::duration_parts(s.latency_ms.max.unwrap_or(0.0)).1 {
        "h" => ("h", 3_600_000.0),
        "min" => ("min", 60_000.0),
        "s" => ("s", 1_000.0),
        _ => ("ms", 1.0),
    };
    vec![
        section(
            "Records",
            vec![
                ("produced", int(r.produced), "records"),
                ("succeeded", int(r.succeeded), "records"),
                ("to destination", int(r.to_destination), "records"),
                ("discarded", int(r.discarded), "records"),
                ("lost to retention", int(r.lost_to_retention), "records"),
            ]
            .into_iter()
            // Only runs with event filtering have the row (and their pages change).
            .chain(r.filtered_out.map(|n| ("filtered out", int(n), "records")))
            // Only runs with a schema registry: the records it held back, already counted above.
            .chain(s.schema_registry.iter().flat_map(|g| {
                [
                    ("of which SCHEMA_NOT_FOUND", int(g.schema_not_found), "records"),
                    ("of which DESERIALIZATION_ERROR", int(g.deserialization_error), "records"),
                ]
            }))
            .chain([
                ("pending at end", int(r.pending_at_end), "records"),
                ("redelivered", int(r.redelivered), "deliveries"),
                ("throughput", dec(s.throughput.mean_records_per_second, 1), "records/s"),
            ])
            .collect(),
        ),
        section(
            "Invocations",
            vec![
                ("total", int(i.total), "invocations"),
                ("succeeded", int(i.succeeded), "invocations"),
                ("failed", int(i.failed), "invocations"),
                ("timed out", int(i.timed_out), "invocations"),
                ("throttled", int(i.throttled), "attempts"),
                ("cold starts", int(i.cold_starts), "invocations"),
                ("partial failures", int(i.partial_failures), "invocations"),
            ]
            .into_iter()
            .chain(i.provisioned.map(|n| ("on provisioned environments", int(n), "invocations")))
            .chain(i.on_demand.map(|n| ("spilled over to on-demand", int(n), "invocations")))
            .chain(i.restores.map(|n| ("SnapStart restores", int(n), "cold starts")))
            .collect(),
        ),
        section(
            "Batches",
            vec![
                ("count", int(b.count), "batches"),
                ("mean size", dec(b.mean_records, 1), "records"),
                ("max size", int(b.max_records), "records"),
                ("flushed by size", int(b.flushed_by_size), "batches"),
                ("flushed by window", int(b.flushed_by_window), "batches"),
                ("flushed by payload", int(b.flushed_by_payload), "batches"),
            ],
        ),
        section(
            "Latency, produced to committed",
            vec![
                latency_row("p50", s.latency_ms.p50, latency_unit),
                latency_row("p90", s.latency_ms.p90, latency_unit),
                latency_row("p99", s.latency_ms.p99, latency_unit),
                latency_row("max", s.latency_ms.max, latency_unit),
            ],
        ),
        section(
            "Lag, concurrency and pollers",
            vec![
                ("max lag", int(s.lag.max_records), "records"),
                ("final lag", int(s.lag.final_records), "records"),
                ("max age of oldest record", dec(s.lag.max_age_ms / 1000.0, 1), "s"),
                ("peak concurrency", int(s.concurrency.peak), "executions"),
                ("mean concurrency", dec(s.concurrency.mean, 2), "executions"),
                ("peak pollers", pollers(s, int(s.pollers.peak)), "pollers"),
                ("mean pollers", pollers(s, dec(s.pollers.mean, 2)), "pollers"),
            ],
        ),
        section(
            "Cost",
            vec![
                ("total", dec(s.cost_usd.total, 4), "USD"),
                ("requests", dec(s.cost_usd.requests, 4), "USD"),
                ("compute", dec(s.cost_usd.compute, 4), "USD"),
                ("pollers", dec(s.cost_usd.pollers, 4), "USD"),
                ("per million succeeded records", opt(s.cost_usd.per_million_records, 4), "USD"),
                ("per month at this rate", dec(s.cost_usd.per_month, 2), "USD"),
            ]
            .into_iter()
            .chain(s.cost_usd.provisioned_concurrency.iter().flat_map(|pc| {
                [
                    ("provisioned concurrency allocation", dec(pc.allocation, 4), "USD"),
                    ("provisioned concurrency duration (in compute)", dec(pc.duration, 4), "USD"),
                ]
            }))
            .chain(s.cost_usd.snapstart.iter().flat_map(|ss| {
                [("SnapStart cache", dec(ss.cache, 4), "USD"), ("SnapStart restores", dec(ss.restore, 4), "USD")]
            }))
            .collect(),
        ),
        section(
            "Stalls",
            vec![
                ("count", int(s.stalls.count), "stalls"),
                ("total", dec(s.stalls.total_seconds, 1), "s"),
                ("longest", dec(s.stalls.longest_seconds, 1), "s"),
            ],
        ),
    ]
}

/// Column headers and cells of the poison-pill table.
pub const POISON_COLUMNS: [&str; 8] = [
    "partition",
    "offset",
    "first failure (s)",
    "isolated (s)",
    "resolved (s)",
    "outcome",
    "failed invocations",
    "max records blocked",
];

pub fn poison_cells(p: &PoisonPill) -> [String; 8] {
    [
        int(p.partition),
        int(p.offset),
        dec(p.first_failure_s, 3),
        opt(p.isolated_s, 3),
        opt(p.resolved_s, 3),
        p.outcome.clone(),
        int(p.attempts),
        int(p.max_blocked_records),
    ]
}
