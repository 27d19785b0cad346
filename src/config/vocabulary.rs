//! Value types that mean the same in the scenario file and in the configuration: plain choices
//! with no defaults that depend on other fields. The scenario module re-exports them under the
//! names the file uses.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    #[default]
    X86_64,
    Arm64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    #[default]
    Poisson,
    Constant,
}

/// How Poisson producers draw their arrivals (`arrival_streams`). Both give the same arrival
/// process; they differ in the random draws, so in the sample path of a seed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalStreams {
    /// One stream per producer: each arrival's time, then its partition (v0.1's sample paths).
    PerProducer,
    /// One stream per (producer, partition), at the partition's share of the rate: no partition
    /// pick and no scatter, and a partition's arrivals depend only on its own stream. The
    /// default since v0.2.0.
    #[default]
    PerPartition,
}

/// The handler's reaction to a record it cannot process (`failures.handler`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandlerBehaviour {
    /// Throw at the first bad record: the whole invocation fails.
    #[default]
    FailBatch,
    /// Process every record and return `batchItemFailures` naming the bad ones.
    ReportFailures,
    /// Return `batchItemFailures` for the bad records, but with identifiers Lambda cannot match
    /// (a classic bug): with `ReportBatchItemFailures` the whole batch counts as failed.
    ReportInvalidIds,
}

/// What a poison record does to the invocation that meets it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The handler throws at it (or reports it).
    #[default]
    Error,
    /// The handler hangs until the function times out; no partial response is possible.
    Timeout,
    /// The runtime exits: the environment is destroyed and the next invocation is cold.
    Crash,
}

/// What a partial batch response commits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartialBatchCommit {
    /// Per partition, commit up to the lowest failed offset and redeliver from there (Kafka can
    /// only commit a prefix; Kinesis documents the same checkpoint rule).
    #[default]
    LowestFailure,
    /// The seed article's model: every success counts as done; only failed records are retried.
    PerRecord,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    Sqs,
    Sns,
    S3,
    Kafka,
}
