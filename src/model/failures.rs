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

pub struct Failures {
    seed: u64,
    /// Listed poison records, sorted by (partition, offset).
    listed: Vec<(u32, u64, Effect)>,
    poison_rate: f64,
    /// `ln(1 − poison_rate)`, and the length of the blocks poison is drawn in (`drawn_poison_in`).
    poison_keep_ln: f64,
    poison_block: u64,
    /// `transient_record_error_rate` as a bound on a hash (`unit_bound`).
    transient_record_bound: u64,
    poison_rate_effect: Effect,
    transient_error_rate: f64,
    transient_record_error_rate: f64,
    /// Faults that change how invocations fare, shifted onto the clock.
    faults: Vec<(SimTime, SimTime, Fault)>,
}

/// The blocks poison is drawn in: the power of two nearest above `1 / rate` (about one poison
/// record per block), from 1 to 2^40.
fn poison_block(rate: f64) -> u64 {
    let mean_gap = if rate > 0.0 { (1.0 / rate).min(2f64.powi(40)) } else { 1.0 };
    (mean_gap.ceil() as u64).max(1).next_power_of_two()
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
            poison_keep_ln: (-f.poison_rate).ln_1p(),
            poison_block: poison_block(f.poison_rate),
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
        self.listed_effect(partition, offset).or_else(|| {
            let mut drawn = false;
            self.drawn_poison_in(partition, offset, offset + 1, |_| {
                drawn = true;
                true
            });
            drawn.then_some(self.poison_rate_effect)
        })
    }

    fn listed_effect(&self, partition: u32, offset: u64) -> Option<Effect> {
        let i = self.listed.binary_search_by_key(&(partition, offset), |&(p, o, _)| (p, o)).ok()?;
        Some(self.listed[i].2)
    }

    /// Hands `each` the offsets from `from` to `to` (excluded) of `partition` that `poison_rate`
    /// makes poison, in order, until it returns `true`.
    ///
    /// The rule: a partition's offsets are cut into blocks of `poison_block` (a power of two
    /// near `1 / poison_rate`). In block `b`, the poison offsets are a Bernoulli process at the
    /// rate, drawn as geometric gaps: before the `k`-th poison offset (from 0) come
    /// `⌊ln(1 − u) / ln(1 − rate)⌋` offsets that are not, counted from the block's start or the
    /// poison offset before, with `u` the unit (`unit_f64`) of the hash of (seed, "poison",
    /// partition, b, k). So whether a record is poison depends on (seed, partition, offset)
    /// alone, and a batch costs a draw or two per block it touches instead of a hash per record
    /// (23 instructions a record, a quarter of what the failure-free run costs, which took the
    /// failure paths past 1.3 times it).
    fn drawn_poison_in(&self, partition: u32, from: u64, to: u64, mut each: impl FnMut(u64) -> bool) {
        if self.poison_rate <= 0.0 || from >= to {
            return;
        }
        let shift = self.poison_block.trailing_zeros();
        for block in from >> shift..=(to - 1) >> shift {
            let start = block << shift;
            let end = start.saturating_add(self.poison_block).min(to);
            let key = mix64(&[self.seed, POISON_SALT, partition as u64, block]);
            // The first offset after the last poison one (the gap less 1 is how many come
            // before the next).
            let mut after = start;
            for k in 0.. {
                let u = unit_f64(mix64_more(key, &[k]));
                let passed = ((1.0 - u).ln() / self.poison_keep_ln).floor() as u64;
                let Some(poison) = after.checked_add(passed).filter(|&o| o < end) else { break };
                if poison >= from && each(poison) {
                    return;
                }
                after = poison + 1;
            }
        }
    }

    /// The bad records of a batch in handler order: poison records and this attempt's transient
    /// record errors (`attempt` identifies the invocation). With `first_only`, at most one.
    pub fn bad_records(&self, segments: &[Segment], attempt: u64, first_only: bool) -> Vec<BadRecord> {
        let mut out = Vec::new();
        let scan_all = self.poison_rate > 0.0 || self.transient_record_error_rate > 0.0;
        let mut index = 0;
        let mut drawn = Vec::new();
        for s in segments {
            if scan_all && self.listed.is_empty() && self.transient_record_bound == 0 {
                let mut found = false;
                self.drawn_poison_in(s.partition, s.start, s.end, |offset| {
                    let (index, effect) = (index + offset - s.start, self.poison_rate_effect);
                    out.push(BadRecord { index, partition: s.partition, offset, effect, poison: true });
                    found = first_only;
                    found
                });
                if found {
                    return out;
                }
            } else if scan_all {
                drawn.clear();
                self.drawn_poison_in(s.partition, s.start, s.end, |offset| {
                    drawn.push(offset);
                    false
                });
                let record_key = mix64(&[self.seed, RECORD_SALT, s.partition as u64]);
                for offset in s.start..s.end {
                    let is_drawn = drawn.binary_search(&offset).is_ok();
                    let at = index + offset - s.start;
                    if let Some(bad) = self.bad_record(s.partition, record_key, offset, is_drawn, attempt, at) {
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

    /// Record `offset` of `partition` in this attempt: listed poison, drawn poison (`is_drawn`)
    /// or a transient record error (drawn from `record_key`, the partition's hash prefix).
    fn bad_record(
        &self,
        partition: u32,
        record_key: u64,
        offset: u64,
        is_drawn: bool,
        attempt: u64,
        index: u64,
    ) -> Option<BadRecord> {
        let poison = self.listed_effect(partition, offset).or(is_drawn.then_some(self.poison_rate_effect));
        if let Some(effect) = poison {
            return Some(BadRecord { index, partition, offset, effect, poison: true });
        }
        let transient = self.transient_record_bound > 0
            && mix64_more(record_key, &[offset, attempt]) >> 11 < self.transient_record_bound;
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

    /// The documented rule, offset by offset: in each block of `block` offsets, geometric
    /// gaps drawn from the hash of (seed, "poison", partition, block, k).
    fn poison_by_the_rule(seed: u64, rate: f64, block: u64, partition: u32, until: u64) -> Vec<u64> {
        let mut poison = Vec::new();
        for b in 0..until.div_ceil(block) {
            let mut next = b * block;
            for k in 0.. {
                let u = unit_f64(mix64(&[seed, POISON_SALT, partition as u64, b, k]));
                next += ((1.0 - u).ln() / (1.0 - rate).ln()).floor() as u64;
                if next >= (b + 1) * block || next >= until {
                    break;
                }
                poison.push(next);
                next += 1;
            }
        }
        poison
    }

    #[test]
    fn poison_follows_the_documented_rule_however_the_records_are_batched() {
        let f = failures(serde_json::json!({
            "name": "f", "topic": { "partitions": 3 }, "failures": { "poison_rate": 0.02 }
        }));
        assert_eq!(poison_block(0.02), 64);
        assert_eq!((poison_block(1e-5), poison_block(1.0), poison_block(0.3)), (131_072, 1, 4));
        let expected: Vec<(u32, u64)> = (0..3u32)
            .flat_map(|p| poison_by_the_rule(1, 0.02, 64, p, 2_000).into_iter().map(move |o| (p, o)))
            .collect();
        let segments: Vec<Segment> = (0..3).map(|p| Segment { partition: p, start: 0, end: 2_000 }).collect();
        let bad = f.bad_records(&segments, 9, false);
        let found: Vec<(u32, u64)> = bad.iter().map(|b| (b.partition, b.offset)).collect();
        assert_eq!(found, expected);
        assert!((80..160).contains(&found.len()), "{}", found.len());
        assert!(bad.iter().all(|b| b.index == u64::from(b.partition) * 2_000 + b.offset && b.poison));
        // Cut into batches anywhere (across blocks or inside them), or asked record by record:
        // the same records.
        let cuts = [0, 1, 63, 64, 65, 200, 777, 1_024, 1_999, 2_000];
        let pieces: Vec<Segment> = (0..3)
            .flat_map(|p| cuts.windows(2).map(move |w| Segment { partition: p, start: w[0], end: w[1] }))
            .collect();
        let found: Vec<(u32, u64)> = f.bad_records(&pieces, 9, false).iter().map(|b| (b.partition, b.offset)).collect();
        assert_eq!(found, expected);
        let one_by_one: Vec<(u32, u64)> = (0..3u32)
            .flat_map(|p| (0..2_000).map(move |o| (p, o)))
            .filter(|&(p, o)| f.poison(p, o).is_some())
            .collect();
        assert_eq!(one_by_one, expected);
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
    fn drawn_poison_is_a_bernoulli_process_at_the_rate() {
        // Each offset of a block, over many partitions, is poison about `rate` of the time (the
        // blocks' first and last offsets too), whatever the rate; and every record at rate 1.
        for (rate, partitions) in [(0.3, 4_000u32), (0.02, 20_000), (1e-3, 200_000)] {
            let f = failures(serde_json::json!({
                "name": "f", "topic": { "partitions": 1 }, "failures": { "poison_rate": rate }
            }));
            let block = poison_block(rate);
            let mut per_offset = vec![0u64; block as usize];
            for p in 0..partitions {
                f.drawn_poison_in(p, 0, block, |o| {
                    per_offset[o as usize] += 1;
                    false
                });
            }
            let n = f64::from(partitions);
            let total: u64 = per_offset.iter().sum();
            let expected = n * block as f64 * rate;
            assert!((total as f64 - expected).abs() < 4.0 * expected.sqrt(), "rate {rate}: {total} of {expected}");
            let sd = (n * rate * (1.0 - rate)).sqrt();
            for o in [0, block as usize / 2, block as usize - 1] {
                let count = per_offset[o] as f64;
                assert!((count - n * rate).abs() < 5.0 * sd, "rate {rate}, offset {o}: {count}");
            }
        }
        let f = failures(serde_json::json!({
            "name": "f", "topic": { "partitions": 1 }, "failures": { "poison_rate": 1.0 }
        }));
        assert!((0..100).all(|o| f.poison(0, o).is_some()));
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
