//! `function.handler`: the user's real handler, run as a child process behind the Lambda
//! Runtime API (`esmsim run --handler CMD` sets `command`).

use super::Dur;
use crate::config::{Problem, problem};
use crate::model::runtime_api::event::KafkaKind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandlerSpec {
    /// Run by `sh -c "exec COMMAND"` in esmsim's working directory.
    pub command: String,
    /// `model` (the scenario's `function.duration`, deterministic) or `measured[:FACTOR]` (the
    /// process's wall time times FACTOR, default 1: not deterministic).
    #[serde(default = "default_duration")]
    pub duration: String,
    /// Wall time an invocation may take before it is cut off and counted as a timeout; also
    /// how long a process may take to ask for an event.
    #[serde(default = "default_wall_limit")]
    pub wall_limit: Dur,
    /// At most this many handler processes at once; more live environments share them.
    #[serde(default = "default_max_processes")]
    pub max_processes: u32,
    /// `msk` (`aws:kafka`) or `self_managed` (`SelfManagedKafka`).
    #[serde(default)]
    pub source: KafkaKind,
}

fn default_duration() -> String {
    "model".into()
}

fn default_wall_limit() -> Dur {
    Dur::parse("30s")
}

fn default_max_processes() -> u32 {
    8
}

/// Where a handler's invocation durations come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DurationSource {
    Model,
    Measured { factor: f64 },
}

impl HandlerSpec {
    /// The duration source, or what is wrong with `duration`.
    pub fn duration_source(&self) -> Result<DurationSource, Problem> {
        let bad = || {
            problem(
                "function.handler.duration",
                format!(
                    "{:?} is not a duration source; allowed: model, measured, measured:FACTOR (FACTOR > 0)",
                    self.duration
                ),
            )
        };
        match self.duration.split_once(':') {
            None if self.duration == "model" => Ok(DurationSource::Model),
            None if self.duration == "measured" => Ok(DurationSource::Measured { factor: 1.0 }),
            Some(("measured", f)) => match f.parse::<f64>() {
                Ok(factor) if factor.is_finite() && factor > 0.0 && factor <= 1e6 => {
                    Ok(DurationSource::Measured { factor })
                }
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }

    /// Checks the fields' ranges.
    pub fn check(&self) -> Result<(), Problem> {
        if self.command.trim().is_empty() {
            return Err(problem("function.handler.command", "is empty; give the command that starts the handler"));
        }
        self.duration_source()?;
        let wall = self.wall_limit.ns();
        if wall == 0 || wall > 3_600_000_000_000 {
            return Err(problem("function.handler.wall_limit", "is out of range; allowed: above 0 s, at most 1 h"));
        }
        if !(1..=256).contains(&self.max_processes) {
            let message = format!("{} is out of range; allowed: 1 to 256", self.max_processes);
            return Err(problem("function.handler.max_processes", message));
        }
        Ok(())
    }
}

/// Checks `function.handler` and `producers[].values` together: sample values are for a real
/// handler, and the built-in failure model does not apply to one.
pub fn check_handler(s: &super::Scenario) -> Result<(), Problem> {
    let with_values: Vec<usize> = (0..s.producers.len()).filter(|&i| s.producers[i].values.is_some()).collect();
    let Some(handler) = &s.function.handler else {
        if let Some(&i) = with_values.first() {
            let message = "sample values are read by a real handler only; set function.handler (or run --handler CMD)";
            return Err(problem(format!("producers.{i}.values"), message));
        }
        return Ok(());
    };
    handler.check()?;
    if s.producers.len() > 1 {
        // A partition's log does not keep which producer wrote a record, so the event could not
        // say whose values or headers it carries.
        let per_record = [
            ("values", "sample values need a single producer; merge the producers into one"),
            ("value", "a value template read by a real handler needs a single producer; merge the producers into one"),
            ("header_count", "headers read by a real handler need a single producer; merge the producers into one"),
        ];
        for (i, p) in s.producers.iter().enumerate() {
            let set = [p.values.is_some(), p.value.is_some(), p.header_count > 0];
            if let Some((field, message)) = per_record.iter().zip(set).find(|(_, set)| *set).map(|(f, _)| f) {
                return Err(problem(format!("producers.{i}.{field}"), *message));
            }
        }
    }
    if let (Some(&i), Some(_)) = (with_values.first(), &s.esm.filter_criteria) {
        // The filter decides on the `value` template: the handler would read values it never judged.
        let message = "event filtering (esm.filter_criteria) decides on the producer's `value` template, not on \
                       sample values; give the producer a `value` template instead, or remove the filter";
        return Err(problem(format!("producers.{i}.values"), message));
    }
    let f = &s.failures;
    let synthetic = [
        ("failures.poison_records", !f.poison_records.is_empty()),
        ("failures.poison_rate", f.poison_rate > 0.0),
        ("failures.transient_error_rate", f.transient_error_rate > 0.0),
        ("failures.transient_record_error_rate", f.transient_record_error_rate > 0.0),
        ("faults", s.faults.iter().any(|f| f.kind != super::FaultKind::Rebalance)),
    ];
    if let Some((path, _)) = synthetic.iter().find(|(_, set)| *set) {
        let message = "models the built-in handler and does not apply to a real one (function.handler); \
                       place poison values with producers[].values.poison instead";
        return Err(problem(*path, message));
    }
    Ok(())
}
