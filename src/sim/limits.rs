//! What stops a run before its end: the memory budget, checked as records enter the topic (the
//! only thing a run holds in proportion to its lag), and an observer that can no longer work
//! (a trace whose disk is full).

use super::{Observer, Simulation};
use crate::model::topic::Partition;

/// Bounds a run is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes the run may hold in its partitions' logs, destination lines and chunk buffers.
    pub memory_bytes: u64,
}

impl Limits {
    /// No bound: the run goes to its end.
    pub const NONE: Limits = Limits { memory_bytes: u64::MAX };
}

/// Why a run stopped early.
#[derive(Clone, Debug, PartialEq)]
pub enum Stopped {
    /// The backlog alone would not fit: `records` over all partitions.
    Backlog { records: u64, bytes: u64, budget: u64 },
    /// The records held (lag, plus arrivals generated ahead) reached `records` at `at_s`
    /// seconds of the scenario's clock.
    Lag { records: u64, bytes: u64, budget: u64, at_s: f64 },
    /// The observer reported a failure (its own error says which).
    Observer,
    /// The real handler can no longer run (it cannot start, died during init, or broke the
    /// Runtime API): why.
    Handler(String),
}

/// Bytes of memory one record takes in a partition's log, at most: its arrival, and its running
/// byte totals when the partition's records differ in size (`Partition`'s `RecordSizes`).
pub const RECORD_BYTES: u64 =
    (std::mem::size_of::<crate::model::topic::Record>() + std::mem::size_of::<(u64, u64)>()) as u64;
/// Bytes counted per record held against the budget: a log grows by doubling its buffer when
/// the records consumed from its front leave less than half of what is live to reuse
/// (`model/kafka/log_buffer.rs`), so after its next growth a record may take three times its
/// size. Counting that in advance keeps the growth itself, which happens between two checks,
/// within the budget.
pub const HELD_BYTES_PER_RECORD: u64 = 3 * RECORD_BYTES;

/// Chunk buffers that may hold a chunk's arrivals at once: with a lookahead thread (`--threads
/// 2`), the chunk being stored, the one drawn and the one being drawn; otherwise at most one
/// (several producers' arrivals merged). Counted as three either way, so that where a run stops
/// does not depend on the thread count.
const CHUNKS_HELD: u64 = 3;

/// Bytes a chunk buffer takes, at most, per arrival (a merged `Arrival`; a lookahead chunk takes
/// 8 or 24) and per partition (a lookahead chunk's `Run`).
const CHUNK_BYTES_PER_ARRIVAL: u64 = std::mem::size_of::<crate::model::producer::Arrival>() as u64;
const CHUNK_BYTES_PER_PARTITION: u64 = std::mem::size_of::<super::lookahead::Run>() as u64;

/// Tracks an upper bound of what the run holds, so the exact (per-partition) count is taken
/// only when the bound nears the budget, not at every chunk.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Tally {
    /// Bytes held at the last exact count.
    held_bytes: u64,
    /// Records produced at the last exact count.
    produced: u64,
    /// Destination bytes at the last exact count (already in `held_bytes`).
    destination_bytes: u64,
}

impl<O: Observer> Simulation<O> {
    /// Checks the memory budget after producers added records; `Some` when it is exceeded.
    pub(super) fn over_budget(&mut self, limits: &Limits) -> Option<Stopped> {
        let produced_since = self.metrics.produced.saturating_sub(self.tally.produced);
        let destination_since = self.esm.destination_bytes.saturating_sub(self.tally.destination_bytes);
        let growth = produced_since.saturating_mul(HELD_BYTES_PER_RECORD).saturating_add(destination_since);
        let chunks = self.chunk_bytes();
        let bound = self.tally.held_bytes.saturating_add(growth).saturating_add(chunks);
        if bound <= limits.memory_bytes {
            return None;
        }
        let logs: u64 = self.source.logs.iter().map(held_bytes).sum();
        let held_bytes = logs.saturating_add(self.esm.destination_bytes);
        let destination_bytes = self.esm.destination_bytes;
        self.tally = Tally { held_bytes, produced: self.metrics.produced, destination_bytes };
        let bytes = held_bytes.saturating_add(chunks);
        if bytes <= limits.memory_bytes {
            return None;
        }
        let records = self.source.logs.iter().map(Partition::len).sum::<usize>() as u64;
        let at_s = self.now.saturating_sub(self.config.clock.origin_ns) as f64 / 1e9;
        Some(Stopped::Lag { records, bytes, budget: limits.memory_bytes, at_s })
    }

    /// What the chunk buffers may hold: chunks as large as the last one.
    fn chunk_bytes(&self) -> u64 {
        let per_chunk = self.source.chunk_records.saturating_mul(CHUNK_BYTES_PER_ARRIVAL)
            + self.source.logs.len() as u64 * CHUNK_BYTES_PER_PARTITION;
        CHUNKS_HELD * per_chunk
    }

    /// Checks that the backlog fits before it is put in the logs.
    pub(super) fn backlog_over_budget(&self, limits: &Limits) -> Option<Stopped> {
        let records = crate::model::backlog::count(&self.config.topic);
        let bytes = records.saturating_mul(HELD_BYTES_PER_RECORD);
        (bytes > limits.memory_bytes).then_some(Stopped::Backlog { records, bytes, budget: limits.memory_bytes })
    }
}

/// What a log holds, or will once it grows to take its next record.
fn held_bytes(log: &Partition) -> u64 {
    let room = log.capacity().max(3 * log.len()) as u64;
    room * RECORD_BYTES
}
