//! Serde forms shared by scenario fields: durations written as strings, and limits where `-1`
//! means "infinite" as in the AWS API.

use crate::engine::{SimTime, format_duration, parse_duration};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A duration written as a string with a unit (`"500ms"`, `"1m30s"`, `"1.5s"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub SimTime);

impl Dur {
    pub const fn ns(self) -> SimTime {
        self.0
    }
    pub fn secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    pub fn parse(text: &str) -> Self {
        Dur(parse_duration(text).expect("built-in duration literal"))
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string with a unit, e.g. \"500ms\", \"1m30s\" or \"1.5s\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_duration(v).map(Dur).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// `-1` (no limit) or a duration. In JSON: `-1`, a whole number of seconds (as the AWS API writes
/// `MaximumRecordAgeInSeconds`), or a duration string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AgeLimit(pub Option<SimTime>);

impl Serialize for AgeLimit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None => s.serialize_i64(-1),
            Some(ns) => s.serialize_str(&format_duration(ns)),
        }
    }
}

impl<'de> Deserialize<'de> for AgeLimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AgeLimit;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("-1 (no limit), whole seconds, or a duration string such as \"60s\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AgeLimit, E> {
                match v {
                    -1 => Ok(AgeLimit(None)),
                    v if v >= 0 => Ok(AgeLimit(Some(v as u64 * 1_000_000_000))),
                    _ => Err(E::custom(format!("{v} is not allowed; use -1 (no limit) or seconds"))),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AgeLimit, E> {
                v.checked_mul(1_000_000_000).map(|ns| AgeLimit(Some(ns))).ok_or_else(|| E::custom("age is too large"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AgeLimit, E> {
                parse_duration(v).map(|ns| AgeLimit(Some(ns))).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}
