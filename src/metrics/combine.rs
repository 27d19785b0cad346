//! The totals of a scenario of several mappings: one summary, one time series and one set of
//! CloudWatch periods over all of them, in the contract's shapes.
//!
//! Counts add up. Percentiles come from the mappings' histograms merged, not from their
//! percentiles. Lag is the sum of the mappings' lags at each sample, so its maximum is taken
//! over the summed series. Concurrency is the account's: a function that several mappings invoke
//! counts once. Costs add up (a poller group's EPUs were already shared out among its mappings).
//! In the totals' time series, a row's latency columns are empty (per-interval histograms are not
//! kept) and its bottleneck is that of the mapping with the most lag among those held back.

use super::*;
use hdrhistogram::Histogram;

/// One mapping's results, as the totals need them.
pub struct Part<'a> {
    pub summary: &'a Summary,
    pub rows: &'a [Row],
    pub cloudwatch: &'a CloudWatch,
    pub latency_us: &'a Histogram<u64>,
    /// Whether this is the first mapping to invoke its function (its concurrency counts).
    pub counts_function: bool,
}

/// What the totals are about beyond the parts.
pub struct Whole<'a> {
    pub name: &'a str,
    pub seed: u64,
    pub config_hash: &'a str,
    /// The most environments busy at once over the account, after the warm-up.
    pub account_peak: u32,
    pub sample_s: f64,
}

/// The totals: summary, time series and CloudWatch periods.
pub fn totals(parts: &[Part], whole: &Whole) -> (Summary, Vec<Row>, CloudWatch) {
    let first = parts[0].summary;
    let rows = rows(parts);
    let mut cloudwatch = parts[0].cloudwatch.clone();
    cloudwatch.clear();
    for part in parts {
        cloudwatch.absorb(part.cloudwatch, part.counts_function);
    }
    let sum = |f: fn(&Summary) -> u64| parts.iter().map(|p| f(p.summary)).sum::<u64>();
    let sum_f = |f: fn(&Summary) -> f64| parts.iter().map(|p| f(p.summary)).sum::<f64>();
    let any_sum = |f: fn(&Summary) -> Option<u64>| parts.iter().filter_map(|p| f(p.summary)).reduce(|a, b| a + b);
    let warmup_rows = (first.warmup_seconds / whole.sample_s).round() as usize;
    let steady = rows.get(warmup_rows..).unwrap_or(&[]);
    let mut latency = parts[0].latency_us.clone();
    latency.reset();
    for part in parts {
        let _ = latency.add(part.latency_us);
    }
    let counted = parts.iter().filter(|p| p.counts_function);
    let concurrency_mean: f64 = counted.map(|p| p.summary.concurrency.mean).sum();
    let lag_max = steady.iter().map(|r| r.lag_records).max().unwrap_or(0);
    let max_partition_lag = steady.iter().map(|r| r.max_partition_lag_records).max().unwrap_or(0);
    let succeeded = sum(|s| s.records.succeeded);
    let peak_provisioned: u32 = parts
        .iter()
        .filter(|p| p.counts_function)
        .filter_map(|p| p.summary.cloudwatch.provisioned_concurrent_executions.map(|m| m.max as u32))
        .sum();
    let mut summary = Summary {
        esmsim_version: first.esmsim_version.clone(),
        scenario: whole.name.to_string(),
        seed: whole.seed,
        config_hash: whole.config_hash.to_string(),
        simulated_seconds: first.simulated_seconds,
        warmup_seconds: first.warmup_seconds,
        records: RecordSummary {
            produced: sum(|s| s.records.produced),
            succeeded,
            to_destination: sum(|s| s.records.to_destination),
            discarded: sum(|s| s.records.discarded),
            lost_to_retention: sum(|s| s.records.lost_to_retention),
            filtered_out: any_sum(|s| s.records.filtered_out),
            pending_at_end: sum(|s| s.records.pending_at_end),
            redelivered: sum(|s| s.records.redelivered),
        },
        invocations: InvocationSummary {
            total: sum(|s| s.invocations.total),
            succeeded: sum(|s| s.invocations.succeeded),
            failed: sum(|s| s.invocations.failed),
            timed_out: sum(|s| s.invocations.timed_out),
            throttled: sum(|s| s.invocations.throttled),
            cold_starts: sum(|s| s.invocations.cold_starts),
            partial_failures: sum(|s| s.invocations.partial_failures),
            provisioned: any_sum(|s| s.invocations.provisioned),
            on_demand: any_sum(|s| s.invocations.on_demand),
            restores: any_sum(|s| s.invocations.restores),
        },
        batches: batches(parts),
        latency_ms: latency_summary(&latency, parts),
        lag: LagSummary {
            max_records: lag_max,
            final_records: rows.last().map_or(0, |r| r.lag_records),
            max_age_ms: parts.iter().map(|p| p.summary.lag.max_age_ms).fold(0.0, f64::max),
        },
        concurrency: ConcurrencySummary { peak: whole.account_peak, mean: concurrency_mean },
        pollers: PollerSummary {
            peak: steady
                .iter()
                .map(|r| r.pollers)
                .max()
                .unwrap_or(0)
                .max(parts.iter().map(|p| p.summary.pollers.peak).max().unwrap_or(0)),
            mean: sum_f(|s| s.pollers.mean),
        },
        cost_usd: cost(parts, succeeded),
        stalls: StallSummary {
            count: sum(|s| s.stalls.count),
            total_seconds: sum_f(|s| s.stalls.total_seconds),
            longest_seconds: parts.iter().map(|p| p.summary.stalls.longest_seconds).fold(0.0, f64::max),
        },
        throughput: ThroughputSummary { mean_records_per_second: sum_f(|s| s.throughput.mean_records_per_second) },
        poison_pills: Vec::new(),
        duration_ms: cloudwatch.duration_summary(),
        cloudwatch: cloudwatch.summary(whole.account_peak, peak_provisioned, lag_max, max_partition_lag),
        bottlenecks: Bottlenecks::from_rows(steady, whole.sample_s),
        drain_seconds: drain_seconds(&rows),
        schema_registry: add_options(
            parts,
            |s| s.schema_registry.clone(),
            |a, b| SchemaRegistrySummary {
                schema_not_found: a.schema_not_found + b.schema_not_found,
                deserialization_error: a.deserialization_error + b.deserialization_error,
            },
        ),
    };
    summary.cloudwatch.provisioned_pollers.max =
        parts.iter().map(|p| p.summary.cloudwatch.provisioned_pollers.max).sum();
    summary.cloudwatch.event_poller_unit.avg = sum_f(|s| s.cloudwatch.event_poller_unit.avg);
    (summary, rows, cloudwatch)
}

/// The mappings' costs added up (a poller group's EPUs are already shared out among them).
fn cost(parts: &[Part], succeeded: u64) -> CostSummary {
    let sum_f = |f: fn(&Summary) -> f64| parts.iter().map(|p| f(p.summary)).sum::<f64>();
    let mut cost = CostSummary {
        requests: sum_f(|s| s.cost_usd.requests),
        compute: sum_f(|s| s.cost_usd.compute),
        pollers: sum_f(|s| s.cost_usd.pollers),
        total: sum_f(|s| s.cost_usd.total),
        per_million_records: None,
        per_month: sum_f(|s| s.cost_usd.per_month),
        provisioned_concurrency: add_options(
            parts,
            |s| s.cost_usd.provisioned_concurrency.clone(),
            |a, b| ProvisionedConcurrencyCost {
                allocation: a.allocation + b.allocation,
                duration: a.duration + b.duration,
            },
        ),
        snapstart: add_options(
            parts,
            |s| s.cost_usd.snapstart.clone(),
            |a, b| SnapStartCost { cache: a.cache + b.cache, restore: a.restore + b.restore },
        ),
    };
    cost.per_million_records = (succeeded > 0).then(|| cost.total / succeeded as f64 * 1e6);
    cost
}

fn add_options<T>(parts: &[Part], get: impl Fn(&Summary) -> Option<T>, add: impl Fn(T, T) -> T) -> Option<T> {
    parts.iter().filter_map(|p| get(p.summary)).reduce(add)
}

fn batches(parts: &[Part]) -> BatchSummary {
    let count: u64 = parts.iter().map(|p| p.summary.batches.count).sum();
    let records: f64 = parts.iter().map(|p| p.summary.batches.mean_records * p.summary.batches.count as f64).sum();
    let sum = |f: fn(&BatchSummary) -> u64| parts.iter().map(|p| f(&p.summary.batches)).sum::<u64>();
    BatchSummary {
        count,
        mean_records: if count > 0 { records / count as f64 } else { 0.0 },
        max_records: parts.iter().map(|p| p.summary.batches.max_records).max().unwrap_or(0),
        flushed_by_size: sum(|b| b.flushed_by_size),
        flushed_by_window: sum(|b| b.flushed_by_window),
        flushed_by_payload: sum(|b| b.flushed_by_payload),
    }
}

fn latency_summary(latency_us: &Histogram<u64>, parts: &[Part]) -> LatencySummary {
    let any = !latency_us.is_empty();
    let quantile = |q: f64| any.then(|| latency_us.value_at_quantile(q) as f64 / 1e3);
    let max = parts.iter().filter_map(|p| p.summary.latency_ms.max).reduce(f64::max);
    LatencySummary { p50: quantile(0.5), p90: quantile(0.9), p99: quantile(0.99), max }
}

/// The mappings' rows added up at each sample (the mappings share one clock).
fn rows(parts: &[Part]) -> Vec<Row> {
    let n = parts.iter().map(|p| p.rows.len()).min().unwrap_or(0);
    (0..n)
        .map(|i| {
            fn at<'a>(p: &'a Part, i: usize) -> &'a Row {
                &p.rows[i]
            }
            let sum = |f: fn(&Row) -> u64| parts.iter().map(|p| f(at(p, i))).sum::<u64>();
            let held_back = parts
                .iter()
                .map(|p| at(p, i))
                .filter(|r| r.bottleneck != Bottleneck::None)
                .max_by_key(|r| r.lag_records);
            Row {
                time_s: at(&parts[0], i).time_s,
                produced_records: sum(|r| r.produced_records),
                succeeded_records: sum(|r| r.succeeded_records),
                lag_records: sum(|r| r.lag_records),
                max_partition_lag_records: parts.iter().map(|p| at(p, i).max_partition_lag_records).max().unwrap_or(0),
                oldest_record_age_s: parts.iter().map(|p| at(p, i).oldest_record_age_s).fold(0.0, f64::max),
                concurrency: parts.iter().filter(|p| p.counts_function).map(|p| at(p, i).concurrency).sum(),
                invocations: sum(|r| r.invocations),
                errors: sum(|r| r.errors),
                throttles: sum(|r| r.throttles),
                cold_starts: sum(|r| r.cold_starts),
                pollers: parts.iter().map(|p| at(p, i).pollers).sum(),
                latency_p50_ms: None,
                latency_p99_ms: None,
                bottleneck: held_back.map_or(Bottleneck::None, |r| r.bottleneck),
                cost_usd: parts.iter().map(|p| at(p, i).cost_usd).sum(),
            }
        })
        .collect()
}
