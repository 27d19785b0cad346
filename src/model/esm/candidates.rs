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
//!
//! A set told to park (the simulation's choice: a fetcher of many partitions, while producers
//! draw seconds ahead) also parks those: a slot whose records arrive after the clock's current
//! span ([`PARK_SPAN_SHIFT`]) leaves the bits a batch reads, and a [`Calendar`] brings it back
//! at the span its front arrives in. A batch then costs the slots it reads and a word
//! per 64 slots, not a pass over every slot drawn ahead (at 100,000 partitions and 1,000
//! records/s, a third of each poller's 10,000).

use super::bits::Bits;
use crate::engine::{Calendar, SimTime};

/// A parked slot comes back at the span of 2^this nanoseconds (16.8 ms) its front arrives in:
/// short, since a batch passes over the slots whose front arrives later in the current span;
/// long enough that taking the empty spans costs little.
const PARK_SPAN_SHIFT: u32 = 24;

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
    /// Over slots, a subset of `maybe`: those a visit does not read, since nothing of their log
    /// arrives before a later span than the clock's; `parking` brings them back.
    parked: Vec<u64>,
    /// The parked slots by the span their `not_before_ns` falls in; a dropped slot stays
    /// listed until then, and a listing is read against `parked` and `not_before_ns` when it
    /// comes due. `None` in a set that does not park.
    parking: Option<Calendar>,
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
    /// It parks slots whose records arrive in a later span if `parks` (see the module
    /// documentation).
    pub fn new(owned: usize, busy: impl Fn(usize) -> bool, parks: bool) -> Self {
        let mut free = Bits::default();
        free.rebuild((0..owned).map(|slot| !busy(slot)));
        let words = owned.div_ceil(64);
        CandidateSet {
            free,
            maybe: vec![0; words],
            not_before_ns: vec![0; owned],
            parked: vec![0; words],
            parking: parks.then(|| Calendar::new(owned as u32)),
        }
    }

    /// `slot` may have become a candidate.
    pub fn add(&mut self, slot: u32) {
        self.maybe[slot as usize / 64] |= 1 << (slot % 64);
    }

    /// `slot` may have become a candidate (its log's first record stored, its batch done), the
    /// record at its log's front arriving at `front_ns` (0 when empty), the clock at `now`.
    /// Visits before then pass over it without asking, as they would once a first visit had
    /// found nothing arrived (producers generate ahead of the clock: at 100,000 partitions most
    /// of those records are still to arrive).
    #[inline]
    pub fn add_arriving(&mut self, slot: u32, front_ns: SimTime, now: SimTime) {
        self.add(slot);
        let not_before_ns = &mut self.not_before_ns[slot as usize];
        *not_before_ns = (*not_before_ns).max(front_ns);
        if self.parking.is_some() {
            self.park_arriving(slot, now);
        }
    }

    /// Parks `slot`, just added, once the calendar has brought back what is due by `now`.
    fn park_arriving(&mut self, slot: u32, now: SimTime) {
        self.unpark_due(now);
        self.park(slot);
    }

    /// Parks `slot` if nothing of its log arrives before a span later than the clock's.
    fn park(&mut self, slot: u32) {
        let Some(parking) = &mut self.parking else { return };
        let span = self.not_before_ns[slot as usize] >> PARK_SPAN_SHIFT;
        let (word, bit) = (slot as usize / 64, 1 << (slot % 64));
        if span >= parking.first() && self.parked[word] & bit == 0 {
            self.parked[word] |= bit;
            // Listed already (parked, then dropped), it comes due no later than its new span,
            // the instant kept only going forward, and is listed again then.
            parking.push(span, slot);
        }
    }

    /// Brings back the parked slots whose records arrive in the clock's span or before.
    #[inline]
    fn unpark_due(&mut self, now: SimTime) {
        let through = now >> PARK_SPAN_SHIFT;
        if self.parking.as_ref().is_some_and(|parking| parking.first() <= through) {
            self.unpark_through(through);
        }
    }

    fn unpark_through(&mut self, through: u64) {
        let Some(parking) = &mut self.parking else { return };
        while let Some(slot) = parking.pop_due(through) {
            let (word, bit) = (slot as usize / 64, 1 << (slot % 64));
            if self.parked[word] & bit == 0 {
                continue; // dropped since it was listed
            }
            let span = self.not_before_ns[slot as usize] >> PARK_SPAN_SHIFT;
            if span <= through {
                self.parked[word] &= !bit;
            } else {
                parking.push(span, slot);
            }
        }
    }

    /// Slots parked.
    #[cfg(test)]
    fn parked_count(&self) -> u32 {
        self.parked.iter().map(|w| w.count_ones()).sum()
    }

    /// Forgets `slot`: it is not a candidate.
    fn drop_slot(&mut self, slot: u32) {
        let (word, bit) = (slot as usize / 64, 1 << (slot % 64));
        self.maybe[word] &= !bit;
        self.parked[word] &= !bit;
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
        self.unpark_due(now);
        let words = self.maybe.len();
        let (first_word, first_bit) = (first as usize / 64, first % 64);
        // The first word's bits from `first`, the words after it, the words before it, and the
        // first word's bits below `first`.
        let low_mask = if first_bit == 0 { 0 } else { u64::MAX >> (64 - first_bit) };
        let order = (first_word..words).chain(0..first_word).map(|w| (w, !0)).chain([(first_word, low_mask)]);
        for (k, (w, mask)) in order.enumerate() {
            let Some(&word) = self.maybe.get(w) else { continue };
            let mut bits = word & !self.parked[w] & if k == 0 { !low_mask } else { mask };
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                let slot = (w * 64) as u32 + bit;
                if self.not_before_ns[slot as usize] > now {
                    continue;
                }
                if !keep(slot) {
                    self.drop_slot(slot);
                    continue;
                }
                match visit(slot) {
                    Visit::Next => {}
                    Visit::NotBefore(t) => {
                        self.not_before_ns[slot as usize] = t;
                        self.park(slot);
                    }
                    Visit::Stop => return,
                }
            }
        }
    }

    /// Passes `emit` each slot that `keep` accepts, ascending, parked or not, and forgets those
    /// it rejects; the clock is at `now`.
    pub fn refresh(&mut self, now: SimTime, mut keep: impl FnMut(u32) -> bool, mut emit: impl FnMut(u32)) {
        self.unpark_due(now);
        for w in 0..self.maybe.len() {
            let mut bits = self.maybe[w];
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                let slot = (w * 64) as u32 + bit;
                if keep(slot) {
                    emit(slot);
                } else {
                    self.drop_slot(slot);
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
        let mut set = CandidateSet::new(7, |s| s == 1 || s == 4, false);
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
            let mut set = CandidateSet::new(200, |_| false, false);
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
        let mut set = CandidateSet::new(10, |_| false, false);
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
        set.add_arriving(6, 120, 0);
        set.add_arriving(6, 100, 0);
        set.add_arriving(8, 0, 0);
        assert_eq!(pass(&mut set, 90), without(&[6]));
        assert_eq!(pass(&mut set, 119), without(&[6]));
        assert_eq!(pass(&mut set, 120), all);
    }

    #[test]
    fn refresh_merges_additions_in_order_and_drops_rejected_slots() {
        let mut set = CandidateSet::new(100, |_| false, false);
        let refresh = |set: &mut CandidateSet, reject: u32| {
            let mut out = Vec::new();
            set.refresh(0, |s| s != reject, |s| out.push(s));
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

    /// Spans of the parking calendar, in nanoseconds.
    fn spans(n: f64) -> SimTime {
        (n * (1u64 << PARK_SPAN_SHIFT) as f64) as SimTime
    }

    #[test]
    fn parked_slots_come_back_in_the_span_their_front_arrives_in() {
        // Slot 3's front arrives 2.5 spans on, slot 6's 4.2 spans on and
        // slot 9's within the clock's span (not parked, passed over until it arrives).
        let mut set = CandidateSet::new(600, |_| false, true);
        let fronts = [(3, spans(2.5)), (6, spans(4.2)), (9, spans(0.6)), (12, spans(0.0))];
        for (slot, front_ns) in fronts {
            set.add_arriving(slot, front_ns, spans(0.1));
        }
        let pass = |set: &mut CandidateSet, now: SimTime| {
            let mut visited = Vec::new();
            let keep = |_| true;
            set.visit_from(0, now, keep, |s| {
                visited.push(s);
                Visit::Next
            });
            visited
        };
        assert_eq!(pass(&mut set, spans(0.5)), [12]);
        assert_eq!(set.parked_count(), 2, "9 arrives in the clock's span");
        assert_eq!(pass(&mut set, spans(0.6)), [9, 12]);
        assert_eq!(pass(&mut set, spans(2.49)), [9, 12]);
        assert_eq!(set.parked_count(), 1, "3 is back in its span, not visited before its front");
        assert_eq!(pass(&mut set, spans(2.5)), [3, 9, 12]);
        // Slot 6's records are taken by a batch elsewhere, and its log gets a front 9.3 spans
        // on: the listing that comes due at 4 parks it again.
        set.add_arriving(6, spans(9.3), spans(3.0));
        assert_eq!(pass(&mut set, spans(5.0)), [3, 9, 12]);
        assert_eq!(set.parked_count(), 1);
        assert_eq!(pass(&mut set, spans(9.3)), [3, 6, 9, 12]);
        assert_eq!(set.parked_count(), 0);
        // A refresh lists parked slots too.
        set.add_arriving(20, spans(20.0), spans(9.3));
        let mut listed = Vec::new();
        set.refresh(spans(9.3), |_| true, |s| listed.push(s));
        assert_eq!(listed, [3, 6, 9, 12, 20]);
    }

    /// One step of the equivalence test below.
    #[derive(Clone, Debug)]
    enum Step {
        /// Records drawn for a slot, the first `ahead_ns` past the clock or its log's last.
        Append {
            slot: usize,
            ahead_ns: SimTime,
        },
        /// The clock moves on and a batch takes up to `take` slots from `pivot` on.
        Batch {
            pivot: usize,
            advance_ns: SimTime,
            take: usize,
        },
        /// A batch is done: the `pick`-th busy slot is freed, `taken` of its records gone.
        Free {
            pick: usize,
            taken: usize,
        },
        /// Retention deletes up to `deleted` records from the front of a slot's log, telling
        /// nobody.
        Expire {
            slot: usize,
            deleted: usize,
        },
        Refresh,
    }

    /// Partition logs (arrival instants) and busy flags, as the simulation keeps them.
    #[derive(Clone, Debug, PartialEq)]
    struct Logs {
        now: SimTime,
        logs: Vec<std::collections::VecDeque<SimTime>>,
        busy: Vec<bool>,
    }

    impl Logs {
        /// A batch from `pivot`: the slots visited, in order.
        fn batch(&mut self, set: &mut CandidateSet, pivot: u32, take: usize) -> Vec<u32> {
            let mut visited = Vec::new();
            let (now, logs, busy) = (self.now, &self.logs, &mut self.busy);
            let keep = |s: u32| !busy[s as usize] && !logs[s as usize].is_empty();
            let mut taken = Vec::new();
            set.visit_from(pivot, now, keep, |s| {
                visited.push(s);
                match logs[s as usize].front() {
                    Some(&front_ns) if front_ns > now => Visit::NotBefore(front_ns),
                    _ => {
                        taken.push(s);
                        if taken.len() < take { Visit::Next } else { Visit::Stop }
                    }
                }
            });
            for s in taken {
                busy[s as usize] = true;
                set.set_busy(s, true);
            }
            visited
        }
    }

    fn step_strategy(slots: usize) -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        let span = 1u64 << PARK_SPAN_SHIFT;
        prop_oneof![
            4 => (0..slots, 0..20 * span).prop_map(|(slot, ahead_ns)| Step::Append { slot, ahead_ns }),
            2 => (0..slots, 0..3 * span, 1..40usize)
                .prop_map(|(pivot, advance_ns, take)| Step::Batch { pivot, advance_ns, take }),
            2 => (0..slots, 0..4usize).prop_map(|(pick, taken)| Step::Free { pick, taken }),
            1 => (0..slots, 1..4usize).prop_map(|(slot, deleted)| Step::Expire { slot, deleted }),
            1 => Just(Step::Refresh),
        ]
    }

    proptest::proptest! {
        /// Parking changes nothing a batch or a refresh sees: the same slots asked, in the same
        /// order, as the set that passes over slots one by one.
        #[test]
        fn parking_visits_what_passing_over_visits(steps in proptest::collection::vec(step_strategy(600), 1..400)) {
            let slots = 600;
            let mut parking = CandidateSet::new(slots, |_| false, true);
            let mut passing = CandidateSet::new(slots, |_| false, false);
            let mut world = Logs { now: 0, logs: vec![Default::default(); slots], busy: vec![false; slots] };
            for step in steps {
                match step {
                    Step::Append { slot, ahead_ns } => {
                        let log = &mut world.logs[slot];
                        let t = log.back().copied().unwrap_or(0).max(world.now) + ahead_ns;
                        log.push_back(t);
                        if log.len() == 1 {
                            parking.add_arriving(slot as u32, t, world.now);
                            passing.add_arriving(slot as u32, t, world.now);
                        }
                    }
                    Step::Batch { pivot, advance_ns, take } => {
                        world.now += advance_ns;
                        let mut other = world.clone();
                        let visited = world.batch(&mut parking, pivot as u32, take);
                        proptest::prop_assert_eq!(visited, other.batch(&mut passing, pivot as u32, take));
                        proptest::prop_assert_eq!(&world, &other);
                    }
                    Step::Free { pick, taken } => {
                        let busy: Vec<usize> = (0..slots).filter(|&s| world.busy[s]).collect();
                        let Some(&slot) = busy.get(pick % busy.len().max(1)) else { continue };
                        world.busy[slot] = false;
                        let log = &mut world.logs[slot];
                        log.drain(..taken.min(log.len()));
                        let front_ns = log.front().copied().unwrap_or(0);
                        for set in [&mut parking, &mut passing] {
                            set.set_busy(slot as u32, false);
                            set.add_arriving(slot as u32, front_ns, world.now);
                        }
                    }
                    Step::Expire { slot, deleted } => {
                        let log = &mut world.logs[slot];
                        log.drain(..deleted.min(log.len()));
                    }
                    Step::Refresh => {
                        let keep = |s: u32| !world.busy[s as usize] && !world.logs[s as usize].is_empty();
                        let (mut a, mut b) = (Vec::new(), Vec::new());
                        parking.refresh(world.now, keep, |s| a.push(s));
                        passing.refresh(world.now, keep, |s| b.push(s));
                        proptest::prop_assert_eq!(a, b);
                    }
                }
            }
        }
    }
}
