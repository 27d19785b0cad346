//! On-failure destinations: the failure records Lambda writes when it gives up on records, in
//! AWS's shape (kafka-on-failure, kafka-on-failure-destination). Only written on failure paths.

use crate::config::{Config, DestinationKind};
use crate::engine::{NS_PER_MS, SimTime, mix64};
use crate::model::esm::Segment;
use serde_json::{Value, json};
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
        if self.kind == DestinationKind::S3 {
            record["payload"] = Value::String(self.payload(d, d.segments).to_string());
        }
        vec![record.to_string()]
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
                record["payload"] = self.payload(d, &one);
                lines.push(record.to_string());
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

    /// The invocation payload, without keys and values (the simulator does not have them).
    fn payload(&self, d: &Delivery, segments: &[Segment]) -> Value {
        let mut records = serde_json::Map::new();
        for s in segments {
            let list: Vec<Value> = (s.start..s.end)
                .filter(|&offset| !(d.listed_elsewhere)(s.partition, offset))
                .map(|offset| {
                    json!({
                        "topic": self.topic,
                        "partition": s.partition,
                        "offset": offset,
                        "timestamp": EPOCH_MS as i64 + self.since_origin((d.arrival)(s.partition, offset)) / NS_PER_MS as i64,
                        "timestampType": "CREATE_TIME",
                        "key": Value::Null,
                        "value": Value::Null,
                        "headers": [],
                    })
                })
                .collect();
            // Several segments of one partition (records retried one by one) share its list.
            let entry = records.entry(format!("{}-{}", self.topic, s.partition)).or_insert_with(|| json!([]));
            if let Value::Array(existing) = entry {
                existing.extend(list);
            }
        }
        json!({
            "eventSource": "aws:kafka",
            "eventSourceArn": self.event_source_arn,
            "bootstrapServers": self.bootstrap_servers,
            "records": records,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_start_at_the_simulation_epoch() {
        assert_eq!(iso_time(0), "2025-01-01T00:00:00.000Z");
        assert_eq!(iso_time(61_500 * NS_PER_MS as i64), "2025-01-01T00:01:01.500Z");
        assert_eq!(iso_time(-1), "2024-12-31T23:59:59.999Z");
    }
}
