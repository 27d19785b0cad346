//! `topic`: partitions, retention and the backlog present at t = 0.

use super::Dur;
use serde::de::{self, Deserializer, MapAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Appears in destination records and traces (`<name>-<partition>`).
    #[serde(default = "default_topic_name")]
    pub name: String,
    pub partitions: u32,
    /// Kafka's `retention.ms`; MSK's default is 7 days.
    #[serde(default = "default_retention")]
    pub retention: Dur,
    /// Records already in each partition when the run starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backlog: Option<Backlog>,
}

fn default_topic_name() -> String {
    "events".into()
}

fn default_retention() -> Dur {
    Dur::parse("7d")
}

/// `records` per partition, produced evenly over the `span` before t = 0. In JSON a number
/// (records, over the default span of 1 h, of 1,024 bytes) or
/// `{"records": N, "span": "2h", "record_bytes": 1024}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Backlog {
    pub records: u64,
    pub span: Dur,
    /// Value bytes of each backlog record.
    pub record_bytes: u64,
}

/// The object form of [`Backlog`].
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct BacklogFields {
    records: u64,
    #[serde(default = "default_backlog_span")]
    span: Dur,
    #[serde(default = "default_backlog_record_bytes")]
    record_bytes: u64,
}

fn default_backlog_record_bytes() -> u64 {
    1024
}

fn default_backlog_span() -> Dur {
    Dur::parse("1h")
}

impl<'de> Deserialize<'de> for Backlog {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Backlog;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("records per partition, or {\"records\": N, \"span\": \"1h\"}")
            }
            fn visit_u64<E: de::Error>(self, records: u64) -> Result<Backlog, E> {
                Ok(Backlog { records, span: default_backlog_span(), record_bytes: default_backlog_record_bytes() })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Backlog, A::Error> {
                let f = BacklogFields::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Backlog { records: f.records, span: f.span, record_bytes: f.record_bytes })
            }
        }
        d.deserialize_any(V)
    }
}
