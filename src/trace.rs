//! `--trace FILE.jsonl`: every ESM and function event in time order, one JSON object per line,
//! byte-identical for one scenario and seed. The lines are [`event::TraceEvent`]s; `explain`
//! reads them back.

pub mod event;

use crate::engine::SimTime;
use crate::metrics::Resolution;
use crate::model::destination::Condition;
use crate::model::esm::{Batch, Piece, Segment};
use crate::model::topic::Partition;
use crate::sim::{Observer, Outcome, RetryCause};
use event::{FormedSegment, RunHeader, TraceEvent, TracedSegment};
use serde_json::Value;
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

impl<W: Write> TraceWriter<W> {
    /// Starts a trace with a header naming the run; `header` has the fields of [`RunHeader`]
    /// (otherwise the header is not written and [`finish`](Self::finish) returns the error).
    pub fn new(out: W, header: Value, partition: Option<u32>, origin_ns: SimTime) -> Self {
        let mut writer = TraceWriter { out, partition, origin_ns, error: None };
        match serde_json::from_value::<RunHeader>(header) {
            Ok(run) => writer.write(&TraceEvent::Header { run }),
            Err(e) => {
                writer.error = Some(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("header: {e}")))
            }
        }
        writer
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

    fn write(&mut self, event: &TraceEvent) {
        if self.error.is_none() {
            self.error = writeln!(self.out, "{event}").err();
        }
    }

    /// A segment of a new batch with its records' arrival times: every one of them for the
    /// traced partition.
    fn formed(&self, s: &Segment, partitions: &[Partition]) -> FormedSegment {
        let log = &partitions[s.partition as usize];
        let arrival = |o: u64| self.since_origin(log.record(o).arrival_ns);
        FormedSegment {
            partition: s.partition,
            start: s.start,
            end: s.end,
            first_arrival_ns: arrival(s.start),
            last_arrival_ns: arrival(s.end - 1),
            arrivals_ns: (self.partition == Some(s.partition)).then(|| (s.start..s.end).map(arrival).collect()),
        }
    }
}

fn traced(list: &[Segment]) -> Vec<TracedSegment> {
    list.iter().map(TracedSegment::from).collect()
}

impl<W: Write> Observer for TraceWriter<W> {
    fn failed(&self) -> bool {
        self.error.is_some()
    }

    fn batch_formed(&mut self, now: SimTime, batch: &Batch, partitions: &[Partition]) {
        if self.wants(batch.segments()) {
            let segments = batch.segments().iter().map(|s| self.formed(s, partitions)).collect();
            let (t_ns, reason) = (self.since_origin(now), batch.reason.into());
            self.write(&TraceEvent::BatchFormed { t_ns, batch: batch.id, reason, records: batch.records, segments });
        }
    }

    fn invocation_started(&mut self, now: SimTime, batch: &Batch, cold: bool) {
        if self.wants(batch.segments()) {
            let attempt = batch.current.invocations;
            self.write(&TraceEvent::InvokeStart {
                t_ns: self.since_origin(now),
                batch: batch.id,
                attempt,
                cold,
                redelivery: attempt > 1,
                records: batch.records,
                segments: traced(batch.segments()),
            });
        }
    }

    fn handler_exchange(&mut self, now: SimTime, batch: &Batch, exchange: &crate::model::runtime_api::Exchange) {
        if self.wants(batch.segments()) {
            let request = serde_json::from_str(&exchange.request).unwrap_or(Value::String(exchange.request.clone()));
            self.write(&TraceEvent::Handler {
                t_ns: self.since_origin(now),
                batch: batch.id,
                environment: exchange.environment,
                request_id: exchange.request_id.clone(),
                request,
                answer: exchange.answer.clone(),
            });
        }
    }

    fn invocation_ended(&mut self, now: SimTime, batch: &Batch, outcome: Outcome) {
        if self.wants(batch.segments()) {
            let t_ns = self.since_origin(now);
            self.write(&TraceEvent::InvokeEnd { t_ns, batch: batch.id, outcome });
        }
    }

    fn throttled(&mut self, now: SimTime, batch: &Batch) {
        if self.wants(batch.segments()) {
            self.write(&TraceEvent::Throttle { t_ns: self.since_origin(now), batch: batch.id });
        }
    }

    fn retry_scheduled(&mut self, now: SimTime, batch: &Batch, at: SimTime, cause: RetryCause) {
        if self.wants(batch.segments()) {
            let (t_ns, at_ns) = (self.since_origin(now), self.since_origin(at));
            self.write(&TraceEvent::RetryScheduled { t_ns, batch: batch.id, at_ns, cause: cause.into() });
        }
    }

    fn bisected(&mut self, now: SimTime, batch: &Batch, second: &Piece) {
        if self.wants(batch.segments()) || self.wants(&second.segments) {
            let (first, second) = (traced(batch.segments()), traced(&second.segments));
            self.write(&TraceEvent::Bisect { t_ns: self.since_origin(now), batch: batch.id, first, second });
        }
    }

    fn resolved(&mut self, now: SimTime, partition: u32, start: u64, end: u64, how: Resolution) {
        if self.partition.is_none_or(|p| p == partition) {
            let t_ns = self.since_origin(now);
            self.write(&TraceEvent::Resolved { t_ns, partition, start, end, outcome: how });
        }
    }

    fn committed(&mut self, now: SimTime, partition: u32, offset: u64) {
        if self.partition.is_none_or(|p| p == partition) {
            self.write(&TraceEvent::Commit { t_ns: self.since_origin(now), partition, offset });
        }
    }

    fn delivered_to_destination(&mut self, now: SimTime, batch: u64, list: &[Segment], c: Condition, count: u32) {
        if self.wants(list) {
            self.write(&TraceEvent::Destination {
                t_ns: self.since_origin(now),
                batch,
                condition: c.into(),
                approximate_invoke_count: count,
                segments: traced(list),
            });
        }
    }
}
