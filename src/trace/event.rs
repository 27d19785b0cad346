//! The trace's line format, defined once: [`TraceWriter`](super::TraceWriter) writes one
//! [`TraceEvent`] per line and `explain` reads them back.
//!
//! A line is the event as a JSON object whose keys, nested ones included, are in alphabetical
//! order (`event` and `t_ns` among them): the [`Display`](fmt::Display) of [`TraceEvent`] prints
//! it through `serde_json::Value`, whose maps sort their keys. The order of the fields below does
//! not matter. Times are nanoseconds from the scenario's t = 0, negative for a backlog record
//! that arrived before it.
//!
//! These types mirror the simulation's own (the `From` impls below map them) so that the file
//! format changes only when this module does.

use crate::{model, sim};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One line of a trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TraceEvent {
    /// The first line: which run this is.
    Header {
        run: RunHeader,
    },
    /// A batch was formed from the records of `segments`.
    BatchFormed {
        t_ns: i64,
        batch: u64,
        reason: FlushReason,
        records: u32,
        segments: Vec<FormedSegment>,
    },
    /// Attempt `attempt` (1 for the first delivery) of a batch started.
    InvokeStart {
        t_ns: i64,
        batch: u64,
        attempt: u32,
        cold: bool,
        /// `attempt > 1`: the records were delivered before.
        redelivery: bool,
        records: u32,
        segments: Vec<TracedSegment>,
    },
    InvokeEnd {
        t_ns: i64,
        batch: u64,
        outcome: Outcome,
    },
    /// A real handler's process got `request` (the event) and gave `answer`.
    Handler {
        t_ns: i64,
        batch: u64,
        environment: u64,
        request_id: String,
        request: serde_json::Value,
        answer: crate::model::runtime_api::TracedAnswer,
    },
    /// An invoke of the batch was throttled.
    Throttle {
        t_ns: i64,
        batch: u64,
    },
    /// The batch will be invoked again at `at_ns`.
    RetryScheduled {
        t_ns: i64,
        batch: u64,
        at_ns: i64,
        cause: RetryCause,
    },
    /// The batch failed and was split: `first` runs now, `second` after it.
    Bisect {
        t_ns: i64,
        batch: u64,
        first: Vec<TracedSegment>,
        second: Vec<TracedSegment>,
    },
    /// Offsets `start..end` of `partition` reached their final outcome.
    Resolved {
        t_ns: i64,
        partition: u32,
        start: u64,
        end: u64,
        outcome: Resolution,
    },
    /// The committed offset of `partition` moved to `offset`.
    Commit {
        t_ns: i64,
        partition: u32,
        offset: u64,
    },
    /// Records were sent to the on-failure destination.
    Destination {
        t_ns: i64,
        batch: u64,
        condition: Condition,
        approximate_invoke_count: u32,
        segments: Vec<TracedSegment>,
    },
}

impl fmt::Display for TraceEvent {
    /// The event as its trace line, without the newline.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let line = serde_json::to_value(self).map_err(|_| fmt::Error)?;
        write!(f, "{line}")
    }
}

/// The run a trace belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunHeader {
    pub scenario: String,
    pub seed: u64,
    pub config_hash: String,
    pub esmsim_version: String,
}

/// Offsets `start..end` of one partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracedSegment {
    pub partition: u32,
    pub start: u64,
    pub end: u64,
}

impl TracedSegment {
    /// Whether offset `offset` of `partition` is in the segment.
    pub fn contains(&self, partition: u32, offset: u64) -> bool {
        self.partition == partition && self.start <= offset && offset < self.end
    }
}

impl From<&model::esm::Segment> for TracedSegment {
    fn from(s: &model::esm::Segment) -> Self {
        TracedSegment { partition: s.partition, start: s.start, end: s.end }
    }
}

/// A segment of a newly formed batch, with its records' arrival times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormedSegment {
    pub partition: u32,
    pub start: u64,
    pub end: u64,
    pub first_arrival_ns: i64,
    pub last_arrival_ns: i64,
    /// Every record's arrival, in offset order; only for the partition a trace is limited to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals_ns: Option<Vec<i64>>,
}

impl FormedSegment {
    /// The offsets, without the arrival times.
    pub fn offsets(&self) -> TracedSegment {
        TracedSegment { partition: self.partition, start: self.start, end: self.end }
    }
}

/// What flushed a batch; displays as its trace name, e.g. `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlushReason {
    Size,
    Window,
    Payload,
}

impl From<model::esm::FlushReason> for FlushReason {
    fn from(reason: model::esm::FlushReason) -> Self {
        use model::esm::FlushReason as R;
        match reason {
            R::Size => FlushReason::Size,
            R::Window => FlushReason::Window,
            R::Payload => FlushReason::Payload,
        }
    }
}

/// How an invocation ended; `at` is a record as `[partition, offset]`. One type with the
/// simulation's, so the trace always says what the handler decided.
pub use crate::model::handler::Outcome;

/// Why a batch is invoked again; displays as its trace name, e.g. `bisect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryCause {
    Failure,
    Bisect,
    Throttle,
}

impl From<sim::RetryCause> for RetryCause {
    fn from(cause: sim::RetryCause) -> Self {
        match cause {
            sim::RetryCause::Failure => RetryCause::Failure,
            sim::RetryCause::Bisect => RetryCause::Bisect,
            sim::RetryCause::Throttle => RetryCause::Throttle,
        }
    }
}

/// How records were resolved; displays as its trace name, e.g. `lost_to_retention`. One type
/// with the metrics', so the trace and the summary name outcomes alike.
pub use crate::metrics::Resolution;

/// Why records went to the on-failure destination, by AWS's name for it, e.g.
/// `RetryAttemptsExhausted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Condition {
    RetryAttemptsExhausted,
    MaximumPayloadSizeExceeded,
    #[serde(rename = "SCHEMA_NOT_FOUND")]
    SchemaNotFound,
    #[serde(rename = "DESERIALIZATION_ERROR")]
    DeserializationError,
}

impl From<model::destination::Condition> for Condition {
    fn from(condition: model::destination::Condition) -> Self {
        use model::destination::Condition as C;
        match condition {
            C::RetryAttemptsExhausted => Condition::RetryAttemptsExhausted,
            C::MaximumPayloadSizeExceeded => Condition::MaximumPayloadSizeExceeded,
            C::SchemaNotFound => Condition::SchemaNotFound,
            C::DeserializationError => Condition::DeserializationError,
        }
    }
}

/// The name of each unit enum in the trace is its serde name, so it is written in one place.
macro_rules! display_by_serde_name {
    ($($name:ty),*) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                self.serialize(f)
            }
        }
    )*};
}

display_by_serde_name!(FlushReason, RetryCause, Resolution, Condition);

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(event: TraceEvent, line: &str) {
        assert_eq!(event.to_string(), line);
        assert_eq!(serde_json::from_str::<TraceEvent>(line).unwrap(), event);
    }

    #[test]
    fn lines_have_sorted_keys_and_read_back() {
        let run = RunHeader { scenario: "s".into(), seed: 7, config_hash: "ab".into(), esmsim_version: "0.1.0".into() };
        round_trip(
            TraceEvent::Header { run },
            r#"{"event":"header","run":{"config_hash":"ab","esmsim_version":"0.1.0","scenario":"s","seed":7}}"#,
        );
        round_trip(
            TraceEvent::InvokeEnd { t_ns: -5, batch: 3, outcome: Outcome::Error { at: None } },
            r#"{"batch":3,"event":"invoke_end","outcome":{"at":null,"result":"error"},"t_ns":-5}"#,
        );
        round_trip(
            TraceEvent::InvokeEnd {
                t_ns: 1,
                batch: 3,
                outcome: Outcome::Crash { at: crate::model::record::RecordKey::new(2, 9) },
            },
            r#"{"batch":3,"event":"invoke_end","outcome":{"at":[2,9],"result":"crash"},"t_ns":1}"#,
        );
        let segment = |arrivals_ns| FormedSegment {
            partition: 1,
            start: 4,
            end: 6,
            first_arrival_ns: 10,
            last_arrival_ns: 20,
            arrivals_ns,
        };
        round_trip(
            TraceEvent::BatchFormed {
                t_ns: 30,
                batch: 1,
                reason: FlushReason::Window,
                records: 2,
                segments: vec![segment(Some(vec![10, 20])), segment(None)],
            },
            concat!(
                r#"{"batch":1,"event":"batch_formed","reason":"window","records":2,"segments":["#,
                r#"{"arrivals_ns":[10,20],"end":6,"first_arrival_ns":10,"last_arrival_ns":20,"partition":1,"start":4},"#,
                r#"{"end":6,"first_arrival_ns":10,"last_arrival_ns":20,"partition":1,"start":4}],"t_ns":30}"#
            ),
        );
        round_trip(
            TraceEvent::Resolved { t_ns: 0, partition: 0, start: 1, end: 2, outcome: Resolution::ToDestination },
            r#"{"end":2,"event":"resolved","outcome":"destination","partition":0,"start":1,"t_ns":0}"#,
        );
    }

    #[test]
    fn unit_enums_display_their_trace_names() {
        assert_eq!(Resolution::LostToRetention.to_string(), "lost_to_retention");
        assert_eq!(Resolution::ToDestination.to_string(), "destination");
        assert_eq!(RetryCause::Bisect.to_string(), "bisect");
        assert_eq!(FlushReason::Payload.to_string(), "payload");
        assert_eq!(Condition::MaximumPayloadSizeExceeded.to_string(), "MaximumPayloadSizeExceeded");
    }
}
