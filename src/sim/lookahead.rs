//! Drawing the next chunk of arrivals on a second thread while the run simulates this one.
//!
//! A partition's arrivals under per-partition streams depend on nothing the simulation does:
//! they are a function of (seed, producer, partition) alone. So a worker thread that owns the
//! streams can draw chunk k + 1 while the simulation runs through chunk k and hand it over
//! whole; the simulation then only stores it. Nothing flows back but empty buffers, and the
//! worker makes the same draws in the same order as the simulation would, so the outputs are
//! byte-identical with or without it (`tests/cli.rs`, `tests/arrival_streams.rs`, and every
//! random per-partition scenario in `tests/invariants.rs`). Drawing is over a quarter of the
//! instructions of a large run but about a tenth of its time (the rest waits on memory), which
//! is what this takes off its wall time when a core is free (README, "A second thread for
//! drawing").

use crate::engine::SimTime;
use crate::model::partition_streams::{PartitionStreams, Resume, Sizes};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// One partition's arrivals in a chunk.
pub struct Run {
    pub partition: u32,
    /// The stream's point before the first of them: where a partition that does not store them
    /// (it lags, `model/kafka/deferred.rs`) replays them from to count them.
    pub start: Resume,
    /// Their end in [`Chunk::times_ns`] (they start where the previous run ends).
    pub end: usize,
}

/// Every arrival before `end_ns` that no earlier chunk holds, partition by partition in
/// partition order, each partition's in time order: the order in which the simulation's own
/// drawing stores them. Kept as compact as the traffic allows (8 bytes an arrival when sizes
/// are fixed): the simulation's core reads it all from the worker's, past its own caches.
#[derive(Default)]
pub struct Chunk {
    pub end_ns: SimTime,
    pub runs: Vec<Run>,
    /// The arrivals' instants, run after run.
    pub times_ns: Vec<SimTime>,
    /// Their (payload, stored) bytes, unless every record has the same (`Sizes::Fixed`).
    sizes: Vec<(u64, u64)>,
    fixed: Option<(u64, u64)>,
}

impl Chunk {
    /// Draws the chunk ending at `self.end_ns`, reusing the buffers.
    fn draw(&mut self, streams: &mut PartitionStreams) {
        self.runs.clear();
        self.times_ns.clear();
        self.sizes.clear();
        self.fixed = streams.fixed_bytes();
        for partition in 0..streams.partitions() {
            if !streams.is_due(partition, self.end_ns) {
                continue;
            }
            let start = streams.resume_point(partition);
            streams.draw_run(partition, self.end_ns, &mut self.times_ns, &mut self.sizes);
            self.runs.push(Run { partition, start, end: self.times_ns.len() });
        }
    }

    /// Each run, with its arrivals' instants and sizes.
    pub fn runs(&self) -> impl Iterator<Item = (&Run, &[SimTime], Sizes<'_>)> {
        let starts = std::iter::once(0).chain(self.runs.iter().map(|r| r.end));
        self.runs.iter().zip(starts).map(|(run, start)| {
            let each = if self.fixed.is_some() { &[][..] } else { &self.sizes[start..run.end] };
            (run, &self.times_ns[start..run.end], Sizes::of(self.fixed, each))
        })
    }
}

/// The worker thread and the chunks on their way to and from it.
pub struct Lookahead {
    /// Empty chunks to draw, each with its end set (dropped to stop the worker).
    requests: Option<SyncSender<Chunk>>,
    drawn: Receiver<Chunk>,
    /// A stored chunk's buffers, for the next request.
    spare: Option<Chunk>,
    /// Chunks asked for and not yet taken.
    pending: usize,
    /// The index of the producer whose streams the worker draws.
    producer: u32,
    worker: Option<JoinHandle<()>>,
}

impl Lookahead {
    /// A worker drawing `streams`, starting with the chunk ending at `first_end_ns`; `Err`
    /// gives the streams back when no thread can be started.
    pub fn start(streams: PartitionStreams, first_end_ns: SimTime) -> Result<Self, PartitionStreams> {
        // At most two chunks are out at once (the one drawn and the one being drawn), so no
        // send blocks.
        let (requests, to_draw) = sync_channel::<Chunk>(2);
        let (done, drawn) = sync_channel::<Chunk>(2);
        let (hand_over, streams_in) = sync_channel::<PartitionStreams>(1);
        let worker = std::thread::Builder::new().name("esmsim-lookahead".into()).spawn(move || {
            let Ok(mut streams) = streams_in.recv() else { return };
            for mut chunk in to_draw {
                chunk.draw(&mut streams);
                if done.send(chunk).is_err() {
                    return;
                }
            }
        });
        let Ok(worker) = worker else { return Err(streams) };
        let producer = streams.producer();
        hand_over.send(streams).expect("the worker waits for its streams");
        let mut lookahead =
            Lookahead { requests: Some(requests), drawn, spare: None, pending: 0, producer, worker: Some(worker) };
        lookahead.request(first_end_ns);
        Ok(lookahead)
    }

    fn request(&mut self, end_ns: SimTime) {
        let mut chunk = self.spare.take().unwrap_or_default();
        chunk.end_ns = end_ns;
        let requests = self.requests.as_ref().expect("requests stop only when dropped");
        requests.send(chunk).expect("the worker runs until the lookahead is dropped");
        self.pending += 1;
    }

    /// The chunk ending at `end_ns` (the next one asked for), after asking for the one ending
    /// at `next_end_ns`, if any, so that it is drawn while this one is simulated. `None` once
    /// the last chunk (the one that reached the run's end) has been taken: nothing is left.
    pub fn take(&mut self, end_ns: SimTime, next_end_ns: Option<SimTime>) -> Option<Chunk> {
        if self.pending == 0 {
            return None;
        }
        if let Some(next) = next_end_ns {
            self.request(next);
        }
        let chunk = self.drawn.recv().expect("the worker runs until the lookahead is dropped");
        self.pending -= 1;
        assert_eq!(chunk.end_ns, end_ns, "chunks are taken in the order asked for");
        Some(chunk)
    }

    /// The index of the producer whose streams the worker draws.
    pub fn producer(&self) -> u32 {
        self.producer
    }

    /// Gives back a chunk that has been stored, for its buffers.
    pub fn recycle(&mut self, chunk: Chunk) {
        self.spare = Some(chunk);
    }
}

impl Drop for Lookahead {
    fn drop(&mut self) {
        // Without requests the worker ends once it has drawn what it was asked for.
        self.requests = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
