//! The metrics are one more observer of the run's events: counters, flush reasons, outcomes,
//! stalls and poison-pill stories are kept from the same calls that feed traces and tests.

use super::{Metrics, Resolution};
use crate::engine::SimTime;
use crate::model::esm::{Batch, FlushReason};
use crate::model::handler::Outcome;
use crate::model::topic::Partition;
use crate::sim::Observer;

impl Observer for Metrics {
    fn batch_formed(&mut self, _now: SimTime, batch: &Batch, _partitions: &[Partition]) {
        let records = batch.records as u64;
        self.batches += 1;
        self.batch_records += records;
        self.batch_max_records = self.batch_max_records.max(records);
        match batch.reason {
            FlushReason::Size => self.flushed_by_size += 1,
            FlushReason::Window => self.flushed_by_window += 1,
            FlushReason::Payload => self.flushed_by_payload += 1,
        }
    }

    fn invocation_ended(&mut self, _now: SimTime, _batch: &Batch, outcome: Outcome) {
        match outcome {
            Outcome::Success => self.invocations_succeeded += 1,
            Outcome::Partial { .. } => {
                self.invocations_succeeded += 1;
                self.partial_failures += 1;
            }
            Outcome::Timeout { .. } => {
                self.invocations_timed_out += 1;
                self.interval.errors += 1;
            }
            Outcome::Error { .. } | Outcome::Crash { .. } => {
                self.invocations_failed += 1;
                self.interval.errors += 1;
            }
        }
    }

    fn throttled(&mut self, _now: SimTime, _batch: &Batch) {
        self.throttled += 1;
        self.interval.throttles += 1;
    }

    fn resolved(&mut self, now: SimTime, partition: u32, start: u64, end: u64, how: Resolution) {
        if !self.poison_pills.is_empty() {
            self.poison_pills.resolved(partition, start, end, how, now);
        }
    }

    fn committed(&mut self, now: SimTime, partition: u32, offset: u64) {
        self.stalls.committed(partition, offset, now);
    }
}
