//! The function's side: invoking a batch (or being throttled), deciding how the handler fares
//! with its records, and handing the result to the ESM's retry logic.

use super::{Event, Observer, Outcome, RetryCause, Simulation, live};
use crate::engine::SimTime;
use crate::model::destination::Condition;
use crate::model::esm::Segment;
use crate::model::failures::BadRecord;
use crate::model::function::{Start, billed_ms};
use crate::scenario::{Effect, Handler};

/// An invocation in flight and how it will end.
#[derive(Clone, Debug)]
pub(super) struct Running {
    pub cold: bool,
    pub billed_ms: u64,
    pub outcome: Outcome,
    /// Records the handler reports as failed (`report_failures`), sorted.
    pub reported: Vec<(u32, u64)>,
    /// Records in batch order before this index were processed without error.
    pub ok_before: u64,
    /// Poison records that caused the failure.
    pub culprits: Vec<(u32, u64)>,
}

/// The handler's verdict before timing and billing.
struct Verdict {
    outcome: Outcome,
    run_ns: SimTime,
    reported: Vec<(u32, u64)>,
    ok_before: u64,
    culprits: Vec<(u32, u64)>,
}

impl Verdict {
    fn whole(outcome: Outcome, run_ns: SimTime) -> Self {
        Verdict { outcome, run_ns, reported: vec![], ok_before: 0, culprits: vec![] }
    }
}

impl<O: Observer> Simulation<O> {
    /// Invokes the function with the batch in `slot`, or throttles it.
    pub(super) fn invoke(&mut self, slot: u32) {
        let now = self.now;
        let Ok(start) = self.envs.acquire(now) else {
            self.throttle(slot);
            return;
        };
        let (cold, init_ns) = match start {
            Start::Warm => (false, 0),
            Start::Cold { init_ns } => (true, init_ns),
        };
        self.attempts += 1;
        let batch = self.batch_mut(slot);
        batch.throttles_in_row = 0;
        batch.current.invocations += 1;
        if batch.current.invocations > 1 {
            self.metrics.redelivered += batch.records as u64;
        }
        let verdict = self.evaluate(slot, self.attempts);
        let batch = self.batch(slot);
        if batch.records == 1 && !self.metrics.poison_pills.is_empty() {
            let s = batch.current.segments[0];
            self.metrics.poison_pills.delivered_alone(s.partition, s.start, now);
        }
        self.observer.invocation_started(now, live(&self.batches, slot), cold);
        let end = now + init_ns + verdict.run_ns;
        self.running[slot as usize] = Some(Running {
            cold,
            billed_ms: billed_ms(init_ns, verdict.run_ns),
            outcome: verdict.outcome,
            reported: verdict.reported,
            ok_before: verdict.ok_before,
            culprits: verdict.culprits,
        });
        self.queue.schedule(end, Event::InvocationEnd { slot });
    }

    fn throttle(&mut self, slot: u32) {
        let now = self.now;
        self.metrics.throttled += 1;
        self.metrics.interval.throttles += 1;
        self.observer.throttled(now, live(&self.batches, slot));
        let counts_as_retry = self.scenario.esm.throttles_count_as_retries;
        let retry_limit = self.settings.retry_limit;
        let batch = self.batch_mut(slot);
        batch.throttles_in_row += 1;
        if counts_as_retry {
            batch.current.failed_attempts += 1;
            if retry_limit.is_some_and(|limit| batch.current.failed_attempts > limit) {
                self.give_up_current(slot, Condition::RetryAttemptsExhausted);
                return;
            }
        }
        let at = now + self.settings.throttle_backoff.delay(self.batch(slot).throttles_in_row);
        self.observer.retry_scheduled(now, live(&self.batches, slot), at, RetryCause::Throttle);
        self.queue.schedule(at, Event::ThrottleRetry { slot });
    }

    /// How the invocation (attempt number `attempt`) of the batch in `slot` will end.
    fn evaluate(&mut self, slot: u32, attempt: u64) -> Verdict {
        let jitter = self.durations.draw_jitter();
        let timeout = self.settings.timeout_ns;
        let batch = self.batch(slot);
        let full = self.durations.handler_ns(batch.records as u64, batch.payload_bytes, jitter);
        if !self.failures.any() {
            return if full > timeout {
                Verdict::whole(Outcome::Timeout { at: None }, timeout)
            } else {
                Verdict::whole(Outcome::Success, full)
            };
        }
        let conditions = self.failures.conditions(self.now);
        let slow = |ns: SimTime| ((ns as f64) * conditions.slowdown).round() as SimTime;
        if conditions.outage {
            let base = self.durations.handler_ns(0, 0, jitter);
            return Verdict::whole(Outcome::Error { at: None }, slow(base).min(timeout));
        }
        let handler = self.scenario.failures.handler;
        let bad = self.failures.bad_records(&batch.current.segments, attempt, handler == Handler::FailBatch);
        let through = |b: &BadRecord| {
            let bytes = self.payload_through(&self.batch(slot).current.segments, b.partition, b.offset);
            slow(self.durations.handler_ns(b.index + 1, bytes, jitter))
        };
        // A hang or a crash ends the invocation whatever the handler would have reported.
        if let Some(b) = bad.iter().find(|b| b.effect != Effect::Error || handler == Handler::FailBatch) {
            let run = if b.effect == Effect::Timeout { timeout + 1 } else { through(b) };
            let culprits = if b.poison { vec![(b.partition, b.offset)] } else { vec![] };
            let at = Some((b.partition, b.offset));
            // Records before the bad one were processed, unless time ran out on the way to it.
            let (outcome, ok_before) = match b.effect {
                Effect::Timeout => (Outcome::Timeout { at }, b.index),
                _ if run > timeout => (Outcome::Timeout { at: None }, 0),
                Effect::Crash => (Outcome::Crash { at: (b.partition, b.offset) }, b.index),
                Effect::Error => (Outcome::Error { at }, b.index),
            };
            let culprits = if matches!(outcome, Outcome::Timeout { at: None }) { vec![] } else { culprits };
            return Verdict { outcome, run_ns: run.min(timeout), reported: vec![], ok_before, culprits };
        }
        let full = slow(full);
        if full > timeout {
            return Verdict::whole(Outcome::Timeout { at: None }, timeout);
        }
        if self.failures.invocation_error(attempt, &conditions) {
            return Verdict::whole(Outcome::Error { at: None }, full);
        }
        if bad.is_empty() {
            return Verdict::whole(Outcome::Success, full);
        }
        let mut reported: Vec<(u32, u64)> = bad.iter().map(|b| (b.partition, b.offset)).collect();
        reported.sort_unstable();
        let culprits = bad.iter().filter(|b| b.poison).map(|b| (b.partition, b.offset)).collect();
        let outcome = Outcome::Partial { failed: reported.len() as u32 };
        Verdict { outcome, run_ns: full, reported, ok_before: 0, culprits }
    }

    /// Payload bytes of a batch's records up to and including `offset` of `partition`.
    fn payload_through(&self, segments: &[Segment], partition: u32, offset: u64) -> u64 {
        let mut bytes = 0;
        for s in segments {
            let log = &self.partitions[s.partition as usize];
            if s.partition == partition && (s.start..s.end).contains(&offset) {
                return bytes + log.payload_between(s.start, offset + 1);
            }
            bytes += log.payload_between(s.start, s.end);
        }
        bytes
    }

    /// An invocation finished: it is counted and billed now, as CloudWatch and the bill see it
    /// (an invocation still running at the end of the run is neither).
    pub(super) fn on_invocation_end(&mut self, slot: u32) {
        let now = self.now;
        let running = self.running[slot as usize].take().expect("an invocation in flight");
        self.envs.release(now, matches!(running.outcome, Outcome::Crash { .. }));
        self.metrics.invocation_ended(running.cold, running.billed_ms as u128 * self.settings.memory_mb as u128);
        self.observer.invocation_ended(now, live(&self.batches, slot), running.outcome);
        match running.outcome {
            Outcome::Success => {
                self.metrics.invocations_succeeded += 1;
                self.batch_mut(slot).failures_in_row = 0;
                for s in self.batch(slot).current.segments.clone() {
                    self.settle(s.partition, s.end, super::settle::Verdict::Succeeded);
                }
                self.advance(slot);
            }
            Outcome::Partial { .. } => {
                self.metrics.invocations_succeeded += 1;
                self.metrics.partial_failures += 1;
                self.on_partial_failure(slot, running);
            }
            Outcome::Timeout { .. } => {
                self.metrics.invocations_timed_out += 1;
                self.on_failure(slot, running);
            }
            Outcome::Error { .. } | Outcome::Crash { .. } => {
                self.metrics.invocations_failed += 1;
                self.on_failure(slot, running);
            }
        }
    }
}
