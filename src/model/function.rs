//! The Lambda function: how long an invocation takes, execution environments (warm pool, cold
//! starts, idle expiry) and the concurrency limit.

pub use crate::config::vcpus;
use crate::config::{Dist, DurationSpec, FunctionConfig};
use crate::engine::{NS_PER_MS, RngStream, SimTime, StreamId, stream};
use crate::model::account::AccountPool;
use rand_distr::Distribution;
use std::collections::{BTreeSet, VecDeque};
use std::rc::Rc;

/// Durations of invocations: the configured model plus one jitter draw per invocation.
pub struct DurationModel {
    spec: DurationSpec,
    rng: RngStream,
}

impl DurationModel {
    pub fn new(spec: &DurationSpec, seed: u64) -> Self {
        DurationModel { spec: spec.clone(), rng: stream(seed, StreamId::FunctionDuration) }
    }

    /// Draws the jitter of one invocation (1 without jitter). One draw per invocation, so the
    /// stream advances the same way whatever the invocation's outcome.
    pub fn draw_jitter(&mut self) -> f64 {
        self.spec.jitter.as_ref().map_or(1.0, |j| j.sample(&mut self.rng))
    }

    /// Handler time for `records` records of `payload_bytes` with a drawn `jitter`.
    pub fn handler_ns(&self, records: u64, payload_bytes: u64, jitter: f64) -> SimTime {
        self.spec.handler_ns(records, payload_bytes, jitter)
    }
}

/// Billed milliseconds of an invocation: init plus handler time, rounded up to 1 ms.
pub fn billed_ms(init_ns: SimTime, run_ns: SimTime) -> u64 {
    (init_ns + run_ns).div_ceil(NS_PER_MS)
}

/// Execution environments and the function's concurrency.
pub struct Environments {
    /// `reserved_concurrency`, if set: the function's own pool.
    reserved: Option<u32>,
    account_limit: u32,
    /// Concurrency of the account's other functions, as (time after t = 0, value) steps.
    other: Vec<(SimTime, u32)>,
    /// Where t = 0 of the `other` schedule lies on the clock.
    origin_ns: SimTime,
    busy: u32,
    /// The account's pool, shared with the functions of other mappings (`None` when this is
    /// the only function simulated).
    account: Option<Rc<AccountPool>>,
    /// Idle environments as (release time, environment), oldest first; reuse takes the most
    /// recent.
    idle: VecDeque<(SimTime, u64)>,
    /// Environments are numbered from 1 in order of creation.
    created: u64,
    /// Environments that expired or were destroyed since the handler was last told.
    gone: Vec<u64>,
    idle_expiry_ns: SimTime,
    init: InitTimes,
    /// Provisioned concurrency: its environments (initialised before t = 0, never expiring),
    /// the idle ones (reuse takes the most recent) and how many run now and at most.
    provisioned: BTreeSet<u64>,
    provisioned_idle: Vec<u64>,
    provisioned_busy: u32,
    pub provisioned_peak: u32,
    /// SnapStart: new environments resume in a drawn restore time instead of running init.
    restores: bool,
    burst: Burst,
    // Time-weighted concurrency; its statistics count from `window_start_ns` (t = 0 or the end
    // of the warm-up), when `busy_ns` was `busy_ns_at_window`.
    window_start_ns: SimTime,
    busy_ns_at_window: u128,
    last_change_ns: SimTime,
    busy_ns: u128,
    pub peak: u32,
}

/// How an invocation got its environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    Warm,
    /// An idle provisioned environment: warm, at provisioned concurrency's rates.
    Provisioned,
    Cold {
        init_ns: SimTime,
    },
    /// SnapStart: a new environment resumed from the snapshot in `restore_ns`.
    Restored {
        restore_ns: SimTime,
    },
}

/// Why an invoke was throttled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Throttle {
    /// No concurrency left (reserved, or the account pool shared with other functions).
    Concurrency,
    /// Too many new environments too fast (burst scaling limit).
    Burst,
}

impl Environments {
    pub fn new(f: &FunctionConfig, seed: u64, origin_ns: SimTime) -> Self {
        // Provisioned environments are numbered first, 1 to N, before any on-demand one.
        let provisioned: BTreeSet<u64> = (1..=f.provisioned as u64).collect();
        let init = match &f.snapstart {
            Some(snapstart) => snapstart.restore.clone(),
            None => f.init.clone(),
        };
        Environments {
            reserved: f.reserved_concurrency,
            account_limit: f.account_limit,
            other: f.other_concurrency.clone(),
            origin_ns,
            busy: 0,
            account: None,
            idle: VecDeque::new(),
            created: f.provisioned as u64,
            gone: Vec::new(),
            idle_expiry_ns: f.idle_expiry_ns,
            init: InitTimes { dist: init, rng: stream(seed, StreamId::ColdStartInit) },
            provisioned_idle: provisioned.iter().rev().copied().collect(),
            provisioned,
            provisioned_busy: 0,
            provisioned_peak: 0,
            restores: f.snapstart.is_some(),
            burst: Burst::new(f.burst_environments, f.burst_every_ns),
            window_start_ns: origin_ns,
            busy_ns_at_window: 0,
            last_change_ns: origin_ns,
            busy_ns: 0,
            peak: 0,
        }
    }

    /// Shares the account's concurrency with the functions of other mappings.
    pub fn share_account(&mut self, account: Rc<AccountPool>) {
        self.account = Some(account);
    }

    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Concurrency the function may use at `now`: its reservation, or what other functions
    /// leave of the account's pool (their reservations and `other_concurrency`).
    pub fn limit(&self, now: SimTime) -> u32 {
        let since_origin = now.saturating_sub(self.origin_ns);
        let other = self.other.iter().take_while(|&&(at, _)| at <= since_origin).last().map_or(0, |&(_, v)| v);
        let reserved_elsewhere = self.account.as_ref().map_or(0, |a| a.reserved_total());
        self.reserved.unwrap_or_else(|| self.account_limit.saturating_sub(other).saturating_sub(reserved_elsewhere))
    }

    /// Environments counted against [`limit`](Self::limit): the function's own with a
    /// reservation, otherwise every function's in the shared pool.
    fn busy_against_limit(&self) -> u32 {
        match (&self.account, self.reserved) {
            (Some(account), None) => account.unreserved_busy(),
            _ => self.busy,
        }
    }

    /// Provisioned environments running an invocation now.
    pub fn provisioned_busy(&self) -> u32 {
        self.provisioned_busy
    }

    /// An environment for a new invocation (and which one), or why the invoke is throttled.
    /// An idle provisioned environment comes first; beyond them invocations spill over to
    /// on-demand environments.
    pub fn acquire(&mut self, now: SimTime) -> Result<(Start, u64), Throttle> {
        if self.busy_against_limit() >= self.limit(now) {
            return Err(Throttle::Concurrency);
        }
        if let Some(env) = self.provisioned_idle.pop() {
            self.provisioned_busy += 1;
            self.provisioned_peak = self.provisioned_peak.max(self.provisioned_busy);
            self.set_busy(now, self.busy + 1);
            return Ok((Start::Provisioned, env));
        }
        while let Some(&(released, env)) = self.idle.front()
            && now - released > self.idle_expiry_ns
        {
            self.idle.pop_front();
            self.gone.push(env);
        }
        let start = if let Some((_, env)) = self.idle.pop_back() {
            (Start::Warm, env)
        } else if self.burst.take(now) {
            self.created += 1;
            let ns = self.init.draw();
            let start = if self.restores { Start::Restored { restore_ns: ns } } else { Start::Cold { init_ns: ns } };
            (start, self.created)
        } else {
            return Err(Throttle::Burst);
        };
        self.set_busy(now, self.busy + 1);
        Ok(start)
    }

    /// The invocation in `env` ended; the environment goes back to the warm pool unless
    /// `destroyed`.
    pub fn release(&mut self, now: SimTime, env: u64, destroyed: bool) {
        self.set_busy(now, self.busy - 1);
        if self.provisioned.contains(&env) {
            self.provisioned_busy -= 1;
            self.release_provisioned(env, destroyed);
            return;
        }
        if destroyed {
            self.gone.push(env);
        } else {
            self.idle.push_back((now, env));
        }
    }

    /// ASSUMED: Lambda replaces a destroyed provisioned environment at once (it initialises
    /// the replacement in the background, off the invocation path), so the pool stays at N.
    fn release_provisioned(&mut self, env: u64, destroyed: bool) {
        if !destroyed {
            self.provisioned_idle.push(env);
            return;
        }
        self.gone.push(env);
        self.provisioned.remove(&env);
        self.created += 1;
        self.provisioned.insert(self.created);
        self.provisioned_idle.push(self.created);
    }

    /// Environments that expired or were destroyed since the last call, oldest first.
    pub fn take_gone(&mut self, into: &mut Vec<u64>) {
        into.clear();
        into.append(&mut self.gone);
    }

    fn set_busy(&mut self, now: SimTime, busy: u32) {
        if let Some(account) = &self.account {
            account.changed(self.reserved.is_some(), busy as i32 - self.busy as i32);
        }
        self.busy_ns += self.busy as u128 * (now - self.last_change_ns) as u128;
        self.last_change_ns = now;
        self.busy = busy;
        self.peak = self.peak.max(busy);
    }

    /// Busy environment-nanoseconds from t = 0 to `now`.
    pub fn busy_ns_until(&self, now: SimTime) -> u128 {
        self.busy_ns + self.busy as u128 * now.saturating_sub(self.last_change_ns) as u128
    }

    /// Starts the statistics again at `now` (the end of the warm-up): peak and mean concurrency
    /// from here on.
    pub fn start_window(&mut self, now: SimTime) {
        if let Some(account) = &self.account {
            account.start_window();
        }
        self.window_start_ns = now;
        self.busy_ns_at_window = self.busy_ns_until(now);
        self.peak = self.busy;
        self.provisioned_peak = self.provisioned_busy;
    }

    /// Mean concurrency from the window's start to `end`.
    pub fn mean_concurrency(&self, end: SimTime) -> f64 {
        let total = self.busy_ns_until(end) - self.busy_ns_at_window;
        let span = end.saturating_sub(self.window_start_ns);
        if span == 0 { 0.0 } else { total as f64 / span as f64 }
    }
}

/// Cold-start init durations: fixed or drawn from their own stream.
struct InitTimes {
    dist: Dist,
    rng: RngStream,
}

impl InitTimes {
    fn draw(&mut self) -> SimTime {
        // An extreme draw is capped at an hour rather than overflowing the clock.
        self.dist.sample(&mut self.rng, 3.6e12)
    }
}

/// The burst scaling limit as a token bucket: `environments` tokens, refilled continuously
/// at `environments` per `every`; each new environment takes one.
struct Burst {
    capacity: f64,
    tokens: f64,
    per_ns: f64,
    last_ns: SimTime,
}

impl Burst {
    fn new(environments: u32, every_ns: SimTime) -> Self {
        let capacity = environments as f64;
        Burst { capacity, tokens: capacity, per_ns: capacity / every_ns.max(1) as f64, last_ns: 0 }
    }

    fn take(&mut self, now: SimTime) -> bool {
        self.tokens = (self.tokens + (now - self.last_ns) as f64 * self.per_ns).min(self.capacity);
        self.last_ns = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
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
    fn the_burst_bucket_refills_1000_per_10_seconds() {
        let mut b = Burst::new(1000, 10_000_000_000);
        assert_eq!((0..1500).filter(|_| b.take(0)).count(), 1000);
        assert!(!b.take(5_000_000));
        // Half a period later, half the environments.
        assert_eq!((0..1500).filter(|_| b.take(5_000_000_000)).count(), 500);
    }

    #[test]
    fn billing_rounds_up_to_the_millisecond() {
        assert_eq!(billed_ms(0, 1), 1);
        assert_eq!(billed_ms(300 * NS_PER_MS, 20 * NS_PER_MS), 320);
        assert_eq!(billed_ms(0, 20 * NS_PER_MS + 1), 21);
    }
}
