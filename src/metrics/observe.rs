//! The metrics are one more observer of the run's events: counters, flush reasons, outcomes,
//! stalls and poison-pill stories are kept from the same calls that feed traces and tests.

use super::{Metrics, Resolution};
use crate::engine::SimTime;
use crate::model::esm::{Batch, FlushReason, Running};
use crate::model::handler::Outcome;
use crate::model::topic::Partition;
use crate::sim::Observer;

impl Observer for Metrics {
    fn batch_formed(&mut self, now: SimTime, batch: &Batch, _partitions: &[Partition]) {
        let records = batch.records as u64;
        // Filtered records pass through the pollers too (PolledEventCount) but are not sent;
        // so do records that failed schema validation, which are not filtered out either.
        let polled: u64 = batch.segments().iter().map(|s| s.len()).sum();
        let invalid = self.schema.map_or(0, |check| {
            let segments = batch.segments().iter();
            segments.map(|s| (s.start..s.end).filter(|&o| check.verdict(s.partition, o).is_some()).count() as u64).sum()
        });
        let period = self.cloudwatch.at(now);
        period.polled_events += polled;
        period.filtered_out_events += polled - records - invalid;
        self.batches += 1;
        self.batch_records += records;
        self.batch_max_records = self.batch_max_records.max(records);
        match batch.reason {
            FlushReason::Size => self.flushed_by_size += 1,
            FlushReason::Window => self.flushed_by_window += 1,
            FlushReason::Payload => {
                self.flushed_by_payload += 1;
                self.interval.flushed_by_payload += 1;
            }
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

    fn throttled(&mut self, now: SimTime, _batch: &Batch) {
        self.throttled += 1;
        self.interval.throttles += 1;
        self.cloudwatch.at(now).throttles += 1;
    }

    fn invocation_finished(&mut self, _now: SimTime, batch: &Batch, running: &Running) {
        let records = batch.records as u64;
        let (error, failed_records) = match running.result.outcome {
            Outcome::Success => (false, 0),
            Outcome::Partial { invalid: true, .. } if self.reports_batch_item_failures => (false, records),
            Outcome::Partial { failed, .. } => (false, failed as u64),
            Outcome::Error { .. } | Outcome::Timeout { .. } | Outcome::Crash { .. } => (true, records),
        };
        self.cloudwatch.invocation(running.started_ns, running.result.run_ns, records, error, failed_records);
    }

    fn given_up(&mut self, now: SimTime, records: u64, to_destination: bool) {
        let period = self.cloudwatch.at(now);
        if to_destination {
            period.destination_events += records;
        } else {
            period.dropped_events += records;
        }
    }

    fn resolved(&mut self, now: SimTime, partition: u32, start: u64, end: u64, how: Resolution) {
        if how == Resolution::LostToRetention {
            // Deleted, not committed: the next commit must not count them.
            let last = &mut self.committed[partition as usize];
            *last = (*last).max(end);
        }
        if !self.poison_pills.is_empty() {
            self.poison_pills.resolved(partition, start, end, how, now);
        }
    }

    fn committed(&mut self, now: SimTime, partition: u32, offset: u64) {
        self.stalls.committed(partition, offset, now);
        let last = &mut self.committed[partition as usize];
        self.cloudwatch.at(now).committed_events += offset.saturating_sub(*last);
        *last = (*last).max(offset);
    }
}
