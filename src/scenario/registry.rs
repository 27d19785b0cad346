//! `esm.schema_registry`: a Kafka schema registry that validates and deserialises records before
//! they reach the function (AWS's `KafkaSchemaRegistryConfig`, services-consume-kafka-events).

use serde::{Deserialize, Serialize};

/// The mapping's schema registry. AWS's own fields are `event_record_format`
/// (`EventRecordFormat`) and `validate` (the `Attribute` of each `SchemaValidationConfigs`
/// entry); `kind` says which registry `SchemaRegistryURI` names. The rest are esmsim's: what the
/// producers write and ASSUMED effects AWS does not quantify.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaRegistry {
    pub kind: RegistryKind,
    /// `JSON`: the validated attributes reach the function deserialised into JSON; `SOURCE`: in
    /// their original format, without the schema's wire header.
    pub event_record_format: EventRecordFormat,
    /// Which attributes are validated (and, with `JSON`, deserialised): `KEY`, `VALUE` or both.
    pub validate: Vec<SchemaAttribute>,
    /// What the producers' serializer writes (the event's `valueSchemaMetadata.dataFormat`); it
    /// sets `json_size_factor`'s default. Not an AWS setting: the registry's schema decides.
    #[serde(default)]
    pub schema_format: SchemaFormat,
    /// Share of records whose schema the registry does not have (`SCHEMA_NOT_FOUND`).
    #[serde(default)]
    pub schema_not_found_rate: f64,
    /// Share of records that fail to deserialise (`DESERIALIZATION_ERROR`).
    #[serde(default)]
    pub deserialization_error_rate: f64,
    /// ASSUMED: how many times larger a validated attribute is in the event once deserialised
    /// into JSON than in its binary form (only with `event_record_format` `JSON`). Default by
    /// `schema_format`: 2.5 for Avro and Protobuf, 1 for JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_size_factor: Option<f64>,
    /// ASSUMED: how many times the polled throughput counts towards Event Poller Units (AWS:
    /// a registry "may increase" EPU usage, without a figure). Default 1.
    #[serde(default = "default_epu_factor")]
    pub epu_factor: f64,
}

fn default_epu_factor() -> f64 {
    1.0
}

/// Which registry `SchemaRegistryURI` points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistryKind {
    Glue,
    ConfluentCloud,
    ConfluentSelfManaged,
}

/// AWS's `EventRecordFormat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventRecordFormat {
    Json,
    Source,
}

/// AWS's `KafkaSchemaValidationConfig.Attribute`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SchemaAttribute {
    Key,
    Value,
}

/// The serialization format, as the event's `dataFormat` names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SchemaFormat {
    #[default]
    Avro,
    Protobuf,
    /// JSON Schema: the records are JSON already.
    Json,
}

impl SchemaFormat {
    /// ASSUMED JSON size of a record relative to this format. Kleppmann, "Designing
    /// Data-Intensive Applications", ch. 4, encodes one record as 81 bytes of JSON (no
    /// whitespace), 32 of Avro and 33 of Protocol Buffers: 2.53× and 2.45×, so 2.5 for both. A
    /// JSON Schema record is JSON already: 1.
    pub fn default_json_size_factor(self) -> f64 {
        match self {
            SchemaFormat::Avro | SchemaFormat::Protobuf => 2.5,
            SchemaFormat::Json => 1.0,
        }
    }
}

impl SchemaRegistry {
    /// The JSON size factor in force: 1 with `SOURCE`, else the field or its default.
    pub fn size_factor(&self) -> f64 {
        match self.event_record_format {
            EventRecordFormat::Source => 1.0,
            EventRecordFormat::Json => {
                self.json_size_factor.unwrap_or_else(|| self.schema_format.default_json_size_factor())
            }
        }
    }

    /// Whether records can fail validation (then they are screened one by one).
    pub fn can_fail(&self) -> bool {
        self.schema_not_found_rate > 0.0 || self.deserialization_error_rate > 0.0
    }
}
