//! The scenario file: serde types with AWS's defaults, loading with `--set` overrides, and
//! validation against AWS's ranges. Field names are the public contract (DESIGN.md).

mod dur;
mod load;
mod validate;

pub use dur::{AgeLimit, Dur};
pub use load::{Loaded, apply_set, load_scenario, parse_scenario};
pub use validate::{Warning, validate};

use serde::{Deserialize, Serialize};

/// One simulation input. Every field but `name`, `topic.partitions` and the producers' `rate`
/// has a default; the defaults are AWS's where AWS has one (AWS_FACTS.md).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default = "default_duration")]
    pub duration: Dur,
    #[serde(default = "default_sample_interval")]
    pub sample_interval: Dur,
    pub topic: Topic,
    #[serde(default)]
    pub producers: Vec<Producer>,
    #[serde(default)]
    pub esm: Esm,
    #[serde(default)]
    pub function: Function,
    #[serde(default)]
    pub account: Account,
    #[serde(default)]
    pub failures: Failures,
    #[serde(default)]
    pub pricing: Pricing,
    /// Things that go wrong on a timeline.
    #[serde(default)]
    pub faults: Vec<Fault>,
}

fn default_seed() -> u64 {
    1
}
fn default_duration() -> Dur {
    Dur::parse("1h")
}
fn default_sample_interval() -> Dur {
    Dur::parse("10s")
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Appears in destination records and traces (`<name>-<partition>`).
    #[serde(default = "default_topic_name")]
    pub name: String,
    pub partitions: u32,
    /// Kafka's `retention.ms`; MSK's default is 7 days.
    #[serde(default = "default_retention")]
    pub retention: Dur,
}

fn default_topic_name() -> String {
    "events".into()
}

fn default_retention() -> Dur {
    Dur::parse("7d")
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Producer {
    #[serde(default)]
    pub name: String,
    /// Records per second until the first schedule step.
    pub rate: f64,
    #[serde(default)]
    pub arrivals: Arrivals,
    #[serde(default)]
    pub schedule: Vec<RateStep>,
    #[serde(default = "default_record_bytes")]
    pub record_bytes: RecordBytes,
    #[serde(default)]
    pub key_bytes: u32,
    #[serde(default)]
    pub partitioning: Partitioning,
}

fn default_record_bytes() -> RecordBytes {
    RecordBytes::Fixed(1024)
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    #[default]
    Poisson,
    Constant,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateStep {
    pub at: Dur,
    pub rate: f64,
}

/// Value bytes per record: a fixed number or a distribution.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RecordBytes {
    Fixed(u64),
    Distribution(SizeDistribution),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "distribution", rename_all = "snake_case", deny_unknown_fields)]
pub enum SizeDistribution {
    Uniform { min: u64, max: u64 },
    Lognormal { median: f64, sigma: f64 },
}

impl<'de> Deserialize<'de> for RecordBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Visitor, value::MapAccessDeserializer};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RecordBytes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a number of bytes, {\"distribution\":\"uniform\",\"min\":..,\"max\":..} \
                     or {\"distribution\":\"lognormal\",\"median\":..,\"sigma\":..}",
                )
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RecordBytes, E> {
                Ok(RecordBytes::Fixed(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RecordBytes, A::Error> {
                SizeDistribution::deserialize(MapAccessDeserializer::new(map)).map(RecordBytes::Distribution)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Partitioning {
    /// Each record picks a partition uniformly at random.
    #[default]
    Uniform,
    RoundRobin,
    /// `share` of the records go to `partition`; the rest spread uniformly over the others.
    HotPartition {
        partition: u32,
        share: f64,
    },
    /// Partition `k` (0-based) gets weight `1 / (k+1)^exponent`.
    Zipf {
        exponent: f64,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Esm {
    pub batch_size: u32,
    pub batching_window: Dur,
    pub max_payload_bytes: u64,
    /// ASSUMED: JSON bytes a record adds to the payload beside its base64 key and value.
    pub payload_record_overhead_bytes: u64,
    /// ASSUMED: JSON bytes of the event envelope (`eventSource`, ARN, bootstrap servers).
    pub payload_envelope_bytes: u64,
    pub scaling: Scaling,
    pub starting_position: StartingPosition,
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
}

impl Esm {
    pub fn reports_batch_item_failures(&self) -> bool {
        self.function_response_types.contains(&ResponseType::ReportBatchItemFailures)
    }

    /// Retries allowed after the first attempt; `None` is infinite. AWS caps infinite retries
    /// at 10 when an on-failure destination is set.
    pub fn retry_limit(&self) -> Option<u32> {
        match (self.maximum_retry_attempts, &self.on_failure_destination) {
            (-1, Some(_)) => Some(10),
            (-1, None) => None,
            (n, _) => Some(n as u32),
        }
    }
}

/// What a partial batch response commits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartialBatchCommit {
    /// Per partition, commit up to the lowest failed offset and redeliver from there (Kafka can
    /// only commit a prefix; Kinesis documents the same checkpoint rule).
    #[default]
    LowestFailure,
    /// The seed article's model: every success counts as done; only failed records are retried.
    PerRecord,
}

impl Default for Esm {
    fn default() -> Self {
        Esm {
            batch_size: 100,
            batching_window: Dur::parse("500ms"),
            max_payload_bytes: 6_291_456,
            payload_record_overhead_bytes: 128,
            payload_envelope_bytes: 512,
            scaling: Scaling::default(),
            starting_position: StartingPosition::Latest,
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
        }
    }
}

/// Exponential backoff: `initial`, doubling after each consecutive failure, at most `max`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    pub initial: Dur,
    pub max: Dur,
}

impl Backoff {
    /// Delay before attempt `n + 1` after `n` consecutive failures (n ≥ 1).
    pub fn delay(&self, consecutive_failures: u32) -> u64 {
        let shift = consecutive_failures.saturating_sub(1).min(40);
        self.initial.ns().saturating_mul(1u64 << shift).min(self.max.ns().max(self.initial.ns()))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalingMode {
    #[default]
    OnDemand,
    Provisioned,
    ParallelizationFactor,
}

/// How many invocations run at once. The fields that apply depend on `mode`; validation rejects
/// a field set for another mode rather than ignoring it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
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
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StartingPosition {
    #[default]
    Latest,
    TrimHorizon,
    AtTimestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseType {
    ReportBatchItemFailures,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    pub kind: DestinationKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    Sqs,
    Sns,
    S3,
    Kafka,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    #[default]
    X86_64,
    Arm64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Function {
    pub memory_mb: u32,
    pub architecture: Architecture,
    pub timeout: Dur,
    pub duration: DurationModel,
    pub cold_start: ColdStart,
    pub reserved_concurrency: Option<u32>,
}

impl Default for Function {
    fn default() -> Self {
        Function {
            memory_mb: 128,
            architecture: Architecture::X86_64,
            timeout: Dur::parse("3s"),
            duration: DurationModel::default(),
            cold_start: ColdStart::default(),
            reserved_concurrency: None,
        }
    }
}

/// What one invocation takes: `base + per_record × records + per_kib × payload KiB`, times a
/// lognormal jitter with median 1.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DurationModel {
    pub base: Dur,
    pub per_record: Dur,
    pub per_kib: Dur,
    pub jitter_sigma: f64,
    /// When set, the times above were measured at this memory size and scale by CPU share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_memory_mb: Option<u32>,
}

impl Default for DurationModel {
    fn default() -> Self {
        DurationModel {
            base: Dur::parse("10ms"),
            per_record: Dur(0),
            per_kib: Dur(0),
            jitter_sigma: 0.0,
            reference_memory_mb: None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColdStart {
    /// Init duration of a new execution environment (billed).
    pub init: Dur,
    /// ASSUMED: how long an idle environment is kept warm.
    pub idle_expiry: Dur,
}

impl Default for ColdStart {
    fn default() -> Self {
        ColdStart { init: Dur::parse("300ms"), idle_expiry: Dur::parse("10m") }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Account {
    pub concurrency_limit: u32,
}

impl Default for Account {
    fn default() -> Self {
        Account { concurrency_limit: 1000 }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Failures {
    /// How the handler reacts to a bad record.
    pub handler: Handler,
    pub poison_records: Vec<PoisonRecord>,
    /// Probability that a record is poison: a hash of (seed, partition, offset).
    pub poison_rate: f64,
    /// What a poison record chosen by `poison_rate` does.
    pub poison_rate_effect: Effect,
    /// Probability that an invocation fails as a whole, drawn anew for every attempt.
    pub transient_error_rate: f64,
    /// Probability that the handler fails one record, drawn anew for every attempt.
    pub transient_record_error_rate: f64,
}

/// The handler's reaction to a record it cannot process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handler {
    /// Throw at the first bad record: the whole invocation fails.
    #[default]
    FailBatch,
    /// Process every record and return `batchItemFailures` naming the bad ones.
    ReportFailures,
}

/// What a poison record does to the invocation that meets it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The handler throws at it (or reports it).
    #[default]
    Error,
    /// The handler hangs until the function times out; no partial response is possible.
    Timeout,
    /// The runtime exits: the environment is destroyed and the next invocation is cold.
    Crash,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoisonRecord {
    pub partition: u32,
    pub offset: u64,
    #[serde(default)]
    pub effect: Effect,
}

/// Something that goes wrong between `from` and `until` (by invocation start time).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub kind: FaultKind,
    pub from: Dur,
    pub until: Dur,
    /// `error_burst`: probability that an invocation fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    /// `slowdown`: multiplier on handler durations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Every invocation fails (after the handler's base time).
    FunctionOutage,
    /// Invocations fail with probability `error_rate`, on top of `transient_error_rate`.
    ErrorBurst,
    /// Handler durations are multiplied by `factor`.
    Slowdown,
}

/// Prices in US dollars (us-east-1, AWS_FACTS.md §7). Every one can be overridden.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pricing {
    pub requests_usd_per_million: f64,
    pub gb_second_usd_x86_64: f64,
    pub gb_second_usd_arm64: f64,
    pub epu_hour_usd: f64,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            requests_usd_per_million: 0.20,
            gb_second_usd_x86_64: 0.000_016_666_7,
            gb_second_usd_arm64: 0.000_013_333_4,
            epu_hour_usd: 0.185,
        }
    }
}
