//! The scenario file: serde types with AWS's defaults and loading with `--set` overrides. Field
//! names are the public contract (README, "Scenario reference"); [`crate::config::compile`]
//! checks them and turns them into the typed configuration the simulator runs.

mod dur;
mod esm;
mod failures;
mod function;
mod handler;
mod load;
pub mod mappings;
mod producer;
mod registry;
pub mod schema;
mod strict;
mod topic;

pub use dur::{AgeLimit, Dur};
pub use esm::*;
pub use failures::*;
pub use function::*;
pub use handler::{DurationSource, HandlerSpec, check_handler};
pub use load::{
    Loaded, LoadedMappings, MAX_SCENARIO_BYTES, Parsed, apply_set, load_any, load_scenario, parse_any, parse_scenario,
    read_scenario_text,
};
pub use producer::*;
pub use registry::*;
pub use topic::*;
// Plain choices mean the same in the file and in the configuration.
pub use crate::config::{
    Architecture, ArrivalStreams, Arrivals, DestinationKind, Effect, EpuBilling, HandlerBehaviour as Handler,
    PartialBatchCommit, Pricing, Tier, Warning,
};

use serde::{Deserialize, Serialize};

/// One simulation input. Every field but `name`, `topic.partitions` and the producers' `rate`
/// has a default; the defaults are AWS's where AWS has one (AWS_FACTS.md).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The JSON Schema this file follows (`esmsim schema > esmsim.schema.json`), for editors;
    /// esmsim itself ignores it.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Names the output folder: letters, digits, `.`, `_`, `-`.
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default = "default_duration")]
    pub duration: Dur,
    #[serde(default = "default_sample_interval")]
    pub sample_interval: Dur,
    pub topic: Topic,
    #[serde(default)]
    pub producers: Vec<Producer>,
    #[serde(default)]
    pub esm: Esm,
    #[serde(default)]
    pub function: Function,
    #[serde(default)]
    pub account: Account,
    #[serde(default)]
    pub failures: Failures,
    #[serde(default)]
    pub pricing: Pricing,
    /// Things that go wrong on a timeline.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// The start-up transient left out of latency, lag, throughput, concurrency and CloudWatch
    /// statistics (record counts still cover the whole run). A whole number of sample intervals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<Dur>,
    /// The period of `cloudwatch.csv` rows (default 60s, CloudWatch's standard resolution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch_period: Option<Dur>,
    /// How Poisson producers draw arrivals: `per_partition` (default since v0.2.0; one stream
    /// per partition, faster) or `per_producer` (the same process from one stream per producer;
    /// v0.1's sample paths).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_streams: Option<ArrivalStreams>,
}

fn default_seed() -> u64 {
    1
}
fn default_duration() -> Dur {
    Dur::parse("1h")
}
fn default_sample_interval() -> Dur {
    Dur::parse("10s")
}
