//! What a run measures: counters, latency histograms, stalls and the time series, and the two
//! output files of the contract.

mod bottleneck;
mod cloudwatch;
pub mod combine;
mod latency;
mod observe;
mod poison;
mod summary;
mod timeseries;

pub use bottleneck::{Bottleneck, Bottlenecks, Evidence, drain_seconds, verdict};
pub use cloudwatch::{
    Average, CloudWatch, CloudWatchDuration, CloudWatchSummary, DurationSummary, Maximum, MaximumRatio, Period,
    write_cloudwatch_csv,
};
pub use poison::{PoisonPill, PoisonPills, Resolution};
pub use summary::{
    BatchSummary, ConcurrencySummary, CostSummary, InvocationSummary, LagSummary, LatencySummary, PollerSummary,
    ProvisionedConcurrencyCost, RecordSummary, SchemaRegistrySummary, SnapStartCost, StallSummary, Summary,
    ThroughputSummary,
};
pub use timeseries::{IntervalUsage, Row, share_cost, write_timeseries_csv};

use crate::engine::{NS_PER_MS, NS_PER_US, SimTime};
use crate::model::esm::Running;
use crate::model::topic::Record;
use hdrhistogram::Histogram;
use latency::{IntervalLatency, RunLatency};

/// Counts within the current sample interval.
#[derive(Clone, Copy, Debug, Default)]
pub struct IntervalCounts {
    pub succeeded: u64,
    pub invocations: u64,
    pub errors: u64,
    pub throttles: u64,
    /// Throttles by the burst limit (the rest are by concurrency).
    pub burst_throttles: u64,
    pub cold_starts: u64,
    pub flushed_by_payload: u64,
    /// A rebalance paused batching at some point of the interval.
    pub rebalanced: bool,
}

/// Per-partition stall state: when the current stall began and the record the partition cannot
/// commit past.
#[derive(Clone, Copy, Debug)]
struct OpenStall {
    since_ns: SimTime,
    failing_offset: u64,
}

#[derive(Debug, Default)]
pub struct Stalls {
    open: Vec<Option<OpenStall>>,
    /// Partitions stalled now (`open`'s `Some`s), so that a sample need not count them.
    open_now: u32,
    pub count: u64,
    pub total_ns: u128,
    pub longest_ns: SimTime,
}

impl Stalls {
    fn new(partitions: usize) -> Self {
        Stalls { open: vec![None; partitions], ..Default::default() }
    }

    /// Record `failing_offset` of `partition` failed. A stall is one partition unable to move
    /// its committed offset past a failing record: it starts at the first failure and lasts,
    /// however many invocations, bisected halves and partial responses come between, until the
    /// committed offset passes that record.
    pub fn failed(&mut self, partition: u32, failing_offset: u64, now: SimTime) {
        let slot = &mut self.open[partition as usize];
        if slot.is_none() {
            *slot = Some(OpenStall { since_ns: now, failing_offset });
            self.count += 1;
            self.open_now += 1;
        }
    }

    /// `partition` committed up to `committed`; a stall ends once that passes its record.
    pub fn committed(&mut self, partition: u32, committed: u64, now: SimTime) {
        let slot = &mut self.open[partition as usize];
        if let Some(stall) = *slot
            && committed > stall.failing_offset
        {
            self.close(stall, now);
            self.open[partition as usize] = None;
            self.open_now -= 1;
        }
    }

    fn close(&mut self, stall: OpenStall, now: SimTime) {
        let length = now - stall.since_ns;
        self.total_ns += length as u128;
        self.longest_ns = self.longest_ns.max(length);
    }

    /// Whether some partition is stalled now.
    pub fn any_open(&self) -> bool {
        debug_assert_eq!(self.open_now as usize, self.open.iter().flatten().count());
        self.open_now > 0
    }

    /// Ends every open stall at the end of the run.
    pub fn close_all(&mut self, end: SimTime) {
        self.open_now = 0;
        for stall in std::mem::take(&mut self.open).into_iter().flatten() {
            self.close(stall, end);
        }
    }
}

/// Everything counted during a run.
pub struct Metrics {
    pub produced: u64,
    pub succeeded: u64,
    pub to_destination: u64,
    pub discarded: u64,
    pub lost_to_retention: u64,
    /// Records committed without reaching the function (event filtering).
    pub filtered_out: u64,
    /// Whether the run filters records (`records.filtered_out` is reported only then).
    pub filtering: bool,
    /// SnapStart is on (`invocations.restores` is reported only then).
    pub snapstart: bool,
    /// Whether the mapping has a schema registry (`schema_registry` is reported only then).
    pub registry: bool,
    /// The registry's verdicts, to tell records that failed validation from filtered ones.
    pub schema: Option<crate::model::esm::registry::SchemaCheck>,
    /// Records that failed validation, by reason (part of `to_destination` or `discarded`).
    pub schema_not_found: u64,
    pub deserialization_error: u64,
    pub redelivered: u64,

    pub invocations: u64,
    pub invocations_succeeded: u64,
    pub invocations_failed: u64,
    pub invocations_timed_out: u64,
    pub throttled: u64,
    pub cold_starts: u64,
    pub partial_failures: u64,

    pub batches: u64,
    pub batch_records: u64,
    pub batch_max_records: u64,
    pub flushed_by_size: u64,
    pub flushed_by_window: u64,
    pub flushed_by_payload: u64,

    /// Sum over invocations of billed milliseconds × memory MB.
    pub billed_mb_ms: u128,
    /// Provisioned concurrency: invocations on provisioned environments and their share of
    /// `billed_mb_ms` (the rest are spill-overs at on-demand prices).
    pub provisioned_invocations: u64,
    pub provisioned_billed_mb_ms: u128,
    /// SnapStart: environments resumed from the snapshot (by invocations that ended).
    pub restores: u64,

    latency_interval: IntervalLatency,
    latency_total: RunLatency,
    pub latency_max_ns: SimTime,

    pub lag_max_records: u64,
    pub age_max_ns: SimTime,
    pub stalls: Stalls,
    pub poison_pills: PoisonPills,
    /// AWS's metrics, per CloudWatch period.
    pub cloudwatch: CloudWatch,
    /// The committed offset of each partition, for `CommittedEventCount`.
    committed: Vec<u64>,
    /// Records committed during the warm-up.
    succeeded_in_warmup: u64,
    /// The mapping acts on partial batch responses (for `FailedInvokeEventCount`).
    reports_batch_item_failures: bool,

    pub interval: IntervalCounts,
    /// Records produced per sample interval, filled as producers generate.
    pub produced_per_interval: Vec<u64>,
    pub rows: Vec<Row>,
    /// What each row's interval used, for its share of the cost.
    pub row_usage: Vec<IntervalUsage>,
    /// Billed MB-ms and poller-ns up to the last sample.
    pub usage_sampled: IntervalUsage,
}

impl Metrics {
    pub fn new(partitions: usize, intervals: usize, cloudwatch: CloudWatch, reports_batch_item_failures: bool) -> Self {
        Metrics {
            cloudwatch,
            committed: vec![0; partitions],
            succeeded_in_warmup: 0,
            reports_batch_item_failures,
            produced: 0,
            succeeded: 0,
            to_destination: 0,
            discarded: 0,
            lost_to_retention: 0,
            filtered_out: 0,
            filtering: false,
            snapstart: false,
            registry: false,
            schema: None,
            schema_not_found: 0,
            deserialization_error: 0,
            redelivered: 0,
            invocations: 0,
            invocations_succeeded: 0,
            invocations_failed: 0,
            invocations_timed_out: 0,
            throttled: 0,
            cold_starts: 0,
            partial_failures: 0,
            batches: 0,
            batch_records: 0,
            batch_max_records: 0,
            flushed_by_size: 0,
            flushed_by_window: 0,
            flushed_by_payload: 0,
            billed_mb_ms: 0,
            provisioned_invocations: 0,
            provisioned_billed_mb_ms: 0,
            restores: 0,
            latency_interval: IntervalLatency::default(),
            latency_total: RunLatency::default(),
            latency_max_ns: 0,
            lag_max_records: 0,
            age_max_ns: 0,
            stalls: Stalls::new(partitions),
            poison_pills: PoisonPills::default(),
            interval: IntervalCounts::default(),
            produced_per_interval: vec![0; intervals],
            rows: Vec::with_capacity(intervals),
            row_usage: Vec::with_capacity(intervals),
            usage_sampled: IntervalUsage::default(),
        }
    }

    /// An invocation ended; `billed_mb_ms` is its billed milliseconds × memory MB. With
    /// provisioned concurrency, an invocation on an on-demand environment is a spill-over.
    pub fn invocation_ended(&mut self, running: &Running, billed_mb_ms: u128) {
        self.invocations += 1;
        self.interval.invocations += 1;
        if running.cold {
            self.cold_starts += 1;
            self.interval.cold_starts += 1;
        }
        self.billed_mb_ms += billed_mb_ms;
        self.restores += u64::from(running.restored);
        if running.provisioned {
            self.provisioned_invocations += 1;
            self.provisioned_billed_mb_ms += billed_mb_ms;
        }
        if self.cloudwatch.provisioned > 0 {
            let period = self.cloudwatch.at(running.started_ns);
            if running.provisioned {
                period.provisioned_invocations += 1;
            } else {
                period.spillover_invocations += 1;
            }
        }
    }

    /// One record committed `latency_ns` after it was produced.
    #[inline]
    pub fn record_latency(&mut self, latency_ns: SimTime) {
        self.latency_interval.record(latency_ns / NS_PER_US);
        self.latency_max_ns = self.latency_max_ns.max(latency_ns);
    }

    /// The records of `run` (oldest first), committed at `now`: their latencies do not
    /// increase, so the extremes are the first and the last, not two comparisons per record.
    #[inline(always)]
    pub fn record_latencies(&mut self, now: SimTime, run: &[Record]) {
        let Some(oldest) = run.first() else { return };
        self.latency_max_ns = self.latency_max_ns.max(now - oldest.arrival_ns);
        self.latency_interval.record_committed(now, run, |record| record.arrival_ns);
    }

    /// Closes the current interval's latency histogram: returns its (p50, p99) in ms, if any
    /// record was committed in it, and folds it into the run's histogram.
    pub fn close_latency_interval(&mut self) -> Option<(f64, f64)> {
        let q = self.latency_interval.drain(&[0.5, 0.99], &mut self.latency_total)?;
        Some((us_to_ms(q[0]), us_to_ms(q[1])))
    }

    /// The warm-up is over at `now`: latency, lag and CloudWatch statistics start again (record
    /// counts go on). Called right after the sample at `now`, so no record is half counted.
    pub fn start_steady_state(&mut self, now: SimTime) {
        self.latency_total = RunLatency::default();
        self.latency_max_ns = 0;
        self.lag_max_records = 0;
        self.age_max_ns = 0;
        self.succeeded_in_warmup = self.succeeded;
        self.cloudwatch.start_steady_state(now);
    }

    /// Records committed after the warm-up.
    pub fn succeeded_steady(&self) -> u64 {
        self.succeeded - self.succeeded_in_warmup
    }
}

/// The summary's sections that come from the counters alone.
impl Metrics {
    pub fn record_summary(&self, pending_at_end: u64) -> RecordSummary {
        RecordSummary {
            produced: self.produced,
            succeeded: self.succeeded,
            to_destination: self.to_destination,
            discarded: self.discarded,
            lost_to_retention: self.lost_to_retention,
            filtered_out: self.filtering.then_some(self.filtered_out),
            pending_at_end,
            redelivered: self.redelivered,
        }
    }

    /// With a schema registry only: the records it held back, by reason.
    pub fn schema_registry_summary(&self) -> Option<SchemaRegistrySummary> {
        self.registry.then_some(SchemaRegistrySummary {
            schema_not_found: self.schema_not_found,
            deserialization_error: self.deserialization_error,
        })
    }

    pub fn invocation_summary(&self) -> InvocationSummary {
        InvocationSummary {
            total: self.invocations,
            succeeded: self.invocations_succeeded,
            failed: self.invocations_failed,
            timed_out: self.invocations_timed_out,
            throttled: self.throttled,
            cold_starts: self.cold_starts,
            partial_failures: self.partial_failures,
            provisioned: (self.cloudwatch.provisioned > 0).then_some(self.provisioned_invocations),
            on_demand: (self.cloudwatch.provisioned > 0).then(|| self.invocations - self.provisioned_invocations),
            restores: self.snapstart.then_some(self.restores),
        }
    }

    pub fn batch_summary(&self) -> BatchSummary {
        BatchSummary {
            count: self.batches,
            mean_records: if self.batches > 0 { self.batch_records as f64 / self.batches as f64 } else { 0.0 },
            max_records: self.batch_max_records,
            flushed_by_size: self.flushed_by_size,
            flushed_by_window: self.flushed_by_window,
            flushed_by_payload: self.flushed_by_payload,
        }
    }

    /// Latencies of the records committed after the warm-up, in microseconds.
    pub fn latency_histogram(&self) -> Histogram<u64> {
        self.latency_total.histogram()
    }

    /// `null` percentiles when nothing was committed (after the warm-up).
    pub fn latency_summary(&self) -> LatencySummary {
        let any = self.succeeded_steady() > 0;
        let histogram = self.latency_total.histogram();
        let at = |q: f64| if histogram.is_empty() { 0.0 } else { us_to_ms(histogram.value_at_quantile(q)) };
        let quantile = |q: f64| any.then(|| at(q));
        LatencySummary {
            p50: quantile(0.5),
            p90: quantile(0.9),
            p99: quantile(0.99),
            max: any.then(|| self.latency_max_ns as f64 / NS_PER_MS as f64),
        }
    }

    pub fn lag_summary(&self) -> LagSummary {
        LagSummary {
            max_records: self.lag_max_records,
            final_records: self.rows.last().map_or(0, |r| r.lag_records),
            max_age_ms: self.age_max_ns as f64 / NS_PER_MS as f64,
        }
    }

    pub fn stall_summary(&self) -> StallSummary {
        StallSummary {
            count: self.stalls.count,
            total_seconds: self.stalls.total_ns as f64 / 1e9,
            longest_seconds: self.stalls.longest_ns as f64 / 1e9,
        }
    }
}

fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1_000.0
}
