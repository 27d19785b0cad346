//! `esmsim explain TRACE --partition P --offset O`: one record's life, read back from a trace.

use serde_json::Value;
use std::collections::BTreeMap;

type Segments = Vec<(u32, u64, u64)>;

fn segments_of(v: &Value) -> Segments {
    v.as_array()
        .map(|list| {
            list.iter()
                .filter_map(|s| Some((s["partition"].as_u64()? as u32, s["start"].as_u64()?, s["end"].as_u64()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn records(n: u64) -> String {
    if n == 1 { "1 record".into() } else { format!("{n} records") }
}

fn seconds(ns: i64) -> String {
    format!("{:>10.3} s", ns as f64 / 1e9)
}

/// What the outcome object of an `invoke_end` event means for the record (p, o).
fn describe_outcome(outcome: &Value, p: u32, o: u64) -> String {
    let at = outcome["at"].as_array().and_then(|a| Some((a.first()?.as_u64()? as u32, a.get(1)?.as_u64()?)));
    let here = at == Some((p, o));
    let place = |at: Option<(u32, u64)>| at.map_or(String::new(), |(ap, ao)| format!(" at {ap}:{ao}"));
    match outcome["result"].as_str().unwrap_or("") {
        "success" => "succeeded".into(),
        "error" if here => "failed: the handler threw at this record".into(),
        "error" if at.is_some() => format!("failed: the handler threw{}", place(at)),
        "error" => "failed as a whole (transient error or outage)".into(),
        "timeout" if here => "timed out: the handler hung on this record".into(),
        "timeout" => format!("timed out{}", place(at)),
        "crash" if here => "failed: the runtime crashed on this record; its environment is gone".into(),
        "crash" => format!("failed: the runtime crashed{}", place(at)),
        "partial" => format!("returned batchItemFailures naming {} record(s)", outcome["failed"]),
        other => other.to_string(),
    }
}

/// The timeline of record `offset` of `partition`, one line per event, from a trace's text.
pub fn explain(trace: &str, partition: u32, offset: u64) -> Result<Vec<String>, String> {
    let mut story = Story { partition, offset, ..Default::default() };
    for (number, text) in trace.lines().enumerate() {
        let event: Value = serde_json::from_str(text).map_err(|err| format!("line {}: not JSON: {err}", number + 1))?;
        story.event(&event);
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
    current: BTreeMap<u64, Segments>,
    arrival: Option<String>,
    resolved: bool,
    committed: bool,
}

impl Story {
    fn contains(&self, segments: &Segments) -> bool {
        segments.iter().any(|&(p, s, e)| p == self.partition && s <= self.offset && self.offset < e)
    }

    fn say(&mut self, t_ns: i64, what: String) {
        self.lines.push(format!("{}  {what}", seconds(t_ns)));
    }

    fn event(&mut self, e: &Value) {
        let t = e["t_ns"].as_i64().unwrap_or(0);
        let batch = e["batch"].as_u64().unwrap_or(0);
        let in_current = self.current.get(&batch).is_some_and(|s| self.contains(s));
        match e["event"].as_str().unwrap_or("") {
            "header" => self.header(&e["run"]),
            "batch_formed" => self.batch_formed(t, batch, e),
            "invoke_start" => self.invoke_start(t, batch, e),
            "invoke_end" if in_current => {
                let what = describe_outcome(&e["outcome"], self.partition, self.offset);
                self.say(t, format!("  … {what}"));
            }
            "throttle" if in_current => self.say(t, format!("batch #{batch} throttled")),
            "retry_scheduled" if in_current => {
                let at = e["at_ns"].as_i64().unwrap_or(0) as f64 / 1e9;
                let cause = e["cause"].as_str().unwrap_or("");
                self.say(t, format!("batch #{batch} will be retried at {at:.3} s ({cause})"));
            }
            "bisect" => self.bisect(t, batch, e),
            "destination" if self.contains(&segments_of(&e["segments"])) => {
                let condition = e["condition"].as_str().unwrap_or("?");
                let count = &e["approximate_invoke_count"];
                self.say(
                    t,
                    format!("sent to the on-failure destination ({condition}, approximateInvokeCount {count})"),
                );
            }
            "resolved" => self.resolved(t, e),
            "commit" => self.commit(t, e),
            _ => {}
        }
    }

    fn header(&mut self, run: &Value) {
        self.lines.push(format!(
            "record {}:{} in scenario {} (seed {}, config {})",
            self.partition,
            self.offset,
            run["scenario"].as_str().unwrap_or("?"),
            run["seed"],
            run["config_hash"].as_str().unwrap_or("?")
        ));
    }

    fn batch_formed(&mut self, t: i64, batch: u64, e: &Value) {
        let segments = segments_of(&e["segments"]);
        if !self.contains(&segments) {
            return;
        }
        let (p, o) = (self.partition as u64, self.offset);
        let segment = e["segments"].as_array().into_iter().flatten().find(|s| {
            s["partition"].as_u64() == Some(p)
                && s["start"].as_u64().is_some_and(|start| start <= o)
                && s["end"].as_u64().is_some_and(|end| o < end)
        });
        if self.arrival.is_none() {
            self.arrival = segment.map(|s| arrival_text(s, o));
        }
        let (reason, n) = (e["reason"].as_str().unwrap_or("?"), e["records"].as_u64().unwrap_or(0));
        self.say(t, format!("batch #{batch} formed (flushed by {reason}) with {}", records(n)));
        self.current.insert(batch, segments);
    }

    fn invoke_start(&mut self, t: i64, batch: u64, e: &Value) {
        let segments = segments_of(&e["segments"]);
        if self.contains(&segments) {
            let how = if e["cold"].as_bool() == Some(true) { "cold" } else { "warm" };
            let n = e["records"].as_u64().unwrap_or(0);
            self.say(t, format!("attempt {} of batch #{batch} starts ({how}, {})", e["attempt"], records(n)));
        }
        self.current.insert(batch, segments);
    }

    fn bisect(&mut self, t: i64, batch: u64, e: &Value) {
        let (first, second) = (segments_of(&e["first"]), segments_of(&e["second"]));
        let half = match (self.contains(&first), self.contains(&second)) {
            (true, _) => ("first", &first),
            (_, true) => ("second", &second),
            _ => return,
        };
        let n: u64 = half.1.iter().map(|s| s.2 - s.1).sum();
        self.say(t, format!("batch #{batch} bisected: this record is in the {} half ({})", half.0, records(n)));
        self.current.insert(batch, first);
    }

    fn resolved(&mut self, t: i64, e: &Value) {
        let run = (
            e["partition"].as_u64().unwrap_or(u64::MAX) as u32,
            e["start"].as_u64().unwrap_or(0),
            e["end"].as_u64().unwrap_or(0),
        );
        if !self.resolved && self.contains(&vec![run]) {
            self.resolved = true;
            self.say(t, format!("resolved: {}", e["outcome"].as_str().unwrap_or("?").replace('_', " ")));
        }
    }

    fn commit(&mut self, t: i64, e: &Value) {
        let past = e["partition"].as_u64() == Some(self.partition as u64)
            && e["offset"].as_u64().is_some_and(|c| c > self.offset);
        if self.resolved && !self.committed && past {
            self.committed = true;
            self.say(t, format!("committed (partition {} now at offset {})", self.partition, e["offset"]));
        }
    }

    fn finish(mut self) -> Result<Vec<String>, String> {
        let (p, o) = (self.partition, self.offset);
        if self.lines.len() <= 1 {
            return Err(format!(
                "record {p}:{o} does not appear in the trace (was it traced with --trace-partition {p}?)"
            ));
        }
        let arrival = self.arrival.unwrap_or_else(|| "unknown (never in a traced batch)".into());
        self.lines.insert(1, format!("  arrived: {arrival}"));
        if !self.resolved {
            self.lines.push("  not resolved by the end of the run".into());
        }
        Ok(self.lines)
    }
}

fn arrival_text(segment: &Value, o: u64) -> String {
    let start = segment["start"].as_u64().unwrap_or(0);
    let end = segment["end"].as_u64().unwrap_or(0);
    let exact = segment["arrivals_ns"].as_array().and_then(|a| a.get((o - start) as usize)).and_then(Value::as_i64);
    let at = |ns: Option<i64>| ns.map(|ns| format!("{:.3} s", ns as f64 / 1e9));
    match exact {
        Some(ns) => at(Some(ns)).unwrap(),
        None if o == start => at(segment["first_arrival_ns"].as_i64()).unwrap_or_default(),
        None if o + 1 == end => at(segment["last_arrival_ns"].as_i64()).unwrap_or_default(),
        None => format!(
            "between {} and {} (trace with --trace-partition for the exact time)",
            at(segment["first_arrival_ns"].as_i64()).unwrap_or_default(),
            at(segment["last_arrival_ns"].as_i64()).unwrap_or_default()
        ),
    }
}
