//! Latency recording. Every committed record adds one sample, so recording must be a few
//! instructions: samples go into a flat log-linear count array for the current sample interval,
//! which is drained into an `hdrhistogram` (the run's percentiles) at each sample instant.

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
    let shift = 63 - v.leading_zeros() - SUB_BITS;
    ((shift as usize) << SUB_BITS) + (v >> shift) as usize
}

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
    /// buckets wider than 1, so is every value, which then takes no clamp and no branch (a
    /// fifth of bench-steady's time is spent here).
    #[inline]
    pub fn record_nonincreasing(
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
