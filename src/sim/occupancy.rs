//! Which partitions a sample visits. A sample sums the records that have arrived and are not yet
//! committed; a partition whose log is empty, or holds only records drawn ahead of the clock,
//! adds nothing. At 100,000 partitions and 1,000 records/s most logs are one or the other, and
//! visiting each at every sample was most of the run.
//!
//! A partition is visited from the sample that first sees its log's front arrived, until a
//! sample finds its log empty (it returns when it gets records again) or its front not arrived
//! (after a commit took the records before it: it returns when that front arrives). A partition
//! that defers arrivals is always visited.
//!
//! Keeping that calendar costs about as much per record as visiting a partition costs per
//! sample, so when a sample interval brings records to a good share of the partitions (at
//! 100,000 partitions and 100,000 records/s, or any busy topic), every partition is visited and
//! the calendar is not kept.

use crate::config::Clock;
use crate::engine::{Calendar, SimTime};
use crate::model::esm::bits::Bits;

/// Every partition is visited when there are at most this many partitions per record a sample
/// interval brings (at the producers' peak rate). Instructions per record at 100,000 partitions
/// on 10 pollers, the calendar against visiting all: 2,014 against 1,916 at 100,000 records/s;
/// 3,245 against 6,653 at 1,000 records/s.
const VISIT_ALL_UP_TO_PARTITIONS_PER_RECORD: f64 = 3.0;

/// The partitions a sample visits, and those it will from a later sample on.
#[derive(Debug)]
pub(super) struct Occupancy {
    /// Partitions that may hold records that have arrived, or that defer some.
    visited: Bits,
    /// Partitions whose records all arrive later, by the first sample that sees their front
    /// arrived.
    later: Calendar,
    origin_ns: SimTime,
    sample_ns: SimTime,
    /// Every partition is visited, and `visited` is all ones.
    all: bool,
}

impl Occupancy {
    /// For `partitions` partitions whose producers write up to `peak_rate` records a second.
    pub(super) fn new(partitions: u32, clock: &Clock, peak_rate: f64) -> Self {
        let records_per_sample = peak_rate * clock.sample_ns as f64 / 1e9;
        let all = f64::from(partitions) <= records_per_sample * VISIT_ALL_UP_TO_PARTITIONS_PER_RECORD;
        let mut visited = Bits::default();
        visited.rebuild((0..partitions).map(|_| all));
        Occupancy {
            visited,
            later: Calendar::new(if all { 0 } else { partitions }),
            origin_ns: clock.origin_ns,
            sample_ns: clock.sample_ns,
            all,
        }
    }

    /// Whether every partition is visited (then nothing needs telling).
    pub(super) fn visits_all(&self) -> bool {
        self.all
    }

    /// The index of the first sample (0 for the one that closes the first interval) taken
    /// after `arrival_ns`: the one that counts a record arriving then.
    fn sample_counting(&self, arrival_ns: SimTime) -> u64 {
        arrival_ns.saturating_sub(self.origin_ns) / self.sample_ns
    }

    /// `partition`'s log has records, the first arriving at `front_ns`, and samples up to
    /// `next_sample` (excluded) are taken.
    pub(super) fn holds(&mut self, partition: u32, front_ns: SimTime, next_sample: usize) {
        if self.all {
            return;
        }
        let sample = self.sample_counting(front_ns);
        // `due` has taken the buckets of the samples before `next_sample`.
        debug_assert!(self.later.first() >= next_sample as u64, "a sample was taken without `due`");
        if sample <= self.later.first() {
            self.visited.set(partition as usize, true);
            return;
        }
        // Listed already, it waits for an earlier sample: its front is no earlier now.
        self.later.push(sample, partition);
    }

    /// Sample `sample` is being taken: partitions whose front it is the first to count join
    /// the visited ones.
    pub(super) fn due(&mut self, sample: usize) {
        while let Some(p) = self.later.pop_due(sample as u64) {
            self.visited.set(p as usize, true);
        }
    }

    /// Between samples, makes every partition that may hold a record arrived by `now` visited:
    /// those whose front the sample counting `now` counts join now, as they would then.
    pub(super) fn due_by(&mut self, now: SimTime) {
        self.due(self.sample_counting(now) as usize);
    }

    /// The partitions a sample visits, in order.
    pub(super) fn visited(&self) -> impl Iterator<Item = usize> + '_ {
        self.visited.ones()
    }

    #[cfg(debug_assertions)]
    pub(super) fn is_visited(&self, partition: usize) -> bool {
        self.visited.get(partition)
    }

    /// A sample found `partition`'s log empty, nothing deferred.
    pub(super) fn emptied(&mut self, partition: usize) {
        self.visited.set(partition, false);
    }

    /// A sample (the one before `next_sample`) found `partition`'s front, arriving at
    /// `front_ns`, not arrived, nothing deferred.
    pub(super) fn arrives_later(&mut self, partition: usize, front_ns: SimTime, next_sample: usize) {
        self.visited.set(partition, false);
        self.holds(partition as u32, front_ns, next_sample);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visited(o: &Occupancy) -> Vec<usize> {
        o.visited().collect()
    }

    #[test]
    fn a_partition_is_visited_from_the_sample_that_counts_its_front() {
        // Sample k closes the interval [1,000 + 100 k, 1,100 + 100 k).
        let clock = Clock {
            origin_ns: 1_000,
            end_ns: 2_000,
            sample_ns: 100,
            chunk_ns: 500,
            cloudwatch_period_ns: 1_000,
            warmup_end_ns: 1_000,
        };
        let mut o = Occupancy::new(8, &clock, 1.0);
        assert!(!o.visits_all());
        o.holds(0, 1_050, 0); // sample 0
        o.holds(1, 1_150, 0); // sample 1
        o.holds(2, 1_199, 0); // sample 1
        o.holds(3, 1_200, 0); // sample 2
        o.holds(4, 1_450, 0); // sample 4
        o.holds(5, 900, 0); // the backlog, before the origin: sample 0
        o.due(0);
        assert_eq!(visited(&o), [0, 5]);
        o.due(1);
        assert_eq!(visited(&o), [0, 1, 2, 5]);
        // Sample 1 found partition 0's front at 1,330 (a commit took the records before it) and
        // partition 5 empty.
        o.arrives_later(0, 1_330, 2);
        o.emptied(5);
        o.due(2);
        assert_eq!(visited(&o), [1, 2, 3]);
        o.due(3);
        assert_eq!(visited(&o), [0, 1, 2, 3]);
        // A log that gets records whose front the next sample counts is visited at once.
        o.holds(6, 1_410, 4);
        assert_eq!(visited(&o), [0, 1, 2, 3, 6]);
        o.due(4);
        assert_eq!(visited(&o), [0, 1, 2, 3, 4, 6]);
        // Past the last bucket, and a gap between samples told.
        o.holds(7, 1_950, 5);
        o.due(5);
        o.due(6);
        assert_eq!(visited(&o), [0, 1, 2, 3, 4, 6]);
        o.due(9);
        assert_eq!(visited(&o), [0, 1, 2, 3, 4, 6, 7]);
    }

    #[test]
    fn a_busy_topic_visits_every_partition() {
        let clock = Clock {
            origin_ns: 0,
            end_ns: 10_000_000_000,
            sample_ns: 1_000_000_000,
            chunk_ns: 1,
            cloudwatch_period_ns: 1,
            warmup_end_ns: 0,
        };
        // 100 partitions: a third of a sample's records is the threshold.
        assert!(!Occupancy::new(100, &clock, 33.0).visits_all());
        let mut o = Occupancy::new(100, &clock, 34.0);
        assert!(o.visits_all());
        o.holds(3, 5_000_000_000, 0);
        o.due(0);
        assert_eq!(visited(&o), (0..100).collect::<Vec<_>>());
    }
}
