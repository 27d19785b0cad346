//! esmsim: a deterministic discrete-event simulator of AWS Lambda event source mappings (ESM)
//! reading Kafka / Amazon MSK topics.
//!
//! ```no_run
//! use esmsim::{load_scenario, SimulationBuilder};
//! let loaded = load_scenario("scenarios/quickstart.json".as_ref(), &[]).unwrap();
//! let (report, ()) = SimulationBuilder::new(&loaded.config).seed(7).build().run();
//! println!("{} records succeeded", report.summary.records.succeeded);
//! ```

pub mod budget;
pub mod calibrate;
pub mod config;
pub mod cpu;
pub mod engine;
pub mod error;
pub mod explain;
pub mod human;
pub mod import;
pub mod metrics;
pub mod model;
pub mod output;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod staging;
pub mod sweep;
pub mod text;
pub mod timestamp;
pub mod trace;

pub use error::{Error, Result};
pub use scenario::{Loaded, LoadedMappings, Scenario, Warning, load_scenario, parse_scenario};
pub use sim::{Limits, Observer, Outcome, Report, Simulation, SimulationBuilder, Stopped};

use sha2::{Digest, Sha256};

/// A short hash of everything that shapes a run except its seed, name and description: two runs
/// with the same hash and seed give the same results.
pub fn config_hash(scenario: &Scenario) -> String {
    config_hash_of(&serde_json::to_value(scenario).expect("scenario serialises"))
}

/// [`config_hash`] of a scenario's JSON tree (a scenario of several mappings hashes as read).
pub fn config_hash_of(scenario: &serde_json::Value) -> String {
    let mut canonical = scenario.clone();
    if let Some(map) = canonical.as_object_mut() {
        for key in ["seed", "name", "description", "$schema"] {
            map.remove(key);
        }
    }
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// How to run a loaded scenario.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Write a trace to this file...
    pub trace: Option<std::path::PathBuf>,
    /// ...with only the events of this partition.
    pub trace_partition: Option<u32>,
    /// The memory budget in bytes (default: [`budget::default_bytes`]).
    pub max_memory: Option<u64>,
    /// Threads for the run, 1 or 2 (default: [`RunOptions::default_threads`]); the outputs do
    /// not depend on it.
    pub threads: Option<u32>,
}

impl RunOptions {
    /// Checks the options against the scenario, before anything runs or is printed.
    pub fn check(&self, s: &Scenario) -> Result<()> {
        match self.trace_partition {
            Some(p) if p >= s.topic.partitions => Err(Error::Argument {
                argument: "--trace-partition".into(),
                message: format!("partition {p} does not exist; allowed: 0 to {}", s.topic.partitions - 1),
            }),
            _ => Ok(()),
        }
    }

    /// Two when the machine has a second core for drawing arrivals ahead, else one.
    pub fn default_threads() -> u32 {
        if std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2) { 2 } else { 1 }
    }

    /// The bounds of the run.
    pub fn limits(&self) -> Limits {
        Limits { memory_bytes: self.max_memory.unwrap_or_else(budget::default_bytes) }
    }
}

/// Checks what a real handler needs beyond the scenario file (its sample values), without
/// starting it: `validate` calls this.
pub fn check_real_handler(loaded: &Loaded) -> Result<()> {
    match &loaded.scenario.function.handler {
        Some(spec) => real_handler(loaded, spec, loaded.config.seed).map(drop),
        None => Ok(()),
    }
}

/// The scenario's real handler (`function.handler`), with the record values it will read.
fn real_handler(
    loaded: &Loaded,
    spec: &scenario::HandlerSpec,
    seed: u64,
) -> Result<model::runtime_api::ProcessHandler> {
    let s = &loaded.scenario;
    let dir = loaded.file.parent().unwrap_or(std::path::Path::new("."));
    let values = match s.producers.first().and_then(|p| p.values.as_ref()) {
        Some(spec) => Some(
            model::value_samples::ValueSamples::load(spec, dir, seed)
                .map_err(|p| Error::field(&loaded.file, format!("producers.0.values.{}", p.field), p.message))?,
        ),
        None => None,
    };
    // One producer (check_handler refuses several with values, templates or headers).
    let first = s.producers.first();
    let c = &loaded.config;
    let events = model::runtime_api::event::EventBuilder {
        kind: spec.source,
        topic: s.topic.name.clone(),
        event_source_arn: format!("arn:aws:kafka:us-east-1:123456789012:cluster/{}/simulated", s.name),
        bootstrap_servers: "b-1.simulated.kafka.us-east-1.amazonaws.com:9098".into(),
        origin_ns: c.clock.origin_ns,
        key_bytes: first.map_or(0, |p| u64::from(p.key_bytes)),
        values,
        template: c.producers.first().and_then(|p| p.value.clone()),
        seed,
        headers: model::runtime_api::headers::HeaderShape {
            count: first.map_or(0, |p| p.header_count),
            bytes: first.map_or(0, |p| p.header_bytes),
        },
        backlog_per_partition: model::backlog::count(&c.topic) / u64::from(c.topic.partitions),
    };
    Ok(model::runtime_api::ProcessHandler::new(&loaded.config, spec, events, seed))
}

/// Runs a scenario, writing the trace if asked (atomically: a failed run leaves no trace file).
pub fn run(loaded: &Loaded, options: &RunOptions, progress: impl FnMut(f64)) -> Result<Report> {
    let trace = options.trace.as_deref().map(staging::Staged::file).transpose()?;
    let report = run_staged(loaded, options, trace.as_ref().map(staging::Staged::path), progress)?;
    staging::commit(trace.into_iter().collect())?;
    Ok(report)
}

/// As [`run`], writing the trace (if `options` asks for one) into `trace_file`, a staged file
/// the caller moves into place together with its other outputs.
pub fn run_staged(
    loaded: &Loaded,
    options: &RunOptions,
    trace_file: Option<&std::path::Path>,
    progress: impl FnMut(f64),
) -> Result<Report> {
    let s = &loaded.scenario;
    options.check(s)?;
    let limits = options.limits();
    let threads = options.threads.unwrap_or_else(RunOptions::default_threads);
    let mut builder = SimulationBuilder::new(&loaded.config).draw_ahead(threads >= 2);
    if let Some(seed) = options.seed {
        builder = builder.seed(seed);
    }
    if let Some(spec) = &s.function.handler {
        let handler = real_handler(loaded, spec, builder.seed_value())?;
        builder = builder.handler(Box::new(handler));
    }
    let stopped = |stopped: Stopped| budget::stopped_error(&loaded.file, &stopped, "");
    let (Some(file), Some(path)) = (trace_file, &options.trace) else {
        return builder.build().try_run(&limits, progress).0.map_err(stopped);
    };
    let write_error = |source| Error::Write { path: path.clone(), source };
    let file = std::fs::File::create(file).map_err(write_error)?;
    let header = serde_json::json!({
        "scenario": s.name, "seed": builder.seed_value(), "config_hash": loaded.config.config_hash,
        "esmsim_version": env!("CARGO_PKG_VERSION"),
    });
    let origin_ns = loaded.config.clock.origin_ns;
    let writer = trace::TraceWriter::new(std::io::BufWriter::new(file), header, options.trace_partition, origin_ns);
    let (report, writer) = builder.build_with_observer(writer).try_run(&limits, progress);
    // The trace's own error first: a full disk is why the run stopped.
    writer.finish().map_err(write_error)?;
    report.map_err(stopped)
}

/// What a scenario of several mappings produced: the totals, each mapping's report, and each
/// poller group's bill.
#[derive(Clone, Debug)]
pub struct MappingsReport {
    /// Over all mappings, in the contract's shapes (see [`metrics::combine`]).
    pub totals: Report,
    /// `(name, report)` per mapping, in the scenario's order.
    pub mappings: Vec<(String, Report)>,
    pub poller_groups: Vec<PollerGroupBill>,
}

/// A poller group's EPU bill, beside what its mappings would pay ungrouped.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PollerGroupBill {
    pub name: String,
    pub mappings: Vec<String>,
    pub epu_hours: f64,
    pub cost_usd: f64,
    /// The same mappings' EPU-hours and cost each billed alone (whole EPUs per mapping).
    pub ungrouped_epu_hours: f64,
    pub ungrouped_cost_usd: f64,
}

/// Runs a scenario of several mappings on one clock (see [`sim::mappings`]).
pub fn run_mappings(
    loaded: &scenario::LoadedMappings,
    options: &RunOptions,
    progress: impl FnMut(f64),
) -> Result<MappingsReport> {
    if options.trace.is_some() || options.trace_partition.is_some() {
        return Err(Error::Argument {
            argument: "--trace".into(),
            message: "traces one mapping; this scenario has several (run one mapping as its own scenario to trace it)"
                .into(),
        });
    }
    let m = &loaded.mappings;
    let seed = options.seed.unwrap_or(m.seed);
    let configs: Vec<config::Config> = m
        .mappings
        .iter()
        .enumerate()
        .map(|(i, x)| config::Config { seed: scenario::mappings::mapping_seed(seed, i), ..x.config.clone() })
        .collect();
    let members: Vec<sim::mappings::Member> = m
        .mappings
        .iter()
        .zip(&configs)
        .map(|(x, config)| sim::mappings::Member { config, function: x.function, group: x.group })
        .collect();
    let together = sim::mappings::run_together(&members, &options.limits(), progress).map_err(|(i, stopped)| {
        budget::stopped_error(&loaded.file, &stopped, &format!(" (mapping {})", m.mappings[i].name))
    })?;
    Ok(assemble(m, seed, &members, together))
}

/// The totals and the groups' bills from the mappings' reports.
fn assemble(
    m: &scenario::mappings::Mappings,
    seed: u64,
    members: &[sim::mappings::Member],
    together: sim::mappings::Together,
) -> MappingsReport {
    let parts: Vec<metrics::combine::Part> = together
        .reports
        .iter()
        .enumerate()
        .map(|(i, r)| metrics::combine::Part {
            summary: &r.summary,
            rows: &r.timeseries,
            cloudwatch: &r.cloudwatch,
            latency_us: &together.latency_us[i],
            counts_function: sim::mappings::Member::first_of_function(members, i),
        })
        .collect();
    let clock = &members[0].config.clock;
    let whole = metrics::combine::Whole {
        name: &m.name,
        seed,
        config_hash: &m.config_hash,
        account_peak: together.account_peak,
        sample_s: clock.sample_ns as f64 / 1e9,
    };
    let (summary, timeseries, cloudwatch) = metrics::combine::totals(&parts, &whole);
    let pricing = &members[0].config.pricing;
    let usd = |epu_hours: f64| epu_hours * pricing.epu_hour_usd;
    let poller_groups = m
        .groups
        .iter()
        .enumerate()
        .map(|(g, name)| {
            let names = m.mappings.iter().filter(|x| x.group == Some(g)).map(|x| x.name.clone()).collect();
            let (grouped, alone) = (together.group_epu_hours[g], together.ungrouped_epu_hours[g]);
            PollerGroupBill {
                name: name.clone(),
                mappings: names,
                epu_hours: grouped,
                cost_usd: usd(grouped),
                ungrouped_epu_hours: alone,
                ungrouped_cost_usd: usd(alone),
            }
        })
        .collect();
    let destination = together.reports.iter().flat_map(|r| r.destination.iter().cloned()).collect();
    let totals = Report { summary, timeseries, destination, cloudwatch };
    let mappings = m.mappings.iter().map(|x| x.name.clone()).zip(together.reports).collect();
    MappingsReport { totals, mappings, poller_groups }
}
