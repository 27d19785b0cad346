//! Validation of a scenario against AWS's ranges (README's reference gives each range and its
//! source). Errors stop the run; warnings flag settings that are legal but probably not what the
//! user meant.

use super::{DurationSpec, PayloadRule};
use crate::engine::{NS_PER_MS, NS_PER_SEC};
use crate::scenario::*;
use crate::text::{number, shown};
use serde::Serialize;
use std::fmt;

/// A legal but suspicious setting, printed on stderr; the run continues.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// What is wrong with a field: its dotted path, and the problem with what is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

pub fn problem(path: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem { path: path.into(), message: message.into() }
}

fn ensure(ok: bool, path: impl Into<String>, message: impl Into<String>) -> Result<(), Problem> {
    if ok { Ok(()) } else { Err(problem(path, message)) }
}

fn check_fraction(value: f64, path: &str) -> Result<(), Problem> {
    ensure((0.0..=1.0).contains(&value), path, format!("{} is out of range; allowed: 0 to 1", number(value)))
}

/// Records per second a producer may write: far above any real topic, low enough that one
/// millisecond's arrivals (the shortest chunk generated at once) fit in memory.
const MAX_RATE: f64 = 1e9;

fn check_rate(value: f64, path: &str) -> Result<(), Problem> {
    check_non_negative(value, path)?;
    ensure(value <= MAX_RATE, path, format!("{} is out of range; allowed: 0 to 1e9 records/s", number(value)))
}

fn check_non_negative(value: f64, path: &str) -> Result<(), Problem> {
    ensure(
        value.is_finite() && value >= 0.0,
        path,
        format!("{} is not allowed; must be a finite number ≥ 0", number(value)),
    )
}

/// The most characters a name may have.
const MAX_NAME_CHARS: usize = 100;

/// The name is the default output directory under `reports/`, so it must be an identifier and
/// never a path: no `/`, no `..`, nothing absolute.
fn check_name(name: &str) -> Result<(), Problem> {
    check_identifier(name, "name", MAX_NAME_CHARS)
}

/// A name that becomes a folder (a scenario's, a mapping's): letters, digits, `.`, `_`, `-`, not
/// starting with `.`, 1 to `max_chars` characters.
pub fn check_identifier(name: &str, path: &str, max_chars: usize) -> Result<(), Problem> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    ensure(
        !name.is_empty() && name.len() <= max_chars && !name.starts_with('.') && name.chars().all(allowed),
        path,
        format!(
            "{} is not allowed; a name is letters, digits, '.', '_' and '-', not starting with '.', \
             1 to {max_chars} characters",
            shown(name)
        ),
    )
}

const MAX_PAYLOAD_BYTES: u64 = 6_291_456;
/// Rows of the time series a run may have.
const MAX_SAMPLES: u64 = 1_000_000;
/// Bytes of a record's key or value: far above Kafka's limits, low enough for exact arithmetic.
const MAX_RECORD_BYTES: u64 = 1 << 30;
const MAX_KAFKA_TIMEOUT_NS: u64 = 14 * 60 * NS_PER_SEC;
/// A run's duration, and a backlog's span: 100 years each keeps every instant of the clock below
/// 2^63 ns, which arrival times are converted through.
const MAX_SPAN_NS: u64 = 36_500 * 86_400 * NS_PER_SEC;

/// Checks every range; returns the warnings, or the first problem.
pub fn validate(s: &Scenario) -> Result<Vec<Warning>, Problem> {
    let mut warnings = Vec::new();
    check_name(&s.name)?;
    ensure(s.duration.ns() > 0, "duration", "must be longer than 0s")?;
    ensure(s.duration.ns() <= MAX_SPAN_NS, "duration", "at most 36500d (100 years) is supported")?;
    ensure(s.sample_interval.ns() > 0, "sample_interval", "must be longer than 0s")?;
    ensure(
        s.sample_interval <= s.duration,
        "sample_interval",
        format!("{} is longer than the run's duration {}", s.sample_interval, s.duration),
    )?;
    ensure(
        s.duration.ns() / s.sample_interval.ns() <= MAX_SAMPLES,
        "sample_interval",
        format!("{} gives more than {MAX_SAMPLES} rows over {}; use a longer interval", s.sample_interval, s.duration),
    )?;
    if let Some(warmup) = s.warmup {
        ensure(
            warmup < s.duration,
            "warmup",
            format!("{warmup} is not shorter than the run's duration {}", s.duration),
        )?;
        ensure(
            warmup.ns() % s.sample_interval.ns() == 0,
            "warmup",
            format!("{warmup} must be a whole number of sample intervals ({})", s.sample_interval),
        )?;
    }
    if let Some(period) = s.cloudwatch_period {
        ensure(period.ns() >= NS_PER_SEC, "cloudwatch_period", "must be at least 1s")?;
        ensure(
            s.duration.ns() / period.ns() <= MAX_SAMPLES,
            "cloudwatch_period",
            format!("{period} gives more than {MAX_SAMPLES} rows over {}; use a longer period", s.duration),
        )?;
    }
    ensure(s.topic.partitions >= 1, "topic.partitions", "must be at least 1")?;
    ensure(s.topic.partitions <= 100_000, "topic.partitions", "at most 100000 partitions are supported")?;
    ensure(s.topic.retention.ns() > 0, "topic.retention", "must be longer than 0s")?;
    check_producers(s, &mut warnings)?;
    check_esm(s, &mut warnings)?;
    check_function(s, &mut warnings)?;
    check_failures(s)?;
    check_filters(s, &mut warnings)?;
    check_schema_registry(s)?;
    check_pricing(&s.pricing)?;
    Ok(warnings)
}

fn check_producers(s: &Scenario, warnings: &mut Vec<Warning>) -> Result<(), Problem> {
    if s.producers.is_empty() {
        warnings.push(Warning { path: "producers".into(), message: "no producers: the topic stays empty".into() });
    }
    if s.arrival_streams == Some(crate::config::ArrivalStreams::PerPartition)
        && !s.producers.is_empty()
        && s.producers.iter().all(|p| p.arrivals == crate::config::Arrivals::Constant)
    {
        warnings.push(Warning {
            path: "arrival_streams".into(),
            message: "per_partition changes nothing here: it draws Poisson arrivals, and every producer's are constant"
                .into(),
        });
    }
    let partitions = s.topic.partitions;
    for (i, p) in s.producers.iter().enumerate() {
        let at = |field: &str| format!("producers.{i}.{field}");
        match (p.rate, &p.rate_from) {
            (Some(rate), None) => check_rate(rate, &at("rate"))?,
            (None, Some(_)) => ensure(
                p.schedule.is_empty(),
                at("schedule"),
                "a producer with rate_from takes its rates from the file; remove the schedule",
            )?,
            (Some(_), Some(_)) => {
                return Err(problem(at("rate"), "give rate or rate_from, not both"));
            }
            (None, None) => {
                return Err(problem(at("rate"), "missing field `rate` (records/s), or rate_from with a traffic file"));
            }
        }
        ensure(p.key_bytes as u64 <= MAX_RECORD_BYTES, at("key_bytes"), "at most 1 GiB")?;
        let too_big = match &p.record_bytes {
            RecordBytes::Fixed(n) => *n > MAX_RECORD_BYTES,
            RecordBytes::Distribution(SizeDistribution::Uniform { max, .. }) => *max > MAX_RECORD_BYTES,
            RecordBytes::Distribution(SizeDistribution::Lognormal { median, .. }) => *median > MAX_RECORD_BYTES as f64,
        };
        ensure(!too_big, at("record_bytes"), "at most 1 GiB (1073741824 bytes)")?;
        let mut previous = None;
        for (j, step) in p.schedule.iter().enumerate() {
            check_rate(step.rate, &at(&format!("schedule.{j}.rate")))?;
            ensure(
                previous.is_none_or(|prev| step.at > prev),
                at(&format!("schedule.{j}.at")),
                "schedule steps must be in strictly increasing time order",
            )?;
            previous = Some(step.at);
        }
        match &p.record_bytes {
            RecordBytes::Fixed(_) => {}
            RecordBytes::Distribution(SizeDistribution::Uniform { min, max }) => {
                ensure(min <= max, at("record_bytes.min"), format!("min {min} is larger than max {max}"))?
            }
            RecordBytes::Distribution(SizeDistribution::Lognormal { median, sigma }) => {
                ensure(median.is_finite() && *median > 0.0, at("record_bytes.median"), "must be a number > 0")?;
                ensure(sigma.is_finite() && (0.0..=5.0).contains(sigma), at("record_bytes.sigma"), "allowed: 0 to 5")?;
            }
        }
        match p.partitioning {
            Partitioning::HotPartition { partition, share } => {
                ensure(
                    partition < partitions,
                    at("partitioning.hot_partition.partition"),
                    format!("partition {partition} does not exist; allowed: 0 to {}", partitions - 1),
                )?;
                check_fraction(share, &at("partitioning.hot_partition.share"))?;
            }
            Partitioning::Zipf { exponent } => {
                ensure(
                    exponent.is_finite() && (0.0..=10.0).contains(&exponent),
                    at("partitioning.zipf.exponent"),
                    format!("{} is out of range; allowed: 0 to 10", number(exponent)),
                )?;
            }
            Partitioning::Uniform | Partitioning::RoundRobin => {}
        }
        ensure(p.header_bytes <= MAX_RECORD_BYTES, at("header_bytes"), "at most 1 GiB (1073741824 bytes)")?;
        ensure(
            p.header_bytes == 0 || p.header_count > 0,
            at("header_count"),
            "header_bytes needs header_count >= 1 (how many headers hold those bytes)",
        )?;
        if let Some(v) = &p.value {
            check_value_template(v, &at("value"))?;
        }
    }
    Ok(())
}

fn check_value_template(v: &crate::scenario::ValueTemplate, at: &str) -> Result<(), Problem> {
    use crate::scenario::FieldSpec;
    check_fraction(v.non_json_share, &format!("{at}.non_json_share"))?;
    for (name, spec) in &v.fields {
        let path = format!("{at}.fields.{name}");
        let finite = |x: f64| x.is_finite();
        match spec {
            FieldSpec::Constant(_) => {}
            FieldSpec::OneOf { values, weights } => {
                ensure(!values.is_empty(), &path, "one_of needs at least one value")?;
                ensure(
                    weights.is_empty() || weights.len() == values.len(),
                    format!("{path}.one_of.weights"),
                    format!(
                        "{} weights for {} values; allowed: none (equal) or one per value",
                        weights.len(),
                        values.len()
                    ),
                )?;
                ensure(
                    weights.iter().all(|w| finite(*w) && *w >= 0.0)
                        && (weights.is_empty() || weights.iter().sum::<f64>() > 0.0),
                    format!("{path}.one_of.weights"),
                    "weights must be numbers >= 0 with a positive sum",
                )?;
            }
            FieldSpec::Uniform { min, max } => {
                ensure(finite(*min) && finite(*max) && min <= max, &path, "uniform needs finite min <= max")?
            }
            FieldSpec::Integer { min, max } => ensure(min <= max, &path, "integer needs min <= max")?,
            FieldSpec::Normal { mean, sd } => {
                ensure(finite(*mean) && finite(*sd) && *sd >= 0.0, &path, "normal needs a finite mean and sd >= 0")?
            }
        }
    }
    Ok(())
}

/// Largest `json_size_factor`: JSON of tiny binary fields (a one-byte varint as `"count":1,`)
/// grows about tenfold; twenty leaves room without admitting typos such as 250.
const MAX_JSON_SIZE_FACTOR: f64 = 20.0;
const MAX_EPU_FACTOR: f64 = 10.0;

/// `esm.schema_registry`: provisioned mode only (AWS), AWS's attribute list, and rates and
/// factors in range.
fn check_schema_registry(s: &Scenario) -> Result<(), Problem> {
    let Some(r) = &s.esm.schema_registry else { return Ok(()) };
    let at = |field: &str| format!("esm.schema_registry.{field}");
    ensure(
        s.esm.scaling.mode == ScalingMode::Provisioned,
        "esm.schema_registry",
        format!(
            "needs esm.scaling.mode provisioned (AWS supports schema registries in provisioned mode only); mode is {}",
            serde_json::to_value(s.esm.scaling.mode)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        ),
    )?;
    ensure(
        !r.validate.is_empty(),
        at("validate"),
        "is empty; allowed: \"KEY\", \"VALUE\" or both (AWS's SchemaValidationConfigs attributes)",
    )?;
    let mut attributes = r.validate.clone();
    attributes.sort();
    attributes.dedup();
    ensure(
        attributes.len() == r.validate.len(),
        at("validate"),
        "names an attribute twice; allowed: \"KEY\", \"VALUE\" or both, each once",
    )?;
    check_fraction(r.schema_not_found_rate, &at("schema_not_found_rate"))?;
    check_fraction(r.deserialization_error_rate, &at("deserialization_error_rate"))?;
    ensure(
        r.schema_not_found_rate + r.deserialization_error_rate <= 1.0,
        at("deserialization_error_rate"),
        format!(
            "{} plus schema_not_found_rate {} is more than 1; the two are shares of all records",
            number(r.deserialization_error_rate),
            number(r.schema_not_found_rate)
        ),
    )?;
    if let Some(factor) = r.json_size_factor {
        ensure(
            r.event_record_format == EventRecordFormat::Json,
            at("json_size_factor"),
            "applies only with event_record_format \"JSON\" (SOURCE delivers records as stored)",
        )?;
        ensure(
            factor.is_finite() && (1.0..=MAX_JSON_SIZE_FACTOR).contains(&factor),
            at("json_size_factor"),
            format!("{} is out of range; allowed: 1 to {MAX_JSON_SIZE_FACTOR}", number(factor)),
        )?;
    }
    ensure(
        r.epu_factor.is_finite() && (1.0..=MAX_EPU_FACTOR).contains(&r.epu_factor),
        at("epu_factor"),
        format!(
            "{} is out of range; allowed: 1 to {MAX_EPU_FACTOR} (AWS: a registry may increase EPU usage)",
            number(r.epu_factor)
        ),
    )?;
    if r.can_fail() {
        refuse_per_record_failures(s, "schema_not_found_rate or deserialization_error_rate", "them")?;
    }
    Ok(())
}

/// Records that never reach the function (filtered out, or failing schema validation) ride in
/// batches' offset ranges; per-record failures and bisected halves would have to skip them: not
/// modelled, so refused beside `feature`.
fn refuse_per_record_failures(s: &Scenario, feature: &str, with: &str) -> Result<(), Problem> {
    let f = &s.failures;
    let unsupported = [
        ("esm.bisect_batch_on_function_error", s.esm.bisect_batch_on_function_error),
        ("failures.poison_records", !f.poison_records.is_empty()),
        ("failures.poison_rate", f.poison_rate > 0.0),
        ("failures.transient_record_error_rate", f.transient_record_error_rate > 0.0),
    ];
    for (path, used) in unsupported {
        ensure(
            !used,
            path,
            format!(
                "not modelled together with {feature} yet; allowed with {with}: whole-invocation failures \
                 (transient_error_rate, faults) and no bisect"
            ),
        )?;
    }
    Ok(())
}

/// `esm.filter_criteria`: AWS's quota, and the failure settings the filter model does not cover.
fn check_filters(s: &Scenario, warnings: &mut Vec<Warning>) -> Result<(), Problem> {
    use crate::model::esm::filter::{DEFAULT_FILTER_QUOTA, MAX_FILTERS};
    let Some(criteria) = &s.esm.filter_criteria else { return Ok(()) };
    let n = criteria.filters.len();
    ensure(
        (1..=MAX_FILTERS).contains(&n),
        "esm.filter_criteria.Filters",
        format!("{n} filters; allowed: 1 to {MAX_FILTERS} (5 by default, 10 with a quota increase)"),
    )?;
    if n > DEFAULT_FILTER_QUOTA {
        warnings.push(Warning {
            path: "esm.filter_criteria.Filters".into(),
            message: format!("{n} filters need a quota increase: AWS allows {DEFAULT_FILTER_QUOTA} by default"),
        });
    }
    refuse_per_record_failures(s, "esm.filter_criteria", "filtering")?;
    if s.producers.iter().all(|p| p.value.is_none()) {
        warnings.push(Warning {
            path: "esm.filter_criteria".into(),
            message: "no producer has a `value` template: every value is {} and only `exists: false` patterns match"
                .into(),
        });
    }
    Ok(())
}

fn check_esm(s: &Scenario, warnings: &mut Vec<Warning>) -> Result<(), Problem> {
    let esm = &s.esm;
    ensure(
        (1..=10_000).contains(&esm.batch_size),
        "esm.batch_size",
        format!("{} is out of range; allowed: 1 to 10000", esm.batch_size),
    )?;
    let window = esm.batching_window.ns();
    ensure(
        window <= 300 * NS_PER_SEC,
        "esm.batching_window",
        format!("{} is out of range; allowed: 0s to 300s", esm.batching_window),
    )?;
    if window != 500 * NS_PER_MS && window % NS_PER_SEC != 0 {
        warnings.push(Warning {
            path: "esm.batching_window".into(),
            message: format!(
                "{} is not whole seconds: AWS accepts only whole seconds (0-300) or the 500ms default",
                esm.batching_window
            ),
        });
    }
    ensure(
        (1..=MAX_PAYLOAD_BYTES).contains(&esm.max_payload_bytes),
        "esm.max_payload_bytes",
        format!(
            "{} is out of range; allowed: 1 to {MAX_PAYLOAD_BYTES} (Lambda's 6 MB invoke limit)",
            esm.max_payload_bytes
        ),
    )?;
    check_scaling(s, warnings)?;
    check_error_handling(s, warnings)?;
    for (name, backoff) in [("retry_backoff", &esm.retry_backoff), ("throttle_backoff", &esm.throttle_backoff)] {
        // A zero wait would retry at the same instant forever.
        ensure(backoff.initial.ns() >= NS_PER_MS, format!("esm.{name}.initial"), "must be at least 1ms")?;
        ensure(
            backoff.max >= backoff.initial,
            format!("esm.{name}.max"),
            format!("{} is shorter than initial {}", backoff.max, backoff.initial),
        )?;
    }
    warn_if_records_cannot_fit(s, warnings);
    check_starting_position(s, warnings)
}

fn check_starting_position(s: &Scenario, warnings: &mut Vec<Warning>) -> Result<(), Problem> {
    let at_timestamp = s.esm.starting_position == StartingPosition::AtTimestamp;
    ensure(
        at_timestamp == s.esm.starting_position_age.is_some(),
        "esm.starting_position_age",
        if at_timestamp {
            "AT_TIMESTAMP needs starting_position_age (how long before t = 0)"
        } else {
            "applies only to starting_position AT_TIMESTAMP"
        },
    )?;
    if let Some(backlog) = &s.topic.backlog {
        ensure(backlog.span.ns() > 0, "topic.backlog.span", "must be longer than 0s")?;
        ensure(backlog.record_bytes <= MAX_RECORD_BYTES, "topic.backlog.record_bytes", "at most 1 GiB")?;
        let total = backlog.records as u128 * s.topic.partitions as u128;
        ensure(
            total <= 200_000_000,
            "topic.backlog.records",
            "at most 200,000,000 backlog records in all are supported",
        )?;
        if s.esm.starting_position == StartingPosition::Latest && backlog.records > 0 {
            warnings.push(Warning {
                path: "esm.starting_position".into(),
                message:
                    "LATEST starts after the backlog: topic.backlog is never read (use TRIM_HORIZON or AT_TIMESTAMP)"
                        .into(),
            });
        }
        ensure(backlog.span.ns() <= MAX_SPAN_NS, "topic.backlog.span", "at most 36500d (100 years) is supported")?;
        if backlog.span > s.topic.retention {
            warnings.push(Warning {
                path: "topic.backlog.span".into(),
                message: format!(
                    "{} is longer than retention {}: the older backlog no longer exists",
                    backlog.span, s.topic.retention
                ),
            });
        }
    }
    Ok(())
}

fn check_scaling(s: &Scenario, warnings: &mut Vec<Warning>) -> Result<(), Problem> {
    check_scaling_fields_belong_to_mode(&s.esm.scaling)?;
    let sc = &s.esm.scaling;
    let partitions = s.topic.partitions;
    match sc.mode {
        ScalingMode::ParallelizationFactor => {
            let factor = sc.factor.unwrap_or(1);
            ensure(
                (1..=10).contains(&factor),
                "esm.scaling.factor",
                format!("{factor} is out of range; allowed: 1 to 10"),
            )?;
            if factor > partitions {
                warnings.push(Warning {
                    path: "esm.scaling.factor".into(),
                    message: format!("factor {factor} is above the partition count {partitions}: at most {partitions} batches can be in flight"),
                });
            }
            return Ok(());
        }
        ScalingMode::OnDemand => {
            let pollers = sc.initial_pollers.unwrap_or(1);
            ensure(pollers >= 1, "esm.scaling.initial_pollers", "must be at least 1")?;
            ensure(
                pollers <= partitions,
                "esm.scaling.initial_pollers",
                format!(
                    "{pollers} is above the partition count {partitions}; Kafka allows at most one poller per partition"
                ),
            )?;
            let per = sc.invocations_per_poller.unwrap_or(1);
            ensure(
                (1..=100).contains(&per),
                "esm.scaling.invocations_per_poller",
                format!("{per} is out of range; allowed: 1 to 100"),
            )?;
        }
        ScalingMode::Provisioned => check_provisioned(sc, partitions, warnings)?,
    }
    let Some(plan) = super::compile::poller_plan(sc, partitions) else { return Ok(()) };
    ensure(plan.evaluation_interval_ns >= NS_PER_SEC, "esm.scaling.evaluation_interval", "must be at least 1s")?;
    ensure(plan.scale_up_lag_per_poller > 0, "esm.scaling.scale_up_lag_per_poller", "must be at least 1")?;
    check_fraction(plan.scale_down_utilization, "esm.scaling.scale_down_utilization")?;
    ensure(plan.bytes_per_second > 0, "esm.scaling.poller_bytes_per_second", "must be at least 1")
}

/// A setting of another mode is an error, not silently ignored.
fn check_scaling_fields_belong_to_mode(sc: &Scaling) -> Result<(), Problem> {
    use ScalingMode::*;
    let set = |d: Option<Dur>| d.is_some();
    let fields: [(&str, bool, &[ScalingMode]); 12] = [
        ("factor", sc.factor.is_some(), &[ParallelizationFactor]),
        ("initial_pollers", sc.initial_pollers.is_some(), &[OnDemand]),
        ("invocations_per_poller", sc.invocations_per_poller.is_some(), &[OnDemand, Provisioned]),
        ("min_pollers", sc.min_pollers.is_some(), &[Provisioned]),
        ("max_pollers", sc.max_pollers.is_some(), &[Provisioned]),
        ("evaluation_interval", set(sc.evaluation_interval), &[OnDemand, Provisioned]),
        ("scale_delay", set(sc.scale_delay), &[OnDemand, Provisioned]),
        ("scale_up_lag_per_poller", sc.scale_up_lag_per_poller.is_some(), &[OnDemand, Provisioned]),
        ("scale_down_utilization", sc.scale_down_utilization.is_some(), &[OnDemand, Provisioned]),
        ("rebalance_pause", set(sc.rebalance_pause), &[OnDemand, Provisioned]),
        ("poller_bytes_per_second", sc.poller_bytes_per_second.is_some(), &[OnDemand, Provisioned]),
        ("poller_group", sc.poller_group.is_some(), &[Provisioned]),
    ];
    for (name, is_set, modes) in fields {
        let names: Vec<&str> = modes.iter().map(|&m| mode_name(m)).collect();
        ensure(
            !is_set || modes.contains(&sc.mode),
            format!("esm.scaling.{name}"),
            format!("applies only to mode {}, but mode is {}", names.join(" or "), mode_name(sc.mode)),
        )?;
    }
    Ok(())
}

/// AWS's provisioned-mode ranges (kafka-scaling-modes).
fn check_provisioned(sc: &Scaling, partitions: u32, warnings: &mut Vec<Warning>) -> Result<(), Problem> {
    let min = sc.min_pollers.unwrap_or(1);
    let max = sc.max_pollers.unwrap_or(200);
    ensure((1..=200).contains(&min), "esm.scaling.min_pollers", format!("{min} is out of range; allowed: 1 to 200"))?;
    ensure((1..=2000).contains(&max), "esm.scaling.max_pollers", format!("{max} is out of range; allowed: 1 to 2000"))?;
    ensure(max >= min, "esm.scaling.max_pollers", format!("{max} is below min_pollers {min}"))?;
    let per = sc.invocations_per_poller.unwrap_or(5);
    ensure(
        (1..=5).contains(&per),
        "esm.scaling.invocations_per_poller",
        format!("{per} is out of range; allowed: 1 to 5 (AWS's limit per provisioned poller)"),
    )?;
    if let Some(group) = &sc.poller_group {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_');
        ensure(
            (1..=128).contains(&group.len()) && group.chars().all(allowed),
            "esm.scaling.poller_group",
            format!("{} is not allowed; a poller group name is 1 to 128 letters, digits, '-' and '_'", shown(group)),
        )?;
    }
    if min > partitions || (sc.max_pollers.is_some() && max > partitions) {
        warnings.push(Warning {
            path: "esm.scaling".into(),
            message: format!(
                "pollers are capped at the partition count {partitions} (one poller per partition at most)"
            ),
        });
    }
    Ok(())
}

fn mode_name(mode: ScalingMode) -> &'static str {
    match mode {
        ScalingMode::OnDemand => "on_demand",
        ScalingMode::Provisioned => "provisioned",
        ScalingMode::ParallelizationFactor => "parallelization_factor",
    }
}

fn check_error_handling(s: &Scenario, warnings: &mut Vec<Warning>) -> Result<(), Problem> {
    let esm = &s.esm;
    let retries = esm.maximum_retry_attempts;
    ensure(
        retries == -1 || (0..=10_000).contains(&retries),
        "esm.maximum_retry_attempts",
        format!("{retries} is out of range; allowed: -1 (infinite) or 0 to 10000"),
    )?;
    if let Some(age) = esm.maximum_record_age.0 {
        ensure(
            (60 * NS_PER_SEC..=604_800 * NS_PER_SEC).contains(&age),
            "esm.maximum_record_age",
            "out of range; allowed: -1 (infinite) or 60s to 604800s (7 days)",
        )?;
    }
    let provisioned = esm.scaling.mode == ScalingMode::Provisioned;
    let mut provisioned_only = |path: &str, what: &str| {
        if !provisioned {
            warnings.push(Warning {
                path: path.into(),
                message: format!(
                    "{what} is available only in provisioned mode on AWS; simulated anyway (mode is {})",
                    mode_name(esm.scaling.mode)
                ),
            });
        }
    };
    if retries != -1 {
        provisioned_only("esm.maximum_retry_attempts", "a retry limit");
    }
    if esm.maximum_record_age.0.is_some() {
        provisioned_only("esm.maximum_record_age", "a record age limit");
    }
    if esm.bisect_batch_on_function_error {
        provisioned_only("esm.bisect_batch_on_function_error", "bisect");
    }
    if esm.reports_batch_item_failures() {
        provisioned_only("esm.function_response_types", "ReportBatchItemFailures");
    }
    if esm.on_failure_destination.as_ref().is_some_and(|d| d.kind == DestinationKind::Kafka) {
        provisioned_only("esm.on_failure_destination.kind", "a Kafka-topic destination");
    }
    warn_about_partial_responses(s, warnings);
    Ok(())
}

/// The silent-loss pitfall, and a commit rule that cannot apply.
fn warn_about_partial_responses(s: &Scenario, warnings: &mut Vec<Warning>) {
    let reports = matches!(s.failures.handler, Handler::ReportFailures | Handler::ReportInvalidIds);
    // A real handler may report failures: only its answers will tell.
    let real = s.function.handler.is_some();
    if reports && !real && !s.esm.reports_batch_item_failures() {
        warnings.push(Warning {
            path: "esm.function_response_types".into(),
            message: "the handler returns batchItemFailures but ReportBatchItemFailures is not enabled: \
                      Lambda ignores the response, commits the batch, and the reported records are lost"
                .into(),
        });
    }
    if s.esm.partial_batch_commit == PartialBatchCommit::PerRecord
        && !((reports || real) && s.esm.reports_batch_item_failures())
    {
        warnings.push(Warning {
            path: "esm.partial_batch_commit".into(),
            message: "per_record applies only when the handler reports failures and ReportBatchItemFailures is enabled"
                .into(),
        });
    }
}

fn check_function(s: &Scenario, warnings: &mut Vec<Warning>) -> Result<(), Problem> {
    let f = &s.function;
    ensure(
        (128..=10_240).contains(&f.memory_mb),
        "function.memory_mb",
        format!("{} is out of range; allowed: 128 to 10240 MB", f.memory_mb),
    )?;
    ensure(
        (NS_PER_SEC..=MAX_KAFKA_TIMEOUT_NS).contains(&f.timeout.ns()),
        "function.timeout",
        format!(
            "{} is out of range; allowed: 1s to 14m (the limit for functions behind a Kafka event source)",
            f.timeout
        ),
    )?;
    check_non_negative(f.duration.jitter_sigma, "function.duration.jitter_sigma")?;
    ensure(f.duration.jitter_sigma <= 5.0, "function.duration.jitter_sigma", "allowed: 0 to 5")?;
    if let Some(reference) = f.duration.reference_memory_mb {
        ensure(
            (128..=10_240).contains(&reference),
            "function.duration.reference_memory_mb",
            format!("{reference} is out of range; allowed: 128 to 10240 MB"),
        )?;
    }
    ensure(s.account.concurrency_limit >= 1, "account.concurrency_limit", "must be at least 1")?;
    check_environments(s)?;
    if longest_init(&f.cold_start.init) > f.cold_start.init_limit {
        warnings.push(Warning {
            path: "function.cold_start.init".into(),
            message: format!(
                "init can take longer than init_limit {}: Lambda then cuts it off and runs init again inside the first invocation, under the timeout and billed",
                f.cold_start.init_limit
            ),
        });
    }
    if let Some(reserved) = f.reserved_concurrency {
        let most = s.account.concurrency_limit.saturating_sub(100);
        ensure(
            reserved <= most,
            "function.reserved_concurrency",
            format!(
                "{reserved} is too high: AWS keeps 100 of the account's {} unreserved, so at most {most}",
                s.account.concurrency_limit
            ),
        )?;
        if reserved == 0 {
            warnings.push(Warning {
                path: "function.reserved_concurrency".into(),
                message: "0 stops the function: every invoke is throttled".into(),
            });
        }
    }
    check_provisioned_and_snapstart(s)?;
    warn_if_full_batch_times_out(s, warnings);
    if f.duration.threads != 1 && f.duration.reference_memory_mb.is_none() {
        warnings.push(Warning {
            path: "function.duration.threads".into(),
            message: "has no effect without function.duration.reference_memory_mb (durations are then taken as measured at memory_mb)".into(),
        });
    }
    Ok(())
}

/// The longest init time a setting gives (a log-normal's median stands for it).
fn longest_init(init: &TimeDistribution) -> Dur {
    match init {
        TimeDistribution::Fixed(d) => *d,
        TimeDistribution::Distribution(TimeShape::Uniform { max, .. }) => *max,
        TimeDistribution::Distribution(TimeShape::Lognormal { median, .. }) => *median,
    }
}

/// A time setting (init, restore): at most 10 minutes, a sensible shape.
fn check_time(t: &TimeDistribution, path: &str) -> Result<(), Problem> {
    ensure(longest_init(t) <= Dur::parse("10m"), path, "at most 10m")?;
    match t {
        TimeDistribution::Fixed(_) => Ok(()),
        TimeDistribution::Distribution(TimeShape::Uniform { min, max }) => {
            ensure(min <= max, format!("{path}.min"), format!("{min} is longer than max {max}"))
        }
        TimeDistribution::Distribution(TimeShape::Lognormal { sigma, .. }) => {
            ensure(sigma.is_finite() && (0.0..=5.0).contains(sigma), format!("{path}.sigma"), "allowed: 0 to 5")
        }
    }
}

/// Provisioned concurrency and SnapStart, against AWS's rules: provisioned concurrency fits in
/// the function's reservation, or else in the account's pool less the 100 AWS keeps unreserved
/// (provisioned-concurrency, configuration-concurrency); SnapStart needs a runtime that supports
/// it and cannot be combined with provisioned concurrency (snapstart, "Supported features and
/// limitations").
fn check_provisioned_and_snapstart(s: &Scenario) -> Result<(), Problem> {
    let f = &s.function;
    let n = f.provisioned_concurrency;
    match f.reserved_concurrency {
        Some(reserved) => ensure(
            n <= reserved,
            "function.provisioned_concurrency",
            format!("{n} is more than function.reserved_concurrency {reserved}: AWS allows at most the reservation"),
        )?,
        None => {
            let most = s.account.concurrency_limit.saturating_sub(100);
            ensure(
                n <= most,
                "function.provisioned_concurrency",
                format!(
                    "{n} is too high: AWS keeps 100 of the account's {} unreserved, so at most {most}",
                    s.account.concurrency_limit
                ),
            )?;
        }
    }
    if let Some(runtime) = &f.runtime {
        ensure(!runtime.trim().is_empty(), "function.runtime", "is empty; give AWS's identifier, e.g. java21")?;
    }
    let Some(settings) = &f.snapstart.0 else { return Ok(()) };
    check_time(&settings.restore, "function.snapstart.restore")?;
    ensure(
        n == 0,
        "function.snapstart",
        format!(
            "cannot be combined with function.provisioned_concurrency {n}: AWS's SnapStart does not support \
             provisioned concurrency; choose one"
        ),
    )?;
    let supported = "SnapStart supports java11 and later, python3.12 and later, dotnet8 and later";
    match &f.runtime {
        None => Err(problem(
            "function.runtime",
            format!("is needed with function.snapstart (it decides whether AWS charges for SnapStart); {supported}"),
        )),
        Some(r) => ensure(
            super::runtime::snapstart_runtime(r).is_some(),
            "function.runtime",
            format!("{} does not support SnapStart; {supported}", shown(r)),
        ),
    }
}

/// Cold starts, the burst limit, CPU threads and the account's other functions.
fn check_environments(s: &Scenario) -> Result<(), Problem> {
    let f = &s.function;
    check_time(&f.cold_start.init, "function.cold_start.init")?;
    ensure(f.cold_start.init_limit.ns() >= NS_PER_MS, "function.cold_start.init_limit", "must be at least 1ms")?;
    ensure(f.burst_limit.environments >= 1, "function.burst_limit.environments", "must be at least 1")?;
    ensure(f.burst_limit.every.ns() > 0, "function.burst_limit.every", "must be longer than 0s")?;
    ensure((1..=64).contains(&f.duration.threads), "function.duration.threads", "allowed: 1 to 64")?;
    ensure(
        f.duration.arm64_factor.is_finite() && (0.1..=10.0).contains(&f.duration.arm64_factor),
        "function.duration.arm64_factor",
        "allowed: 0.1 to 10",
    )?;
    let mut previous = None;
    for (i, step) in s.account.other_concurrency.0.iter().enumerate() {
        ensure(
            previous.is_none_or(|p| step.at > p),
            format!("account.other_concurrency.{i}.at"),
            "steps must be in strictly increasing time order",
        )?;
        ensure(
            step.value <= s.account.concurrency_limit,
            format!("account.other_concurrency.{i}.value"),
            format!("{} is above the account limit {}", step.value, s.account.concurrency_limit),
        )?;
        previous = Some(step.at);
    }
    Ok(())
}

/// A full batch that cannot finish within the timeout stalls its partition forever.
fn warn_if_full_batch_times_out(s: &Scenario, warnings: &mut Vec<Warning>) {
    let record = typical_payload_bytes(s);
    let budget = s.esm.max_payload_bytes.saturating_sub(s.esm.payload_envelope_bytes);
    let records = (s.esm.batch_size as u64).min(budget / record.max(1)).max(1);
    // The duration model itself, so memory, CPU share and architecture count as in the run.
    let full = DurationSpec::new(&s.function).handler_ns(records, records * record, 1.0);
    if full > s.function.timeout.ns() {
        warnings.push(Warning {
            path: "function.timeout".into(),
            message: format!(
                "{} is shorter than a full batch of {records} records takes ({:.3}s): large batches will time out and be retried",
                s.function.timeout,
                full as f64 / 1e9
            ),
        });
    }
}

/// Payload bytes of the largest typical record the producers (or the backlog) write.
fn typical_payload_bytes(s: &Scenario) -> u64 {
    let rule = PayloadRule::of(&s.esm);
    let producers = s.producers.iter().map(|p| {
        rule.payload_bytes(p.key_bytes as u64, p.record_bytes.typical())
            + s.esm.header_payload_bytes(p.header_count, p.header_bytes)
    });
    let backlog = s.topic.backlog.iter().map(|b| rule.payload_bytes(0, b.record_bytes));
    producers.chain(backlog).max().unwrap_or(0)
}

/// Records too large for the payload are never delivered (dropped or sent to the destination).
fn warn_if_records_cannot_fit(s: &Scenario, warnings: &mut Vec<Warning>) {
    let budget = s.esm.max_payload_bytes.saturating_sub(s.esm.payload_envelope_bytes);
    let record = typical_payload_bytes(s);
    if record > budget {
        warnings.push(Warning {
            path: "esm.max_payload_bytes".into(),
            message: format!(
                "a typical record takes {record} payload bytes but only {budget} fit in a batch (after the envelope): such records are never delivered"
            ),
        });
    }
}

fn check_failures(s: &Scenario) -> Result<(), Problem> {
    let f = &s.failures;
    for (i, poison) in f.poison_records.iter().enumerate() {
        ensure(
            poison.partition < s.topic.partitions,
            format!("failures.poison_records.{i}.partition"),
            format!("partition {} does not exist; allowed: 0 to {}", poison.partition, s.topic.partitions - 1),
        )?;
    }
    check_fraction(f.poison_rate, "failures.poison_rate")?;
    check_fraction(f.transient_error_rate, "failures.transient_error_rate")?;
    check_fraction(f.transient_record_error_rate, "failures.transient_record_error_rate")?;
    for (i, fault) in s.faults.iter().enumerate() {
        check_fault(fault, &format!("faults.{i}"))?;
    }
    Ok(())
}

fn check_fault(fault: &Fault, at: &str) -> Result<(), Problem> {
    ensure(
        fault.until > fault.from,
        format!("{at}.until"),
        format!("{} is not after from {}", fault.until, fault.from),
    )?;
    let (needs_rate, needs_factor) = match fault.kind {
        FaultKind::FunctionOutage | FaultKind::Rebalance => (false, false),
        FaultKind::ErrorBurst => (true, false),
        FaultKind::Slowdown => (false, true),
    };
    match fault.error_rate {
        Some(rate) if needs_rate => check_fraction(rate, &format!("{at}.error_rate"))?,
        Some(_) => return Err(problem(format!("{at}.error_rate"), "applies only to kind error_burst")),
        None if needs_rate => return Err(problem(format!("{at}.error_rate"), "error_burst needs error_rate (0 to 1)")),
        None => {}
    }
    match fault.factor {
        Some(factor) => {
            ensure(needs_factor, format!("{at}.factor"), "applies only to kind slowdown")?;
            ensure(
                factor.is_finite() && (0.01..=1000.0).contains(&factor),
                format!("{at}.factor"),
                format!("{} is out of range; allowed: 0.01 to 1000", number(factor)),
            )
        }
        None => ensure(!needs_factor, format!("{at}.factor"), "slowdown needs factor (e.g. 3 for three times slower)"),
    }
}

fn check_pricing(p: &Pricing) -> Result<(), Problem> {
    check_non_negative(p.requests_usd_per_million, "pricing.requests_usd_per_million")?;
    check_tiers(&p.gb_second_tiers_x86_64, "pricing.gb_second_tiers_x86_64")?;
    check_tiers(&p.gb_second_tiers_arm64, "pricing.gb_second_tiers_arm64")?;
    check_non_negative(p.epu_hour_usd, "pricing.epu_hour_usd")?;
    check_non_negative(p.free_tier_requests, "pricing.free_tier_requests")?;
    check_non_negative(p.free_tier_gb_seconds, "pricing.free_tier_gb_seconds")?;
    for (value, path) in [
        (p.pollers_per_epu, "pricing.pollers_per_epu"),
        (p.bytes_per_second_per_epu, "pricing.bytes_per_second_per_epu"),
        (p.month_hours, "pricing.month_hours"),
    ] {
        let shown = number(value);
        ensure(value.is_finite() && value > 0.0, path, format!("{shown} is not allowed; must be a number > 0"))?;
    }
    Ok(())
}

/// Tiers go up in volume, and only the last is unbounded.
fn check_tiers(tiers: &[Tier], path: &str) -> Result<(), Problem> {
    ensure(!tiers.is_empty(), path, "needs at least one tier")?;
    let mut below = 0.0;
    for (i, t) in tiers.iter().enumerate() {
        check_non_negative(t.usd, &format!("{path}.{i}.usd"))?;
        let last = i + 1 == tiers.len();
        match t.up_to_gb_seconds {
            None => ensure(last, format!("{path}.{i}.up_to_gb_seconds"), "only the last tier may be unbounded")?,
            Some(upper) => {
                ensure(
                    !last,
                    format!("{path}.{i}.up_to_gb_seconds"),
                    "the last tier must be unbounded (omit up_to_gb_seconds)",
                )?;
                ensure(upper > below, format!("{path}.{i}.up_to_gb_seconds"), "tiers must go up in volume")?;
                below = upper;
            }
        }
    }
    Ok(())
}
