//! On-failure destinations: the failure records Lambda writes when it gives up on records, in
//! AWS's shape (kafka-on-failure, kafka-on-failure-destination). Only written on failure paths.

use crate::config::{Config, DestinationKind};
use crate::engine::{NS_PER_MS, SimTime, mix64};
use crate::model::esm::Segment;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, UNIX_EPOCH};

/// ASSUMED: the simulation clock's zero, 2025-01-01T00:00:00Z, so records carry real-looking
/// timestamps.
pub const EPOCH_MS: u64 = 1_735_689_600_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    RetryAttemptsExhausted,
    MaximumPayloadSizeExceeded,
    /// A schema registry has no schema for the record (services-consume-kafka-events).
    SchemaNotFound,
    /// The record failed to deserialise with its schema.
    DeserializationError,
}

impl Condition {
    /// AWS's name for it: the schema registry's reason codes are spelled as AWS prints them.
    pub fn name(self) -> &'static str {
        match self {
            Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Condition::MaximumPayloadSizeExceeded => "MaximumPayloadSizeExceeded",
            Condition::SchemaNotFound => "SCHEMA_NOT_FOUND",
            Condition::DeserializationError => "DESERIALIZATION_ERROR",
        }
    }
}

/// One delivery to the destination.
pub struct Delivery<'a> {
    pub now: SimTime,
    pub condition: Condition,
    pub invoke_count: u32,
    pub segments: &'a [Segment],
    pub payload_bytes: u64,
    /// Arrival time of (partition, offset).
    pub arrival: &'a dyn Fn(u32, u64) -> SimTime,
    /// Payload bytes of an invocation holding only (partition, offset), envelope included.
    pub record_payload: &'a dyn Fn(u32, u64) -> u64,
    /// Records in `segments` that have a failure record of their own (they failed schema
    /// validation): left out of per-record messages and payloads, not written twice.
    pub listed_elsewhere: &'a dyn Fn(u32, u64) -> bool,
    /// Distinguishes deliveries in `requestId`.
    pub sequence: u64,
}

pub struct Destination {
    kind: DestinationKind,
    /// Where the scenario's t = 0 lies on the simulation clock.
    origin_ns: SimTime,
    topic: String,
    seed: u64,
    function_arn: String,
    event_source_arn: String,
    bootstrap_servers: String,
}

/// RFC 3339 time of a moment `ns` after (negative: before) the scenario's t = 0.
pub fn iso_time(ns: i64) -> String {
    let ms = (EPOCH_MS as i64 + ns.div_euclid(NS_PER_MS as i64)) as u64;
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

impl Destination {
    pub fn new(s: &Config, seed: u64) -> Option<Self> {
        let kind = s.esm.destination?;
        let origin_ns = s.clock.origin_ns;
        Some(Destination {
            kind,
            origin_ns,
            topic: s.topic.name.clone(),
            seed,
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{}", s.name),
            event_source_arn: format!("arn:aws:kafka:us-east-1:123456789012:cluster/{}/simulated", s.name),
            bootstrap_servers: "b-1.simulated.kafka.us-east-1.amazonaws.com:9098".into(),
        })
    }

    /// The JSON lines this delivery writes: one per batch for SQS, SNS and S3; one per record
    /// for a Kafka topic (the dead-letter-topic pattern). Only S3 records carry the payload, as
    /// an escaped JSON string; SQS and SNS records carry metadata only (kafka-on-failure).
    pub fn lines(&self, d: &Delivery) -> Vec<String> {
        if self.kind == DestinationKind::Kafka {
            return self.per_record_lines(d);
        }
        let mut record = self.envelope(d);
        record["KafkaBatchInfo"] = self.batch_info(d.segments.iter().map(|s| s.len()).sum(), d.payload_bytes);
        record["KafkaBatchInfo"]["recordsInfo"] = Value::Object(self.records_info(d));
        if self.kind != DestinationKind::S3 {
            return vec![record.to_string()];
        }
        // The payload as an escaped JSON string.
        vec![with_payload(record, |out| self.payload(d, d.segments, true, out))]
    }

    /// Per topic-partition, the first and last failed offset and their timestamps. A partition
    /// may appear in several segments (records retried one by one): they share one entry.
    fn records_info(&self, d: &Delivery) -> serde_json::Map<String, Value> {
        let mut spans: Vec<(u32, u64, u64)> = Vec::new();
        for s in d.segments.iter().filter(|s| !s.is_empty()) {
            match spans.iter_mut().find(|(p, _, _)| *p == s.partition) {
                Some(span) => *span = (span.0, span.1.min(s.start), span.2.max(s.end - 1)),
                None => spans.push((s.partition, s.start, s.end - 1)),
            }
        }
        spans
            .into_iter()
            .map(|(partition, first, last)| {
                let info = json!({
                    "firstRecordOffset": first.to_string(),
                    "lastRecordOffset": last.to_string(),
                    "firstRecordTimestamp": self.iso((d.arrival)(partition, first)),
                    "lastRecordTimestamp": self.iso((d.arrival)(partition, last)),
                });
                (format!("{}-{}", self.topic, partition), info)
            })
            .collect()
    }

    fn per_record_lines(&self, d: &Delivery) -> Vec<String> {
        let mut lines = Vec::new();
        for s in d.segments {
            for offset in (s.start..s.end).filter(|&o| !(d.listed_elsewhere)(s.partition, o)) {
                let one = [Segment { partition: s.partition, start: offset, end: offset + 1 }];
                let mut record = self.envelope(d);
                record["KafkaBatchInfo"] = self.batch_info(1, (d.record_payload)(s.partition, offset));
                record["KafkaBatchInfo"]["recordInfo"] = json!({
                    "offset": offset.to_string(),
                    "timestamp": self.iso((d.arrival)(s.partition, offset)),
                });
                lines.push(with_payload(record, |out| self.payload(d, &one, false, out)));
            }
        }
        lines
    }

    fn since_origin(&self, t: SimTime) -> i64 {
        t as i64 - self.origin_ns as i64
    }

    fn iso(&self, t: SimTime) -> String {
        iso_time(self.since_origin(t))
    }

    fn envelope(&self, d: &Delivery) -> Value {
        let h = mix64(&[self.seed, d.sequence]);
        let request_id = format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            h >> 32,
            (h >> 16) & 0xffff,
            h & 0xffff,
            (h >> 48) ^ 0x8000,
            mix64(&[h]) & 0xffff_ffff_ffff
        );
        let response = match d.condition {
            // Never invoked: no response.
            Condition::MaximumPayloadSizeExceeded | Condition::SchemaNotFound | Condition::DeserializationError => {
                Value::Null
            }
            Condition::RetryAttemptsExhausted => {
                json!({ "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" })
            }
        };
        json!({
            "requestContext": {
                "requestId": request_id,
                "functionArn": self.function_arn,
                "condition": d.condition.name(),
                "approximateInvokeCount": d.invoke_count,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": self.iso(d.now),
        })
    }

    fn batch_info(&self, batch_size: u64, payload_bytes: u64) -> Value {
        json!({
            "batchSize": batch_size,
            "eventSourceArn": self.event_source_arn,
            "bootstrapServers": self.bootstrap_servers,
            "payloadSize": payload_bytes,
        })
    }

    /// The invocation payload as JSON text, without keys and values (the simulator does not
    /// have them), or, when `quoted`, that text as a JSON string literal, as S3 deliveries
    /// carry it. Written directly rather than built as a `Value` tree (it holds every record
    /// given up), in the bytes `serde_json` writes for that tree: keys in sorted order, compact.
    /// Escaping goes byte by byte, so the literal is written piece by piece, each fixed piece
    /// escaped once, rather than escaping the whole text after (that was most of a failure
    /// path's extra cost: a payload is mostly quotation marks and numbers).
    ///
    /// It is appended to `out`, in one growth: an S3 line holds a whole batch's payload, and
    /// building it in pieces copied from one string to the next left a trail of fresh pages
    /// behind each failed batch.
    fn payload(&self, d: &Delivery, segments: &[Segment], quoted: bool, out: &mut String) {
        let piece = |text: &str| if quoted { json_string_body(text) } else { text.to_string() };
        let topic = json_string(&self.topic);
        let record_start = piece(r#"{"headers":[],"key":null,"offset":"#);
        let partition_key = piece(r#","partition":"#);
        let timestamp_key = piece(r#","timestamp":"#);
        let record_end = piece(&format!(r#","timestampType":"CREATE_TIME","topic":{topic},"value":null}}"#));
        // Several segments of one partition (records retried one by one) share its list; the
        // lists are keyed "topic-partition", in the keys' string order.
        let mut lists: BTreeMap<String, Vec<&Segment>> = BTreeMap::new();
        for s in segments {
            lists.entry(format!("{}-{}", self.topic, s.partition)).or_default().push(s);
        }
        let fixed = record_start.len() + partition_key.len() + timestamp_key.len() + record_end.len();
        let records: u64 = segments.iter().map(|s| s.len()).sum();
        // Each record's numbers (offset, partition, timestamp) take at most 50 characters.
        out.reserve(records as usize * (fixed + 51) + lists.len() * 40 + 200);
        if quoted {
            out.push('"');
        }
        out.push_str(&piece(&format!(
            r#"{{"bootstrapServers":{},"eventSource":"aws:kafka","eventSourceArn":{},"records":{{"#,
            json_string(&self.bootstrap_servers),
            json_string(&self.event_source_arn)
        )));
        for (i, (key, list)) in lists.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            out.push_str(&piece(&format!("{sep}{}:[", json_string(key))));
            let mut first = true;
            for s in list {
                let partition = s.partition;
                for offset in (s.start..s.end).filter(|&offset| !(d.listed_elsewhere)(partition, offset)) {
                    let ms = EPOCH_MS as i64 + self.since_origin((d.arrival)(partition, offset)) / NS_PER_MS as i64;
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str(&record_start);
                    let _ = write!(out, "{offset}");
                    out.push_str(&partition_key);
                    let _ = write!(out, "{partition}");
                    out.push_str(&timestamp_key);
                    let _ = write!(out, "{ms}");
                    out.push_str(&record_end);
                }
            }
            out.push(']');
        }
        out.push_str("}}");
        if quoted {
            out.push('"');
        }
    }
}

/// `text` as a JSON string literal, byte for byte as serde_json writes one.
fn json_string(text: &str) -> String {
    format!("\"{}\"", json_string_body(text))
}

/// `text` escaped for a JSON string literal, without the quotation marks around it: quotation
/// marks, backslashes and control characters escaped as serde_json escapes them, everything
/// else as it is. Each byte is escaped alone, so the escaped pieces of a text make its escape.
fn json_string_body(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut run_start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let short = match byte {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&text[run_start..i]);
        match short {
            Some(escape) => out.push_str(escape),
            None => {
                let _ = write!(out, "\\u{byte:04x}");
            }
        }
        run_start = i + 1;
    }
    out.push_str(&text[run_start..]);
    out
}

/// `record` as a JSON line with the JSON text `payload` appends as its `payload`: serialised
/// with a null there, which is then replaced. Keys are written in sorted order and `"` never
/// appears unescaped inside a string, so `"payload":null` occurs once, as that key.
fn with_payload(mut record: Value, payload: impl FnOnce(&mut String)) -> String {
    record["payload"] = Value::Null;
    let line = record.to_string();
    let at = line.find(r#""payload":null"#).expect("the payload key was just set") + r#""payload":"#.len();
    let mut out = line[..at].to_string();
    payload(&mut out);
    out.push_str(&line[at + "null".len()..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let every_ascii: String = (0u8..128).map(char::from).collect();
        let texts = [
            String::new(),
            "plain".to_string(),
            r#"{"key":null,"value":"a \"quoted\" \\ path"}"#.to_string(),
            every_ascii.clone(),
            format!("é→🦀{every_ascii}ü\u{7f}\u{80}"),
        ];
        for text in texts {
            assert_eq!(json_string(&text), serde_json::to_string(&text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn payload_text_is_what_serde_json_writes_for_the_tree() {
        let json = serde_json::json!({
            "name": "d", "topic": { "partitions": 12 },
            "esm": { "on_failure_destination": { "kind": "s3" } }
        });
        let c = crate::parse_scenario("d.json".as_ref(), &json.to_string(), &[]).unwrap().config;
        let dest = Destination::new(&c, 1).unwrap();
        // Partition 10, then 2, then 10 again (retried one by one); offset 6 failed validation.
        let segments = [
            Segment { partition: 10, start: 4, end: 6 },
            Segment { partition: 2, start: 7, end: 8 },
            Segment { partition: 10, start: 6, end: 8 },
        ];
        let arrival = |_: u32, o: u64| c.clock.origin_ns + o * 1_500_000;
        let delivery = Delivery {
            now: 0,
            condition: Condition::RetryAttemptsExhausted,
            invoke_count: 1,
            segments: &segments,
            payload_bytes: 0,
            arrival: &arrival,
            record_payload: &|_, _| 0,
            listed_elsewhere: &|p, o| (p, o) == (10, 6),
            sequence: 1,
        };
        let record = |p: u32, o: u64| {
            serde_json::json!({ "topic": c.topic.name, "partition": p, "offset": o,
                "timestamp": EPOCH_MS + o * 3 / 2, "timestampType": "CREATE_TIME",
                "key": null, "value": null, "headers": [] })
        };
        let topic = &c.topic.name;
        // "-10" sorts before "-2" as a string.
        let tree = serde_json::json!({
            "eventSource": "aws:kafka",
            "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/d/simulated",
            "bootstrapServers": "b-1.simulated.kafka.us-east-1.amazonaws.com:9098",
            "records": {
                format!("{topic}-10"): [record(10, 4), record(10, 5), record(10, 7)],
                format!("{topic}-2"): [record(2, 7)],
            },
        });
        let payload = |quoted| {
            // Appended after what the line holds already.
            let mut out = "line so far".to_string();
            dest.payload(&delivery, &segments, quoted, &mut out);
            out.strip_prefix("line so far").expect("appended").to_string()
        };
        let text = payload(false);
        assert_eq!(text, tree.to_string());
        assert_eq!(payload(true), serde_json::to_string(&text).unwrap());
        assert!(text.find(&format!("{topic}-10")) < text.find(&format!("{topic}-2")));
        // The S3 line carries it as an escaped string, in the sorted key order.
        let line: Value = serde_json::from_str(&dest.lines(&delivery)[0]).unwrap();
        assert_eq!(line["payload"], Value::String(tree.to_string()));
        assert!(dest.lines(&delivery)[0].starts_with(r#"{"KafkaBatchInfo":"#));
    }

    #[test]
    fn timestamps_start_at_the_simulation_epoch() {
        assert_eq!(iso_time(0), "2025-01-01T00:00:00.000Z");
        assert_eq!(iso_time(61_500 * NS_PER_MS as i64), "2025-01-01T00:01:01.500Z");
        assert_eq!(iso_time(-1), "2024-12-31T23:59:59.999Z");
    }
}
