//! Who forms batches, and how many may be in flight.
//!
//! - `parallelization_factor` mode (the seed article's model): one fetcher per partition, each
//!   with one batch in flight at most, behind a shared [`Gate`] of `factor` slots.
//! - Poller modes (`on_demand`): one fetcher per poller, owning a share of the partitions and
//!   running at most `invocations_per_poller` batches at once; a batch may combine partitions.

use std::collections::VecDeque;

/// What a fetcher is waiting for before it can flush its next batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// Nothing scheduled: it is at its in-flight limit, or has no partitions.
    Nothing,
    /// A flush timer (its `timer_gen` tells stale timers apart).
    Timer,
    /// Records not generated yet; re-planned when producers generate the next chunk.
    Records,
    /// A gate slot.
    Gate,
}

#[derive(Clone, Debug)]
pub struct Fetcher {
    pub partitions: Vec<u32>,
    pub max_in_flight: u32,
    pub in_flight: u32,
    /// Where the next combined batch starts reading, so partitions take turns.
    pub rotation: usize,
    pub timer_gen: u64,
    pub waiting: Waiting,
    /// A poller's throughput limit: it may not fetch again before this instant.
    pub fetch_ready_ns: u64,
    /// Planning state for combined batches, for a fetcher owning more partitions than the
    /// simulation's threshold (`PLANNER_MIN_PARTITIONS`, or `plan_incrementally_above`), made
    /// whenever owners change; the others search from scratch at each plan.
    pub planner: Option<Box<super::Planner>>,
    /// Its owned partitions that may be batched now, by slot (index in `partitions`).
    pub candidates: super::CandidateSet,
}

impl Fetcher {
    pub fn new(partitions: Vec<u32>, max_in_flight: u32) -> Self {
        Fetcher {
            max_in_flight,
            in_flight: 0,
            rotation: 0,
            timer_gen: 0,
            waiting: Waiting::Nothing,
            fetch_ready_ns: 0,
            planner: None,
            // Replaced when the simulation indexes its fetchers' partitions.
            candidates: super::CandidateSet::new(partitions.len(), |_| false, false),
            partitions,
        }
    }

    pub fn has_room(&self) -> bool {
        self.in_flight < self.max_in_flight
    }
}

/// A cap on batches in flight across fetchers, with a first-come queue of fetchers waiting.
#[derive(Clone, Debug)]
pub struct Gate {
    capacity: u32,
    used: u32,
    waiting: VecDeque<u32>,
}

impl Gate {
    pub fn new(capacity: u32) -> Self {
        Gate { capacity, used: 0, waiting: VecDeque::new() }
    }

    pub fn is_open(&self) -> bool {
        self.used < self.capacity
    }

    /// Takes a slot (for a batch, or reserved for a fetcher it was granted to).
    pub fn take(&mut self) {
        self.used += 1;
    }

    /// Gives a slot back.
    pub fn give_back(&mut self) {
        self.used = self.used.saturating_sub(1);
    }

    /// `fetcher` waits for a slot.
    pub fn wait(&mut self, fetcher: u32) {
        self.waiting.push_back(fetcher);
    }

    /// The fetcher that has waited longest, if a slot is free for it.
    pub fn next_waiting(&mut self) -> Option<u32> {
        if self.is_open() { self.waiting.pop_front() } else { None }
    }

    /// Nobody waits any more (a rebalance re-plans every fetcher).
    pub fn clear_waiting(&mut self) {
        self.waiting.clear();
    }
}
