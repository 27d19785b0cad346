//! `esmsim explain TRACE --partition P --offset O`: one record's life, read back from a trace.

use crate::model::record::RecordKey;
use crate::trace::event::{FlushReason, FormedSegment, Outcome, Resolution, RunHeader, TraceEvent, TracedSegment};
use serde_json::error::Category;
use std::collections::BTreeMap;

/// Why a record's life could not be told; each renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// A line (counted from 1) is not JSON.
    #[error("line {line}: not JSON: {source}")]
    NotJson { line: usize, source: serde_json::Error },
    /// A line (counted from 1) is JSON but not a trace event.
    #[error("line {line}: not a trace event: {source}")]
    NotAnEvent { line: usize, source: serde_json::Error },
    /// No traced batch holds the record.
    #[error(
        "record {partition}:{offset} does not appear in the trace (was it traced with --trace-partition {partition}?)"
    )]
    NotInTrace { partition: u32, offset: u64 },
}

impl ExplainError {
    fn at_line(line: usize, source: serde_json::Error) -> Self {
        match source.classify() {
            Category::Data => ExplainError::NotAnEvent { line, source },
            Category::Io | Category::Syntax | Category::Eof => ExplainError::NotJson { line, source },
        }
    }
}

fn records(n: impl Into<u64>) -> String {
    let n = n.into();
    if n == 1 { "1 record".into() } else { format!("{n} records") }
}

fn seconds(ns: i64) -> String {
    format!("{:>10.3} s", ns as f64 / 1e9)
}

/// What an invocation's outcome means for the record `here` (partition, offset).
fn describe_outcome(outcome: Outcome, here: RecordKey) -> String {
    let place = |at: RecordKey| format!(" at {}:{}", at.lane, at.position);
    match outcome {
        Outcome::Success => "succeeded".into(),
        Outcome::Error { at: Some(at) } if at == here => "failed: the handler threw at this record".into(),
        Outcome::Error { at: Some(at) } => format!("failed: the handler threw{}", place(at)),
        Outcome::Error { at: None } => "failed as a whole (transient error or outage)".into(),
        Outcome::Timeout { at: Some(at) } if at == here => "timed out: the handler hung on this record".into(),
        Outcome::Timeout { at } => format!("timed out{}", at.map_or(String::new(), place)),
        Outcome::Crash { at } if at == here => {
            "failed: the runtime crashed on this record; its environment is gone".into()
        }
        Outcome::Crash { at } => format!("failed: the runtime crashed{}", place(at)),
        Outcome::Partial { failed, invalid: false } => format!("returned batchItemFailures naming {failed} record(s)"),
        Outcome::Partial { failed, invalid: true } => {
            format!("returned batchItemFailures for {failed} record(s) with identifiers Lambda cannot match")
        }
    }
}

/// The timeline of record `offset` of `partition`, one line per event, from a trace's text.
pub fn explain(trace: &str, partition: u32, offset: u64) -> Result<Vec<String>, ExplainError> {
    let mut story = Story { partition, offset, ..Default::default() };
    for (index, text) in trace.lines().enumerate() {
        let event = serde_json::from_str(text).map_err(|source| ExplainError::at_line(index + 1, source))?;
        story.event(event);
    }
    story.finish()
}

/// One record's life as the trace's events are read, in order.
#[derive(Default)]
struct Story {
    partition: u32,
    offset: u64,
    lines: Vec<String>,
    /// The segments each batch is delivering now (a bisect or partial commit changes them).
    current: BTreeMap<u64, Vec<TracedSegment>>,
    arrival: Option<String>,
    resolved: bool,
    committed: bool,
    /// Batches whose current invocation a real handler answered.
    answered: std::collections::BTreeSet<u64>,
}

impl Story {
    fn contains(&self, segments: &[TracedSegment]) -> bool {
        segments.iter().any(|s| s.contains(self.partition, self.offset))
    }

    /// Whether the batch is delivering the record now.
    fn in_current(&self, batch: u64) -> bool {
        self.current.get(&batch).is_some_and(|s| self.contains(s))
    }

    fn say(&mut self, t_ns: i64, what: String) {
        self.lines.push(format!("{}  {what}", seconds(t_ns)));
    }

    fn event(&mut self, event: TraceEvent) {
        match event {
            TraceEvent::Header { run } => self.header(&run),
            TraceEvent::BatchFormed { t_ns, batch, reason, records: n, segments } => {
                self.batch_formed(t_ns, batch, reason, n, &segments)
            }
            TraceEvent::InvokeStart { t_ns, batch, attempt, cold, records: n, segments, .. } => {
                if self.contains(&segments) {
                    let how = if cold { "cold" } else { "warm" };
                    self.say(t_ns, format!("attempt {attempt} of batch #{batch} starts ({how}, {})", records(n)));
                }
                self.current.insert(batch, segments);
            }
            TraceEvent::Handler { t_ns, batch, environment, answer, .. } if self.in_current(batch) => {
                self.say(t_ns, format!("  … the handler (environment {environment}) {}", answer.summary()));
                self.answered.insert(batch);
            }
            TraceEvent::InvokeEnd { t_ns, batch, outcome } if self.in_current(batch) => {
                let what = match outcome {
                    Outcome::Error { at: None } if self.answered.remove(&batch) => {
                        "failed: the handler raised an error".into()
                    }
                    _ => describe_outcome(outcome, RecordKey::new(self.partition, self.offset)),
                };
                self.say(t_ns, format!("  … {what}"));
            }
            TraceEvent::Throttle { t_ns, batch } if self.in_current(batch) => {
                self.say(t_ns, format!("batch #{batch} throttled"))
            }
            TraceEvent::RetryScheduled { t_ns, batch, at_ns, cause } if self.in_current(batch) => {
                let at = at_ns as f64 / 1e9;
                self.say(t_ns, format!("batch #{batch} will be retried at {at:.3} s ({cause})"));
            }
            TraceEvent::Bisect { t_ns, batch, first, second } => self.bisect(t_ns, batch, first, &second),
            TraceEvent::Destination { t_ns, condition, approximate_invoke_count: count, segments, .. }
                if self.contains(&segments) =>
            {
                let what = format!("sent to the on-failure destination ({condition}, approximateInvokeCount {count})");
                self.say(t_ns, what);
            }
            TraceEvent::Resolved { t_ns, partition, start, end, outcome } => {
                self.resolved(t_ns, TracedSegment { partition, start, end }, outcome)
            }
            TraceEvent::Commit { t_ns, partition, offset } => self.commit(t_ns, partition, offset),
            TraceEvent::InvokeEnd { .. }
            | TraceEvent::Handler { .. }
            | TraceEvent::Throttle { .. }
            | TraceEvent::RetryScheduled { .. }
            | TraceEvent::Destination { .. } => {}
        }
    }

    fn header(&mut self, run: &RunHeader) {
        self.lines.push(format!(
            "record {}:{} in scenario {} (seed {}, config {})",
            self.partition, self.offset, run.scenario, run.seed, run.config_hash
        ));
    }

    fn batch_formed(&mut self, t: i64, batch: u64, reason: FlushReason, n: u32, segments: &[FormedSegment]) {
        let Some(segment) = segments.iter().find(|s| s.offsets().contains(self.partition, self.offset)) else {
            return;
        };
        if self.arrival.is_none() {
            self.arrival = Some(arrival_text(segment, self.offset));
        }
        self.say(t, format!("batch #{batch} formed (flushed by {reason}) with {}", records(n)));
        self.current.insert(batch, segments.iter().map(FormedSegment::offsets).collect());
    }

    fn bisect(&mut self, t: i64, batch: u64, first: Vec<TracedSegment>, second: &[TracedSegment]) {
        let (which, half) = match (self.contains(&first), self.contains(second)) {
            (true, _) => ("first", first.as_slice()),
            (_, true) => ("second", second),
            _ => return,
        };
        let n: u64 = half.iter().map(|s| s.end - s.start).sum();
        self.say(t, format!("batch #{batch} bisected: this record is in the {which} half ({})", records(n)));
        self.current.insert(batch, first);
    }

    fn resolved(&mut self, t: i64, run: TracedSegment, how: Resolution) {
        if !self.resolved && self.contains(&[run]) {
            self.resolved = true;
            self.say(t, format!("resolved: {}", how.to_string().replace('_', " ")));
        }
    }

    fn commit(&mut self, t: i64, partition: u32, offset: u64) {
        if self.resolved && !self.committed && partition == self.partition && offset > self.offset {
            self.committed = true;
            self.say(t, format!("committed (partition {} now at offset {offset})", self.partition));
        }
    }

    fn finish(mut self) -> Result<Vec<String>, ExplainError> {
        if self.lines.len() <= 1 {
            return Err(ExplainError::NotInTrace { partition: self.partition, offset: self.offset });
        }
        let arrival = self.arrival.unwrap_or_else(|| "unknown (never in a traced batch)".into());
        self.lines.insert(1, format!("  arrived: {arrival}"));
        if !self.resolved {
            self.lines.push("  not resolved by the end of the run".into());
        }
        Ok(self.lines)
    }
}

/// When record `o` of a formed segment arrived: exactly if the trace has it.
fn arrival_text(segment: &FormedSegment, o: u64) -> String {
    let exact = segment.arrivals_ns.as_ref().and_then(|a| a.get((o - segment.start) as usize));
    let at = |ns: i64| format!("{:.3} s", ns as f64 / 1e9);
    match exact {
        Some(&ns) => at(ns),
        None if o == segment.start => at(segment.first_arrival_ns),
        None if o + 1 == segment.end => at(segment.last_arrival_ns),
        None => format!(
            "between {} and {} (trace with --trace-partition for the exact time)",
            at(segment.first_arrival_ns),
            at(segment.last_arrival_ns)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        r#"{"event":"header","run":{"config_hash":"ab","esmsim_version":"0.1.0","scenario":"s","seed":7}}"#;

    #[test]
    fn a_bad_line_is_one_error_naming_its_number() {
        let not_json = explain(&format!("{HEADER}\nnot json\n"), 0, 0).unwrap_err();
        assert_eq!(not_json.to_string(), "line 2: not JSON: expected ident at line 1 column 2");
        let not_event = explain(&format!("{HEADER}\n{{\"event\":\"nope\"}}\n"), 0, 0).unwrap_err().to_string();
        assert!(not_event.starts_with("line 2: not a trace event: unknown variant `nope`"), "{not_event}");
        assert!(!not_event.contains('\n'));
    }

    #[test]
    fn a_record_in_no_traced_batch_is_an_error() {
        let missing = explain(HEADER, 3, 9).unwrap_err().to_string();
        assert_eq!(missing, "record 3:9 does not appear in the trace (was it traced with --trace-partition 3?)");
    }
}
