//! A fetcher's candidate partitions (owned, no batch outstanding, records waiting), kept up to
//! date by events instead of found by visiting every owned partition at each plan.
//!
//! Partitions are named by their slot: their index in the fetcher's owned list, so that the set
//! iterates in the owned order a full scan would. The set is a superset: a partition is added
//! when it may have become a candidate (freed, first record in an empty log, ownership rebuilt)
//! and dropped lazily, at the next [`CandidateSet::refresh`], once it is not one.
//!
//! A combined batch starts reading at the `rotation`-th partition without a batch outstanding
//! (empty or not), so the set also counts those partitions per slot, in a Fenwick tree that
//! finds the `r`-th of them in O(log owned).

/// See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct CandidateSet {
    /// Slots that may be candidates, ascending and without repeats.
    slots: Vec<u32>,
    /// Slots added since the last refresh (unsorted, may repeat).
    added: Vec<u32>,
    /// Scratch space for the merge.
    merged: Vec<u32>,
    /// Fenwick tree (1-based) over slots: 1 where the partition has no batch outstanding.
    free: Vec<u32>,
}

impl CandidateSet {
    /// A set over `owned` slots, `busy(slot)` telling which hold a batch; no candidates yet.
    pub fn new(owned: usize, busy: impl Fn(usize) -> bool) -> Self {
        let mut free = vec![0; owned + 1];
        for i in 1..=owned {
            free[i] += u32::from(!busy(i - 1));
            let parent = i + (i & i.wrapping_neg());
            if parent <= owned {
                free[parent] += free[i];
            }
        }
        CandidateSet { free, ..Default::default() }
    }

    /// `slot` may have become a candidate.
    pub fn add(&mut self, slot: u32) {
        self.added.push(slot);
    }

    /// `slot`'s partition now holds a batch (`true`) or no longer does.
    pub fn set_busy(&mut self, slot: u32, busy: bool) {
        let mut i = slot as usize + 1;
        while i < self.free.len() {
            if busy {
                self.free[i] -= 1;
            } else {
                self.free[i] += 1;
            }
            i += i & i.wrapping_neg();
        }
    }

    /// Owned partitions without a batch outstanding.
    pub fn free_count(&self) -> u32 {
        let mut i = self.free.len() - 1;
        let mut sum = 0;
        while i > 0 {
            sum += self.free[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }

    /// The slot of the `r`-th (from 0) owned partition without a batch outstanding; `r` must be
    /// below [`Self::free_count`].
    pub fn nth_free(&self, r: u32) -> u32 {
        let n = self.free.len() - 1;
        let (mut pos, mut rem) = (0, r + 1);
        let mut step = if n == 0 { 0 } else { 1 << n.ilog2() };
        while step > 0 {
            if pos + step <= n && self.free[pos + step] < rem {
                pos += step;
                rem -= self.free[pos];
            }
            step >>= 1;
        }
        pos as u32
    }

    /// Folds in the slots added and drops those `keep` rejects; returns the set, ascending.
    pub fn refresh(&mut self, mut keep: impl FnMut(u32) -> bool) -> &[u32] {
        if !self.added.is_empty() {
            self.added.sort_unstable();
            let mut merged = std::mem::take(&mut self.merged);
            merged.clear();
            let (mut a, mut b) = (self.slots.iter().copied().peekable(), self.added.iter().copied().peekable());
            loop {
                let next = match (a.peek(), b.peek()) {
                    (Some(&x), Some(&y)) if x <= y => a.next(),
                    (_, Some(_)) => b.next(),
                    (Some(_), None) => a.next(),
                    (None, None) => break,
                };
                let s = next.expect("peeked");
                if merged.last() != Some(&s) {
                    merged.push(s);
                }
            }
            self.merged = std::mem::replace(&mut self.slots, merged);
            self.added.clear();
        }
        self.slots.retain(|&s| keep(s));
        &self.slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rth_free_slot() {
        // Seven slots, 1 and 4 busy: free are 0, 2, 3, 5, 6.
        let mut set = CandidateSet::new(7, |s| s == 1 || s == 4);
        assert_eq!(set.free_count(), 5);
        let nth: Vec<u32> = (0..5).map(|r| set.nth_free(r)).collect();
        assert_eq!(nth, [0, 2, 3, 5, 6]);
        // 0 becomes busy, 4 free: free are 2, 3, 4, 5, 6.
        set.set_busy(0, true);
        set.set_busy(4, false);
        let nth: Vec<u32> = (0..5).map(|r| set.nth_free(r)).collect();
        assert_eq!(nth, [2, 3, 4, 5, 6]);
        assert_eq!(set.free_count(), 5);
    }

    #[test]
    fn refresh_merges_additions_in_order_and_drops_rejected_slots() {
        let mut set = CandidateSet::new(10, |_| false);
        for s in [7, 2, 7, 5] {
            set.add(s);
        }
        assert_eq!(set.refresh(|_| true), [2, 5, 7]);
        set.add(5);
        set.add(3);
        // 7 is no longer a candidate; 5 added again appears once.
        assert_eq!(set.refresh(|s| s != 7), [2, 3, 5]);
        assert_eq!(set.refresh(|_| true), [2, 3, 5]);
    }
}
