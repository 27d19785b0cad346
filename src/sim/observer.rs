//! Hooks into a run, for traces and invariant checks. Monomorphised: the default `()` observer
//! costs nothing.

use crate::engine::SimTime;
use crate::model::esm::{Batch, Segment};

/// How an invocation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The handler threw; `poison` is the record it threw at, if a poison record caused it.
    Error {
        poison: Option<(u32, u64)>,
    },
    /// The function ran into its timeout.
    Timeout,
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }
}

/// Every method has an empty default; implement the ones you need.
pub trait Observer {
    fn batch_formed(&mut self, _now: SimTime, _batch: &Batch) {}
    fn invocation_started(&mut self, _now: SimTime, _batch: &Batch, _cold: bool) {}
    fn invocation_ended(&mut self, _now: SimTime, _batch: &Batch, _outcome: Outcome) {}
    fn throttled(&mut self, _now: SimTime, _batch: &Batch) {}
    /// Offsets `segment.start..segment.end` were processed and committed.
    fn committed(&mut self, _now: SimTime, _segment: &Segment) {}
    /// Offsets were deleted by retention before they were committed.
    fn lost_to_retention(&mut self, _now: SimTime, _segment: &Segment) {}
    /// Offsets were dropped without being processed (e.g. a record too large to deliver).
    fn discarded(&mut self, _now: SimTime, _segment: &Segment) {}
}

impl Observer for () {}
