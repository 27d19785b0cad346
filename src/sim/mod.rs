//! The simulation: builds the world from a scenario and runs the event loop.
//!
//! Events are plain values handled by the part of the model they concern:
//! producers ([`generate`](Simulation::on_generate)), the ESM's batchers
//! ([`flush timers`](Simulation::on_flush_timer), retries) and the function (invocation ends).

mod dispatch;
mod invoke;
mod observer;
mod pollers;
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
use crate::scenario::{Backoff, FaultKind, PollerPlan, ScalingMode, Scenario};

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
    /// A gate slot was handed to a waiting fetcher.
    GateGrant { fetcher: u32 },
    /// The poller autoscaler looks at offset lag and throttles.
    Evaluate,
    /// A scaling decision takes effect: the consumer group rebalances to `pollers`.
    ApplyScaling { pollers: u32 },
    /// A rebalance starts (a `rebalance` fault): no new batches until `until`.
    RebalanceStart { until: SimTime },
    /// The rebalance pause ends: partitions are reassigned and batching resumes.
    RebalanceEnd,
}

/// Settings derived once from the scenario. Times are on the simulation clock, whose
/// `origin_ns` is the scenario's t = 0 (later than 0 when a backlog precedes it).
struct Settings {
    origin_ns: SimTime,
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
    pollers: Option<PollerPlan>,
    /// Provisioned mode bills Event Poller Units.
    bills_pollers: bool,
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
    /// The fetcher that owns each partition.
    owner: Vec<u32>,
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
    /// Source of flush-timer generations, unique across fetchers and reassignments, so that a
    /// timer that is no longer wanted is recognised and ignored.
    timer_seq: u64,
    /// A rebalance is under way: no new batches until `paused_until`.
    paused: bool,
    paused_until: SimTime,
    autoscaler: Option<pollers::Autoscaler>,

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
        let origin = settings.origin_ns;
        let partitions = s.topic.partitions;
        let payload = PayloadRule { record_overhead_bytes: s.esm.payload_record_overhead_bytes };
        let producers = s
            .producers
            .iter()
            .enumerate()
            .map(|(i, p)| ProducerGen::new(i as u32, p, partitions, payload, seed, origin))
            .collect();
        let (fetchers, gate) = build_fetchers(s, settings.pollers.as_ref());
        let intervals = (settings.end_ns - origin).div_ceil(settings.sample_ns) as usize;
        let mut simulation = Simulation {
            scenario: s.clone(),
            seed,
            config_hash,
            now: origin,
            queue: EventQueue::default(),
            partitions: (0..partitions).map(|_| Partition::default()).collect(),
            producers,
            horizon_ns: 0,
            arrivals: Vec::new(),
            owner: owners(&fetchers, partitions),
            fetchers,
            busy: vec![false; partitions as usize],
            gate,
            awaiting_records: Vec::new(),
            batches: Vec::new(),
            running: Vec::new(),
            free_slots: Vec::new(),
            notes: vec![Default::default(); partitions as usize],
            attempts: 0,
            destination: Destination::new(s, seed, origin),
            destination_lines: Vec::new(),
            destination_deliveries: 0,
            next_batch_id: 0,
            candidates: Vec::new(),
            timer_seq: 0,
            paused: false,
            paused_until: 0,
            autoscaler: settings.pollers.map(|plan| pollers::Autoscaler::new(plan, origin)),
            durations: DurationModel::new(s, seed),
            envs: Environments::new(s, seed, origin),
            failures: Failures::new(s, seed, origin),
            metrics: Metrics::new(partitions as usize, intervals),
            next_sample_ns: (origin + settings.sample_ns).min(settings.end_ns),
            settings,
            observer,
        };
        simulation.append_backlog(s, payload);
        simulation
    }

    /// Puts the backlog the consumer will read into the logs, before t = 0.
    fn append_backlog(&mut self, s: &Scenario, payload: PayloadRule) {
        let reach = crate::model::backlog::reach_ns(s);
        for a in crate::model::backlog::arrivals(s, self.settings.origin_ns, reach, payload) {
            self.partitions[a.partition as usize].append(a.time_ns, a.payload_bytes);
            self.metrics.produced += 1;
        }
    }

    /// Runs to the end and returns the report and the observer.
    pub fn run(self) -> (Report, O) {
        self.run_with_progress(|_| {})
    }

    /// As [`run`](Self::run), calling `progress` with the simulated fraction done now and then.
    pub fn run_with_progress(mut self, mut progress: impl FnMut(f64)) -> (Report, O) {
        let origin = self.settings.origin_ns;
        // Two chunks ahead, so that events at a chunk boundary already see its arrivals.
        self.generate_to(origin + self.settings.chunk_ns);
        self.queue.schedule(origin, Event::Generate);
        self.schedule_timeline_events();
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
                progress((time - origin) as f64 / (self.settings.end_ns - origin) as f64);
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
            // Re-fetched: retention and record age apply while it waits, too.
            Event::ThrottleRetry { slot } => self.deliver(slot),
            Event::GateGrant { fetcher } => self.on_gate_grant(fetcher),
            Event::Evaluate => self.on_evaluate(),
            Event::ApplyScaling { pollers } => self.on_apply_scaling(pollers),
            Event::RebalanceStart { until } => self.start_rebalance(until),
            Event::RebalanceEnd => self.on_rebalance_end(),
        }
    }

    /// Autoscaler evaluations and `rebalance` faults.
    fn schedule_timeline_events(&mut self) {
        let origin = self.settings.origin_ns;
        if let Some(plan) = &self.settings.pollers {
            self.queue.schedule(origin + plan.evaluation_interval_ns, Event::Evaluate);
        }
        for fault in &self.scenario.faults {
            if fault.kind == FaultKind::Rebalance {
                let until = origin + fault.until.ns();
                self.queue.schedule(origin + fault.from.ns(), Event::RebalanceStart { until });
            }
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
            origin_ns: self.settings.origin_ns,
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
    origin_ns: SimTime,
    sample_ns: SimTime,
    bucket: usize,
    bucket_end: SimTime,
    count: u64,
}

impl ArrivalSink<'_> {
    #[inline(always)]
    fn append(&mut self, a: Arrival) {
        if a.time_ns >= self.bucket_end {
            self.bucket = ((a.time_ns - self.origin_ns) / self.sample_ns) as usize;
            self.bucket_end = self.origin_ns + (self.bucket as u64 + 1) * self.sample_ns;
        }
        self.produced_per_interval[self.bucket] += 1;
        self.partitions[a.partition as usize].append(a.time_ns, a.payload_bytes);
        self.count += 1;
    }
}

impl Settings {
    fn from(s: &Scenario) -> Self {
        let origin_ns = crate::model::backlog::reach_ns(s);
        let end_ns = origin_ns + s.duration.ns();
        let peak_rate: f64 =
            s.producers.iter().map(|p| p.schedule.iter().map(|step| step.rate).fold(p.rate, f64::max)).sum();
        // About 32k arrivals per chunk: enough to amortise, small enough to stay in cache.
        let chunk_ns = if peak_rate > 0.0 { (32_768.0 / peak_rate * 1e9) as u64 } else { end_ns };
        Settings {
            origin_ns,
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
            pollers: s.esm.scaling.pollers(s.topic.partitions),
            bills_pollers: s.esm.scaling.mode == ScalingMode::Provisioned,
        }
    }
}

/// Fetchers and the gate for the scaling mode.
fn build_fetchers(s: &Scenario, pollers: Option<&PollerPlan>) -> (Vec<Fetcher>, Gate) {
    let partitions = s.topic.partitions;
    match pollers {
        None => {
            let fetchers = (0..partitions).map(|p| Fetcher::new(vec![p], 1)).collect();
            (fetchers, Gate::new(s.esm.scaling.factor.unwrap_or(1)))
        }
        Some(plan) => (poller_fetchers(partitions, plan.initial, plan), Gate::new(u32::MAX)),
    }
}

/// The fetcher owning each partition.
fn owners(fetchers: &[Fetcher], partitions: u32) -> Vec<u32> {
    let mut owner = vec![0; partitions as usize];
    for (i, f) in fetchers.iter().enumerate() {
        for &p in &f.partitions {
            owner[p as usize] = i as u32;
        }
    }
    owner
}

/// One fetcher per poller, owning partitions as Kafka's range assignor gives them.
fn poller_fetchers(partitions: u32, pollers: u32, plan: &PollerPlan) -> Vec<Fetcher> {
    range_assignment(partitions, pollers)
        .into_iter()
        .map(|owned| Fetcher::new(owned, plan.invocations_per_poller))
        .collect()
}

/// The batch in a slot that is known to be live.
fn live(batches: &[Option<Batch>], slot: u32) -> &Batch {
    batches[slot as usize].as_ref().expect("live batch slot")
}
