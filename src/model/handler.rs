//! The function's code: what an invocation of a batch does. [`Handler`] is the boundary a real
//! handler (or another model of one) plugs into; [`SyntheticHandler`] is the built-in model: the
//! duration model, poison records with their effects, transient errors and faults.

use super::esm::Segment;
use super::failures::{BadRecord, Failures};
use super::function::DurationModel;
use super::record::RecordKey;
use super::topic::Partition;
use crate::config::{Config, Effect, HandlerBehaviour};
use crate::engine::SimTime;
use serde::{Deserialize, Serialize};

/// How an invocation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// The handler threw, at a record if `at` is set, or the invocation failed as a whole.
    Error {
        at: Option<RecordKey>,
    },
    /// The function ran into its timeout (while hanging on `at`, if set).
    Timeout {
        at: Option<RecordKey>,
    },
    /// The runtime exited at a record; its environment is gone.
    Crash {
        at: RecordKey,
    },
    /// The handler returned `batchItemFailures` naming `failed` records; `invalid` when Lambda
    /// cannot match the identifiers.
    Partial {
        failed: u32,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        invalid: bool,
    },
}

/// What the function is asked to process.
pub struct Invocation<'a> {
    pub now: SimTime,
    /// Numbers invocations across the run, for per-attempt random draws.
    pub attempt: u64,
    pub segments: &'a [Segment],
    pub records: u32,
    pub payload_bytes: u64,
    /// The partitions' logs, for what the records weigh.
    pub logs: &'a [Partition],
    pub timeout_ns: SimTime,
    /// The execution environment it runs in (numbered from 1 in order of creation).
    pub environment: u64,
}

/// How an invocation fares, before timing and billing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerResult {
    pub outcome: Outcome,
    /// Handler time, at most the timeout.
    pub run_ns: SimTime,
    /// Records the handler reports as failed (`batchItemFailures`), sorted.
    pub reported: Vec<RecordKey>,
    /// Records in batch order before this index were processed without error.
    pub ok_before: u64,
    /// Poison records that caused the failure.
    pub culprits: Vec<RecordKey>,
}

impl HandlerResult {
    /// An outcome of the whole batch (no record reported or blamed).
    pub fn whole(outcome: Outcome, run_ns: SimTime) -> Self {
        HandlerResult { outcome, run_ns, reported: vec![], ok_before: 0, culprits: vec![] }
    }

    /// The invocation ran into its timeout before the handler ran.
    pub fn timed_out(timeout_ns: SimTime) -> Self {
        HandlerResult::whole(Outcome::Timeout { at: None }, timeout_ns)
    }
}

/// The function's code.
pub trait Handler {
    fn invoke(&mut self, invocation: &Invocation) -> HandlerResult;

    /// An execution environment expired or was destroyed (a crash): state kept in it is gone.
    fn environment_gone(&mut self, _environment: u64) {}

    /// Why the handler can no longer run (a process that cannot start, for one): the run stops.
    fn fatal(&self) -> Option<&str> {
        None
    }

    /// What the last invocation sent and got back, when the handler is a real one.
    fn take_exchange(&mut self) -> Option<super::runtime_api::Exchange> {
        None
    }
}

/// The built-in handler model.
pub struct SyntheticHandler {
    durations: DurationModel,
    failures: Failures,
    behaviour: HandlerBehaviour,
}

impl SyntheticHandler {
    pub fn new(config: &Config, seed: u64) -> Self {
        SyntheticHandler {
            durations: DurationModel::new(&config.function.duration, seed),
            failures: Failures::new(&config.failures, &config.faults, seed, config.clock.origin_ns),
            behaviour: config.failures.handler,
        }
    }

    /// Time until the handler reaches `bad` (and processes it), with `jitter` and `slowdown`.
    fn time_through(&self, inv: &Invocation, bad: &BadRecord, jitter: f64, slowdown: f64) -> SimTime {
        let bytes = payload_through(inv.logs, inv.segments, bad.partition, bad.offset);
        slow(self.durations.handler_ns(bad.index + 1, bytes, jitter), slowdown)
    }

    /// A hang or a crash ends the invocation whatever the handler would have reported; so does
    /// the first bad record of a handler that throws.
    fn stopped_at(&self, inv: &Invocation, bad: &BadRecord, jitter: f64, slowdown: f64) -> HandlerResult {
        let timeout = inv.timeout_ns;
        let run =
            if bad.effect == Effect::Timeout { timeout + 1 } else { self.time_through(inv, bad, jitter, slowdown) };
        let key = RecordKey::new(bad.partition, bad.offset);
        let at = Some(key);
        // Records before the bad one were processed, unless time ran out on the way to it.
        let (outcome, ok_before) = match bad.effect {
            Effect::Timeout => (Outcome::Timeout { at }, bad.index),
            _ if run > timeout => (Outcome::Timeout { at: None }, 0),
            Effect::Crash => (Outcome::Crash { at: key }, bad.index),
            Effect::Error => (Outcome::Error { at }, bad.index),
        };
        let blamed = bad.poison && !matches!(outcome, Outcome::Timeout { at: None });
        let culprits = if blamed { vec![key] } else { vec![] };
        HandlerResult { outcome, run_ns: run.min(timeout), reported: vec![], ok_before, culprits }
    }
}

fn slow(ns: SimTime, slowdown: f64) -> SimTime {
    ((ns as f64) * slowdown).round() as SimTime
}

impl Handler for SyntheticHandler {
    fn invoke(&mut self, inv: &Invocation) -> HandlerResult {
        let jitter = self.durations.draw_jitter();
        let timeout = inv.timeout_ns;
        let full = self.durations.handler_ns(inv.records as u64, inv.payload_bytes, jitter);
        if !self.failures.any() {
            return if full > timeout {
                HandlerResult::whole(Outcome::Timeout { at: None }, timeout)
            } else {
                HandlerResult::whole(Outcome::Success, full)
            };
        }
        let conditions = self.failures.conditions(inv.now);
        if conditions.outage {
            let base = self.durations.handler_ns(0, 0, jitter);
            return HandlerResult::whole(Outcome::Error { at: None }, slow(base, conditions.slowdown).min(timeout));
        }
        let throws = self.behaviour == HandlerBehaviour::FailBatch;
        let bad = self.failures.bad_records(inv.segments, inv.attempt, throws);
        if let Some(b) = bad.iter().find(|b| b.effect != Effect::Error || throws) {
            return self.stopped_at(inv, b, jitter, conditions.slowdown);
        }
        let full = slow(full, conditions.slowdown);
        if full > timeout {
            return HandlerResult::whole(Outcome::Timeout { at: None }, timeout);
        }
        if self.failures.invocation_error(inv.attempt, &conditions) {
            return HandlerResult::whole(Outcome::Error { at: None }, full);
        }
        if bad.is_empty() {
            return HandlerResult::whole(Outcome::Success, full);
        }
        let mut reported: Vec<RecordKey> = bad.iter().map(|b| RecordKey::new(b.partition, b.offset)).collect();
        reported.sort_unstable();
        let culprits = bad.iter().filter(|b| b.poison).map(|b| RecordKey::new(b.partition, b.offset)).collect();
        let invalid = self.behaviour == HandlerBehaviour::ReportInvalidIds;
        let outcome = Outcome::Partial { failed: reported.len() as u32, invalid };
        HandlerResult { outcome, run_ns: full, reported, ok_before: 0, culprits }
    }
}

/// Payload bytes of a batch's records up to and including `offset` of `partition`.
fn payload_through(logs: &[Partition], segments: &[Segment], partition: u32, offset: u64) -> u64 {
    let mut bytes = 0;
    for s in segments {
        let log = &logs[s.partition as usize];
        if s.partition == partition && (s.start..s.end).contains(&offset) {
            return bytes + log.payload_between(s.start, offset + 1);
        }
        bytes += log.payload_between(s.start, s.end);
    }
    bytes
}
