//! Producers: arrival processes with a step rate schedule, a partitioner and a record-size
//! distribution. They generate arrivals ahead of the clock in chunks; no event per record.

pub use crate::config::PayloadRule;
use crate::config::{Arrivals, Dist, Partitioner, ProducerConfig};
use crate::engine::{RngStream, SimTime, StreamId, stream};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

/// One generated record before it is appended to its partition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrival {
    pub time_ns: SimTime,
    pub partition: u32,
    pub payload_bytes: u64,
    /// Key and value as stored in Kafka.
    pub stored_bytes: u64,
    /// The producer's index (its records' values follow its `value` template).
    pub producer: u32,
}

/// The arrival process of one producer.
pub struct ProducerGen {
    index: u32,
    arrivals: Arrivals,
    /// Rate steps as (start ns, records per second); the first starts at 0.
    steps: Vec<(f64, f64)>,
    step: usize,
    /// Time of the last arrival emitted, or the start of the current step (ns, fractional).
    cursor_ns: f64,
    /// Constant arrivals: index of the next arrival within the current step.
    constant_k: u64,
    /// The next arrival, already drawn.
    next_ns: Option<f64>,
    /// Mean gap between arrivals in the current step (infinite at rate 0).
    ns_per_record: f64,
    step_end_ns: f64,
    partitions: u32,
    partitioner: Partitioner,
    /// The next partition of round-robin partitioning.
    round_robin_next: u32,
    sizes: RecordSizes,
    arrival_rng: RngStream,
    partition_rng: RngStream,
    size_rng: RngStream,
}

impl ProducerGen {
    /// A producer whose t = 0 (the start of its schedule) lies at `origin_ns` on the clock.
    pub fn new(
        index: u32,
        spec: &ProducerConfig,
        partitions: u32,
        payload: PayloadRule,
        seed: u64,
        origin_ns: u64,
    ) -> Self {
        let origin = origin_ns as f64;
        let steps = spec.steps.iter().map(|&(at_ns, rate)| (origin + at_ns as f64, rate)).collect();
        let mut generator = ProducerGen {
            index,
            arrivals: spec.arrivals,
            steps,
            step: 0,
            cursor_ns: 0.0,
            constant_k: 0,
            partitions,
            partitioner: spec.partitioner.clone(),
            round_robin_next: 0,
            sizes: RecordSizes::new(spec, payload),
            arrival_rng: stream(seed, StreamId::ProducerArrivals(index)),
            partition_rng: stream(seed, StreamId::ProducerPartitioning(index)),
            size_rng: stream(seed, StreamId::ProducerSizes(index)),
            next_ns: None,
            ns_per_record: f64::INFINITY,
            step_end_ns: f64::INFINITY,
        };
        generator.enter_step(0);
        generator.next_ns = generator.next_arrival(false);
        generator
    }

    /// Hands `sink` every arrival with time before `end_ns`, in time order.
    #[inline]
    pub fn generate_until(&mut self, end_ns: SimTime, mut sink: impl FnMut(Arrival)) {
        let end = end_ns as f64;
        while let Some(t) = self.next_ns.filter(|&t| t < end) {
            self.cursor_ns = t;
            self.constant_k += 1;
            self.next_ns = match self.poisson_next_in_step() {
                Ok(next) => Some(next),
                Err(overshot) => self.next_arrival(overshot),
            };
            let partition = self.pick_partition();
            let (payload_bytes, stored_bytes) = self.sizes.draw(&mut self.size_rng);
            sink(Arrival { time_ns: t as SimTime, partition, payload_bytes, stored_bytes, producer: self.index });
        }
    }

    /// The common case, kept small so it inlines: the next Poisson arrival of the current rate
    /// step. `Err(overshot)` sends the caller to [`next_arrival`](Self::next_arrival); `overshot`
    /// says the draw fell past the step's end.
    #[inline(always)]
    fn poisson_next_in_step(&mut self) -> Result<f64, bool> {
        if self.arrivals != Arrivals::Poisson || !self.ns_per_record.is_finite() {
            return Err(false);
        }
        let gap: f64 = Exp1.sample(&mut self.arrival_rng);
        let t = self.cursor_ns + gap * self.ns_per_record;
        if t < self.step_end_ns { Ok(t) } else { Err(true) }
    }

    /// The arrival after `cursor_ns`, or `None` once the rate is 0 for good. A draw that
    /// overshoots its rate step is discarded: Poisson arrivals are memoryless, and constant ones
    /// restart their phase at each step.
    #[inline(never)]
    fn next_arrival(&mut self, mut overshot: bool) -> Option<f64> {
        loop {
            if !overshot && self.ns_per_record.is_finite() {
                let t = match self.arrivals {
                    Arrivals::Poisson => {
                        let gap: f64 = Exp1.sample(&mut self.arrival_rng);
                        self.cursor_ns + gap * self.ns_per_record
                    }
                    Arrivals::Constant => self.steps[self.step].0 + self.constant_k as f64 * self.ns_per_record,
                };
                if t < self.step_end_ns {
                    return Some(t);
                }
            }
            if self.step + 1 == self.steps.len() {
                return None;
            }
            self.enter_step(self.step + 1);
            overshot = false;
        }
    }

    fn enter_step(&mut self, step: usize) {
        let (start, rate) = self.steps[step];
        self.step = step;
        self.cursor_ns = start;
        self.constant_k = 0;
        self.ns_per_record = if rate > 0.0 { 1e9 / rate } else { f64::INFINITY };
        self.step_end_ns = self.steps.get(step + 1).map_or(f64::INFINITY, |s| s.0);
    }

    #[inline(always)]
    fn pick_partition(&mut self) -> u32 {
        let n = self.partitions;
        let rng = &mut self.partition_rng;
        match &self.partitioner {
            Partitioner::Uniform(uniform) => uniform.sample(rng),
            Partitioner::RoundRobin => {
                let p = self.round_robin_next;
                self.round_robin_next = (p + 1) % n;
                p
            }
            &Partitioner::Hot { partition, share } => {
                if n == 1 || rng.random::<f64>() < share {
                    partition
                } else {
                    // Uniform over the other partitions.
                    let other = rng.random_range(0..n - 1);
                    if other >= partition { other + 1 } else { other }
                }
            }
            Partitioner::Zipf { dist, .. } => (dist.sample(rng) as u32).clamp(1, n) - 1,
        }
    }
}

/// A producer's record sizes: (payload, stored) bytes of each record it writes.
#[derive(Clone, Debug)]
pub struct RecordSizes {
    values: Dist,
    key_bytes: u64,
    /// Headers' payload and stored bytes, the same for every record.
    header_bytes: (u64, u64),
    payload: PayloadRule,
    /// The bytes of every record when sizes are fixed: nothing to compute or draw per record.
    fixed_bytes: Option<(u64, u64)>,
}

impl RecordSizes {
    pub fn new(spec: &ProducerConfig, payload: PayloadRule) -> Self {
        let mut sizes = RecordSizes {
            values: spec.record_bytes.clone(),
            key_bytes: spec.key_bytes,
            header_bytes: (spec.header_payload_bytes, spec.header_stored_bytes),
            payload,
            fixed_bytes: None,
        };
        if let Dist::Fixed(value) = spec.record_bytes {
            sizes.fixed_bytes = Some(sizes.of_value(value));
        }
        sizes
    }

    /// The next record's (payload, stored) bytes, its value's size drawn from `rng` unless fixed.
    #[inline(always)]
    pub fn draw(&self, rng: &mut impl rand::Rng) -> (u64, u64) {
        self.fixed_bytes.unwrap_or_else(|| self.of_value(self.values.sample(rng, f64::INFINITY)))
    }

    /// The payload bytes of every record, when sizes are fixed.
    pub fn fixed_payload_bytes(&self) -> Option<u64> {
        self.fixed_bytes.map(|(payload, _)| payload)
    }

    /// The (payload, stored) bytes of every record, when sizes are fixed.
    pub fn fixed_bytes(&self) -> Option<(u64, u64)> {
        self.fixed_bytes
    }

    fn of_value(&self, value_bytes: u64) -> (u64, u64) {
        let (header_payload, header_stored) = self.header_bytes;
        (
            self.payload.payload_bytes(self.key_bytes, value_bytes).saturating_add(header_payload),
            self.key_bytes.saturating_add(value_bytes).saturating_add(header_stored),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn producer(spec: serde_json::Value, partitions: u32) -> ProducerGen {
        let scenario = json!({ "name": "p", "topic": { "partitions": partitions }, "producers": [spec] });
        let loaded = crate::parse_scenario("t.json".as_ref(), &scenario.to_string(), &[]).unwrap();
        ProducerGen::new(0, &loaded.config.producers[0], partitions, PayloadRule::new(0), 42, 0)
    }

    fn arrivals(p: &mut ProducerGen, end_ns: u64) -> Vec<Arrival> {
        let mut out = Vec::new();
        p.generate_until(end_ns, |a| out.push(a));
        out
    }

    #[test]
    fn constant_arrivals_are_evenly_spaced_from_zero() {
        let mut p = producer(json!({ "rate": 40, "arrivals": "constant" }), 1);
        let times: Vec<u64> = arrivals(&mut p, 1_000_000_000).iter().map(|a| a.time_ns).collect();
        assert_eq!(times.len(), 40);
        assert!(times.iter().enumerate().all(|(k, &t)| t == k as u64 * 25_000_000));
    }

    #[test]
    fn poisson_counts_follow_each_rate_step() {
        // 1,000/s for 100 s, 0 for 100 s, 10/s for 100 s: expect 100,000, 0 and 1,000 records;
        // the tolerance is five standard deviations.
        let schedule = json!([{ "at": "100s", "rate": 0 }, { "at": "200s", "rate": 10 }]);
        let mut p = producer(json!({ "rate": 1000, "schedule": schedule }), 1);
        let all = arrivals(&mut p, 300_000_000_000);
        let count = |from: u64, to: u64| {
            all.iter().filter(|a| (from * 1_000_000_000..to * 1_000_000_000).contains(&a.time_ns)).count() as f64
        };
        assert!((count(0, 100) - 100_000.0).abs() < 5.0 * 100_000f64.sqrt());
        assert_eq!(count(100, 200), 0.0);
        assert!((count(200, 300) - 1_000.0).abs() < 5.0 * 1_000f64.sqrt(), "{}", count(200, 300));
        assert!(all.windows(2).all(|w| w[0].time_ns <= w[1].time_ns));
    }

    #[test]
    fn generation_in_chunks_matches_one_go() {
        let spec = json!({ "rate": 500, "schedule": [{ "at": "3s", "rate": 50 }] });
        let whole = arrivals(&mut producer(spec.clone(), 4), 10_000_000_000);
        let mut p = producer(spec, 4);
        let mut pieces = Vec::new();
        for k in 1..=10u64 {
            pieces.extend(arrivals(&mut p, k * 1_000_000_000));
        }
        assert_eq!(whole, pieces);
    }

    #[test]
    fn partitioners_spread_records_as_configured() {
        let share = |spec: serde_json::Value| {
            let mut counts = [0u32; 4];
            for a in arrivals(&mut producer(spec, 4), 100_000_000_000) {
                counts[a.partition as usize] += 1;
            }
            counts
        };
        assert_eq!(share(json!({ "rate": 1000, "arrivals": "constant", "partitioning": "round_robin" })), [25_000; 4]);
        let hot = share(json!({ "rate": 1000, "partitioning": { "hot_partition": { "partition": 2, "share": 0.7 } } }));
        let total: u32 = hot.iter().sum();
        assert!((hot[2] as f64 / total as f64 - 0.7).abs() < 0.01, "{hot:?}");
        let zipf = share(json!({ "rate": 1000, "partitioning": { "zipf": { "exponent": 1.0 } } }));
        // Weights 1, 1/2, 1/3, 1/4: partition 0 gets 12/25 of the records.
        let total: u32 = zipf.iter().sum();
        assert!((zipf[0] as f64 / total as f64 - 0.48).abs() < 0.01, "{zipf:?}");
    }

    #[test]
    fn payload_counts_base64_and_overhead() {
        let rule = PayloadRule::new(128);
        // 102,400 bytes = 34,134 groups of 3 (the last one padded): 136,536 base64 bytes.
        assert_eq!(rule.payload_bytes(0, 102_400), 136_536 + 128);
        // Key and value are encoded separately, each padded to 4: not ⌈4 × 2 / 3⌉ = 3.
        assert_eq!(rule.payload_bytes(1, 1), 4 + 4 + 128);
        // The fidelity case: key 8 → 12, value 10 → 16, 28 bytes, so 100 fit in 2,800.
        let bare = PayloadRule::new(0);
        assert_eq!(bare.payload_bytes(8, 10), 28);
        assert_eq!(2_800 / bare.payload_bytes(8, 10), 100);
    }
}
