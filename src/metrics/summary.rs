//! `summary.json`: the contract's fields, in the contract's order.

use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    pub esmsim_version: String,
    pub scenario: String,
    pub seed: u64,
    pub config_hash: String,
    pub simulated_seconds: f64,
    /// The start-up transient left out of latency, lag, throughput, concurrency and CloudWatch
    /// statistics (record counts cover the whole run).
    pub warmup_seconds: f64,
    pub records: RecordSummary,
    pub invocations: InvocationSummary,
    pub batches: BatchSummary,
    pub latency_ms: LatencySummary,
    pub lag: LagSummary,
    pub concurrency: ConcurrencySummary,
    pub pollers: PollerSummary,
    pub cost_usd: CostSummary,
    pub stalls: StallSummary,
    pub throughput: ThroughputSummary,
    /// One entry per poison record that caused a failure, by (partition, offset).
    pub poison_pills: Vec<super::PoisonPill>,
    /// The function's own duration per invocation (init excluded), in milliseconds.
    pub duration_ms: super::DurationSummary,
    /// AWS's CloudWatch metrics for the run, by their AWS names and meanings.
    pub cloudwatch: super::CloudWatchSummary,
    /// Seconds (after the warm-up) each limit bound.
    pub bottlenecks: super::Bottlenecks,
    /// The final lag divided by the rate it fell over the last minute; 0 without lag, `null`
    /// when it is not falling.
    pub drain_seconds: Option<f64>,
    /// With `esm.schema_registry` only: the records that failed validation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_registry: Option<SchemaRegistrySummary>,
}

impl Summary {
    /// The one-line answer first: kept up or not, the binding limit, the drain time.
    pub fn verdict(&self) -> String {
        super::verdict(&self.bottlenecks, self.drain_seconds, self.simulated_seconds - self.warmup_seconds)
    }
}

/// Where every produced record ended: `produced = succeeded + to_destination + discarded +
/// lost_to_retention + filtered_out + pending_at_end`.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct RecordSummary {
    pub produced: u64,
    pub succeeded: u64,
    pub to_destination: u64,
    pub discarded: u64,
    pub lost_to_retention: u64,
    /// With event filtering only: records that matched no filter, committed past.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filtered_out: Option<u64>,
    pub pending_at_end: u64,
    /// Deliveries beyond the first (the same record in another invocation).
    pub redelivered: u64,
}

/// Records a schema registry held back, by AWS's reason code. They never reached the function and
/// are already counted in `records.to_destination` (with a destination) or `records.discarded`.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SchemaRegistrySummary {
    pub schema_not_found: u64,
    pub deserialization_error: u64,
}

/// `total = succeeded + failed + timed_out`; throttled invokes are not invocations.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct InvocationSummary {
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub throttled: u64,
    pub cold_starts: u64,
    /// Invocations that returned `batchItemFailures` naming some records (counted in
    /// `succeeded`: the function itself did not fail).
    pub partial_failures: u64,
    /// With provisioned concurrency only: invocations on provisioned environments, and on
    /// on-demand ones (spill-overs, which may start cold); `provisioned + on_demand = total`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand: Option<u64>,
    /// With SnapStart only: cold starts that resumed from the snapshot (all of them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restores: Option<u64>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct BatchSummary {
    pub count: u64,
    pub mean_records: f64,
    pub max_records: u64,
    pub flushed_by_size: u64,
    pub flushed_by_window: u64,
    pub flushed_by_payload: u64,
}

/// From a record's production to the commit of its offset; `null` when nothing was committed.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct LatencySummary {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct LagSummary {
    pub max_records: u64,
    pub final_records: u64,
    pub max_age_ms: f64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ConcurrencySummary {
    pub peak: u32,
    pub mean: f64,
}

/// Event pollers over the run (0 in the `parallelization_factor` model).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PollerSummary {
    pub peak: u32,
    /// Time-weighted.
    pub mean: f64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct CostSummary {
    pub requests: f64,
    pub compute: f64,
    pub pollers: f64,
    pub total: f64,
    /// `total` per million succeeded records; `null` when none succeeded.
    pub per_million_records: Option<f64>,
    /// The run extrapolated to a month (`pricing.month_hours`), at tiered prices and after the
    /// free tier if enabled.
    pub per_month: f64,
    /// With provisioned concurrency only: its allocation (in `total`, not in `compute`) and the
    /// duration of invocations on provisioned environments (part of `compute`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned_concurrency: Option<ProvisionedConcurrencyCost>,
    /// With SnapStart only: its cache and restore charges (in `total`; 0 for Java).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapstart: Option<SnapStartCost>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ProvisionedConcurrencyCost {
    pub allocation: f64,
    pub duration: f64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SnapStartCost {
    pub cache: f64,
    pub restore: f64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct StallSummary {
    pub count: u64,
    pub total_seconds: f64,
    pub longest_seconds: f64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ThroughputSummary {
    pub mean_records_per_second: f64,
}
