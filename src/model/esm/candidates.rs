//! A fetcher's candidate partitions (owned, no batch outstanding, records waiting), kept up to
//! date by events instead of found by visiting every owned partition at each plan.
//!
//! Partitions are named by their slot: their index in the fetcher's owned list, so that the set
//! iterates in the owned order a full scan would. The set (a bit per slot) is a superset: a partition is added
//! when it may have become a candidate (freed, first record in an empty log, ownership rebuilt)
//! and dropped lazily, at the next [`CandidateSet::refresh`], once it is not one.
//!
//! A combined batch starts reading at the `rotation`-th partition without a batch outstanding
//! (empty or not), so the set also keeps a bit per slot for those partitions ([`Bits`]): O(1)
//! per change, and the `r`-th of them found by a scan of the words up to it, once a batch.
//!
//! Producers generate ahead of the clock, so many candidates of a poller owning thousands of
//! partitions hold only records that have not arrived yet. A batch passes over them, and the
//! set remembers until when ([`Visit::NotBefore`]): a later batch passes over them again
//! without reading their logs, each a cache miss at that scale. The instant kept is a lower
//! bound of the arrival at the front of the slot's log for as long as the slot keeps its
//! partition: a log's front only moves to later records (records are appended in offset order,
//! which is arrival order, and leave from the front).

use super::bits::Bits;
use crate::engine::SimTime;

/// See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct CandidateSet {
    /// One bit per slot: set where the partition may be a candidate. A bit set costs O(1)
    /// per addition and a scan of owned / 64 words, far less than a look at every lane.
    maybe: Vec<u64>,
    /// Over slots: set where the partition has no batch outstanding.
    free: Bits,
    /// Per slot: no record of its log arrives before this instant (0 until a visit, or an
    /// addition with records, says).
    not_before_ns: Vec<SimTime>,
}

/// What a visit to a slot found (see [`CandidateSet::visit_from`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visit {
    /// Go on to the next slot.
    Next,
    /// Nothing of the slot's log arrives before this instant: go on, and pass over it until
    /// then.
    NotBefore(SimTime),
    /// Stop visiting.
    Stop,
}

impl CandidateSet {
    /// A set over `owned` slots, `busy(slot)` telling which hold a batch; no candidates yet.
    pub fn new(owned: usize, busy: impl Fn(usize) -> bool) -> Self {
        let mut free = Bits::default();
        free.rebuild((0..owned).map(|slot| !busy(slot)));
        CandidateSet { free, maybe: vec![0; owned.div_ceil(64)], not_before_ns: vec![0; owned] }
    }

    /// `slot` may have become a candidate.
    pub fn add(&mut self, slot: u32) {
        self.maybe[slot as usize / 64] |= 1 << (slot % 64);
    }

    /// `slot` may have become a candidate (its log's first record stored, its batch done), the
    /// record at its log's front arriving at `front_ns` (0 when empty). Visits before then pass
    /// over it without asking, as they would once a first visit had found nothing arrived
    /// (producers generate ahead of the clock: at 100,000 partitions most of those records are
    /// still to arrive).
    pub fn add_arriving(&mut self, slot: u32, front_ns: SimTime) {
        self.add(slot);
        let not_before_ns = &mut self.not_before_ns[slot as usize];
        *not_before_ns = (*not_before_ns).max(front_ns);
    }

    /// `slot`'s partition now holds a batch (`true`) or no longer does.
    pub fn set_busy(&mut self, slot: u32, busy: bool) {
        self.free.set(slot as usize, !busy);
    }

    /// Owned partitions without a batch outstanding.
    pub fn free_count(&self) -> u32 {
        self.free.count_ones() as u32
    }

    /// The slot of the `r`-th (from 0) owned partition without a batch outstanding; `r` must be
    /// below [`Self::free_count`].
    pub fn nth_free(&self, r: u32) -> u32 {
        self.free.nth_set(u64::from(r) + 1).expect("r is below the free count") as u32
    }

    /// The instant before which, as a visit or an addition with records said, nothing of
    /// `slot`'s log arrives (0 if none said).
    pub fn not_before_ns(&self, slot: u32) -> SimTime {
        self.not_before_ns[slot as usize]
    }

    /// Passes `visit` each slot that `keep` accepts, from `first` up, then from 0 up to it,
    /// until `visit` says [`Visit::Stop`]; forgets the slots `keep` rejects on the way. Slots
    /// an earlier visit said hold nothing arriving by `now` are passed over, asking neither.
    /// Costs the slots visited, not the whole set.
    pub fn visit_from(
        &mut self,
        first: u32,
        now: SimTime,
        mut keep: impl FnMut(u32) -> bool,
        mut visit: impl FnMut(u32) -> Visit,
    ) {
        let words = self.maybe.len();
        let (first_word, first_bit) = (first as usize / 64, first % 64);
        // The first word's bits from `first`, the words after it, the words before it, and the
        // first word's bits below `first`.
        let low_mask = if first_bit == 0 { 0 } else { u64::MAX >> (64 - first_bit) };
        let order = (first_word..words).chain(0..first_word).map(|w| (w, !0)).chain([(first_word, low_mask)]);
        for (k, (w, mask)) in order.enumerate() {
            let Some(word) = self.maybe.get_mut(w) else { continue };
            let mut bits = *word & if k == 0 { !low_mask } else { mask };
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                let slot = (w * 64) as u32 + bit;
                if self.not_before_ns[slot as usize] > now {
                    continue;
                }
                if !keep(slot) {
                    *word &= !(1 << bit);
                    continue;
                }
                match visit(slot) {
                    Visit::Next => {}
                    Visit::NotBefore(t) => self.not_before_ns[slot as usize] = t,
                    Visit::Stop => return,
                }
            }
        }
    }

    /// Passes `emit` each slot that `keep` accepts, ascending, and forgets those it rejects.
    pub fn refresh(&mut self, mut keep: impl FnMut(u32) -> bool, mut emit: impl FnMut(u32)) {
        for (w, word) in self.maybe.iter_mut().enumerate() {
            let mut bits = *word;
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                let slot = (w * 64) as u32 + bit;
                if keep(slot) {
                    emit(slot);
                } else {
                    *word &= !(1 << bit);
                }
            }
        }
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
    fn visits_from_a_slot_around_as_the_rotated_list() {
        // 200 slots, every third added; those divisible by 7 are rejected (and forgotten).
        for first in [0, 1, 63, 64, 65, 100, 127, 128, 199] {
            let mut set = CandidateSet::new(200, |_| false);
            (0..200).step_by(3).for_each(|s| set.add(s));
            let kept: Vec<u32> = (0..200).step_by(3).filter(|s| s % 7 != 0).collect();
            let start = kept.partition_point(|&s| s < first);
            let expected: Vec<u32> = kept[start..].iter().chain(&kept[..start]).copied().collect();
            let mut got = Vec::new();
            set.visit_from(
                first,
                0,
                |s| s % 7 != 0,
                |s| {
                    got.push(s);
                    Visit::Next
                },
            );
            assert_eq!(got, expected, "from {first}");
            // Stopping early; the rejected slots are gone for the next pass.
            let mut two = Vec::new();
            set.visit_from(
                first,
                0,
                |_| true,
                |s| {
                    two.push(s);
                    if two.len() < 2 { Visit::Next } else { Visit::Stop }
                },
            );
            assert_eq!(two, expected[..2]);
        }
    }

    #[test]
    fn passes_over_slots_until_their_records_arrive() {
        // Slots 0..10; slot 3 holds nothing arriving before 50, slot 6 nothing before 80.
        let mut set = CandidateSet::new(10, |_| false);
        (0..10).for_each(|s| set.add(s));
        let pass = |set: &mut CandidateSet, now: SimTime| {
            let (mut asked, mut visited) = (Vec::new(), Vec::new());
            set.visit_from(
                0,
                now,
                |s| {
                    asked.push(s);
                    true
                },
                |s| {
                    visited.push(s);
                    match s {
                        3 if now < 50 => Visit::NotBefore(50),
                        6 if now < 80 => Visit::NotBefore(80),
                        _ => Visit::Next,
                    }
                },
            );
            assert_eq!(asked, visited, "at {now}");
            visited
        };
        let all: Vec<u32> = (0..10).collect();
        assert_eq!(pass(&mut set, 10), all);
        let without = |skipped: &[u32]| all.iter().copied().filter(|s| !skipped.contains(s)).collect::<Vec<_>>();
        assert_eq!(pass(&mut set, 20), without(&[3, 6]));
        assert_eq!(pass(&mut set, 49), without(&[3, 6]));
        assert_eq!(pass(&mut set, 50), without(&[6]), "3's records have arrived");
        assert_eq!(pass(&mut set, 80), all);
        // Added with its front's arrival known (first records stored ahead of the clock, or a
        // batch done): passed over from the start, no first visit needed, and the instant kept
        // never goes back (slot 6 with records from 120, then told 100).
        set.add_arriving(6, 120);
        set.add_arriving(6, 100);
        set.add_arriving(8, 0);
        assert_eq!(pass(&mut set, 90), without(&[6]));
        assert_eq!(pass(&mut set, 119), without(&[6]));
        assert_eq!(pass(&mut set, 120), all);
    }

    #[test]
    fn refresh_merges_additions_in_order_and_drops_rejected_slots() {
        let mut set = CandidateSet::new(100, |_| false);
        let refresh = |set: &mut CandidateSet, reject: u32| {
            let mut out = Vec::new();
            set.refresh(|s| s != reject, |s| out.push(s));
            out
        };
        for s in [70, 2, 70, 5] {
            set.add(s);
        }
        assert_eq!(refresh(&mut set, 999), [2, 5, 70]);
        set.add(5);
        set.add(3);
        // 70 is no longer a candidate; 5 added again appears once.
        assert_eq!(refresh(&mut set, 70), [2, 3, 5]);
        assert_eq!(refresh(&mut set, 999), [2, 3, 5]);
    }
}
