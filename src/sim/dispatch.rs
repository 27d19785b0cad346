//! The ESM's batchers: planning when each fetcher flushes, forming batches, the gate, and
//! releasing a batch's partitions when it is done.

use super::{BatchId, EsmEvent, Lane, Observer, Simulation, notify};
use crate::engine::prefetch_value;
use crate::model::destination::Condition;
use crate::model::esm::batcher::{Formed, Offered};
use crate::model::esm::{Batch, BatchState, Fetcher, FlushReason, Piece, Segment, Visit, Waiting, batcher};
use crate::model::topic::Partition;

/// Log lines prefetched before a plan or a batch reads a partition: a search reads the front,
/// the back and a few lines between (a partition at `internet-scale` holds 10 to 30 records).
const PLAN_LOG_LINES: usize = 8;

/// Fetchers owning up to this many partitions have them all prefetched before a batch forms.
const PREFETCH_OWNED_UP_TO: usize = 128;

/// Starts loading what visiting `partitions` reads: each one's header and lane, then (once
/// those are on their way) up to `log_lines` lines of its log. At large scale a batch, plan or
/// commit visits tens of partitions that other pollers' work has evicted from the caches; asked
/// for together, their misses overlap instead of coming one after another.
pub(super) fn prefetch_partitions(
    logs: &[Partition],
    lanes: &[Lane],
    partitions: impl Iterator<Item = u32> + Clone,
    log_lines: usize,
) {
    for p in partitions.clone() {
        prefetch_value(&logs[p as usize]);
        prefetch_value(&lanes[p as usize]);
    }
    partitions.for_each(|p| logs[p as usize].prefetch_log(log_lines));
}

impl<O: Observer> Simulation<O> {
    /// Decides when `fetcher` flushes next and schedules it.
    pub(super) fn plan_fetcher(&mut self, fetcher: u32) {
        let f = &self.esm.fetchers[fetcher as usize];
        if f.waiting == Waiting::Gate {
            return;
        }
        if !f.has_room() || self.esm.pause.active {
            self.esm.fetchers[fetcher as usize].waiting = Waiting::Nothing;
            return;
        }
        let plan = if self.esm.fetchers[fetcher as usize].planner.is_some() {
            // A poller combining partitions: incremental, so that a plan costs what changed. It
            // needs no candidate list, but what retention deleted must leave the logs first.
            self.expire_candidates(fetcher);
            let (rules, logs, horizon_ns) = (&self.config.esm.rules, &self.source.logs, self.source.horizon_ns);
            let f = &mut self.esm.fetchers[fetcher as usize];
            f.planner.as_mut().expect("checked above").plan(rules, logs, &f.partitions, horizon_ns)
        } else {
            let candidates = self.collect_candidates(fetcher);
            prefetch_partitions(&self.source.logs, &self.esm.lanes, candidates.iter().copied(), PLAN_LOG_LINES);
            // The timer goes off no earlier than now and the poller's next fetch.
            let not_before_ns = self.now.max(self.esm.fetchers[fetcher as usize].fetch_ready_ns);
            let (rules, logs, horizon_ns) = (&self.config.esm.rules, &self.source.logs, self.source.horizon_ns);
            let plan = batcher::plan(rules, logs, &candidates, horizon_ns, not_before_ns);
            self.esm.candidates = candidates;
            plan
        };
        let f = &mut self.esm.fetchers[fetcher as usize];
        match plan {
            batcher::Plan::At(t) => {
                self.esm.timer_seq += 1;
                f.timer_gen = self.esm.timer_seq;
                f.waiting = Waiting::Timer;
                // A poller fetches at most its throughput limit.
                let at = t.max(self.now).max(f.fetch_ready_ns);
                self.schedule_esm(at, EsmEvent::FlushTimer { fetcher, generation: self.esm.timer_seq });
            }
            batcher::Plan::AwaitRecords => {
                f.waiting = Waiting::Records;
                self.esm.awaiting_records.push(fetcher);
            }
        }
    }

    /// The fetcher's partitions that have no batch outstanding and hold records, in owned
    /// order, after retention has deleted what it would have. Those without records (which a
    /// plan and a batch pass over) are left out, so this costs what waits, not what is owned.
    fn collect_candidates(&mut self, fetcher: u32) -> Vec<u32> {
        let mut candidates = std::mem::take(&mut self.esm.candidates);
        candidates.clear();
        let (lanes, logs, now) = (&self.esm.lanes, &self.source.logs, self.now);
        let f = &mut self.esm.fetchers[fetcher as usize];
        let owned = &f.partitions;
        let waiting = |slot: u32| {
            let p = owned[slot as usize] as usize;
            !lanes[p].busy && !logs[p].is_empty()
        };
        f.candidates.refresh(now, waiting, |slot| candidates.push(owned[slot as usize]));
        if self.retention_may_have_expired() {
            for &p in &candidates {
                self.expire(p);
            }
        }
        candidates
    }

    /// Deletes what retention has deleted from the fronts of `fetcher`'s candidates' logs.
    fn expire_candidates(&mut self, fetcher: u32) {
        if self.retention_may_have_expired() {
            // Collecting the candidates expires them; the list's buffer is kept for reuse.
            self.esm.candidates = self.collect_candidates(fetcher);
        }
    }

    /// Nothing can have expired before the clock has run a retention period.
    pub(super) fn retention_may_have_expired(&self) -> bool {
        self.now.checked_sub(self.config.topic.retention_ns).is_some()
    }

    pub(super) fn on_flush_timer(&mut self, fetcher: u32, generation: u64) {
        let Some(f) = self.esm.fetchers.get(fetcher as usize) else { return };
        if f.waiting != Waiting::Timer || f.timer_gen != generation || self.esm.pause.active {
            return; // stale
        }
        if !self.esm.gate.is_open() {
            self.esm.fetchers[fetcher as usize].waiting = Waiting::Gate;
            self.esm.gate.wait(fetcher);
            return;
        }
        self.dispatch(fetcher);
    }

    /// Forms a batch now and delivers it, then plans the fetcher's next one.
    fn dispatch(&mut self, fetcher: u32) {
        self.esm.fetchers[fetcher as usize].waiting = Waiting::Nothing;
        let formed = if self.source.oversize_possible || self.retention_may_have_expired() {
            self.form_from_all(fetcher)
        } else {
            self.form_from_rotation(fetcher)
        };
        let f = &mut self.esm.fetchers[fetcher as usize];
        if formed.segments.is_empty() {
            self.plan_fetcher(fetcher);
            return;
        }
        f.rotation = f.rotation.wrapping_add(1);
        f.in_flight += 1;
        self.esm.gate.take();
        let fetched_bytes = formed.stored_bytes;
        let formed = self.new_batch(fetcher, formed);
        self.charge_fetch(fetcher, fetched_bytes);
        notify!(self.batch_formed(self.now, &formed, &self.source.logs));
        let batch = self.esm.batches.insert(formed);
        self.deliver(batch);
        self.plan_fetcher(fetcher);
    }

    /// The batch `fetcher` forms now, after every candidate's front records that retention
    /// deleted or that are too large have gone.
    fn form_from_all(&mut self, fetcher: u32) -> Formed {
        let candidates = self.collect_candidates(fetcher);
        if self.source.oversize_possible {
            for &p in &candidates {
                self.give_up_oversize_front(p);
            }
        }
        let f = &self.esm.fetchers[fetcher as usize];
        let start = rotation_start(f, &self.esm.lanes, &candidates);
        let formed = batcher::form(&self.config.esm.rules, &self.source.logs, &candidates, start, self.now);
        self.esm.candidates = candidates;
        formed
    }

    /// As `form_from_all` when no front record can need removing: the candidates are read from
    /// the rotation's pivot on, only as many as the batch takes, without listing them all.
    fn form_from_rotation(&mut self, fetcher: u32) -> Formed {
        let (lanes, logs) = (&self.esm.lanes, &self.source.logs);
        let f = &mut self.esm.fetchers[fetcher as usize];
        let free = f.candidates.free_count();
        let pivot = if free == 0 { 0 } else { f.candidates.nth_free((f.rotation % free as usize) as u32) };
        let owned = &f.partitions;
        let waiting = |slot: u32| {
            let p = owned[slot as usize] as usize;
            !lanes[p].busy && !logs[p].is_empty()
        };
        let now = self.now;
        // What lets a batch pass over a slot: the instant kept is never after its log's front.
        debug_assert!(
            (0..owned.len() as u32).all(|slot| {
                let not_before_ns = f.candidates.not_before_ns(slot);
                logs[owned[slot as usize] as usize].front().is_none_or(|r| r.arrival_ns >= not_before_ns)
            }),
            "a log's front arrives before the instant its candidate set keeps"
        );
        // A batch reads most of a small fetcher's partitions; a large one's, a few of many.
        if owned.len() <= PREFETCH_OWNED_UP_TO {
            prefetch_partitions(logs, lanes, owned.iter().copied(), PLAN_LOG_LINES);
        }
        let mut forming = batcher::Forming::new(&self.config.esm.rules, logs, now, free as usize);
        let mut reason = FlushReason::Window;
        f.candidates.visit_from(pivot, now, waiting, |slot| match forming.offer(owned[slot as usize]) {
            Offered::Taken => Visit::Next,
            // Generated ahead: later batches pass over it until its first record arrives.
            Offered::NotArrived(first_ns) => Visit::NotBefore(first_ns),
            Offered::Full(full) => {
                reason = full;
                Visit::Stop
            }
        });
        forming.finish(reason)
    }

    fn new_batch(&mut self, fetcher: u32, formed: Formed) -> Batch {
        let Formed { segments, reason, records, payload_bytes, stored_bytes } = formed;
        for s in &segments {
            let lane = &mut self.esm.lanes[s.partition as usize];
            lane.busy = true;
            let f = &mut self.esm.fetchers[lane.owner as usize];
            f.candidates.set_busy(lane.slot, true);
            if let Some(planner) = &mut f.planner {
                planner.set_busy(lane.slot, true, &self.source.logs[s.partition as usize]);
            }
        }
        let batch = Batch {
            id: self.esm.batches.next_number(),
            fetcher,
            reason,
            formed_ns: self.now,
            current: Piece { segments, invocations: 0, failed_attempts: 0 },
            queued: Default::default(),
            records,
            payload_bytes,
            failures_in_row: 0,
            throttles_in_row: 0,
            state: BatchState::Ready,
        };
        debug_assert_eq!((records, payload_bytes), measured(&batch.current.segments, &self.source.logs));
        debug_assert_eq!(stored_bytes, stored(&batch.current.segments, &self.source.logs));
        batch
    }

    /// Frees those of `partitions` the batch no longer holds, so that their fetcher can batch
    /// them again.
    pub(super) fn release_unheld(&mut self, batch: BatchId, partitions: &[u32]) {
        let held = &self.esm.batches[batch];
        let lanes = &self.esm.lanes;
        let released: Vec<u32> =
            partitions.iter().copied().filter(|&p| lanes[p as usize].busy && !held.holds(p)).collect();
        self.free_partitions(&released, None);
    }

    /// Marks `partitions` free and plans the fetchers that own them (after a rebalance that may
    /// not be the fetcher that batched them), and `also`.
    fn free_partitions(&mut self, partitions: &[u32], also: Option<u32>) {
        let mut owners = std::mem::take(&mut self.esm.owners);
        owners.clear();
        owners.extend(also);
        for &p in partitions {
            let lane = &mut self.esm.lanes[p as usize];
            lane.busy = false;
            let f = &mut self.esm.fetchers[lane.owner as usize];
            f.candidates.set_busy(lane.slot, false);
            // An empty log becomes a candidate when its first records are stored
            // (`add_first_records`), not before.
            if let Some(front_ns) = self.source.logs[p as usize].front_arrival() {
                f.candidates.add_arriving(lane.slot, front_ns, self.now);
            }
            if let Some(planner) = &mut f.planner {
                planner.set_busy(lane.slot, false, &self.source.logs[p as usize]);
            }
            owners.push(lane.owner);
        }
        owners.sort_unstable();
        owners.dedup();
        for &fetcher in &owners {
            self.plan_fetcher(fetcher);
        }
        self.esm.owners = owners;
    }

    /// The batch is done with: free its partitions, fetcher slot and gate slot, hand the gate
    /// to whoever waits, and plan the fetchers' next batches.
    pub(super) fn retire_batch(&mut self, batch: BatchId) {
        let Some(batch) = self.esm.batches.remove(batch) else { return };
        self.esm.fetchers[batch.fetcher as usize].in_flight -= 1;
        self.esm.gate.give_back();
        self.grant_gate();
        let held: Vec<u32> = batch
            .current
            .segments
            .iter()
            .chain(batch.queued.iter().flat_map(|p| &p.segments))
            .map(|s| s.partition)
            .collect();
        self.free_partitions(&held, Some(batch.fetcher));
    }

    /// Hands free gate slots to the fetchers waiting for them, first come first served. Each
    /// grant is an event at this instant (the slot reserved meanwhile), so that a chain of
    /// batches given up at once does not nest calls.
    fn grant_gate(&mut self) {
        while !self.esm.pause.active {
            let Some(fetcher) = self.esm.gate.next_waiting() else { break };
            self.esm.gate.take();
            self.schedule_esm(self.now, EsmEvent::GateGrant { fetcher });
        }
    }

    pub(super) fn on_gate_grant(&mut self, fetcher: u32) {
        self.esm.gate.give_back(); // the reservation; dispatch takes the slot for real
        if self.esm.pause.active {
            self.esm.fetchers[fetcher as usize].waiting = Waiting::Nothing;
            return;
        }
        self.dispatch(fetcher);
        self.grant_gate();
    }

    /// A record whose payload alone exceeds the limit can never be delivered: it goes to the
    /// destination with `MaximumPayloadSizeExceeded`, or without one is dropped and counted in
    /// `discarded` (AWS_FACTS.md §2, ASSUMED), and the consumer moves past it.
    fn give_up_oversize_front(&mut self, p: u32) {
        loop {
            let partition = &self.source.logs[p as usize];
            // Under event filtering, the first matched record and the unmatched ones before it.
            let through = partition.prefix_holding(1);
            let oversize = partition.first_matched().is_some_and(|r| r.arrival_ns <= self.now)
                && partition.payload_of_first(through) > self.config.esm.rules.record_budget_bytes;
            if !oversize {
                return;
            }
            let start = partition.log_start_offset();
            let segment = [Segment { partition: p, start, end: start + through as u64 }];
            self.give_up(0, &segment, 0, Condition::MaximumPayloadSizeExceeded);
        }
    }
}

/// Where in `candidates` (those of `f`'s partitions without a batch that hold records) the
/// next combined batch starts reading: at the first at or after the `rotation`-th of all its
/// partitions without a batch, empty or not, so that partitions take turns as they did when
/// every such partition was a candidate.
fn rotation_start(f: &Fetcher, lanes: &[Lane], candidates: &[u32]) -> usize {
    let free = f.candidates.free_count();
    if free == 0 || candidates.is_empty() {
        return 0;
    }
    let pivot = f.candidates.nth_free((f.rotation % free as usize) as u32) as usize;
    let start = candidates.partition_point(|&p| (lanes[p as usize].slot as usize) < pivot);
    if start == candidates.len() { 0 } else { start }
}

/// Recomputes the record count and payload of the batch's current piece.
pub(super) fn measure(batch: &mut Batch, logs: &[Partition]) {
    (batch.records, batch.payload_bytes) = measured(&batch.current.segments, logs);
}

/// The matched records and payload bytes of `segments` (under event filtering only the matched
/// records are sent, and count).
fn measured(segments: &[Segment], logs: &[Partition]) -> (u32, u64) {
    let records = segments.iter().map(|s| logs[s.partition as usize].matched_between(s.start, s.end) as u32).sum();
    let payload_bytes = segments.iter().map(|s| logs[s.partition as usize].payload_between(s.start, s.end)).sum();
    (records, payload_bytes)
}

/// The stored bytes of `segments`, every record's whether matched or not: what a poller fetches.
fn stored(segments: &[Segment], logs: &[Partition]) -> u64 {
    segments.iter().map(|s| logs[s.partition as usize].stored_between(s.start, s.end)).sum()
}
