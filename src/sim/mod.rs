//! The simulation: builds the world from a scenario and runs the event loop.
//!
//! Events are plain values handled by the part of the model they concern:
//! producers ([`generate`](Simulation::on_generate)), the ESM's batchers
//! ([`flush timers`](Simulation::on_flush_timer), retries) and the function (invocation ends).

mod dispatch;
mod invoke;
mod observer;
mod retry;
mod sample;
mod settle;

pub use observer::{Observer, Outcome, RetryCause};

use crate::engine::{EventQueue, NS_PER_MS, NS_PER_SEC, SimTime};
use crate::metrics::{Metrics, Row, Summary};
use crate::model::destination::Destination;
use crate::model::esm::{Batch, BatchRules, Fetcher, Gate, Waiting, fetcher::range_assignment};
use crate::model::failures::Failures;
use crate::model::function::{DurationModel, Environments};
use crate::model::producer::{Arrival, PayloadRule, ProducerGen};
use crate::model::topic::Partition;
use crate::scenario::{Backoff, ScalingMode, Scenario};

/// What a run produces.
#[derive(Clone, Debug)]
pub struct Report {
    pub summary: Summary,
    pub timeseries: Vec<Row>,
    /// Lines of `destination.jsonl`: failure records sent to the on-failure destination.
    pub destination: Vec<String>,
}

#[derive(Clone, Copy, Debug)]
enum Event {
    /// Producers generate the next chunk of arrivals.
    Generate,
    /// A fetcher's batch may be ready to flush.
    FlushTimer { fetcher: u32, generation: u64 },
    /// An invocation of the batch in `slot` finished.
    InvocationEnd { slot: u32 },
    /// A failed batch is fetched again and re-invoked.
    Retry { slot: u32 },
    /// A throttled invoke is tried again.
    ThrottleRetry { slot: u32 },
}

/// Settings derived once from the scenario.
struct Settings {
    end_ns: SimTime,
    sample_ns: SimTime,
    chunk_ns: SimTime,
    retention_ns: SimTime,
    timeout_ns: SimTime,
    memory_mb: u32,
    rules: BatchRules,
    envelope_bytes: u64,
    retry_backoff: Backoff,
    throttle_backoff: Backoff,
    retry_limit: Option<u32>,
    max_record_age_ns: Option<SimTime>,
}

/// Builds a [`Simulation`] from a validated scenario.
pub struct SimulationBuilder<'a> {
    scenario: &'a Scenario,
    seed: u64,
    config_hash: String,
}

impl<'a> SimulationBuilder<'a> {
    pub fn new(scenario: &'a Scenario) -> Self {
        SimulationBuilder { scenario, seed: scenario.seed, config_hash: crate::config_hash(scenario) }
    }

    /// Overrides the scenario's seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The seed the run will use.
    pub fn seed_value(&self) -> u64 {
        self.seed
    }

    pub fn build(self) -> Simulation<()> {
        self.build_with_observer(())
    }

    pub fn build_with_observer<O: Observer>(self, observer: O) -> Simulation<O> {
        Simulation::new(self.scenario, self.seed, self.config_hash, observer)
    }
}

/// One run in progress.
pub struct Simulation<O: Observer> {
    scenario: Scenario,
    seed: u64,
    config_hash: String,
    settings: Settings,
    now: SimTime,
    queue: EventQueue<Event>,

    partitions: Vec<Partition>,
    producers: Vec<ProducerGen>,
    /// Every arrival before this instant has been generated.
    horizon_ns: SimTime,
    arrivals: Vec<Arrival>,

    fetchers: Vec<Fetcher>,
    /// Whether a partition has a batch outstanding (in flight, throttled or awaiting retry).
    busy: Vec<bool>,
    gate: Gate,
    awaiting_records: Vec<u32>,
    batches: Vec<Option<Batch>>,
    /// The invocation in flight for each batch slot.
    running: Vec<Option<invoke::Running>>,
    free_slots: Vec<u32>,
    /// Failure-path knowledge per partition.
    notes: Vec<settle::Notes>,
    /// Invocations started, numbering attempts for per-attempt random draws.
    attempts: u64,
    destination: Option<Destination>,
    destination_lines: Vec<String>,
    destination_deliveries: u64,
    next_batch_id: u64,
    candidates: Vec<u32>,

    durations: DurationModel,
    envs: Environments,
    failures: Failures,
    metrics: Metrics,
    next_sample_ns: SimTime,
    observer: O,
}

impl<O: Observer> Simulation<O> {
    fn new(s: &Scenario, seed: u64, config_hash: String, observer: O) -> Self {
        let settings = Settings::from(s);
        let partitions = s.topic.partitions;
        let payload = PayloadRule { record_overhead_bytes: s.esm.payload_record_overhead_bytes };
        let producers = s
            .producers
            .iter()
            .enumerate()
            .map(|(i, p)| ProducerGen::new(i as u32, p, partitions, payload, seed))
            .collect();
        let (fetchers, gate) = build_fetchers(s);
        let intervals = settings.end_ns.div_ceil(settings.sample_ns) as usize;
        Simulation {
            scenario: s.clone(),
            seed,
            config_hash,
            now: 0,
            queue: EventQueue::default(),
            partitions: (0..partitions).map(|_| Partition::default()).collect(),
            producers,
            horizon_ns: 0,
            arrivals: Vec::new(),
            fetchers,
            busy: vec![false; partitions as usize],
            gate,
            awaiting_records: Vec::new(),
            batches: Vec::new(),
            running: Vec::new(),
            free_slots: Vec::new(),
            notes: vec![Default::default(); partitions as usize],
            attempts: 0,
            destination: Destination::new(s, seed),
            destination_lines: Vec::new(),
            destination_deliveries: 0,
            next_batch_id: 0,
            candidates: Vec::new(),
            durations: DurationModel::new(s, seed),
            envs: Environments::new(s),
            failures: Failures::new(s, seed),
            metrics: Metrics::new(partitions as usize, intervals),
            next_sample_ns: settings.sample_ns.min(settings.end_ns),
            settings,
            observer,
        }
    }

    /// Runs to the end and returns the report and the observer.
    pub fn run(self) -> (Report, O) {
        self.run_with_progress(|_| {})
    }

    /// As [`run`](Self::run), calling `progress` with the simulated fraction done now and then.
    pub fn run_with_progress(mut self, mut progress: impl FnMut(f64)) -> (Report, O) {
        // Two chunks ahead, so that events at a chunk boundary already see its arrivals.
        self.generate_to(self.settings.chunk_ns);
        self.queue.schedule(0, Event::Generate);
        for fetcher in 0..self.fetchers.len() as u32 {
            self.plan_fetcher(fetcher);
        }
        let mut handled: u64 = 0;
        while let Some((time, event)) = self.queue.pop() {
            if time >= self.settings.end_ns {
                break;
            }
            self.sample_until(time);
            self.now = time;
            self.handle(event);
            handled += 1;
            if handled % 65_536 == 0 {
                progress(time as f64 / self.settings.end_ns as f64);
            }
        }
        self.sample_until(self.settings.end_ns);
        progress(1.0);
        let report = self.finish();
        (report, self.observer)
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Generate => self.on_generate(),
            Event::FlushTimer { fetcher, generation } => self.on_flush_timer(fetcher, generation),
            Event::InvocationEnd { slot } => self.on_invocation_end(slot),
            Event::Retry { slot } => self.on_retry(slot),
            Event::ThrottleRetry { slot } => self.invoke(slot),
        }
    }

    /// Extends generated arrivals by one chunk and re-plans fetchers that were waiting for them.
    fn on_generate(&mut self) {
        let target = self.horizon_ns.saturating_add(self.settings.chunk_ns);
        self.generate_to(target);
        if self.horizon_ns < SimTime::MAX {
            self.queue.schedule(self.now + self.settings.chunk_ns, Event::Generate);
        }
        let mut waiting = std::mem::take(&mut self.awaiting_records);
        waiting.sort_unstable();
        waiting.dedup();
        for fetcher in waiting {
            if self.fetchers[fetcher as usize].waiting == Waiting::Records {
                self.plan_fetcher(fetcher);
            }
        }
    }

    /// Generates every arrival before `target` (capped at the end of the run) into the logs.
    fn generate_to(&mut self, target: SimTime) {
        let end = target.min(self.settings.end_ns);
        let mut sink = ArrivalSink {
            partitions: &mut self.partitions,
            produced_per_interval: &mut self.metrics.produced_per_interval,
            sample_ns: self.settings.sample_ns,
            bucket: 0,
            bucket_end: 0,
            count: 0,
        };
        if let [producer] = self.producers.as_mut_slice() {
            producer.generate_until(end, |a| sink.append(a));
        } else {
            let mut arrivals = std::mem::take(&mut self.arrivals);
            arrivals.clear();
            for producer in &mut self.producers {
                producer.generate_until(end, |a| arrivals.push(a));
            }
            // Stable: equal times keep producer order.
            arrivals.sort_by_key(|a| a.time_ns);
            arrivals.iter().for_each(|&a| sink.append(a));
            self.arrivals = arrivals;
        }
        self.metrics.produced += sink.count;
        self.horizon_ns = if end >= self.settings.end_ns { SimTime::MAX } else { end };
    }
}

/// Appends arrivals, in time order, to their partitions and counts them per sample interval.
struct ArrivalSink<'a> {
    partitions: &'a mut [Partition],
    produced_per_interval: &'a mut [u64],
    sample_ns: SimTime,
    bucket: usize,
    bucket_end: SimTime,
    count: u64,
}

impl ArrivalSink<'_> {
    #[inline]
    fn append(&mut self, a: Arrival) {
        if a.time_ns >= self.bucket_end {
            self.bucket = (a.time_ns / self.sample_ns) as usize;
            self.bucket_end = (self.bucket as u64 + 1) * self.sample_ns;
        }
        self.produced_per_interval[self.bucket] += 1;
        self.partitions[a.partition as usize].append(a.time_ns, a.payload_bytes);
        self.count += 1;
    }
}

impl Settings {
    fn from(s: &Scenario) -> Self {
        let end_ns = s.duration.ns();
        let peak_rate: f64 =
            s.producers.iter().map(|p| p.schedule.iter().map(|step| step.rate).fold(p.rate, f64::max)).sum();
        // About 32k arrivals per chunk: enough to amortise, small enough to stay in cache.
        let chunk_ns = if peak_rate > 0.0 { (32_768.0 / peak_rate * 1e9) as u64 } else { end_ns };
        Settings {
            end_ns,
            sample_ns: s.sample_interval.ns(),
            chunk_ns: chunk_ns.clamp(NS_PER_MS, 60 * NS_PER_SEC),
            retention_ns: s.topic.retention.ns(),
            timeout_ns: s.function.timeout.ns(),
            memory_mb: s.function.memory_mb,
            rules: BatchRules {
                batch_size: s.esm.batch_size as usize,
                window_ns: s.esm.batching_window.ns(),
                record_budget_bytes: s.esm.max_payload_bytes.saturating_sub(s.esm.payload_envelope_bytes),
            },
            envelope_bytes: s.esm.payload_envelope_bytes,
            retry_backoff: s.esm.retry_backoff,
            throttle_backoff: s.esm.throttle_backoff,
            retry_limit: s.esm.retry_limit(),
            max_record_age_ns: s.esm.maximum_record_age.0,
        }
    }
}

/// Fetchers and the gate for the scaling mode.
fn build_fetchers(s: &Scenario) -> (Vec<Fetcher>, Gate) {
    let partitions = s.topic.partitions;
    let scaling = &s.esm.scaling;
    match scaling.mode {
        ScalingMode::ParallelizationFactor => {
            let fetchers = (0..partitions).map(|p| Fetcher::new(vec![p], 1)).collect();
            (fetchers, Gate::new(scaling.factor.unwrap_or(1)))
        }
        ScalingMode::OnDemand | ScalingMode::Provisioned => {
            let pollers = scaling.initial_pollers.unwrap_or(1);
            let per_poller = scaling.invocations_per_poller.unwrap_or(1);
            let fetchers = range_assignment(partitions, pollers)
                .into_iter()
                .map(|owned| Fetcher::new(owned, per_poller))
                .collect();
            (fetchers, Gate::new(u32::MAX))
        }
    }
}

/// The batch in a slot that is known to be live.
fn live(batches: &[Option<Batch>], slot: u32) -> &Batch {
    batches[slot as usize].as_ref().expect("live batch slot")
}
