//! Resolving records: every record ends exactly once as succeeded, sent to a destination,
//! discarded, filtered out, or lost to retention. Resolution happens at the front of a
//! partition's log (which then commits), or ahead of it for the article's per-record commit
//! model. Records a schema registry held back are sent to the destination (or dropped) when the
//! batch whose offsets they lie in resolves.

use super::{Observer, Simulation, notify};
use crate::engine::SimTime;
use crate::metrics::Resolution;
use crate::model::destination::{Condition, Delivery};
use crate::model::esm::{RangeSet, Segment};
use crate::model::record::RecordKey;

/// Why records at the front of a partition are being resolved.
#[derive(Clone, Copy, Debug)]
pub(super) enum Settlement<'a> {
    /// Processed without error in this delivery.
    Succeeded,
    /// Given up after retries or by age: succeeded if the handler processed the record
    /// without error in some attempt, otherwise to the destination (or discarded).
    GivenUp,
    /// The handler reported these records as failed but the ESM ignored the report
    /// (`ReportBatchItemFailures` not enabled): they are lost; the rest succeeded. Sorted.
    ReportIgnored(&'a [RecordKey]),
    /// Too large to deliver: never processed.
    Oversize,
    /// Deleted by retention.
    Lost,
}

/// What the ESM knows of a partition's records beyond its committed offset, on failure paths.
#[derive(Clone, Debug, Default)]
pub(super) struct Notes {
    /// Processed without error in some failed attempt.
    pub processed_ok: RangeSet,
    /// Already resolved as succeeded (per-record commit model).
    pub resolved_ahead: RangeSet,
}

impl Notes {
    fn is_empty(&self) -> bool {
        self.processed_ok.is_empty() && self.resolved_ahead.is_empty()
    }
}

impl<O: Observer> Simulation<O> {
    /// Resolves every record of `partition` before offset `end` under `verdict`, removes them
    /// from the log and (unless they were lost) commits. Records resolved ahead right after
    /// `end` go with them, so the log never starts with an already resolved record.
    pub(super) fn settle(&mut self, partition: u32, end: u64, verdict: Settlement) {
        let p = partition as usize;
        let start = self.source.logs[p].log_start_offset();
        let end = end.max(start);
        let end = self.esm.lanes[p].notes.resolved_ahead.run_end_from(end).unwrap_or(end);
        if end == start {
            return;
        }
        if matches!(verdict, Settlement::Succeeded)
            && self.esm.lanes[p].notes.is_empty()
            && !self.source.logs[p].filtering()
        {
            self.succeed_front(partition, end);
        } else {
            for (from, to, ahead) in self.esm.lanes[p].notes.resolved_ahead.runs(start, end) {
                if ahead {
                    self.source.logs[p].pop_front((to - from) as usize);
                } else {
                    self.settle_run(partition, from, to, verdict);
                }
            }
            self.esm.lanes[p].notes.processed_ok.remove_below(end);
            self.esm.lanes[p].notes.resolved_ahead.remove_below(end);
        }
        let lane = &self.esm.lanes[p];
        if let Some(planner) = &mut self.esm.fetchers[lane.owner as usize].planner {
            planner.front_removed(lane.slot, &self.source.logs[p]);
        }
        if !matches!(verdict, Settlement::Lost) {
            self.source.logs[p].commit(end);
            notify!(self.committed(self.now, partition, end));
        }
        self.restore_deferred(partition);
    }

    /// Records of `partition`'s log (from its start) that arrived at or before `t_ns`, those
    /// counted and not stored included.
    pub(super) fn arrived_by(&self, partition: u32, t_ns: SimTime) -> u64 {
        let stored = self.source.logs[partition as usize].arrived(t_ns) as u64;
        let deferred = match (self.source.deferred.get(partition as usize), &self.source.replayer) {
            (Some(d), Some(replayer)) if d.is_active() => d.arrived_by(replayer, partition, t_ns, &self.config.clock),
            _ => 0,
        };
        stored + deferred
    }

    /// Stores a partition's deferred arrivals again, regenerated with the offsets they would
    /// have had, once its log no longer holds a batch's worth; up to two batches' worth.
    fn restore_deferred(&mut self, partition: u32) {
        let p = partition as usize;
        let source = &mut self.source;
        let (Some(deferred), Some(replayer)) = (source.deferred.get_mut(p), &source.replayer) else { return };
        let rules = self.config.esm.rules;
        let log = &mut source.logs[p];
        if !deferred.is_active() || rules.log_holds(log, 1) {
            return;
        }
        let screen = super::Screen { filter: source.filter.as_ref(), schema: source.schema.as_ref() };
        // Records stored late arrived before others a planner may have numbered: it starts over
        // at its next plan (once, however many of its partitions store records before then).
        if super::store_deferred(deferred, replayer, partition, log, screen, |log| !rules.log_holds(log, 2)) {
            if let Some(planner) = &mut self.esm.fetchers[self.esm.lanes[p].owner as usize].planner {
                planner.invalidate();
            }
        }
    }

    /// The hot path: a successful batch with nothing unusual about its records.
    fn succeed_front(&mut self, partition: u32, end: u64) {
        let now = self.now;
        let log = &mut self.source.logs[partition as usize];
        let start = log.log_start_offset();
        log.pop_front_reading((end - start) as usize, |run| self.metrics.record_latencies(now, run));
        self.count_succeeded(end - start);
        self.resolved(partition, start, end, Resolution::Succeeded);
    }

    /// Offsets `from..to` at the front of the log, none resolved before, under `verdict`.
    fn settle_run(&mut self, partition: u32, from: u64, to: u64, verdict: Settlement) {
        let p = partition as usize;
        let mut offset = from;
        while offset < to {
            let how = self.classify(partition, offset, verdict);
            let mut end = offset + 1;
            while end < to && self.classify(partition, end, verdict) == how {
                end += 1;
            }
            let now = self.now;
            let n = end - offset;
            match how {
                Resolution::Succeeded => {
                    let metrics = &mut self.metrics;
                    self.source.logs[p].pop_front_reading(n as usize, |run| metrics.record_latencies(now, run));
                    self.count_succeeded(n);
                }
                Resolution::ToDestination => {
                    self.turn_away_invalid(partition, offset, end);
                    self.metrics.to_destination += n
                }
                Resolution::Discarded => {
                    self.turn_away_invalid(partition, offset, end);
                    self.metrics.discarded += n
                }
                Resolution::LostToRetention => self.metrics.lost_to_retention += n,
                Resolution::FilteredOut => self.metrics.filtered_out += n,
            }
            if how != Resolution::Succeeded {
                self.source.logs[p].pop_front(n as usize);
            }
            self.resolved(partition, offset, end, how);
            offset = end;
        }
    }

    fn classify(&self, partition: u32, offset: u64, verdict: Settlement) -> Resolution {
        let failed_for_good =
            if self.esm.destination.is_some() { Resolution::ToDestination } else { Resolution::Discarded };
        let log = &self.source.logs[partition as usize];
        if log.filtering() && !matches!(verdict, Settlement::Lost) && !log.is_matched(offset) {
            // Never sent to the function: failed schema validation (to the destination, or
            // dropped), or filtered out (committed with the records around it).
            let invalid = self.source.schema.is_some_and(|check| check.verdict(partition, offset).is_some());
            return if invalid { failed_for_good } else { Resolution::FilteredOut };
        }
        match verdict {
            Settlement::Succeeded => Resolution::Succeeded,
            Settlement::Lost => Resolution::LostToRetention,
            Settlement::Oversize => failed_for_good,
            Settlement::GivenUp if self.esm.lanes[partition as usize].notes.processed_ok.contains(offset) => {
                Resolution::Succeeded
            }
            Settlement::GivenUp => failed_for_good,
            Settlement::ReportIgnored(failed) if failed.binary_search(&RecordKey::new(partition, offset)).is_ok() => {
                Resolution::Discarded
            }
            Settlement::ReportIgnored(_) => Resolution::Succeeded,
        }
    }

    /// Per-record commit model: offsets `start..end` (not at the log front) succeeded now.
    pub(super) fn succeed_ahead(&mut self, partition: u32, start: u64, end: u64) {
        let now = self.now;
        for offset in start..end {
            let arrival = self.source.logs[partition as usize].record(offset).arrival_ns;
            self.metrics.record_latency(now - arrival);
        }
        self.count_succeeded(end - start);
        self.esm.lanes[partition as usize].notes.resolved_ahead.insert(start, end);
        self.resolved(partition, start, end, Resolution::Succeeded);
    }

    fn count_succeeded(&mut self, records: u64) {
        self.metrics.succeeded += records;
        self.metrics.interval.succeeded += records;
    }

    fn resolved(&mut self, partition: u32, start: u64, end: u64, how: Resolution) {
        notify!(self.resolved(self.now, partition, start, end, how));
    }

    /// Records still pending in a partition (in the log and not resolved ahead).
    pub(super) fn pending_in(&self, partition: u32) -> u64 {
        let log = &self.source.logs[partition as usize];
        let ahead = self.esm.lanes[partition as usize]
            .notes
            .resolved_ahead
            .count_within(log.log_start_offset(), log.end_offset());
        let deferred = self.source.deferred.get(partition as usize).map_or(0, |d| d.records());
        log.len() as u64 - ahead + deferred
    }

    /// Records of `partition` at `from..to`, resolving as sent to the destination or discarded:
    /// each that failed schema validation (and so rode in a batch's offset range unsent) gets a
    /// failure record of its own with AWS's reason code, and is counted as given up.
    fn turn_away_invalid(&mut self, partition: u32, from: u64, to: u64) {
        let Some(check) = self.source.schema else { return };
        for offset in from..to {
            if self.source.logs[partition as usize].is_matched(offset) {
                continue;
            }
            let Some(condition) = check.verdict(partition, offset) else { continue };
            match condition {
                Condition::SchemaNotFound => self.metrics.schema_not_found += 1,
                _ => self.metrics.deserialization_error += 1,
            }
            // Not part of a batch (id 0) and never invoked.
            self.write_to_destination(0, &[Segment { partition, start: offset, end: offset + 1 }], 0, condition);
            notify!(self.given_up(self.now, 1, self.esm.destination.is_some()));
        }
    }

    /// Writes a destination delivery for `segments`, if a destination is configured.
    fn write_to_destination(&mut self, batch_id: u64, segments: &[Segment], invoke_count: u32, condition: Condition) {
        let Some(destination) = &self.esm.destination else { return };
        let partitions = &self.source.logs;
        let envelope = self.config.esm.envelope_bytes;
        let invalid = matches!(condition, Condition::SchemaNotFound | Condition::DeserializationError);
        // A record that failed validation was never put in a payload: its size is the record as
        // stored, base64-encoded, with the per-record overhead (as `SOURCE` would deliver it).
        let as_stored = crate::config::PayloadRule::new(self.config.esm.payload.record_overhead_bytes);
        let records_bytes = |p: u32, start: u64, end: u64| {
            let log = &partitions[p as usize];
            if invalid {
                as_stored.payload_bytes(0, log.stored_between(start, end))
            } else {
                log.payload_between(start, end)
            }
        };
        let payload_bytes = segments.iter().map(|s| records_bytes(s.partition, s.start, s.end)).sum::<u64>() + envelope;
        let record_payload = |p: u32, o: u64| records_bytes(p, o, o + 1) + envelope;
        let arrival = |p: u32, o: u64| partitions[p as usize].record(o).arrival_ns;
        // Records that failed validation have failure records of their own.
        let schema = self.source.schema;
        let own_record = |p: u32, o: u64| {
            !invalid && schema.is_some_and(|c| !partitions[p as usize].is_matched(o) && c.verdict(p, o).is_some())
        };
        self.esm.destination_deliveries += 1;
        let delivery = Delivery {
            now: self.now,
            condition,
            invoke_count,
            segments,
            payload_bytes,
            arrival: &arrival,
            record_payload: &record_payload,
            listed_elsewhere: &own_record,
            sequence: self.esm.destination_deliveries,
        };
        let lines = destination.lines(&delivery);
        self.esm.destination_bytes += lines.iter().map(|l| l.len() as u64).sum::<u64>();
        self.esm.destination_lines.extend(lines);
        self.observer.delivered_to_destination(self.now, batch_id, segments, condition, invoke_count);
    }

    /// Writes a destination delivery for `segments` (if a destination is configured) and
    /// resolves their records with `verdict`. The segments must start at their log fronts.
    pub(super) fn give_up(&mut self, batch_id: u64, segments: &[Segment], invoke_count: u32, condition: Condition) {
        self.write_to_destination(batch_id, segments, invoke_count, condition);
        let logs = &self.source.logs;
        let records = segments.iter().map(|s| logs[s.partition as usize].matched_between(s.start, s.end)).sum();
        notify!(self.given_up(self.now, records, self.esm.destination.is_some()));
        let verdict = match condition {
            Condition::MaximumPayloadSizeExceeded => Settlement::Oversize,
            // Records that fail validation are resolved one by one (`turn_away_invalid`).
            Condition::RetryAttemptsExhausted | Condition::SchemaNotFound | Condition::DeserializationError => {
                Settlement::GivenUp
            }
        };
        for s in segments {
            self.settle(s.partition, s.end, verdict);
        }
    }

    /// Deletes what retention has deleted from the front of a partition's log.
    pub(super) fn expire(&mut self, p: u32) -> u64 {
        let mut total = 0;
        // Again while deferred arrivals, stored as the log empties, are expired too.
        loop {
            let partition = &self.source.logs[p as usize];
            let n = partition.expired(self.now, self.config.topic.retention_ns) as u64;
            if n == 0 {
                return total;
            }
            let end = partition.log_start_offset() + n;
            self.settle(p, end, Settlement::Lost);
            total += n;
        }
    }
}
