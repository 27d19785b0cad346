//! `producers`: arrival processes, record sizes and partitioners.

use super::{Arrivals, Dur};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Producer {
    #[serde(default)]
    pub name: String,
    /// Records per second until the first schedule step (required unless `rate_from` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// The rate from a file instead: `{"csv": "traffic.csv"}` or `{"cloudwatch": "metrics.json"}`,
    /// relative to the scenario file; piecewise constant per row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_from: Option<RateFrom>,
    #[serde(default)]
    pub arrivals: Arrivals,
    #[serde(default)]
    pub schedule: Vec<RateStep>,
    #[serde(default = "default_record_bytes")]
    pub record_bytes: RecordBytes,
    #[serde(default)]
    pub key_bytes: u32,
    #[serde(default)]
    pub partitioning: Partitioning,
    /// Sample messages for a real handler to read (`function.handler`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<crate::model::value_samples::ValuesSpec>,
    /// Kafka record headers: how many per record, and their raw bytes (keys and values) in all.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub header_count: u32,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub header_bytes: u64,
    /// What the records' values hold, for event filtering (`esm.filter_criteria`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ValueTemplate>,
}

/// A producer's record values: JSON objects whose fields follow these distributions (dotted
/// names nest: `session.duration`), and a share of plain-text values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueTemplate {
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, FieldSpec>,
    #[serde(default)]
    pub non_json_share: f64,
    #[serde(default = "default_non_json_text")]
    pub non_json_text: String,
}

fn default_non_json_text() -> String {
    "not json".to_owned()
}

/// How one field of a value is drawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldSpec {
    Constant(serde_json::Value),
    OneOf {
        values: Vec<serde_json::Value>,
        /// Relative weights, one per value; equal when absent.
        #[serde(default)]
        weights: Vec<f64>,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Integer {
        min: i64,
        max: i64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// A traffic file: a CSV of `time,rate[,bytes_per_second]`, or the JSON of
/// `aws cloudwatch get-metric-data` for MSK's `MessagesInPerSec` (and `BytesInPerSec`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RateFrom {
    Csv(String),
    Cloudwatch(String),
}

fn default_record_bytes() -> RecordBytes {
    RecordBytes::Fixed(1024)
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateStep {
    pub at: Dur,
    pub rate: f64,
}

/// Value bytes per record: a fixed number or a distribution.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RecordBytes {
    Fixed(u64),
    Distribution(SizeDistribution),
}

impl RecordBytes {
    /// A representative size: the fixed size, the uniform midpoint or the lognormal median.
    pub fn typical(&self) -> u64 {
        match self {
            RecordBytes::Fixed(n) => *n,
            RecordBytes::Distribution(SizeDistribution::Uniform { min, max }) => min + (max - min) / 2,
            RecordBytes::Distribution(SizeDistribution::Lognormal { median, .. }) => median.round() as u64,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "distribution", rename_all = "snake_case", deny_unknown_fields)]
pub enum SizeDistribution {
    Uniform { min: u64, max: u64 },
    Lognormal { median: f64, sigma: f64 },
}

impl<'de> Deserialize<'de> for RecordBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Visitor, value::MapAccessDeserializer};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RecordBytes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a number of bytes, {\"distribution\":\"uniform\",\"min\":..,\"max\":..} \
                     or {\"distribution\":\"lognormal\",\"median\":..,\"sigma\":..}",
                )
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RecordBytes, E> {
                Ok(RecordBytes::Fixed(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RecordBytes, A::Error> {
                SizeDistribution::deserialize(MapAccessDeserializer::new(map)).map(RecordBytes::Distribution)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Partitioning {
    /// Each record picks a partition uniformly at random.
    #[default]
    Uniform,
    RoundRobin,
    /// `share` of the records go to `partition`; the rest spread uniformly over the others.
    HotPartition {
        partition: u32,
        share: f64,
    },
    /// Partition `k` (0-based) gets weight `1 / (k+1)^exponent`.
    Zipf {
        exponent: f64,
    },
}
