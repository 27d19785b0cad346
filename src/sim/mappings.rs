//! Several event source mappings of one scenario on one clock, in one account.
//!
//! Each mapping is its own [`Simulation`] (its topic, its ESM, its function's view) and keeps its
//! own event queue; what they share is state consulted while events are handled: the account's
//! unreserved concurrency ([`AccountPool`]), the environments of a function that several mappings
//! invoke, and, after the run, a poller group's EPU bill. The runner always advances the mapping
//! whose next instant is earliest, samples before events at the same instant and, among equal
//! instants, the mapping listed first, so a run is one deterministic interleaving.

use super::pollers::bill_poller_group;
use super::{Limits, Report, Shared, Simulation, SimulationBuilder, Stopped};
use crate::config::Config;
use crate::engine::SimTime;
use crate::model::account::AccountPool;
use crate::model::function::Environments;
use hdrhistogram::Histogram;
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::rc::Rc;

/// One mapping of a scenario, as the runner needs it.
pub struct Member<'a> {
    pub config: &'a Config,
    /// Mappings with the same function index invoke one function (its settings are equal).
    pub function: usize,
    /// The poller group the mapping belongs to, if any.
    pub group: Option<usize>,
}

impl Member<'_> {
    /// Whether mapping `i` is the first of `members` to invoke its function: the one whose
    /// concurrency counts in the account's totals and whose bill carries the fixed charges.
    pub fn first_of_function(members: &[Member], i: usize) -> bool {
        !members[..i].iter().any(|other| other.function == members[i].function)
    }
}

/// What several mappings' run produced.
pub struct Together {
    /// Each mapping's report, in the scenario's order (a grouped mapping's cost carries its share
    /// of the group's EPUs).
    pub reports: Vec<Report>,
    /// Each mapping's latency histogram (µs, after the warm-up), for the totals' percentiles.
    pub latency_us: Vec<Histogram<u64>>,
    /// The most environments busy at once over the account (after the warm-up).
    pub account_peak: u32,
    /// Each poller group's EPU-hours, and what its mappings would have used each billed alone.
    pub group_epu_hours: Vec<f64>,
    pub ungrouped_epu_hours: Vec<f64>,
}

/// Runs `members` together; the error names the mapping that stopped the run.
pub fn run_together(
    members: &[Member],
    limits: &Limits,
    mut progress: impl FnMut(f64),
) -> Result<Together, (usize, Stopped)> {
    let (mut sims, account) = build(members);
    // Each mapping's share of the memory budget.
    let limits = Limits { memory_bytes: limits.memory_bytes / members.len().max(1) as u64 };
    for (m, sim) in sims.iter_mut().enumerate() {
        if let Some(stopped) = sim.begin(&limits) {
            return Err((m, stopped));
        }
    }
    let (origin, end) = members.first().map_or((0, 0), |m| (m.config.clock.origin_ns, m.config.clock.end_ns));
    let mut due: BinaryHeap<Reverse<(SimTime, u8, usize)>> = sims
        .iter()
        .enumerate()
        .filter_map(|(m, sim)| sim.next_due().map(|(t, phase)| Reverse((t, phase, m))))
        .collect();
    let mut steps: u64 = 0;
    while let Some(Reverse((time, _, m))) = due.pop() {
        if let Some(stopped) = sims[m].advance_one(&limits) {
            return Err((m, stopped));
        }
        if let Some((t, phase)) = sims[m].next_due() {
            due.push(Reverse((t, phase, m)));
        }
        steps += 1;
        if steps % 65_536 == 0 {
            progress((time - origin) as f64 / (end - origin).max(1) as f64);
        }
    }
    progress(1.0);
    Ok(finish(members, sims, &account))
}

/// The mappings' simulations, sharing the account and their functions' environments.
fn build<'a>(members: &[Member<'a>]) -> (Vec<Simulation<()>>, Rc<AccountPool>) {
    // Reservations are per function: a shared function reserves once.
    let reserved_total = (0..members.len())
        .filter(|&m| Member::first_of_function(members, m))
        .map(|m| members[m].config.function.reserved_concurrency.unwrap_or(0))
        .sum();
    let account = Rc::new(AccountPool::new(reserved_total));
    let mut environments: Vec<(usize, Rc<RefCell<Environments>>)> = Vec::new();
    let sims = members
        .iter()
        .enumerate()
        .map(|(m, member)| {
            let c = member.config;
            let envs = match environments.iter().find(|(f, _)| *f == member.function) {
                Some((_, envs)) => envs.clone(),
                None => {
                    let mut envs = Environments::new(&c.function, c.seed, c.clock.origin_ns);
                    envs.share_account(account.clone());
                    let envs = Rc::new(RefCell::new(envs));
                    environments.push((member.function, envs.clone()));
                    envs
                }
            };
            let shared = Shared {
                account: Some(account.clone()),
                environments: Some(envs),
                charges_fixed: Member::first_of_function(members, m),
                keeps_epu_windows: member.group.is_some(),
            };
            SimulationBuilder::new(c).shared(shared).build()
        })
        .collect();
    (sims, account)
}

/// Closes every mapping's run: group bills first, then each report with its share.
fn finish(members: &[Member], mut sims: Vec<Simulation<()>>, account: &AccountPool) -> Together {
    for sim in &mut sims {
        sim.sample_until(sim.config.clock.end_ns);
    }
    let groups = members.iter().filter_map(|m| m.group).max().map_or(0, |g| g + 1);
    let mut shares: Vec<Option<f64>> = vec![None; members.len()];
    let mut group_epu_hours = vec![0.0; groups];
    let mut ungrouped_epu_hours = vec![0.0; groups];
    for (g, hours) in group_epu_hours.iter_mut().enumerate() {
        let in_group: Vec<usize> = (0..members.len()).filter(|&m| members[m].group == Some(g)).collect();
        let windows: Vec<_> = in_group.iter().map(|&m| sims[m].close_epu_windows()).collect();
        // Each mapping's own bill is still kept alongside its windows.
        ungrouped_epu_hours[g] =
            in_group.iter().filter_map(|&m| sims[m].esm.autoscaler.as_ref()).map(|s| s.epu_ns / 3.6e12).sum();
        let Some(first) = in_group.first() else { continue };
        let billed = bill_poller_group(&windows, &sims[*first].config.pricing);
        for (&m, share) in in_group.iter().zip(billed) {
            shares[m] = Some(share);
            *hours += share;
        }
    }
    let latency_us = sims.iter().map(|sim| sim.metrics.latency_histogram()).collect();
    let reports = sims.iter_mut().zip(shares).map(|(sim, share)| sim.finish(share)).collect();
    Together { reports, latency_us, account_peak: account.peak(), group_epu_hours, ungrouped_epu_hours }
}

impl Simulation<()> {
    /// The next thing this mapping does before the end: a sample (phase 0, taken before the
    /// events of its instant) or an event (phase 1).
    fn next_due(&self) -> Option<(SimTime, u8)> {
        let end = self.config.clock.end_ns;
        let event = self.queue.peek_time().filter(|&t| t < end);
        let sample =
            (self.metrics.rows.len() < self.metrics.produced_per_interval.len()).then_some(self.next_sample_ns);
        match (sample, event) {
            (Some(s), Some(e)) if s <= e => Some((s, 0)),
            (_, Some(e)) => Some((e, 1)),
            (Some(s), None) => Some((s, 0)),
            (None, None) => None,
        }
    }

    /// Takes the next sample or handles the next event.
    fn advance_one(&mut self, limits: &Limits) -> Option<Stopped> {
        match self.next_due()? {
            (t, 0) => {
                self.sample_until(t);
                None
            }
            _ => {
                let (time, event) = self.queue.pop()?;
                self.step(limits, time, event)
            }
        }
    }

    /// Closes the last EPU window at the end and hands over every window.
    fn close_epu_windows(&mut self) -> Vec<super::pollers::EpuWindow> {
        let end = self.config.clock.end_ns;
        let pricing = self.config.pricing.clone();
        match self.esm.autoscaler.as_mut() {
            Some(scaler) => {
                scaler.close_epu_window(end, &pricing);
                scaler.epu_windows.take().unwrap_or_default()
            }
            None => Vec::new(),
        }
    }
}
