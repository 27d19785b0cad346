//! The batching rules, exactly as the README's "Batching rules" section (under the `esm` scenario
//! reference) states them: when a batch will flush, and what it holds when it does. Pure functions over the partitions' logs; the simulation decides when to
//! call them.

use super::batch::{FlushReason, Segment};
use crate::engine::SimTime;
use crate::model::topic::Partition;

pub use crate::config::BatchRules;

/// When the next batch of a set of partitions flushes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// At this time (which may already have passed).
    At(SimTime),
    /// Not decidable from the records generated so far (`horizon_ns` and beyond unknown).
    AwaitRecords,
}

/// The flush time of a batch over `candidates` (partitions with no batch outstanding), given
/// that every record arriving before `horizon_ns` is already in the logs. The caller flushes no
/// earlier than `not_before_ns`, so every instant up to it is as good as another: when the batch
/// flushes by then, the answer is some instant by then, not necessarily the earliest.
pub fn plan(
    rules: &BatchRules,
    partitions: &[Partition],
    candidates: &[u32],
    horizon_ns: SimTime,
    not_before_ns: SimTime,
) -> Plan {
    let bounds = (horizon_ns, not_before_ns);
    match candidates {
        [only] => {
            let log = &partitions[*only as usize];
            let first_arrival = log.first_matched().map(|r| r.arrival_ns);
            decide(rules, first_arrival, bounds, |_| single_partition_trigger(rules, log))
        }
        _ => {
            let headers = Headers::read(rules, partitions, candidates);
            decide(rules, headers.first_arrival, bounds, |window| headers.trigger(rules, window, not_before_ns))
        }
    }
}

/// The flush time of a batch whose window opens at `first_arrival`, given when its records
/// trigger it by the window's end (`trigger`, told when the window opens and closes).
fn decide(
    rules: &BatchRules,
    first_arrival: Option<SimTime>,
    (horizon_ns, not_before_ns): (SimTime, SimTime),
    trigger: impl FnOnce((SimTime, SimTime)) -> Option<SimTime>,
) -> Plan {
    // Under event filtering a batch holds matched records: its window opens at the first one.
    let Some(first_arrival) = first_arrival else { return Plan::AwaitRecords };
    let deadline = first_arrival.saturating_add(rules.window_ns);
    if deadline <= not_before_ns && deadline < horizon_ns {
        return Plan::At(deadline); // the window has closed: whatever triggered it, it flushes now
    }
    match trigger((first_arrival, deadline)) {
        Some(t) => Plan::At(t.min(deadline)),
        None if deadline < horizon_ns => Plan::At(deadline),
        None => Plan::AwaitRecords,
    }
}

/// The arrival that fills the batch to `batch_size`, or that would push it past the payload
/// limit, if either is already generated.
fn single_partition_trigger(rules: &BatchRules, p: &Partition) -> Option<SimTime> {
    let generated = p.len();
    let size = (p.matched_of_first(generated) >= rules.batch_size as u64)
        .then(|| p.record(p.log_start_offset() + p.prefix_holding(rules.batch_size as u64) as u64 - 1));
    let fit = p.fitting(rules.record_budget_bytes);
    let overflow = (fit < generated).then(|| p.record(p.log_start_offset() + fit as u64));
    match (size, overflow) {
        (Some(a), Some(b)) => Some(a.arrival_ns.min(b.arrival_ns)),
        (a, b) => a.or(b).map(|r| r.arrival_ns),
    }
}

/// One candidate's log as the search for a combined batch's trigger bounds it: the records
/// arrived by any instant between the search's bounds lie in `from..=upto` (by position), and
/// `at` is where the instant it tries next cuts them.
#[derive(Clone, Copy)]
struct Bounds<'a> {
    log: &'a Partition,
    from: usize,
    upto: usize,
    at: usize,
}

impl Bounds<'_> {
    /// Whether records of the log lie between the search's bounds; if none do, its records
    /// arrived by any instant between them are settled: their weight is added to `settled`.
    #[inline]
    fn still_open(&self, settled: &mut (u64, u64)) -> bool {
        let open = self.from < self.upto;
        if !open {
            let (count, bytes) = weigh(self.log, self.from);
            *settled = (settled.0 + count, settled.1 + bytes);
        }
        open
    }
}

/// What one pass over a combined batch's candidates finds in their logs' headers and ends.
struct Headers<'a> {
    /// The earliest record that counts (matches, under event filtering): the window opens there.
    first_arrival: Option<SimTime>,
    /// The latest arrival generated.
    last: Option<SimTime>,
    /// The earliest record too large for the payload by itself, at a log's front.
    oversize: Option<SimTime>,
    /// The logs with records (an empty log weighs nothing).
    logs: Vec<Bounds<'a>>,
}

impl<'a> Headers<'a> {
    fn read(rules: &BatchRules, partitions: &'a [Partition], candidates: &[u32]) -> Self {
        let earliest = |a: Option<SimTime>, t: SimTime| Some(a.map_or(t, |a| a.min(t)));
        let mut headers =
            Headers { first_arrival: None, last: None, oversize: None, logs: Vec::with_capacity(candidates.len()) };
        for &p in candidates {
            let log = &partitions[p as usize];
            let (Some(front), Some(back)) = (log.front(), log.last_arrival()) else { continue };
            if let Some(first) = log.first_matched() {
                headers.first_arrival = earliest(headers.first_arrival, first.arrival_ns);
            }
            headers.last = headers.last.max(Some(back));
            if log.payload_of_first(1) > rules.record_budget_bytes {
                headers.oversize = earliest(headers.oversize, front.arrival_ns);
            }
            headers.logs.push(Bounds { log, from: 0, upto: 0, at: 0 });
        }
        headers
    }

    /// The earliest instant, up to the window's end, at which the records arrived in all candidates
    /// reach `batch_size` or exceed the payload budget (`None` if not by then).
    fn trigger(
        self,
        rules: &BatchRules,
        (first_arrival, deadline): (SimTime, SimTime),
        not_before_ns: SimTime,
    ) -> Option<SimTime> {
        let Headers { last, oversize, mut logs, .. } = self;
        let mut hi = deadline.min(last?);
        // A record too large for the payload triggers the batch by itself once it has arrived:
        // searching below it, not from the deadline, keeps a stream of them (each given up at
        // its own flush) from costing a full search over every partition per record. The
        // answer is the same: the search finds the earliest instant that triggers, which is at
        // most this one.
        let oversize = oversize.filter(|&t| t <= hi);
        if let Some(t) = oversize {
            hi = t;
        }
        // Usually the window decides: one look at the deadline settles it.
        let (mut count, mut bytes) = (0, 0);
        for bounds in &mut logs {
            bounds.upto = bounds.log.arrived(hi);
            let (c, b) = weigh(bounds.log, bounds.upto);
            (count, bytes) = (count + c, bytes + b);
        }
        if oversize.is_none() && !rules.triggered_by(count, bytes) {
            return None;
        }
        Some(earliest_trigger(rules, logs, (first_arrival.max(not_before_ns), hi), (count, bytes)))
    }
}

/// The matched records and payload bytes of the first `n` records of a log.
fn weigh(p: &Partition, n: usize) -> (u64, u64) {
    (p.matched_of_first(n), p.payload_of_first(n))
}

/// The smallest t in `lo..=hi` at which the records arrived in `logs` trigger the batch (it
/// does at `hi`, by which the first `upto` of each log arrived, weighing `at_hi`): it is always
/// some record's arrival time. A search over time, in which each log's records arrived by t are
/// bracketed by those arrived by the bounds, so each step searches only the records between
/// them, and only in the logs that still have some there: a step costs what is left, not a
/// search of every log. The first steps cut where the records would trigger if they arrived
/// evenly (so that most logs drop out at once), later ones halve the time; once a single log is
/// left its records are searched by count, and once a bound is a few records from the trigger
/// they are walked in arrival order.
fn earliest_trigger(
    rules: &BatchRules,
    mut open: Vec<Bounds>,
    (mut lo, mut hi): (SimTime, SimTime),
    at_hi: (u64, u64),
) -> SimTime {
    // Records arrived before `lo` are in, so that a later `lo` (an instant before which the
    // answer does not matter) is the search's first cut. Logs with no record between the bounds
    // close: their weight is settled.
    let (mut below, mut settled) = ((0, 0), (0, 0));
    open.retain_mut(|bounds| {
        bounds.from = bounds.log.arrived_before(lo).min(bounds.upto);
        let (count, bytes) = weigh(bounds.log, bounds.from);
        below = (below.0 + count, below.1 + bytes);
        bounds.still_open(&mut settled)
    });
    if rules.triggered_by(below.0, below.1) {
        return lo; // triggered before `lo`: as good as the earliest
    }
    let mut above = at_hi;
    for step in 0.. {
        match open[..] {
            _ if lo >= hi => return lo,
            // Nothing arrives between the bounds: what triggers at `hi` does at `lo`.
            [] => return lo,
            // One log left: the trigger is one of its records, found by count, not by time.
            [Bounds { log, from, upto, .. }] => {
                return first_triggering(rules, log, from, upto, settled).unwrap_or(lo);
            }
            _ => {}
        }
        // A few records from a bound: walking them in arrival order is cheaper than cutting.
        let forward = (rules.batch_size as u64).saturating_sub(below.0);
        let backward = if above.1 > rules.record_budget_bytes {
            u64::MAX // the payload triggers at `hi`: how far back it stops doing so is unknown
        } else {
            (above.0 + 1).saturating_sub(rules.batch_size as u64)
        };
        if forward.min(backward) <= WALK_RECORDS {
            let (weight, forward) = if forward <= backward { (below, true) } else { (above, false) };
            return walk(rules, &mut open, weight, forward).unwrap_or(lo);
        }
        let mid =
            if step < INTERPOLATED_STEPS { interpolated_cut(rules, lo, hi, below, above) } else { lo + (hi - lo) / 2 };
        let (mut count, mut bytes) = settled;
        for bounds in &mut open {
            bounds.at = bounds.log.arrived_within(mid, bounds.from, bounds.upto);
            let (c, b) = weigh(bounds.log, bounds.at);
            (count, bytes) = (count + c, bytes + b);
        }
        let triggered = rules.triggered_by(count, bytes);
        if triggered {
            (hi, above) = (mid, (count, bytes));
        } else {
            (lo, below) = (mid + 1, (count, bytes));
        }
        // The cut is the new bound on its side; logs left with nothing between the bounds close.
        open.retain_mut(|bounds| {
            if triggered {
                bounds.upto = bounds.at
            } else {
                bounds.from = bounds.at
            }
            bounds.still_open(&mut settled)
        });
    }
    unreachable!("the search ends within 64 halvings of a 64-bit interval")
}

/// Steps of [`earliest_trigger`] that cut by interpolation before it halves: the first cuts,
/// made while every log is open, are the costly ones, and on near-even arrivals they leave
/// few records between the bounds; later halvings guard against uneven ones. Instructions of
/// 2 s of `internet-scale` with per-partition streams: 699.0 M with 1, 677.6 M with 2, 668.0 M
/// with 3, 678.3 M with 6.
const INTERPOLATED_STEPS: usize = 3;

/// Records from a bound of [`earliest_trigger`] within which it walks them in arrival order
/// instead of cutting again: a cut looks at every open log, a step of the walk at the open
/// logs' next records. Instructions of 2 s of `internet-scale` with per-partition streams:
/// 668.1 M without walking; 620.9 M with 2, 609.5 M with 6, 608.5 M with 8, 615.9 M with 16.
const WALK_RECORDS: u64 = 8;

/// The arrival of the record at position `n` of `log`.
fn arrival(log: &Partition, n: usize) -> SimTime {
    log.record(log.log_start_offset() + n as u64).arrival_ns
}

/// The weight (matched records, payload) of the record at position `n` of `log`.
fn weight_of(log: &Partition, n: usize) -> (u64, u64) {
    let ((c0, b0), (c1, b1)) = (weigh(log, n), weigh(log, n + 1));
    (c1 - c0, b1 - b0)
}

/// Walks the records between the bounds of the `open` logs one at a time: `forward`, the
/// earliest first, adding them to those below the bounds (which weigh `weight`) until the batch
/// triggers; otherwise the latest first, taking them from those through the upper bounds (which
/// weigh `weight` and trigger) until it no longer does. The arrival of that record is the
/// earliest instant that triggers, since every earlier record is in (forward) or every record
/// left is no later (backward), and the rules are monotone, so records of one instant need no
/// care. `None` if every record between the bounds goes and the batch still triggers.
fn walk(rules: &BatchRules, open: &mut [Bounds], mut weight: (u64, u64), forward: bool) -> Option<SimTime> {
    loop {
        let between = open.iter_mut().filter(|b| b.from < b.upto);
        let (t, bounds) = if forward {
            between.map(|b| (arrival(b.log, b.from), b)).min_by_key(|&(t, _)| t)
        } else {
            between.map(|b| (arrival(b.log, b.upto - 1), b)).max_by_key(|&(t, _)| t)
        }?;
        let (count, bytes) = if forward {
            bounds.from += 1;
            let (count, bytes) = weight_of(bounds.log, bounds.from - 1);
            (weight.0 + count, weight.1 + bytes)
        } else {
            bounds.upto -= 1;
            let (count, bytes) = weight_of(bounds.log, bounds.upto);
            (weight.0 - count, weight.1 - bytes)
        };
        weight = (count, bytes);
        if rules.triggered_by(weight.0, weight.1) == forward {
            return Some(t);
        }
    }
}

/// Where the records between the bounds (weighing `below` before `lo` and `above` at `hi`)
/// would trigger the batch if they arrived evenly over `lo..=hi`: a cut in `lo..hi`.
fn interpolated_cut(rules: &BatchRules, lo: SimTime, hi: SimTime, below: (u64, u64), above: (u64, u64)) -> SimTime {
    // The share of the way from `below` to `above` at which `need` is reached, if it is.
    let share = |need: u64, below: u64, above: u64| {
        (above >= need && above > below).then(|| need.saturating_sub(below) as f64 / (above - below) as f64)
    };
    let by_count = share(rules.batch_size as u64, below.0, above.0);
    let by_payload = share(rules.record_budget_bytes.saturating_add(1), below.1, above.1);
    let fraction = match (by_count, by_payload) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(0.5),
    };
    lo + (((hi - lo) as f64 * fraction) as SimTime).min(hi - lo - 1)
}

/// The arrival of the record of `log` among `from..upto` (by position) through which its
/// records, on top of `others`, trigger the batch (they do through `upto`); `None` if the first
/// `from` already do.
fn first_triggering(
    rules: &BatchRules,
    log: &Partition,
    from: usize,
    upto: usize,
    others: (u64, u64),
) -> Option<SimTime> {
    let triggers = |n: usize| {
        let (count, bytes) = weigh(log, n);
        rules.triggered_by(others.0 + count, others.1 + bytes)
    };
    // The fewest records that trigger, in from..=upto.
    let (mut lo, mut hi) = (from, upto);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if triggers(mid) { hi = mid } else { lo = mid + 1 }
    }
    (lo > from).then(|| log.record(log.log_start_offset() + lo as u64 - 1).arrival_ns)
}

/// The batch formed at `now` from `candidates` read in turn starting at `rotation`: every
/// record arrived by `now`, up to `batch_size` records and the payload budget.
pub fn form(rules: &BatchRules, partitions: &[Partition], candidates: &[u32], rotation: usize, now: SimTime) -> Formed {
    let mut forming = Forming::new(rules, partitions, now, candidates.len());
    let count = candidates.len();
    for i in 0..count {
        if let Offered::Full(reason) = forming.offer(candidates[(rotation + i) % count]) {
            return forming.finish(reason);
        }
    }
    forming.finish(FlushReason::Window)
}

/// A batch formed: its segments, why it flushed, what it sends (matched records and their
/// payload) and what its poller fetched (every record's stored bytes, matched or not), added up
/// as it was formed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Formed {
    pub segments: Vec<Segment>,
    pub reason: FlushReason,
    pub records: u32,
    pub payload_bytes: u64,
    pub stored_bytes: u64,
}

/// Segments a forming batch makes room for at once (more grow the list): a batch of a poller
/// owning thousands of partitions rarely reads them all.
const MAX_SEGMENTS_RESERVED: usize = 64;

/// What offering a partition to a forming batch did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offered {
    /// Took what had arrived and fitted, if anything: offer the next partition.
    Taken,
    /// Nothing in the log has arrived yet: its first record arrives at this instant.
    NotArrived(SimTime),
    /// The batch is full (by size or payload).
    Full(FlushReason),
}

/// A batch being formed at `now`, offered partitions in reading order until it is full.
pub struct Forming<'a> {
    partitions: &'a [Partition],
    now: SimTime,
    pub segments: Vec<Segment>,
    rules: &'a BatchRules,
    /// Matched records and payload bytes it still has room for.
    room: usize,
    budget: u64,
    /// Stored bytes taken (what the poller fetches).
    stored_bytes: u64,
}

impl<'a> Forming<'a> {
    /// A batch formed from up to `offers` partitions.
    pub fn new(rules: &'a BatchRules, partitions: &'a [Partition], now: SimTime, offers: usize) -> Self {
        // Room for a segment per partition offered, up to a bound: one allocation per batch.
        let segments = Vec::with_capacity(offers.min(MAX_SEGMENTS_RESERVED));
        let (room, budget) = (rules.batch_size, rules.record_budget_bytes);
        Forming { partitions, now, segments, rules, room, budget, stored_bytes: 0 }
    }

    /// The batch as formed, flushed for `reason`.
    pub fn finish(self, reason: FlushReason) -> Formed {
        // What it sends is what it took from its room and budget.
        let records = (self.rules.batch_size - self.room) as u32;
        let payload_bytes = self.rules.record_budget_bytes - self.budget;
        Formed { segments: self.segments, reason, records, payload_bytes, stored_bytes: self.stored_bytes }
    }

    /// Takes every record of partition `id` arrived by now that fits.
    #[inline]
    pub fn offer(&mut self, id: u32) -> Offered {
        let p = &self.partitions[id as usize];
        match p.front() {
            None => return Offered::Taken,
            // Nothing arrived yet: skipped without a search.
            Some(front) if front.arrival_ns > self.now => return Offered::NotArrived(front.arrival_ns),
            Some(_) => {}
        }
        // Records up to the `room`-th matching one (all records match without filtering).
        let wanted = p.arrived(self.now).min(p.prefix_holding(self.room as u64));
        if wanted == 0 {
            return Offered::Taken;
        }
        let n = wanted.min(p.fitting(self.budget));
        if n > 0 {
            let start = p.log_start_offset();
            self.segments.push(Segment { partition: id, start, end: start + n as u64 });
            let (matched, (payload_bytes, stored_bytes)) = (p.matched_of_first(n), p.bytes_of_first(n));
            self.room -= matched as usize;
            self.budget -= payload_bytes;
            self.stored_bytes += stored_bytes;
        }
        if n < wanted {
            Offered::Full(FlushReason::Payload)
        } else if self.room == 0 {
            Offered::Full(FlushReason::Size)
        } else {
            Offered::Taken
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(batch_size: usize, window_ns: u64, budget: u64) -> BatchRules {
        BatchRules { batch_size, window_ns, record_budget_bytes: budget }
    }

    fn log(arrivals: impl IntoIterator<Item = u64>, bytes: u64) -> Partition {
        let mut p = Partition::default();
        for a in arrivals {
            p.append(a, bytes, bytes);
        }
        p
    }

    #[test]
    fn window_counts_from_the_first_record() {
        // 40 records/s: one every 25 ms; window 2 s holds 81 of them (0 ms … 2000 ms).
        let parts = [log((0..200).map(|i| 1_000 + i * 25_000_000), 10)];
        let r = rules(100, 2_000_000_000, u64::MAX);
        assert_eq!(plan(&r, &parts, &[0], u64::MAX, 0), Plan::At(2_000_001_000));
        let Formed { segments, reason, .. } = form(&r, &parts, &[0], 0, 2_000_001_000);
        assert_eq!(segments, vec![Segment { partition: 0, start: 0, end: 81 }]);
        assert_eq!(reason, FlushReason::Window);
    }

    #[test]
    fn size_flushes_at_the_batch_size_th_arrival() {
        let parts = [log((0..50).map(|i| i * 10), 10)];
        let r = rules(20, 1_000_000, u64::MAX);
        assert_eq!(plan(&r, &parts, &[0], u64::MAX, 0), Plan::At(190));
        assert_eq!(form(&r, &parts, &[0], 0, 190).reason, FlushReason::Size);
    }

    #[test]
    fn payload_flushes_when_the_next_record_would_not_fit() {
        let parts = [log((0..50).map(|i| i * 10), 100)];
        let r = rules(100, 1_000_000, 450);
        // Four records fit; the fifth (arriving at 40) would not.
        assert_eq!(plan(&r, &parts, &[0], u64::MAX, 0), Plan::At(40));
        let Formed { segments, reason, .. } = form(&r, &parts, &[0], 0, 40);
        assert_eq!((segments[0].end, reason), (4, FlushReason::Payload));
    }

    #[test]
    fn undecidable_beyond_the_generated_horizon() {
        let parts = [log([100, 200], 1)];
        let r = rules(10, 5_000, u64::MAX);
        assert_eq!(plan(&r, &parts, &[0], 1_000, 0), Plan::AwaitRecords);
        assert_eq!(plan(&r, &parts, &[0], 10_000, 0), Plan::At(5_100));
    }

    fn filtered_log(arrivals_and_matches: &[(u64, bool)], bytes: u64) -> Partition {
        let mut p = Partition::default();
        for &(a, m) in arrivals_and_matches {
            p.append_filtered(a, bytes, bytes, m);
        }
        p
    }

    #[test]
    fn filtered_batches_count_matched_records() {
        // Ten records 10 ns apart; offsets 2, 5, 6 and 9 match (arrivals 20, 50, 60, 90).
        let marks = [2, 5, 6, 9];
        let records: Vec<(u64, bool)> = (0..10).map(|i| (i * 10, marks.contains(&i))).collect();
        let parts = [filtered_log(&records, 10)];
        // batch_size 3 fills at the third matched record (arrival 60); the window (1,000 ns)
        // opens at the first matched one (20), not at offset 0.
        let r = rules(3, 1_000, u64::MAX);
        assert_eq!(plan(&r, &parts, &[0], u64::MAX, 0), Plan::At(60));
        let Formed { segments, reason, .. } = form(&r, &parts, &[0], 0, 60);
        // Offsets 0..7: the unmatched records before and between ride along.
        assert_eq!((segments, reason), (vec![Segment { partition: 0, start: 0, end: 7 }], FlushReason::Size));
        // Payload counts matched records only: 25 bytes hold two of them (offsets 0..6).
        let r = rules(100, 1_000, 25);
        assert_eq!(plan(&r, &parts, &[0], u64::MAX, 0), Plan::At(60));
        let Formed { segments, reason, .. } = form(&r, &parts, &[0], 0, 60);
        assert_eq!((segments[0].end, reason), (6, FlushReason::Payload));
        // Only unmatched records: nothing to send, however long they wait.
        let none = [filtered_log(&[(0, false), (5, false)], 10)];
        assert_eq!(plan(&r, &none, &[0], u64::MAX, 0), Plan::AwaitRecords);
        // Fewer than batch_size matched: the window closes 1,000 ns after the first matched one.
        let r = rules(100, 1_000, u64::MAX);
        assert_eq!(plan(&r, &parts, &[0], u64::MAX, 0), Plan::At(1_020));
        // Combined over two partitions: the third matched arrival across both.
        let other = filtered_log(&[(15, true), (25, false), (35, true)], 10);
        let both = [filtered_log(&records, 10), other];
        assert_eq!(plan(&rules(3, 1_000, u64::MAX), &both, &[0, 1], u64::MAX, 0), Plan::At(35));
    }

    /// The flush time by the rules' definition: the earliest arrival by which the candidates'
    /// records trigger the batch, or the window's end, whichever is first.
    fn plan_by_definition(r: &BatchRules, parts: &[Partition], candidates: &[u32], horizon: u64) -> Plan {
        let logs: Vec<&Partition> = candidates.iter().map(|&p| &parts[p as usize]).collect();
        let Some(first) = logs.iter().filter_map(|p| p.first_matched()).map(|r| r.arrival_ns).min() else {
            return Plan::AwaitRecords;
        };
        let deadline = first + r.window_ns;
        let mut times: Vec<u64> = logs.iter().flat_map(|p| (0..p.len()).map(|n| arrival(p, n))).collect();
        times.sort_unstable();
        let triggers = |t: u64| {
            let (count, bytes) =
                logs.iter().map(|p| weigh(p, p.arrived(t))).fold((0, 0), |a, w| (a.0 + w.0, a.1 + w.1));
            r.triggered_by(count, bytes)
        };
        match times.into_iter().find(|&t| triggers(t)) {
            Some(t) => Plan::At(t.min(deadline)),
            None if deadline < horizon => Plan::At(deadline),
            None => Plan::AwaitRecords,
        }
    }

    #[test]
    fn combined_plans_agree_with_the_definition() {
        use rand::{RngExt, SeedableRng};
        // Crowded instants (ties), spread ones, payload and count triggers, filtering: the
        // search's interpolated cuts, halvings and walks from either bound all end here.
        for seed in 0..3_000u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let spread = if rng.random_range(0..2) == 0 { 50 } else { 1_000_000 };
            let filtering = rng.random_range(0..4) == 0;
            // Logs hold every record arriving before the horizon, and none after.
            let horizon = rng.random_range(1..spread * 2);
            let parts: Vec<Partition> = (0..rng.random_range(2..30))
                .map(|_| {
                    let mut times: Vec<u64> = (0..rng.random_range(0..60))
                        .map(|_| rng.random_range(0..spread))
                        .filter(|&t| t < horizon)
                        .collect();
                    times.sort_unstable();
                    let mut p = Partition::default();
                    for t in times {
                        let bytes = rng.random_range(1..40);
                        match filtering {
                            true => p.append_filtered(t, bytes, bytes, rng.random_range(0..3) > 0),
                            false => p.append(t, bytes, bytes),
                        }
                    }
                    p
                })
                .collect();
            let candidates: Vec<u32> = (0..parts.len() as u32).filter(|_| rng.random_range(0..4) > 0).collect();
            let r = rules(rng.random_range(1..120), rng.random_range(0..spread * 2), rng.random_range(20..3_000));
            let expected = plan_by_definition(&r, &parts, &candidates, horizon);
            assert_eq!(plan(&r, &parts, &candidates, horizon, 0), expected, "seed {seed}");
            // An instant before which the answer does not matter: any answer by then will do.
            let not_before = rng.random_range(0..spread * 2);
            match (plan(&r, &parts, &candidates, horizon, not_before), expected) {
                (Plan::At(got), Plan::At(t)) if t <= not_before => assert!(got <= not_before, "seed {seed}"),
                (got, expected) => assert_eq!(got, expected, "seed {seed}, not before {not_before}"),
            }
        }
    }

    #[test]
    fn combined_batches_read_partitions_in_turn() {
        let parts = [log([10, 20, 30], 1), log([5, 15], 1), log([], 1)];
        let r = rules(4, 1_000, u64::MAX);
        // The fourth arrival across partitions 0 and 1 is at 20.
        assert_eq!(plan(&r, &parts, &[0, 1, 2], u64::MAX, 0), Plan::At(20));
        let Formed { segments, reason, .. } = form(&r, &parts, &[0, 1, 2], 1, 20);
        assert_eq!(reason, FlushReason::Size);
        assert_eq!(
            segments,
            vec![Segment { partition: 1, start: 0, end: 2 }, Segment { partition: 0, start: 0, end: 2 },]
        );
    }
}
