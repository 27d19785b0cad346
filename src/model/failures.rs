//! What goes wrong in an invocation: poison records and transient errors. Every draw is a hash
//! of the seed and the record or attempt, so it does not depend on event order.

use super::esm::Segment;
use crate::engine::{mix64, unit_f64};
use crate::scenario::Scenario;

/// A record that fails every batch it is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Poison {
    pub partition: u32,
    pub offset: u64,
    /// Its position in the batch (0-based), which decides how long the handler ran.
    pub index: u64,
}

const POISON_SALT: u64 = 0x706f_6973_6f6e; // "poison"
const TRANSIENT_SALT: u64 = 0x7472_616e_7369; // "transi"

pub struct Failures {
    seed: u64,
    /// Listed poison records, sorted by (partition, offset).
    listed: Vec<(u32, u64)>,
    poison_rate: f64,
    transient_error_rate: f64,
}

impl Failures {
    pub fn new(s: &Scenario, seed: u64) -> Self {
        let mut listed: Vec<(u32, u64)> = s.failures.poison_records.iter().map(|p| (p.partition, p.offset)).collect();
        listed.sort_unstable();
        listed.dedup();
        Failures {
            seed,
            listed,
            poison_rate: s.failures.poison_rate,
            transient_error_rate: s.failures.transient_error_rate,
        }
    }

    /// Whether anything can fail at all (lets the hot path skip the checks).
    pub fn any(&self) -> bool {
        !self.listed.is_empty() || self.poison_rate > 0.0 || self.transient_error_rate > 0.0
    }

    pub fn is_poison(&self, partition: u32, offset: u64) -> bool {
        self.listed.binary_search(&(partition, offset)).is_ok()
            || (self.poison_rate > 0.0
                && unit_f64(mix64(&[self.seed, POISON_SALT, partition as u64, offset])) < self.poison_rate)
    }

    /// The first poison record of a batch, in the order the handler reads it.
    pub fn first_poison(&self, segments: &[Segment]) -> Option<Poison> {
        let mut index = 0;
        for s in segments {
            if let Some(offset) = self.first_poison_in(s) {
                return Some(Poison { partition: s.partition, offset, index: index + offset - s.start });
            }
            index += s.len();
        }
        None
    }

    fn first_poison_in(&self, s: &Segment) -> Option<u64> {
        let from = self.listed.partition_point(|&k| k < (s.partition, s.start));
        let listed = self.listed.get(from).filter(|&&(p, o)| p == s.partition && o < s.end).map(|&(_, o)| o);
        if self.poison_rate == 0.0 {
            return listed;
        }
        let end = listed.unwrap_or(s.end);
        (s.start..end).find(|&o| self.is_poison(s.partition, o)).or(listed)
    }

    /// Whether invocation number `invocation` (1-based) of the batch starting at `first`
    /// fails with a transient error.
    pub fn transient_error(&self, first: &Segment, invocation: u32) -> bool {
        self.transient_error_rate > 0.0
            && unit_f64(mix64(&[self.seed, TRANSIENT_SALT, first.partition as u64, first.start, invocation as u64]))
                < self.transient_error_rate
    }
}
