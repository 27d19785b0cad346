//! The function's side of the loop: invoking a batch (or being throttled), deciding how the
//! invocation ends, and what the ESM does with a failure.

use super::{Event, Observer, Outcome, Simulation, live};
use crate::engine::SimTime;
use crate::model::esm::Segment;
use crate::model::function::{Start, billed_ms};

impl<O: Observer> Simulation<O> {
    /// Invokes the function with the batch in `slot`, or throttles it.
    pub(super) fn invoke(&mut self, slot: u32) {
        let now = self.now;
        let Some(start) = self.envs.acquire(now) else {
            self.metrics.throttled += 1;
            self.metrics.interval.throttles += 1;
            let batch = self.batch_mut(slot);
            batch.throttles_in_row += 1;
            let delay = self.settings.throttle_backoff.delay(self.batch(slot).throttles_in_row);
            self.observer.throttled(now, live(&self.batches, slot));
            self.queue.schedule(now + delay, Event::ThrottleRetry { slot });
            return;
        };
        let (cold, init_ns) = match start {
            Start::Warm => (false, 0),
            Start::Cold { init_ns } => (true, init_ns),
        };
        let batch = self.batch_mut(slot);
        batch.throttles_in_row = 0;
        batch.invocations += 1;
        if batch.invocations > 1 {
            self.metrics.redelivered += batch.records as u64;
        }
        let (outcome, run_ns) = self.evaluate(slot);
        self.observer.invocation_started(now, live(&self.batches, slot), cold);
        let billed_ms = billed_ms(init_ns, run_ns);
        self.queue.schedule(now + init_ns + run_ns, Event::InvocationEnd { slot, cold, billed_ms, outcome });
    }

    /// How the invocation of `slot` will end and how long its handler runs.
    fn evaluate(&mut self, slot: u32) -> (Outcome, SimTime) {
        let jitter = self.durations.draw_jitter();
        let timeout = self.settings.timeout_ns;
        let batch = self.batch(slot);
        let full = self.durations.handler_ns(batch.records as u64, batch.payload_bytes, jitter);
        if !self.failures.any() {
            return if full > timeout { (Outcome::Timeout, timeout) } else { (Outcome::Success, full) };
        }
        if let Some(poison) = self.failures.first_poison(&batch.segments) {
            // The handler works through the records before the poison one, then throws.
            let bytes = self.payload_through(&batch.segments, poison.partition, poison.offset);
            let run = self.durations.handler_ns(poison.index + 1, bytes, jitter);
            return if run > timeout {
                (Outcome::Timeout, timeout)
            } else {
                (Outcome::Error { poison: Some((poison.partition, poison.offset)) }, run)
            };
        }
        if full > timeout {
            return (Outcome::Timeout, timeout);
        }
        if self.failures.transient_error(&batch.segments[0], batch.invocations) {
            return (Outcome::Error { poison: None }, full);
        }
        (Outcome::Success, full)
    }

    /// Payload bytes of a batch's records up to and including `offset` of `partition`.
    fn payload_through(&self, segments: &[Segment], partition: u32, offset: u64) -> u64 {
        let mut bytes = 0;
        for s in segments {
            let log = &self.partitions[s.partition as usize];
            if s.partition == partition {
                return bytes + log.payload_between(s.start, offset + 1);
            }
            bytes += log.payload_between(s.start, s.end);
        }
        bytes
    }

    /// An invocation finished: it is counted and billed now, as CloudWatch and the bill see it
    /// (an invocation still running at the end of the run is neither).
    pub(super) fn on_invocation_end(&mut self, slot: u32, cold: bool, billed_ms: u64, outcome: Outcome) {
        let now = self.now;
        self.envs.release(now, false);
        self.metrics.invocation_ended(cold, billed_ms as u128 * self.settings.memory_mb as u128);
        self.observer.invocation_ended(now, live(&self.batches, slot), outcome);
        match outcome {
            Outcome::Success => {
                self.metrics.invocations_succeeded += 1;
                self.commit_batch(slot);
            }
            Outcome::Error { .. } | Outcome::Timeout => {
                if outcome == Outcome::Timeout {
                    self.metrics.invocations_timed_out += 1;
                } else {
                    self.metrics.invocations_failed += 1;
                }
                self.metrics.interval.errors += 1;
                let batch = self.batch_mut(slot);
                batch.failures_in_row += 1;
                let failures = batch.failures_in_row;
                for segment in &self.batch(slot).segments.clone() {
                    self.metrics.stalls.failed(segment.partition, segment.start, now);
                }
                // AWS's default: the whole batch is retried until it succeeds or expires.
                let delay = self.settings.retry_backoff.delay(failures);
                self.queue.schedule(now + delay, Event::Retry { slot });
            }
        }
    }

    /// A failed batch is fetched again: retention may have deleted some of it meanwhile.
    pub(super) fn on_retry(&mut self, slot: u32) {
        self.trim_expired(slot);
        if self.batch(slot).records == 0 {
            self.retire_batch(slot);
        } else {
            self.invoke(slot);
        }
    }

    /// Drops from a batch the records retention has deleted, and releases partitions whose
    /// records are all gone.
    fn trim_expired(&mut self, slot: u32) {
        let mut batch = self.batches[slot as usize].take().expect("live batch slot");
        for segment in &mut batch.segments {
            if self.expire(segment.partition) > 0 {
                segment.start = segment.start.max(self.partitions[segment.partition as usize].log_start_offset());
                segment.end = segment.end.max(segment.start);
                if segment.is_empty() {
                    self.busy[segment.partition as usize] = false;
                }
            }
        }
        batch.segments.retain(|s| !s.is_empty());
        batch.records = batch.segments.iter().map(|s| s.len() as u32).sum();
        batch.payload_bytes =
            batch.segments.iter().map(|s| self.partitions[s.partition as usize].payload_between(s.start, s.end)).sum();
        let fetcher = batch.fetcher;
        self.batches[slot as usize] = Some(batch);
        // Released partitions may form a batch of their own.
        self.plan_fetcher(fetcher);
    }
}
