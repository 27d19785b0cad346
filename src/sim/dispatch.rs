//! The ESM's batchers: planning when each fetcher flushes, forming batches, the gate, and
//! releasing a batch's partitions when it is done.

use super::{Event, Observer, Simulation};
use crate::model::destination::Condition;
use crate::model::esm::{Batch, FlushReason, Piece, Segment, Waiting, batcher};

impl<O: Observer> Simulation<O> {
    /// Decides when `fetcher` flushes next and schedules it.
    pub(super) fn plan_fetcher(&mut self, fetcher: u32) {
        let f = &self.fetchers[fetcher as usize];
        if f.waiting == Waiting::Gate {
            return;
        }
        if !f.has_room() || self.paused {
            self.fetchers[fetcher as usize].waiting = Waiting::Nothing;
            return;
        }
        let candidates = self.collect_candidates(fetcher);
        let plan = batcher::plan(&self.settings.rules, &self.partitions, &candidates, self.horizon_ns);
        self.candidates = candidates;
        let f = &mut self.fetchers[fetcher as usize];
        match plan {
            batcher::Plan::At(t) => {
                self.timer_seq += 1;
                f.timer_gen = self.timer_seq;
                f.waiting = Waiting::Timer;
                // A poller fetches at most its throughput limit.
                let at = t.max(self.now).max(f.fetch_ready_ns);
                self.queue.schedule(at, Event::FlushTimer { fetcher, generation: self.timer_seq });
            }
            batcher::Plan::AwaitRecords => {
                f.waiting = Waiting::Records;
                self.awaiting_records.push(fetcher);
            }
        }
    }

    /// The fetcher's partitions that have no batch outstanding, after retention has deleted
    /// what it would have.
    fn collect_candidates(&mut self, fetcher: u32) -> Vec<u32> {
        let mut candidates = std::mem::take(&mut self.candidates);
        candidates.clear();
        for i in 0..self.fetchers[fetcher as usize].partitions.len() {
            let p = self.fetchers[fetcher as usize].partitions[i];
            if !self.busy[p as usize] {
                self.expire(p);
                candidates.push(p);
            }
        }
        candidates
    }

    pub(super) fn on_flush_timer(&mut self, fetcher: u32, generation: u64) {
        let Some(f) = self.fetchers.get(fetcher as usize) else { return };
        if f.waiting != Waiting::Timer || f.timer_gen != generation || self.paused {
            return; // stale
        }
        if !self.gate.is_open() {
            self.fetchers[fetcher as usize].waiting = Waiting::Gate;
            self.gate.queue.push_back(fetcher);
            return;
        }
        self.dispatch(fetcher);
    }

    /// Forms a batch now and delivers it, then plans the fetcher's next one.
    fn dispatch(&mut self, fetcher: u32) {
        self.fetchers[fetcher as usize].waiting = Waiting::Nothing;
        let candidates = self.collect_candidates(fetcher);
        for &p in &candidates {
            self.give_up_oversize_front(p);
        }
        let f = &mut self.fetchers[fetcher as usize];
        let (segments, reason) =
            batcher::form(&self.settings.rules, &self.partitions, &candidates, f.rotation, self.now);
        self.candidates = candidates;
        if segments.is_empty() {
            self.plan_fetcher(fetcher);
            return;
        }
        f.rotation = f.rotation.wrapping_add(1);
        f.in_flight += 1;
        self.gate.used += 1;
        let batch = self.new_batch(fetcher, segments, reason);
        self.charge_fetch(fetcher, batch.payload_bytes);
        self.metrics.batch_formed(batch.records as u64, reason);
        self.observer.batch_formed(self.now, &batch, &self.partitions);
        let slot = self.store_batch(batch);
        self.deliver(slot);
        self.plan_fetcher(fetcher);
    }

    fn new_batch(&mut self, fetcher: u32, segments: Vec<Segment>, reason: FlushReason) -> Batch {
        for s in &segments {
            self.busy[s.partition as usize] = true;
        }
        self.next_batch_id += 1;
        let mut batch = Batch {
            id: self.next_batch_id,
            fetcher,
            reason,
            formed_ns: self.now,
            current: Piece { segments, invocations: 0, failed_attempts: 0 },
            queued: Default::default(),
            records: 0,
            payload_bytes: 0,
            failures_in_row: 0,
            throttles_in_row: 0,
        };
        self.measure_current(&mut batch);
        batch
    }

    /// Recomputes the record count and payload of the batch's current piece.
    pub(super) fn measure_current(&self, batch: &mut Batch) {
        batch.records = batch.current.segments.iter().map(|s| s.len() as u32).sum();
        batch.payload_bytes = batch
            .current
            .segments
            .iter()
            .map(|s| self.partitions[s.partition as usize].payload_between(s.start, s.end))
            .sum();
    }

    fn store_batch(&mut self, batch: Batch) -> u32 {
        match self.free_slots.pop() {
            Some(slot) => {
                self.batches[slot as usize] = Some(batch);
                slot
            }
            None => {
                self.batches.push(Some(batch));
                self.running.push(None);
                (self.batches.len() - 1) as u32
            }
        }
    }

    pub(super) fn batch(&self, slot: u32) -> &Batch {
        self.batches[slot as usize].as_ref().expect("live batch slot")
    }

    pub(super) fn batch_mut(&mut self, slot: u32) -> &mut Batch {
        self.batches[slot as usize].as_mut().expect("live batch slot")
    }

    /// Frees those of `partitions` the batch no longer holds, so that their fetcher can batch
    /// them again.
    pub(super) fn release_unheld(&mut self, slot: u32, partitions: &[u32]) {
        let released: Vec<u32> =
            partitions.iter().copied().filter(|&p| self.busy[p as usize] && !self.batch(slot).holds(p)).collect();
        self.free_partitions(&released, None);
    }

    /// Marks `partitions` free and plans the fetchers that own them (after a rebalance that may
    /// not be the fetcher that batched them), and `also`.
    fn free_partitions(&mut self, partitions: &[u32], also: Option<u32>) {
        let mut owners: Vec<u32> = also.into_iter().collect();
        for &p in partitions {
            self.busy[p as usize] = false;
            owners.push(self.owner[p as usize]);
        }
        owners.sort_unstable();
        owners.dedup();
        for fetcher in owners {
            self.plan_fetcher(fetcher);
        }
    }

    /// The batch is done with: free its partitions, fetcher slot and gate slot, hand the gate
    /// to whoever waits, and plan the fetchers' next batches.
    pub(super) fn retire_batch(&mut self, slot: u32) {
        let batch = self.batches[slot as usize].take().expect("live batch slot");
        self.free_slots.push(slot);
        self.fetchers[batch.fetcher as usize].in_flight -= 1;
        self.gate.used -= 1;
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
        while self.gate.is_open() && !self.paused {
            let Some(fetcher) = self.gate.queue.pop_front() else { break };
            self.gate.used += 1;
            self.queue.schedule(self.now, Event::GateGrant { fetcher });
        }
    }

    pub(super) fn on_gate_grant(&mut self, fetcher: u32) {
        self.gate.used -= 1; // the reservation; dispatch takes the slot for real
        if self.paused {
            self.fetchers[fetcher as usize].waiting = Waiting::Nothing;
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
            let partition = &self.partitions[p as usize];
            let oversize = partition.front().is_some_and(|r| r.arrival_ns <= self.now)
                && partition.payload_of_first(1) > self.settings.rules.record_budget_bytes;
            if !oversize {
                return;
            }
            let start = partition.log_start_offset();
            let segment = [Segment { partition: p, start, end: start + 1 }];
            self.give_up(0, &segment, 0, Condition::MaximumPayloadSizeExceeded);
        }
    }
}
