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

fn index_of(value: u64) -> usize {
    let v = value.min(MAX_VALUE);
    if v < 2 * SUB as u64 {
        v as usize
    } else {
        let shift = 63 - v.leading_zeros() - SUB_BITS;
        ((shift as usize) << SUB_BITS) + (v >> shift) as usize
    }
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

/// Latency samples (µs) of the current interval.
pub struct IntervalLatency {
    counts: Vec<u32>,
    lowest: usize,
    highest: usize,
    total: u64,
}

impl Default for IntervalLatency {
    fn default() -> Self {
        IntervalLatency { counts: vec![0; BUCKETS], lowest: usize::MAX, highest: 0, total: 0 }
    }
}

impl IntervalLatency {
    #[inline]
    pub fn record(&mut self, value_us: u64) {
        let i = index_of(value_us);
        self.counts[i] += 1;
        self.lowest = self.lowest.min(i);
        self.highest = self.highest.max(i);
        self.total += 1;
    }

    /// Values that do not increase (records committed together, oldest first), `first_us`
    /// then `rest_us`: the first and the last bound the buckets touched.
    #[inline]
    pub fn record_nonincreasing(&mut self, first_us: u64, rest_us: impl ExactSizeIterator<Item = u64>) {
        let n = 1 + rest_us.len();
        let first = index_of(first_us);
        self.counts[first] += 1;
        let mut last = first;
        for value in rest_us {
            let i = index_of(value);
            self.counts[i] += 1;
            debug_assert!(i <= last, "latencies increased");
            last = i;
        }
        self.highest = self.highest.max(first);
        self.lowest = self.lowest.min(last);
        self.total += n as u64;
    }

    /// The interval's quantiles (µs), then moves its samples into `into` and starts afresh.
    pub fn drain(&mut self, quantiles: &[f64], into: &mut Histogram<u64>) -> Option<Vec<u64>> {
        if self.total == 0 {
            return None;
        }
        let targets: Vec<u64> = quantiles.iter().map(|q| ((q * self.total as f64).ceil() as u64).max(1)).collect();
        let mut found = vec![0; quantiles.len()];
        let mut seen = 0;
        for i in self.lowest..=self.highest {
            let count = std::mem::take(&mut self.counts[i]);
            if count == 0 {
                continue;
            }
            let (low, width) = bucket_of(i);
            let representative = low + (width - 1) / 2;
            for (target, value) in targets.iter().zip(found.iter_mut()) {
                if seen < *target && seen + count as u64 >= *target {
                    *value = representative;
                }
            }
            seen += count as u64;
            into.saturating_record_n(representative, count as u64);
        }
        *self = IntervalLatency { counts: std::mem::take(&mut self.counts), ..Default::default() };
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
        let mut h = Histogram::new_with_bounds(1, 1 << 42, 3).unwrap();
        let q = l.drain(&[0.5, 0.99], &mut h).unwrap();
        assert!((q[0] as f64 - 500_000.0).abs() / 500_000.0 < 0.002, "{q:?}");
        assert!((q[1] as f64 - 990_000.0).abs() / 990_000.0 < 0.002, "{q:?}");
        assert_eq!(h.len(), 1000);
        assert!(l.drain(&[0.5], &mut h).is_none());
    }
}
