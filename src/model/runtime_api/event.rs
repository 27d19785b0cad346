//! What crosses the Runtime API: the event AWS sends a function for a Kafka batch, and how
//! Lambda reads the function's answer (`batchItemFailures`).
//!
//! The event (with-msk, "Example event"): `eventSource` `aws:kafka` (a self-managed cluster:
//! `SelfManagedKafka`, without `eventSourceArn`), `eventSourceArn`, `bootstrapServers` (one
//! comma-separated string), and `records` keyed by `"<topic>-<partition>"`, each record with
//! `topic`, `partition`, `offset`, `timestamp` (epoch ms), `timestampType`, base64 `key` and
//! `value`, and `headers` as a list of `{"name": [byte, ...]}` objects.
//!
//! Under event filtering only the records that match a filter are in the event (AWS sends the
//! function nothing else), and only they can be named in `batchItemFailures`.

use super::headers::HeaderShape;
use crate::engine::{NS_PER_MS, SimTime};
use crate::model::destination::EPOCH_MS;
use crate::model::esm::Segment;
use crate::model::record::RecordKey;
use crate::model::topic::Partition;
use crate::model::value::{Template, ValueKey};
use crate::model::value_samples::ValueSamples;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Which Kafka the event says it comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KafkaKind {
    /// Amazon MSK: `eventSource` `aws:kafka`, with the cluster's ARN.
    #[default]
    Msk,
    /// A self-managed cluster: `eventSource` `SelfManagedKafka`, no ARN.
    SelfManaged,
}

/// Builds the events of one run.
pub struct EventBuilder {
    pub kind: KafkaKind,
    pub topic: String,
    pub event_source_arn: String,
    pub bootstrap_servers: String,
    /// Where the scenario's t = 0 lies on the clock.
    pub origin_ns: SimTime,
    pub key_bytes: u64,
    /// The records' values: sample messages (`producers[].values`)...
    pub values: Option<ValueSamples>,
    /// ...or else the producer's `value` template, drawn as the filter draws it.
    pub template: Option<Template>,
    /// The run's seed: the template's draws depend on it.
    pub seed: u64,
    pub headers: HeaderShape,
    /// The first offsets of each partition that are the topic's backlog: written with no key
    /// and no headers (as their payload is counted).
    pub backlog_per_partition: u64,
}

impl EventBuilder {
    /// The records of `segments` the function is sent, in batch order: all of them, or under
    /// event filtering those that match a filter.
    pub fn sent(segments: &[Segment], logs: &[Partition]) -> Vec<RecordKey> {
        let mut sent = Vec::new();
        for s in segments {
            let log = &logs[s.partition as usize];
            let matched = |&o: &u64| !log.filtering() || log.is_matched(o);
            sent.extend((s.start..s.end).filter(matched).map(|o| RecordKey::new(s.partition, o)));
        }
        sent
    }

    /// The event for the records `sent` (in batch order), as JSON text.
    pub fn event(&self, sent: &[RecordKey], logs: &[Partition]) -> String {
        let mut records: Map<String, Value> = Map::new();
        for key in sent {
            let (partition, offset) = (key.lane, key.position);
            let list = records.entry(format!("{}-{partition}", self.topic)).or_insert_with(|| json!([]));
            let list = list.as_array_mut().expect("records are lists");
            list.push(self.record(partition, offset, logs[partition as usize].record(offset).arrival_ns));
        }
        let mut event = Map::new();
        match self.kind {
            KafkaKind::Msk => {
                event.insert("eventSource".into(), json!("aws:kafka"));
                event.insert("eventSourceArn".into(), json!(self.event_source_arn));
            }
            KafkaKind::SelfManaged => {
                event.insert("eventSource".into(), json!("SelfManagedKafka"));
            }
        }
        event.insert("bootstrapServers".into(), json!(self.bootstrap_servers));
        event.insert("records".into(), Value::Object(records));
        Value::Object(event).to_string()
    }

    /// The value of the record at (partition, offset): a sample, the template's, or a default
    /// that names the record.
    pub fn value(&self, partition: u32, offset: u64) -> Vec<u8> {
        if let Some(v) = &self.values {
            return v.value(partition, offset).to_vec();
        }
        match &self.template {
            // The backlog is written as if by the first producer, as the filter reads it.
            Some(t) => t.render(ValueKey { seed: self.seed, producer: 0, partition, offset }),
            None => format!("{{\"partition\":{partition},\"offset\":{offset}}}").into_bytes(),
        }
    }

    fn record(&self, partition: u32, offset: u64, arrival_ns: SimTime) -> Value {
        let since_origin = arrival_ns as i64 - self.origin_ns as i64;
        let timestamp = EPOCH_MS as i64 + since_origin.div_euclid(NS_PER_MS as i64);
        let produced = offset >= self.backlog_per_partition;
        let headers = if produced { self.headers.json(partition, offset) } else { json!([]) };
        let mut record = json!({
            "topic": self.topic,
            "partition": partition,
            "offset": offset,
            "timestamp": timestamp,
            "timestampType": "CREATE_TIME",
            "value": base64(&self.value(partition, offset)),
            "headers": headers,
        });
        if self.key_bytes > 0 && produced {
            record["key"] = json!(base64(format!("{partition}-{offset}").as_bytes()));
        }
        record
    }
}

/// Standard base64 with padding, as AWS encodes keys and values.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// How Lambda reads a successful response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No `batchItemFailures`, null, or empty: the whole batch succeeded.
    Success,
    /// `batchItemFailures` named records. `failed` holds those found in the batch, sorted;
    /// `invalid` when an identifier is malformed or names no record of the batch (Lambda then
    /// fails the whole batch).
    Partial { failed: Vec<RecordKey>, invalid: bool },
}

/// Reads the function's response body as Lambda does for a Kafka batch. An item's
/// `itemIdentifier` is `{"partition": "<topic>-<partition>", "offset": <offset>}`
/// (kafka-retry-configurations); the string form `"<topic>-<partition>-<offset>"` is read too.
/// A response that is not a JSON object, or has no `batchItemFailures`, is a success, as for
/// the other stream sources.
pub fn read_response(body: &[u8], topic: &str, sent: &[RecordKey]) -> Verdict {
    let Ok(Value::Object(response)) = serde_json::from_slice::<Value>(body) else { return Verdict::Success };
    let items = match response.get("batchItemFailures") {
        None | Some(Value::Null) => return Verdict::Success,
        Some(Value::Array(items)) if items.is_empty() => return Verdict::Success,
        Some(Value::Array(items)) => items,
        Some(_) => return Verdict::Partial { failed: vec![], invalid: true },
    };
    let mut batch = sent.to_vec();
    batch.sort_unstable();
    let mut failed = Vec::with_capacity(items.len());
    let mut invalid = false;
    for item in items {
        match item.get("itemIdentifier").and_then(|id| identifier(id, topic)) {
            Some(key) if batch.binary_search(&key).is_ok() => failed.push(key),
            _ => invalid = true,
        }
    }
    failed.sort_unstable();
    failed.dedup();
    Verdict::Partial { failed, invalid }
}

/// A record named by an item identifier, if it is well formed.
fn identifier(id: &Value, topic: &str) -> Option<RecordKey> {
    match id {
        Value::Object(o) => {
            let partition = o.get("partition")?.as_str()?.strip_prefix(topic)?.strip_prefix('-')?;
            let offset = match o.get("offset")? {
                Value::Number(n) => n.as_u64()?,
                Value::String(s) => s.parse().ok()?,
                _ => return None,
            };
            Some(RecordKey::new(partition.parse().ok()?, offset))
        }
        Value::String(s) => {
            let (partition, offset) = s.strip_prefix(topic)?.strip_prefix('-')?.split_once('-')?;
            Some(RecordKey::new(partition.parse().ok()?, offset.parse().ok()?))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offsets 10..13 of partition 0 and offset 5 of partition 2.
    fn read(body: &str) -> Verdict {
        let sent = [RecordKey::new(0, 10), RecordKey::new(0, 11), RecordKey::new(0, 12), RecordKey::new(2, 5)];
        read_response(body.as_bytes(), "orders", &sent)
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases =
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("foobar", "Zm9vYmFy")];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        // AWS's example: {"key":"value"} -> eyJrZXkiOiJ2YWx1ZSJ9
        assert_eq!(base64(br#"{"key":"value"}"#), "eyJrZXkiOiJ2YWx1ZSJ9");
    }

    #[test]
    fn empty_null_or_missing_failures_are_a_success() {
        for body in ["", "null", "\"ok\"", "{}", r#"{"batchItemFailures":null}"#, r#"{"batchItemFailures":[]}"#] {
            assert_eq!(read(body), Verdict::Success, "{body}");
        }
    }

    #[test]
    fn identifiers_in_the_batch_are_failed_records() {
        let body = r#"{"batchItemFailures":[{"itemIdentifier":{"partition":"orders-0","offset":12}},
                       {"itemIdentifier":"orders-2-5"},{"itemIdentifier":{"partition":"orders-0","offset":"11"}}]}"#;
        let failed = vec![RecordKey::new(0, 11), RecordKey::new(0, 12), RecordKey::new(2, 5)];
        assert_eq!(read(body), Verdict::Partial { failed, invalid: false });
    }

    #[test]
    fn malformed_or_foreign_identifiers_fail_the_whole_batch() {
        for item in [
            r#"{"itemIdentifier":null}"#,
            r#"{"itemIdentifier":""}"#,
            r#"{"itemId":{"partition":"orders-0","offset":12}}"#,
            r#"{"itemIdentifier":{"partition":"orders-0","offset":13}}"#,
            r#"{"itemIdentifier":{"partition":"other-0","offset":12}}"#,
            r#"{"itemIdentifier":{"partition":0,"offset":12}}"#,
            r#"{"itemIdentifier":3}"#,
        ] {
            let body = format!(r#"{{"batchItemFailures":[{item}]}}"#);
            assert_eq!(read(&body), Verdict::Partial { failed: vec![], invalid: true }, "{item}");
        }
        assert_eq!(read(r#"{"batchItemFailures":{}}"#), Verdict::Partial { failed: vec![], invalid: true });
    }

    fn builder() -> EventBuilder {
        EventBuilder {
            kind: KafkaKind::Msk,
            topic: "orders".into(),
            event_source_arn: "arn:x".into(),
            bootstrap_servers: "b:9098".into(),
            origin_ns: 1_000_000_000,
            key_bytes: 4,
            values: None,
            template: None,
            seed: 7,
            headers: HeaderShape::default(),
            backlog_per_partition: 0,
        }
    }

    fn event(builder: &EventBuilder, segments: &[Segment], logs: &[Partition]) -> Value {
        serde_json::from_str(&builder.event(&EventBuilder::sent(segments, logs), logs)).unwrap()
    }

    #[test]
    fn the_event_has_aws_shape() {
        let mut log = Partition::default();
        log.append(1_500_000_000, 10, 10);
        let logs = vec![log];
        let builder = builder();
        let event = event(&builder, &[Segment { partition: 0, start: 0, end: 1 }], &logs);
        // Arrival 0.5 s after t = 0: 2025-01-01T00:00:00.500Z.
        let expected = json!({
            "eventSource": "aws:kafka", "eventSourceArn": "arn:x", "bootstrapServers": "b:9098",
            "records": {"orders-0": [{
                "topic": "orders", "partition": 0, "offset": 0, "timestamp": 1_735_689_600_500i64,
                "timestampType": "CREATE_TIME", "key": base64(b"0-0"),
                "value": base64(br#"{"partition":0,"offset":0}"#), "headers": []
            }]}
        });
        assert_eq!(event, expected);
        let self_managed = EventBuilder { kind: KafkaKind::SelfManaged, ..builder };
        let event = self::event(&self_managed, &[Segment { partition: 0, start: 0, end: 1 }], &logs);
        assert_eq!(event["eventSource"], "SelfManagedKafka");
        assert!(event.get("eventSourceArn").is_none());
    }

    #[test]
    fn filtered_out_records_are_not_sent_and_cannot_be_named() {
        // Offsets 0..4 matched as [yes, no, no, yes]: the event holds 0 and 3.
        let mut log = Partition::default();
        for (i, m) in [true, false, false, true].into_iter().enumerate() {
            log.append_filtered(1_000_000_000 + i as u64, 10, 10, m);
        }
        let logs = vec![log];
        let segments = [Segment { partition: 0, start: 0, end: 4 }];
        let sent = EventBuilder::sent(&segments, &logs);
        assert_eq!(sent, [RecordKey::new(0, 0), RecordKey::new(0, 3)]);
        let event = event(&builder(), &segments, &logs);
        let offsets: Vec<u64> =
            event["records"]["orders-0"].as_array().unwrap().iter().map(|r| r["offset"].as_u64().unwrap()).collect();
        assert_eq!(offsets, [0, 3]);
        // Offset 1 was filtered out: the function never saw it, so naming it fails the batch.
        let body = br#"{"batchItemFailures":[{"itemIdentifier":{"partition":"orders-0","offset":1}}]}"#;
        assert_eq!(read_response(body, "orders", &sent), Verdict::Partial { failed: vec![], invalid: true });
    }

    #[test]
    fn template_values_and_headers_are_written_but_not_on_the_backlog() {
        use crate::model::value::Field;
        let mut log = Partition::default();
        log.append(1_000_000_000, 10, 10);
        log.append(1_000_000_000, 10, 10);
        let logs = vec![log];
        let template =
            Template::new(vec![("n".into(), Field::Integer { min: 1, max: 3 })], 0.0, String::new()).unwrap();
        let headers = HeaderShape { count: 1, bytes: 4 };
        let builder = EventBuilder { template: Some(template.clone()), headers, backlog_per_partition: 1, ..builder() };
        let event = event(&builder, &[Segment { partition: 0, start: 0, end: 2 }], &logs);
        let records = event["records"]["orders-0"].as_array().unwrap();
        let key = |offset| ValueKey { seed: 7, producer: 0, partition: 0, offset };
        for (offset, record) in records.iter().enumerate() {
            assert_eq!(record["value"], base64(&template.render(key(offset as u64))));
        }
        // Offset 0 is backlog: no key, no headers. Offset 1: key "0-1", one header "h0" of 2 bytes.
        assert!(records[0].get("key").is_none() && records[0]["headers"] == json!([]));
        assert_eq!(records[1]["key"], base64(b"0-1"));
        assert_eq!(records[1]["headers"], headers.json(0, 1));
        assert_eq!(records[1]["headers"][0]["h0"].as_array().unwrap().len(), 2);
    }
}
