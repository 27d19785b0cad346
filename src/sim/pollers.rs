//! Event pollers in `on_demand` and `provisioned` mode: the autoscaler that evaluates offset lag
//! every minute, the rebalance that reassigns partitions when the poller count changes, the
//! pollers' throughput limit, and Event Poller Unit billing.
//!
//! Scaling rule (ASSUMED, every parameter named in `esm.scaling`): at each evaluation with `N`
//! pollers and total offset lag `L`,
//! - if the function was throttled since the last evaluation, go to `N − 1`;
//! - else if `L > scale_up_lag_per_poller × N`, go to `max(N + 1, ⌈L / scale_up_lag_per_poller⌉)`,
//!   at most `2N`;
//! - else if no decision is pending and the pollers' invocation slots
//!   (`N × invocations_per_poller`) were busy less than `scale_down_utilization` of the time
//!   since the last evaluation, go to `N − 1`;
//!
//! always within `[min, max]` (and never above the partition count). `N` is the count last
//! decided, which may not have taken effect yet: a decision takes effect `scale_delay` later,
//! and evaluations go on meanwhile. Taking effect is a rebalance: no new batches for
//! `rebalance_pause` (batches in flight finish and commit), then partitions are reassigned by
//! Kafka's range assignor.

use super::{EsmEvent, Event, Observer, Simulation};
use crate::config::{EpuBilling, PollerPlan, Pricing};
use crate::engine::SimTime;
use crate::model::esm::Waiting;

/// The autoscaler's state and the pollers' time-weighted accounting.
pub(super) struct Autoscaler {
    pub plan: PollerPlan,
    /// Pollers running now.
    pub count: u32,
    /// The count last decided (equal to `count` once every decision has taken effect).
    decided: u32,
    throttles_seen: u64,
    /// The function's busy environment-nanoseconds at the last evaluation.
    busy_ns_seen: u128,
    last_change_ns: SimTime,
    poller_ns: u128,
    pub peak: u32,
    /// EPU accounting since the last evaluation.
    window_start_ns: SimTime,
    window_poller_ns: u128,
    /// The most pollers running at once in the window.
    window_peak: u32,
    window_bytes: u64,
    pub epu_ns: f64,
    /// How many times polled bytes count towards EPUs (ASSUMED `epu_factor` of a schema
    /// registry, which AWS says "may increase" EPU usage; 1 without one).
    pub epu_throughput_factor: f64,
    /// Each closed billing window, kept when the mapping is billed with its poller group.
    pub epu_windows: Option<Vec<EpuWindow>>,
}

/// One EPU billing window of a mapping: what its group's bill is made of.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpuWindow {
    pub span_ns: SimTime,
    /// The most pollers running at once in the window, and their mean.
    pub peak_pollers: u32,
    pub mean_pollers: f64,
    /// Polled bytes per second, times the schema registry's `epu_factor`.
    pub bytes_per_second: f64,
}

impl Autoscaler {
    pub fn new(plan: PollerPlan, origin_ns: SimTime) -> Self {
        Autoscaler {
            busy_ns_seen: 0,
            plan,
            count: plan.initial,
            decided: plan.initial,
            throttles_seen: 0,
            last_change_ns: origin_ns,
            poller_ns: 0,
            peak: plan.initial,
            window_start_ns: origin_ns,
            window_poller_ns: 0,
            window_peak: 0,
            window_bytes: 0,
            epu_ns: 0.0,
            epu_throughput_factor: 1.0,
            epu_windows: None,
        }
    }

    /// The poller count the rule asks for, given the offset lag, whether the function was
    /// throttled, the mean invocations in flight since the last evaluation, and how many
    /// invocations the pollers could have in flight at most (`slots`: each poller runs at most
    /// `invocations_per_poller`, and at most one batch per partition it owns).
    pub fn target(&self, lag: u64, throttled: bool, mean_in_flight: f64, slots: u32) -> u32 {
        let (n, p) = (self.decided, &self.plan);
        let utilization = mean_in_flight / slots.max(1) as f64;
        let target = if throttled {
            n.saturating_sub(1)
        } else if lag > p.scale_up_lag_per_poller.saturating_mul(n as u64) {
            let wanted = lag.div_ceil(p.scale_up_lag_per_poller.max(1)).min(u32::MAX as u64) as u32;
            wanted.max(n + 1).min(n.saturating_mul(2))
        } else if utilization < p.scale_down_utilization && self.decided == self.count {
            // Only from a settled count: utilization measured before a pending change says
            // nothing about the count after it.
            n.saturating_sub(1)
        } else {
            n
        };
        target.clamp(p.min, p.max)
    }

    fn account(&mut self, now: SimTime) {
        if now > self.last_change_ns {
            // Only a count that ran for some time counts towards the window's peak: pollers
            // added at the instant a window closes are billed from the next one.
            self.window_peak = self.window_peak.max(self.count);
        }
        let elapsed = (now - self.last_change_ns) as u128 * self.count as u128;
        self.poller_ns += elapsed;
        self.window_poller_ns += elapsed;
        self.last_change_ns = now;
    }

    fn set_count(&mut self, now: SimTime, count: u32) {
        self.account(now);
        self.count = count;
        self.peak = self.peak.max(count);
    }

    /// Closes the EPU window ending at `now` (ASSUMED: the billing window is the evaluation
    /// interval). EPUs are the larger of pollers / `pollers_per_epu` and polled bytes per second ×
    /// `epu_throughput_factor` / `bytes_per_second_per_epu`: whole units, at least one, from the most pollers running in the
    /// window (AWS bills a mapping whole EPUs); or, with `EpuBilling::Fractional`, the window's
    /// mean pollers as a fraction (a share of a poller group's EPUs).
    pub fn close_epu_window(&mut self, now: SimTime, pricing: &Pricing) {
        self.account(now);
        let span_ns = (now - self.window_start_ns) as f64;
        if span_ns > 0.0 {
            let bytes_per_second = self.window_bytes as f64 / (span_ns / 1e9) * self.epu_throughput_factor;
            let by_throughput = bytes_per_second / pricing.bytes_per_second_per_epu;
            let epus = match pricing.epu_billing {
                EpuBilling::Whole => {
                    let by_pollers = self.window_peak as f64 / pricing.pollers_per_epu;
                    by_pollers.max(by_throughput).ceil().max(1.0)
                }
                EpuBilling::Fractional => {
                    let pollers = self.window_poller_ns as f64 / span_ns;
                    (pollers / pricing.pollers_per_epu).max(by_throughput)
                }
            };
            self.epu_ns += epus * span_ns;
            if let Some(windows) = self.epu_windows.as_mut() {
                windows.push(EpuWindow {
                    span_ns: now - self.window_start_ns,
                    peak_pollers: self.window_peak,
                    mean_pollers: self.window_poller_ns as f64 / span_ns,
                    bytes_per_second,
                });
            }
        }
        self.window_start_ns = now;
        self.window_poller_ns = 0;
        self.window_peak = 0;
        self.window_bytes = 0;
    }

    /// Poller-nanoseconds from the start to `now` (`now` no earlier than the last change).
    pub fn poller_ns_until(&self, now: SimTime) -> u128 {
        self.poller_ns + now.saturating_sub(self.last_change_ns) as u128 * self.count as u128
    }

    /// Mean pollers from `origin_ns` to `now`.
    pub fn mean(&mut self, origin_ns: SimTime, now: SimTime) -> f64 {
        self.account(now);
        let span = now.saturating_sub(origin_ns);
        if span == 0 { 0.0 } else { self.poller_ns as f64 / span as f64 }
    }
}

/// A poller group's bill: its mappings pool their pollers and throughput in each window, so the
/// group pays `ceil(max(Σ pollers / pollers_per_epu, Σ bytes/s / bytes_per_second_per_epu))` EPUs
/// (at least one) where each ungrouped mapping pays that on its own (AWS's example: ten mappings
/// of one poller pay ten EPUs ungrouped, one grouped). `members[m]` are mapping m's windows, on
/// one grid (the group shares an evaluation interval and a clock). Returns each mapping's share
/// of the group's EPU-hours: ASSUMED, in proportion to its pollers in each window (AWS bills the
/// group, not its mappings), so the shares add up to the group's bill.
pub fn bill_poller_group(members: &[Vec<EpuWindow>], pricing: &Pricing) -> Vec<f64> {
    let mut hours = vec![0.0; members.len()];
    let windows = members.iter().map(Vec::len).min().unwrap_or(0);
    for k in 0..windows {
        let window: Vec<&EpuWindow> = members.iter().map(|m| &m[k]).collect();
        let span_ns = window[0].span_ns as f64;
        let bytes_per_second: f64 = window.iter().map(|w| w.bytes_per_second).sum();
        let by_throughput = bytes_per_second / pricing.bytes_per_second_per_epu;
        let pollers = |w: &EpuWindow| match pricing.epu_billing {
            EpuBilling::Whole => w.peak_pollers as f64,
            EpuBilling::Fractional => w.mean_pollers,
        };
        let total_pollers: f64 = window.iter().map(|w| pollers(w)).sum();
        let epus = match pricing.epu_billing {
            EpuBilling::Whole => (total_pollers / pricing.pollers_per_epu).max(by_throughput).ceil().max(1.0),
            EpuBilling::Fractional => (total_pollers / pricing.pollers_per_epu).max(by_throughput),
        };
        for (m, w) in window.iter().enumerate() {
            let share = if total_pollers > 0.0 { pollers(w) / total_pollers } else { 1.0 / window.len() as f64 };
            hours[m] += epus * share * span_ns / 3.6e12;
        }
    }
    hours
}

impl<O: Observer> Simulation<O> {
    /// The autoscaler's once-a-minute look at offset lag and throttles.
    pub(super) fn on_evaluate(&mut self) {
        let now = self.now;
        let throttled = self.metrics.throttled;
        let lag = self.lag_at(now);
        let busy_ns = self.function.envs.borrow().busy_ns_until(now);
        let slots: u32 = self.esm.fetchers.iter().map(|f| f.max_in_flight.min(f.partitions.len() as u32)).sum();
        let Some(scaler) = self.esm.autoscaler.as_mut() else { return };
        let window_ns = (now - scaler.window_start_ns).max(1);
        let mean_in_flight = (busy_ns - scaler.busy_ns_seen) as f64 / window_ns as f64;
        scaler.close_epu_window(now, &self.config.pricing);
        let target = scaler.target(lag, throttled > scaler.throttles_seen, mean_in_flight, slots);
        scaler.throttles_seen = throttled;
        scaler.busy_ns_seen = busy_ns;
        if target != scaler.decided {
            scaler.decided = target;
            self.queue
                .schedule(now + scaler.plan.scale_delay_ns, Event::Esm(EsmEvent::ApplyScaling { pollers: target }));
        }
        self.queue.schedule(now + scaler.plan.evaluation_interval_ns, Event::Esm(EsmEvent::Evaluate));
    }

    /// The records that have arrived by `now` and are not yet committed, over every partition.
    /// Only the partitions `Occupancy` says may hold some are read: at 100,000 partitions and
    /// 1,000 records/s, reading all took about 4 % of the run.
    fn lag_at(&mut self, now: SimTime) -> u64 {
        self.source.occupancy.due_by(now);
        let lag = self.source.occupancy.visited().map(|p| self.arrived_by(p as u32, now)).sum();
        debug_assert_eq!(lag, (0..self.source.logs.len() as u32).map(|p| self.arrived_by(p, now)).sum::<u64>());
        lag
    }

    /// A scaling decision takes effect: the new pollers join and the group rebalances.
    pub(super) fn on_apply_scaling(&mut self, pollers: u32) {
        let now = self.now;
        let Some(scaler) = self.esm.autoscaler.as_mut() else { return };
        scaler.set_count(now, pollers);
        let pause = scaler.plan.rebalance_pause_ns;
        self.start_rebalance(now + pause);
    }

    /// Stops forming batches until `until` (or later, if a pause already runs longer); batches
    /// already out carry on.
    pub(super) fn start_rebalance(&mut self, until: SimTime) {
        self.schedule_esm(until, EsmEvent::RebalanceEnd);
        self.esm.pause.until = self.esm.pause.until.max(until);
        self.metrics.interval.rebalanced = true;
        if self.esm.pause.active {
            return;
        }
        self.esm.pause.active = true;
        for f in &mut self.esm.fetchers {
            f.waiting = Waiting::Nothing;
        }
        self.esm.gate.clear_waiting();
    }

    /// Partitions are reassigned to the pollers there now are, and batching resumes.
    pub(super) fn on_rebalance_end(&mut self) {
        if !self.esm.pause.active || self.now < self.esm.pause.until {
            return; // a longer pause is still running
        }
        self.esm.pause.active = false;
        if let Some(scaler) = &self.esm.autoscaler {
            let plan = scaler.plan;
            self.esm.fetchers =
                super::poller_fetchers(self.config.topic.partitions, scaler.count, plan.invocations_per_poller);
            super::set_owners(&mut self.esm.lanes, &self.esm.fetchers);
            let planning = self.planning();
            self.esm.planning =
                super::index_candidates(&self.esm.lanes, &mut self.esm.fetchers, &self.source.logs, planning);
            self.reattach_batches();
        }
        self.esm.awaiting_records.clear();
        for fetcher in 0..self.esm.fetchers.len() as u32 {
            self.esm.fetchers[fetcher as usize].waiting = Waiting::Nothing;
            self.plan_fetcher(fetcher);
        }
    }

    /// Batches still out belong to whichever poller now owns their first partition.
    fn reattach_batches(&mut self) {
        for batch in self.esm.batches.iter_mut() {
            let first =
                batch.current.segments.first().or_else(|| batch.queued.front().and_then(|p| p.segments.first()));
            let fetcher = first.map_or(0, |s| self.esm.lanes[s.partition as usize].owner);
            batch.fetcher = fetcher;
            self.esm.fetchers[fetcher as usize].in_flight += 1;
        }
    }

    /// A poller fetched `bytes` (a batch's records): it may fetch again once its throughput
    /// limit allows, and the bytes count towards Event Poller Units. Both count the bytes polled
    /// from Kafka (key and value as stored), not the invocation payload (AWS's
    /// `EventPollerThroughputInBytes`).
    pub(super) fn charge_fetch(&mut self, fetcher: u32, bytes: u64) {
        let Some(scaler) = self.esm.autoscaler.as_mut() else { return };
        scaler.window_bytes += bytes;
        let f = &mut self.esm.fetchers[fetcher as usize];
        let busy_ns = bytes as f64 * 1e9 / scaler.plan.bytes_per_second as f64;
        f.fetch_ready_ns = f.fetch_ready_ns.max(self.now) + busy_ns as SimTime;
    }

    /// Pollers running now (0 in the `parallelization_factor` model, which has none).
    pub(super) fn poller_count(&self) -> u32 {
        self.esm.autoscaler.as_ref().map_or(0, |a| a.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scaler(count: u32) -> Autoscaler {
        let plan = PollerPlan {
            initial: count,
            min: 1,
            max: 12,
            invocations_per_poller: 1,
            evaluation_interval_ns: 60_000_000_000,
            scale_delay_ns: 180_000_000_000,
            scale_up_lag_per_poller: 1_000,
            scale_down_utilization: 0.5,
            rebalance_pause_ns: 5_000_000_000,
            bytes_per_second: 5_000_000,
        };
        Autoscaler::new(plan, 0)
    }

    #[test]
    fn the_rule_scales_on_lag_and_utilization_and_backs_off_on_throttles() {
        // One invocation per poller: 4 pollers can have 4 invocations in flight.
        assert_eq!(scaler(2).target(5_000, false, 2.0, 2), 4, "at most doubling");
        assert_eq!(scaler(4).target(5_000, false, 4.0, 4), 5, "⌈5000 / 1000⌉");
        assert_eq!(scaler(4).target(4_100, false, 4.0, 4), 5, "at least one more");
        assert_eq!(scaler(4).target(1_000, false, 2.0, 4), 4, "busy half the time: keep");
        assert_eq!(scaler(4).target(1_000, false, 1.9, 4), 3, "busy less than half the time: one fewer");
        assert_eq!(scaler(4).target(50_000, true, 4.0, 4), 3, "throttles win");
        assert_eq!(scaler(1).target(0, true, 0.0, 1), 1, "never below the minimum");
        assert_eq!(scaler(10).target(1_000_000, false, 10.0, 10), 12, "never above the maximum");
    }

    #[test]
    fn utilization_counts_only_the_slots_the_partitions_allow() {
        // 12 pollers of 5 invocations each, but one partition each: 12 slots, not 60. With 9.6
        // invocations in flight they are 80 % busy and stay (the old rule saw 16 % and removed one).
        assert_eq!(scaler(12).target(0, false, 9.6, 12), 12);
        assert_eq!(scaler(12).target(0, false, 5.0, 12), 11, "41.7 % busy: one fewer");
    }

    fn hour(scaler: &mut Autoscaler, pricing: &Pricing) -> f64 {
        scaler.close_epu_window(3_600_000_000_000, pricing);
        scaler.epu_ns / 3.6e12
    }

    #[test]
    fn epus_are_whole_units_of_pollers_or_throughput() {
        let whole = Pricing::default();
        // 1, 3 and 12 pollers for an hour at 1 MB/s: 1, 1 and 2 EPU-hours (⌈12 / 10⌉).
        for (pollers, epus) in [(1, 1.0), (3, 1.0), (12, 2.0)] {
            let mut s = scaler(pollers);
            s.window_bytes = 3_600_000_000;
            assert_eq!(hour(&mut s, &whole), epus, "{pollers} pollers");
        }
        // 10 pollers for an hour at 60 MB/s: three EPU-hours (throughput decides).
        let mut s = scaler(10);
        s.window_bytes = 216_000_000_000;
        assert_eq!(hour(&mut s, &whole), 3.0);
        // Fractional sharing: 3 pollers are 0.3 EPU.
        let fractional = Pricing { epu_billing: EpuBilling::Fractional, ..Pricing::default() };
        let mut s = scaler(3);
        assert!((hour(&mut s, &fractional) - 0.3).abs() < 1e-12);
    }
}
