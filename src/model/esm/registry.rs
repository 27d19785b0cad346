//! A schema registry's verdict on each record (AWS, services-consume-kafka-events): the ESM looks
//! up the record's schema, then deserialises it; a record whose schema is not found or that fails
//! to deserialise never reaches the function (it goes to the on-failure destination, or is
//! dropped). Event filtering runs after deserialisation, on the records that passed.

use crate::config::RegistryConfig;
use crate::engine::{mix64, unit_f64};
use crate::model::destination::Condition;

/// Salt of the registry's per-record draw: its own hash, so no other draw shifts with it.
const SCHEMA_SALT: u64 = 0x7363_6865_6d61; // "schema"

/// Which records fail validation: a pure function of (seed, partition, offset), nothing stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SchemaCheck {
    seed: u64,
    schema_not_found_rate: f64,
    deserialization_error_rate: f64,
}

impl SchemaCheck {
    /// The check of a registry whose records can fail (`None` if none can).
    pub fn new(registry: &RegistryConfig, seed: u64) -> Option<Self> {
        let check = SchemaCheck {
            seed,
            schema_not_found_rate: registry.schema_not_found_rate,
            deserialization_error_rate: registry.deserialization_error_rate,
        };
        (check.schema_not_found_rate > 0.0 || check.deserialization_error_rate > 0.0).then_some(check)
    }

    /// Why the record at (`partition`, `offset`) fails validation, if it does. One uniform draw
    /// `u`: below `schema_not_found_rate` the schema is not found (the lookup comes first); below
    /// the sum of both rates the record fails to deserialise.
    #[inline]
    pub fn verdict(&self, partition: u32, offset: u64) -> Option<Condition> {
        let u = unit_f64(mix64(&[self.seed, SCHEMA_SALT, partition as u64, offset]));
        if u < self.schema_not_found_rate {
            Some(Condition::SchemaNotFound)
        } else if u < self.schema_not_found_rate + self.deserialization_error_rate {
            Some(Condition::DeserializationError)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(not_found: f64, error: f64) -> Option<SchemaCheck> {
        let registry =
            RegistryConfig { schema_not_found_rate: not_found, deserialization_error_rate: error, epu_factor: 1.0 };
        SchemaCheck::new(&registry, 7)
    }

    #[test]
    fn verdicts_follow_the_rates_and_split_one_draw() {
        assert_eq!(check(0.0, 0.0), None);
        let c = check(0.05, 0.10).unwrap();
        let n = 100_000u64;
        let (mut missing, mut broken) = (0u64, 0u64);
        for offset in 0..n {
            match c.verdict(3, offset) {
                Some(Condition::SchemaNotFound) => missing += 1,
                Some(Condition::DeserializationError) => broken += 1,
                _ => {}
            }
        }
        // Binomial counts: 5,000 ± 5σ (σ = √(100,000 × 0.05 × 0.95) = 68.9) and
        // 10,000 ± 5σ (σ = √(100,000 × 0.1 × 0.9) = 94.9).
        assert!(missing.abs_diff(5_000) < 345, "{missing}");
        assert!(broken.abs_diff(10_000) < 475, "{broken}");
        // The same draw decides both: raising the error rate keeps every not-found verdict.
        let more = check(0.05, 0.5).unwrap();
        for offset in 0..1_000 {
            if c.verdict(3, offset) == Some(Condition::SchemaNotFound) {
                assert_eq!(more.verdict(3, offset), Some(Condition::SchemaNotFound));
            }
            if c.verdict(3, offset).is_some() {
                assert!(more.verdict(3, offset).is_some());
            }
        }
    }
}
