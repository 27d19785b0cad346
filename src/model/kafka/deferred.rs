//! Records a partition has but does not store. Under per-partition streams a partition that
//! lags (the records it holds that have arrived make two batches' worth) stops storing new
//! arrivals and only counts them; when its log runs short they are regenerated from the stream's
//! resume point, the same draws, and stored with the offsets they would have had. What a run
//! holds then grows with its partitions and batches, not with its lag.

use crate::config::Clock;
use crate::engine::SimTime;
use crate::model::partition_streams::{Replayer, Resume};
use crate::model::producer::Arrival;
use std::collections::VecDeque;

/// A partition's arrivals counted but not stored, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Deferred {
    /// The stream at the first record not stored (`None` while every record is stored).
    resume: Option<Resume>,
    records: u64,
    /// Of `records`, the oldest that arrived before the last sample taken...
    settled: u64,
    /// ...and the others, counted per sample interval: (interval, records, the stream's point
    /// before the interval's first record; for the first entry once `settled` is 0, `resume`).
    by_interval: VecDeque<(usize, u64, Resume)>,
}

impl Deferred {
    /// Whether records are counted instead of stored.
    pub fn is_active(&self) -> bool {
        self.resume.is_some()
    }

    /// Records counted and not stored.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Stops storing: the partition's next arrival is the one at `resume`.
    pub fn start(&mut self, resume: Resume) {
        debug_assert!(self.records == 0);
        self.resume = Some(resume);
    }

    /// Counts a record not stored that arrived in sample interval `interval` (records come in
    /// time order); `before` is the stream's point just before it.
    #[inline(always)]
    pub fn count(&mut self, interval: usize, before: &Resume) {
        self.records += 1;
        match self.by_interval.back_mut() {
            Some((last, n, _)) if *last == interval => *n += 1,
            _ => self.by_interval.push_back((interval, 1, before.clone())),
        }
    }

    /// Records not stored that arrived at or before `t_ns`: whole intervals ended by then,
    /// and the records of the one containing it replayed and counted.
    pub fn arrived_by(&self, replayer: &Replayer, partition: u32, t_ns: SimTime, clock: &Clock) -> u64 {
        let mut arrived = self.settled;
        for (k, (interval, n, point)) in self.by_interval.iter().enumerate() {
            let interval_end = clock.origin_ns + (*interval as u64 + 1) * clock.sample_ns;
            if interval_end <= t_ns + 1 {
                arrived += n;
                continue;
            }
            let start = clock.origin_ns + *interval as u64 * clock.sample_ns;
            if start <= t_ns {
                let point = if k == 0 && self.settled == 0 { self.resume.as_ref().unwrap_or(point) } else { point };
                arrived += replayer.arrived_by(partition, point, *n, t_ns);
            }
            break;
        }
        arrived
    }

    /// Records not stored that arrived in the intervals before `interval`: those arrived by
    /// the sample that closes interval `interval - 1`. Samples come in time order.
    pub fn arrived_before_interval(&mut self, interval: usize) -> u64 {
        while let Some(&(_, n, _)) = self.by_interval.front().filter(|entry| entry.0 < interval) {
            self.settled += n;
            self.by_interval.pop_front();
        }
        self.settled
    }

    /// The oldest record not stored, drawn again from `partition`'s stream to be stored now
    /// (`None` if there is none); with the last one, storing resumes.
    #[inline(always)]
    pub fn take_oldest(&mut self, replayer: &Replayer, partition: u32) -> Option<Arrival> {
        let arrival = replayer.replay(partition, self.resume.as_mut()?);
        self.records -= 1;
        if self.settled > 0 {
            self.settled -= 1;
        } else if let Some(front) = self.by_interval.front_mut() {
            // Its point is `resume` from now on.
            front.1 -= 1;
            if front.1 == 0 {
                self.by_interval.pop_front();
            }
        }
        if self.records == 0 {
            self.resume = None;
        }
        Some(arrival)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_settle_by_interval_and_leave_oldest_first() {
        let scenario = serde_json::json!({ "name": "d", "topic": { "partitions": 1 }, "producers": [{ "rate": 1 }] });
        let loaded = crate::parse_scenario("d.json".as_ref(), &scenario.to_string(), &[]).unwrap();
        let streams = crate::model::partition_streams::PartitionStreams::new(
            0,
            &loaded.config.producers[0],
            1,
            crate::model::producer::PayloadRule::new(0),
            1,
            0,
        );
        let point = streams.resume_point(0);
        let replayer = streams.replayer();
        let mut d = Deferred::default();
        d.start(point.clone());
        // Three records in interval 4, two in 5, one in 7.
        for interval in [4, 4, 4, 5, 5, 7] {
            d.count(interval, &point);
        }
        assert_eq!(d.records(), 6);
        assert_eq!(d.arrived_before_interval(4), 0);
        assert_eq!(d.arrived_before_interval(5), 3);
        assert_eq!(d.arrived_before_interval(7), 5);
        // Storing takes the settled (oldest) first, then the interval counts.
        for _ in 0..5 {
            assert!(d.take_oldest(&replayer, 0).is_some());
        }
        assert_eq!((d.records(), d.arrived_before_interval(7)), (1, 0));
        assert_eq!(d.arrived_before_interval(8), 1);
        // With the last one, every record is stored again.
        assert!(d.take_oldest(&replayer, 0).is_some());
        assert!(!d.is_active() && d.take_oldest(&replayer, 0).is_none());
    }
}
