//! Latency recording. Every committed record adds one sample, so recording must be a few
//! instructions: samples go into a flat log-linear count array for the current sample interval,
//! which is drained into an `hdrhistogram` (the run's percentiles) at each sample instant.

use crate::engine::{NS_PER_US, SimTime};
use hdrhistogram::Histogram;

/// Sub-buckets per power of two: relative precision 2^-10 ≈ 0.1 %, as hdrhistogram's 3
/// significant digits.
const SUB_BITS: u32 = 10;
const SUB: usize = 1 << SUB_BITS;
/// Largest value kept exactly: 2^42 µs ≈ 50 days.
const MAX_VALUE: u64 = (1 << 42) - 1;
const BUCKETS: usize = (42 - SUB_BITS as usize + 1) * SUB;

/// Room for every bucket, a power of two: an index masked to it needs no bounds check.
const COUNTS: usize = BUCKETS.next_power_of_two();

fn index_of(value: u64) -> usize {
    let v = value.min(MAX_VALUE);
    if v < 2 * SUB as u64 { v as usize } else { index_of_wide(v) }
}

/// `index_of` for a value from `2 × SUB` to `MAX_VALUE`, in buckets wider than 1.
#[inline(always)]
fn index_of_wide(v: u64) -> usize {
    let shift = shift_of(v);
    ((shift as usize) << SUB_BITS) + (v >> shift) as usize
}

/// The power of two a value from `2 × SUB` up is in: its bucket width is `2^shift`.
fn shift_of(v: u64) -> u32 {
    63 - v.leading_zeros() - SUB_BITS
}

/// Runs shorter than this take the general bucket index record by record: too few records to
/// repay cutting the run into pieces (a record or two a run at 100,000 partitions).
const SHORT_RUN: usize = 16;

/// The widest range `Reciprocal` is exact over: latencies under 2^27 µs (134 s).
const FAST_SHIFT_MAX: u32 = 16;

/// Dividing a latency in ns by `1,000 × 2^shift` as one multiplication, keeping the high word:
/// `m = ⌈2^64 / d⌉` gives `⌊x / d⌋` exactly while `x × (m × d − 2^64) < 2^64`. In shift's
/// power of two `x < 2^(SUB_BITS + 1) × d`, and `m × d − 2^64 < d`, so `d ≤ 2^26.5` suffices:
/// shifts up to 16 (`d = 65,536,000`).
#[derive(Clone, Copy)]
struct Reciprocal(u64);

impl Reciprocal {
    const fn of(divisor: u64) -> Self {
        Reciprocal(((1u128 << 64).div_ceil(divisor as u128)) as u64)
    }

    #[inline(always)]
    fn divide(self, x: u64) -> usize {
        ((x as u128 * self.0 as u128) >> 64) as usize
    }
}

/// `Reciprocal` of `1,000 × 2^shift` by shift (0 is never a wide bucket's).
const RECIPROCALS: [Reciprocal; FAST_SHIFT_MAX as usize + 1] = {
    let mut table = [Reciprocal(0); FAST_SHIFT_MAX as usize + 1];
    let mut shift = 1;
    while shift <= FAST_SHIFT_MAX {
        table[shift as usize] = Reciprocal::of(NS_PER_US << shift);
        shift += 1;
    }
    table
};

/// The smallest value that maps to `index`, and the width of its bucket.
fn bucket_of(index: usize) -> (u64, u64) {
    if index < 2 * SUB {
        (index as u64, 1)
    } else {
        let shift = (index >> SUB_BITS) as u32 - 1;
        let mantissa = (index - ((shift as usize) << SUB_BITS)) as u64;
        (mantissa << shift, 1 << shift)
    }
}

/// The value a sample in bucket `index` stands for: the middle of the bucket.
fn representative(index: usize) -> u64 {
    let (low, width) = bucket_of(index);
    low + (width - 1) / 2
}

/// Latency samples (µs) of the run, in the same buckets, added up from the intervals'. An
/// `hdrhistogram` is made of them only when the run's quantiles are asked for: adding each
/// interval's buckets into one at every sample took 5 % of bench-steady's time.
pub struct RunLatency {
    counts: Vec<u64>,
    lowest: usize,
    highest: usize,
}

impl Default for RunLatency {
    fn default() -> Self {
        RunLatency { counts: vec![0; BUCKETS], lowest: usize::MAX, highest: 0 }
    }
}

impl RunLatency {
    /// The samples as an `hdrhistogram` (3 significant digits, up to 2^42 µs), each at its
    /// bucket's representative value.
    pub fn histogram(&self) -> Histogram<u64> {
        let mut histogram = Histogram::new_with_bounds(1, 1 << 42, 3).expect("static histogram bounds");
        for i in self.lowest..=self.highest {
            if self.counts[i] > 0 {
                histogram.saturating_record_n(representative(i), self.counts[i]);
            }
        }
        histogram
    }
}

/// Latency samples (µs) of the current interval.
pub struct IntervalLatency {
    counts: Box<[u32; COUNTS]>,
    lowest: usize,
    highest: usize,
    total: u64,
}

impl Default for IntervalLatency {
    fn default() -> Self {
        let counts = vec![0; COUNTS]
            .into_boxed_slice()
            .try_into()
            .unwrap_or_else(|_| unreachable!("a vector of COUNTS is an array of COUNTS"));
        IntervalLatency { counts, lowest: usize::MAX, highest: 0, total: 0 }
    }
}

impl IntervalLatency {
    #[inline]
    pub fn record(&mut self, value_us: u64) {
        let i = index_of(value_us);
        self.counts[i & (COUNTS - 1)] += 1;
        self.lowest = self.lowest.min(i);
        self.highest = self.highest.max(i);
        self.total += 1;
    }

    /// Values that do not increase (records committed together, oldest first), from
    /// `longest_us` to `shortest_us`: those two bound the buckets touched, and when both are in
    /// buckets wider than 1, so is every value, which then takes no clamp and no branch.
    /// (`record_committed`'s way for short runs, for latencies under 2 ms and for those past
    /// `MAX_VALUE`.)
    #[inline]
    fn record_nonincreasing(
        &mut self,
        longest_us: u64,
        shortest_us: u64,
        values_us: impl ExactSizeIterator<Item = u64>,
    ) {
        debug_assert!(shortest_us <= longest_us, "latencies increased");
        let n = values_us.len();
        let counts = &mut *self.counts;
        if (2 * SUB as u64..=MAX_VALUE).contains(&shortest_us) && longest_us <= MAX_VALUE {
            values_us.for_each(|v| counts[index_of_wide(v) & (COUNTS - 1)] += 1);
        } else {
            values_us.for_each(|v| counts[index_of(v) & (COUNTS - 1)] += 1);
        }
        self.highest = self.highest.max(index_of(longest_us));
        self.lowest = self.lowest.min(index_of(shortest_us));
        self.total += n as u64;
    }

    /// The latencies of records committed together at `now_ns`, oldest first (so their
    /// latencies do not increase), `arrival_ns` giving each one's arrival instant. A run that
    /// spans several powers of two is cut where each starts (latencies are monotone, so a
    /// binary search finds it). In a piece whose latencies are at most `FAST_SHIFT_MAX`'s
    /// range, a record's bucket is one multiplication from its latency in ns (`Reciprocal`),
    /// not a division by 1,000, a bit scan and two shifts (those were a fifth of
    /// bench-steady's instructions).
    #[inline(always)]
    pub fn record_committed<T>(&mut self, now_ns: SimTime, run: &[T], arrival_ns: impl Fn(&T) -> SimTime) {
        let (Some(oldest), Some(newest)) = (run.first(), run.last()) else { return };
        let longest_us = (now_ns - arrival_ns(oldest)) / NS_PER_US;
        let shortest_us = (now_ns - arrival_ns(newest)) / NS_PER_US;
        if run.len() < SHORT_RUN || !(2 * SUB as u64..=MAX_VALUE).contains(&shortest_us) || longest_us > MAX_VALUE {
            let values_us = run.iter().map(|r| (now_ns - arrival_ns(r)) / NS_PER_US);
            return self.record_nonincreasing(longest_us, shortest_us, values_us);
        }
        let counts = &mut *self.counts;
        let (lowest_shift, highest_shift) = (shift_of(shortest_us), shift_of(longest_us));
        let mut rest = run;
        for shift in (lowest_shift..=highest_shift).rev() {
            // The records whose latency is in `shift`'s power of two, or above it (done
            // already); all that are left, in the lowest.
            let floor_ns = NS_PER_US << (shift + SUB_BITS);
            let len = if shift == lowest_shift {
                rest.len()
            } else {
                rest.partition_point(|r| now_ns - arrival_ns(r) >= floor_ns)
            };
            let (piece, after) = rest.split_at(len);
            if shift <= FAST_SHIFT_MAX {
                let (base, reciprocal) = ((shift as usize) << SUB_BITS, RECIPROCALS[shift as usize]);
                for r in piece {
                    counts[(base + reciprocal.divide(now_ns - arrival_ns(r))) & (COUNTS - 1)] += 1;
                }
            } else {
                for r in piece {
                    counts[index_of_wide((now_ns - arrival_ns(r)) / NS_PER_US) & (COUNTS - 1)] += 1;
                }
            }
            rest = after;
        }
        debug_assert!(rest.is_empty(), "a latency below the run's shortest");
        self.highest = self.highest.max(index_of(longest_us));
        self.lowest = self.lowest.min(index_of(shortest_us));
        self.total += run.len() as u64;
    }

    /// The interval's quantiles (µs), then moves its samples into `into` and starts afresh.
    pub fn drain(&mut self, quantiles: &[f64], into: &mut RunLatency) -> Option<Vec<u64>> {
        if self.total == 0 {
            return None;
        }
        let (low, high) = (self.lowest, self.highest);
        let counts = &mut self.counts[low..=high];
        // The first bucket whose running total reaches each quantile's rank: a scan per
        // quantile, then the counts moved in one pass (simple loops, not a branchy one).
        let found = quantiles
            .iter()
            .map(|q| {
                let rank = ((q * self.total as f64).ceil() as u64).max(1);
                let mut seen = 0;
                let at = counts.iter().position(|&count| {
                    seen += u64::from(count);
                    seen >= rank
                });
                representative(low + at.expect("the ranks are at most the total"))
            })
            .collect();
        for (total, count) in into.counts[low..=high].iter_mut().zip(counts.iter()) {
            *total += u64::from(*count);
        }
        counts.fill(0);
        into.lowest = into.lowest.min(self.lowest);
        into.highest = into.highest.max(self.highest);
        // The counts are all 0 again, and kept (`Default` would allocate another array).
        (self.lowest, self.highest, self.total) = (usize::MAX, 0, 0);
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_values_contiguously_with_bounded_error() {
        for v in (0..5_000u64).chain((1..42).map(|k| (1u64 << k) + 1)).chain([123_456_789, MAX_VALUE]) {
            let i = index_of(v);
            let (low, width) = bucket_of(i);
            assert!(low <= v && v < low + width, "value {v} index {i} bucket {low}+{width}");
            assert!(width == 1 || (width as f64) / (low as f64) <= 1.0 / SUB as f64 + 1e-12);
        }
        for v in 1..100_000u64 {
            let step = index_of(v) - index_of(v - 1);
            assert!(step <= 1, "indices jump at {v}");
        }
        assert!(index_of(MAX_VALUE) < BUCKETS);
    }

    #[test]
    fn reciprocals_divide_exactly_over_their_power_of_two() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for shift in 1..=FAST_SHIFT_MAX {
            let d = NS_PER_US << shift;
            // Latencies in ns whose µs are in `shift`'s power of two: [low, high).
            let (low, high) = (NS_PER_US << (shift + SUB_BITS), NS_PER_US << (shift + SUB_BITS + 1));
            let edges = (0..4096).map(|k| low + k).chain((1..=4096).map(|k| high - k));
            let multiples = (low / d..high / d).flat_map(|q| [q * d - 1, q * d, q * d + 1]);
            let random = (0..20_000).map(|_| rng.random_range(low..high));
            for x in edges.chain(multiples).chain(random).filter(|x| (low..high).contains(x)) {
                let expected = index_of_wide(x / NS_PER_US);
                assert_eq!(
                    ((shift as usize) << SUB_BITS) + RECIPROCALS[shift as usize].divide(x),
                    expected,
                    "x {x} ns"
                );
            }
        }
    }

    #[test]
    fn a_committed_run_counts_as_its_records_one_by_one() {
        // Committed 58 days in, so that 20 records can be older than `MAX_VALUE` µs; then
        // records 3.7 ms apart over the last 300 s, up to the commit itself. Cut into three
        // parts: past `MAX_VALUE` (clamped), from 300 s down to 2.048 ms (every fast shift and
        // two beyond them: one run of the whole part cuts it at every power), and under 2.048
        // ms (buckets of one µs); then each part into runs of several lengths.
        let now_ns: u64 = 5_000_000_000_000_000;
        let far = (0..20u64).map(|k| k * 100_000_000_000_000);
        let arrivals: Vec<u64> = far.chain((0..=81_000u64).rev().map(|k| now_ns - k * 3_700_017)).collect();
        assert!((now_ns - arrivals[0]) / NS_PER_US > MAX_VALUE && (now_ns - arrivals[19]) / NS_PER_US <= MAX_VALUE);
        let narrow = arrivals.partition_point(|a| now_ns - a >= NS_PER_US * 2 * SUB as u64);
        let parts = [&arrivals[..20], &arrivals[20..narrow], &arrivals[narrow..]];
        for cut in [1, 7, 16, 1000, 5000, 100_000] {
            let (mut whole, mut single) = (IntervalLatency::default(), IntervalLatency::default());
            for run in parts.iter().flat_map(|part| part.chunks(cut)) {
                whole.record_committed(now_ns, run, |a| *a);
                run.iter().for_each(|a| single.record((now_ns - a) / NS_PER_US));
            }
            assert_eq!(whole.counts[..], single.counts[..], "runs of {cut}");
            assert_eq!((whole.lowest, whole.highest, whole.total), (single.lowest, single.highest, single.total));
        }
    }

    #[test]
    fn quantiles_of_a_known_interval() {
        let mut l = IntervalLatency::default();
        for v in 1..=1000 {
            l.record(v * 1000);
        }
        let mut run = RunLatency::default();
        let q = l.drain(&[0.5, 0.99], &mut run).unwrap();
        assert!((q[0] as f64 - 500_000.0).abs() / 500_000.0 < 0.002, "{q:?}");
        assert!((q[1] as f64 - 990_000.0).abs() / 990_000.0 < 0.002, "{q:?}");
        assert_eq!(run.histogram().len(), 1000);
        assert!(l.drain(&[0.5], &mut run).is_none());
    }
}
