//! Hooks into a run, for traces and invariant checks. Monomorphised: the default `()` observer
//! costs nothing.

use crate::engine::SimTime;
use crate::metrics::Resolution;
use crate::model::destination::Condition;
use crate::model::esm::{Batch, Piece, Running, Segment};
use crate::model::topic::Partition;
use serde::Serialize;

pub use crate::model::handler::Outcome;

/// Why a batch is invoked again later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryCause {
    Failure,
    Bisect,
    Throttle,
}

/// Every method has an empty default; implement the ones you need.
pub trait Observer {
    /// A batch was formed; `partitions` gives the records' arrival times.
    fn batch_formed(&mut self, _now: SimTime, _batch: &Batch, _partitions: &[Partition]) {}
    fn invocation_started(&mut self, _now: SimTime, _batch: &Batch, _cold: bool) {}
    /// A real handler's process got the event and answered (after `invocation_started`).
    fn handler_exchange(&mut self, _now: SimTime, _batch: &Batch, _exchange: &crate::model::runtime_api::Exchange) {}
    fn invocation_ended(&mut self, _now: SimTime, _batch: &Batch, _outcome: Outcome) {}
    /// The invocation that just ended, with when it started and the handler's result.
    fn invocation_finished(&mut self, _now: SimTime, _batch: &Batch, _running: &Running) {}
    /// The ESM gave up on `records` records: to the on-failure destination, or dropped.
    fn given_up(&mut self, _now: SimTime, _records: u64, _to_destination: bool) {}
    fn throttled(&mut self, _now: SimTime, _batch: &Batch) {}
    fn retry_scheduled(&mut self, _now: SimTime, _batch: &Batch, _at: SimTime, _cause: RetryCause) {}
    /// The batch's current piece failed and was split; `second` runs after the current one.
    fn bisected(&mut self, _now: SimTime, _batch: &Batch, _second: &Piece) {}
    /// Offsets `start..end` of `partition` reached their final outcome.
    fn resolved(&mut self, _now: SimTime, _partition: u32, _start: u64, _end: u64, _how: Resolution) {}
    /// The committed offset of `partition` moved to `offset`.
    fn committed(&mut self, _now: SimTime, _partition: u32, _offset: u64) {}
    fn delivered_to_destination(
        &mut self,
        _now: SimTime,
        _batch_id: u64,
        _segments: &[Segment],
        _condition: Condition,
        _invoke_count: u32,
    ) {
    }
    /// Whether the observer failed and the run should stop (checked now and then, not per
    /// event): a trace that cannot be written is not worth simulating on for.
    fn failed(&self) -> bool {
        false
    }
}

impl Observer for () {}
