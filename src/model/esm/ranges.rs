//! A small set of offsets kept as sorted, disjoint half-open ranges. Used only on failure paths
//! (records processed without error in a failed attempt, records resolved ahead of the commit),
//! so it stays tiny.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeSet {
    ranges: Vec<(u64, u64)>,
}

impl RangeSet {
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Adds offsets `start..end`.
    pub fn insert(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let first = self.ranges.partition_point(|&(_, e)| e < start);
        let last = self.ranges.partition_point(|&(s, _)| s <= end);
        let (mut s, mut e) = (start, end);
        if first < last {
            s = s.min(self.ranges[first].0);
            e = e.max(self.ranges[last - 1].1);
        }
        self.ranges.splice(first..last, [(s, e)]);
    }

    pub fn contains(&self, offset: u64) -> bool {
        let i = self.ranges.partition_point(|&(_, e)| e <= offset);
        self.ranges.get(i).is_some_and(|&(s, _)| s <= offset)
    }

    /// If `offset` is in the set, the end of the run of offsets in the set that contains it.
    pub fn run_end_from(&self, offset: u64) -> Option<u64> {
        let i = self.ranges.partition_point(|&(_, e)| e <= offset);
        self.ranges.get(i).filter(|&&(s, _)| s <= offset).map(|&(_, e)| e)
    }

    /// How many offsets of `start..end` are in the set.
    pub fn count_within(&self, start: u64, end: u64) -> u64 {
        let from = self.ranges.partition_point(|&(_, e)| e <= start);
        self.ranges[from..]
            .iter()
            .take_while(|&&(s, _)| s < end)
            .map(|&(s, e)| e.min(end).saturating_sub(s.max(start)))
            .sum()
    }

    /// Forgets every offset below `offset`.
    pub fn remove_below(&mut self, offset: u64) {
        let keep = self.ranges.partition_point(|&(_, e)| e <= offset);
        self.ranges.drain(..keep);
        if let Some(first) = self.ranges.first_mut() {
            first.0 = first.0.max(offset);
        }
    }

    /// Splits `start..end` into maximal runs, each in or out of the set, in order.
    pub fn runs(&self, start: u64, end: u64) -> Vec<(u64, u64, bool)> {
        let mut out = Vec::new();
        let mut at = start;
        let from = self.ranges.partition_point(|&(_, e)| e <= start);
        for &(s, e) in self.ranges[from..].iter().take_while(|&&(s, _)| s < end) {
            if s > at {
                out.push((at, s, false));
            }
            let (a, b) = (s.max(at), e.min(end));
            out.push((a, b, true));
            at = b;
        }
        if at < end {
            out.push((at, end, false));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_counts_and_splits() {
        let mut r = RangeSet::default();
        r.insert(10, 20);
        r.insert(30, 40);
        r.insert(20, 25); // touches the first range
        r.insert(35, 50);
        assert_eq!(r.ranges, vec![(10, 25), (30, 50)]);
        assert!(r.contains(10) && r.contains(24) && !r.contains(25) && r.contains(49) && !r.contains(50));
        assert_eq!((r.run_end_from(12), r.run_end_from(25)), (Some(25), None));
        assert_eq!(r.count_within(0, 100), 35);
        assert_eq!(r.count_within(20, 35), 10);
        assert_eq!(r.runs(5, 32), vec![(5, 10, false), (10, 25, true), (25, 30, false), (30, 32, true)]);
        r.remove_below(33);
        assert_eq!(r.ranges, vec![(33, 50)]);
        r.insert(0, 100);
        assert_eq!(r.ranges, vec![(0, 100)]);
    }
}
