//! The typed configuration: what a validated scenario means, in the simulator's own terms.
//!
//! The scenario file's serde types ([`crate::scenario`]) are the public contract; they keep the
//! user's spelling (durations as strings, `-1` sentinels, optional fields per mode).
//! [`compile`] checks them against AWS's ranges and turns them into a [`Config`]: integer
//! nanoseconds, every default filled in, enums that admit only legal combinations, and sampling
//! distributions already built. Model constructors take their slice of a `Config` and cannot
//! fail. This module is the only home of defaults that depend on other fields and of ranges.

mod check;
mod compile;
mod pricing;
pub mod runtime;
pub mod traffic;
mod vocabulary;

pub use check::{Problem, Warning, check_identifier, problem};
pub use compile::{Compiled, compile, compile_in, traffic_of};
pub use pricing::{EpuBilling, Pricing, ProvisionedConcurrencyPrices, SnapStartPrices, Tier};
pub use vocabulary::*;

use crate::engine::SimTime;
use rand::RngExt;
use rand_distr::{Distribution, LogNormal, Uniform, Zipf};

/// Everything a run needs, validated. Times are nanoseconds on the simulation clock, whose
/// `clock.origin_ns` is the scenario's t = 0 (later than 0 when a backlog is read first).
#[derive(Clone, Debug)]
pub struct Config {
    /// The scenario's name (it appears in ARNs of failure records).
    pub name: String,
    pub seed: u64,
    /// A short hash of everything that shapes a run except its seed, name and description.
    pub config_hash: String,
    pub clock: Clock,
    pub topic: TopicConfig,
    pub producers: Vec<ProducerConfig>,
    /// How Poisson producers draw their arrivals.
    pub arrival_streams: ArrivalStreams,
    pub esm: EsmConfig,
    pub function: FunctionConfig,
    pub failures: FailureConfig,
    pub faults: Vec<Fault>,
    pub pricing: Pricing,
}

impl Config {
    /// Whether producer `p` draws its arrivals partition by partition: a Poisson producer under
    /// `per_partition` streams (constant arrivals keep their one stream: their times are not
    /// random, only their partitions).
    pub fn draws_by_partition(&self, p: &ProducerConfig) -> bool {
        draws_by_partition(self.arrival_streams, p)
    }

    /// Whether any producer draws partition by partition.
    pub fn any_draws_by_partition(&self) -> bool {
        self.producers.iter().any(|p| self.draws_by_partition(p))
    }

    /// The same configuration with every producer's rates multiplied by `factor` (capacity
    /// studies), as if the scenario's rates had been.
    pub fn with_rates_scaled(&self, factor: f64) -> Config {
        let mut c = self.clone();
        for p in &mut c.producers {
            p.steps.iter_mut().for_each(|step| step.1 *= factor);
            p.peak_rate *= factor;
        }
        let peak: f64 = c.producers.iter().map(|p| p.peak_rate).sum();
        let records = compile::chunk_records(c.any_draws_by_partition(), c.topic.partitions, peak);
        c.clock.chunk_ns = compile::chunk_ns(peak, c.clock.end_ns, records);
        c
    }
}

/// The run's span and rhythm.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub origin_ns: SimTime,
    pub end_ns: SimTime,
    pub sample_ns: SimTime,
    /// Producers generate arrivals this far ahead at a time.
    pub chunk_ns: SimTime,
    /// One `cloudwatch.csv` row per this period.
    pub cloudwatch_period_ns: SimTime,
    /// Statistics of the steady state start here (`origin_ns` without a warm-up).
    pub warmup_end_ns: SimTime,
}

impl Clock {
    /// The same clock with t = 0 at `origin_ns` (mappings of one scenario share one clock).
    pub fn rebased(self, origin_ns: SimTime) -> Clock {
        let shift = |t: SimTime| t - self.origin_ns + origin_ns;
        Clock { origin_ns, end_ns: shift(self.end_ns), warmup_end_ns: shift(self.warmup_end_ns), ..self }
    }

    /// Where the chunk of arrivals generated after those before `horizon_ns` ends: a chunk
    /// later, or at the run's end. The simulation and its lookahead thread agree on chunks
    /// through this.
    pub fn chunk_end_after(&self, horizon_ns: SimTime) -> SimTime {
        horizon_ns.saturating_add(self.chunk_ns).min(self.end_ns)
    }

    /// Time-series rows the run produces.
    pub fn intervals(&self) -> usize {
        (self.end_ns - self.origin_ns).div_ceil(self.sample_ns) as usize
    }
}

#[derive(Clone, Debug)]
pub struct TopicConfig {
    pub name: String,
    pub partitions: u32,
    pub retention_ns: SimTime,
    pub backlog: Option<BacklogConfig>,
}

/// Records already in the topic at t = 0, as far as the consumer reads them.
#[derive(Clone, Copy, Debug)]
pub struct BacklogConfig {
    /// Records per partition, evenly spaced over `span_ns` before t = 0.
    pub records: u64,
    pub span_ns: SimTime,
    pub record_bytes: u64,
    /// How far before t = 0 the consumer starts reading (0 reads none of it).
    pub reach_ns: SimTime,
}

#[derive(Clone, Debug)]
pub struct ProducerConfig {
    pub arrivals: Arrivals,
    /// Rate steps as (start after t = 0, records per second); the first starts at 0.
    pub steps: Vec<(SimTime, f64)>,
    /// The highest of the base rate and every step's rate.
    pub peak_rate: f64,
    pub record_bytes: Dist,
    pub key_bytes: u64,
    pub partitioner: Partitioner,
    /// Headers: payload bytes they add to each record, and bytes stored in Kafka.
    pub header_payload_bytes: u64,
    pub header_stored_bytes: u64,
    /// The record values' template (event filtering); `None` writes `{}`.
    pub value: Option<crate::model::value::Template>,
}

fn draws_by_partition(streams: ArrivalStreams, p: &ProducerConfig) -> bool {
    streams == ArrivalStreams::PerPartition && p.arrivals == Arrivals::Poisson
}

/// Which partition a producer writes each record to.
#[derive(Clone, Debug)]
pub enum Partitioner {
    Uniform(Uniform<u32>),
    RoundRobin,
    Hot { partition: u32, share: f64 },
    Zipf { dist: Zipf<f64>, exponent: f64 },
}

impl Partitioner {
    /// Each of `partitions` partitions' share of the records (round-robin: an equal share).
    pub fn shares(&self, partitions: u32) -> Vec<f64> {
        let n = partitions as usize;
        match *self {
            Partitioner::Uniform(_) | Partitioner::RoundRobin => vec![1.0 / n as f64; n],
            Partitioner::Hot { .. } if n == 1 => vec![1.0],
            Partitioner::Hot { partition, share } => {
                let mut shares = vec![(1.0 - share) / (n - 1) as f64; n];
                shares[partition as usize] = share;
                shares
            }
            // rand_distr's Zipf draws k in 1..=n with weight k^-s; partition k - 1 takes it.
            Partitioner::Zipf { exponent, .. } => {
                let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-exponent)).collect();
                let total: f64 = weights.iter().sum();
                weights.iter().map(|w| w / total).collect()
            }
        }
    }
}

/// A sampled quantity: fixed, uniform on `min..=max`, or `scale ×` a log-normal draw.
#[derive(Clone, Debug)]
pub enum Dist {
    Fixed(u64),
    Uniform { min: u64, max: u64 },
    LogNormal { scale: f64, shape: LogNormal<f64> },
}

impl Dist {
    /// One draw, a log-normal one rounded and capped at `cap` (an extreme draw would
    /// otherwise overflow what it sizes).
    #[inline(always)]
    pub fn sample(&self, rng: &mut impl rand::Rng, cap: f64) -> u64 {
        match self {
            Dist::Fixed(n) => *n,
            Dist::Uniform { min, max } => rng.random_range(*min..=*max),
            Dist::LogNormal { scale, shape } => (scale * shape.sample(rng)).round().min(cap) as u64,
        }
    }
}

/// How the ESM's invocation payload counts a record: key and value each base64-encoded (with
/// padding), plus a JSON overhead (README, "Batching rules"). A schema registry with
/// `event_record_format` `JSON` first scales the attributes it deserialises.
#[derive(Clone, Copy, Debug)]
pub struct PayloadRule {
    pub record_overhead_bytes: u64,
    /// How many times larger the key and the value are in the event than in Kafka (1 but for
    /// attributes a schema registry deserialises into JSON).
    pub key_scale: f64,
    pub value_scale: f64,
}

impl PayloadRule {
    /// The rule without a schema registry.
    pub fn new(record_overhead_bytes: u64) -> Self {
        PayloadRule { record_overhead_bytes, key_scale: 1.0, value_scale: 1.0 }
    }

    /// The rule of a scenario's `esm` settings, its schema registry included.
    pub fn of(esm: &crate::scenario::Esm) -> Self {
        use crate::scenario::SchemaAttribute;
        let rule = PayloadRule::new(esm.payload_record_overhead_bytes);
        let Some(registry) = &esm.schema_registry else { return rule };
        let factor = registry.size_factor();
        let scale = |attribute| if registry.validate.contains(&attribute) { factor } else { 1.0 };
        PayloadRule { key_scale: scale(SchemaAttribute::Key), value_scale: scale(SchemaAttribute::Value), ..rule }
    }

    /// `4⌈k·key/3⌉ + 4⌈v·value/3⌉ + overhead`, each scaled size rounded up to a whole byte.
    pub fn payload_bytes(self, key_bytes: u64, value_bytes: u64) -> u64 {
        // Saturating: a lognormal draw can be absurdly large; it is then simply oversize.
        base64_bytes(scaled(key_bytes, self.key_scale))
            .saturating_add(base64_bytes(scaled(value_bytes, self.value_scale)))
            .saturating_add(self.record_overhead_bytes)
    }
}

/// `n` bytes `factor` times larger, rounded up (`n` itself at factor 1, the common case).
#[inline]
fn scaled(n: u64, factor: f64) -> u64 {
    // A float-to-integer cast saturates: an absurd product is simply oversize.
    if factor == 1.0 { n } else { (n as f64 * factor).ceil() as u64 }
}

/// Bytes of `n` bytes in base64, padded to whole 4-character groups.
pub fn base64_bytes(n: u64) -> u64 {
    n.div_ceil(3).saturating_mul(4)
}

/// The limits a batch is formed under (README, "Batching rules").
#[derive(Clone, Copy, Debug)]
pub struct BatchRules {
    pub batch_size: usize,
    pub window_ns: SimTime,
    /// `max_payload_bytes` less the envelope: what the records themselves may take.
    pub record_budget_bytes: u64,
}

impl BatchRules {
    /// Whether `matched` records (those that reach the function) of `payload_bytes` trigger a
    /// batch: `batch_size` of them, or more payload than the budget.
    pub fn triggered_by(&self, matched: u64, payload_bytes: u64) -> bool {
        self.hold(matched, payload_bytes, 1)
    }

    /// Whether `log` holds `batches` full batches' worth (by count of the records that reach
    /// the function, or by payload): then the next batch is formed from it, whatever follows.
    pub fn log_holds(&self, log: &crate::model::topic::Partition, batches: u64) -> bool {
        self.hold(log.matched_len(), log.payload_len(), batches)
    }

    /// As `log_holds`, for the first `records` of the log.
    #[inline]
    pub fn first_hold(&self, log: &crate::model::topic::Partition, records: usize, batches: u64) -> bool {
        // No records hold nothing (most logs at a chunk of a large topic): no sums to look up.
        records > 0 && self.hold(log.matched_of_first(records), log.payload_of_first(records), batches)
    }

    fn hold(&self, matched: u64, payload_bytes: u64, batches: u64) -> bool {
        matched >= batches * self.batch_size as u64 || payload_bytes > batches.saturating_mul(self.record_budget_bytes)
    }
}

#[derive(Clone, Debug)]
pub struct EsmConfig {
    pub rules: BatchRules,
    pub payload: PayloadRule,
    pub envelope_bytes: u64,
    pub scaling: Scaling,
    pub retry_limit: RetryLimit,
    pub max_record_age_ns: Option<SimTime>,
    pub bisect_on_error: bool,
    pub bisect_resets_retries: bool,
    pub reports_batch_item_failures: bool,
    pub partial_batch_commit: PartialBatchCommit,
    pub destination: Option<DestinationKind>,
    pub throttles_count_as_retries: bool,
    pub retry_backoff: Backoff,
    pub throttle_backoff: Backoff,
    /// `FilterCriteria` patterns (OR-ed); `None` without filtering.
    pub filters: Option<Vec<crate::model::esm::filter::Node>>,
    /// The schema registry's per-record failures and EPU factor; `None` without a registry (its
    /// JSON size factor is in `payload`).
    pub registry: Option<RegistryConfig>,
}

/// What a schema registry (`esm.schema_registry`) does beyond the payload's size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegistryConfig {
    pub schema_not_found_rate: f64,
    pub deserialization_error_rate: f64,
    /// Polled bytes count this many times towards Event Poller Units.
    pub epu_factor: f64,
}

/// How many invocations run at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scaling {
    /// The seed article's model: at most `factor` partitions have a batch in flight.
    Factor { factor: u32 },
    /// Pollers autoscale on offset lag (AWS's default mode).
    OnDemand(PollerPlan),
    /// Pollers between a minimum and a maximum, billed in Event Poller Units.
    Provisioned(PollerPlan),
}

impl Scaling {
    /// The poller settings, in the modes that have pollers.
    pub fn pollers(&self) -> Option<&PollerPlan> {
        match self {
            Scaling::Factor { .. } => None,
            Scaling::OnDemand(plan) | Scaling::Provisioned(plan) => Some(plan),
        }
    }
}

/// The scaling settings of a poller mode with every default filled in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PollerPlan {
    pub initial: u32,
    pub min: u32,
    pub max: u32,
    pub invocations_per_poller: u32,
    pub evaluation_interval_ns: u64,
    pub scale_delay_ns: u64,
    pub scale_up_lag_per_poller: u64,
    pub scale_down_utilization: f64,
    pub rebalance_pause_ns: u64,
    pub bytes_per_second: u64,
}

/// Retries after the first attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryLimit {
    Infinite,
    Attempts(u32),
}

impl RetryLimit {
    /// Whether `failed_attempts` failed attempts use up the limit.
    pub fn exhausted_by(self, failed_attempts: u32) -> bool {
        matches!(self, RetryLimit::Attempts(limit) if failed_attempts > limit)
    }
}

/// Exponential backoff: `initial_ns`, doubling after each consecutive failure, at most `max_ns`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub initial_ns: SimTime,
    pub max_ns: SimTime,
}

impl Backoff {
    /// Delay before attempt `n + 1` after `n` consecutive failures (n ≥ 1).
    pub fn delay(&self, consecutive_failures: u32) -> SimTime {
        let shift = consecutive_failures.saturating_sub(1).min(40);
        self.initial_ns.saturating_mul(1u64 << shift).min(self.max_ns.max(self.initial_ns))
    }
}

#[derive(Clone, Debug)]
pub struct FunctionConfig {
    pub memory_mb: u32,
    pub architecture: Architecture,
    pub timeout_ns: SimTime,
    pub duration: DurationSpec,
    /// Init time of a new execution environment, in nanoseconds.
    pub init: Dist,
    pub idle_expiry_ns: SimTime,
    /// Init longer than this is cut off and run again inside the first invocation.
    pub init_limit_ns: SimTime,
    pub reserved_concurrency: Option<u32>,
    pub burst_environments: u32,
    pub burst_every_ns: SimTime,
    pub account_limit: u32,
    /// Concurrency the account's other functions use, as (time after t = 0, value) steps.
    pub other_concurrency: Vec<(SimTime, u32)>,
    /// Provisioned concurrency: environments initialised before t = 0 (0 = none).
    pub provisioned: u32,
    pub snapstart: Option<SnapStartConfig>,
}

/// SnapStart: new environments resume from the snapshot in `restore` instead of running init.
#[derive(Clone, Debug)]
pub struct SnapStartConfig {
    pub restore: Dist,
    /// The runtime is one whose snapshot cache and restores AWS charges (Python, .NET).
    pub charged: bool,
}

/// The handler's time for a batch at the configured memory and architecture, before jitter.
#[derive(Clone, Debug)]
pub struct DurationSpec {
    pub base_ns: f64,
    pub per_record_ns: f64,
    pub per_kib_ns: f64,
    /// Multiplier from the reference memory size and x86_64 to the configured ones.
    pub scale: f64,
    pub jitter: Option<LogNormal<f64>>,
}

impl DurationSpec {
    /// Handler time for `records` records of `payload_bytes` with a drawn `jitter`.
    pub fn handler_ns(&self, records: u64, payload_bytes: u64, jitter: f64) -> SimTime {
        let work = self.base_ns + self.per_record_ns * records as f64 + self.per_kib_ns * payload_bytes as f64 / 1024.0;
        (work * self.scale * jitter).round() as SimTime
    }
}

/// vCPUs Lambda gives a memory size: in proportion to memory, 1 at 1,769 MB, 6 at 10,240 MB
/// (configuration-memory); linear between the two documented points.
pub fn vcpus(memory_mb: u32) -> f64 {
    let m = memory_mb as f64;
    if m <= 1769.0 { m / 1769.0 } else { 1.0 + (m - 1769.0) * 5.0 / (10_240.0 - 1769.0) }
}

#[derive(Clone, Debug)]
pub struct FailureConfig {
    pub handler: HandlerBehaviour,
    /// Listed poison records, sorted by (partition, offset), one per record.
    pub poison_records: Vec<(u32, u64, Effect)>,
    pub poison_rate: f64,
    pub poison_rate_effect: Effect,
    pub transient_error_rate: f64,
    pub transient_record_error_rate: f64,
}

/// Something that goes wrong during `window`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// Every invocation fails (after the handler's base time).
    FunctionOutage(Window),
    /// Invocations fail with probability `error_rate`, on top of the transient error rate.
    ErrorBurst { window: Window, error_rate: f64 },
    /// Handler durations are multiplied by `factor`.
    Slowdown { window: Window, factor: f64 },
    /// The consumer group rebalances: no new batches during the window.
    Rebalance(Window),
}

impl Fault {
    pub fn window(&self) -> Window {
        match *self {
            Fault::FunctionOutage(w) | Fault::Rebalance(w) => w,
            Fault::ErrorBurst { window, .. } | Fault::Slowdown { window, .. } => window,
        }
    }
}

/// `from_ns..until_ns` after t = 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from_ns: SimTime,
    pub until_ns: SimTime,
}
