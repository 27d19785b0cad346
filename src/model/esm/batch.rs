//! A batch: what one invocation carries. Consecutive offsets of one or more partitions.

use crate::engine::SimTime;
use serde::Serialize;

/// What flushed a batch (the README's "Batching rules", under the `esm` scenario reference).
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

/// Part of a batch still to be delivered: after a bisect, the second half waits here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub segments: Vec<Segment>,
    /// Invocations that carried these records, inherited through bisects
    /// (`approximateInvokeCount`).
    pub invocations: u32,
    /// Failed attempts counted against `maximum_retry_attempts`.
    pub failed_attempts: u32,
}

/// A batch from the moment it is formed until every record in it is resolved. Its partitions
/// have no other batch outstanding meanwhile.
#[derive(Clone, Debug)]
pub struct Batch {
    pub id: u64,
    pub fetcher: u32,
    pub reason: FlushReason,
    pub formed_ns: SimTime,
    /// The piece being delivered now.
    pub current: Piece,
    /// Pieces to deliver after it, in order.
    pub queued: std::collections::VecDeque<Piece>,
    /// Records and payload bytes of `current`.
    pub records: u32,
    pub payload_bytes: u64,
    /// Consecutive failed invocations, for the retry backoff.
    pub failures_in_row: u32,
    /// Consecutive throttles, for the throttle backoff.
    pub throttles_in_row: u32,
    pub state: BatchState,
}

/// Where a batch is in its life. Each state but `Ready` waits for one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum BatchState {
    /// Formed, or between attempts: the ESM is delivering it now.
    #[default]
    Ready,
    /// An invocation is running and will end as the handler decided.
    InFlight(Box<Running>),
    /// The invoke was throttled; it is tried again after the throttle backoff.
    Throttled,
    /// The invocation failed; it is fetched again after the retry backoff.
    AwaitingRetry,
}

/// An invocation in flight and how it will end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Running {
    pub started_ns: SimTime,
    pub cold: bool,
    /// The execution environment it runs in.
    pub environment: u64,
    /// Init overran its limit and was run again inside this invocation.
    pub reinit: bool,
    pub billed_ms: u64,
    pub result: crate::model::handler::HandlerResult,
    /// It ran in a provisioned environment (provisioned concurrency's duration price).
    pub provisioned: bool,
    /// Its environment was resumed from a SnapStart snapshot (a restore is charged).
    pub restored: bool,
}

impl Batch {
    pub fn segments(&self) -> &[Segment] {
        &self.current.segments
    }

    /// Every partition the batch still holds, in the current piece or a queued one.
    pub fn holds(&self, partition: u32) -> bool {
        self.current
            .segments
            .iter()
            .chain(self.queued.iter().flat_map(|p| &p.segments))
            .any(|s| s.partition == partition)
    }

    /// Splits the current piece into two halves by record count; returns the second half.
    pub fn split_current(&mut self, reset_retries: bool) -> Piece {
        let half = (self.records / 2) as u64;
        let (mut first, mut second) = (Vec::new(), Vec::new());
        let mut taken = 0;
        for s in &self.current.segments {
            let take = half.saturating_sub(taken).min(s.len());
            if take > 0 {
                first.push(Segment { partition: s.partition, start: s.start, end: s.start + take });
            }
            if take < s.len() {
                second.push(Segment { partition: s.partition, start: s.start + take, end: s.end });
            }
            taken += take;
        }
        let failed_attempts = if reset_retries { 0 } else { self.current.failed_attempts };
        self.current = Piece { segments: first, invocations: self.current.invocations, failed_attempts };
        Piece { segments: second, ..self.current.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(segments: Vec<Segment>) -> Batch {
        let records = segments.iter().map(|s| s.len() as u32).sum();
        Batch {
            id: 1,
            fetcher: 0,
            reason: FlushReason::Size,
            formed_ns: 0,
            current: Piece { segments, invocations: 3, failed_attempts: 2 },
            queued: Default::default(),
            records,
            payload_bytes: 0,
            failures_in_row: 0,
            throttles_in_row: 0,
            state: BatchState::Ready,
        }
    }

    #[test]
    fn bisect_halves_by_record_count_across_partitions() {
        let mut b =
            batch(vec![Segment { partition: 0, start: 10, end: 13 }, Segment { partition: 1, start: 0, end: 3 }]);
        let second = b.split_current(true);
        assert_eq!(b.current.segments, vec![Segment { partition: 0, start: 10, end: 13 }]);
        assert_eq!(second.segments, vec![Segment { partition: 1, start: 0, end: 3 }]);
        assert_eq!((b.current.invocations, b.current.failed_attempts, second.failed_attempts), (3, 0, 0));
        let mut b = batch(vec![Segment { partition: 0, start: 0, end: 5 }]);
        let second = b.split_current(false);
        assert_eq!(b.current.segments, vec![Segment { partition: 0, start: 0, end: 2 }]);
        assert_eq!(second.segments, vec![Segment { partition: 0, start: 2, end: 5 }]);
        assert_eq!(second.failed_attempts, 2);
        assert!(b.holds(0) && !b.holds(1));
    }
}
