//! Incremental planning for a fetcher that combines partitions (a poller): the same answer as
//! [`batcher::plan`], at the cost of what changed since the fetcher's last plan.
//!
//! `batcher::plan` searches the candidates' logs from scratch; a poller that owns thousands of
//! partitions re-plans several times per batch (after each batch it forms, each batch that
//! retires, each chunk of arrivals it waits for), and each search costs about a microsecond per
//! owned partition. The planner instead keeps, per candidate partition, how far a k-way merge of
//! the candidates' arrivals (in time order) has read, and the matched records and payload read so
//! far. New arrivals only extend the merge; a candidate that left (its partition now busy) has
//! its share taken out; a candidate that joined is folded in when that cannot move the answer
//! earlier, and otherwise the merge starts again.
//!
//! Why the merge gives the same answer as the search: the search finds the smallest instant `t`
//! at which the records arrived by `t` reach `batch_size` matched records or exceed the payload
//! budget. Counts only grow along the merge, so that instant is the arrival of the first record,
//! in merge order, whose prefix triggers; records arriving at the same instant can be merged in
//! any order (the prefix before the first of them does not trigger, the prefix through all of
//! them does).

use super::batcher::{BatchRules, Plan};
use crate::engine::SimTime;
use crate::model::topic::Partition;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How far the merge has read one candidate partition.
#[derive(Clone, Copy, Debug)]
struct Slot {
    partition: u32,
    /// The log's start offset when the merge began reading it: a change means records were
    /// removed from its front (committed, given up, expired), and its share must be re-read.
    start: u64,
    /// The next offset the merge will read.
    next: u64,
    /// Matched records and payload bytes the merge has read (offsets `start..next`): kept so
    /// that a plan need not re-read them from the log.
    read_count: u64,
    read_bytes: u64,
    /// Arrival of the log's first matched record, once it has one (`NOT_YET` before): it stays
    /// while `start` does.
    first_ns: SimTime,
}

const NOT_YET: SimTime = SimTime::MAX;

impl Slot {
    fn new(partition: u32, start: u64) -> Self {
        Slot { partition, start, next: start, read_count: 0, read_bytes: 0, first_ns: NOT_YET }
    }

    /// Looks up the log's first matched record until it has one. Touches only what the log
    /// keeps of its totals (and its front record until then), not the records.
    fn learn_first(&mut self, log: &Partition) {
        if self.first_ns == NOT_YET
            && let Some(r) = log.first_matched()
        {
            self.first_ns = r.arrival_ns;
        }
    }

    /// Reads the records at offsets `next..end` of `log` (this slot's).
    fn read_to(&mut self, log: &Partition, end: u64) -> (u64, u64) {
        let read = (log.matched_between(self.next, end), log.payload_between(self.next, end));
        self.next = end;
        self.read_count += read.0;
        self.read_bytes += read.1;
        read
    }
}

/// A fetcher's planning state (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct Planner {
    /// The candidates of the last plan, in ascending partition order.
    slots: Vec<Slot>,
    /// Matched records and payload bytes the merge has read across `slots`.
    count: u64,
    bytes: u64,
    /// Arrival of the last record the merge read: every record arriving earlier has been read.
    last_ns: SimTime,
    /// The arrival at which the records read trigger a flush (size or payload), once they do.
    triggered: Option<SimTime>,
    /// Scratch space for the merge.
    heap: Vec<Reverse<(SimTime, u32)>>,
    scratch: Vec<Slot>,
    /// Per slot: the offset the deadline reaches, and the matched records and bytes before it.
    ends: Vec<(u64, u64, u64)>,
}

impl Planner {
    /// The flush time of a batch over `candidates`, exactly as [`batcher::plan`] computes it.
    ///
    /// [`batcher::plan`]: super::batcher::plan
    pub fn plan(&mut self, rules: &BatchRules, logs: &[Partition], candidates: &[u32], horizon_ns: SimTime) -> Plan {
        if candidates.len() == 1 {
            // One partition needs no merge: its own log answers in O(log n). The merge's state
            // stays valid for its own slots (logs only grow at the back, and a change at the
            // front is seen by its start offset), so it is kept for the next combined plan.
            return super::batcher::plan(rules, logs, candidates, horizon_ns);
        }
        let (first_arrival, total) = self.reconcile(rules, logs, candidates);
        if first_arrival == NOT_YET {
            return Plan::AwaitRecords;
        }
        let deadline = first_arrival.saturating_add(rules.window_ns);
        if self.triggered.is_none() {
            self.advance(rules, logs, deadline, total);
        }
        match self.triggered {
            Some(t) => Plan::At(t.min(deadline)),
            None if deadline < horizon_ns => Plan::At(deadline),
            None => Plan::AwaitRecords,
        }
    }

    /// Forgets the merge: the next plan starts it again.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.count = 0;
        self.bytes = 0;
        self.last_ns = 0;
        self.triggered = None;
    }

    /// Brings the merge's state to `candidates`: takes out the share of partitions no longer
    /// candidates (or whose front records were removed), folds in the new ones, or starts again.
    /// Returns, from the same pass, the candidates' earliest first matched arrival (`NOT_YET`
    /// if none has one) and their matched records and payload bytes in all.
    fn reconcile(&mut self, rules: &BatchRules, logs: &[Partition], candidates: &[u32]) -> (SimTime, (u64, u64)) {
        if !candidates.is_sorted() {
            // Owned partitions come from the range assignor, in ascending order; anything else
            // is planned from scratch (correct, only slower).
            self.restart(logs, candidates);
            return self.scan(logs);
        }
        let mut kept = std::mem::take(&mut self.scratch);
        kept.clear();
        let mut joined = false;
        // The records read from the slots that stay; everything else is taken out.
        let (mut count, mut bytes) = (0, 0);
        // What the answer needs of every candidate, gathered in the same pass (restarting the
        // merge below does not change it: the candidates and their logs stay).
        let (mut first, mut total) = (NOT_YET, (0, 0));
        let mut old = self.slots.iter().peekable();
        for &p in candidates {
            while old.next_if(|s| s.partition < p).is_some() {}
            let log = &logs[p as usize];
            let start = log.log_start_offset();
            let mut slot = match old.next_if(|s| s.partition == p) {
                Some(s) if s.start == start => {
                    count += s.read_count;
                    bytes += s.read_bytes;
                    *s
                }
                _ => {
                    joined = true;
                    Slot::new(p, start)
                }
            };
            slot.learn_first(log);
            first = first.min(slot.first_ns);
            total = (total.0 + log.matched_len(), total.1 + log.payload_len());
            kept.push(slot);
        }
        self.scratch = std::mem::replace(&mut self.slots, kept);
        self.count = count;
        self.bytes = bytes;
        if let Some(t) = self.triggered {
            // Removing records can only make the trigger later. If what is left still triggers,
            // the last record read (at `t`) is still the first that does: every shorter prefix
            // held at least as much before and did not.
            if !joined && self.triggers(rules) && self.last_ns == t {
                return (first, total);
            }
            if joined {
                self.restart(logs, candidates);
                return (first, total);
            }
            self.triggered = None;
        }
        if joined && !self.fold_in_joined(rules, logs) {
            self.restart(logs, candidates);
        }
        (first, total)
    }

    /// Reads, in the slots that joined, every record that arrived by `last_ns`, as the merge
    /// would have (ties may be read in any order). Fails when that triggers a flush (it might
    /// have triggered earlier: the merge starts again to find where) or when a joined
    /// partition's window would close before `last_ns`.
    fn fold_in_joined(&mut self, rules: &BatchRules, logs: &[Partition]) -> bool {
        for i in 0..self.slots.len() {
            let s = self.slots[i];
            let log = &logs[s.partition as usize];
            if s.next != s.start || log.is_empty() {
                continue;
            }
            if log.first_matched().is_some_and(|r| r.arrival_ns.saturating_add(rules.window_ns) < self.last_ns) {
                return false;
            }
            let read = log.arrived(self.last_ns) as u64;
            let (count, bytes) = self.slots[i].read_to(log, s.start + read);
            self.count += count;
            self.bytes += bytes;
        }
        !self.triggers(rules)
    }

    fn restart(&mut self, logs: &[Partition], candidates: &[u32]) {
        self.clear();
        self.slots.extend(candidates.iter().map(|&p| Slot::new(p, logs[p as usize].log_start_offset())));
    }

    /// As `reconcile` returns it, over the slots as they are.
    fn scan(&mut self, logs: &[Partition]) -> (SimTime, (u64, u64)) {
        let (mut first, mut total) = (NOT_YET, (0, 0));
        for s in &mut self.slots {
            let log = &logs[s.partition as usize];
            s.learn_first(log);
            first = first.min(s.first_ns);
            total = (total.0 + log.matched_len(), total.1 + log.payload_len());
        }
        (first, total)
    }

    fn triggers(&self, rules: &BatchRules) -> bool {
        self.count >= rules.batch_size as u64 || self.bytes > rules.record_budget_bytes
    }

    /// Reads the slots' unread records in arrival order up to `deadline`, until they trigger.
    fn advance(&mut self, rules: &BatchRules, logs: &[Partition], deadline: SimTime, total: (u64, u64)) {
        // Usually the window decides. If every record generated (`total`, read or not) would
        // not trigger a flush, none up to the deadline does: the answer needs no merge, and the
        // state stays as it is (a merge that has read less is still a valid one).
        if total.0 < rules.batch_size as u64 && total.1 <= rules.record_budget_bytes {
            return;
        }
        // Otherwise one look at the records up to the deadline: if they do not trigger, the
        // window decides, and they are all read at once, without the merge.
        let end_by_deadline = |s: &Slot| {
            let log = &logs[s.partition as usize];
            match log.last_arrival() {
                Some(l) if l > deadline => (s.start + log.arrived(deadline) as u64).max(s.next),
                _ => log.end_offset(),
            }
        };
        let (mut count, mut bytes) = (self.count, self.bytes);
        self.ends.clear();
        for s in &self.slots {
            let log = &logs[s.partition as usize];
            let end = end_by_deadline(s);
            let read = (log.matched_between(s.next, end), log.payload_between(s.next, end));
            count += read.0;
            bytes += read.1;
            self.ends.push((end, read.0, read.1));
        }
        if count < rules.batch_size as u64 && bytes <= rules.record_budget_bytes {
            for (s, &(end, c, b)) in self.slots.iter_mut().zip(&self.ends) {
                (s.next, s.read_count, s.read_bytes) = (end, s.read_count + c, s.read_bytes + b);
            }
            // Every record arriving by the deadline is read now.
            (self.count, self.bytes, self.last_ns) = (count, bytes, self.last_ns.max(deadline));
            return;
        }
        self.merge(rules, logs, deadline);
    }

    /// Merges the slots' unread records in arrival order up to `deadline`, until they trigger.
    fn merge(&mut self, rules: &BatchRules, logs: &[Partition], deadline: SimTime) {
        let mut heap = std::mem::take(&mut self.heap);
        heap.clear();
        for (i, s) in self.slots.iter().enumerate() {
            let log = &logs[s.partition as usize];
            if s.next < log.end_offset() {
                heap.push(Reverse((log.record(s.next).arrival_ns, i as u32)));
            }
        }
        let mut heap = BinaryHeap::from(heap);
        while let Some(Reverse((arrival, i))) = heap.pop() {
            if arrival > deadline {
                break;
            }
            let s = &mut self.slots[i as usize];
            let log = &logs[s.partition as usize];
            // Read this partition's records while they come before every other's next one.
            let bound = heap.peek().map_or(deadline, |Reverse((t, _))| (*t).min(deadline));
            let mut at = arrival;
            loop {
                let (count, bytes) = s.read_to(log, s.next + 1);
                self.count += count;
                self.bytes += bytes;
                self.last_ns = at;
                if self.count >= rules.batch_size as u64 || self.bytes > rules.record_budget_bytes {
                    self.triggered = Some(at);
                    self.heap = heap.into_vec();
                    return;
                }
                if s.next >= log.end_offset() {
                    break;
                }
                at = log.record(s.next).arrival_ns;
                if at > bound {
                    heap.push(Reverse((at, i)));
                    break;
                }
            }
        }
        self.heap = heap.into_vec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::esm::batcher;

    fn rules(batch_size: usize, window_ns: u64, budget: u64) -> BatchRules {
        BatchRules { batch_size, window_ns, record_budget_bytes: budget }
    }

    fn logs(arrivals: &[&[u64]]) -> Vec<Partition> {
        arrivals
            .iter()
            .map(|a| {
                let mut p = Partition::default();
                a.iter().for_each(|&t| p.append(t, 1, 1));
                p
            })
            .collect()
    }

    #[test]
    fn new_arrivals_extend_the_merge() {
        // Batch 5, window 100. A = [10, 30], B = [20], C = []: three records, the window closes
        // at 110, beyond the horizon 40, so the plan waits for records.
        let r = rules(5, 100, u64::MAX);
        let mut parts = logs(&[&[10, 30], &[20], &[]]);
        let mut planner = Planner::default();
        assert_eq!(planner.plan(&r, &parts, &[0, 1, 2], 40), Plan::AwaitRecords);
        // A gets 50, B 60: merged 10, 20, 30, 50, 60, the fifth (batch full) at 60.
        parts[0].append(50, 1, 1);
        parts[1].append(60, 1, 1);
        assert_eq!(planner.plan(&r, &parts, &[0, 1, 2], 70), Plan::At(60));
        // B leaves (its batch is out): A and C hold 10, 30, 50, three records: waiting again.
        assert_eq!(planner.plan(&r, &parts, &[0, 2], 70), Plan::AwaitRecords);
        // B comes back with its two records committed (an empty log): still three records;
        // then B 80 and A 90 make the fifth at 90.
        parts[1].pop_front(2);
        assert_eq!(planner.plan(&r, &parts, &[0, 1, 2], 70), Plan::AwaitRecords);
        parts[1].append(80, 1, 1);
        parts[0].append(90, 1, 1);
        assert_eq!(planner.plan(&r, &parts, &[0, 1, 2], 100), Plan::At(90));
        // C (empty) leaves: the five records still fill the batch at 90.
        assert_eq!(planner.plan(&r, &parts, &[0, 1], 100), Plan::At(90));
        // B leaves the full merge: A's 10, 30, 50, 90 are four records, no longer enough, so
        // the window decides: 10 + 100 = 110, once the horizon has passed it.
        assert_eq!(planner.plan(&r, &parts, &[0, 2], 100), Plan::AwaitRecords);
        assert_eq!(planner.plan(&r, &parts, &[0, 2], 200), Plan::At(110));
    }

    #[test]
    fn a_partition_that_joins_can_make_the_batch_earlier() {
        // Batch 3, window 100. A = [10, 20], B = [] (horizon 30): two records, waiting.
        let r = rules(3, 100, u64::MAX);
        let parts = logs(&[&[10, 20], &[], &[5, 15]]);
        let mut planner = Planner::default();
        assert_eq!(planner.plan(&r, &parts, &[0, 1], 30), Plan::AwaitRecords);
        // C = [5, 15] joins: merged 5, 10, 15, 20, so the third record is at 15, not 20.
        assert_eq!(planner.plan(&r, &parts, &[0, 1, 2], 30), Plan::At(15));
    }

    #[test]
    fn a_partition_that_joins_can_close_the_window_earlier() {
        // Batch 10, window 100. A = [50, 60, 140]: the window closes at 150.
        let r = rules(10, 100, u64::MAX);
        let parts = logs(&[&[50, 60, 140], &[], &[20]]);
        let mut planner = Planner::default();
        assert_eq!(planner.plan(&r, &parts, &[0, 1], 160), Plan::At(150));
        // C's record at 20 opens the window at 20: it closes at 120, before A's 140 (read
        // already), so the merge starts again and answers 120.
        assert_eq!(planner.plan(&r, &parts, &[0, 1, 2], 160), Plan::At(120));
    }

    #[test]
    fn payload_triggers_as_in_the_search() {
        // Budget 250 bytes, 100 per record: the third record would not fit. A = [10, 40],
        // B = [30]: merged 10, 30, 40; the third (at 40) exceeds the payload.
        let r = rules(100, 1_000, 250);
        let mut parts: Vec<Partition> = (0..2).map(|_| Partition::default()).collect();
        for (p, t) in [(0, 10), (1, 30), (0, 40)] {
            parts[p].append(t, 100, 100);
        }
        assert_eq!(Planner::default().plan(&r, &parts, &[0, 1], 100), Plan::At(40));
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
        // Random logs (filtered or not) grow chunk by chunk while records are removed from
        // their fronts and candidates come and go, as in a run; after every step the planner
        // must answer exactly as `batcher::plan` searching from scratch.
        for seed in 0..300 {
            let mut rng = SplitMix(seed);
            let n = 2 + rng.next(6) as usize;
            let filtering = seed % 3 == 0;
            let r = rules(1 + rng.next(12) as usize, rng.next(400), 50 + rng.next(600));
            let mut parts: Vec<Partition> = (0..n).map(|_| Partition::default()).collect();
            let mut planner = Planner::default();
            let mut horizon = 0;
            for _ in 0..60 {
                match rng.next(4) {
                    0 | 1 => {
                        // A chunk: arrivals in [horizon, horizon + 100), in time order.
                        let mut times: Vec<u64> = (0..rng.next(8)).map(|_| horizon + rng.next(100)).collect();
                        times.sort_unstable();
                        for t in times {
                            let p = &mut parts[rng.next(n as u64) as usize];
                            let bytes = 1 + rng.next(120);
                            if filtering {
                                p.append_filtered(t, bytes, bytes, rng.next(2) == 0);
                            } else {
                                p.append(t, bytes, bytes);
                            }
                        }
                        horizon += 100;
                    }
                    2 => {
                        let p = &mut parts[rng.next(n as u64) as usize];
                        let k = rng.next(p.len() as u64 + 1) as usize;
                        p.pop_front(k);
                    }
                    _ => {}
                }
                let candidates: Vec<u32> = (0..n as u32).filter(|_| rng.next(3) > 0).collect();
                let expected = batcher::plan(&r, &parts, &candidates, horizon);
                let got = planner.plan(&r, &parts, &candidates, horizon);
                assert_eq!(got, expected, "seed {seed}, candidates {candidates:?}, rules {r:?}");
            }
        }
    }
}
