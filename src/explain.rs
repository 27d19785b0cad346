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
    let (p, o) = (partition, offset);
    let contains = |segments: &Segments| segments.iter().any(|&(sp, s, e)| sp == p && s <= o && o < e);
    let mut lines = Vec::new();
    let mut current: BTreeMap<u64, Segments> = BTreeMap::new();
    let mut arrival: Option<String> = None;
    let mut resolved = false;
    let mut committed = false;
    for (number, text) in trace.lines().enumerate() {
        let e: Value = serde_json::from_str(text).map_err(|err| format!("line {}: not JSON: {err}", number + 1))?;
        let t = e["t_ns"].as_i64().unwrap_or(0);
        let batch = e["batch"].as_u64().unwrap_or(0);
        let in_current = current.get(&batch).is_some_and(&contains);
        let mut say = |what: String| lines.push(format!("{}  {what}", seconds(t)));
        match e["event"].as_str().unwrap_or("") {
            "header" => {
                let run = &e["run"];
                lines.push(format!(
                    "record {p}:{o} in scenario {} (seed {}, config {})",
                    run["scenario"].as_str().unwrap_or("?"),
                    run["seed"],
                    run["config_hash"].as_str().unwrap_or("?")
                ));
            }
            "batch_formed" => {
                let segments = segments_of(&e["segments"]);
                if !contains(&segments) {
                    continue;
                }
                let segment = e["segments"].as_array().into_iter().flatten().find(|s| {
                    s["partition"].as_u64() == Some(p as u64)
                        && s["start"].as_u64().is_some_and(|st| st <= o)
                        && s["end"].as_u64().is_some_and(|en| o < en)
                });
                if arrival.is_none()
                    && let Some(s) = segment
                {
                    arrival = Some(arrival_text(s, o));
                }
                let n = e["records"].as_u64().unwrap_or(0);
                say(format!(
                    "batch #{batch} formed (flushed by {}) with {}",
                    e["reason"].as_str().unwrap_or("?"),
                    records(n)
                ));
                current.insert(batch, segments);
            }
            "invoke_start" => {
                let segments = segments_of(&e["segments"]);
                if contains(&segments) {
                    let how = if e["cold"].as_bool() == Some(true) { "cold" } else { "warm" };
                    let n = e["records"].as_u64().unwrap_or(0);
                    say(format!("attempt {} of batch #{batch} starts ({how}, {})", e["attempt"], records(n)));
                }
                current.insert(batch, segments);
            }
            "invoke_end" if in_current => {
                say(format!("  … {}", describe_outcome(&e["outcome"], p, o)));
            }
            "throttle" if in_current => say(format!("batch #{batch} throttled")),
            "retry_scheduled" if in_current => {
                let at = e["at_ns"].as_i64().unwrap_or(0) as f64 / 1e9;
                say(format!("batch #{batch} will be retried at {at:.3} s ({})", e["cause"].as_str().unwrap_or("")))
            }
            "bisect" => {
                let (first, second) = (segments_of(&e["first"]), segments_of(&e["second"]));
                if contains(&first) || contains(&second) {
                    let half = if contains(&first) { "first" } else { "second" };
                    let n: u64 = (if contains(&first) { &first } else { &second }).iter().map(|s| s.2 - s.1).sum();
                    say(format!("batch #{batch} bisected: this record is in the {half} half ({})", records(n)));
                    current.insert(batch, first);
                }
            }
            "destination" if contains(&segments_of(&e["segments"])) => say(format!(
                "sent to the on-failure destination ({}, approximateInvokeCount {})",
                e["condition"].as_str().unwrap_or("?"),
                e["approximate_invoke_count"]
            )),
            "resolved"
                if !resolved
                    && contains(&vec![(
                        e["partition"].as_u64().unwrap_or(u64::MAX) as u32,
                        e["start"].as_u64().unwrap_or(0),
                        e["end"].as_u64().unwrap_or(0),
                    )]) =>
            {
                resolved = true;
                say(format!("resolved: {}", e["outcome"].as_str().unwrap_or("?").replace('_', " ")));
            }
            "commit"
                if resolved
                    && !committed
                    && e["partition"].as_u64() == Some(p as u64)
                    && e["offset"].as_u64().is_some_and(|c| c > o) =>
            {
                committed = true;
                say(format!("committed (partition {p} now at offset {})", e["offset"]));
            }
            _ => {}
        }
    }
    if lines.len() <= 1 {
        return Err(format!("record {p}:{o} does not appear in the trace (was it traced with --trace-partition {p}?)"));
    }
    lines.insert(1, format!("  arrived: {}", arrival.unwrap_or_else(|| "unknown (never in a traced batch)".into())));
    if !resolved {
        lines.push("  not resolved by the end of the run".into());
    }
    Ok(lines)
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
