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

/// SNS drops the payload of a failure record larger than 256 KB.
const SNS_LIMIT_BYTES: u64 = 256 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    RetryAttemptsExhausted,
    MaximumPayloadSizeExceeded,
}

impl Condition {
    fn name(self) -> &'static str {
        match self {
            Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Condition::MaximumPayloadSizeExceeded => "MaximumPayloadSizeExceeded",
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
    /// for a Kafka topic (the dead-letter-topic pattern).
    pub fn lines(&self, d: &Delivery) -> Vec<String> {
        if self.kind == DestinationKind::Kafka {
            return self.per_record_lines(d);
        }
        let mut record = self.envelope(d);
        let records_info: serde_json::Map<String, Value> = d
            .segments
            .iter()
            .map(|s| {
                let info = json!({
                    "firstRecordOffset": s.start.to_string(),
                    "lastRecordOffset": (s.end - 1).to_string(),
                    "firstRecordTimestamp": self.iso((d.arrival)(s.partition, s.start)),
                    "lastRecordTimestamp": self.iso((d.arrival)(s.partition, s.end - 1)),
                });
                (format!("{}-{}", self.topic, s.partition), info)
            })
            .collect();
        record["KafkaBatchInfo"] = self.batch_info(d.segments.iter().map(|s| s.len()).sum(), d.payload_bytes);
        record["KafkaBatchInfo"]["recordsInfo"] = Value::Object(records_info);
        let with_payload = match self.kind {
            DestinationKind::S3 => true,
            DestinationKind::Sns => d.payload_bytes <= SNS_LIMIT_BYTES,
            DestinationKind::Sqs | DestinationKind::Kafka => false,
        };
        if with_payload {
            record["payload"] = self.payload(d, d.segments);
        }
        vec![record.to_string()]
    }

    fn per_record_lines(&self, d: &Delivery) -> Vec<String> {
        let mut lines = Vec::new();
        for s in d.segments {
            for offset in s.start..s.end {
                let one = [Segment { partition: s.partition, start: offset, end: offset + 1 }];
                let mut record = self.envelope(d);
                record["KafkaBatchInfo"] = self.batch_info(1, d.payload_bytes);
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
            Condition::MaximumPayloadSizeExceeded => Value::Null,
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
            records.insert(format!("{}-{}", self.topic, s.partition), Value::Array(list));
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
