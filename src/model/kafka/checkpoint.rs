//! What the ESM may commit after a partial batch response (`batchItemFailures`).
//!
//! Kafka commits an offset per partition, so everything below it is done: the ESM commits up to
//! the lowest failed record and redelivers from there ([`PrefixCommit`], AWS's behaviour). The
//! seed article counts every success as done and retries only the failed records
//! ([`PerRecordCommit`], an explicit option).

use crate::config::PartialBatchCommit;
use crate::model::esm::Segment;

/// What happens to one segment of a batch after a partial batch response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartialCheckpoint {
    /// Records below this offset succeeded and commit now (the log's front moves).
    pub commit_to: Option<u64>,
    /// Ranges `start..end` that succeeded ahead of the committed offset.
    pub succeeded_ahead: Vec<(u64, u64)>,
    /// What is redelivered.
    pub retry: Vec<Segment>,
}

/// A source's rule for committing after a partial batch response.
pub trait CheckpointPolicy {
    /// `failed` holds the segment's failed offsets, sorted.
    fn after_partial(&self, segment: Segment, failed: &[u64]) -> PartialCheckpoint;
    /// Whether successes are resolved ahead of the committed offset (the front of each log is
    /// then committed once every segment is done).
    fn resolves_ahead(&self) -> bool;
}

/// Kafka's rule: commit up to the lowest failed offset and redeliver from there.
pub struct PrefixCommit;

impl CheckpointPolicy for PrefixCommit {
    fn after_partial(&self, s: Segment, failed: &[u64]) -> PartialCheckpoint {
        let lowest = failed.first().copied().unwrap_or(s.end);
        let retry = if lowest < s.end { vec![Segment { start: lowest, ..s }] } else { vec![] };
        PartialCheckpoint { commit_to: Some(lowest), succeeded_ahead: vec![], retry }
    }

    fn resolves_ahead(&self) -> bool {
        false
    }
}

/// The seed article's rule: every success is done now; only the failed records are retried.
pub struct PerRecordCommit;

impl CheckpointPolicy for PerRecordCommit {
    fn after_partial(&self, s: Segment, failed: &[u64]) -> PartialCheckpoint {
        let mut out = PartialCheckpoint::default();
        let mut next = s.start;
        for &offset in failed {
            if offset > next {
                out.succeeded_ahead.push((next, offset));
            }
            out.retry.push(Segment { partition: s.partition, start: offset, end: offset + 1 });
            next = offset + 1;
        }
        if next < s.end {
            out.succeeded_ahead.push((next, s.end));
        }
        out
    }

    fn resolves_ahead(&self) -> bool {
        true
    }
}

/// The policy a mapping is configured with.
pub fn policy(rule: PartialBatchCommit) -> &'static dyn CheckpointPolicy {
    match rule {
        PartialBatchCommit::LowestFailure => &PrefixCommit,
        PartialBatchCommit::PerRecord => &PerRecordCommit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Segment = Segment { partition: 0, start: 10, end: 20 };

    #[test]
    fn prefix_commit_stops_at_the_lowest_failure() {
        let c = PrefixCommit.after_partial(S, &[13, 17]);
        assert_eq!(c.commit_to, Some(13));
        assert_eq!(c.retry, vec![Segment { partition: 0, start: 13, end: 20 }]);
        assert_eq!(PrefixCommit.after_partial(S, &[]).retry, vec![]);
    }

    #[test]
    fn per_record_commit_retries_only_the_failures() {
        let c = PerRecordCommit.after_partial(S, &[13, 17]);
        assert_eq!(c.commit_to, None);
        assert_eq!(c.succeeded_ahead, vec![(10, 13), (14, 17), (18, 20)]);
        assert_eq!(c.retry.iter().map(|s| s.start).collect::<Vec<_>>(), vec![13, 17]);
    }
}
