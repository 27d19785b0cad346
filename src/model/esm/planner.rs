//! Incremental planning for a fetcher that combines partitions (a poller): the same answer as
//! [`batcher::plan`], at the cost of what changed since the fetcher's last plan.
//!
//! `batcher::plan` searches the candidates' logs from scratch, about a microsecond per owned
//! partition, and a poller re-plans several times per batch. Its answer is two searches over the
//! candidates' records in arrival order: the first matched record opens the window, and the
//! batch triggers at the first record whose prefix reaches `batch_size` matched records or
//! exceeds the payload budget (records arriving at the same instant may come in any order: the
//! prefix before the first of them does not trigger, the prefix through all of them does).
//!
//! The planner numbers the owned partitions' records in arrival order, busy or not, only as far
//! as a plan needs (the frontier). Records already in the logs when it (re)starts are merged by a
//! heap; records appended later arrive after all of those, in append order, so a queue of their
//! partitions numbers them without a heap. A bit per number tells whether the record is matched
//! while its partition is a candidate (no batch outstanding; 0 while a batch holds it), and a
//! Fenwick tree over the numbers holds its payload likewise: a change costs O(1) (O(log n) in the
//! payload's tree), a search the words up to its answer (O(log n) in the tree). Every change
//! costs what it touches: a partition that becomes busy or free moves its numbered records out
//! of the sums or back; records that leave a log's front leave the sums; an appended record is
//! queued.
//!
//! With per-partition streams, a chunk of arrivals is appended partition by partition, not in
//! arrival order across them ([`Appends::ByPartition`]): the planner collects the chunk's
//! records and, once the chunk is in, sorts them by arrival into the queue
//! ([`Planner::chunk_appended`]). A chunk's records all arrive after every record of the chunks
//! before, so the queue stays in arrival order; records stored late (deferred arrivals) make the
//! planner stale, and it starts over at its next plan. Sorting a chunk costs less than merging
//! it record by record through the heap (a pop and a push among a thousand partitions each).
//!
//! Invariant: every record of an owned partition that arrived before the last numbered one is
//! numbered, so a prefix of the numbers is a prefix of the merge.

use super::batcher::{BatchRules, Plan};
use super::bits::Bits;
use super::fenwick::Fenwick;
use crate::engine::{SimTime, prefetch, prefetch_value};
use crate::model::topic::Partition;
use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::{BinaryHeap, VecDeque};

/// No number: the end of a partition's list.
const NONE: u32 = u32::MAX;

/// Bits of a slot in a chunk's packed words (below the arrival's, which alone is sorted on): a
/// fetcher owns up to 16 M partitions, or its chunks are sorted as pairs.
const SLOT_BITS: u32 = 24;

/// How records are appended to the owned partitions' logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appends {
    /// One by one in arrival order across partitions: queued, no heap.
    InArrivalOrder,
    /// A run per partition (per-partition streams): collected, then queued in arrival order
    /// once the chunk is in.
    ByPartition,
}

/// A record the merge has numbered.
#[derive(Clone, Copy, Debug)]
struct Numbered {
    arrival_ns: SimTime,
    payload_bytes: u64,
    matched: bool,
    /// Still in its log (numbers of removed records are dropped when the numbers are compacted).
    live: bool,
    /// The next numbered record of the same partition (`NONE` after its last).
    next: u32,
}

/// What the planner knows of one owned partition (by slot: its index in the owned list).
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Offset of the first numbered record still in the log (`head`'s), and the next offset to
    /// number: records `front..numbered_end` are numbered, linked from `head` to `tail`.
    front: u64,
    numbered_end: u64,
    head: u32,
    tail: u32,
    /// The log's end when the planner (re)started: records before it are merged by the heap,
    /// later ones are in the queue of appended records.
    old_end: u64,
    /// With appends `ByPartition`, the log's end as last told: later records are the next
    /// run to collect.
    told_end: u64,
    /// Queued appended records of this partition removed before they were numbered: the next
    /// `skip` of its queue entries stand for nothing.
    skip: u32,
    /// A batch holds the partition: its records count for nothing.
    busy: bool,
    /// The log's matched records and payload bytes, numbered or not, as last told.
    log_totals: (u64, u64),
}

/// How far ahead in the queue of appended records numbering prefetches the record, and (twice
/// as far) the slot and the partition's header.
const NUMBER_PREFETCH_AHEAD: usize = 8;

/// A fetcher's planning state (see the module documentation).
#[derive(Clone, Debug)]
pub struct Planner {
    slots: Vec<Slot>,
    /// Records in arrival order, by number.
    numbered: Vec<Numbered>,
    /// Per number, whether the record is matched (a bit) and its payload bytes, 0 while its
    /// partition is busy. The payload's are kept only once the candidates' payload exceeds the
    /// budget (usually the count triggers first), from the first plan that sees it so.
    matched: Bits,
    payload: Option<Fenwick>,
    /// The candidates' numbered payload bytes (their matched records are `matched`'s ones).
    payload_total: u64,
    /// Numbered records still in their logs.
    live: usize,
    /// Matched records and payload bytes in the candidates' logs, numbered or not: when they
    /// cannot trigger a flush, no plan needs to number further.
    candidate_totals: (u64, u64),
    /// The merge of the records in the logs at the (re)start: per partition with some not
    /// numbered yet, (a lower bound of) the next one's arrival.
    heap: BinaryHeap<Reverse<(SimTime, u32)>>,
    /// The partitions of the records appended since, in arrival order.
    appended: VecDeque<u32>,
    /// With appends `ByPartition`, the current chunk's records (arrival, slot), in the order
    /// the runs came: sorted into `appended` when the chunk is in.
    chunk: Vec<(SimTime, u32)>,
    /// Scratch space for sorting a chunk as words (see `chunk_appended`).
    chunk_keys: Vec<u64>,
    /// Scratch space for compacting: each old number's new one.
    renumber: Vec<u32>,
    appends: Appends,
    /// Records were stored out of arrival order (deferred arrivals stored late): every number
    /// is void, and the next plan starts over; until then only busy changes are kept.
    stale: bool,
    /// The arrival of the last record queued: debug builds check that records are queued in
    /// that order, which numbering them in queue order relies on.
    #[cfg(debug_assertions)]
    last_appended_ns: SimTime,
}

impl Planner {
    /// A planner over the `owned` partitions, `busy(slot)` telling which a batch holds.
    pub fn new(logs: &[Partition], owned: &[u32], busy: impl Fn(usize) -> bool, appends: Appends) -> Self {
        let slot = |i: usize| Slot {
            front: 0,
            numbered_end: 0,
            head: NONE,
            tail: NONE,
            old_end: 0,
            told_end: 0,
            skip: 0,
            busy: busy(i),
            log_totals: (0, 0),
        };
        let mut planner = Planner {
            slots: (0..owned.len()).map(slot).collect(),
            numbered: Vec::new(),
            matched: Bits::default(),
            payload: None,
            payload_total: 0,
            live: 0,
            candidate_totals: (0, 0),
            heap: BinaryHeap::new(),
            appended: VecDeque::new(),
            chunk: Vec::new(),
            chunk_keys: Vec::new(),
            renumber: Vec::new(),
            appends,
            stale: false,
            #[cfg(debug_assertions)]
            last_appended_ns: 0,
        };
        planner.restart(logs, owned);
        planner
    }

    /// Forgets every number and starts the merge again from the logs' fronts.
    fn restart(&mut self, logs: &[Partition], owned: &[u32]) {
        self.stale = false;
        self.numbered.clear();
        self.matched.clear();
        self.payload = None;
        self.appended.clear();
        self.chunk.clear();
        (self.payload_total, self.live) = (0, 0);
        let mut heap = std::mem::take(&mut self.heap).into_vec();
        heap.clear();
        self.candidate_totals = (0, 0);
        for (i, s) in self.slots.iter_mut().enumerate() {
            let log = &logs[owned[i] as usize];
            let start = log.log_start_offset();
            (s.front, s.numbered_end, s.head, s.tail) = (start, start, NONE, NONE);
            (s.old_end, s.told_end, s.skip) = (log.end_offset(), log.end_offset(), 0);
            s.log_totals = (log.matched_len(), log.payload_len());
            if !s.busy {
                self.candidate_totals.0 += s.log_totals.0;
                self.candidate_totals.1 += s.log_totals.1;
            }
            if let Some(r) = log.front() {
                heap.push(Reverse((r.arrival_ns, i as u32)));
            }
        }
        self.heap = BinaryHeap::from(heap);
    }

    /// Records were stored out of arrival order: the next plan starts over. Once, however many
    /// partitions store late records before it (a restart costs a pass over every partition).
    pub fn invalidate(&mut self) {
        self.stale = true;
    }

    /// A record was appended to `log` (the log of `slot`).
    #[inline]
    pub fn appended(&mut self, slot: u32, log: &Partition) {
        if self.stale {
            return;
        }
        self.retotal(slot, log);
        match self.appends {
            Appends::InArrivalOrder => {
                #[cfg(debug_assertions)]
                self.check_queue_order(log.last_arrival().expect("a record was appended"));
                self.appended.push_back(slot);
            }
            Appends::ByPartition => {
                let s = &mut self.slots[slot as usize];
                let run = s.told_end..log.end_offset();
                s.told_end = run.end;
                self.chunk.extend(run.map(|offset| (log.record(offset).arrival_ns, slot)));
            }
        }
    }

    /// The chunk being appended `ByPartition` is in: its records join the queue in arrival
    /// order (equal arrivals in any order: the answer does not depend on theirs).
    pub fn chunk_appended(&mut self) {
        if self.stale {
            self.chunk.clear();
            return;
        }
        let first_ns = self.chunk.iter().map(|&(arrival_ns, _)| arrival_ns).min().unwrap_or(0);
        let last_ns = self.chunk.iter().map(|&(arrival_ns, _)| arrival_ns).max().unwrap_or(0);
        if last_ns - first_ns < 1 << (64 - SLOT_BITS) && self.slots.len() <= 1 << SLOT_BITS {
            // Packed as single words, arrival (from the chunk's first) above slot, so that the
            // sort moves one word a record, not a pair.
            let mut keys = std::mem::take(&mut self.chunk_keys);
            keys.clear();
            keys.extend(
                self.chunk.drain(..).map(|(arrival_ns, slot)| (arrival_ns - first_ns) << SLOT_BITS | u64::from(slot)),
            );
            // By arrival alone: equal arrivals keep their append order, partition by partition,
            // which the answer does not depend on. A radix sort, since the keys are integers: 78
            // instructions a record at 1,000 partitions a fetcher, against 111 for a comparison
            // sort of the whole words (`radsort` skips the arrival's high bytes, all 0).
            radsort::sort_by_key(&mut keys, |&key| key >> SLOT_BITS);
            #[cfg(debug_assertions)]
            for &key in &keys {
                self.check_queue_order(first_ns + (key >> SLOT_BITS));
            }
            self.appended.extend(keys.iter().map(|&key| (key & ((1 << SLOT_BITS) - 1)) as u32));
            self.chunk_keys = keys;
            return;
        }
        self.chunk.sort_unstable_by_key(|&(arrival_ns, _)| arrival_ns);
        #[cfg(debug_assertions)]
        for i in 0..self.chunk.len() {
            self.check_queue_order(self.chunk[i].0);
        }
        self.appended.extend(self.chunk.drain(..).map(|(_, slot)| slot));
    }

    /// Debug builds check that records are queued in arrival order (the next arrives at
    /// `arrival_ns`), which numbering them in queue order relies on.
    #[cfg(debug_assertions)]
    fn check_queue_order(&mut self, arrival_ns: SimTime) {
        debug_assert!(arrival_ns >= self.last_appended_ns, "appended out of arrival order");
        self.last_appended_ns = arrival_ns;
    }

    /// Takes in the totals of `log` (the log of `slot`) as they are now.
    #[inline]
    fn retotal(&mut self, slot: u32, log: &Partition) {
        let s = &mut self.slots[slot as usize];
        let now = (log.matched_len(), log.payload_len());
        if !s.busy {
            let c = &mut self.candidate_totals;
            *c = (c.0 + now.0 - s.log_totals.0, c.1 + now.1 - s.log_totals.1);
        }
        s.log_totals = now;
    }

    /// Starts loading `slot`'s state, which a commit's `front_removed` reads.
    #[inline(always)]
    pub fn prefetch_slot(&self, slot: u32) {
        if let Some(s) = self.slots.get(slot as usize) {
            prefetch(s);
        }
    }

    /// Records may have left the front of `log` (the log of `slot`).
    pub fn front_removed(&mut self, slot: u32, log: &Partition) {
        if self.stale {
            return;
        }
        self.retotal(slot, log);
        let start = log.log_start_offset();
        let s = &mut self.slots[slot as usize];
        while s.front < start && s.head != NONE {
            let n = &mut self.numbered[s.head as usize];
            n.live = false;
            if !s.busy {
                self.matched.set(s.head as usize, false);
                if let Some(payload) = &mut self.payload {
                    payload.sub(s.head as usize, n.payload_bytes);
                }
                self.payload_total -= n.payload_bytes;
            }
            (s.head, s.front) = (n.next, s.front + 1);
            self.live -= 1;
        }
        if s.head == NONE {
            // Removed up to or past the last numbered record: the next to number is the front.
            // Removed records that were queued as appended are skipped there.
            let queued_from = s.numbered_end.max(s.old_end);
            s.skip += start.saturating_sub(queued_from) as u32;
            s.tail = NONE;
            s.numbered_end = s.numbered_end.max(start);
            s.front = s.numbered_end;
        }
    }

    /// Whether the planner knows `log` (the log of `slot`) as it is: `front_removed` would
    /// change nothing.
    fn is_current(&self, slot: u32, log: &Partition) -> bool {
        let s = &self.slots[slot as usize];
        let start = log.log_start_offset();
        let removed = if s.head == NONE { start > s.numbered_end } else { s.front < start };
        !removed && s.log_totals == (log.matched_len(), log.payload_len())
    }

    /// A batch now holds the partition of `slot` (`true`) or no longer does.
    pub fn set_busy(&mut self, slot: u32, busy: bool, log: &Partition) {
        if self.stale {
            self.slots[slot as usize].busy = busy;
            return;
        }
        // Records leave a log only when settled, which tells the planner at once
        // (`front_removed`), and appends are told as they come: nothing to catch up on.
        debug_assert!(self.is_current(slot, log), "a log changed without the planner being told");
        let s = &mut self.slots[slot as usize];
        if s.busy == busy {
            return;
        }
        s.busy = busy;
        let c = &mut self.candidate_totals;
        *c = if busy {
            (c.0 - s.log_totals.0, c.1 - s.log_totals.1)
        } else {
            (c.0 + s.log_totals.0, c.1 + s.log_totals.1)
        };
        let mut i = s.head;
        while i != NONE {
            let n = self.numbered[i as usize];
            if busy {
                self.matched.set(i as usize, false);
                if let Some(payload) = &mut self.payload {
                    payload.sub(i as usize, n.payload_bytes);
                }
                self.payload_total -= n.payload_bytes;
            } else {
                self.matched.set(i as usize, n.matched);
                if let Some(payload) = &mut self.payload {
                    payload.add(i as usize, n.payload_bytes);
                }
                self.payload_total += n.payload_bytes;
            }
            i = n.next;
        }
    }

    /// The flush time of a batch over the owned partitions that no batch holds, exactly as
    /// [`batcher::plan`] computes it over them.
    ///
    /// [`batcher::plan`]: super::batcher::plan
    pub fn plan(&mut self, rules: &BatchRules, logs: &[Partition], owned: &[u32], horizon_ns: SimTime) -> Plan {
        if self.stale {
            self.restart(logs, owned);
        }
        if self.numbered.len() > 2 * self.live + self.slots.len() + 1024 {
            self.compact();
        }
        if self.payload.is_none() && self.candidate_totals.1 > rules.record_budget_bytes {
            let mut payload = Fenwick::default();
            payload.rebuild(self.weights(|n| n.payload_bytes));
            self.payload = Some(payload);
        }
        // The window opens at the candidates' first matched record.
        if self.candidate_totals.0 == 0 {
            return Plan::AwaitRecords;
        }
        while self.matched.count_ones() == 0 {
            if !self.number_next(logs, owned, SimTime::MAX) {
                return Plan::AwaitRecords;
            }
        }
        let first = self.matched.nth_set(1).map_or(SimTime::MAX, |i| self.numbered[i].arrival_ns);
        let deadline = first.saturating_add(rules.window_ns);
        // Usually the window decides: if every record generated would not trigger a flush,
        // none numbered up to the deadline does.
        let can_trigger = rules.triggered_by(self.candidate_totals.0, self.candidate_totals.1);
        while can_trigger && !self.triggers(rules) && self.number_next(logs, owned, deadline) {}
        if self.triggers(rules) {
            // A trigger after the deadline is a generated record's arrival, so the deadline is
            // before the horizon: the window decides, as in the search.
            let size = self.matched.nth_set((rules.batch_size as u64).max(1));
            let payload = match (&self.payload, rules.record_budget_bytes.checked_add(1)) {
                (Some(payload), Some(over)) => payload.first_reaching(over),
                _ => None,
            };
            let at = |i: Option<usize>| i.map_or(SimTime::MAX, |i| self.numbered[i].arrival_ns);
            return Plan::At(at(size).min(at(payload)).min(deadline));
        }
        if deadline < horizon_ns { Plan::At(deadline) } else { Plan::AwaitRecords }
    }

    /// Whether the numbered candidates' records trigger a flush.
    fn triggers(&self, rules: &BatchRules) -> bool {
        rules.triggered_by(self.matched.count_ones(), self.payload_total)
    }

    /// Numbers the next record in arrival order, if it arrives by `limit`.
    fn number_next(&mut self, logs: &[Partition], owned: &[u32], limit: SimTime) -> bool {
        match self.number_from_heap(logs, owned, limit) {
            Some(numbered) => numbered,
            // Every record there was at the (re)start is numbered: next come the appended ones.
            None => self.number_appended(logs, owned, limit),
        }
    }

    /// Numbers the heap's earliest record if it arrives by `limit` (whether it did); `None`
    /// once the heap is empty.
    #[inline]
    fn number_from_heap(&mut self, logs: &[Partition], owned: &[u32], limit: SimTime) -> Option<bool> {
        loop {
            let mut top = self.heap.peek_mut()?;
            let Reverse((key, slot)) = *top;
            if key > limit {
                return Some(false);
            }
            let s = &mut self.slots[slot as usize];
            let log = &logs[owned[slot as usize] as usize];
            let offset = s.numbered_end;
            // Queued appends come after the heap's records.
            let end = s.old_end;
            if offset >= end {
                PeekMut::pop(top);
                continue;
            }
            let record = log.record(offset);
            if record.arrival_ns != key {
                // Records before it were removed since it was queued: queue it at its own time.
                *top = Reverse((record.arrival_ns, slot));
                continue;
            }
            if offset + 1 < end {
                *top = Reverse((log.record(offset + 1).arrival_ns, slot));
                drop(top);
            } else {
                PeekMut::pop(top);
            }
            self.number(slot, offset, log);
            return Some(true);
        }
    }

    /// Numbers the first record appended in arrival order since the (re)start and not yet
    /// numbered, if it arrives by `limit`; whether it did.
    #[inline]
    fn number_appended(&mut self, logs: &[Partition], owned: &[u32], limit: SimTime) -> bool {
        // The queue interleaves thousands of partitions, each a cache miss: a few entries ahead,
        // start loading a slot and its partition's header, and nearer, the record it numbers.
        if let Some(&ahead) = self.appended.get(2 * NUMBER_PREFETCH_AHEAD) {
            prefetch(&self.slots[ahead as usize]);
            prefetch_value(&logs[owned[ahead as usize] as usize]);
        }
        if let Some(&ahead) = self.appended.get(NUMBER_PREFETCH_AHEAD) {
            logs[owned[ahead as usize] as usize].prefetch_record(self.slots[ahead as usize].numbered_end);
        }
        while let Some(&slot) = self.appended.front() {
            let s = &mut self.slots[slot as usize];
            if s.skip > 0 {
                s.skip -= 1;
                self.appended.pop_front();
                continue;
            }
            let log = &logs[owned[slot as usize] as usize];
            let offset = s.numbered_end;
            if log.record(offset).arrival_ns > limit {
                return false;
            }
            self.appended.pop_front();
            self.number(slot, offset, log);
            return true;
        }
        false
    }

    /// Gives the record at `offset` of `log` (the log of `slot`) the next number.
    fn number(&mut self, slot: u32, offset: u64, log: &Partition) {
        let s = &mut self.slots[slot as usize];
        let number = self.numbered.len() as u32;
        let matched = log.is_matched(offset);
        let payload_bytes = log.payload_between(offset, offset + 1);
        let arrival_ns = log.record(offset).arrival_ns;
        self.numbered.push(Numbered { arrival_ns, payload_bytes, matched, live: true, next: NONE });
        if s.tail == NONE {
            (s.head, s.front) = (number, offset);
        } else {
            self.numbered[s.tail as usize].next = number;
        }
        s.tail = number;
        s.numbered_end = offset + 1;
        let p = if s.busy { 0 } else { payload_bytes };
        self.matched.push(matched && !s.busy);
        if let Some(payload) = &mut self.payload {
            payload.push(p);
        }
        self.payload_total += p;
        self.live += 1;
    }

    /// Drops the numbers of records no longer in their logs (keeping the others' order), once
    /// they are most of them: O(numbers + partitions), so O(1) per number.
    fn compact(&mut self) {
        let mut renumber = std::mem::take(&mut self.renumber);
        renumber.clear();
        let mut kept = 0;
        renumber.extend(self.numbered.iter().map(|n| {
            kept += u32::from(n.live);
            if n.live { kept - 1 } else { NONE }
        }));
        self.numbered.retain(|n| n.live);
        for n in &mut self.numbered {
            if n.next != NONE {
                n.next = renumber[n.next as usize];
            }
        }
        for s in &mut self.slots {
            if s.head != NONE {
                (s.head, s.tail) = (renumber[s.head as usize], renumber[s.tail as usize]);
            }
        }
        self.renumber = renumber;
        let matched = self.weights(|n| n.matched);
        self.matched.rebuild(matched);
        if let Some(mut payload) = self.payload.take() {
            payload.rebuild(self.weights(|n| n.payload_bytes));
            self.payload = Some(payload);
        }
    }

    /// Per number, `weight` of the record while its partition is a candidate (0 otherwise).
    fn weights<T: Clone + Default>(&self, weight: impl Fn(&Numbered) -> T) -> Vec<T> {
        let mut values = vec![T::default(); self.numbered.len()];
        for s in self.slots.iter().filter(|s| !s.busy) {
            let mut i = s.head;
            while i != NONE {
                let n = &self.numbered[i as usize];
                values[i as usize] = weight(n);
                i = n.next;
            }
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::esm::batcher;

    fn rules(batch_size: usize, window_ns: u64, budget: u64) -> BatchRules {
        BatchRules { batch_size, window_ns, record_budget_bytes: budget }
    }

    /// Logs and a planner over all of them, told of every change as the simulation tells it.
    struct Bench {
        parts: Vec<Partition>,
        owned: Vec<u32>,
        busy: Vec<bool>,
        planner: Planner,
    }

    impl Bench {
        fn new(arrivals: &[&[u64]]) -> Self {
            Self::with_appends(arrivals, Appends::InArrivalOrder)
        }

        fn with_appends(arrivals: &[&[u64]], appends: Appends) -> Self {
            let parts: Vec<Partition> = arrivals
                .iter()
                .map(|a| {
                    let mut p = Partition::default();
                    a.iter().for_each(|&t| p.append(t, 1, 1));
                    p
                })
                .collect();
            let owned: Vec<u32> = (0..parts.len() as u32).collect();
            let planner = Planner::new(&parts, &owned, |_| false, appends);
            Bench { busy: vec![false; parts.len()], parts, owned, planner }
        }

        fn append(&mut self, p: usize, t: u64, bytes: u64, matched: Option<bool>) {
            self.store(p, t, bytes, matched);
            self.planner.appended(p as u32, &self.parts[p]);
        }

        /// Appends a record without telling the planner (a run told of once it is whole).
        fn store(&mut self, p: usize, t: u64, bytes: u64, matched: Option<bool>) {
            match matched {
                Some(m) => self.parts[p].append_filtered(t, bytes, bytes, m),
                None => self.parts[p].append(t, bytes, bytes),
            }
        }

        fn pop(&mut self, p: usize, n: usize) {
            self.parts[p].pop_front(n);
            self.planner.front_removed(p as u32, &self.parts[p]);
        }

        /// Makes exactly `candidates` free, then plans; checks the search agrees.
        fn plan(&mut self, r: &BatchRules, candidates: &[u32], horizon: u64) -> Plan {
            for p in 0..self.parts.len() {
                let busy = !candidates.contains(&(p as u32));
                if busy != self.busy[p] {
                    self.busy[p] = busy;
                    self.planner.set_busy(p as u32, busy, &self.parts[p]);
                }
            }
            let got = self.planner.plan(r, &self.parts, &self.owned, horizon);
            assert_eq!(got, batcher::plan(r, &self.parts, candidates, horizon, 0), "candidates {candidates:?}");
            got
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "appended out of arrival order")]
    fn debug_builds_refuse_appends_out_of_arrival_order() {
        let mut b = Bench::new(&[&[10], &[20]]);
        b.append(0, 50, 1, None);
        b.append(1, 40, 1, None);
    }

    #[test]
    fn new_arrivals_extend_the_merge() {
        // Batch 5, window 100. A = [10, 30], B = [20], C = []: three records, the window closes
        // at 110, beyond the horizon 40, so the plan waits for records.
        let r = rules(5, 100, u64::MAX);
        let mut b = Bench::new(&[&[10, 30], &[20], &[]]);
        assert_eq!(b.plan(&r, &[0, 1, 2], 40), Plan::AwaitRecords);
        // A gets 50, B 60: merged 10, 20, 30, 50, 60, the fifth (batch full) at 60.
        b.append(0, 50, 1, None);
        b.append(1, 60, 1, None);
        assert_eq!(b.plan(&r, &[0, 1, 2], 70), Plan::At(60));
        // B leaves (its batch is out): A and C hold 10, 30, 50, three records: waiting again.
        assert_eq!(b.plan(&r, &[0, 2], 70), Plan::AwaitRecords);
        // B comes back with its two records committed (an empty log): still three records;
        // then B 80 and A 90 make the fifth at 90.
        b.pop(1, 2);
        assert_eq!(b.plan(&r, &[0, 1, 2], 70), Plan::AwaitRecords);
        b.append(1, 80, 1, None);
        b.append(0, 90, 1, None);
        assert_eq!(b.plan(&r, &[0, 1, 2], 100), Plan::At(90));
        // B leaves: A's 10, 30, 50, 90 are four records, no longer enough, so the window
        // decides: 10 + 100 = 110, once the horizon has passed it.
        assert_eq!(b.plan(&r, &[0, 2], 100), Plan::AwaitRecords);
        assert_eq!(b.plan(&r, &[0, 2], 200), Plan::At(110));
    }

    #[test]
    fn a_partition_that_joins_can_make_the_batch_earlier() {
        // Batch 3, window 100. A = [10, 20]: two records, waiting. C = [5, 15] joins: merged
        // 5, 10, 15, 20, so the third record is at 15, not 20.
        let r = rules(3, 100, u64::MAX);
        let mut b = Bench::new(&[&[10, 20], &[], &[5, 15]]);
        assert_eq!(b.plan(&r, &[0, 1], 30), Plan::AwaitRecords);
        assert_eq!(b.plan(&r, &[0, 1, 2], 30), Plan::At(15));
    }

    #[test]
    fn a_partition_that_joins_can_close_the_window_earlier() {
        // Batch 10, window 100. A = [50, 60, 140]: the window closes at 150; C's record at 20
        // opens it at 20, so it closes at 120.
        let r = rules(10, 100, u64::MAX);
        let mut b = Bench::new(&[&[50, 60, 140], &[], &[20]]);
        assert_eq!(b.plan(&r, &[0, 1], 160), Plan::At(150));
        assert_eq!(b.plan(&r, &[0, 1, 2], 160), Plan::At(120));
    }

    #[test]
    fn payload_triggers_as_in_the_search() {
        // Budget 250 bytes, 100 per record: A = [10, 40], B = [30]: merged 10, 30, 40; the
        // third (at 40) exceeds the payload.
        let r = rules(100, 1_000, 250);
        let mut b = Bench::new(&[&[], &[]]);
        for (p, t) in [(0, 10), (1, 30), (0, 40)] {
            b.append(p, t, 100, None);
        }
        assert_eq!(b.plan(&r, &[0, 1], 100), Plan::At(40));
    }

    /// A small deterministic generator for the randomised comparison below.
    struct SplitMix(u64);
    impl SplitMix {
        fn next(&mut self, below: u64) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) % below
        }
    }

    #[test]
    fn answers_as_the_search_does_through_any_sequence_of_changes() {
        answers_as_the_search_does(Appends::InArrivalOrder);
    }

    #[test]
    fn answers_as_the_search_does_when_chunks_come_partition_by_partition() {
        answers_as_the_search_does(Appends::ByPartition);
    }

    /// Random logs (filtered or not) grow chunk by chunk while records are removed from their
    /// fronts, partitions become busy and free, and the planner now and then starts again or
    /// compacts its numbers, as in a run; after every step the planner must answer exactly as
    /// `batcher::plan` searching from scratch (`Bench::plan` checks). `ByPartition`: each
    /// chunk is appended as per-partition streams append it, a partition's run at a time in
    /// a random order of partitions, the planner told once per run and once the chunk is in.
    fn answers_as_the_search_does(appends: Appends) {
        for seed in 0..300 {
            let mut rng = SplitMix(seed);
            let n = 2 + rng.next(6) as usize;
            let filtering = seed % 3 == 0;
            let r = rules(1 + rng.next(12) as usize, rng.next(400), 50 + rng.next(600));
            let mut b = Bench::with_appends(&vec![&[][..]; n], appends);
            let mut horizon = 0;
            for _ in 0..60 {
                match rng.next(5) {
                    0 | 1 => {
                        // A chunk: arrivals in [horizon, horizon + 100), in time order.
                        let mut times: Vec<u64> = (0..rng.next(8)).map(|_| horizon + rng.next(100)).collect();
                        times.sort_unstable();
                        let mut runs = vec![Vec::new(); n];
                        for t in times {
                            let p = rng.next(n as u64) as usize;
                            let bytes = 1 + rng.next(120);
                            runs[p].push((t, bytes, filtering.then(|| rng.next(2) == 0)));
                        }
                        match appends {
                            Appends::InArrivalOrder => {
                                // Back in arrival order across partitions (equal times: any order).
                                let mut all: Vec<_> = runs
                                    .iter()
                                    .enumerate()
                                    .flat_map(|(p, run)| run.iter().map(move |&a| (a.0, p, a)))
                                    .collect();
                                all.sort_by_key(|&(t, ..)| t);
                                all.into_iter().for_each(|(_, p, (t, bytes, m))| b.append(p, t, bytes, m));
                            }
                            Appends::ByPartition => {
                                let first = rng.next(n as u64) as usize;
                                for p in (0..n).map(|i| (first + i) % n) {
                                    runs[p].iter().for_each(|&(t, bytes, m)| b.store(p, t, bytes, m));
                                    if !runs[p].is_empty() {
                                        b.planner.appended(p as u32, &b.parts[p]);
                                    }
                                }
                                b.planner.chunk_appended();
                            }
                        }
                        horizon += 100;
                    }
                    2 => {
                        let p = rng.next(n as u64) as usize;
                        let k = rng.next(b.parts[p].len() as u64 + 1) as usize;
                        b.pop(p, k);
                    }
                    3 if rng.next(4) == 0 => b.planner.restart(&b.parts, &b.owned),
                    // Stale until the next plan (not this step's: changes come in between).
                    3 if rng.next(3) == 0 => {
                        b.planner.invalidate();
                        continue;
                    }
                    4 if rng.next(2) == 0 => b.planner.compact(),
                    _ => {}
                }
                let candidates: Vec<u32> = (0..n as u32).filter(|_| rng.next(3) > 0).collect();
                b.plan(&r, &candidates, horizon);
            }
        }
    }
}
