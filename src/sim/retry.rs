//! What the ESM does after a failure: retry with backoff, bisect, apply a partial batch
//! response, give up to the destination, and move on to the batch's next piece.

use super::dispatch::measure;
use super::settle::Settlement;
use super::{BatchId, EsmEvent, Observer, RetryCause, Simulation};
use crate::model::destination::Condition;
use crate::model::esm::{BatchState, Segment};
use crate::model::handler::{HandlerResult, Outcome};
use crate::model::kafka::checkpoint;
use crate::model::record::RecordKey;

impl<O: Observer> Simulation<O> {
    /// The invocation failed as a whole (error, timeout or crash).
    pub(super) fn on_failure(&mut self, batch: BatchId, running: HandlerResult) {
        let segments = self.esm.batches[batch].current.segments.clone();
        self.note_processed_prefix(&segments, running.ok_before);
        self.blame(&running.culprits);
        // The failing record stalls its partition; a failure at no known record stalls every
        // partition of the piece at its first record.
        match running.outcome {
            Outcome::Error { at: Some(key) } | Outcome::Timeout { at: Some(key) } | Outcome::Crash { at: key } => {
                self.metrics.stalls.failed(key.lane, key.position, self.now)
            }
            _ => segments.iter().for_each(|s| self.metrics.stalls.failed(s.partition, s.start, self.now)),
        }
        let bisect = self.config.esm.bisect_on_error && self.esm.batches[batch].records > 1;
        let b = &mut self.esm.batches[batch];
        b.failures_in_row += 1;
        b.current.failed_attempts += 1;
        if bisect {
            let second = b.split_current(self.config.esm.bisect_resets_retries);
            b.queued.push_front(second);
            measure(b, &self.source.logs);
            self.observer.bisected(self.now, b, &b.queued[0]);
            self.schedule_retry(batch, RetryCause::Bisect);
        } else {
            self.retry_or_give_up(batch);
        }
    }

    /// The handler returned `batchItemFailures`.
    pub(super) fn on_partial_failure(&mut self, batch: BatchId, running: HandlerResult) {
        let segments = self.esm.batches[batch].current.segments.clone();
        let invalid = matches!(running.outcome, Outcome::Partial { invalid: true, .. });
        if invalid && self.config.esm.reports_batch_item_failures {
            // Lambda cannot match the identifiers: the whole batch failed, though the handler did
            // process the records it did not name.
            for s in &segments {
                self.note_processed_except(s, &failed_in(&running.reported, s));
            }
            self.on_failure(batch, running);
            return;
        }
        if !self.config.esm.reports_batch_item_failures {
            // The pitfall: Lambda ignores the response and the batch counts as a success.
            for s in &segments {
                self.settle(s.partition, s.end, Settlement::ReportIgnored(&running.reported));
            }
            self.esm.batches[batch].failures_in_row = 0;
            self.advance(batch);
            return;
        }
        // The function returned normally: not an error (CloudWatch `Errors`), but each
        // partition with a reported record cannot commit past it.
        self.blame(&running.culprits);
        let failed = &running.reported;
        let policy = checkpoint::policy(self.config.esm.partial_batch_commit);
        let mut remaining = Vec::new();
        for s in &segments {
            let in_segment = failed_in(failed, s);
            if !in_segment.is_empty() {
                self.note_processed_except(s, &in_segment);
            }
            let checkpoint = policy.after_partial(*s, &in_segment);
            for &(start, end) in &checkpoint.succeeded_ahead {
                self.succeed_ahead(s.partition, start, end);
            }
            if let Some(offset) = checkpoint.commit_to {
                self.settle(s.partition, offset, Settlement::Succeeded);
            }
            remaining.extend(checkpoint.retry);
        }
        if policy.resolves_ahead() {
            for s in &segments {
                // Successes at the front of the log commit at once.
                let front = self.source.logs[s.partition as usize].log_start_offset();
                self.settle(s.partition, front, Settlement::Succeeded);
            }
        }
        // After the commits, which may close an earlier stall below the named records.
        for key in failed {
            self.metrics.stalls.failed(key.lane, key.position, self.now);
        }
        self.replace_current(batch, remaining);
        let b = &mut self.esm.batches[batch];
        b.failures_in_row += 1;
        b.current.failed_attempts += 1;
        self.retry_or_give_up(batch);
    }

    /// After a failed attempt without bisect: retry after the backoff, or give up once
    /// `maximum_retry_attempts` is used up.
    fn retry_or_give_up(&mut self, batch: BatchId) {
        let exhausted = self.config.esm.retry_limit.exhausted_by(self.esm.batches[batch].current.failed_attempts);
        if exhausted {
            self.give_up_current(batch, Condition::RetryAttemptsExhausted);
        } else {
            self.schedule_retry(batch, RetryCause::Failure);
        }
    }

    fn schedule_retry(&mut self, batch: BatchId, cause: RetryCause) {
        let b = &mut self.esm.batches[batch];
        let at = self.now + self.config.esm.retry_backoff.delay(b.failures_in_row);
        b.state = BatchState::AwaitingRetry;
        self.observer.retry_scheduled(self.now, &self.esm.batches[batch], at, cause);
        self.schedule_esm(at, EsmEvent::Retry { batch });
    }

    /// Gives up on the current piece and moves on.
    pub(super) fn give_up_current(&mut self, batch: BatchId, condition: Condition) {
        let b = &self.esm.batches[batch];
        let (id, segments, invocations) = (b.id, b.current.segments.clone(), b.current.invocations);
        self.give_up(id, &segments, invocations, condition);
        self.advance(batch);
    }

    /// The current piece is resolved: deliver the next queued piece, or retire the batch.
    pub(super) fn advance(&mut self, batch: BatchId) {
        let b = &mut self.esm.batches[batch];
        let Some(next) = b.queued.pop_front() else {
            self.retire_batch(batch);
            return;
        };
        let done: Vec<u32> = b.current.segments.iter().map(|s| s.partition).collect();
        b.current = next;
        // Retention may have deleted the front of the next piece while it waited.
        let segments = self.clamp_to_logs(&self.esm.batches[batch].current.segments);
        self.replace_current(batch, segments);
        self.release_unheld(batch, &done);
        self.deliver(batch);
    }

    /// A retry is due: fetch the piece again and invoke it.
    pub(super) fn on_retry(&mut self, batch: BatchId) {
        if self.esm.batches.get(batch).is_some_and(|b| b.state == BatchState::AwaitingRetry) {
            self.esm.batches[batch].state = BatchState::Ready;
            self.deliver(batch);
        }
    }

    /// Delivers the current piece after re-fetching it: retention may have deleted records,
    /// and records past `maximum_record_age` are not sent again.
    pub(super) fn deliver(&mut self, batch: BatchId) {
        self.trim_expired(batch);
        self.give_up_aged(batch);
        if self.esm.batches[batch].records == 0 {
            self.advance(batch);
        } else {
            self.invoke(batch);
        }
    }

    /// Drops from the current piece what retention has deleted.
    fn trim_expired(&mut self, batch: BatchId) {
        // Nothing has expired yet (no copy of the segments, no visit to each partition).
        if !self.retention_may_have_expired() {
            return;
        }
        let segments = self.esm.batches[batch].current.segments.clone();
        let mut changed = false;
        for s in &segments {
            changed |= self.expire(s.partition) > 0;
        }
        if changed {
            let trimmed = self.clamp_to_logs(&segments);
            self.replace_current(batch, trimmed);
        }
    }

    /// `segments` without the offsets no longer in their partitions' logs.
    fn clamp_to_logs(&self, segments: &[Segment]) -> Vec<Segment> {
        segments
            .iter()
            .map(|s| {
                let start = s.start.max(self.source.logs[s.partition as usize].log_start_offset());
                Segment { start, end: s.end.max(start), ..*s }
            })
            .collect()
    }

    /// Gives up on the records of the current piece older than `maximum_record_age`.
    fn give_up_aged(&mut self, batch: BatchId) {
        let Some(cutoff) = self.config.esm.max_record_age_ns.and_then(|age| self.now.checked_sub(age)) else { return };
        let aged: Vec<Segment> = self.esm.batches[batch]
            .current
            .segments
            .iter()
            .filter_map(|s| {
                let log = &self.source.logs[s.partition as usize];
                let old = (s.start..s.end).take_while(|&o| log.record(o).arrival_ns < cutoff).count() as u64;
                (old > 0).then_some(Segment { end: s.start + old, ..*s })
            })
            .collect();
        if aged.is_empty() {
            return;
        }
        let segments = self.esm.batches[batch].current.segments.clone();
        let b = &self.esm.batches[batch];
        self.give_up(b.id, &aged, b.current.invocations, Condition::RetryAttemptsExhausted);
        let rest = segments
            .iter()
            .map(|s| {
                let start =
                    aged.iter().find(|a| a.partition == s.partition && a.start == s.start).map_or(s.start, |a| a.end);
                Segment { start, ..*s }
            })
            .collect();
        self.replace_current(batch, rest);
    }

    /// Sets the current piece's segments (dropping empty ones) and releases partitions it no
    /// longer holds.
    fn replace_current(&mut self, batch: BatchId, mut segments: Vec<Segment>) {
        segments.retain(|s| !s.is_empty());
        let b = &mut self.esm.batches[batch];
        let before: Vec<u32> = b.current.segments.iter().map(|s| s.partition).collect();
        b.current.segments = segments;
        measure(b, &self.source.logs);
        self.release_unheld(batch, &before);
    }

    /// Records of the piece before index `ok_before` were processed without error.
    fn note_processed_prefix(&mut self, segments: &[Segment], ok_before: u64) {
        let mut left = ok_before;
        for s in segments {
            let n = left.min(s.len());
            if n == 0 {
                break;
            }
            self.esm.lanes[s.partition as usize].notes.processed_ok.insert(s.start, s.start + n);
            left -= n;
        }
    }

    /// Every record of `segment` but `failed` (sorted offsets) was processed without error.
    fn note_processed_except(&mut self, segment: &Segment, failed: &[u64]) {
        let notes = &mut self.esm.lanes[segment.partition as usize].notes.processed_ok;
        let mut next = segment.start;
        for &offset in failed {
            notes.insert(next, offset);
            next = offset + 1;
        }
        notes.insert(next, segment.end);
    }

    /// Records the failure against the poison records that caused it.
    fn blame(&mut self, culprits: &[RecordKey]) {
        let now = self.now;
        for &RecordKey { lane: partition, position: offset } in culprits {
            let start = self.source.logs[partition as usize].log_start_offset();
            let arrived_after = self.arrived_by(partition, now).saturating_sub(offset + 1 - start);
            self.metrics.poison_pills.failed(partition, offset, now, arrived_after);
        }
    }
}

/// The offsets of `failed` (sorted records) that lie in `segment`.
fn failed_in(failed: &[RecordKey], segment: &Segment) -> Vec<u64> {
    let from = failed.partition_point(|&k| k < RecordKey::new(segment.partition, segment.start));
    failed[from..]
        .iter()
        .take_while(|k| k.lane == segment.partition && k.position < segment.end)
        .map(|k| k.position)
        .collect()
}
