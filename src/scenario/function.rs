//! `function` and `account`: the Lambda function's timing, environments and concurrency.

use super::{Architecture, Dur};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Function {
    /// The function's name. In a scenario of several `mappings`, mappings that name the same
    /// function invoke one function: its environments, concurrency and fixed charges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub memory_mb: u32,
    pub architecture: Architecture,
    pub timeout: Dur,
    pub duration: DurationModel,
    pub cold_start: ColdStart,
    pub reserved_concurrency: Option<u32>,
    /// How fast the function may add execution environments (AWS: 1,000 every 10 s).
    pub burst_limit: BurstLimit,
    /// The user's real handler behind the Runtime API, in place of the built-in model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<super::handler::HandlerSpec>,
    /// AWS's runtime identifier (`java21`, `python3.12`, `dotnet8`, ...). Only SnapStart reads
    /// it: which runtimes support SnapStart and whether its cache and restores are charged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Environments initialised before the run starts (0 = off): invocations find one of them
    /// warm while fewer than this many run, and spill over to on-demand environments beyond.
    #[serde(skip_serializing_if = "is_zero")]
    pub provisioned_concurrency: u32,
    /// New environments resume from a snapshot (`restore`) instead of running init.
    #[serde(skip_serializing_if = "SnapStart::is_off")]
    pub snapstart: SnapStart,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Default for Function {
    fn default() -> Self {
        Function {
            name: None,
            memory_mb: 128,
            architecture: Architecture::X86_64,
            timeout: Dur::parse("3s"),
            duration: DurationModel::default(),
            cold_start: ColdStart::default(),
            reserved_concurrency: None,
            burst_limit: BurstLimit::default(),
            handler: None,
            runtime: None,
            provisioned_concurrency: 0,
            snapstart: SnapStart::default(),
        }
    }
}

/// `function.snapstart`: `false` (the default), `true`, or `{"restore": "200ms"}` (`true` with
/// its own restore time). Serialised as the object when on, so a scenario's hash changes only
/// when SnapStart is used.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SnapStart(pub Option<SnapStartSettings>);

impl SnapStart {
    pub fn is_off(&self) -> bool {
        self.0.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SnapStartSettings {
    /// ASSUMED: how long resuming a new environment from the snapshot takes, in place of init
    /// (community measurements of Java functions report 100–200 ms; AWS says "as low as
    /// sub-second"). Billed as init is.
    pub restore: TimeDistribution,
}

impl Default for SnapStartSettings {
    fn default() -> Self {
        SnapStartSettings { restore: TimeDistribution::Fixed(Dur::parse("200ms")) }
    }
}

impl Serialize for SnapStart {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            None => s.serialize_bool(false),
            Some(settings) => settings.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for SnapStart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SnapStart;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("true, false, or {\"restore\": \"200ms\"}")
            }
            fn visit_bool<E: de::Error>(self, on: bool) -> Result<SnapStart, E> {
                Ok(SnapStart(on.then(SnapStartSettings::default)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SnapStart, A::Error> {
                SnapStartSettings::deserialize(MapAccessDeserializer::new(map)).map(|s| SnapStart(Some(s)))
            }
        }
        d.deserialize_any(V)
    }
}

/// At most `environments` new execution environments per `every` (scaling-behavior).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BurstLimit {
    pub environments: u32,
    pub every: Dur,
}

impl Default for BurstLimit {
    fn default() -> Self {
        BurstLimit { environments: 1000, every: Dur::parse("10s") }
    }
}

/// What one invocation takes: `base + per_record × records + per_kib × payload KiB`, times a
/// lognormal jitter with median 1.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DurationModel {
    pub base: Dur,
    pub per_record: Dur,
    pub per_kib: Dur,
    pub jitter_sigma: f64,
    /// When set, the times above were measured at this memory size and scale by CPU share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_memory_mb: Option<u32>,
    /// vCPUs the handler can use at once (1 for a single-threaded handler).
    pub threads: u32,
    /// ASSUMED: durations on arm64 relative to the x86_64 times given here.
    pub arm64_factor: f64,
}

impl Default for DurationModel {
    fn default() -> Self {
        DurationModel {
            base: Dur::parse("10ms"),
            per_record: Dur(0),
            per_kib: Dur(0),
            jitter_sigma: 0.0,
            reference_memory_mb: None,
            threads: 1,
            arm64_factor: 1.0,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ColdStart {
    /// Init duration of a new execution environment (billed): a duration or a distribution.
    pub init: TimeDistribution,
    /// ASSUMED: how long an idle environment is kept warm.
    pub idle_expiry: Dur,
    /// How long an on-demand environment's init phase may take (AWS: 10 s). Past it, Lambda
    /// runs init again inside the first invocation, under the function timeout, billed.
    pub init_limit: Dur,
}

impl Default for ColdStart {
    fn default() -> Self {
        ColdStart {
            init: TimeDistribution::Fixed(Dur::parse("300ms")),
            idle_expiry: Dur::parse("10m"),
            init_limit: Dur::parse("10s"),
        }
    }
}

/// A time: fixed (`"300ms"`), `{"distribution":"uniform","min":"100ms","max":"1s"}` or
/// `{"distribution":"lognormal","median":"300ms","sigma":0.5}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TimeDistribution {
    Fixed(Dur),
    Distribution(TimeShape),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "distribution", rename_all = "snake_case", deny_unknown_fields)]
pub enum TimeShape {
    Uniform { min: Dur, max: Dur },
    Lognormal { median: Dur, sigma: f64 },
}

impl<'de> Deserialize<'de> for TimeDistribution {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TimeDistribution;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration such as \"300ms\", or {\"distribution\":\"lognormal\",\"median\":\"300ms\",\"sigma\":0.5}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TimeDistribution, E> {
                crate::engine::parse_duration(v).map(|ns| TimeDistribution::Fixed(Dur(ns))).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TimeDistribution, A::Error> {
                TimeShape::deserialize(MapAccessDeserializer::new(map)).map(TimeDistribution::Distribution)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Account {
    pub concurrency_limit: u32,
    /// Concurrency other functions of the account use from the unreserved pool.
    pub other_concurrency: OtherConcurrency,
}

impl Default for Account {
    fn default() -> Self {
        Account { concurrency_limit: 1000, other_concurrency: OtherConcurrency(vec![]) }
    }
}

/// A constant (`300`) or a step schedule (`[{"at":"10m","value":300}, ...]`); before the first
/// step the value is 0.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OtherConcurrency(pub Vec<ConcurrencyStep>);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencyStep {
    pub at: Dur,
    pub value: u32,
}

impl OtherConcurrency {
    /// The value in force at `t_ns`.
    pub fn at(&self, t_ns: u64) -> u32 {
        self.0.iter().take_while(|s| s.at.ns() <= t_ns).last().map_or(0, |s| s.value)
    }

    pub fn peak(&self) -> u32 {
        self.0.iter().map(|s| s.value).max().unwrap_or(0)
    }
}

impl<'de> Deserialize<'de> for OtherConcurrency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OtherConcurrency;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, or a schedule [{\"at\": \"10m\", \"value\": 300}, ...]")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OtherConcurrency, E> {
                let value = u32::try_from(v).map_err(|_| E::custom("too large"))?;
                Ok(OtherConcurrency(vec![ConcurrencyStep { at: Dur(0), value }]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OtherConcurrency, A::Error> {
                let mut steps = Vec::new();
                while let Some(step) = seq.next_element()? {
                    steps.push(step);
                }
                Ok(OtherConcurrency(steps))
            }
        }
        d.deserialize_any(V)
    }
}
