//! What goes wrong in an invocation: poison records with their effects, transient errors per
//! invocation and per record, and faults on a timeline. Every random fact is a hash of the seed
//! and the record or attempt, so it does not depend on event order.

use super::esm::Segment;
use crate::config::{Effect, FailureConfig, Fault};
use crate::engine::{SimTime, mix64, mix64_more, unit_bound, unit_f64};

const POISON_SALT: u64 = 0x706f_6973_6f6e; // "poison"
const TRANSIENT_SALT: u64 = 0x7472_616e_7369; // "transi"
const RECORD_SALT: u64 = 0x7265_636f_7264; // "record"

/// A record the handler cannot process in this attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadRecord {
    /// Position in the batch, in the order the handler reads it.
    pub index: u64,
    pub partition: u32,
    pub offset: u64,
    pub effect: Effect,
    /// Poison (fails every time) rather than a transient per-record error.
    pub poison: bool,
}

/// Faults in force at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Conditions {
    pub outage: bool,
    pub extra_error_rate: f64,
    pub slowdown: f64,
}

/// A partition's per-record hash prefixes: (seed, salt, partition) mixed once.
struct PartitionKeys {
    partition: u32,
    poison: u64,
    record: u64,
}

pub struct Failures {
    seed: u64,
    /// Listed poison records, sorted by (partition, offset).
    listed: Vec<(u32, u64, Effect)>,
    poison_rate: f64,
    /// `poison_rate` and `transient_record_error_rate` as bounds on a hash (`unit_bound`).
    poison_bound: u64,
    transient_record_bound: u64,
    poison_rate_effect: Effect,
    transient_error_rate: f64,
    transient_record_error_rate: f64,
    /// Faults that change how invocations fare, shifted onto the clock.
    faults: Vec<(SimTime, SimTime, Fault)>,
}

impl Failures {
    /// Failures of a run whose t = 0 lies at `origin_ns` on the clock (faults are shifted).
    pub fn new(f: &FailureConfig, faults: &[Fault], seed: u64, origin_ns: SimTime) -> Self {
        let faults = faults
            .iter()
            .filter(|x| !matches!(x, Fault::Rebalance(_)))
            .map(|x| (origin_ns + x.window().from_ns, origin_ns + x.window().until_ns, *x))
            .collect();
        Failures {
            seed,
            listed: f.poison_records.clone(),
            poison_rate: f.poison_rate,
            poison_bound: unit_bound(f.poison_rate),
            transient_record_bound: unit_bound(f.transient_record_error_rate),
            poison_rate_effect: f.poison_rate_effect,
            transient_error_rate: f.transient_error_rate,
            transient_record_error_rate: f.transient_record_error_rate,
            faults,
        }
    }

    /// Whether anything can fail at all (lets the hot path skip every check).
    pub fn any(&self) -> bool {
        !self.listed.is_empty()
            || self.poison_rate > 0.0
            || self.transient_error_rate > 0.0
            || self.transient_record_error_rate > 0.0
            || !self.faults.is_empty()
    }

    /// Whether (partition, offset) is poison, and its effect.
    pub fn poison(&self, partition: u32, offset: u64) -> Option<Effect> {
        self.poison_keyed(&self.keys(partition), offset)
    }

    /// The hash prefixes of `partition`'s records: each record's hash then costs one round.
    fn keys(&self, partition: u32) -> PartitionKeys {
        PartitionKeys {
            partition,
            poison: mix64(&[self.seed, POISON_SALT, partition as u64]),
            record: mix64(&[self.seed, RECORD_SALT, partition as u64]),
        }
    }

    fn poison_keyed(&self, keys: &PartitionKeys, offset: u64) -> Option<Effect> {
        if !self.listed.is_empty()
            && let Ok(i) = self.listed.binary_search_by_key(&(keys.partition, offset), |&(p, o, _)| (p, o))
        {
            return Some(self.listed[i].2);
        }
        // The hash of (seed, salt, partition, offset), continued from its prefix.
        let drawn = mix64_more(keys.poison, &[offset]) >> 11 < self.poison_bound;
        drawn.then_some(self.poison_rate_effect)
    }

    /// The bad records of a batch in handler order: poison records and this attempt's transient
    /// record errors (`attempt` identifies the invocation). With `first_only`, at most one.
    pub fn bad_records(&self, segments: &[Segment], attempt: u64, first_only: bool) -> Vec<BadRecord> {
        let mut out = Vec::new();
        let scan_all = self.poison_rate > 0.0 || self.transient_record_error_rate > 0.0;
        let mut index = 0;
        for s in segments {
            if scan_all && self.listed.is_empty() && self.transient_record_bound == 0 {
                if self.drawn_poison(s, index, first_only, &mut out) {
                    return out;
                }
            } else if scan_all {
                let keys = self.keys(s.partition);
                for offset in s.start..s.end {
                    if let Some(bad) = self.bad_record(&keys, offset, attempt, index + offset - s.start) {
                        out.push(bad);
                        if first_only {
                            return out;
                        }
                    }
                }
            } else {
                let from = self.listed.partition_point(|&(p, o, _)| (p, o) < (s.partition, s.start));
                for &(p, offset, effect) in
                    self.listed[from..].iter().take_while(|&&(p, o, _)| p == s.partition && o < s.end)
                {
                    out.push(BadRecord { index: index + offset - s.start, partition: p, offset, effect, poison: true });
                    if first_only {
                        return out;
                    }
                }
            }
            index += s.len();
        }
        out
    }

    /// The poison of segment `s` (its first record at handler index `index`) when poison is only
    /// drawn: one round of the hash and a comparison per record, the draw `poison_keyed` makes.
    /// Whether `first_only` found one.
    fn drawn_poison(&self, s: &Segment, index: u64, first_only: bool, out: &mut Vec<BadRecord>) -> bool {
        let prefix = self.keys(s.partition).poison;
        for offset in s.start..s.end {
            if mix64_more(prefix, &[offset]) >> 11 < self.poison_bound {
                let (index, effect) = (index + offset - s.start, self.poison_rate_effect);
                out.push(BadRecord { index, partition: s.partition, offset, effect, poison: true });
                if first_only {
                    return true;
                }
            }
        }
        false
    }

    fn bad_record(&self, keys: &PartitionKeys, offset: u64, attempt: u64, index: u64) -> Option<BadRecord> {
        let partition = keys.partition;
        if let Some(effect) = self.poison_keyed(keys, offset) {
            return Some(BadRecord { index, partition, offset, effect, poison: true });
        }
        let transient = self.transient_record_bound > 0
            && mix64_more(keys.record, &[offset, attempt]) >> 11 < self.transient_record_bound;
        transient.then_some(BadRecord { index, partition, offset, effect: Effect::Error, poison: false })
    }

    /// Faults in force at `now`.
    pub fn conditions(&self, now: SimTime) -> Conditions {
        let mut c = Conditions { slowdown: 1.0, ..Default::default() };
        for &(from, until, fault) in &self.faults {
            if (from..until).contains(&now) {
                match fault {
                    Fault::FunctionOutage(_) => c.outage = true,
                    Fault::ErrorBurst { error_rate, .. } => {
                        c.extra_error_rate = 1.0 - (1.0 - c.extra_error_rate) * (1.0 - error_rate)
                    }
                    Fault::Slowdown { factor, .. } => c.slowdown *= factor,
                    Fault::Rebalance(_) => {}
                }
            }
        }
        c
    }

    /// Whether invocation `attempt` fails as a whole with a transient error (the base rate and
    /// any error burst combined).
    pub fn invocation_error(&self, attempt: u64, conditions: &Conditions) -> bool {
        let rate = 1.0 - (1.0 - self.transient_error_rate) * (1.0 - conditions.extra_error_rate);
        rate > 0.0 && unit_f64(mix64(&[self.seed, TRANSIENT_SALT, attempt])) < rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(json: serde_json::Value) -> Failures {
        let c = crate::parse_scenario("t.json".as_ref(), &json.to_string(), &[]).unwrap().config;
        Failures::new(&c.failures, &c.faults, 1, 0)
    }

    #[test]
    fn listed_poison_records_are_found_in_handler_order() {
        let f = failures(serde_json::json!({
            "name": "f", "topic": { "partitions": 2 },
            "failures": { "poison_records": [
                { "partition": 1, "offset": 5, "effect": "crash" }, { "partition": 0, "offset": 7 } ] }
        }));
        let segments = [Segment { partition: 1, start: 0, end: 10 }, Segment { partition: 0, start: 5, end: 9 }];
        let all = f.bad_records(&segments, 0, false);
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].index, all[0].effect), (5, Effect::Crash));
        assert_eq!((all[1].index, all[1].partition, all[1].offset), (12, 0, 7));
        assert_eq!(f.bad_records(&segments, 0, true).len(), 1);
    }

    #[test]
    fn rates_are_deterministic_and_about_right() {
        let f = failures(serde_json::json!({
            "name": "f", "topic": { "partitions": 1 },
            "failures": { "poison_rate": 0.01, "transient_record_error_rate": 0.05 }
        }));
        let segment = [Segment { partition: 0, start: 0, end: 100_000 }];
        let first = f.bad_records(&segment, 1, false);
        let again = f.bad_records(&segment, 1, false);
        let other_attempt = f.bad_records(&segment, 2, false);
        assert_eq!(first, again);
        let poison = first.iter().filter(|b| b.poison).count() as f64;
        assert!((poison - 1_000.0).abs() < 150.0, "{poison}");
        let transient = first.len() as f64 - poison;
        assert!((transient - 4_950.0).abs() < 350.0, "{transient}");
        // Poison records stay; transient ones are drawn anew.
        let poison_again: Vec<_> = other_attempt.iter().filter(|b| b.poison).collect();
        assert_eq!(poison_again.len() as f64, poison);
        assert_ne!(first, other_attempt);
    }

    #[test]
    fn poison_is_the_hash_of_seed_partition_and_offset() {
        // The documented rule, hashed in full: a record is poison when the hash of (seed,
        // "poison", partition, offset) maps below the rate. The scan must find exactly those.
        let f = failures(serde_json::json!({
            "name": "f", "topic": { "partitions": 3 }, "failures": { "poison_rate": 0.02 }
        }));
        let expected: Vec<(u32, u64)> = (0..3u32)
            .flat_map(|p| (0..2_000u64).map(move |o| (p, o)))
            .filter(|&(p, o)| unit_f64(mix64(&[1, POISON_SALT, p as u64, o])) < 0.02)
            .collect();
        let segments: Vec<Segment> = (0..3).map(|p| Segment { partition: p, start: 0, end: 2_000 }).collect();
        let bad = f.bad_records(&segments, 9, false);
        let found: Vec<(u32, u64)> = bad.iter().map(|b| (b.partition, b.offset)).collect();
        assert_eq!(found, expected);
        assert!((80..160).contains(&found.len()), "{}", found.len());
        assert!(bad.iter().all(|b| b.index == u64::from(b.partition) * 2_000 + b.offset && b.poison));
        // With transient record errors too, the scan takes its general path: the same poison.
        let f = failures(serde_json::json!({
            "name": "f", "topic": { "partitions": 3 },
            "failures": { "poison_rate": 0.02, "transient_record_error_rate": 0.01 }
        }));
        let poison: Vec<(u32, u64)> =
            f.bad_records(&segments, 9, false).iter().filter(|b| b.poison).map(|b| (b.partition, b.offset)).collect();
        assert_eq!(poison, expected);
    }

    #[test]
    fn faults_apply_inside_their_window() {
        let f = failures(serde_json::json!({
            "name": "f", "topic": { "partitions": 1 },
            "faults": [ { "kind": "function_outage", "from": "10s", "until": "20s" },
                        { "kind": "slowdown", "from": "15s", "until": "30s", "factor": 3 },
                        { "kind": "error_burst", "from": "0s", "until": "5s", "error_rate": 1 } ]
        }));
        let at = |s: u64| f.conditions(s * 1_000_000_000);
        assert!(at(12).outage && !at(20).outage);
        assert_eq!(at(16).slowdown, 3.0);
        assert_eq!(at(31).slowdown, 1.0);
        assert!(f.invocation_error(7, &at(1)));
        assert!(!f.invocation_error(7, &at(6)));
    }
}
