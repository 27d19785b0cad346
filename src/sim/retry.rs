//! What the ESM does after a failure: retry with backoff, bisect, apply a partial batch
//! response, give up to the destination, and move on to the batch's next piece.

use super::invoke::Running;
use super::settle::Verdict;
use super::{Event, Observer, RetryCause, Simulation, live};
use crate::model::destination::Condition;
use crate::model::esm::Segment;
use crate::scenario::PartialBatchCommit;

impl<O: Observer> Simulation<O> {
    /// The invocation failed as a whole (error, timeout or crash).
    pub(super) fn on_failure(&mut self, slot: u32, running: Running) {
        self.metrics.interval.errors += 1;
        let segments = self.batch(slot).current.segments.clone();
        self.note_processed_prefix(&segments, running.ok_before);
        self.blame(&running.culprits);
        for s in &segments {
            self.metrics.stalls.failed(s.partition, s.start, self.now);
        }
        let bisect = self.scenario.esm.bisect_batch_on_function_error && self.batch(slot).records > 1;
        let batch = self.batch_mut(slot);
        batch.failures_in_row += 1;
        batch.current.failed_attempts += 1;
        if bisect {
            let reset = self.scenario.esm.bisect_resets_retries;
            let batch = self.batch_mut(slot);
            let second = batch.split_current(reset);
            batch.queued.push_front(second);
            let mut batch = self.batches[slot as usize].take().expect("live batch slot");
            self.measure_current(&mut batch);
            self.batches[slot as usize] = Some(batch);
            let batch = live(&self.batches, slot);
            self.observer.bisected(self.now, batch, &batch.queued[0]);
            self.schedule_retry(slot, RetryCause::Bisect);
        } else {
            self.retry_or_give_up(slot);
        }
    }

    /// The handler returned `batchItemFailures`.
    pub(super) fn on_partial_failure(&mut self, slot: u32, running: Running) {
        let segments = self.batch(slot).current.segments.clone();
        if !self.scenario.esm.reports_batch_item_failures() {
            // The pitfall: Lambda ignores the response and the batch counts as a success.
            for s in &segments {
                self.settle(s.partition, s.end, Verdict::ReportIgnored(&running.reported));
            }
            self.batch_mut(slot).failures_in_row = 0;
            self.advance(slot);
            return;
        }
        // The function returned normally: not an error (CloudWatch `Errors`) and, by the
        // contract's definition, not the start of a stall.
        self.blame(&running.culprits);
        let failed = &running.reported;
        let per_record = self.scenario.esm.partial_batch_commit == PartialBatchCommit::PerRecord;
        let mut remaining = Vec::new();
        for s in &segments {
            let from = failed.partition_point(|&k| k < (s.partition, s.start));
            let in_segment: Vec<u64> =
                failed[from..].iter().take_while(|&&(p, o)| p == s.partition && o < s.end).map(|&(_, o)| o).collect();
            if !in_segment.is_empty() {
                self.note_processed_except(s, &in_segment);
            }
            if per_record {
                // Every success is done now; only the failed records are retried.
                let mut next = s.start;
                for &offset in &in_segment {
                    if offset > next {
                        self.succeed_ahead(s.partition, next, offset);
                    }
                    remaining.push(Segment { partition: s.partition, start: offset, end: offset + 1 });
                    next = offset + 1;
                }
                if next < s.end {
                    self.succeed_ahead(s.partition, next, s.end);
                }
            } else {
                // Commit up to the lowest failure and redeliver from there.
                let lowest = in_segment.first().copied().unwrap_or(s.end);
                self.settle(s.partition, lowest, Verdict::Succeeded);
                if lowest < s.end {
                    remaining.push(Segment { start: lowest, ..*s });
                }
            }
        }
        if per_record {
            for s in &segments {
                // Successes at the front of the log commit at once.
                let front = self.partitions[s.partition as usize].log_start_offset();
                self.settle(s.partition, front, Verdict::Succeeded);
            }
        }
        self.replace_current(slot, remaining);
        let batch = self.batch_mut(slot);
        batch.failures_in_row += 1;
        batch.current.failed_attempts += 1;
        self.retry_or_give_up(slot);
    }

    /// After a failed attempt without bisect: retry after the backoff, or give up once
    /// `maximum_retry_attempts` is used up.
    fn retry_or_give_up(&mut self, slot: u32) {
        let exhausted = self.settings.retry_limit.is_some_and(|limit| self.batch(slot).current.failed_attempts > limit);
        if exhausted {
            self.give_up_current(slot, Condition::RetryAttemptsExhausted);
        } else {
            self.schedule_retry(slot, RetryCause::Failure);
        }
    }

    fn schedule_retry(&mut self, slot: u32, cause: RetryCause) {
        let at = self.now + self.settings.retry_backoff.delay(self.batch(slot).failures_in_row);
        self.observer.retry_scheduled(self.now, live(&self.batches, slot), at, cause);
        self.queue.schedule(at, Event::Retry { slot });
    }

    /// Gives up on the current piece and moves on.
    pub(super) fn give_up_current(&mut self, slot: u32, condition: Condition) {
        let batch = self.batch(slot);
        let (id, segments, invocations) = (batch.id, batch.current.segments.clone(), batch.current.invocations);
        self.give_up(id, &segments, invocations, condition);
        self.advance(slot);
    }

    /// The current piece is resolved: deliver the next queued piece, or retire the batch.
    pub(super) fn advance(&mut self, slot: u32) {
        let batch = self.batch_mut(slot);
        let Some(next) = batch.queued.pop_front() else {
            self.retire_batch(slot);
            return;
        };
        let done: Vec<u32> = batch.current.segments.iter().map(|s| s.partition).collect();
        batch.current = next;
        // Retention may have deleted the front of the next piece while it waited.
        let segments = self.clamp_to_logs(&self.batch(slot).current.segments);
        self.replace_current(slot, segments);
        self.release_unheld(slot, &done);
        self.deliver(slot);
    }

    /// A retry is due: fetch the piece again and invoke it.
    pub(super) fn on_retry(&mut self, slot: u32) {
        self.deliver(slot);
    }

    /// Delivers the current piece after re-fetching it: retention may have deleted records,
    /// and records past `maximum_record_age` are not sent again.
    pub(super) fn deliver(&mut self, slot: u32) {
        self.trim_expired(slot);
        self.give_up_aged(slot);
        if self.batch(slot).records == 0 {
            self.advance(slot);
        } else {
            self.invoke(slot);
        }
    }

    /// Drops from the current piece what retention has deleted.
    fn trim_expired(&mut self, slot: u32) {
        let segments = self.batch(slot).current.segments.clone();
        let mut changed = false;
        for s in &segments {
            changed |= self.expire(s.partition) > 0;
        }
        if changed {
            let trimmed = self.clamp_to_logs(&segments);
            self.replace_current(slot, trimmed);
        }
    }

    /// `segments` without the offsets no longer in their partitions' logs.
    fn clamp_to_logs(&self, segments: &[Segment]) -> Vec<Segment> {
        segments
            .iter()
            .map(|s| {
                let start = s.start.max(self.partitions[s.partition as usize].log_start_offset());
                Segment { start, end: s.end.max(start), ..*s }
            })
            .collect()
    }

    /// Gives up on the records of the current piece older than `maximum_record_age`.
    fn give_up_aged(&mut self, slot: u32) {
        let Some(cutoff) = self.settings.max_record_age_ns.and_then(|age| self.now.checked_sub(age)) else { return };
        let segments = self.batch(slot).current.segments.clone();
        let aged: Vec<Segment> = segments
            .iter()
            .filter_map(|s| {
                let log = &self.partitions[s.partition as usize];
                let old = (s.start..s.end).take_while(|&o| log.record(o).arrival_ns < cutoff).count() as u64;
                (old > 0).then_some(Segment { end: s.start + old, ..*s })
            })
            .collect();
        if aged.is_empty() {
            return;
        }
        let batch = self.batch(slot);
        self.give_up(batch.id, &aged, batch.current.invocations, Condition::RetryAttemptsExhausted);
        let rest = segments
            .iter()
            .map(|s| {
                let start =
                    aged.iter().find(|a| a.partition == s.partition && a.start == s.start).map_or(s.start, |a| a.end);
                Segment { start, ..*s }
            })
            .collect();
        self.replace_current(slot, rest);
    }

    /// Sets the current piece's segments (dropping empty ones) and releases partitions it no
    /// longer holds.
    fn replace_current(&mut self, slot: u32, mut segments: Vec<Segment>) {
        segments.retain(|s| !s.is_empty());
        let mut batch = self.batches[slot as usize].take().expect("live batch slot");
        let before: Vec<u32> = batch.current.segments.iter().map(|s| s.partition).collect();
        batch.current.segments = segments;
        self.measure_current(&mut batch);
        self.batches[slot as usize] = Some(batch);
        self.release_unheld(slot, &before);
    }

    /// Records of the piece before index `ok_before` were processed without error.
    fn note_processed_prefix(&mut self, segments: &[Segment], ok_before: u64) {
        let mut left = ok_before;
        for s in segments {
            let n = left.min(s.len());
            if n == 0 {
                break;
            }
            self.notes[s.partition as usize].processed_ok.insert(s.start, s.start + n);
            left -= n;
        }
    }

    /// Every record of `segment` but `failed` (sorted offsets) was processed without error.
    fn note_processed_except(&mut self, segment: &Segment, failed: &[u64]) {
        let notes = &mut self.notes[segment.partition as usize].processed_ok;
        let mut next = segment.start;
        for &offset in failed {
            notes.insert(next, offset);
            next = offset + 1;
        }
        notes.insert(next, segment.end);
    }

    /// Records the failure against the poison records that caused it.
    fn blame(&mut self, culprits: &[(u32, u64)]) {
        let now = self.now;
        for &(partition, offset) in culprits {
            let log = &self.partitions[partition as usize];
            let arrived_after = (log.arrived(now) as u64).saturating_sub(offset + 1 - log.log_start_offset());
            self.metrics.poison_pills.failed(partition, offset, now, arrived_after);
        }
    }
}
