//! `failures` and `faults`: what goes wrong, and when.

use super::{Dur, Effect, Handler};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Failures {
    /// How the handler reacts to a bad record.
    pub handler: Handler,
    pub poison_records: Vec<PoisonRecord>,
    /// Probability that a record is poison, each independently; drawn from (seed, partition,
    /// offset) alone (`model::failures`).
    pub poison_rate: f64,
    /// What a poison record chosen by `poison_rate` does.
    pub poison_rate_effect: Effect,
    /// Probability that an invocation fails as a whole, drawn anew for every attempt.
    pub transient_error_rate: f64,
    /// Probability that the handler fails one record, drawn anew for every attempt.
    pub transient_record_error_rate: f64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoisonRecord {
    pub partition: u32,
    pub offset: u64,
    #[serde(default)]
    pub effect: Effect,
}

/// Something that goes wrong between `from` and `until` (by invocation start time).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Every invocation fails (after the handler's base time).
    FunctionOutage,
    /// Invocations fail with probability `error_rate`, on top of `transient_error_rate`.
    ErrorBurst,
    /// Handler durations are multiplied by `factor`.
    Slowdown,
    /// The consumer group rebalances at `from`: no new batches until `until`.
    Rebalance,
}
