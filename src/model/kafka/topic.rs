//! A topic's partitions: each an append-only log of records with offsets, of which esmsim keeps
//! only the part not yet committed (plus arrivals generated ahead of the clock).

use super::log_buffer::LogBuffer;
use crate::engine::SimTime;

/// One record as the simulator needs it: its arrival (8 bytes, no heap). Its sizes are the
/// partition's ([`RecordSizes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub arrival_ns: SimTime,
}

/// The sizes of a partition's records. Most partitions' records all have one size, and then a
/// log holds 8 bytes per record: runs of records are weighed by multiplying. Only once a record
/// of another size arrives does the log keep each record's running byte totals beside it, 16
/// bytes more. (Plans, batches and commits visit many partitions once each, so the lines of
/// memory a log takes are what a run at 10,000 partitions waits for: 24-byte records took 1.6
/// times the wall time of 60 simulated seconds of `internet-scale`.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum RecordSizes {
    /// Nothing appended yet.
    #[default]
    Unset,
    /// Every record appended so far has these payload and stored bytes.
    Uniform { payload_bytes: u64, stored_bytes: u64 },
    /// Sizes differ: `cum_bytes` holds each record's running totals.
    Varying,
}

/// A partition's log from the consumer's position on.
///
/// `log[0]` has offset `log_start_offset`. Everything before it was committed, discarded or
/// deleted by retention. Records whose arrival lies in the future are already here because
/// producers generate ahead of the clock; [`Partition::arrived`] counts only those that have
/// arrived.
#[derive(Debug, Default)]
pub struct Partition {
    log: LogBuffer<Record>,
    log_start_offset: u64,
    /// Payload and stored bytes of every record before `log[0]`.
    payload_before_log: u64,
    stored_before_log: u64,
    sizes: RecordSizes,
    /// With varying sizes only: payload and stored bytes of every record of the partition up
    /// to and including this one, one per record of `log` (differences weigh any run in O(1)).
    cum_bytes: LogBuffer<(u64, u64)>,
    /// Kafka's committed offset: the next offset the consumer group will read.
    pub committed: u64,
    /// Offsets ever appended (the high watermark once they have all arrived).
    appended: u64,
    /// Payload and stored bytes ever appended.
    payload_appended: u64,
    stored_appended: u64,
    /// With event filtering only: records matching a filter, cumulative, one per record of
    /// `log` (an unmatched record adds no payload either). Empty without filtering, when every
    /// record counts.
    cum_matched: LogBuffer<u64>,
    matched_before_log: u64,
    matched_appended: u64,
    filtering: bool,
}

impl Partition {
    #[inline(always)]
    pub fn append(&mut self, arrival_ns: SimTime, payload_bytes: u64, stored_bytes: u64) {
        self.note_sizes(self.log.len(), payload_bytes, stored_bytes);
        self.payload_appended += payload_bytes;
        self.stored_appended += stored_bytes;
        if self.sizes == RecordSizes::Varying {
            self.cum_bytes.push((self.payload_appended, self.stored_appended));
        }
        self.log.push(Record { arrival_ns });
        self.appended += 1;
    }

    /// Appends records arriving at `times_ns` (in order), each of `payload_bytes` and
    /// `stored_bytes`: in one growth of the log at most.
    #[inline]
    pub fn extend_fixed(&mut self, times_ns: &[SimTime], payload_bytes: u64, stored_bytes: u64) {
        self.extend_fixed_with(payload_bytes, stored_bytes, |log| {
            log.extend(times_ns.iter().map(|&arrival_ns| Record { arrival_ns }))
        });
    }

    /// Appends the records `draw` pushes onto the log's back (arrivals in order, each of
    /// `payload_bytes` and `stored_bytes`), and returns them: a stream draws straight into its
    /// log, with no copy through a buffer (8 % of bench-steady's instructions).
    #[inline(always)]
    pub fn extend_fixed_with(
        &mut self,
        payload_bytes: u64,
        stored_bytes: u64,
        draw: impl FnOnce(&mut LogBuffer<Record>),
    ) -> &[Record] {
        let before = self.log.len();
        draw(&mut self.log);
        let n = self.log.len() - before;
        if n > 0 {
            // The records before these had the sizes noted so far.
            self.note_sizes(before, payload_bytes, stored_bytes);
            if self.sizes == RecordSizes::Varying {
                let (payload, stored) = (self.payload_appended, self.stored_appended);
                let each = |i: usize| (payload + i as u64 * payload_bytes, stored + i as u64 * stored_bytes);
                self.cum_bytes.extend((1..n + 1).map(each));
            }
            self.appended += n as u64;
            self.payload_appended += n as u64 * payload_bytes;
            self.stored_appended += n as u64 * stored_bytes;
        }
        &self.log.as_slice()[before..]
    }

    /// Records of these sizes are arriving: keeps the log's sizes uniform while they are, or
    /// starts keeping each record's byte totals once they are not.
    /// `live` is how many records of the log came before them.
    #[inline(always)]
    fn note_sizes(&mut self, live: usize, payload_bytes: u64, stored_bytes: u64) {
        match self.sizes {
            RecordSizes::Uniform { payload_bytes: p, stored_bytes: s } if (p, s) == (payload_bytes, stored_bytes) => {}
            RecordSizes::Varying => {}
            RecordSizes::Unset => self.sizes = RecordSizes::Uniform { payload_bytes, stored_bytes },
            RecordSizes::Uniform { payload_bytes: p, stored_bytes: s } => {
                let (payload, stored) = (self.payload_before_log, self.stored_before_log);
                self.cum_bytes.extend((1..live + 1).map(|i| (payload + i as u64 * p, stored + i as u64 * s)));
                self.sizes = RecordSizes::Varying;
            }
        }
    }

    /// Appends a record under event filtering: an unmatched record is polled (stored bytes) but
    /// adds nothing to the payload and does not count towards a batch.
    pub fn append_filtered(&mut self, arrival_ns: SimTime, payload_bytes: u64, stored_bytes: u64, matched: bool) {
        self.filtering = true;
        self.matched_appended += matched as u64;
        self.cum_matched.push(self.matched_appended);
        self.append(arrival_ns, if matched { payload_bytes } else { 0 }, stored_bytes);
    }

    /// Whether records are filtered (some were appended with [`append_filtered`](Self::append_filtered)).
    pub fn filtering(&self) -> bool {
        self.filtering
    }

    /// Records matching a filter among the first `n` of the log (all of them without filtering).
    #[inline]
    pub fn matched_of_first(&self, n: usize) -> u64 {
        if !self.filtering || n == 0 { n as u64 } else { self.cum_matched[n - 1] - self.matched_before_log }
    }

    /// Records matching a filter in the whole log (its length without filtering), from the
    /// totals kept, without reading the records.
    pub fn matched_len(&self) -> u64 {
        if self.filtering { self.matched_appended - self.matched_before_log } else { self.log.len() as u64 }
    }

    /// Payload bytes of the whole log, from the totals kept.
    pub fn payload_len(&self) -> u64 {
        self.payload_appended - self.payload_before_log
    }

    /// Records matching a filter at offsets `start..end`.
    pub fn matched_between(&self, start: u64, end: u64) -> u64 {
        let base = self.log_start_offset;
        self.matched_of_first((end - base) as usize) - self.matched_of_first((start - base) as usize)
    }

    /// Whether the record at `offset` matches a filter.
    pub fn is_matched(&self, offset: u64) -> bool {
        self.matched_between(offset, offset + 1) == 1
    }

    /// The fewest first records of the log that hold `k` matching records (all of the log if it
    /// holds fewer).
    pub fn prefix_holding(&self, k: u64) -> usize {
        if !self.filtering {
            return (k as usize).min(self.log.len());
        }
        if k == 0 {
            return 0;
        }
        let target = self.matched_before_log + k;
        (self.cum_matched.as_slice().partition_point(|&c| c < target) + 1).min(self.log.len())
    }

    /// The first record of the log that matches a filter.
    #[inline]
    pub fn first_matched(&self) -> Option<&Record> {
        if !self.filtering {
            return self.log.front();
        }
        let i = self.cum_matched.as_slice().partition_point(|&c| c == self.matched_before_log);
        self.log.get(i)
    }

    /// Starts loading the log's records: up to `max_lines` cache lines from the front (what a
    /// batch takes and a commit reads), and the last line (what a plan looks at first).
    #[inline(always)]
    pub fn prefetch_log(&self, max_lines: usize) {
        crate::engine::prefetch_slice(self.log.as_slice(), max_lines);
    }

    /// Starts loading the line holding the record at `offset`, if the log holds it.
    #[inline(always)]
    pub fn prefetch_record(&self, offset: u64) {
        if let Some(record) = offset.checked_sub(self.log_start_offset).and_then(|i| self.log.get(i as usize)) {
            crate::engine::prefetch(record);
        }
    }

    /// Starts loading the line the next append writes.
    #[inline(always)]
    pub fn prefetch_back(&self) {
        if let Some(last) = self.log.back() {
            crate::engine::prefetch(last);
        }
    }

    pub fn log_start_offset(&self) -> u64 {
        self.log_start_offset
    }

    /// Offset one past the last generated record.
    pub fn end_offset(&self) -> u64 {
        self.appended
    }

    /// Records kept (arrived or not).
    pub fn len(&self) -> usize {
        self.log.len()
    }

    /// Records the log has room for without growing: what it holds in memory.
    pub fn capacity(&self) -> usize {
        self.log.capacity()
    }

    /// Makes room for `additional` more records at once (a backlog of known size).
    pub fn reserve(&mut self, additional: usize) {
        self.log.reserve_exact(additional);
    }

    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }

    pub fn record(&self, offset: u64) -> Record {
        self.log[(offset - self.log_start_offset) as usize]
    }

    pub fn front(&self) -> Option<&Record> {
        self.log.front()
    }

    /// When the record at the log's front arrives (`None` when the log is empty).
    pub fn front_arrival(&self) -> Option<SimTime> {
        self.log.front().map(|r| r.arrival_ns)
    }

    pub fn last_arrival(&self) -> Option<SimTime> {
        self.log.back().map(|r| r.arrival_ns)
    }

    /// Records of the log (from its start) that arrived at or before `t`.
    pub fn arrived(&self, t: SimTime) -> usize {
        // Most logs a plan asks about have arrived in full by the instant it asks about, or
        // (many partitions, each with few records) not at all.
        let log = self.log.as_slice();
        match (log.first(), log.last()) {
            (_, None) => 0,
            (_, Some(last)) if last.arrival_ns <= t => log.len(),
            (Some(first), _) if first.arrival_ns > t => 0,
            _ => log.partition_point(|r| r.arrival_ns <= t),
        }
    }

    /// As [`arrived`](Self::arrived), knowing that the answer lies in `from..=upto`: a search of
    /// those records only.
    pub fn arrived_within(&self, t: SimTime, from: usize, upto: usize) -> usize {
        from + self.log.as_slice()[from..upto].partition_point(|r| r.arrival_ns <= t)
    }

    /// Records of the log that arrived strictly before `t` (used at sample instants).
    pub fn arrived_before(&self, t: SimTime) -> usize {
        if t == 0 { 0 } else { self.arrived(t - 1) }
    }

    /// Payload bytes of the first `n` records of the log.
    #[inline]
    pub fn payload_of_first(&self, n: usize) -> u64 {
        self.bytes_of_first(n).0
    }

    /// Payload and stored bytes of the first `n` records of the log.
    #[inline]
    pub fn bytes_of_first(&self, n: usize) -> (u64, u64) {
        match self.sizes {
            RecordSizes::Uniform { payload_bytes, stored_bytes } => (n as u64 * payload_bytes, n as u64 * stored_bytes),
            _ if n == 0 => (0, 0),
            _ => {
                let (payload, stored) = self.cum_bytes[n - 1];
                (payload - self.payload_before_log, stored - self.stored_before_log)
            }
        }
    }

    /// Payload bytes of the records at offsets `start..end`.
    pub fn payload_between(&self, start: u64, end: u64) -> u64 {
        let base = self.log_start_offset;
        self.payload_of_first((end - base) as usize) - self.payload_of_first((start - base) as usize)
    }

    /// Bytes stored in Kafka (key + value) of the records at offsets `start..end`.
    pub fn stored_between(&self, start: u64, end: u64) -> u64 {
        let base = self.log_start_offset;
        self.bytes_of_first((end - base) as usize).1 - self.bytes_of_first((start - base) as usize).1
    }

    /// How many of the first records of the log fit in `budget` payload bytes.
    pub fn fitting(&self, budget: u64) -> usize {
        if self.payload_len() <= budget {
            return self.log.len();
        }
        match self.sizes {
            // Over the budget, so not every record is empty.
            RecordSizes::Uniform { payload_bytes, .. } => (budget / payload_bytes.max(1)) as usize,
            _ => {
                let limit = self.payload_before_log.saturating_add(budget);
                self.cum_bytes.as_slice().partition_point(|&(payload, _)| payload <= limit)
            }
        }
    }

    /// Removes the first `n` records of the log, handing them to `f` first (committed records,
    /// for their latency) in offset order.
    #[inline]
    pub fn pop_front_reading(&mut self, n: usize, f: impl FnOnce(&[Record])) {
        f(&self.log.as_slice()[..n]);
        self.pop_front(n);
    }

    /// Removes the first `n` records of the log (committed, discarded or lost).
    pub fn pop_front(&mut self, n: usize) {
        if n > 0 {
            let (payload, stored) = self.bytes_of_first(n);
            self.payload_before_log += payload;
            self.stored_before_log += stored;
            if self.sizes == RecordSizes::Varying {
                self.cum_bytes.consume(n);
            }
            self.log_start_offset += n as u64;
            if self.filtering {
                self.matched_before_log = self.cum_matched[n - 1];
                self.cum_matched.consume(n);
            }
        }
        self.log.consume(n);
    }

    /// Number of records at the front of the log older than `retention` at `now`, i.e. the ones
    /// Kafka has deleted.
    pub fn expired(&self, now: SimTime, retention: SimTime) -> usize {
        match now.checked_sub(retention) {
            Some(cutoff) if self.log.front().is_some_and(|r| r.arrival_ns < cutoff) => self.arrived_before(cutoff),
            _ => 0,
        }
    }

    /// Moves the committed offset forward (never back).
    pub fn commit(&mut self, offset: u64) {
        debug_assert!(offset >= self.committed, "commit went backwards");
        self.committed = self.committed.max(offset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition(arrivals: &[u64], bytes: u64) -> Partition {
        let mut p = Partition::default();
        for &a in arrivals {
            p.append(a, bytes, bytes);
        }
        p
    }

    #[test]
    fn weighs_runs_whether_sizes_are_uniform_or_not() {
        // Random appends (one size for a while, then sizes that differ), runs and pops: every
        // weight agrees with sums over the records' own sizes.
        use rand::{RngExt, SeedableRng};
        for seed in 0..100u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let (mut p, mut sizes) = (Partition::default(), std::collections::VecDeque::new());
            let (mut t, mut varying) = (0u64, false);
            for _ in 0..200 {
                match rng.random_range(0..5) {
                    0 | 1 => {
                        varying |= rng.random_range(0..20) == 0;
                        let size = if varying { rng.random_range(0..4) * 50 } else { 100 };
                        let n = rng.random_range(0..6);
                        let times: Vec<u64> = (0..n).map(|i| t + i).collect();
                        t += n;
                        if rng.random_range(0..2) == 0 {
                            p.extend_fixed(&times, size, size + 16);
                        } else {
                            times.iter().for_each(|&at| p.append(at, size, size + 16));
                        }
                        sizes.extend(std::iter::repeat_n(size, n as usize));
                    }
                    2 => {
                        let n = rng.random_range(0..=sizes.len());
                        p.pop_front(n);
                        sizes.drain(..n);
                    }
                    _ => {}
                }
                let base = p.log_start_offset();
                let (a, b) = (rng.random_range(0..=sizes.len()), rng.random_range(0..=sizes.len()));
                let (a, b) = (a.min(b), a.max(b));
                let payload: u64 = sizes.range(a..b).sum();
                assert_eq!(p.payload_between(base + a as u64, base + b as u64), payload, "seed {seed}");
                assert_eq!(p.stored_between(base + a as u64, base + b as u64), payload + 16 * (b - a) as u64);
                assert_eq!(p.payload_len(), sizes.iter().sum::<u64>(), "seed {seed}");
                let budget = rng.random_range(0..2_000);
                let fit = sizes
                    .iter()
                    .scan(0, |sum, &size| {
                        *sum += size;
                        Some(*sum)
                    })
                    .take_while(|&sum| sum <= budget)
                    .count();
                assert_eq!(p.fitting(budget), fit, "seed {seed}: budget {budget}");
            }
        }
    }

    #[test]
    fn counts_arrivals_and_payload() {
        let mut p = partition(&[10, 20, 30, 40], 100);
        assert_eq!(p.arrived(5), 0);
        assert_eq!(p.arrived(20), 2);
        assert_eq!(p.arrived_before(20), 1);
        assert_eq!(p.fitting(250), 2);
        assert_eq!(p.payload_of_first(3), 300);
        assert_eq!((p.matched_len(), p.payload_len()), (4, 400));
        p.pop_front(2);
        assert_eq!(p.log_start_offset(), 2);
        assert_eq!((p.matched_len(), p.payload_len()), (2, 200));
        assert_eq!(p.payload_between(2, 4), 200);
        assert_eq!(p.fitting(100), 1);
        assert_eq!(p.record(3).arrival_ns, 40);
    }

    #[test]
    fn filtered_records_are_polled_but_not_counted() {
        // Offsets 0..6 matched as [no, yes, no, no, yes, yes], 100 payload bytes each when matched.
        let mut p = Partition::default();
        for (i, m) in [false, true, false, false, true, true].into_iter().enumerate() {
            p.append_filtered(10 * i as u64, 100, 100, m);
        }
        assert_eq!(p.first_matched().unwrap().arrival_ns, 10);
        assert_eq!(p.matched_of_first(4), 1);
        assert_eq!(p.payload_of_first(6), 300);
        assert_eq!(p.stored_between(0, 6), 600);
        // Two matched records need the first five; a third needs all six; a fourth is not there.
        assert_eq!((p.prefix_holding(2), p.prefix_holding(3), p.prefix_holding(4)), (5, 6, 6));
        assert!(!p.is_matched(2) && p.is_matched(4));
        p.pop_front(2);
        assert_eq!(p.first_matched().unwrap().arrival_ns, 40);
        assert_eq!((p.matched_between(2, 6), p.prefix_holding(1)), (2, 3));
        // The totals kept: offsets 2..6 hold two matched records of 100 bytes.
        assert_eq!((p.matched_len(), p.payload_len()), (2, 200));
        // 100 payload bytes hold the two unmatched records and the first matched one.
        assert_eq!(p.fitting(100), 3);
    }

    #[test]
    fn a_search_between_known_bounds_finds_what_the_full_one_does() {
        // Records at 0, 10, 10, 20, ..., wrapped around the log's buffer: appended, partly
        // consumed, appended again, so that the records lie in two slices.
        let mut p = Partition::default();
        (0..6).for_each(|i| p.append(i * 10, 1, 1));
        p.pop_front(4);
        (6..12).for_each(|i| p.append((i / 2) * 20, 1, 1));
        for t in 0..140 {
            let n = p.arrived(t);
            for from in 0..=n {
                for upto in n..=p.len() {
                    assert_eq!(p.arrived_within(t, from, upto), n, "t {t}, bounds {from}..={upto}");
                }
            }
        }
    }

    #[test]
    fn arrivals_are_counted_on_uneven_and_wrapped_logs() {
        use rand::{RngExt, SeedableRng};
        // Bursts, ties and long gaps, in logs consumed from the front while appended to, so that
        // their records often lie in two slices of the buffer.
        for seed in 0..300u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let mut p = Partition::default();
            let mut t = 0;
            for _ in 0..rng.random_range(1..400) {
                t += match rng.random_range(0..4) {
                    0 => 0,
                    1 => rng.random_range(0..10_000),
                    _ => rng.random_range(0..100),
                };
                p.append(t, 1, 1);
                if rng.random_range(0..8) == 0 {
                    p.pop_front(rng.random_range(0..p.len()));
                }
            }
            let times: Vec<u64> = (0..p.len()).map(|i| p.record(p.log_start_offset() + i as u64).arrival_ns).collect();
            for _ in 0..50 {
                let t = rng.random_range(0..t + 10);
                let n = times.partition_point(|&a| a <= t);
                assert_eq!(p.arrived(t), n, "seed {seed}, t {t}");
                let (from, upto) = (rng.random_range(0..=n), rng.random_range(n..=times.len()));
                assert_eq!(p.arrived_within(t, from, upto), n, "seed {seed}, t {t}, {from}..={upto}");
            }
        }
    }

    #[test]
    fn retention_expires_only_old_arrived_records() {
        let p = partition(&[10, 20, 30, 40], 1);
        assert_eq!(p.expired(25, 10), 1); // 10 < 15; 20 is not older than 10ns
        assert_eq!(p.expired(35, 10), 2);
        assert_eq!(p.expired(5, 10), 0);
    }
}
