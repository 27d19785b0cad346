//! `esm`: the event source mapping's batching, scaling and error handling settings.

use super::{AgeLimit, DestinationKind, Dur, PartialBatchCommit};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Esm {
    pub batch_size: u32,
    pub batching_window: Dur,
    pub max_payload_bytes: u64,
    /// ASSUMED: JSON bytes a record adds to the payload beside its base64 key and value.
    pub payload_record_overhead_bytes: u64,
    /// ASSUMED: JSON bytes of the event envelope (`eventSource`, ARN, bootstrap servers).
    pub payload_envelope_bytes: u64,
    /// ASSUMED: payload bytes per header byte (a byte as a JSON integer and its comma).
    #[serde(skip_serializing_if = "is_default_header_byte_bytes")]
    pub payload_header_byte_bytes: u64,
    /// ASSUMED: JSON bytes per header beside its bytes (`{"":[]},` and quoting).
    #[serde(skip_serializing_if = "is_default_header_overhead_bytes")]
    pub payload_header_overhead_bytes: u64,
    pub scaling: Scaling,
    pub starting_position: StartingPosition,
    /// With `AT_TIMESTAMP`: how long before t = 0 the starting timestamp lies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starting_position_age: Option<Dur>,
    pub maximum_retry_attempts: i64,
    pub maximum_record_age: AgeLimit,
    pub bisect_batch_on_function_error: bool,
    pub function_response_types: Vec<ResponseType>,
    /// How a partial batch response commits (with `ReportBatchItemFailures`).
    pub partial_batch_commit: PartialBatchCommit,
    pub on_failure_destination: Option<Destination>,
    /// ASSUMED: whether each half of a bisected batch starts with a fresh retry count.
    pub bisect_resets_retries: bool,
    /// ASSUMED: whether a throttled invoke uses up one of `maximum_retry_attempts`.
    pub throttles_count_as_retries: bool,
    /// ASSUMED: wait before a failed batch is invoked again.
    pub retry_backoff: Backoff,
    /// ASSUMED: wait before a throttled invoke is tried again.
    pub throttle_backoff: Backoff,
    /// Event filtering, in AWS's shape: `{"Filters":[{"Pattern":"<json>"}]}`.
    #[serde(rename = "filter_criteria", skip_serializing_if = "Option::is_none")]
    pub filter_criteria: Option<FilterCriteria>,
    /// A schema registry (provisioned mode only): see [`SchemaRegistry`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_registry: Option<super::SchemaRegistry>,
}

/// AWS's `FilterCriteria`: records matching any filter reach the function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterCriteria {
    #[serde(rename = "Filters")]
    pub filters: Vec<FilterEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterEntry {
    #[serde(rename = "Pattern")]
    pub pattern: String,
}

/// A header byte in the event is a JSON integer of one to three digits and a comma: 3.6 bytes
/// on average for random bytes, 4 at most (with-msk's example event shows the encoding).
pub const DEFAULT_HEADER_BYTE_BYTES: u64 = 4;
/// `{"<key>":[...]},`: braces, quotes, colon, brackets and comma.
pub const DEFAULT_HEADER_OVERHEAD_BYTES: u64 = 8;

// Written only when changed, so that scenarios without headers keep their config hash.
fn is_default_header_byte_bytes(n: &u64) -> bool {
    *n == DEFAULT_HEADER_BYTE_BYTES
}

fn is_default_header_overhead_bytes(n: &u64) -> bool {
    *n == DEFAULT_HEADER_OVERHEAD_BYTES
}

impl Esm {
    /// Payload bytes of a record's headers: `count × overhead + bytes × per-byte`.
    pub fn header_payload_bytes(&self, count: u32, bytes: u64) -> u64 {
        (count as u64)
            .saturating_mul(self.payload_header_overhead_bytes)
            .saturating_add(bytes.saturating_mul(self.payload_header_byte_bytes))
    }

    pub fn reports_batch_item_failures(&self) -> bool {
        self.function_response_types.contains(&ResponseType::ReportBatchItemFailures)
    }
}

impl Default for Esm {
    fn default() -> Self {
        Esm {
            batch_size: 100,
            batching_window: Dur::parse("500ms"),
            max_payload_bytes: 6_291_456,
            payload_record_overhead_bytes: 128,
            payload_envelope_bytes: 512,
            payload_header_byte_bytes: DEFAULT_HEADER_BYTE_BYTES,
            payload_header_overhead_bytes: DEFAULT_HEADER_OVERHEAD_BYTES,
            scaling: Scaling::default(),
            starting_position: StartingPosition::Latest,
            starting_position_age: None,
            maximum_retry_attempts: -1,
            maximum_record_age: AgeLimit(None),
            bisect_batch_on_function_error: false,
            function_response_types: vec![],
            partial_batch_commit: PartialBatchCommit::LowestFailure,
            on_failure_destination: None,
            bisect_resets_retries: true,
            throttles_count_as_retries: false,
            retry_backoff: Backoff { initial: Dur::parse("1s"), max: Dur::parse("1s") },
            throttle_backoff: Backoff { initial: Dur::parse("100ms"), max: Dur::parse("5s") },
            filter_criteria: None,
            schema_registry: None,
        }
    }
}

/// Exponential backoff: `initial`, doubling after each consecutive failure, at most `max`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    pub initial: Dur,
    pub max: Dur,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScalingMode {
    #[default]
    OnDemand,
    Provisioned,
    ParallelizationFactor,
}

/// How many invocations run at once. The fields that apply depend on `mode`; validation rejects
/// a field set for another mode rather than ignoring it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Scaling {
    pub mode: ScalingMode,
    /// `parallelization_factor`: at most this many partitions have a batch in flight (1–10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factor: Option<u32>,
    /// `on_demand`: pollers at the start (ASSUMED default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_pollers: Option<u32>,
    /// `on_demand`: concurrent invocations per poller (ASSUMED default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocations_per_poller: Option<u32>,
    /// `provisioned`: 1–200, default 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_pollers: Option<u32>,
    /// `provisioned`: 1–2,000, default 200.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pollers: Option<u32>,
    /// Poller modes: how often offset lag is evaluated (AWS: every minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_interval: Option<Dur>,
    /// Poller modes, ASSUMED: how long a scaling decision takes to take effect (AWS: "within
    /// three minutes").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_delay: Option<Dur>,
    /// Poller modes, ASSUMED: add pollers when offset lag exceeds this many records per poller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_up_lag_per_poller: Option<u64>,
    /// Poller modes, ASSUMED: remove a poller when the pollers' invocation slots were busy less
    /// than this share of the time since the last evaluation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_down_utilization: Option<f64>,
    /// Poller modes, ASSUMED: how long a rebalance stops new batches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebalance_pause: Option<Dur>,
    /// Poller modes: payload bytes a poller can fetch per second (AWS: 5 MB/s for provisioned
    /// pollers; ASSUMED the same on demand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poller_bytes_per_second: Option<u64>,
    /// `provisioned`: AWS's `PollerGroupName`. Mappings of one group (in a scenario's
    /// `mappings`) pool their pollers and throughput into one EPU bill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poller_group: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StartingPosition {
    #[default]
    Latest,
    TrimHorizon,
    AtTimestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ResponseType {
    ReportBatchItemFailures,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    pub kind: DestinationKind,
}
