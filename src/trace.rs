//! `--trace FILE.jsonl`: every ESM and function event in time order, one JSON object per line,
//! byte-identical for one scenario and seed. `explain` reads it back.

use crate::engine::SimTime;
use crate::metrics::Resolution;
use crate::model::destination::Condition;
use crate::model::esm::{Batch, Piece, Segment};
use crate::model::topic::Partition;
use crate::sim::{Observer, Outcome, RetryCause};
use serde::Serialize;
use serde_json::{Value, json};
use std::io::Write;

/// Writes trace lines; keeps the first I/O error for the caller.
pub struct TraceWriter<W: Write> {
    out: W,
    /// Only events that touch this partition, and exact arrival times for its records.
    partition: Option<u32>,
    /// The scenario's t = 0 on the simulation clock: traced times are measured from it (a
    /// backlog record arrived at a negative time).
    origin_ns: SimTime,
    pub error: Option<std::io::Error>,
}

/// A batch's segment as traced.
#[derive(Serialize)]
struct TracedSegment {
    partition: u32,
    start: u64,
    end: u64,
}

impl<W: Write> TraceWriter<W> {
    /// Starts a trace with a header naming the run.
    pub fn new(mut out: W, header: Value, partition: Option<u32>, origin_ns: SimTime) -> Self {
        let error = writeln!(out, "{}", json!({ "event": "header", "run": header })).err();
        TraceWriter { out, partition, origin_ns, error }
    }

    fn since_origin(&self, t: SimTime) -> i64 {
        t as i64 - self.origin_ns as i64
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn wants(&self, segments: &[Segment]) -> bool {
        self.partition.is_none_or(|p| segments.iter().any(|s| s.partition == p))
    }

    fn write(&mut self, now: SimTime, event: &str, mut fields: Value) {
        if self.error.is_some() {
            return;
        }
        fields["t_ns"] = json!(self.since_origin(now));
        fields["event"] = json!(event);
        self.error = writeln!(self.out, "{fields}").err();
    }
}

fn segments(list: &[Segment]) -> Vec<TracedSegment> {
    list.iter().map(|s| TracedSegment { partition: s.partition, start: s.start, end: s.end }).collect()
}

impl<W: Write> Observer for TraceWriter<W> {
    fn failed(&self) -> bool {
        self.error.is_some()
    }

    fn batch_formed(&mut self, now: SimTime, batch: &Batch, partitions: &[Partition]) {
        if !self.wants(batch.segments()) {
            return;
        }
        let traced: Vec<Value> = batch
            .segments()
            .iter()
            .map(|s| {
                let log = &partitions[s.partition as usize];
                let arrival = |o: u64| self.since_origin(log.record(o).arrival_ns);
                let mut v = json!({
                    "partition": s.partition, "start": s.start, "end": s.end,
                    "first_arrival_ns": arrival(s.start),
                    "last_arrival_ns": arrival(s.end - 1),
                });
                if self.partition == Some(s.partition) {
                    v["arrivals_ns"] = (s.start..s.end).map(arrival).collect();
                }
                v
            })
            .collect();
        let fields = json!({ "batch": batch.id, "reason": batch.reason, "records": batch.records, "segments": traced });
        self.write(now, "batch_formed", fields);
    }

    fn invocation_started(&mut self, now: SimTime, batch: &Batch, cold: bool) {
        if self.wants(batch.segments()) {
            let fields = json!({
                "batch": batch.id, "attempt": batch.current.invocations, "cold": cold,
                "redelivery": batch.current.invocations > 1, "records": batch.records,
                "segments": segments(batch.segments()),
            });
            self.write(now, "invoke_start", fields);
        }
    }

    fn invocation_ended(&mut self, now: SimTime, batch: &Batch, outcome: Outcome) {
        if self.wants(batch.segments()) {
            self.write(now, "invoke_end", json!({ "batch": batch.id, "outcome": outcome }));
        }
    }

    fn throttled(&mut self, now: SimTime, batch: &Batch) {
        if self.wants(batch.segments()) {
            self.write(now, "throttle", json!({ "batch": batch.id }));
        }
    }

    fn retry_scheduled(&mut self, now: SimTime, batch: &Batch, at: SimTime, cause: RetryCause) {
        if self.wants(batch.segments()) {
            let at = self.since_origin(at);
            self.write(now, "retry_scheduled", json!({ "batch": batch.id, "at_ns": at, "cause": cause }));
        }
    }

    fn bisected(&mut self, now: SimTime, batch: &Batch, second: &Piece) {
        if self.wants(batch.segments()) || self.wants(&second.segments) {
            let fields = json!({
                "batch": batch.id, "first": segments(batch.segments()), "second": segments(&second.segments),
            });
            self.write(now, "bisect", fields);
        }
    }

    fn resolved(&mut self, now: SimTime, partition: u32, start: u64, end: u64, how: Resolution) {
        if self.partition.is_none_or(|p| p == partition) {
            let fields = json!({ "partition": partition, "start": start, "end": end, "outcome": how });
            self.write(now, "resolved", fields);
        }
    }

    fn committed(&mut self, now: SimTime, partition: u32, offset: u64) {
        if self.partition.is_none_or(|p| p == partition) {
            self.write(now, "commit", json!({ "partition": partition, "offset": offset }));
        }
    }

    fn delivered_to_destination(&mut self, now: SimTime, batch: u64, list: &[Segment], c: Condition, count: u32) {
        if self.wants(list) {
            let condition = match c {
                Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
                Condition::MaximumPayloadSizeExceeded => "MaximumPayloadSizeExceeded",
            };
            let fields = json!({
                "batch": batch, "condition": condition, "approximate_invoke_count": count, "segments": segments(list),
            });
            self.write(now, "destination", fields);
        }
    }
}
