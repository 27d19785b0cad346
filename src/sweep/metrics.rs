//! The metrics of a run, defined once: the metric columns of `sweep.csv`, `tune_runs.csv` and
//! `capacity.csv`, and the names that `tune --minimize`, `--constraint` and the charts accept.
//! They are every numeric field of `summary.json` but the seed (which has its own column), by
//! dotted path, in `summary.json`'s order.

use crate::error::{Error, Result};
use crate::metrics::Summary;

/// One metric: a numeric field of `summary.json`.
pub struct Metric {
    /// The dotted path in `summary.json`, e.g. `latency_ms.p99`.
    pub name: &'static str,
    /// The value as `summary.json` has it; `None` where it has `null`.
    pub value: fn(&Summary) -> Option<f64>,
}

/// A count.
fn count(n: impl Into<u64>) -> Option<f64> {
    Some(n.into() as f64)
}

/// A real number as it reads back from `summary.json`'s text with serde_json's default float
/// parser, as these tables have always held it: that parser is not exact, so about one value in
/// ten differs from the simulation's in the last digit. Not finite is `null` in JSON: `None`.
fn real(x: f64) -> Option<f64> {
    if !x.is_finite() {
        return None;
    }
    let text = serde_json::to_string(&x).expect("a number serialises");
    Some(serde_json::from_str(&text).expect("a finite number reads back"))
}

fn maybe(x: Option<f64>) -> Option<f64> {
    x.and_then(real)
}

/// Every metric, in column order.
pub const METRICS: &[Metric] = &[
    Metric { name: "simulated_seconds", value: |s| real(s.simulated_seconds) },
    Metric { name: "warmup_seconds", value: |s| real(s.warmup_seconds) },
    Metric { name: "records.produced", value: |s| count(s.records.produced) },
    Metric { name: "records.succeeded", value: |s| count(s.records.succeeded) },
    Metric { name: "records.to_destination", value: |s| count(s.records.to_destination) },
    Metric { name: "records.discarded", value: |s| count(s.records.discarded) },
    Metric { name: "records.lost_to_retention", value: |s| count(s.records.lost_to_retention) },
    Metric { name: "records.pending_at_end", value: |s| count(s.records.pending_at_end) },
    Metric { name: "records.redelivered", value: |s| count(s.records.redelivered) },
    Metric { name: "invocations.total", value: |s| count(s.invocations.total) },
    Metric { name: "invocations.succeeded", value: |s| count(s.invocations.succeeded) },
    Metric { name: "invocations.failed", value: |s| count(s.invocations.failed) },
    Metric { name: "invocations.timed_out", value: |s| count(s.invocations.timed_out) },
    Metric { name: "invocations.throttled", value: |s| count(s.invocations.throttled) },
    Metric { name: "invocations.cold_starts", value: |s| count(s.invocations.cold_starts) },
    Metric { name: "invocations.partial_failures", value: |s| count(s.invocations.partial_failures) },
    Metric { name: "batches.count", value: |s| count(s.batches.count) },
    Metric { name: "batches.mean_records", value: |s| real(s.batches.mean_records) },
    Metric { name: "batches.max_records", value: |s| count(s.batches.max_records) },
    Metric { name: "batches.flushed_by_size", value: |s| count(s.batches.flushed_by_size) },
    Metric { name: "batches.flushed_by_window", value: |s| count(s.batches.flushed_by_window) },
    Metric { name: "batches.flushed_by_payload", value: |s| count(s.batches.flushed_by_payload) },
    Metric { name: "latency_ms.p50", value: |s| maybe(s.latency_ms.p50) },
    Metric { name: "latency_ms.p90", value: |s| maybe(s.latency_ms.p90) },
    Metric { name: "latency_ms.p99", value: |s| maybe(s.latency_ms.p99) },
    Metric { name: "latency_ms.max", value: |s| maybe(s.latency_ms.max) },
    Metric { name: "lag.max_records", value: |s| count(s.lag.max_records) },
    Metric { name: "lag.final_records", value: |s| count(s.lag.final_records) },
    Metric { name: "lag.max_age_ms", value: |s| real(s.lag.max_age_ms) },
    Metric { name: "concurrency.peak", value: |s| count(s.concurrency.peak) },
    Metric { name: "concurrency.mean", value: |s| real(s.concurrency.mean) },
    Metric { name: "pollers.peak", value: |s| count(s.pollers.peak) },
    Metric { name: "pollers.mean", value: |s| real(s.pollers.mean) },
    Metric { name: "cost_usd.requests", value: |s| real(s.cost_usd.requests) },
    Metric { name: "cost_usd.compute", value: |s| real(s.cost_usd.compute) },
    Metric { name: "cost_usd.pollers", value: |s| real(s.cost_usd.pollers) },
    Metric { name: "cost_usd.total", value: |s| real(s.cost_usd.total) },
    Metric { name: "cost_usd.per_million_records", value: |s| maybe(s.cost_usd.per_million_records) },
    Metric { name: "cost_usd.per_month", value: |s| real(s.cost_usd.per_month) },
    Metric { name: "stalls.count", value: |s| count(s.stalls.count) },
    Metric { name: "stalls.total_seconds", value: |s| real(s.stalls.total_seconds) },
    Metric { name: "stalls.longest_seconds", value: |s| real(s.stalls.longest_seconds) },
    Metric { name: "throughput.mean_records_per_second", value: |s| real(s.throughput.mean_records_per_second) },
    Metric { name: "duration_ms.mean", value: |s| maybe(s.duration_ms.mean) },
    Metric { name: "duration_ms.p50", value: |s| maybe(s.duration_ms.p50) },
    Metric { name: "duration_ms.p99", value: |s| maybe(s.duration_ms.p99) },
    Metric { name: "duration_ms.max", value: |s| maybe(s.duration_ms.max) },
    Metric { name: "cloudwatch.Invocations", value: |s| count(s.cloudwatch.invocations) },
    Metric { name: "cloudwatch.Errors", value: |s| count(s.cloudwatch.errors) },
    Metric { name: "cloudwatch.Throttles", value: |s| count(s.cloudwatch.throttles) },
    Metric { name: "cloudwatch.DroppedEventCount", value: |s| count(s.cloudwatch.dropped_event_count) },
    Metric {
        name: "cloudwatch.OnFailureDestinationDeliveredEventCount",
        value: |s| count(s.cloudwatch.on_failure_destination_delivered_event_count),
    },
    Metric { name: "cloudwatch.PolledEventCount", value: |s| count(s.cloudwatch.polled_event_count) },
    Metric { name: "cloudwatch.InvokedEventCount", value: |s| count(s.cloudwatch.invoked_event_count) },
    Metric { name: "cloudwatch.FailedInvokeEventCount", value: |s| count(s.cloudwatch.failed_invoke_event_count) },
    Metric { name: "cloudwatch.FilteredOutEventCount", value: |s| count(s.cloudwatch.filtered_out_event_count) },
    Metric { name: "cloudwatch.CommittedEventCount", value: |s| count(s.cloudwatch.committed_event_count) },
    Metric { name: "cloudwatch.ConcurrentExecutions.max", value: |s| count(s.cloudwatch.concurrent_executions.max) },
    Metric { name: "cloudwatch.OffsetLag.max", value: |s| count(s.cloudwatch.offset_lag.max) },
    Metric { name: "cloudwatch.MaxOffsetLag.max", value: |s| count(s.cloudwatch.max_offset_lag.max) },
    Metric { name: "cloudwatch.Duration.avg_ms", value: |s| maybe(s.cloudwatch.duration.avg_ms) },
    Metric { name: "cloudwatch.Duration.p50_ms", value: |s| maybe(s.cloudwatch.duration.p50_ms) },
    Metric { name: "cloudwatch.Duration.p99_ms", value: |s| maybe(s.cloudwatch.duration.p99_ms) },
    Metric { name: "cloudwatch.Duration.max_ms", value: |s| maybe(s.cloudwatch.duration.max_ms) },
    Metric { name: "cloudwatch.ProvisionedPollers.max", value: |s| count(s.cloudwatch.provisioned_pollers.max) },
    Metric { name: "cloudwatch.EventPollerUnit.avg", value: |s| real(s.cloudwatch.event_poller_unit.avg) },
    Metric { name: "bottlenecks.none", value: |s| real(s.bottlenecks.none) },
    Metric { name: "bottlenecks.partitions", value: |s| real(s.bottlenecks.partitions) },
    Metric { name: "bottlenecks.pollers", value: |s| real(s.bottlenecks.pollers) },
    Metric { name: "bottlenecks.poller_throughput", value: |s| real(s.bottlenecks.poller_throughput) },
    Metric { name: "bottlenecks.poller_invocations", value: |s| real(s.bottlenecks.poller_invocations) },
    Metric { name: "bottlenecks.concurrency", value: |s| real(s.bottlenecks.concurrency) },
    Metric { name: "bottlenecks.burst", value: |s| real(s.bottlenecks.burst) },
    Metric { name: "bottlenecks.payload", value: |s| real(s.bottlenecks.payload) },
    Metric { name: "bottlenecks.stall", value: |s| real(s.bottlenecks.stall) },
    Metric { name: "bottlenecks.rebalance", value: |s| real(s.bottlenecks.rebalance) },
    Metric { name: "drain_seconds", value: |s| maybe(s.drain_seconds) },
];

/// The metric values of a summary, in [`METRICS`] order.
pub fn values(summary: &Summary) -> Vec<Option<f64>> {
    METRICS.iter().map(|m| (m.value)(summary)).collect()
}

/// Every metric's name, in [`METRICS`] order.
pub fn metric_names() -> Vec<String> {
    METRICS.iter().map(|m| m.name.to_string()).collect()
}

/// The position of a metric, or an argument error listing the metrics allowed.
pub fn metric_index(argument: &str, name: &str) -> Result<usize> {
    METRICS.iter().position(|m| m.name == name).ok_or_else(|| Error::Argument {
        argument: argument.to_string(),
        message: format!("unknown metric {name:?}; allowed: {}", metric_names().join(", ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{
        Average, BatchSummary, Bottlenecks, CloudWatchDuration, CloudWatchSummary, ConcurrencySummary, CostSummary,
        DurationSummary, InvocationSummary, LagSummary, LatencySummary, Maximum, PollerSummary, RecordSummary,
        StallSummary, ThroughputSummary,
    };
    use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    /// The numeric fields of a summary by dotted path, as serde_json reads `summary.json` back, in
    /// document order; `null` is `None`. Strings and lists are left out, and so is `seed`.
    fn flatten(summary: &Summary) -> Vec<(String, Option<f64>)> {
        let text = serde_json::to_string(summary).expect("summary serialises");
        let mut out = Vec::new();
        let mut de = serde_json::Deserializer::from_str(&text);
        Flatten { prefix: String::new(), out: &mut out }.deserialize(&mut de).expect("summary JSON is valid");
        out.retain(|(name, _)| name != "seed");
        out
    }

    /// Walks JSON in document order (serde_json's `Value` would sort the keys).
    struct Flatten<'a> {
        prefix: String,
        out: &'a mut Vec<(String, Option<f64>)>,
    }

    impl<'de> DeserializeSeed<'de> for Flatten<'_> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Flatten<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a summary")
        }
        fn visit_u64<E>(self, v: u64) -> Result<(), E> {
            self.out.push((self.prefix, Some(v as f64)));
            Ok(())
        }
        fn visit_i64<E>(self, v: i64) -> Result<(), E> {
            self.out.push((self.prefix, Some(v as f64)));
            Ok(())
        }
        fn visit_f64<E>(self, v: f64) -> Result<(), E> {
            self.out.push((self.prefix, Some(v)));
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            self.out.push((self.prefix, None));
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                let prefix = if self.prefix.is_empty() { key } else { format!("{}.{key}", self.prefix) };
                map.next_value_seed(Flatten { prefix, out: &mut *self.out })?;
            }
            Ok(())
        }
    }

    /// A summary with a different value in every numeric field, reals that serde_json does not
    /// read back exactly among them, from `next_real`.
    fn distinct(mut next_real: impl FnMut() -> f64, latency_p90: Option<f64>) -> Summary {
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        Summary {
            esmsim_version: "0.1.0".into(),
            scenario: "s".into(),
            seed: next(),
            config_hash: "ab".into(),
            simulated_seconds: next_real(),
            warmup_seconds: next_real(),
            records: RecordSummary {
                produced: next(),
                succeeded: next(),
                to_destination: next(),
                discarded: next(),
                lost_to_retention: next(),
                filtered_out: None,
                pending_at_end: next(),
                redelivered: next(),
            },
            invocations: InvocationSummary {
                total: next(),
                succeeded: next(),
                failed: next(),
                timed_out: next(),
                throttled: next(),
                cold_starts: next(),
                partial_failures: next(),
                provisioned: None,
                on_demand: None,
                restores: None,
            },
            batches: BatchSummary {
                count: next(),
                mean_records: next_real(),
                max_records: next(),
                flushed_by_size: next(),
                flushed_by_window: next(),
                flushed_by_payload: next(),
            },
            latency_ms: LatencySummary { p50: Some(next_real()), p90: latency_p90, p99: Some(next_real()), max: None },
            lag: LagSummary { max_records: next(), final_records: next(), max_age_ms: next_real() },
            concurrency: ConcurrencySummary { peak: next() as u32, mean: next_real() },
            pollers: PollerSummary { peak: next() as u32, mean: next_real() },
            cost_usd: CostSummary {
                requests: next_real(),
                compute: next_real(),
                pollers: next_real(),
                total: next_real(),
                per_million_records: Some(next_real()),
                per_month: next_real(),
                provisioned_concurrency: None,
                snapstart: None,
            },
            stalls: StallSummary { count: next(), total_seconds: next_real(), longest_seconds: next_real() },
            throughput: ThroughputSummary { mean_records_per_second: next_real() },
            poison_pills: Vec::new(),
            duration_ms: DurationSummary {
                mean: Some(next_real()),
                p50: Some(next_real()),
                p99: Some(next_real()),
                max: Some(next_real()),
            },
            cloudwatch: CloudWatchSummary {
                invocations: next(),
                errors: next(),
                throttles: next(),
                dropped_event_count: next(),
                on_failure_destination_delivered_event_count: next(),
                polled_event_count: next(),
                invoked_event_count: next(),
                failed_invoke_event_count: next(),
                filtered_out_event_count: next(),
                committed_event_count: next(),
                concurrent_executions: Maximum { max: next() },
                offset_lag: Maximum { max: next() },
                max_offset_lag: Maximum { max: next() },
                duration: CloudWatchDuration {
                    avg_ms: Some(next_real()),
                    p50_ms: Some(next_real()),
                    p99_ms: None,
                    max_ms: Some(next_real()),
                },
                provisioned_pollers: Maximum { max: next() },
                event_poller_unit: Average { avg: next_real() },
                provisioned_concurrency_invocations: None,
                provisioned_concurrency_spillover_invocations: None,
                provisioned_concurrent_executions: None,
                provisioned_concurrency_utilization: None,
            },
            bottlenecks: Bottlenecks {
                none: next_real(),
                partitions: next_real(),
                pollers: next_real(),
                poller_throughput: next_real(),
                poller_invocations: next_real(),
                concurrency: next_real(),
                burst: next_real(),
                payload: next_real(),
                stall: next_real(),
                rebalance: next_real(),
            },
            drain_seconds: Some(next_real()),
            schema_registry: None,
        }
    }

    fn assert_matches_flatten(summary: &Summary) {
        let flat = flatten(summary);
        let typed: Vec<(String, Option<f64>)> = metric_names().into_iter().zip(values(summary)).collect();
        assert_eq!(typed.len(), flat.len(), "a numeric field of Summary has no metric, or the reverse");
        for (t, f) in typed.iter().zip(&flat) {
            assert_eq!(t.0, f.0, "metric names follow summary.json");
            assert_eq!(t.1.map(f64::to_bits), f.1.map(f64::to_bits), "{}: {:?}, summary.json {:?}", t.0, t.1, f.1);
        }
    }

    #[test]
    fn the_metric_list_is_every_numeric_field_of_summary_json() {
        let mut k = 0.0;
        let lossy = [52.300000000000004, 985.6906946328695, 4070.4285714285716, 479.60756426982596];
        assert!(lossy.iter().any(|&x| real(x) != Some(x)), "serde_json's parser does not read these back");
        let mut reals = lossy.into_iter().cycle().map(|x| {
            k += 1.0;
            x * k
        });
        assert_matches_flatten(&distinct(|| reals.next().unwrap(), Some(0.1 + 0.2)));
        let mut specials = [f64::NAN, f64::INFINITY, -0.0, 1e-300].into_iter().cycle();
        assert_matches_flatten(&distinct(|| specials.next().unwrap(), Some(f64::NAN)));
        assert_matches_flatten(&Summary::default());
    }

    #[test]
    fn names_start_in_summary_order_and_leave_out_text_lists_and_seed() {
        let names = metric_names();
        assert_eq!(names[..3], ["simulated_seconds", "warmup_seconds", "records.produced"]);
        for absent in ["seed", "scenario", "config_hash", "esmsim_version", "poison_pills"] {
            assert!(!names.iter().any(|n| n == absent), "{absent}");
        }
        let p99 = metric_index("--minimize", "latency_ms.p99").unwrap();
        assert_eq!(values(&Summary::default())[p99], None);
        let unknown = metric_index("--minimize", "latency").unwrap_err().to_string();
        assert!(unknown.starts_with("--minimize: unknown metric \"latency\"; allowed: simulated_seconds, "));
    }
}
