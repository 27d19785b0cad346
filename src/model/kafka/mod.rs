//! What is Kafka's own, kept apart so that another event source (Kinesis, SQS) can sit beside
//! it: the partition log with offsets and a committed offset, the backlog, the range assignor
//! that gives pollers their partitions, the prefix commit rule, and the shape of the failure
//! records Lambda writes for a Kafka mapping.
//!
//! The rest of the model names records by [`RecordKey`](super::record::RecordKey) (lane =
//! partition, position = offset) and asks a [`CheckpointPolicy`] what it may commit.

pub mod assignor;
pub mod backlog;
pub mod checkpoint;
pub mod deferred;
pub mod destination;
pub mod log_buffer;
pub mod topic;

pub use assignor::range_assignment;
pub use checkpoint::{CheckpointPolicy, PartialCheckpoint, PerRecordCommit, PrefixCommit};
