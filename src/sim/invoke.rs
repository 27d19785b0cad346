//! The function's side: invoking a batch (or being throttled), asking the handler how it fares
//! with its records, and handing the result to the ESM's retry logic.

use super::settle::Settlement;
use super::{BatchId, EsmEvent, Event, FunctionEvent, Observer, Outcome, RetryCause, Simulation, notify};
use crate::engine::SimTime;
use crate::model::destination::Condition;
use crate::model::esm::{BatchState, Running, Segment};
use crate::model::function::{Start, Throttle, billed_ms};
use crate::model::handler::{HandlerResult, Invocation};

/// Log lines prefetched before a successful batch commits a partition: the records it took
/// (up to 32 of them, 8 bytes each, while sizes are uniform).
const COMMIT_LOG_LINES: usize = 4;

impl<O: Observer> Simulation<O> {
    /// Starts loading what committing `segments` reads: each partition's header, lane and
    /// front records, and its planner slot where its fetcher plans incrementally.
    fn prefetch_commits(&self, segments: &[Segment]) {
        let partitions = segments.iter().map(|s| s.partition);
        super::dispatch::prefetch_partitions(&self.source.logs, &self.esm.lanes, partitions, COMMIT_LOG_LINES);
        for s in segments {
            let lane = &self.esm.lanes[s.partition as usize];
            if let Some(planner) = &self.esm.fetchers[lane.owner as usize].planner {
                planner.prefetch_slot(lane.slot);
            }
        }
    }

    /// Invokes the function with `batch`, or throttles it.
    pub(super) fn invoke(&mut self, batch: BatchId) {
        let now = self.now;
        let acquired = self.function.envs.borrow_mut().acquire(now);
        self.tell_gone();
        let (start, environment) = match acquired {
            Ok(start) => start,
            Err(reason) => {
                if reason == Throttle::Burst {
                    self.metrics.interval.burst_throttles += 1;
                }
                self.throttle(batch);
                return;
            }
        };
        let limit = self.config.function.init_limit_ns;
        // An init phase that overruns its limit is cut off there; Lambda runs init again inside
        // the invocation, where the function timeout applies and it is billed.
        // A SnapStart restore takes the place of init, billed as init is.
        let (cold, init_ns, reinit_ns) = match start {
            Start::Warm | Start::Provisioned => (false, 0, 0),
            Start::Cold { init_ns } if init_ns > limit => (true, limit, init_ns),
            Start::Cold { init_ns } => (true, init_ns, 0),
            Start::Restored { restore_ns } => (true, restore_ns, 0),
        };
        self.function.attempts += 1;
        let b = &mut self.esm.batches[batch];
        b.throttles_in_row = 0;
        b.current.invocations += 1;
        if b.current.invocations > 1 {
            self.metrics.redelivered += b.records as u64;
        }
        let result = self.run_handler(batch, reinit_ns, environment);
        let b = &self.esm.batches[batch];
        if b.records == 1 && !self.metrics.poison_pills.is_empty() {
            let s = b.current.segments[0];
            self.metrics.poison_pills.delivered_alone(s.partition, s.start, now);
        }
        self.observer.invocation_started(now, b, cold);
        if let Some(exchange) = self.function.handler.take_exchange() {
            self.observer.handler_exchange(now, b, &exchange);
        }
        let end = now + init_ns + result.run_ns;
        let billed_ms = billed_ms(init_ns, result.run_ns);
        let busy = self.function.envs.borrow().busy();
        let period = self.metrics.cloudwatch.at(now);
        period.concurrency_max = period.concurrency_max.max(busy);
        if start == Start::Provisioned {
            period.provisioned_concurrency_max =
                period.provisioned_concurrency_max.max(self.function.envs.borrow().provisioned_busy());
        }
        let running = Running {
            started_ns: now,
            cold,
            environment,
            reinit: reinit_ns > 0,
            billed_ms,
            result,
            provisioned: start == Start::Provisioned,
            restored: matches!(start, Start::Restored { .. }),
        };
        self.esm.batches[batch].state = BatchState::InFlight(Box::new(running));
        self.queue.schedule(end, Event::Function(FunctionEvent::InvocationEnd { batch }));
    }

    /// What the handler makes of the batch's current piece, after `reinit_ns` of init inside
    /// the invocation.
    fn run_handler(&mut self, batch: BatchId, reinit_ns: SimTime, environment: u64) -> HandlerResult {
        let b = &self.esm.batches[batch];
        let invocation = Invocation {
            now: self.now,
            attempt: self.function.attempts,
            segments: &b.current.segments,
            records: b.records,
            payload_bytes: b.payload_bytes,
            logs: &self.source.logs,
            timeout_ns: self.config.function.timeout_ns.saturating_sub(reinit_ns),
            environment,
        };
        let mut result = self.function.handler.invoke(&invocation);
        if let Some(reason) = self.function.handler.fatal() {
            self.function.stopped = Some(reason.to_string());
        }
        if reinit_ns > 0 {
            if reinit_ns >= self.config.function.timeout_ns {
                // Init alone uses up the timeout: the handler never runs.
                result = HandlerResult::timed_out(self.config.function.timeout_ns);
            } else {
                result.run_ns += reinit_ns;
            }
        }
        result
    }

    /// Tells the handler of environments that expired or were destroyed.
    fn tell_gone(&mut self) {
        let f = &mut self.function;
        f.envs.borrow_mut().take_gone(&mut f.gone);
        for &env in &f.gone {
            f.handler.environment_gone(env);
        }
    }

    fn throttle(&mut self, batch: BatchId) {
        let now = self.now;
        notify!(self.throttled(now, &self.esm.batches[batch]));
        let esm = &self.config.esm;
        let b = &mut self.esm.batches[batch];
        b.throttles_in_row += 1;
        if esm.throttles_count_as_retries {
            b.current.failed_attempts += 1;
            if esm.retry_limit.exhausted_by(b.current.failed_attempts) {
                self.give_up_current(batch, Condition::RetryAttemptsExhausted);
                return;
            }
        }
        let at = now + esm.throttle_backoff.delay(b.throttles_in_row);
        b.state = BatchState::Throttled;
        self.observer.retry_scheduled(now, &self.esm.batches[batch], at, RetryCause::Throttle);
        self.schedule_esm(at, EsmEvent::ThrottleRetry { batch });
    }

    /// A throttled batch is tried again: re-fetched, so retention and record age apply.
    pub(super) fn on_throttle_retry(&mut self, batch: BatchId) {
        if self.esm.batches.get(batch).is_some_and(|b| b.state == BatchState::Throttled) {
            self.esm.batches[batch].state = BatchState::Ready;
            self.deliver(batch);
        }
    }

    /// An invocation finished: it is counted and billed now, as CloudWatch and the bill see it
    /// (an invocation still running at the end of the run is neither).
    pub(super) fn on_invocation_end(&mut self, batch: BatchId) {
        let now = self.now;
        let Some(b) = self.esm.batches.get_mut(batch) else { return };
        let BatchState::InFlight(running) = std::mem::take(&mut b.state) else { return };
        let outcome = running.result.outcome;
        // A crash destroys the environment; so does a timeout before a re-run init finished
        // (the next invocation must initialise again).
        let destroyed =
            matches!(outcome, Outcome::Crash { .. }) || (running.reinit && matches!(outcome, Outcome::Timeout { .. }));
        self.function.envs.borrow_mut().release(now, running.environment, destroyed);
        self.tell_gone();
        self.metrics.invocation_ended(&running, running.billed_ms as u128 * self.config.function.memory_mb as u128);
        notify!(self.invocation_ended(now, &self.esm.batches[batch], outcome));
        notify!(self.invocation_finished(now, &self.esm.batches[batch], &running));
        match outcome {
            Outcome::Success => {
                let b = &mut self.esm.batches[batch];
                b.failures_in_row = 0;
                // Lent out while settling, which reads no batch, rather than copied (a batch
                // at 100,000 partitions is about 500 segments).
                let segments = std::mem::take(&mut b.current.segments);
                self.prefetch_commits(&segments);
                for s in &segments {
                    self.settle(s.partition, s.end, Settlement::Succeeded);
                }
                self.esm.batches[batch].current.segments = segments;
                self.advance(batch);
            }
            Outcome::Partial { .. } => self.on_partial_failure(batch, running.result),
            Outcome::Timeout { .. } | Outcome::Error { .. } | Outcome::Crash { .. } => {
                self.on_failure(batch, running.result)
            }
        }
    }
}
