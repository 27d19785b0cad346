//! Per-partition arrival streams (`arrival_streams: "per_partition"`): every partition of a
//! Poisson producer draws its own arrivals, at its share of the producer's rate, from its own
//! small, fast generator.
//!
//! Why this is the same traffic: a Poisson stream whose records are sent to partition `i` with
//! probability `wᵢ`, independently, splits into independent Poisson streams of rate `λ·wᵢ`. So
//! each partition can be drawn on its own, with no partition pick per record and no scatter into
//! the logs, and a partition's arrivals depend only on (seed, producer, partition), which is what
//! generating lazily needs. Round-robin partitioning gives partition `i` every n-th record: gaps
//! of n exponential draws (Erlang), the first after `i + 1`; the partitions' phases are drawn
//! independently, so only their marginals are exact.
//!
//! Rate steps are followed in operational time: a stream draws its gaps in expected records of
//! the producer and maps them onto the clock through the schedule (a zero-rate step takes no
//! operational time, so no arrival falls inside it). For Poisson gaps this is the same process as
//! restarting at each step.

use super::exp_draw::ExpDraw;
use super::kafka::log_buffer::LogBuffer;
use super::kafka::topic::Record;
use super::producer::{Arrival, PayloadRule, RecordSizes};
use crate::config::{Partitioner, ProducerConfig};
use crate::engine::{SimTime, mix64};
use rand_distr::{Distribution, Gamma};
use std::sync::Arc;
use wyrand::WyRand;

/// Salt of the per-partition streams' seeds, so that they share nothing with other hashes.
const SALT: u64 = 0x7061_7274_6974_696f;

/// A stretch of the schedule at one rate.
#[derive(Clone, Copy, Debug)]
struct Segment {
    /// Expected records of the producer before the segment.
    start_units: f64,
    /// The clock at operational time `u` in this segment is `base_ns + u × ns_per_unit`.
    /// Once the rate is 0 for good, `base_ns` is infinite and `ns_per_unit` 0: no arrival, and
    /// no branch in the map.
    base_ns: f64,
    /// Nanoseconds per expected record.
    ns_per_unit: f64,
}

impl Segment {
    /// A segment at `rate` records/s starting at `start_ns` on the clock, `start_units` in
    /// operational time.
    fn new(start_units: f64, start_ns: f64, rate: f64) -> Self {
        let ns_per_unit = 1e9 / rate;
        if ns_per_unit.is_finite() {
            Segment { start_units, base_ns: start_ns - start_units * ns_per_unit, ns_per_unit }
        } else {
            Segment { start_units, base_ns: f64::INFINITY, ns_per_unit: 0.0 }
        }
    }

    /// Operational time `units` (finite) on the clock.
    #[inline(always)]
    fn clock_ns(&self, units: f64) -> f64 {
        self.base_ns + units * self.ns_per_unit
    }
}

/// An arrival's instant on the clock, which is finite, non-negative and before the run's end
/// (below 2^63 ns, as validation keeps runs and backlogs to 100 years each): the signed
/// conversion is the same value in a third of the unsigned one's instructions.
#[inline(always)]
fn whole_ns(clock_ns: f64) -> SimTime {
    debug_assert!((0.0..LAST_NS).contains(&clock_ns), "arrival at {clock_ns} ns");
    clock_ns as i64 as SimTime
}

/// No arrival is drawn at or after this instant (2^63 ns, about 292 years; validation keeps
/// runs far shorter): every instant drawn converts to a whole nanosecond exactly.
const LAST_NS: f64 = 9_223_372_036_854_775_808.0;

/// As [`whole_ns`], in one instruction rather than `as`'s several (it saturates, and maps NaN to
/// 0, with compares and conditional moves): 4 % of bench-steady's instructions.
///
/// # Safety
/// `clock_ns` is not NaN and lies in `(-LAST_NS, LAST_NS)`.
#[inline(always)]
unsafe fn whole_ns_unchecked(clock_ns: f64) -> SimTime {
    debug_assert!((0.0..LAST_NS).contains(&clock_ns), "arrival at {clock_ns} ns");
    // SAFETY: the caller's promise is `to_int_unchecked`'s.
    unsafe { clock_ns.to_int_unchecked::<i64>() as SimTime }
}

/// What one partition's stream keeps besides its next arrival on the clock.
#[derive(Clone, Debug)]
struct Stream {
    rng: WyRand,
    /// The next arrival in operational units.
    next_units: f64,
    /// The segment `next_units` falls in.
    segment: u32,
}

/// How many expected records of the producer lie between a partition's arrivals.
#[derive(Clone, Debug)]
enum Gaps {
    /// Poisson with the partition's share `w` of the rate: exponential gaps of mean `1 / w`,
    /// one entry per partition.
    Exponential(Vec<f64>),
    /// Round-robin over n partitions: Erlang(n) gaps.
    Erlang(Gamma<f64>),
}

/// What every partition's stream of one producer shares.
struct Shape {
    producer: u32,
    segments: Vec<Segment>,
    gaps: Gaps,
    /// `Exp1`'s draws, with the common case inline (`model/exp_draw.rs`).
    exp: ExpDraw,
    sizes: RecordSizes,
}

impl Shape {
    /// `generate_until`'s loop for one kind of gap (`gap` draws one, in expected records) and
    /// of sizes (`sizes` draws a record's).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn draw_until(
        &self,
        partition: u32,
        stream: &mut Stream,
        next_ns: &mut f64,
        end: f64,
        mut gap: impl FnMut(&mut WyRand) -> f64,
        sizes: impl Fn(&mut WyRand) -> (u64, u64),
        mut sink: impl FnMut(Arrival),
    ) {
        // The segment's values in registers; a step boundary is the rare case.
        let segment_end = |k: u32| self.segments.get(k as usize + 1).map_or(f64::INFINITY, |s| s.start_units);
        let (mut segment, mut end_units) = (self.segments[stream.segment as usize], segment_end(stream.segment));
        // The stream's state in locals, written back at the end: through `stream` the compiler
        // reloads and stores it around every call of `sink`.
        let (mut rng, mut units, mut next) = (stream.rng.clone(), stream.next_units, *next_ns);
        let end = end.min(LAST_NS);
        while next < end {
            // SAFETY: `next < end ≤ LAST_NS` (so not NaN), and `next` is a segment's clock from
            // its start on (finite, at least 0).
            let time_ns = unsafe { whole_ns_unchecked(next) };
            units += gap(&mut rng);
            if units >= end_units {
                stream.next_units = units;
                locate(&self.segments, stream);
                (segment, end_units) = (self.segments[stream.segment as usize], segment_end(stream.segment));
            }
            next = segment.clock_ns(units);
            let (payload_bytes, stored_bytes) = sizes(&mut rng);
            sink(Arrival { time_ns, partition, payload_bytes, stored_bytes, producer: self.producer });
        }
        (stream.rng, stream.next_units, *next_ns) = (rng, units, next);
    }

    /// The arrival at `next_ns`, moving `stream` and `next_ns` on to the next one. Draws as
    /// `generate_until`'s loop does (which keeps the segment in registers); a test holds them
    /// to the same arrivals.
    #[inline(always)]
    fn emit(&self, partition: u32, stream: &mut Stream, next_ns: &mut f64) -> Arrival {
        let time_ns = whole_ns(*next_ns);
        stream.next_units += match &self.gaps {
            Gaps::Exponential(mean) => self.exp.sample(&mut stream.rng) * mean[partition as usize],
            Gaps::Erlang(gap) => gap.sample(&mut stream.rng),
        };
        if self.segments.get(stream.segment as usize + 1).is_some_and(|s| s.start_units <= stream.next_units) {
            locate(&self.segments, stream);
        }
        *next_ns = self.segments[stream.segment as usize].clock_ns(stream.next_units);
        let (payload_bytes, stored_bytes) = self.sizes.draw(&mut stream.rng);
        Arrival { time_ns, partition, payload_bytes, stored_bytes, producer: self.producer }
    }
}

/// One Poisson producer's arrivals, drawn partition by partition.
pub struct PartitionStreams {
    /// Shared with the [`Replayer`]s handed out, which a lookahead thread drawing the streams
    /// leaves behind (`sim/lookahead.rs`).
    shape: Arc<Shape>,
    streams: Vec<Stream>,
    /// Each partition's next arrival on the clock (infinite when there is none), apart from
    /// the rest so that finding the partitions due in a chunk reads 8 bytes per partition.
    next_ns: Vec<f64>,
}

/// A point in one partition's stream: replaying from it gives the arrivals that followed it,
/// the same draws (records counted but not kept are regenerated from here).
#[derive(Clone, Debug)]
pub struct Resume {
    stream: Stream,
    next_ns: f64,
}

impl PartitionStreams {
    /// Producer `index`'s streams; its t = 0 lies at `origin_ns` on the clock.
    pub fn new(
        index: u32,
        spec: &ProducerConfig,
        partitions: u32,
        payload: PayloadRule,
        seed: u64,
        origin_ns: u64,
    ) -> Self {
        let gaps = match spec.partitioner {
            Partitioner::RoundRobin => Gaps::Erlang(Gamma::new(partitions as f64, 1.0).expect("a positive shape")),
            _ => Gaps::Exponential(spec.partitioner.shares(partitions).iter().map(|w| 1.0 / w).collect()),
        };
        let shape = Arc::new(Shape {
            producer: index,
            segments: segments(spec, origin_ns as f64),
            gaps,
            exp: ExpDraw::default(),
            sizes: RecordSizes::new(spec, payload),
        });
        let mut streams = Vec::with_capacity(partitions as usize);
        let mut next_ns = Vec::with_capacity(partitions as usize);
        for partition in 0..partitions {
            let state = mix64(&[SALT, seed, index as u64, partition as u64]);
            let mut stream = Stream { rng: WyRand::new(state), next_units: 0.0, segment: 0 };
            stream.next_units = match &shape.gaps {
                Gaps::Exponential(mean) => shape.exp.sample(&mut stream.rng) * mean[partition as usize],
                // The first arrival is the producer's (partition + 1)-th record.
                Gaps::Erlang(_) => {
                    Gamma::new(partition as f64 + 1.0, 1.0).expect("a positive shape").sample(&mut stream.rng)
                }
            };
            locate(&shape.segments, &mut stream);
            next_ns.push(shape.segments[stream.segment as usize].clock_ns(stream.next_units));
            streams.push(stream);
        }
        PartitionStreams { shape, streams, next_ns }
    }

    /// Hands `sink` every arrival of `partition` before `end_ns`, in time order.
    #[inline]
    pub fn generate_until(&mut self, partition: u32, end_ns: SimTime, sink: impl FnMut(Arrival)) {
        let end = end_ns as f64;
        let next_ns = &mut self.next_ns[partition as usize];
        if *next_ns >= end {
            return;
        }
        let (shape, stream) = (&*self.shape, &mut self.streams[partition as usize]);
        // One loop per kind of gap, and for fixed sizes: no branch on them per draw. (Drawing a
        // size takes the generator's address, which kept it in memory rather than a register
        // in every loop.)
        let drawn_sizes = |rng: &mut WyRand| shape.sizes.draw(rng);
        match (&shape.gaps, shape.sizes.fixed_bytes()) {
            (Gaps::Exponential(mean), fixed) => {
                let mean_gap = mean[partition as usize];
                let gap = |rng: &mut WyRand| shape.exp.sample(rng) * mean_gap;
                match fixed {
                    Some(fixed) => shape.draw_until(partition, stream, next_ns, end, gap, |_| fixed, sink),
                    None => shape.draw_until(partition, stream, next_ns, end, gap, drawn_sizes, sink),
                }
            }
            (Gaps::Erlang(gamma), _) => {
                shape.draw_until(partition, stream, next_ns, end, |rng| gamma.sample(rng), drawn_sizes, sink)
            }
        }
    }

    /// Where `partition`'s stream stands now: its next arrival is the first replayed from it.
    pub fn resume_point(&self, partition: u32) -> Resume {
        Resume { stream: self.streams[partition as usize].clone(), next_ns: self.next_ns[partition as usize] }
    }

    /// Moves `partition`'s stream to `point` (one of its points, as replaying left it).
    pub fn set_point(&mut self, partition: u32, point: Resume) {
        (self.streams[partition as usize], self.next_ns[partition as usize]) = (point.stream, point.next_ns);
    }

    /// What replays the streams from their points, on this thread or another.
    pub fn replayer(&self) -> Replayer {
        Replayer { shape: Arc::clone(&self.shape) }
    }

    /// The next arrival of `partition` (`None` when it has no more).
    #[cfg(test)]
    pub fn next_arrival_ns(&self, partition: u32) -> Option<SimTime> {
        let next = self.next_ns[partition as usize];
        next.is_finite().then_some(next as SimTime)
    }

    /// Whether `partition` has an arrival before `end_ns`.
    #[inline(always)]
    pub fn is_due(&self, partition: u32, end_ns: SimTime) -> bool {
        self.next_ns[partition as usize] < end_ns as f64
    }

    pub fn partitions(&self) -> u32 {
        self.streams.len() as u32
    }

    /// The producer's index.
    pub fn producer(&self) -> u32 {
        self.shape.producer
    }

    /// The (payload, stored) bytes of every record, when sizes are fixed.
    pub fn fixed_bytes(&self) -> Option<(u64, u64)> {
        self.shape.sizes.fixed_bytes()
    }

    /// Pushes `partition`'s arrivals before `end_ns` onto `records`, in time order.
    #[inline(always)]
    pub fn draw_into(&mut self, partition: u32, end_ns: SimTime, records: &mut LogBuffer<Record>) {
        self.generate_until(partition, end_ns, |a| records.push(Record { arrival_ns: a.time_ns }))
    }

    /// Appends `partition`'s arrivals before `end_ns` to `times_ns`, in time order, and their
    /// (payload, stored) bytes to `sizes` unless every record has the same (`fixed_bytes`).
    #[inline]
    pub fn draw_run(
        &mut self,
        partition: u32,
        end_ns: SimTime,
        times_ns: &mut Vec<SimTime>,
        sizes: &mut Vec<(u64, u64)>,
    ) {
        match self.fixed_bytes() {
            Some(_) => self.generate_until(partition, end_ns, |a| times_ns.push(a.time_ns)),
            None => self.generate_until(partition, end_ns, |a| {
                times_ns.push(a.time_ns);
                sizes.push((a.payload_bytes, a.stored_bytes));
            }),
        }
    }
}

/// The sizes of a run of one partition's arrivals.
#[derive(Clone, Copy)]
pub enum Sizes<'a> {
    /// Every record's (payload, stored) bytes.
    Fixed(u64, u64),
    /// Each record's, in order.
    Each(&'a [(u64, u64)]),
}

impl<'a> Sizes<'a> {
    /// `fixed` if every record has the same sizes (the streams' `fixed_bytes`), else `each`.
    pub fn of(fixed: Option<(u64, u64)>, each: &'a [(u64, u64)]) -> Self {
        fixed.map_or(Sizes::Each(each), |(payload, stored)| Sizes::Fixed(payload, stored))
    }

    /// The (payload, stored) bytes of the run's `k`-th record.
    pub fn get(&self, k: usize) -> (u64, u64) {
        match *self {
            Sizes::Fixed(payload, stored) => (payload, stored),
            Sizes::Each(each) => each[k],
        }
    }
}

/// One partition's arrivals in a chunk, drawn into reused buffers so that they are stored in
/// one go: a tight loop of draws, then one growth of the log, rather than a log append (and an
/// interval count) per draw.
#[derive(Default)]
pub struct RunBuffer {
    times_ns: Vec<SimTime>,
    sizes: Vec<(u64, u64)>,
}

impl RunBuffer {
    /// `partition`'s arrivals before `end_ns`: their instants, in time order, and sizes.
    #[inline]
    pub fn draw(&mut self, streams: &mut PartitionStreams, partition: u32, end_ns: SimTime) -> (&[SimTime], Sizes<'_>) {
        self.times_ns.clear();
        self.sizes.clear();
        streams.draw_run(partition, end_ns, &mut self.times_ns, &mut self.sizes);
        (&self.times_ns, Sizes::of(streams.fixed_bytes(), &self.sizes))
    }
}

/// Replays one producer's per-partition streams from their points ([`Resume`]): the same draws
/// as the streams made or will make, wherever these stand.
#[derive(Clone)]
pub struct Replayer {
    shape: Arc<Shape>,
}

impl Replayer {
    /// The arrival at `resume` (which must be a point of `partition`'s stream), moving past it.
    #[inline]
    pub fn replay(&self, partition: u32, resume: &mut Resume) -> Arrival {
        self.shape.emit(partition, &mut resume.stream, &mut resume.next_ns)
    }

    /// Replays from `point` every arrival before `end_ns`, handing `sink` each with the point
    /// just before it (for arrivals counted and not stored); `point` ends past them.
    pub fn replay_until(
        &self,
        partition: u32,
        point: &mut Resume,
        end_ns: SimTime,
        mut sink: impl FnMut(Arrival, &Resume),
    ) {
        let end = end_ns as f64;
        while point.next_ns < end {
            let before = point.clone();
            sink(self.replay(partition, point), &before);
        }
    }

    /// Arrivals from `point` on, among the next `records`, that arrive at or before `t_ns`.
    pub fn arrived_by(&self, partition: u32, point: &Resume, records: u64, t_ns: SimTime) -> u64 {
        let mut point = point.clone();
        let mut n = 0;
        while n < records && self.replay(partition, &mut point).time_ns <= t_ns {
            n += 1;
        }
        n
    }
}

/// Finds the segment of `stream.next_units` (at or after its current one).
fn locate(segments: &[Segment], stream: &mut Stream) {
    let mut k = stream.segment as usize;
    while segments.get(k + 1).is_some_and(|s| s.start_units <= stream.next_units) {
        k += 1;
    }
    stream.segment = k as u32;
}

/// The schedule in operational time: one segment per step with a positive rate, and a last one
/// without arrivals if the rate ends at 0 (steps are in time order; the first starts at 0).
fn segments(spec: &ProducerConfig, origin_ns: f64) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut units = 0.0;
    for (k, &(at_ns, rate)) in spec.steps.iter().enumerate() {
        let start_ns = origin_ns + at_ns as f64;
        let end_ns = spec.steps.get(k + 1).map_or(f64::INFINITY, |s| origin_ns + s.0 as f64);
        if rate > 0.0 {
            segments.push(Segment::new(units, start_ns, rate));
            units += (end_ns - start_ns) * rate / 1e9;
        } else if end_ns.is_infinite() {
            segments.push(Segment::new(units, start_ns, 0.0));
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn streams(spec: serde_json::Value, partitions: u32, seed: u64) -> PartitionStreams {
        let scenario = json!({ "name": "p", "topic": { "partitions": partitions }, "producers": [spec] });
        let loaded = crate::parse_scenario("t.json".as_ref(), &scenario.to_string(), &[]).unwrap();
        PartitionStreams::new(0, &loaded.config.producers[0], partitions, PayloadRule::new(0), seed, 0)
    }

    fn arrivals(s: &mut PartitionStreams, partition: u32, end_ns: u64) -> Vec<Arrival> {
        let mut out = Vec::new();
        s.generate_until(partition, end_ns, |a| out.push(a));
        out
    }

    fn counts(s: &mut PartitionStreams, end_ns: u64) -> Vec<f64> {
        (0..s.partitions()).map(|p| arrivals(s, p, end_ns).len() as f64).collect()
    }

    /// Whether `count` is within five standard deviations of a Poisson mean.
    fn near(count: f64, mean: f64) -> bool {
        (count - mean).abs() < 5.0 * mean.sqrt()
    }

    #[test]
    fn partitions_take_their_share_of_the_rate() {
        // 1,000 records/s for 100 s over 4 partitions: 25,000 each; a hot partition 2 at 0.7
        // takes 70,000 and the others 10,000; Zipf exponent 1 gives weights 12/25, 6/25, 4/25, 3/25.
        let uniform = counts(&mut streams(json!({ "rate": 1000 }), 4, 1), 100_000_000_000);
        assert!(uniform.iter().all(|&c| near(c, 25_000.0)), "{uniform:?}");
        let hot = json!({ "rate": 1000, "partitioning": { "hot_partition": { "partition": 2, "share": 0.7 } } });
        let hot = counts(&mut streams(hot, 4, 1), 100_000_000_000);
        assert!(near(hot[2], 70_000.0) && [0, 1, 3].iter().all(|&p| near(hot[p], 10_000.0)), "{hot:?}");
        let zipf = json!({ "rate": 1000, "partitioning": { "zipf": { "exponent": 1.0 } } });
        let zipf = counts(&mut streams(zipf, 4, 1), 100_000_000_000);
        for (count, weight) in zipf.iter().zip([12.0, 6.0, 4.0, 3.0]) {
            assert!(near(*count, 100_000.0 * weight / 25.0), "{zipf:?}");
        }
    }

    #[test]
    fn gaps_are_exponential_with_the_partitions_mean() {
        // 400 records/s over 4 partitions: each partition's gaps average 10 ms, and an
        // exponential's standard deviation equals its mean.
        let mut s = streams(json!({ "rate": 400 }), 4, 3);
        let times: Vec<f64> = arrivals(&mut s, 1, 1_000_000_000_000).iter().map(|a| a.time_ns as f64).collect();
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64).sqrt();
        assert!((mean / 1e7 - 1.0).abs() < 0.01, "mean gap {mean} ns");
        assert!((sd / mean - 1.0).abs() < 0.02, "sd {sd}, mean {mean}");
    }

    #[test]
    fn round_robin_gives_erlang_gaps() {
        // 1,000 records/s round-robin over 10 partitions: 100/s each, with gaps that are sums of
        // 10 exponentials (standard deviation 1/√10 of the mean), not exponential.
        let mut s = streams(json!({ "rate": 1000, "partitioning": "round_robin" }), 10, 5);
        let times: Vec<f64> = arrivals(&mut s, 7, 1_000_000_000_000).iter().map(|a| a.time_ns as f64).collect();
        assert!(near(times.len() as f64, 100_000.0), "{}", times.len());
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64).sqrt();
        assert!((sd / mean - 1.0 / 10f64.sqrt()).abs() < 0.01, "sd / mean {}", sd / mean);
    }

    #[test]
    fn counts_follow_each_rate_step() {
        // 1,000/s for 100 s, 0 for 100 s, 10/s for 100 s over two partitions.
        let schedule = json!([{ "at": "100s", "rate": 0 }, { "at": "200s", "rate": 10 }]);
        let mut s = streams(json!({ "rate": 1000, "schedule": schedule }), 2, 7);
        let all: Vec<Arrival> = (0..2).flat_map(|p| arrivals(&mut s, p, 300_000_000_000)).collect();
        let count = |from: u64, to: u64| {
            all.iter().filter(|a| (from * 1_000_000_000..to * 1_000_000_000).contains(&a.time_ns)).count() as f64
        };
        assert!(near(count(0, 100), 100_000.0), "{}", count(0, 100));
        assert_eq!(count(100, 200), 0.0);
        assert!(near(count(200, 300), 1_000.0), "{}", count(200, 300));
        // A rate that ends at 0 ends the stream.
        let mut s = streams(json!({ "rate": 100, "schedule": [{ "at": "1s", "rate": 0 }] }), 1, 7);
        assert!(near(arrivals(&mut s, 0, 1_000_000_000_000).len() as f64, 100.0));
        assert_eq!(s.next_arrival_ns(0), None);
    }

    #[test]
    fn replaying_gives_the_arrivals_generated() {
        // Through rate steps (one at 0), Poisson and round-robin, fixed and drawn sizes.
        let schedule = json!([{ "at": "2s", "rate": 0 }, { "at": "3s", "rate": 5000 }, { "at": "6s", "rate": 300 }]);
        let specs = [
            json!({ "rate": 800, "schedule": schedule, "record_bytes": { "distribution": "uniform", "min": 1, "max": 900 } }),
            json!({ "rate": 800, "schedule": schedule, "partitioning": "round_robin" }),
        ];
        for spec in specs {
            let mut s = streams(spec, 3, 9);
            let mut resume = s.resume_point(1);
            let generated: Vec<Arrival> = (1..=9u64).flat_map(|k| arrivals(&mut s, 1, k * 1_000_000_000)).collect();
            assert!(generated.len() > 1_000);
            let replayer = s.replayer();
            let replayed: Vec<Arrival> = generated.iter().map(|_| replayer.replay(1, &mut resume)).collect();
            assert_eq!(generated, replayed);
        }
    }

    #[test]
    fn chunks_give_the_same_arrivals_as_one_go_and_seeds_differ() {
        let spec = json!({ "rate": 500, "record_bytes": { "distribution": "uniform", "min": 10, "max": 2000 } });
        let whole = arrivals(&mut streams(spec.clone(), 3, 11), 2, 10_000_000_000);
        let mut s = streams(spec.clone(), 3, 11);
        let pieces: Vec<Arrival> = (1..=10u64).flat_map(|k| arrivals(&mut s, 2, k * 1_000_000_000)).collect();
        assert_eq!(whole, pieces);
        assert!(whole.windows(2).all(|w| w[0].time_ns <= w[1].time_ns));
        assert!(whole.iter().any(|a| a.payload_bytes != whole[0].payload_bytes), "sizes are drawn");
        assert_ne!(whole, arrivals(&mut streams(spec.clone(), 3, 12), 2, 10_000_000_000));
        // Another partition of the same producer draws another stream.
        assert_ne!(
            whole.iter().map(|a| a.time_ns).collect::<Vec<_>>()[..10],
            {
                let other = arrivals(&mut streams(spec, 3, 11), 1, 10_000_000_000);
                other.iter().map(|a| a.time_ns).collect::<Vec<_>>()[..10].to_vec()
            }[..]
        );
    }
}
