//! The simulation: builds the world from a scenario and runs the event loop.
//!
//! Events are plain values handled by the part of the model they concern:
//! producers ([`generate`](Simulation::on_generate)), the ESM's batchers
//! ([`flush timers`](Simulation::on_flush_timer), retries) and the function (invocation ends).

mod batches;
mod dispatch;
mod invoke;
mod limits;
mod lookahead;
pub mod mappings;
mod observer;
mod occupancy;
mod pollers;
mod retry;
mod sample;
mod settle;

pub use batches::BatchId;

/// Tells the metrics and the run's observer of the same event, in that order.
macro_rules! notify {
    ($sim:ident . $event:ident ( $($arg:expr),* $(,)? )) => {{
        Observer::$event(&mut $sim.metrics, $($arg),*);
        $sim.observer.$event($($arg),*);
    }};
}
pub use limits::{HELD_BYTES_PER_RECORD, Limits, Stopped};
use notify;
pub use observer::{Observer, Outcome, RetryCause};

use crate::config::{BatchRules, Config, Fault, ProducerConfig};
use crate::engine::{EventQueue, NS_PER_SEC, SimTime};
use crate::metrics::{CloudWatch, Metrics, Row, Summary};
use crate::model::account::AccountPool;
use crate::model::destination::Destination;
use crate::model::esm::planner::Appends;
use crate::model::esm::registry::SchemaCheck;
use crate::model::esm::{Fetcher, Gate, Planner, Waiting};
use crate::model::function::Environments;
use crate::model::handler::{Handler, SyntheticHandler};
use crate::model::kafka::deferred::Deferred;
use crate::model::kafka::range_assignment;
use crate::model::partition_streams::{PartitionStreams, Replayer, Resume, RunBuffer, Sizes};
use crate::model::producer::{Arrival, ProducerGen, RecordSizes};
use crate::model::topic::Partition;
use batches::BatchTable;
use occupancy::Occupancy;
use std::cell::RefCell;
use std::rc::Rc;

/// What a run produces.
#[derive(Clone, Debug)]
pub struct Report {
    pub summary: Summary,
    pub timeseries: Vec<Row>,
    /// Lines of `destination.jsonl`: failure records sent to the on-failure destination.
    pub destination: Vec<String>,
    /// AWS's metrics per CloudWatch period (`cloudwatch.csv`).
    pub cloudwatch: CloudWatch,
}

/// Everything that happens at an instant, grouped by the component that handles it.
#[derive(Clone, Copy, Debug)]
enum Event {
    Source(SourceEvent),
    Esm(EsmEvent),
    Function(FunctionEvent),
    /// The warm-up is over: steady-state statistics start.
    SteadyState,
}

#[derive(Clone, Copy, Debug)]
enum SourceEvent {
    /// Producers generate the next chunk of arrivals.
    Generate,
}

#[derive(Clone, Copy, Debug)]
enum EsmEvent {
    /// A fetcher's batch may be ready to flush.
    FlushTimer { fetcher: u32, generation: u64 },
    /// A failed batch is fetched again and re-invoked.
    Retry { batch: BatchId },
    /// A throttled invoke is tried again.
    ThrottleRetry { batch: BatchId },
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

#[derive(Clone, Copy, Debug)]
enum FunctionEvent {
    /// The invocation of `batch` finished.
    InvocationEnd { batch: BatchId },
}

/// The topic: partition logs and the producers that fill them.
struct Source {
    logs: Vec<Partition>,
    /// Producers that draw each record's partition (all of them under `per_producer` streams).
    producers: Vec<ProducerGen>,
    /// Poisson producers under `arrival_streams: per_partition` (none once a lookahead thread
    /// draws the only one).
    streams: Vec<PartitionStreams>,
    /// When one producer writes the topic from per-partition streams: what replays them.
    replayer: Option<Replayer>,
    /// The thread drawing the only producer's streams a chunk ahead (`lookahead.rs`), if any.
    lookahead: Option<lookahead::Lookahead>,
    /// Per partition, the arrivals counted but not stored; empty unless one producer writes
    /// the topic from per-partition streams (the only case that can regenerate them).
    deferred: Vec<Deferred>,
    /// Which partitions a sample visits (`occupancy.rs`): told when a log gets its first
    /// records.
    occupancy: Occupancy,
    /// Every arrival before this instant has been generated.
    horizon_ns: SimTime,
    /// Records the last chunk produced: what the chunk buffers hold, for the memory budget.
    chunk_records: u64,
    scratch: Scratch,
    /// Event filtering: which records reach the function (`None` without `filter_criteria`).
    filter: Option<crate::model::value::RecordFilter>,
    /// The schema registry's verdicts (`None` unless some records can fail validation).
    schema: Option<SchemaCheck>,
    /// Some record may have a payload over the invocation's budget (sizes vary, or are fixed
    /// above it, or the backlog's are): otherwise no batch needs to look for one.
    oversize_possible: bool,
}

/// Buffers reused from chunk to chunk.
#[derive(Default)]
struct Scratch {
    /// Several producers' arrivals, to merge.
    arrivals: Vec<Arrival>,
    /// One partition's arrivals in a chunk, under per-partition streams.
    run: RunBuffer,
    /// Partitions a sample found with nothing arrived, and their fronts (`None`: empty).
    leaving: Vec<(usize, Option<SimTime>)>,
}

/// What the ESM knows of one partition (a lane of the source).
#[derive(Clone, Debug, Default)]
struct Lane {
    /// The fetcher that owns it.
    owner: u32,
    /// Its index in the owner's partitions.
    slot: u32,
    /// A batch holds it (in flight, throttled or awaiting retry).
    busy: bool,
    notes: settle::Notes,
}

/// A rebalance stops new batches until `until`.
#[derive(Clone, Copy, Debug, Default)]
struct Pause {
    active: bool,
    until: SimTime,
}

/// The event source mapping: fetchers (pollers), the gate, batches, and what the ESM knows
/// of each partition.
struct Esm {
    fetchers: Vec<Fetcher>,
    lanes: Vec<Lane>,
    gate: Gate,
    batches: BatchTable,
    /// Fetchers waiting for the producers' next chunk.
    awaiting_records: Vec<u32>,
    /// Scratch space for a fetcher's partitions without a batch.
    candidates: Vec<u32>,
    /// Scratch space for the fetchers that own partitions a batch frees.
    owners: Vec<u32>,
    /// Scratch space: partitions that got their first waiting record in a chunk of arrivals.
    first_records: Vec<u32>,
    /// Some fetcher has a planner, which must hear of every appended record.
    planning: bool,
    /// Fetchers owning more partitions than this plan incrementally (see `index_candidates`);
    /// `None`: the default for the arrival streams.
    plan_incrementally_above: Option<usize>,
    /// Whether every fetcher parks the partitions whose records arrive later, or none does;
    /// `None`: as `Planning` says.
    park: Option<bool>,
    /// Source of flush-timer generations, unique across fetchers and reassignments, so that a
    /// timer that is no longer wanted is recognised and ignored.
    timer_seq: u64,
    pause: Pause,
    autoscaler: Option<pollers::Autoscaler>,
    destination: Option<Destination>,
    destination_lines: Vec<String>,
    /// Bytes of `destination_lines`, which count against the memory budget.
    destination_bytes: u64,
    destination_deliveries: u64,
}

/// The Lambda function: its environments and its code.
struct Function {
    /// Shared with the other mappings that invoke the same function, if any.
    envs: Rc<RefCell<Environments>>,
    /// Whether this run's bill carries the function's fixed charges (provisioned concurrency's
    /// allocation, SnapStart's cache): only one of the mappings sharing a function does.
    charges_fixed: bool,
    handler: Box<dyn Handler>,
    /// Invocations started, numbering attempts for per-attempt random draws.
    attempts: u64,
    /// Scratch space for environments the handler is told are gone.
    gone: Vec<u64>,
    /// Why the handler can no longer run: the run stops.
    stopped: Option<String>,
}

/// Builds a [`Simulation`] from a compiled configuration.
pub struct SimulationBuilder<'a> {
    config: &'a Config,
    seed: u64,
    handler: Option<Box<dyn Handler>>,
    shared: Shared,
    store_every_record: bool,
    plan_incrementally_above: Option<usize>,
    draw_ahead: bool,
    sample_occupied_only: bool,
    park: Option<bool>,
}

/// What a mapping's run shares with the other mappings of its scenario (nothing when alone).
#[derive(Clone)]
pub(crate) struct Shared {
    /// The account's concurrency.
    pub account: Option<Rc<AccountPool>>,
    /// The function's environments, when another mapping invokes the same function.
    pub environments: Option<Rc<RefCell<Environments>>>,
    /// Whether this mapping's bill carries the function's fixed charges.
    pub charges_fixed: bool,
    /// Whether the EPU billing windows are kept, for a poller group's bill.
    pub keeps_epu_windows: bool,
}

impl Default for Shared {
    fn default() -> Self {
        Shared { account: None, environments: None, charges_fixed: true, keeps_epu_windows: false }
    }
}

impl<'a> SimulationBuilder<'a> {
    pub fn new(config: &'a Config) -> Self {
        SimulationBuilder {
            config,
            seed: config.seed,
            handler: None,
            shared: Shared::default(),
            store_every_record: false,
            plan_incrementally_above: None,
            draw_ahead: false,
            sample_occupied_only: false,
            park: None,
        }
    }

    /// Runs as one of several mappings of a scenario, sharing `shared` with the others.
    pub(crate) fn shared(mut self, shared: Shared) -> Self {
        self.shared = shared;
        self
    }

    /// Runs `handler` (a real one) in place of the built-in model.
    pub fn handler(mut self, handler: Box<dyn Handler>) -> Self {
        self.handler = Some(handler);
        self
    }

    /// Stores every arrival in its partition's log, as without per-partition streams, rather than
    /// counting those a lagging partition does not need yet (see `model/kafka/deferred.rs`):
    /// the same outputs with memory in proportion to lag, for comparing the two.
    pub fn store_every_record(mut self) -> Self {
        self.store_every_record = true;
        self
    }

    /// Fetchers owning more than `partitions` plan incrementally, the others search from
    /// scratch (the same answers; the default is where the two cost the same). For comparing
    /// the two: 0 gives every fetcher a planner.
    pub fn plan_incrementally_above(mut self, partitions: usize) -> Self {
        self.plan_incrementally_above = Some(partitions);
        self
    }

    /// Draws the arrivals a chunk ahead on a second thread (`lookahead.rs`) when one producer
    /// writes the topic from per-partition streams (otherwise this does nothing): the same
    /// outputs, in less wall time when a core is free.
    pub fn draw_ahead(mut self, on: bool) -> Self {
        self.draw_ahead = on;
        self
    }

    /// Samples visit only the partitions whose records have arrived (`occupancy.rs`), whatever
    /// the topic's rate (by default a busy topic's samples visit every partition): the same
    /// outputs, for comparing the two.
    pub fn sample_occupied_only(mut self) -> Self {
        self.sample_occupied_only = true;
        self
    }

    /// Every fetcher parks the partitions whose records arrive later until they do
    /// (`CandidateSet`), whatever it owns and however far ahead producers draw, or (`false`)
    /// none does. By default fetchers of many partitions do while producers draw seconds
    /// ahead. The same outputs, for comparing the two.
    pub fn park_waiting_candidates(mut self, on: bool) -> Self {
        self.park = Some(on);
        self
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
        let handler = self.handler.unwrap_or_else(|| Box::new(SyntheticHandler::new(self.config, self.seed)));
        let mut simulation = Simulation::new(self.config, self.seed, handler, self.shared, observer);
        if self.store_every_record {
            simulation.source.deferred.clear();
        }
        simulation.esm.plan_incrementally_above = self.plan_incrementally_above;
        simulation.esm.park = self.park;
        if self.sample_occupied_only {
            let partitions = simulation.source.logs.len() as u32;
            simulation.source.occupancy = Occupancy::new(partitions, &self.config.clock, 0.0);
        }
        if self.draw_ahead {
            let clock = &self.config.clock;
            simulation.source.draw_ahead(clock.chunk_end_after(clock.origin_ns));
        }
        simulation
    }
}

/// One run in progress: the clock, the queue, and the components the events go to.
pub struct Simulation<O: Observer> {
    config: Config,
    seed: u64,
    now: SimTime,
    queue: EventQueue<Event>,
    source: Source,
    esm: Esm,
    function: Function,
    metrics: Metrics,
    next_sample_ns: SimTime,
    tally: limits::Tally,
    observer: O,
}

impl Source {
    /// Hands the only producer's per-partition streams to a lookahead thread, whose first chunk
    /// ends at `first_end_ns`; they stay here if there is no such producer or thread.
    fn draw_ahead(&mut self, first_end_ns: SimTime) {
        if self.replayer.is_none() {
            return;
        }
        let Some(streams) = self.streams.pop() else { return };
        match lookahead::Lookahead::start(streams, first_end_ns) {
            Ok(lookahead) => self.lookahead = Some(lookahead),
            Err(streams) => self.streams.push(streams),
        }
    }

    /// The topic's logs and the producers that fill them.
    fn new(c: &Config, seed: u64) -> Self {
        let (origin, partitions) = (c.clock.origin_ns, c.topic.partitions);
        let (mut producers, mut streams) = (Vec::new(), Vec::new());
        for (i, p) in c.producers.iter().enumerate() {
            if c.draws_by_partition(p) {
                streams.push(PartitionStreams::new(i as u32, p, partitions, c.esm.payload, seed, origin));
            } else {
                producers.push(ProducerGen::new(i as u32, p, partitions, c.esm.payload, seed, origin));
            }
        }
        // Only one producer's per-partition streams can regenerate what a partition defers.
        let replayer = match (producers.as_slice(), streams.as_slice()) {
            ([], [only]) => Some(only.replayer()),
            _ => None,
        };
        Source {
            logs: (0..partitions).map(|_| Partition::default()).collect(),
            deferred: if replayer.is_some() { vec![Deferred::default(); partitions as usize] } else { Vec::new() },
            occupancy: Occupancy::new(partitions, &c.clock, c.producers.iter().map(|p| p.peak_rate).sum()),
            producers,
            streams,
            replayer,
            lookahead: None,
            horizon_ns: 0,
            chunk_records: 0,
            scratch: Scratch::default(),
            filter: record_filter(c, seed),
            schema: c.esm.registry.and_then(|r| SchemaCheck::new(&r, seed)),
            oversize_possible: false,
        }
    }
}

impl Esm {
    /// Partitions whose logs were empty, and got records, may now be candidates of their
    /// fetchers (the list's buffer is kept for the next chunk).
    fn add_first_records(&mut self, mut partitions: Vec<u32>, logs: &[Partition], now: SimTime) {
        for &p in &partitions {
            let lane = &self.lanes[p as usize];
            let front_ns = logs[p as usize].front_arrival().unwrap_or(0);
            self.fetchers[lane.owner as usize].candidates.add_arriving(lane.slot, front_ns, now);
        }
        partitions.clear();
        self.first_records = partitions;
    }

    /// The mapping's fetchers, owning the partitions, before anything is fetched.
    fn new(c: &Config, seed: u64, shared: &Shared) -> Self {
        let (fetchers, gate) = build_fetchers(c);
        let mut lanes = vec![Lane::default(); c.topic.partitions as usize];
        set_owners(&mut lanes, &fetchers);
        Esm {
            fetchers,
            lanes,
            gate,
            batches: BatchTable::default(),
            awaiting_records: Vec::new(),
            candidates: Vec::new(),
            owners: Vec::new(),
            first_records: Vec::new(),
            planning: false,
            plan_incrementally_above: None,
            park: None,
            timer_seq: 0,
            pause: Pause::default(),
            autoscaler: c.esm.scaling.pollers().map(|&plan| {
                let mut scaler = pollers::Autoscaler::new(plan, c.clock.origin_ns);
                scaler.epu_throughput_factor = c.esm.registry.map_or(1.0, |r| r.epu_factor);
                scaler.epu_windows = shared.keeps_epu_windows.then(Vec::new);
                scaler
            }),
            destination: Destination::new(c, seed),
            destination_lines: Vec::new(),
            destination_bytes: 0,
            destination_deliveries: 0,
        }
    }
}

impl Function {
    /// The function's environments (shared with other mappings that invoke it, if any).
    fn new(c: &Config, seed: u64, shared: Shared, handler: Box<dyn Handler>) -> Self {
        Function {
            envs: shared.environments.unwrap_or_else(|| {
                let mut envs = Environments::new(&c.function, seed, c.clock.origin_ns);
                if let Some(account) = &shared.account {
                    envs.share_account(account.clone());
                }
                Rc::new(RefCell::new(envs))
            }),
            charges_fixed: shared.charges_fixed,
            handler,
            attempts: 0,
            gone: Vec::new(),
            stopped: None,
        }
    }
}

/// The run's metrics, told what the scenario turns on.
fn new_metrics(c: &Config, seed: u64) -> Metrics {
    let mut metrics = Metrics::new(
        c.topic.partitions as usize,
        c.clock.intervals(),
        CloudWatch::new(c.clock.origin_ns, c.clock.end_ns, c.clock.cloudwatch_period_ns),
        c.esm.reports_batch_item_failures,
    );
    metrics.filtering = c.esm.filters.is_some();
    metrics.cloudwatch.filtering = metrics.filtering;
    metrics.cloudwatch.provisioned = c.function.provisioned;
    metrics.snapstart = c.function.snapstart.is_some();
    metrics.registry = c.esm.registry.is_some();
    metrics.schema = c.esm.registry.and_then(|r| SchemaCheck::new(&r, seed));
    metrics
}

impl<O: Observer> Simulation<O> {
    fn new(c: &Config, seed: u64, handler: Box<dyn Handler>, shared: Shared, observer: O) -> Self {
        let origin = c.clock.origin_ns;
        Simulation {
            seed,
            now: origin,
            queue: EventQueue::default(),
            source: Source::new(c, seed),
            esm: Esm::new(c, seed, &shared),
            function: Function::new(c, seed, shared, handler),
            metrics: new_metrics(c, seed),
            next_sample_ns: (origin + c.clock.sample_ns).min(c.clock.end_ns),
            config: c.clone(),
            tally: limits::Tally::default(),
            observer,
        }
    }

    /// Puts the backlog the consumer will read into the logs, before t = 0.
    fn append_backlog(&mut self) {
        let c = &self.config;
        let per_partition = crate::model::backlog::count(&c.topic) / u64::from(c.topic.partitions);
        for log in &mut self.source.logs {
            log.reserve(per_partition as usize);
        }
        let screen = Screen { filter: self.source.filter.as_ref(), schema: self.source.schema.as_ref() };
        let budget = c.esm.rules.record_budget_bytes;
        let fixed_fits =
            |p: &ProducerConfig| RecordSizes::new(p, c.esm.payload).fixed_payload_bytes().is_some_and(|b| b <= budget);
        self.source.oversize_possible = !c.producers.iter().all(fixed_fits);
        for a in crate::model::backlog::arrivals(&c.topic, c.clock.origin_ns, c.esm.payload) {
            self.source.oversize_possible |= a.payload_bytes > budget;
            append(&mut self.source.logs[a.partition as usize], screen, a);
            self.metrics.produced += 1;
        }
        for (p, log) in self.source.logs.iter().enumerate() {
            if let Some(front_ns) = log.front_arrival() {
                self.source.occupancy.holds(p as u32, front_ns, 0);
            }
        }
        let planning = self.planning();
        self.esm.planning = index_candidates(&self.esm.lanes, &mut self.esm.fetchers, &self.source.logs, planning);
    }

    /// Runs to the end and returns the report and the observer.
    pub fn run(self) -> (Report, O) {
        self.run_with_progress(|_| {})
    }

    /// As [`run`](Self::run), calling `progress` with the simulated fraction done now and then.
    /// Nothing bounds the run; see [`try_run`](Self::try_run).
    pub fn run_with_progress(mut self, progress: impl FnMut(f64)) -> (Report, O) {
        // Without limits and without watching the observer, `drive` always reaches the end.
        let _ = self.drive(&Limits::NONE, false, progress);
        let report = self.finish(None);
        (report, self.observer)
    }

    /// As [`run_with_progress`](Self::run_with_progress), stopping early when the run would hold
    /// more than `limits` allow or the observer reports a failure.
    pub fn try_run(mut self, limits: &Limits, progress: impl FnMut(f64)) -> (Result<Report, Stopped>, O) {
        let report = match self.drive(limits, true, progress) {
            Some(stopped) => Err(stopped),
            None => Ok(self.finish(None)),
        };
        (report, self.observer)
    }

    /// The event loop, from the backlog to the end of the run or the first limit reached.
    fn drive(&mut self, limits: &Limits, watch: bool, mut progress: impl FnMut(f64)) -> Option<Stopped> {
        if let Some(stopped) = self.begin(limits) {
            return Some(stopped);
        }
        let origin = self.config.clock.origin_ns;
        let mut handled: u64 = 0;
        while let Some((time, event)) = self.queue.pop() {
            if time >= self.config.clock.end_ns {
                break;
            }
            if let Some(stopped) = self.step(limits, time, event) {
                return Some(stopped);
            }
            handled += 1;
            if handled % 65_536 == 0 {
                if watch && self.observer.failed() {
                    return Some(Stopped::Observer);
                }
                progress((time - origin) as f64 / (self.config.clock.end_ns - origin) as f64);
            }
        }
        self.sample_until(self.config.clock.end_ns);
        progress(1.0);
        None
    }

    /// Puts the backlog in the logs, generates the first arrivals and plans every fetcher;
    /// `Some` when the backlog alone is over the memory budget.
    fn begin(&mut self, limits: &Limits) -> Option<Stopped> {
        if let Some(stopped) = self.backlog_over_budget(limits) {
            return Some(stopped);
        }
        self.append_backlog();
        let origin = self.config.clock.origin_ns;
        // Two chunks ahead, so that events at a chunk boundary already see its arrivals.
        self.generate_to(self.config.clock.chunk_end_after(origin));
        self.queue.schedule(origin, Event::Source(SourceEvent::Generate));
        self.schedule_timeline_events();
        for fetcher in 0..self.esm.fetchers.len() as u32 {
            self.plan_fetcher(fetcher);
        }
        None
    }

    /// Takes the samples due by `time`, then handles `event`; `Some` when the run must stop.
    fn step(&mut self, limits: &Limits, time: SimTime, event: Event) -> Option<Stopped> {
        self.sample_until(time);
        self.now = time;
        let generated = matches!(event, Event::Source(SourceEvent::Generate));
        self.handle(event);
        if generated && let Some(stopped) = self.over_budget(limits) {
            return Some(stopped);
        }
        self.function.stopped.take().map(Stopped::Handler)
    }

    /// Hands the event to the component it concerns.
    fn handle(&mut self, event: Event) {
        match event {
            Event::Source(SourceEvent::Generate) => self.on_generate(),
            Event::Esm(e) => self.on_esm_event(e),
            Event::Function(FunctionEvent::InvocationEnd { batch }) => self.on_invocation_end(batch),
            Event::SteadyState => {
                self.metrics.start_steady_state(self.now);
                self.function.envs.borrow_mut().start_window(self.now);
            }
        }
    }

    fn on_esm_event(&mut self, event: EsmEvent) {
        match event {
            EsmEvent::FlushTimer { fetcher, generation } => self.on_flush_timer(fetcher, generation),
            EsmEvent::Retry { batch } => self.on_retry(batch),
            // Re-fetched: retention and record age apply while it waits, too.
            EsmEvent::ThrottleRetry { batch } => self.on_throttle_retry(batch),
            EsmEvent::GateGrant { fetcher } => self.on_gate_grant(fetcher),
            EsmEvent::Evaluate => self.on_evaluate(),
            EsmEvent::ApplyScaling { pollers } => self.on_apply_scaling(pollers),
            EsmEvent::RebalanceStart { until } => self.start_rebalance(until),
            EsmEvent::RebalanceEnd => self.on_rebalance_end(),
        }
    }

    fn schedule_esm(&mut self, at: SimTime, event: EsmEvent) {
        self.queue.schedule(at, Event::Esm(event));
    }

    /// The end of the warm-up, autoscaler evaluations and `rebalance` faults.
    fn schedule_timeline_events(&mut self) {
        let origin = self.config.clock.origin_ns;
        if self.config.clock.warmup_end_ns > origin {
            self.queue.schedule(self.config.clock.warmup_end_ns, Event::SteadyState);
        }
        if let Some(plan) = self.config.esm.scaling.pollers() {
            let at = origin + plan.evaluation_interval_ns;
            self.schedule_esm(at, EsmEvent::Evaluate);
        }
        for i in 0..self.config.faults.len() {
            if let Fault::Rebalance(w) = self.config.faults[i] {
                let until = origin + w.until_ns;
                self.schedule_esm(origin + w.from_ns, EsmEvent::RebalanceStart { until });
            }
        }
    }

    /// Extends generated arrivals by one chunk and re-plans fetchers that were waiting for them.
    fn on_generate(&mut self) {
        self.generate_to(self.config.clock.chunk_end_after(self.source.horizon_ns));
        if self.source.horizon_ns < SimTime::MAX {
            self.queue.schedule(self.now + self.config.clock.chunk_ns, Event::Source(SourceEvent::Generate));
        }
        let mut waiting = std::mem::take(&mut self.esm.awaiting_records);
        waiting.sort_unstable();
        waiting.dedup();
        for fetcher in waiting {
            if self.esm.fetchers[fetcher as usize].waiting == Waiting::Records {
                self.plan_fetcher(fetcher);
            }
        }
    }

    /// Generates every arrival before `target` (capped at the end of the run) into the logs.
    fn generate_to(&mut self, target: SimTime) {
        let clock = self.config.clock;
        let end = target.min(clock.end_ns);
        let source = &mut self.source;
        let mut sink = ArrivalSink {
            partitions: &mut source.logs,
            produced: ProducedCount {
                per_interval: &mut self.metrics.produced_per_interval,
                origin_ns: clock.origin_ns,
                sample_ns: clock.sample_ns,
                bucket: 0,
                bucket_end: 0,
                in_bucket: 0,
                count: 0,
            },
            first_records: std::mem::take(&mut self.esm.first_records),
            planners: self
                .esm
                .planning
                .then_some(Planners { lanes: &self.esm.lanes, fetchers: &mut self.esm.fetchers }),
        };
        let screen = Screen { filter: source.filter.as_ref(), schema: source.schema.as_ref() };
        let deferral = Deferral {
            deferred: &mut source.deferred,
            replayer: source.replayer.as_ref(),
            rules: self.config.esm.rules,
            before_ns: self.now,
            caught_up_records: caught_up_records(&self.config),
        };
        if let Some(lookahead) = &mut source.lookahead {
            let next_end = (end < clock.end_ns).then(|| clock.chunk_end_after(end));
            // Asked again after the run's end was reached, there is nothing left to draw.
            if let Some(chunk) = lookahead.take(end, next_end) {
                feed_drawn_ahead(&chunk, lookahead.producer(), &mut sink, screen, deferral);
                lookahead.recycle(chunk);
            }
        } else if !source.streams.is_empty() {
            feed_per_partition(
                &mut source.producers,
                &mut source.streams,
                &mut source.scratch,
                end,
                &mut sink,
                screen,
                deferral,
            );
        } else if let ([producer], false) = (source.producers.as_mut_slice(), screen.active()) {
            producer.generate_until(end, |a| sink.append(a));
        } else {
            feed_merged(&mut source.producers, &mut source.scratch.arrivals, end, &mut sink, screen);
        }
        sink.produced.flush();
        if let Some(planners) = &mut sink.planners {
            planners.chunk_appended();
        }
        self.metrics.produced += sink.produced.count;
        source.chunk_records = sink.produced.count;
        let first_records = sink.first_records;
        if !source.occupancy.visits_all() {
            for &p in &first_records {
                if let Some(front_ns) = source.logs[p as usize].front_arrival() {
                    source.occupancy.holds(p, front_ns, self.metrics.rows.len());
                }
            }
        }
        source.horizon_ns = if end >= clock.end_ns { SimTime::MAX } else { end };
        self.esm.add_first_records(first_records, &source.logs, self.now);
    }
}

/// Which records reach the function: under a schema registry, those that pass validation; under
/// event filtering, those a filter matches. Filtering runs after deserialisation
/// (services-consume-kafka-events), so a record that fails validation is not filtered.
#[derive(Clone, Copy)]
struct Screen<'a> {
    filter: Option<&'a crate::model::value::RecordFilter>,
    schema: Option<&'a SchemaCheck>,
}

impl Screen<'_> {
    /// Whether any record can be held back (otherwise every record is sent).
    fn active(&self) -> bool {
        self.filter.is_some() || self.schema.is_some()
    }

    /// Whether the record `a` appended at `offset` reaches the function.
    #[inline(always)]
    fn sends(&self, a: &Arrival, offset: u64) -> bool {
        self.schema.is_none_or(|s| s.verdict(a.partition, offset).is_none())
            && self.filter.is_none_or(|f| f.matches(a.producer, a.partition, offset))
    }
}

/// Several producers' arrivals (or one's, when records are held back: event filtering, schema
/// validation), merged by time; stable, so equal times keep producer order. Whether records are
/// screened is decided once per chunk, so that unscreened runs have no branch per record.
#[inline(never)]
fn feed_merged(
    producers: &mut [ProducerGen],
    scratch: &mut Vec<Arrival>,
    end: SimTime,
    sink: &mut ArrivalSink,
    screen: Screen,
) {
    scratch.clear();
    for producer in producers.iter_mut() {
        producer.generate_until(end, |a| scratch.push(a));
    }
    scratch.sort_by_key(|a| a.time_ns);
    if screen.active() {
        scratch.iter().for_each(|&a| sink.append_screened(a, screen));
    } else {
        scratch.iter().for_each(|&a| sink.append(a));
    }
}

/// As `generate_to`'s loops, under per-partition streams. With one producer, each partition's
/// arrivals go straight into its log; otherwise the chunk's arrivals are merged as for several
/// producers (by time, then producer: the order of the stable sort above).
#[inline(never)]
fn feed_per_partition(
    producers: &mut [ProducerGen],
    streams: &mut [PartitionStreams],
    scratch: &mut Scratch,
    end: SimTime,
    sink: &mut ArrivalSink,
    screen: Screen,
    deferral: Deferral,
) {
    if let ([], [streams]) = (&*producers, &mut *streams) {
        return feed_own_streams(streams, &mut scratch.run, end, sink, screen, deferral);
    }
    let arrivals = &mut scratch.arrivals;
    arrivals.clear();
    for producer in producers {
        producer.generate_until(end, |a| arrivals.push(a));
    }
    for streams in streams {
        (0..streams.partitions()).for_each(|p| streams.generate_until(p, end, |a| arrivals.push(a)));
    }
    arrivals.sort_by_key(|a| (a.time_ns, a.producer));
    for &a in arrivals.iter() {
        sink.append_screened(a, screen);
    }
}

/// One producer's per-partition streams: each partition's arrivals go into its log, a
/// partition at a time (planners hear of each partition's run once, and sort the chunk once it
/// is in: `Appends::ByPartition`), or are counted and deferred while it lags.
#[inline(always)]
fn feed_own_streams(
    streams: &mut PartitionStreams,
    run: &mut RunBuffer,
    end: SimTime,
    sink: &mut ArrivalSink,
    screen: Screen,
    mut deferral: Deferral,
) {
    for p in 0..streams.partitions() {
        if let Some(ahead) = sink.partitions.get((p as usize) + FEED_PREFETCH_AHEAD) {
            ahead.prefetch_back();
        }
        // Most partitions of a large topic have no arrival in a chunk: skip them without
        // touching their logs.
        if streams.is_due(p, end) {
            sink.feed_partition(p, Drawn::Here(streams, run), end, screen, &mut deferral);
        }
    }
}

/// How many partitions ahead a chunk's feed prefetches the line each log appends to. With 8
/// (and the plans' prefetching) `internet-scale` took 0.91 of its wall time (60 s, `--threads
/// 2`); 16 did no better.
const FEED_PREFETCH_AHEAD: usize = 8;

/// As `feed_own_streams`, with the arrivals the lookahead thread drew.
fn feed_drawn_ahead(
    chunk: &lookahead::Chunk,
    producer: u32,
    sink: &mut ArrivalSink,
    screen: Screen,
    mut deferral: Deferral,
) {
    for (i, (run, times_ns, sizes)) in chunk.runs().enumerate() {
        // The logs' backs are scattered over the heap: start loading a few partitions ahead.
        if let Some(ahead) = chunk.runs.get(i + FEED_PREFETCH_AHEAD) {
            sink.partitions[ahead.partition as usize].prefetch_back();
        }
        let drawn = Drawn::Ahead { run, times_ns, sizes, producer };
        sink.feed_partition(run.partition, drawn, chunk.end_ns, screen, &mut deferral);
    }
}

/// Where one partition's arrivals in a chunk come from: its stream, drawn here, or the chunk
/// the lookahead thread drew.
enum Drawn<'a> {
    Here(&'a mut PartitionStreams, &'a mut RunBuffer),
    Ahead { run: &'a lookahead::Run, times_ns: &'a [SimTime], sizes: Sizes<'a>, producer: u32 },
}

impl Drawn<'_> {
    /// The point of partition `p`'s stream before its first arrival in the chunk.
    fn start(&self, p: u32) -> Resume {
        match self {
            Drawn::Here(streams, _) => streams.resume_point(p),
            Drawn::Ahead { run, .. } => run.start.clone(),
        }
    }

    /// Hands `store` partition `p`'s arrivals before `end`, in time order.
    #[inline(always)]
    fn for_each(&mut self, p: u32, end: SimTime, store: impl FnMut(Arrival)) {
        match self {
            Drawn::Here(streams, _) => streams.generate_until(p, end, store),
            &mut Drawn::Ahead { times_ns, sizes, producer, .. } => {
                let arrival = |(k, &time_ns): (usize, &SimTime)| {
                    let (payload_bytes, stored_bytes) = sizes.get(k);
                    Arrival { time_ns, partition: p, payload_bytes, stored_bytes, producer }
                };
                times_ns.iter().enumerate().map(arrival).for_each(store)
            }
        }
    }

    /// Partition `p`'s arrivals were replayed and counted, not stored, up to `point`.
    fn counted_to(&mut self, p: u32, point: Resume) {
        if let Drawn::Here(streams, _) = self {
            streams.set_point(p, point);
        }
    }
}

/// How many records a partition that caught up may hold once it stores what it deferred, ending
/// its deferral: two batches and two chunks' share of arrivals. A partition that caught up after
/// a stall still defers what it counted a chunk ahead of the clock, and each chunk adds about a
/// share; without this it would defer, and draw every record twice, for the rest of the run.
fn caught_up_records(c: &Config) -> u64 {
    let peak_rate: f64 = c.producers.iter().map(|p| p.peak_rate).sum();
    let chunk_share = c.clock.chunk_ns as f64 * peak_rate / 1e9 / f64::from(c.topic.partitions);
    2 * c.esm.rules.batch_size as u64 + 2 * chunk_share.ceil() as u64
}

/// Stores `partition`'s deferred arrivals, oldest first, drawn again with the offsets they would
/// have had, while `more(log)` holds and there are some; whether it stored any.
#[inline(always)]
fn store_deferred(
    deferred: &mut Deferred,
    replayer: &Replayer,
    partition: u32,
    log: &mut Partition,
    screen: Screen,
    more: impl Fn(&Partition) -> bool,
) -> bool {
    let end_before = log.end_offset();
    while more(log) {
        let Some(arrival) = deferred.take_oldest(replayer, partition) else { break };
        append(log, screen, arrival);
    }
    log.end_offset() > end_before
}

impl Deferral<'_> {
    /// Stores every record partition `p` deferred, if it caught up (its log no longer holds two
    /// batches' worth that arrived before now) and would then hold at most `caught_up_records`:
    /// its deferral ends, so this chunk's arrivals are stored. Whether it stored some (records
    /// stored late: the planner that owns `p` must start over).
    #[inline(always)]
    fn stores_all_if_caught_up(&mut self, p: u32, log: &mut Partition, screen: Screen) -> bool {
        let (Some(deferred), Some(replayer)) = (self.deferred.get_mut(p as usize), self.replayer) else {
            return false;
        };
        if !deferred.is_active()
            || log.len() as u64 + deferred.records() > self.caught_up_records
            || self.rules.first_hold(log, log.arrived(self.before_ns), 2)
        {
            return false;
        }
        store_deferred(deferred, replayer, p, log, screen, |_| true)
    }

    /// Counts partition `p`'s arrivals before `end` instead of storing them, if it lags (its
    /// log holds two batches' worth that arrived before now) or already does; whether it did.
    #[inline(always)]
    fn counts_instead(
        &mut self,
        drawn: &mut Drawn,
        p: u32,
        log: &Partition,
        end: SimTime,
        produced: &mut ProducedCount,
    ) -> bool {
        let (Some(deferred), Some(replayer)) = (self.deferred.get_mut(p as usize), self.replayer) else {
            return false;
        };
        // Only a partition that lags: records generated ahead of the clock are kept. (Most logs
        // do not hold two batches at all: no search for what has arrived.)
        if !deferred.is_active()
            && self.rules.first_hold(log, log.len(), 2)
            && self.rules.first_hold(log, log.arrived(self.before_ns), 2)
        {
            deferred.start(drawn.start(p));
        }
        if !deferred.is_active() {
            return false;
        }
        // Replayed for the stream's point before each (kept at the first of each interval).
        let mut point = drawn.start(p);
        replayer.replay_until(p, &mut point, end, |a, before| {
            produced.count(a.time_ns);
            deferred.count(produced.bucket, before);
        });
        drawn.counted_to(p, point);
        true
    }
}

/// Appends arrivals, in time order, to their partitions and counts them per sample interval.
struct ArrivalSink<'a> {
    partitions: &'a mut [Partition],
    produced: ProducedCount<'a>,
    /// Partitions that got a record while their log was empty.
    first_records: Vec<u32>,
    /// The fetchers' planners, when some fetcher has one.
    planners: Option<Planners<'a>>,
}

/// Where appended records are reported to the planners of the fetchers that own them.
struct Planners<'a> {
    lanes: &'a [Lane],
    fetchers: &'a mut [Fetcher],
}

impl Planners<'_> {
    #[inline(always)]
    fn appended(&mut self, partition: u32, log: &Partition) {
        let lane = &self.lanes[partition as usize];
        if let Some(planner) = &mut self.fetchers[lane.owner as usize].planner {
            planner.appended(lane.slot, log);
        }
    }

    /// Records of `partition` were stored out of arrival order: its owner's planner starts over.
    fn invalidate(&mut self, partition: u32) {
        if let Some(planner) = &mut self.fetchers[self.lanes[partition as usize].owner as usize].planner {
            planner.invalidate();
        }
    }

    /// The chunk is in: planners told of it partition by partition queue it in arrival order.
    fn chunk_appended(&mut self) {
        self.fetchers.iter_mut().filter_map(|f| f.planner.as_mut()).for_each(|p| p.chunk_appended());
    }
}

/// Whether arrivals may be counted rather than stored (`model/kafka/deferred.rs`): a partition
/// stops storing once the records it holds that have arrived make two batches' worth, so that
/// the next batch is decided by the records it stores.
struct Deferral<'a> {
    deferred: &'a mut [Deferred],
    /// Some when `deferred` is not empty.
    replayer: Option<&'a Replayer>,
    rules: BatchRules,
    /// The clock: what arrived by then is lag; what arrives later was generated ahead.
    before_ns: SimTime,
    /// See `caught_up_records`.
    caught_up_records: u64,
}

/// Arrivals counted per sample interval.
struct ProducedCount<'a> {
    per_interval: &'a mut [u64],
    origin_ns: SimTime,
    sample_ns: SimTime,
    /// The interval of the last arrival counted, and its end.
    bucket: usize,
    bucket_end: SimTime,
    /// Arrivals in `bucket` not yet added to `per_interval` and `count`: one increment per
    /// arrival instead of two through references.
    in_bucket: u64,
    count: u64,
}

impl ArrivalSink<'_> {
    /// Stores partition `p`'s arrivals before `end`, or counts them while it lags.
    #[inline(always)]
    fn feed_partition(&mut self, p: u32, mut drawn: Drawn, end: SimTime, screen: Screen, deferral: &mut Deferral) {
        let log = &mut self.partitions[p as usize];
        let was_empty = log.is_empty();
        // Time goes back from one partition's arrivals to the next one's.
        self.produced.bucket_end = 0;
        if deferral.stores_all_if_caught_up(p, log, screen) {
            if let Some(planners) = &mut self.planners {
                planners.invalidate(p);
            }
        }
        if deferral.counts_instead(&mut drawn, p, log, end, &mut self.produced) {
            return;
        }
        let produced = &mut self.produced;
        match drawn {
            Drawn::Here(streams, run) if !screen.active() => match streams.fixed_bytes() {
                Some((payload, stored)) => {
                    let drawn = log.extend_fixed_with(payload, stored, |records| streams.draw_into(p, end, records));
                    produced.count_run(drawn, |r| r.arrival_ns);
                }
                None => {
                    let (times_ns, sizes) = run.draw(streams, p, end);
                    store_run(log, produced, times_ns, sizes);
                }
            },
            Drawn::Ahead { times_ns, sizes, .. } if !screen.active() => store_run(log, produced, times_ns, sizes),
            _ if screen.active() => drawn.for_each(p, end, |a| {
                produced.count(a.time_ns);
                append(log, screen, a);
            }),
            _ => drawn.for_each(p, end, |a| {
                produced.count(a.time_ns);
                log.append(a.time_ns, a.payload_bytes, a.stored_bytes);
            }),
        }
        if was_empty && !log.is_empty() {
            self.first_records.push(p);
        }
        if let Some(planners) = &mut self.planners {
            planners.appended(p, log);
        }
    }

    #[inline(always)]
    fn append(&mut self, a: Arrival) {
        self.produced.count(a.time_ns);
        let log = &mut self.partitions[a.partition as usize];
        if log.is_empty() {
            self.first_records.push(a.partition);
        }
        log.append(a.time_ns, a.payload_bytes, a.stored_bytes);
        if let Some(planners) = &mut self.planners {
            planners.appended(a.partition, log);
        }
    }

    /// As `append`, deciding whether the record reaches the function (`Screen`).
    #[inline(always)]
    fn append_screened(&mut self, a: Arrival, screen: Screen) {
        self.produced.count(a.time_ns);
        let log = &mut self.partitions[a.partition as usize];
        if log.is_empty() {
            self.first_records.push(a.partition);
        }
        append(log, screen, a);
        if let Some(planners) = &mut self.planners {
            planners.appended(a.partition, log);
        }
    }
}

impl ProducedCount<'_> {
    /// Counts an arrival at `time_ns`, at or after the previous one's interval (or anywhere
    /// after `bucket_end` is reset to 0).
    #[inline(always)]
    fn count(&mut self, time_ns: SimTime) {
        if time_ns >= self.bucket_end {
            self.flush();
            self.bucket = ((time_ns - self.origin_ns) / self.sample_ns) as usize;
            self.bucket_end = self.origin_ns + (self.bucket as u64 + 1) * self.sample_ns;
        }
        self.in_bucket += 1;
    }

    /// Counts arrivals given in time order: at once when they fall in one interval.
    #[inline(always)]
    fn count_run<T: Copy>(&mut self, run: &[T], time_ns: impl Fn(T) -> SimTime) {
        let (Some(&first), Some(&last)) = (run.first(), run.last()) else { return };
        self.count(time_ns(first));
        if time_ns(last) < self.bucket_end {
            self.in_bucket += run.len() as u64 - 1;
        } else {
            run[1..].iter().for_each(|&t| self.count(time_ns(t)));
        }
    }

    /// Adds the arrivals counted in the current interval to the totals.
    fn flush(&mut self) {
        if self.in_bucket > 0 {
            self.per_interval[self.bucket] += self.in_bucket;
            self.count += std::mem::take(&mut self.in_bucket);
        }
    }
}

/// Stores one partition's arrivals in a chunk, in time order, and counts them per interval.
#[inline(always)]
fn store_run(log: &mut Partition, produced: &mut ProducedCount, times_ns: &[SimTime], sizes: Sizes) {
    produced.count_run(times_ns, |t| t);
    match sizes {
        Sizes::Fixed(payload, stored) => log.extend_fixed(times_ns, payload, stored),
        Sizes::Each(each) => {
            times_ns.iter().zip(each).for_each(|(&t, &(payload, stored))| log.append(t, payload, stored))
        }
    }
}

/// Appends one arrival to its partition's log; when records can be held back, with whether this
/// one reaches the function (decided from its (producer, partition, offset) key, nothing stored).
#[inline(always)]
fn append(log: &mut Partition, screen: Screen, a: Arrival) {
    if screen.active() {
        let sent = screen.sends(&a, log.end_offset());
        log.append_filtered(a.time_ns, a.payload_bytes, a.stored_bytes, sent);
    } else {
        log.append(a.time_ns, a.payload_bytes, a.stored_bytes);
    }
}

/// The record filter of a scenario with `filter_criteria`.
fn record_filter(c: &Config, seed: u64) -> Option<crate::model::value::RecordFilter> {
    let patterns = c.esm.filters.clone()?;
    // The backlog is written as if by the first producer.
    let count = c.producers.len().max(1);
    let templates = (0..count).map(|i| c.producers.get(i).and_then(|p| p.value.clone()).unwrap_or_default()).collect();
    Some(crate::model::value::RecordFilter { patterns, templates, seed })
}

/// Fetchers and the gate for the scaling mode.
fn build_fetchers(c: &Config) -> (Vec<Fetcher>, Gate) {
    let partitions = c.topic.partitions;
    match c.esm.scaling {
        crate::config::Scaling::Factor { factor } => {
            let fetchers = (0..partitions).map(|p| Fetcher::new(vec![p], 1)).collect();
            (fetchers, Gate::new(factor))
        }
        crate::config::Scaling::OnDemand(plan) | crate::config::Scaling::Provisioned(plan) => {
            (poller_fetchers(partitions, plan.initial, plan.invocations_per_poller), Gate::new(u32::MAX))
        }
    }
}

/// Records which fetcher owns each lane.
fn set_owners(lanes: &mut [Lane], fetchers: &[Fetcher]) {
    for (i, f) in fetchers.iter().enumerate() {
        for (slot, &p) in f.partitions.iter().enumerate() {
            (lanes[p as usize].owner, lanes[p as usize].slot) = (i as u32, slot as u32);
        }
    }
}

impl<O: Observer> Simulation<O> {
    /// Which fetchers plan incrementally (see `index_candidates`), and how records reach their
    /// logs: per-partition streams append a chunk partition by partition.
    pub(super) fn planning(&self) -> Planning {
        let (appends, above) = if self.config.any_draws_by_partition() {
            (Appends::ByPartition, PLANNER_MIN_PARTITIONS_BY_PARTITION)
        } else {
            (Appends::InArrivalOrder, PLANNER_MIN_PARTITIONS)
        };
        let parks_above = match self.esm.park {
            Some(true) => 0,
            Some(false) => usize::MAX,
            None if self.config.clock.chunk_ns >= PARK_FROM_AHEAD_NS => PARK_ABOVE_PARTITIONS,
            None => usize::MAX,
        };
        Planning { above: self.esm.plan_incrementally_above.unwrap_or(above), appends, parks_above }
    }
}

/// Fetchers owning more than `above` partitions plan incrementally, told of appends as
/// `appends` says they come.
#[derive(Clone, Copy)]
pub(super) struct Planning {
    above: usize,
    appends: Appends,
    /// Fetchers owning more partitions than this park those whose records arrive later
    /// (`CandidateSet`); `usize::MAX`: none do.
    parks_above: usize,
}

/// Fetchers owning more partitions than this park those whose records have not arrived, when
/// producers draw far enough ahead. Over fewer, a batch passes over them in a few words.
const PARK_ABOVE_PARTITIONS: usize = 512;

/// Fetchers park only when producers draw at least this far ahead of the clock (a chunk): then
/// many of their partitions hold only records still to arrive, and a batch would pass over each.
/// Instructions per record at 100,000 partitions on 10 pollers, parking against passing over:
/// at 1,000 records/s (32.8 s ahead) 2,790 against 3,261; at 10,000 (3.3 s) 2,293 against 2,278;
/// at 100,000 (0.33 s) 2,019 against 1,922.
const PARK_FROM_AHEAD_NS: SimTime = 5 * NS_PER_SEC;

/// Fetchers owning more partitions than this (not as many) plan incrementally. Measured as
/// instructions per record between 2 s and 6 s of `internet-scale.json` at 100,000 records/s and
/// 10 provisioned pollers, after the search learnt to walk its last records (2026-12-03): at 300
/// partitions per poller the search costs 1,045 and the planner 1,687; at 500, 1,507 against
/// 1,540; at 1,000, 2,522 against 1,682.
const PLANNER_MIN_PARTITIONS: usize = 500;

/// The same with per-partition streams, whose chunks the planner sorts into its queue. Retuned
/// on 2026-12-04 after the contiguous logs and the candidate set's pass-over (instructions of 2
/// simulated seconds, start-up included, 10 pollers, 100,000 records/s): at 600 partitions per
/// poller the search costs 271.9 M and the planner 311.0 M; at 700, 311.6 M against 321.3 M; at
/// 800, 348.5 M against 329.7 M; at 1,000, 401.6 M against 346.2 M; at 30,000 records/s (4 s)
/// 188.3 M against 204.3 M at 600 and 229.4 M against 215.2 M at 800. (It was 550 from 2026-12-03:
/// then at 500 per poller the search cost 1,559 instructions per record between 2 s and 6 s and
/// the planner 1,663, at 600 1,824 against 1,707; 800 before that, while the planner merged
/// chunks through its heap.)
const PLANNER_MIN_PARTITIONS_BY_PARTITION: usize = 700;

/// Rebuilds every fetcher's candidate set and planner from scratch (after the owners changed, or
/// records were appended without telling them); `true` when some fetcher has a planner: those
/// owning more partitions than `planning.above`.
fn index_candidates(lanes: &[Lane], fetchers: &mut [Fetcher], logs: &[Partition], planning: Planning) -> bool {
    for f in fetchers.iter_mut() {
        let busy = |slot: usize| lanes[f.partitions[slot] as usize].busy;
        let parks = f.partitions.len() > planning.parks_above;
        f.candidates = crate::model::esm::CandidateSet::new(f.partitions.len(), busy, parks);
        // A fetcher that combines many partitions plans incrementally; over a few, the search
        // from scratch costs less than keeping the planner up to date.
        f.planner = (f.partitions.len() > planning.above)
            .then(|| Box::new(Planner::new(logs, &f.partitions, busy, planning.appends)));
        for (slot, &p) in f.partitions.iter().enumerate() {
            if !lanes[p as usize].busy && !logs[p as usize].is_empty() {
                f.candidates.add(slot as u32);
            }
        }
    }
    fetchers.iter().any(|f| f.planner.is_some())
}

/// One fetcher per poller, owning partitions as Kafka's range assignor gives them.
fn poller_fetchers(partitions: u32, pollers: u32, invocations_per_poller: u32) -> Vec<Fetcher> {
    range_assignment(partitions, pollers).into_iter().map(|owned| Fetcher::new(owned, invocations_per_poller)).collect()
}
