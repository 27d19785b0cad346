//! The ASSUMED parameters (README's ASSUMED table) with a plausible range each: what
//! `sensitivity` varies and `tune --robust` re-checks at the extremes. The ranges are guesses
//! about what AWS might do, documented beside the ASSUMED table; a parameter that does not apply
//! to the scenario (another scaling mode, no backlog, x86_64) is skipped with the reason.

use crate::config::Architecture;
use crate::scenario::{ScalingMode, Scenario};
use serde::Serialize;

/// How a range is spread over [0, 1]: evenly, or evenly in the logarithm (for ranges over an
/// order of magnitude or more).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Spread {
    Linear,
    Log,
}

/// What a value is, for `--set` and for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    /// A whole number.
    Count,
    /// Seconds, written as whole milliseconds.
    Seconds,
    /// A real number.
    Real,
    /// Two choices: below the middle of the range is the first.
    Switch(&'static str, &'static str),
}

/// One parameter's range for this scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    /// The scenario path (for the backoffs, the object it sets).
    pub parameter: &'static str,
    pub low: f64,
    pub high: f64,
    pub spread: Spread,
    unit: Unit,
}

/// A parameter left out, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Skipped {
    pub parameter: &'static str,
    pub why: &'static str,
}

impl Range {
    fn new(parameter: &'static str, (low, high): (f64, f64), spread: Spread, unit: Unit) -> Range {
        Range { parameter, low, high, spread, unit }
    }

    /// The value at fraction `u` of the range (whole numbers rounded; a switch is 0 or 1).
    pub fn value(&self, u: f64) -> f64 {
        let v = match self.spread {
            Spread::Linear => self.low + u * (self.high - self.low),
            Spread::Log => self.low * (self.high / self.low).powf(u),
        };
        match self.unit {
            Unit::Count => v.round(),
            Unit::Seconds => (v * 1000.0).round() / 1000.0,
            Unit::Real => v,
            Unit::Switch(..) => f64::from(u8::from(u >= 0.5)),
        }
    }

    /// The value at fraction `u` as `show` writes it, durations of 10 s or more in whole seconds:
    /// a level of a search that people read (`calibrate --observed`).
    pub fn level(&self, u: f64) -> String {
        let v = self.value(u);
        self.show(if self.unit == Unit::Seconds && v >= 10.0 { v.round() } else { v })
    }

    /// A value for people: `30s`, `1000`, `fractional`.
    pub fn show(&self, v: f64) -> String {
        match self.unit {
            Unit::Seconds => crate::scenario::Dur((v * 1e9).round() as u64).to_string(),
            Unit::Switch(off, on) => (if v >= 0.5 { on } else { off }).to_string(),
            Unit::Count | Unit::Real => super::constraint::short(v),
        }
    }

    /// The `--set` assignment giving the parameter value `v` in scenario `s`.
    pub fn assignment(&self, s: &Scenario, v: f64) -> String {
        let text = match self.unit {
            Unit::Seconds => format!("{}ms", (v * 1000.0).round() as u64),
            _ => self.show(v),
        };
        match self.parameter {
            // Backoffs are objects: the retry wait is constant (initial = max, as its default
            // of 1 s is); the throttle backoff keeps its maximum unless the start exceeds it.
            "esm.retry_backoff" => format!(r#"esm.retry_backoff={{"initial":"{text}","max":"{text}"}}"#),
            "esm.throttle_backoff.initial" => {
                let max = s.esm.throttle_backoff.max.ns().max((v * 1e9).round() as u64);
                let max = format!("{}ms", max.div_ceil(1_000_000));
                format!(r#"esm.throttle_backoff={{"initial":"{text}","max":"{max}"}}"#)
            }
            "topic.backlog.span" => {
                let b = s.topic.backlog.as_ref().expect("applies with a backlog");
                let fields = format!(r#""records":{},"span":"{text}","record_bytes":{}"#, b.records, b.record_bytes);
                format!("topic.backlog={{{fields}}}")
            }
            path => format!("{path}={text}"),
        }
    }

    /// The scenario's own value, for people.
    pub fn current(&self, s: &Scenario) -> String {
        let sc = &s.esm.scaling;
        let on_demand = sc.mode == ScalingMode::OnDemand;
        let dur = |d: Option<crate::scenario::Dur>, default: &str| d.map_or(default.to_string(), |d| d.to_string());
        match self.parameter {
            "esm.payload_record_overhead_bytes" => s.esm.payload_record_overhead_bytes.to_string(),
            "esm.payload_envelope_bytes" => s.esm.payload_envelope_bytes.to_string(),
            "esm.retry_backoff" => format!("{} to {}", s.esm.retry_backoff.initial, s.esm.retry_backoff.max),
            "esm.throttle_backoff.initial" => s.esm.throttle_backoff.initial.to_string(),
            "function.cold_start.idle_expiry" => s.function.cold_start.idle_expiry.to_string(),
            "esm.scaling.initial_pollers" => sc.initial_pollers.unwrap_or(1).to_string(),
            "esm.scaling.invocations_per_poller" => sc.invocations_per_poller.unwrap_or(1).to_string(),
            "esm.scaling.scale_up_lag_per_poller" => sc.scale_up_lag_per_poller.unwrap_or(1000).to_string(),
            "esm.scaling.scale_down_utilization" => super::constraint::short(sc.scale_down_utilization.unwrap_or(0.5)),
            "esm.scaling.scale_delay" => dur(sc.scale_delay, if on_demand { "3m" } else { "30s" }),
            "esm.scaling.evaluation_interval" => dur(sc.evaluation_interval, "30s"),
            "esm.scaling.rebalance_pause" => dur(sc.rebalance_pause, "5s"),
            "esm.scaling.poller_bytes_per_second" => sc.poller_bytes_per_second.unwrap_or(5_000_000).to_string(),
            "function.duration.arm64_factor" => super::constraint::short(s.function.duration.arm64_factor),
            "topic.backlog.span" => s.topic.backlog.as_ref().map_or(String::new(), |b| b.span.to_string()),
            "esm.bisect_resets_retries" => s.esm.bisect_resets_retries.to_string(),
            "esm.throttles_count_as_retries" => s.esm.throttles_count_as_retries.to_string(),
            "esm.schema_registry.json_size_factor" => {
                s.esm.schema_registry.as_ref().map_or(String::new(), |r| super::constraint::short(r.size_factor()))
            }
            "esm.schema_registry.epu_factor" => {
                s.esm.schema_registry.as_ref().map_or(String::new(), |r| super::constraint::short(r.epu_factor))
            }
            "pricing.epu_billing" => serde_json::to_value(s.pricing.epu_billing)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            _ => String::new(),
        }
    }
}

/// Every ASSUMED parameter with a range that applies to `s`, in README's order, and those
/// skipped with the reason.
pub fn ranges(s: &Scenario) -> (Vec<Range>, Vec<Skipped>) {
    use Spread::{Linear, Log};
    use Unit::{Count, Real, Seconds, Switch};
    let mode = s.esm.scaling.mode;
    let pollers = mode != ScalingMode::ParallelizationFactor;
    let on_demand = mode == ScalingMode::OnDemand;
    let provisioned = mode == ScalingMode::Provisioned;
    let finite_retries = s.esm.maximum_retry_attempts >= 0;
    let no_pollers = "the parallelization_factor model has no pollers";
    let mut keep = Vec::new();
    let mut skip = Vec::new();
    let mut add = |applies: bool, range: Range, why: &'static str| {
        if applies {
            keep.push(range);
        } else {
            skip.push(Skipped { parameter: range.parameter, why });
        }
    };
    add(true, Range::new("esm.payload_record_overhead_bytes", (64.0, 256.0), Linear, Count), "");
    add(true, Range::new("esm.payload_envelope_bytes", (256.0, 2048.0), Log, Count), "");
    add(true, Range::new("esm.retry_backoff", (0.1, 10.0), Log, Seconds), "");
    add(true, Range::new("esm.throttle_backoff.initial", (0.01, 1.0), Log, Seconds), "");
    add(true, Range::new("function.cold_start.idle_expiry", (60.0, 1800.0), Log, Seconds), "");
    let most_initial = f64::from(s.topic.partitions.min(5));
    add(
        on_demand && most_initial > 1.0,
        Range::new("esm.scaling.initial_pollers", (1.0, most_initial), Linear, Count),
        "on_demand mode with more than one partition only",
    );
    add(
        on_demand,
        Range::new("esm.scaling.invocations_per_poller", (1.0, 5.0), Linear, Count),
        "on_demand mode only (provisioned pollers' 5 is documented)",
    );
    add(pollers, Range::new("esm.scaling.scale_up_lag_per_poller", (100.0, 10_000.0), Log, Count), no_pollers);
    add(pollers, Range::new("esm.scaling.scale_down_utilization", (0.2, 0.8), Linear, Real), no_pollers);
    let delay = if on_demand { (30.0, 180.0) } else { (10.0, 90.0) };
    add(pollers, Range::new("esm.scaling.scale_delay", delay, Linear, Seconds), no_pollers);
    add(
        provisioned,
        Range::new("esm.scaling.evaluation_interval", (10.0, 60.0), Linear, Seconds),
        "provisioned mode only (on demand evaluates every minute, documented)",
    );
    add(pollers, Range::new("esm.scaling.rebalance_pause", (1.0, 30.0), Log, Seconds), no_pollers);
    add(
        on_demand,
        Range::new("esm.scaling.poller_bytes_per_second", (2_500_000.0, 10_000_000.0), Log, Count),
        "on_demand mode only (provisioned pollers' 5 MB/s is documented)",
    );
    add(
        s.function.architecture == Architecture::Arm64,
        Range::new("function.duration.arm64_factor", (0.8, 1.25), Log, Real),
        "arm64 functions only",
    );
    add(
        s.topic.backlog.is_some(),
        Range::new("topic.backlog.span", (600.0, 21_600.0), Log, Seconds),
        "scenarios with a topic.backlog only",
    );
    add(
        s.esm.bisect_batch_on_function_error && finite_retries,
        Range::new("esm.bisect_resets_retries", (0.0, 1.0), Linear, Switch("false", "true")),
        "bisect_batch_on_function_error with finite maximum_retry_attempts only",
    );
    add(
        finite_retries,
        Range::new("esm.throttles_count_as_retries", (0.0, 1.0), Linear, Switch("false", "true")),
        "finite maximum_retry_attempts only",
    );
    add(
        provisioned,
        Range::new("pricing.epu_billing", (0.0, 1.0), Linear, Switch("whole", "fractional")),
        "provisioned mode only (Event Poller Units)",
    );
    let registry = s.esm.schema_registry.as_ref();
    // The JSON size only matters for attributes deserialised from a binary format.
    let grows = registry.is_some_and(|r| {
        r.event_record_format == crate::scenario::EventRecordFormat::Json
            && r.schema_format != crate::scenario::SchemaFormat::Json
    });
    add(
        grows,
        Range::new("esm.schema_registry.json_size_factor", (1.2, 4.0), Log, Real),
        "a schema_registry with event_record_format JSON over Avro or Protobuf only",
    );
    add(
        registry.is_some(),
        Range::new("esm.schema_registry.epu_factor", (1.0, 2.0), Linear, Real),
        "scenarios with a schema_registry only",
    );
    skip.push(Skipped {
        parameter: "esm.partial_batch_commit",
        why: "a choice of semantics, not a quantity: compare the two with `esmsim diff`",
    });
    skip.push(Skipped {
        parameter: "function.burst_limit",
        why: "the rate (1,000 per 10 s) is documented; the ASSUMED continuous refill is not a number",
    });
    (keep, skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(json: &str) -> Scenario {
        crate::scenario::parse_scenario(std::path::Path::new("t.json"), json, &[]).unwrap().scenario
    }

    #[test]
    fn ranges_follow_the_mode_and_values_span_them() {
        let on_demand = scenario(r#"{"name":"t","duration":"1m","topic":{"partitions":12}}"#);
        let (keep, skip) = ranges(&on_demand);
        let names: Vec<&str> = keep.iter().map(|r| r.parameter).collect();
        assert!(names.contains(&"esm.scaling.initial_pollers") && names.contains(&"function.cold_start.idle_expiry"));
        assert!(skip.iter().any(|s| s.parameter == "esm.scaling.evaluation_interval"));
        let delay = keep.iter().find(|r| r.parameter == "esm.scaling.scale_delay").unwrap();
        // Linear 30 s to 180 s: a third of the way is 80 s.
        assert_eq!((delay.value(0.0), delay.value(1.0 / 3.0), delay.value(1.0)), (30.0, 80.0, 180.0));
        assert_eq!(delay.assignment(&on_demand, 80.0), "esm.scaling.scale_delay=80000ms");
        // Log 100 ms to 10 s: the middle is 1 s.
        let retry = keep.iter().find(|r| r.parameter == "esm.retry_backoff").unwrap();
        assert!((retry.value(0.5) - 1.0).abs() < 1e-9);
        assert_eq!(retry.assignment(&on_demand, 1.0), r#"esm.retry_backoff={"initial":"1000ms","max":"1000ms"}"#);
        let factor = scenario(
            r#"{"name":"t","duration":"1m","topic":{"partitions":2},"esm":{"scaling":{"mode":"parallelization_factor","factor":2}}}"#,
        );
        let (keep, _) = ranges(&factor);
        assert!(keep.iter().all(|r| !r.parameter.starts_with("esm.scaling.")));
    }

    #[test]
    fn every_assignment_at_both_extremes_is_a_valid_scenario() {
        let base = r#"{"name":"t","duration":"1m","topic":{"partitions":4,"backlog":100},
            "function":{"architecture":"arm64"},
            "esm":{"maximum_retry_attempts":2,"bisect_batch_on_function_error":true,
                   "scaling":{"mode":"provisioned"},
                   "schema_registry":{"kind":"glue","event_record_format":"JSON","validate":["VALUE"]}}}"#;
        let s = scenario(base);
        let (keep, _) = ranges(&s);
        assert!(keep.len() >= 16, "{}", keep.len());
        assert!(keep.iter().any(|r| r.parameter == "esm.schema_registry.json_size_factor"));
        for r in &keep {
            for u in [0.0, 1.0] {
                let set = r.assignment(&s, r.value(u));
                crate::scenario::parse_scenario(std::path::Path::new("t.json"), base, std::slice::from_ref(&set))
                    .unwrap_or_else(|e| panic!("{set}: {e}"));
            }
        }
    }
}
