//! The ESM's side of the loop: planning when each fetcher flushes, forming batches, the gate,
//! and what happens to a batch's records at the end (commit, retention, discard).

use super::{Event, Observer, Simulation, live};
use crate::model::esm::{Batch, Segment, Waiting, batcher};

impl<O: Observer> Simulation<O> {
    /// Decides when `fetcher` flushes next and schedules it.
    pub(super) fn plan_fetcher(&mut self, fetcher: u32) {
        let f = &self.fetchers[fetcher as usize];
        if !f.has_room() || f.waiting == Waiting::Gate {
            if f.waiting != Waiting::Gate {
                self.fetchers[fetcher as usize].waiting = Waiting::Nothing;
            }
            return;
        }
        let candidates = self.collect_candidates(fetcher);
        let plan = batcher::plan(&self.settings.rules, &self.partitions, &candidates, self.horizon_ns);
        self.candidates = candidates;
        let f = &mut self.fetchers[fetcher as usize];
        match plan {
            batcher::Plan::At(t) => {
                f.timer_gen += 1;
                f.waiting = Waiting::Timer;
                let generation = f.timer_gen;
                self.queue.schedule(t.max(self.now), Event::FlushTimer { fetcher, generation });
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
        let f = &self.fetchers[fetcher as usize];
        if f.waiting != Waiting::Timer || f.timer_gen != generation {
            return; // stale
        }
        if !self.gate.is_open() {
            self.fetchers[fetcher as usize].waiting = Waiting::Gate;
            self.gate.queue.push_back(fetcher);
            return;
        }
        self.dispatch(fetcher);
    }

    /// Forms a batch now and invokes it, then plans the fetcher's next one.
    fn dispatch(&mut self, fetcher: u32) {
        self.fetchers[fetcher as usize].waiting = Waiting::Nothing;
        let candidates = self.collect_candidates(fetcher);
        for &p in &candidates {
            self.discard_oversize_front(p);
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
        self.metrics.batch_formed(batch.records as u64, reason);
        self.observer.batch_formed(self.now, &batch);
        let slot = self.store_batch(batch);
        self.invoke(slot);
        self.plan_fetcher(fetcher);
    }

    fn new_batch(&mut self, fetcher: u32, segments: Vec<Segment>, reason: crate::model::esm::FlushReason) -> Batch {
        let mut records = 0;
        let mut payload_bytes = 0;
        for s in &segments {
            self.busy[s.partition as usize] = true;
            records += s.len() as u32;
            payload_bytes += self.partitions[s.partition as usize].payload_between(s.start, s.end);
        }
        self.next_batch_id += 1;
        Batch {
            id: self.next_batch_id,
            fetcher,
            segments,
            records,
            payload_bytes,
            reason,
            formed_ns: self.now,
            invocations: 0,
            failures_in_row: 0,
            throttles_in_row: 0,
        }
    }

    fn store_batch(&mut self, batch: Batch) -> u32 {
        match self.free_slots.pop() {
            Some(slot) => {
                self.batches[slot as usize] = Some(batch);
                slot
            }
            None => {
                self.batches.push(Some(batch));
                (self.batches.len() - 1) as u32
            }
        }
    }

    pub(super) fn batch(&self, slot: u32) -> &Batch {
        live(&self.batches, slot)
    }

    pub(super) fn batch_mut(&mut self, slot: u32) -> &mut Batch {
        self.batches[slot as usize].as_mut().expect("live batch slot")
    }

    /// The batch is done with (committed or given up): free its partitions, fetcher slot and
    /// gate slot, hand the gate to whoever waits, and plan the fetcher's next batch.
    pub(super) fn retire_batch(&mut self, slot: u32) {
        let batch = self.batches[slot as usize].take().expect("live batch slot");
        self.free_slots.push(slot);
        for p in batch.partitions() {
            self.busy[p as usize] = false;
        }
        self.fetchers[batch.fetcher as usize].in_flight -= 1;
        self.gate.used -= 1;
        while self.gate.is_open() {
            let Some(waiting) = self.gate.queue.pop_front() else {
                break;
            };
            self.dispatch(waiting);
        }
        self.plan_fetcher(batch.fetcher);
    }

    /// Commits a successful batch: every record's latency, the committed offsets, stalls.
    pub(super) fn commit_batch(&mut self, slot: u32) {
        let now = self.now;
        let batch = self.batches[slot as usize].as_ref().expect("live batch slot");
        for segment in &batch.segments {
            let partition = &mut self.partitions[segment.partition as usize];
            debug_assert_eq!(partition.log_start_offset(), segment.start, "batches start at the consumer position");
            for record in partition.pop_front(segment.len() as usize) {
                self.metrics.record_latency(now - record.arrival_ns);
            }
            partition.commit(segment.end);
            self.metrics.stalls.committed(segment.partition, segment.end, now);
            self.observer.committed(now, segment);
        }
        self.metrics.succeeded += batch.records as u64;
        self.metrics.interval.succeeded += batch.records as u64;
        self.retire_batch(slot);
    }

    /// Deletes what retention has deleted from the front of a partition's log.
    pub(super) fn expire(&mut self, p: u32) -> u64 {
        let partition = &mut self.partitions[p as usize];
        let n = partition.expired(self.now, self.settings.retention_ns);
        if n == 0 {
            return 0;
        }
        let start = partition.log_start_offset();
        partition.pop_front(n);
        self.metrics.lost_to_retention += n as u64;
        self.observer.lost_to_retention(self.now, &Segment { partition: p, start, end: start + n as u64 });
        n as u64
    }

    /// A record whose payload alone exceeds the limit can never be delivered: without a
    /// destination it is dropped and counted in `discarded` (AWS_FACTS.md §2, ASSUMED), and the
    /// consumer moves past it.
    fn discard_oversize_front(&mut self, p: u32) {
        loop {
            let partition = &mut self.partitions[p as usize];
            let oversize = partition.front().is_some_and(|r| r.arrival_ns <= self.now)
                && partition.payload_of_first(1) > self.settings.rules.record_budget_bytes;
            if !oversize {
                return;
            }
            let start = partition.log_start_offset();
            partition.pop_front(1);
            partition.commit(start + 1);
            self.metrics.discarded += 1;
            self.metrics.stalls.committed(p, start + 1, self.now);
            self.observer.discarded(self.now, &Segment { partition: p, start, end: start + 1 });
        }
    }
}
