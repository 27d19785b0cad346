//! A batch: what one invocation carries. Consecutive offsets of one or more partitions.

use crate::engine::SimTime;
use serde::Serialize;

/// What flushed a batch (DESIGN.md, batching rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlushReason {
    Size,
    Window,
    Payload,
}

/// Offsets `start..end` of one partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub partition: u32,
    pub start: u64,
    pub end: u64,
}

impl Segment {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// A batch from the moment it is formed until its records are committed or given up.
#[derive(Clone, Debug)]
pub struct Batch {
    pub id: u64,
    pub fetcher: u32,
    pub segments: Vec<Segment>,
    pub records: u32,
    pub payload_bytes: u64,
    pub reason: FlushReason,
    pub formed_ns: SimTime,
    /// Invocations that started with this batch (throttled attempts excluded).
    pub invocations: u32,
    /// Consecutive function failures, for the retry backoff.
    pub failures_in_row: u32,
    /// Consecutive throttles, for the throttle backoff.
    pub throttles_in_row: u32,
}

impl Batch {
    pub fn partitions(&self) -> impl Iterator<Item = u32> + '_ {
        self.segments.iter().map(|s| s.partition)
    }
}
