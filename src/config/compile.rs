//! From the scenario file's types to the typed configuration: validation first, then every
//! default and derived value, once.

use super::*;
use crate::engine::{NS_PER_MS, NS_PER_SEC};
use crate::scenario::{self as raw, ScalingMode, Scenario, StartingPosition};

/// A validated configuration and the warnings its scenario raised.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub config: Config,
    pub warnings: Vec<Warning>,
}

/// Checks `s` against AWS's ranges and builds its [`Config`]; the error is the first problem.
/// Traffic files (`rate_from`) are read relative to the current directory.
pub fn compile(s: &Scenario) -> Result<Compiled, Problem> {
    compile_in(s, std::path::Path::new("."))
}

/// As [`compile`], reading traffic files relative to `base` (the scenario file's directory).
pub fn compile_in(s: &Scenario, base: &std::path::Path) -> Result<Compiled, Problem> {
    let warnings = check::validate(s)?;
    crate::scenario::check_handler(s)?;
    let traffic = traffic_of(s, base)?;
    let config = build(s, &traffic)?;
    Ok(Compiled { config, warnings })
}

/// Each producer's traffic file, read and compiled to rate steps.
pub fn traffic_of(s: &Scenario, base: &std::path::Path) -> Result<Vec<Option<traffic::Traffic>>, Problem> {
    s.producers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.rate_from.as_ref().map(|from| traffic::load(from, base, &format!("producers.{i}.rate_from"))).transpose()
        })
        .collect()
}

fn build(s: &Scenario, traffic: &[Option<traffic::Traffic>]) -> Result<Config, Problem> {
    let partitions = s.topic.partitions;
    let topic = TopicConfig {
        name: s.topic.name.clone(),
        partitions,
        retention_ns: s.topic.retention.ns(),
        backlog: s.topic.backlog.as_ref().map(|b| BacklogConfig {
            records: b.records,
            span_ns: b.span.ns(),
            record_bytes: b.record_bytes,
            reach_ns: backlog_reach_ns(s),
        }),
    };
    let producers = s
        .producers
        .iter()
        .zip(traffic)
        .enumerate()
        .map(|(i, (p, t))| producer(p, t.as_ref(), &s.esm, partitions, i))
        .collect::<Result<Vec<_>, Problem>>()?;
    let peak_rate: f64 = producers.iter().map(|p| p.peak_rate).sum();
    let arrival_streams = s.arrival_streams.unwrap_or_default();
    let by_partition = producers.iter().any(|p| super::draws_by_partition(arrival_streams, p));
    Ok(Config {
        name: s.name.clone(),
        seed: s.seed,
        config_hash: hash_with_traffic(crate::config_hash(s), traffic),
        clock: clock(s, peak_rate, by_partition),
        topic,
        producers,
        arrival_streams,
        esm: EsmConfig { filters: filters(&s.esm)?, ..esm(&s.esm, partitions) },
        function: function(s)?,
        failures: failures(&s.failures),
        faults: s.faults.iter().map(fault).collect(),
        pricing: s.pricing.clone(),
    })
}

/// How far before t = 0 the consumer starts reading: the backlog it will consume (capped by
/// retention: older records no longer exist). `LATEST` reads none of it.
fn backlog_reach_ns(s: &Scenario) -> SimTime {
    let Some(backlog) = &s.topic.backlog else { return 0 };
    let reach = match s.esm.starting_position {
        StartingPosition::Latest => 0,
        StartingPosition::TrimHorizon => backlog.span.ns(),
        StartingPosition::AtTimestamp => s.esm.starting_position_age.map_or(0, |age| age.ns()).min(backlog.span.ns()),
    };
    reach.min(s.topic.retention.ns())
}

/// The scenario's hash, and the traffic files' contents when it has any: the same scenario over
/// other data is another run.
fn hash_with_traffic(hash: String, traffic: &[Option<traffic::Traffic>]) -> String {
    use sha2::{Digest, Sha256};
    if traffic.iter().all(Option::is_none) {
        return hash;
    }
    let mut hasher = Sha256::new();
    hasher.update(hash.as_bytes());
    for t in traffic.iter().flatten() {
        hasher.update(t.digest.as_bytes());
    }
    hasher.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn clock(s: &Scenario, peak_rate: f64, by_partition: bool) -> Clock {
    let origin_ns = backlog_reach_ns(s);
    let end_ns = origin_ns + s.duration.ns();
    Clock {
        origin_ns,
        end_ns,
        sample_ns: s.sample_interval.ns(),
        chunk_ns: chunk_ns(peak_rate, end_ns, chunk_records(by_partition, s.topic.partitions, peak_rate)),
        cloudwatch_period_ns: s.cloudwatch_period.map_or(60 * NS_PER_SEC, |p| p.ns()),
        warmup_end_ns: origin_ns + s.warmup.map_or(0, |w| w.ns()),
    }
}

/// The highest rate a producer's steps reach, counting its base rate (even when a step at 0
/// replaces it, as before traffic files).
fn peak_rate(p: &raw::Producer, steps: &[(SimTime, f64)]) -> f64 {
    steps.iter().map(|step| step.1).fold(p.rate.unwrap_or(0.0), f64::max)
}

/// How far ahead producers generate: `records` arrivals per chunk at the peak rate, enough to
/// amortise and small enough to stay in cache.
pub(super) fn chunk_ns(peak_rate: f64, end_ns: SimTime, records: f64) -> SimTime {
    let chunk_ns = if peak_rate > 0.0 { (records / peak_rate * 1e9) as u64 } else { end_ns };
    chunk_ns.clamp(NS_PER_MS, 60 * NS_PER_SEC)
}

/// Arrivals per chunk: about 32k. When a producer draws partition by partition, up to
/// `CHUNK_RECORDS_PER_PARTITION` per partition on average, since each partition's stream costs
/// something per chunk whatever it draws (at 10,000 partitions and 1,000,000 records/s, 32k
/// arrivals are 3 per partition: 4.4 s of CPU for 20 simulated seconds against 2.8 s with 16);
/// but no more than `CHUNK_AHEAD_NS` of traffic at the peak rate, since records held longer
/// ahead of the clock cost more than those visits (at 10,000 partitions and 100,000 records/s,
/// 16 per partition, 1.6 s ahead, took 1.97 s against 1.44 s with 32k arrivals, and at 100,000
/// partitions 7.9 s and 186 MB against 4.4 s and 62 MB). Outputs do not depend on it: only how
/// far ahead records wait.
pub(super) fn chunk_records(by_partition: bool, partitions: u32, peak_rate: f64) -> f64 {
    let floor = 32_768.0;
    if !by_partition {
        return floor;
    }
    let ahead = peak_rate * CHUNK_AHEAD_NS as f64 / 1e9;
    (CHUNK_RECORDS_PER_PARTITION * partitions as f64).min(ahead).max(floor)
}

const CHUNK_RECORDS_PER_PARTITION: f64 = 16.0;
const CHUNK_AHEAD_NS: SimTime = 200 * NS_PER_MS;

fn producer(
    p: &raw::Producer,
    traffic: Option<&traffic::Traffic>,
    esm: &raw::Esm,
    partitions: u32,
    index: usize,
) -> Result<ProducerConfig, Problem> {
    let at = |field: &str| format!("producers.{index}.{field}");
    // Validation made sure there is a rate, or a traffic file (and then no schedule).
    let mut steps = traffic.map_or_else(|| vec![(0, p.rate.unwrap_or(0.0))], |t| t.steps.clone());
    for step in &p.schedule {
        if step.at.ns() == 0 {
            steps[0].1 = step.rate;
        } else {
            steps.push((step.at.ns(), step.rate));
        }
    }
    let partitioner = match p.partitioning {
        raw::Partitioning::Uniform => {
            Partitioner::Uniform(Uniform::new(0, partitions).map_err(|e| problem(at("partitioning"), e.to_string()))?)
        }
        raw::Partitioning::RoundRobin => Partitioner::RoundRobin,
        raw::Partitioning::HotPartition { partition, share } => Partitioner::Hot { partition, share },
        raw::Partitioning::Zipf { exponent } => Partitioner::Zipf {
            dist: Zipf::new(partitions as f64, exponent)
                .map_err(|e| problem(at("partitioning.zipf.exponent"), e.to_string()))?,
            exponent,
        },
    };
    let record_bytes = match &p.record_bytes {
        // The traffic's own bytes per record win over record_bytes.
        _ if traffic.and_then(|t| t.record_bytes).is_some() => {
            Dist::Fixed(traffic.and_then(|t| t.record_bytes).unwrap_or(0))
        }
        raw::RecordBytes::Fixed(n) => Dist::Fixed(*n),
        raw::RecordBytes::Distribution(raw::SizeDistribution::Uniform { min, max }) => {
            Dist::Uniform { min: *min, max: *max }
        }
        raw::RecordBytes::Distribution(raw::SizeDistribution::Lognormal { median, sigma }) => Dist::LogNormal {
            scale: 1.0,
            shape: LogNormal::new(median.ln(), *sigma).map_err(|e| problem(at("record_bytes"), e.to_string()))?,
        },
    };
    Ok(ProducerConfig {
        arrivals: p.arrivals,
        peak_rate: peak_rate(p, &steps),
        steps,
        record_bytes,
        key_bytes: p.key_bytes as u64,
        partitioner,
        header_payload_bytes: esm.header_payload_bytes(p.header_count, p.header_bytes),
        header_stored_bytes: p.header_bytes,
        value: p.value.as_ref().map(|v| value_template(v, &at("value"))).transpose()?,
    })
}

/// A producer's value template, compiled (ranges were checked in `check`).
fn value_template(v: &raw::ValueTemplate, at: &str) -> Result<crate::model::value::Template, Problem> {
    use crate::model::value::{Field, Template};
    let fields = v
        .fields
        .iter()
        .map(|(name, spec)| {
            let field = match spec {
                raw::FieldSpec::Constant(value) => Field::Constant(value.clone()),
                raw::FieldSpec::OneOf { values, weights } => {
                    let weights = if weights.is_empty() { vec![1.0; values.len()] } else { weights.clone() };
                    let total: f64 = weights.iter().sum();
                    let mut sum = 0.0;
                    let mut cumulative: Vec<f64> = weights
                        .iter()
                        .map(|w| {
                            sum += w;
                            sum / total
                        })
                        .collect();
                    *cumulative.last_mut().expect("checked non-empty") = 1.0;
                    Field::OneOf { values: values.clone(), cumulative }
                }
                &raw::FieldSpec::Uniform { min, max } => Field::Uniform { min, max },
                &raw::FieldSpec::Integer { min, max } => Field::Integer { min, max },
                &raw::FieldSpec::Normal { mean, sd } => Field::Normal { mean, sd },
            };
            (name.clone(), field)
        })
        .collect();
    Template::new(fields, v.non_json_share, v.non_json_text.clone()).map_err(|e| problem(format!("{at}.fields"), e))
}

/// The mapping's filter patterns, parsed.
fn filters(e: &raw::Esm) -> Result<Option<Vec<crate::model::esm::filter::Node>>, Problem> {
    let Some(criteria) = &e.filter_criteria else { return Ok(None) };
    let parsed = criteria
        .filters
        .iter()
        .enumerate()
        .map(|(i, f)| {
            crate::model::esm::filter::parse_pattern(&f.pattern)
                .map_err(|m| problem(format!("esm.filter_criteria.Filters.{i}.Pattern"), m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(parsed))
}

fn esm(e: &raw::Esm, partitions: u32) -> EsmConfig {
    let scaling = match (e.scaling.mode, poller_plan(&e.scaling, partitions)) {
        (ScalingMode::OnDemand, Some(plan)) => Scaling::OnDemand(plan),
        (ScalingMode::Provisioned, Some(plan)) => Scaling::Provisioned(plan),
        _ => Scaling::Factor { factor: e.scaling.factor.unwrap_or(1) },
    };
    let backoff = |b: &raw::Backoff| Backoff { initial_ns: b.initial.ns(), max_ns: b.max.ns() };
    EsmConfig {
        rules: BatchRules {
            batch_size: e.batch_size as usize,
            window_ns: e.batching_window.ns(),
            record_budget_bytes: e.max_payload_bytes.saturating_sub(e.payload_envelope_bytes),
        },
        payload: PayloadRule::of(e),
        envelope_bytes: e.payload_envelope_bytes,
        scaling,
        retry_limit: retry_limit(e),
        max_record_age_ns: e.maximum_record_age.0,
        bisect_on_error: e.bisect_batch_on_function_error,
        bisect_resets_retries: e.bisect_resets_retries,
        reports_batch_item_failures: e.reports_batch_item_failures(),
        partial_batch_commit: e.partial_batch_commit,
        destination: e.on_failure_destination.as_ref().map(|d| d.kind),
        throttles_count_as_retries: e.throttles_count_as_retries,
        retry_backoff: backoff(&e.retry_backoff),
        throttle_backoff: backoff(&e.throttle_backoff),
        filters: None,
        registry: e.schema_registry.as_ref().map(|r| RegistryConfig {
            schema_not_found_rate: r.schema_not_found_rate,
            deserialization_error_rate: r.deserialization_error_rate,
            epu_factor: r.epu_factor,
        }),
    }
}

/// `maximum_retry_attempts`, whose `-1` means infinite; AWS caps infinite retries at 10 when an
/// on-failure destination is set.
fn retry_limit(e: &raw::Esm) -> RetryLimit {
    match (u32::try_from(e.maximum_retry_attempts), &e.on_failure_destination) {
        (Ok(n), _) => RetryLimit::Attempts(n),
        (Err(_), Some(_)) => RetryLimit::Attempts(10),
        (Err(_), None) => RetryLimit::Infinite,
    }
}

/// The poller settings of `on_demand` and `provisioned` mode (`None` for the factor mode).
/// Poller counts are capped at the partition count: at most one poller per partition.
pub(super) fn poller_plan(sc: &raw::Scaling, partitions: u32) -> Option<PollerPlan> {
    // ASSUMED timing: on demand, AWS evaluates every minute and acts "within three minutes";
    // provisioned autoscaling is described as responsive: every 30 s, acting 30 s later.
    let (min, max, initial, per_poller, every, delay) = match sc.mode {
        ScalingMode::ParallelizationFactor => return None,
        ScalingMode::OnDemand => {
            let initial = sc.initial_pollers.unwrap_or(1);
            (1, partitions, initial, sc.invocations_per_poller.unwrap_or(1), 60, 180)
        }
        ScalingMode::Provisioned => {
            let min = sc.min_pollers.unwrap_or(1);
            (min, sc.max_pollers.unwrap_or(200), min, sc.invocations_per_poller.unwrap_or(5), 30, 30)
        }
    };
    let cap = |n: u32| n.clamp(1, partitions.max(1));
    let (min, max) = (cap(min), cap(max));
    let or = |d: Option<raw::Dur>, default_ns: SimTime| d.map_or(default_ns, raw::Dur::ns);
    Some(PollerPlan {
        initial: initial.clamp(min, max),
        min,
        max,
        invocations_per_poller: per_poller,
        evaluation_interval_ns: or(sc.evaluation_interval, every * NS_PER_SEC),
        scale_delay_ns: or(sc.scale_delay, delay * NS_PER_SEC),
        scale_up_lag_per_poller: sc.scale_up_lag_per_poller.unwrap_or(1_000),
        scale_down_utilization: sc.scale_down_utilization.unwrap_or(0.5),
        rebalance_pause_ns: or(sc.rebalance_pause, 5 * NS_PER_SEC),
        bytes_per_second: sc.poller_bytes_per_second.unwrap_or(5_000_000),
    })
}

/// A time setting as the distribution it is drawn from.
fn time_dist(t: &raw::TimeDistribution, path: &str) -> Result<Dist, Problem> {
    Ok(match t {
        raw::TimeDistribution::Fixed(d) => Dist::Fixed(d.ns()),
        raw::TimeDistribution::Distribution(raw::TimeShape::Uniform { min, max }) => {
            Dist::Uniform { min: min.ns(), max: max.ns() }
        }
        raw::TimeDistribution::Distribution(raw::TimeShape::Lognormal { median, sigma }) => Dist::LogNormal {
            scale: median.ns() as f64,
            shape: LogNormal::new(0.0, *sigma).map_err(|e| problem(path, e.to_string()))?,
        },
    })
}

fn function(s: &Scenario) -> Result<FunctionConfig, Problem> {
    let f = &s.function;
    let init = time_dist(&f.cold_start.init, "function.cold_start.init")?;
    let snapstart = match &f.snapstart.0 {
        Some(settings) => Some(SnapStartConfig {
            restore: time_dist(&settings.restore, "function.snapstart.restore")?,
            charged: f.runtime.as_deref().is_some_and(super::runtime::snapstart_charged),
        }),
        None => None,
    };
    Ok(FunctionConfig {
        memory_mb: f.memory_mb,
        architecture: f.architecture,
        timeout_ns: f.timeout.ns(),
        duration: DurationSpec::new(f),
        init,
        idle_expiry_ns: f.cold_start.idle_expiry.ns(),
        init_limit_ns: f.cold_start.init_limit.ns(),
        reserved_concurrency: f.reserved_concurrency,
        burst_environments: f.burst_limit.environments,
        burst_every_ns: f.burst_limit.every.ns(),
        account_limit: s.account.concurrency_limit,
        other_concurrency: s.account.other_concurrency.0.iter().map(|step| (step.at.ns(), step.value)).collect(),
        provisioned: f.provisioned_concurrency,
        snapstart,
    })
}

impl DurationSpec {
    /// The duration model of a function as the file gives it. A jitter whose sigma the
    /// validation would reject is left out rather than failing here.
    pub(super) fn new(f: &raw::Function) -> Self {
        let d = &f.duration;
        // A handler gains CPU up to as many vCPUs as it has threads.
        let speed = |memory_mb: u32| vcpus(memory_mb).min(d.threads as f64);
        let memory_scale = match d.reference_memory_mb {
            Some(reference) => speed(reference) / speed(f.memory_mb),
            None => 1.0,
        };
        let architecture_scale = match f.architecture {
            Architecture::X86_64 => 1.0,
            Architecture::Arm64 => d.arm64_factor,
        };
        DurationSpec {
            base_ns: d.base.ns() as f64,
            per_record_ns: d.per_record.ns() as f64,
            per_kib_ns: d.per_kib.ns() as f64,
            scale: memory_scale * architecture_scale,
            jitter: (d.jitter_sigma > 0.0).then(|| LogNormal::new(0.0, d.jitter_sigma).ok()).flatten(),
        }
    }
}

fn failures(f: &raw::Failures) -> FailureConfig {
    let mut listed: Vec<_> = f.poison_records.iter().map(|p| (p.partition, p.offset, p.effect)).collect();
    listed.sort_by_key(|&(p, o, _)| (p, o));
    listed.dedup_by_key(|&mut (p, o, _)| (p, o));
    FailureConfig {
        handler: f.handler,
        poison_records: listed,
        poison_rate: f.poison_rate,
        poison_rate_effect: f.poison_rate_effect,
        transient_error_rate: f.transient_error_rate,
        transient_record_error_rate: f.transient_record_error_rate,
    }
}

/// A validated fault: the kind decides which value it carries.
fn fault(x: &raw::Fault) -> Fault {
    let window = Window { from_ns: x.from.ns(), until_ns: x.until.ns() };
    match x.kind {
        raw::FaultKind::FunctionOutage => Fault::FunctionOutage(window),
        raw::FaultKind::ErrorBurst => Fault::ErrorBurst { window, error_rate: x.error_rate.unwrap_or(0.0) },
        raw::FaultKind::Slowdown => Fault::Slowdown { window, factor: x.factor.unwrap_or(1.0) },
        raw::FaultKind::Rebalance => Fault::Rebalance(window),
    }
}
