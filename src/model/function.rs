//! The Lambda function: how long an invocation takes, execution environments (warm pool, cold
//! starts, idle expiry) and the concurrency limit.

use crate::engine::{NS_PER_MS, RngStream, SimTime, StreamId, stream};
use crate::scenario::Scenario;
use rand_distr::{Distribution, LogNormal};
use std::collections::VecDeque;

/// vCPUs Lambda gives a memory size: in proportion to memory, 1 at 1,769 MB, 6 at 10,240 MB
/// (configuration-memory); linear between the two documented points.
pub fn vcpus(memory_mb: u32) -> f64 {
    let m = memory_mb as f64;
    if m <= 1769.0 { m / 1769.0 } else { 1.0 + (m - 1769.0) * 5.0 / (10_240.0 - 1769.0) }
}

/// Durations of invocations.
pub struct DurationModel {
    base_ns: f64,
    per_record_ns: f64,
    per_kib_ns: f64,
    /// Multiplier from the reference memory size to the configured one (1 without a reference).
    memory_scale: f64,
    jitter: Option<LogNormal<f64>>,
    rng: RngStream,
}

impl DurationModel {
    pub fn new(s: &Scenario, seed: u64) -> Self {
        let d = &s.function.duration;
        let memory_scale = match d.reference_memory_mb {
            // A single-threaded handler gains nothing beyond one vCPU.
            Some(reference) => vcpus(reference).min(1.0) / vcpus(s.function.memory_mb).min(1.0),
            None => 1.0,
        };
        DurationModel {
            base_ns: d.base.ns() as f64,
            per_record_ns: d.per_record.ns() as f64,
            per_kib_ns: d.per_kib.ns() as f64,
            memory_scale,
            jitter: (d.jitter_sigma > 0.0).then(|| LogNormal::new(0.0, d.jitter_sigma).expect("validated sigma")),
            rng: stream(seed, StreamId::FunctionDuration),
        }
    }

    /// Draws the jitter of one invocation (1 without jitter). One draw per invocation, so the
    /// stream advances the same way whatever the invocation's outcome.
    pub fn draw_jitter(&mut self) -> f64 {
        self.jitter.as_ref().map_or(1.0, |j| j.sample(&mut self.rng))
    }

    /// Handler time for `records` records of `payload_bytes` with a drawn `jitter`.
    pub fn handler_ns(&self, records: u64, payload_bytes: u64, jitter: f64) -> SimTime {
        let work = self.base_ns + self.per_record_ns * records as f64 + self.per_kib_ns * payload_bytes as f64 / 1024.0;
        (work * self.memory_scale * jitter).round() as SimTime
    }
}

/// Billed milliseconds of an invocation: init plus handler time, rounded up to 1 ms.
pub fn billed_ms(init_ns: SimTime, run_ns: SimTime) -> u64 {
    (init_ns + run_ns).div_ceil(NS_PER_MS)
}

/// Execution environments and the function's concurrency.
pub struct Environments {
    limit: u32,
    busy: u32,
    /// Release times of idle environments, oldest first; reuse takes the most recent.
    idle: VecDeque<SimTime>,
    idle_expiry_ns: SimTime,
    pub init_ns: SimTime,
    // Time-weighted concurrency.
    last_change_ns: SimTime,
    busy_ns: u128,
    pub peak: u32,
}

/// How an invocation got its environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    Warm,
    Cold { init_ns: SimTime },
}

impl Environments {
    pub fn new(s: &Scenario) -> Self {
        let limit = s.function.reserved_concurrency.unwrap_or(s.account.concurrency_limit);
        Environments {
            limit,
            busy: 0,
            idle: VecDeque::new(),
            idle_expiry_ns: s.function.cold_start.idle_expiry.ns(),
            init_ns: s.function.cold_start.init.ns(),
            last_change_ns: 0,
            busy_ns: 0,
            peak: 0,
        }
    }

    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// An environment for a new invocation, or `None` when the function is at its concurrency
    /// limit (the invoke is throttled).
    pub fn acquire(&mut self, now: SimTime) -> Option<Start> {
        if self.busy >= self.limit {
            return None;
        }
        while self.idle.front().is_some_and(|&released| now - released > self.idle_expiry_ns) {
            self.idle.pop_front();
        }
        self.set_busy(now, self.busy + 1);
        Some(match self.idle.pop_back() {
            Some(_) => Start::Warm,
            None => Start::Cold { init_ns: self.init_ns },
        })
    }

    /// The invocation ended; its environment goes back to the warm pool unless `destroyed`.
    pub fn release(&mut self, now: SimTime, destroyed: bool) {
        self.set_busy(now, self.busy - 1);
        if !destroyed {
            self.idle.push_back(now);
        }
    }

    fn set_busy(&mut self, now: SimTime, busy: u32) {
        self.busy_ns += self.busy as u128 * (now - self.last_change_ns) as u128;
        self.last_change_ns = now;
        self.busy = busy;
        self.peak = self.peak.max(busy);
    }

    /// Mean concurrency over `[0, end)`.
    pub fn mean_concurrency(&self, end: SimTime) -> f64 {
        let total = self.busy_ns + self.busy as u128 * (end.saturating_sub(self.last_change_ns)) as u128;
        if end == 0 { 0.0 } else { total as f64 / end as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcpu_share_matches_the_documented_points() {
        assert!((vcpus(1769) - 1.0).abs() < 1e-12);
        assert!((vcpus(10_240) - 6.0).abs() < 1e-12);
        assert!((vcpus(128) - 128.0 / 1769.0).abs() < 1e-12);
    }

    #[test]
    fn billing_rounds_up_to_the_millisecond() {
        assert_eq!(billed_ms(0, 1), 1);
        assert_eq!(billed_ms(300 * NS_PER_MS, 20 * NS_PER_MS), 320);
        assert_eq!(billed_ms(0, 20 * NS_PER_MS + 1), 21);
    }
}
