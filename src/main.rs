//! The `esmsim` command line: argument parsing and printing only.

use clap::{Parser, Subcommand};
use esmsim::scenario::{Parsed, load_any};
use esmsim::staging::{self, Staged};
use esmsim::sweep::{self, Base, Done, Execution, Kind, Output, Prepared, Shard, Study, grid::Grid};
use esmsim::{Error, RunOptions, load_scenario, output};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "esmsim", version, about = "Simulate AWS Lambda event source mappings reading Kafka / Amazon MSK")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one simulation and write summary.json, timeseries.csv, charts and report.html.
    #[command(
        after_help = "Example:\n  esmsim run scenarios/quickstart.json --set esm.batch_size=500 --out reports/b500"
    )]
    Run {
        /// The scenario file (JSON).
        scenario: PathBuf,
        /// Root seed (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Override a scenario field by its dotted path, e.g. esm.batch_size=500 (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Output directory (default: reports/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write every ESM and function event to this JSON-lines file.
        #[arg(long, value_name = "FILE.jsonl")]
        trace: Option<PathBuf>,
        /// Trace only this partition (with exact arrival times of its records).
        #[arg(long, value_name = "P", requires = "trace")]
        trace_partition: Option<u32>,
        /// Skip the charts (PNG and SVG) and report.html.
        #[arg(long)]
        no_charts: bool,
        /// The period of cloudwatch.csv's rows (default 60s); the same as --set cloudwatch_period=P.
        #[arg(long, value_name = "DURATION")]
        cloudwatch_period: Option<String>,
        /// Leave this start-up transient out of latency, lag, throughput, concurrency and
        /// CloudWatch statistics; the same as --set warmup=DURATION.
        #[arg(long, value_name = "DURATION")]
        warmup: Option<String>,
        /// Threads for the run: 2 draws per-partition arrivals a chunk ahead on a second thread,
        /// with the same outputs as 1 (default: 2 on a machine with two cores or more).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=2))]
        threads: Option<u32>,
        #[command(flatten)]
        handler: HandlerArgs,
        #[command(flatten)]
        memory: MemoryArg,
    },
    /// Parse and check a scenario; warnings go to stderr.
    #[command(after_help = "Example:\n  esmsim validate scenarios/quickstart.json --set esm.batching_window=2s")]
    Validate {
        /// The scenario file (JSON).
        scenario: PathBuf,
        /// Override a scenario field by its dotted path before checking (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        #[command(flatten)]
        memory: MemoryArg,
    },
    /// Run a grid of scenarios over seeds; write sweep.csv, sweep_summary.csv, charts and report.html.
    #[command(
        after_help = "Example:\n  esmsim sweep scenarios/quickstart.json --grid esm.batch_size=100,500 --seeds 3 --out reports/sweep"
    )]
    Sweep {
        /// The scenario file (JSON).
        scenario: PathBuf,
        #[command(flatten)]
        study: StudyArgs,
    },
    /// Find the configuration that minimises a metric under constraints; write tune.csv, tune.json,
    /// a chart and report.html.
    #[command(
        after_help = "Example:\n  esmsim tune scenarios/provisioned-low-latency.json --minimize cost_usd.per_month \\\n    --constraint 'latency_ms.p99<=1000' --seeds 2 --out reports/tune"
    )]
    Tune {
        /// The scenario file (JSON).
        scenario: PathBuf,
        /// The metric to minimise, by its sweep.csv column, e.g. cost_usd.per_month.
        #[arg(long, value_name = "METRIC")]
        minimize: String,
        /// A bound on a metric's mean over seeds, e.g. 'latency_ms.p99<=2000' (repeatable).
        #[arg(long = "constraint", value_name = "METRIC<=VALUE")]
        constraints: Vec<String>,
        /// halving (default; brute-force with --shard) or brute-force.
        #[arg(long)]
        strategy: Option<String>,
        /// Re-check the winner and runners-up at the ends of the most influential ASSUMED parameters.
        #[arg(long)]
        robust: bool,
        #[command(flatten)]
        study: StudyArgs,
    },
    /// Metrics against producer rate and the highest sustainable rate; write capacity.csv,
    /// capacity.json, charts and report.html.
    #[command(
        after_help = "Example:\n  esmsim capacity scenarios/bench-steady.json --set duration=10m --rates 20000,50000 --out reports/capacity"
    )]
    Capacity {
        /// The scenario file (JSON).
        scenario: PathBuf,
        /// Total producer rates to run, records/s, e.g. 1000,2000,4000.
        #[arg(long, value_name = "R1,R2,...")]
        rates: String,
        /// A bound every run must meet to be sustainable, e.g. 'latency_ms.p99<=2000' (repeatable;
        /// default 'lag.max_age_ms<=60000').
        #[arg(long = "slo", value_name = "METRIC<=VALUE")]
        slos: Vec<String>,
        #[command(flatten)]
        study: StudyArgs,
    },
    /// Run two scenarios on the same seeds and compare every metric; write diff.md, diff.json,
    /// a chart of the relative changes and report.html.
    Diff {
        a: PathBuf,
        b: PathBuf,
        /// Override a field in both scenarios (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Paired runs: both scenarios with seeds A's seed + 0 .. N-1.
        #[arg(long, default_value_t = 1)]
        seeds: u32,
        /// Runs at once (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        #[arg(long)]
        out: PathBuf,
        /// Skip the chart of relative changes (report.html is still written).
        #[arg(long)]
        no_charts: bool,
        /// Leave this start-up transient out of both scenarios' statistics; the same as --set warmup=DURATION.
        #[arg(long, value_name = "DURATION")]
        warmup: Option<String>,
        #[command(flatten)]
        memory: MemoryArg,
    },
    /// Rank the ASSUMED parameters by how much they move a metric (Morris elementary effects);
    /// write sensitivity.csv, sensitivity.json, a chart and report.html.
    Sensitivity {
        scenario: PathBuf,
        /// The metric to explain, by its sweep.csv column, e.g. latency_ms.p99.
        #[arg(long, value_name = "METRIC")]
        metric: String,
        /// Morris trajectories: each is one run per parameter plus one.
        #[arg(long, default_value_t = 10)]
        trajectories: u32,
        /// Override a scenario field for every run (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Runs per design point, averaged: seeds the scenario's seed + 0 .. N-1.
        #[arg(long, default_value_t = 1)]
        seeds: u32,
        /// Runs at once (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        #[arg(long)]
        out: PathBuf,
        /// Skip the chart.
        #[arg(long)]
        no_charts: bool,
        /// Leave this start-up transient out of the statistics; the same as --set warmup=DURATION.
        #[arg(long, value_name = "DURATION")]
        warmup: Option<String>,
        #[command(flatten)]
        memory: MemoryArg,
    },
    /// Join shard directories of one sweep, tune or capacity study into the single-machine files.
    #[command(after_help = "Example:\n  esmsim merge results/shard-* --out results/merged")]
    Merge {
        /// The shard directories (each written by a run with --shard or --shards), in any order.
        #[arg(required = true, value_name = "SHARD_DIR")]
        dirs: Vec<PathBuf>,
        /// Where to write the merged files.
        #[arg(long)]
        out: PathBuf,
        /// Threads for capacity's bisection (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Skip the charts.
        #[arg(long)]
        no_charts: bool,
        #[command(flatten)]
        memory: MemoryArg,
    },
    /// Print the life of one record from a trace written by `run --trace`.
    #[command(after_help = "Example:\n  esmsim explain trace.jsonl --partition 3 --offset 1200")]
    Explain {
        /// The trace file (JSON lines) written by `esmsim run --trace`.
        trace: PathBuf,
        /// The record's partition.
        #[arg(long)]
        partition: u32,
        /// The record's offset in its partition.
        #[arg(long)]
        offset: u64,
    },
    /// Write a scenario from AWS documents: an event source mapping, its function, their
    /// CloudFormation template or Terraform state; warns of every field esmsim does not model.
    #[command(
        after_help = "Example:\n  esmsim import --esm examples/aws/esm.json --function examples/aws/function.json \\\n    --partitions 12 --rate-from examples/aws/traffic.csv --out examples/aws/orders.json"
    )]
    Import {
        #[command(flatten)]
        args: ImportArgs,
    },
    /// Fit the model to what you measured and print a scenario patch: the function's durations
    /// (--durations), or the ASSUMED autoscaling parameters against an observed OffsetLag series
    /// (--observed with --traffic and a scenario).
    #[command(
        after_help = "Example:\n  esmsim calibrate --durations examples/aws/durations.csv --out examples/aws/durations-patch.json\n  esmsim calibrate --observed examples/aws/observed-cloudwatch.csv --traffic examples/aws/traffic.csv \\\n    examples/aws/orders.json --out reports/orders-autoscaling"
    )]
    Calibrate {
        #[command(flatten)]
        args: CalibrateArgs,
    },
    /// Print the JSON Schema of the scenario format (for editors: completion and checking).
    #[command(after_help = "Example:\n  esmsim schema > esmsim.schema.json")]
    Schema,
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  esmsim completions bash > ~/.local/share/bash-completion/completions/esmsim")]
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// What `calibrate` fits, from what.
#[derive(clap::Args)]
struct CalibrateArgs {
    /// CSV with batch_records,duration_ms[,init_ms,memory_mb], one row per invocation.
    #[arg(long, value_name = "FILE.csv", required_unless_present = "observed", conflicts_with_all = ["observed", "max_memory"])]
    durations: Option<PathBuf>,
    /// An observed OffsetLag series: a cloudwatch.csv with timestamp and OffsetLag_Maximum columns.
    #[arg(long, value_name = "FILE.csv", requires_all = ["traffic", "scenario", "out"])]
    observed: Option<PathBuf>,
    /// With --observed: the traffic during the observation, as rate_from takes it (time,rate CSV,
    /// or get-metric-data JSON when the name ends in .json).
    #[arg(long, value_name = "FILE", requires = "observed")]
    traffic: Option<PathBuf>,
    /// With --observed: the scenario whose autoscaling parameters are fitted.
    #[arg(requires = "observed")]
    scenario: Option<PathBuf>,
    /// With --observed: override a scenario field for every run (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE", requires = "observed")]
    sets: Vec<String>,
    /// With --observed: a parameter's candidates instead of the default levels, or one more
    /// parameter to fit, e.g. esm.scaling.scale_delay=30s,1m,2m (repeatable).
    #[arg(long = "grid", value_name = "PATH=V1,V2,...", requires = "observed")]
    grids: Vec<String>,
    /// With --observed: levels per fitted parameter, spread over its plausible range (2 to 10).
    #[arg(long, default_value_t = esmsim::calibrate::autoscaling::DEFAULT_LEVELS, requires = "observed")]
    levels: usize,
    /// With --observed: seeds per candidate (the scenario's seed + 0 .. N-1); the error uses their mean lag.
    #[arg(long, default_value_t = 1, requires = "observed")]
    seeds: u32,
    /// With --observed: runs at once (default: one per core).
    #[arg(long, requires = "observed")]
    jobs: Option<usize>,
    /// With --observed: skip the chart.
    #[arg(long, requires = "observed")]
    no_charts: bool,
    /// --durations: also write the patch (JSON to merge) to this file. --observed: the directory
    /// to write calibration.json, candidates.csv, patch.json, offset_lag_fit.csv and the chart into.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    #[command(flatten)]
    memory: MemoryArg,
}

/// What `import` reads and what it is told.
#[derive(clap::Args)]
struct ImportArgs {
    /// `aws lambda get-event-source-mapping` output (or list-event-source-mappings with one mapping).
    #[arg(long, value_name = "FILE", required_unless_present_any = ["cloudformation", "terraform"])]
    esm: Option<PathBuf>,
    /// `aws lambda get-function-configuration` output: MemorySize, Timeout, Architectures.
    #[arg(long, value_name = "FILE")]
    function: Option<PathBuf>,
    /// `aws lambda get-function-concurrency` output: ReservedConcurrentExecutions.
    #[arg(long, value_name = "FILE")]
    concurrency: Option<PathBuf>,
    /// A CloudFormation template (JSON) with one AWS::Lambda::EventSourceMapping.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["esm", "terraform"])]
    cloudformation: Option<PathBuf>,
    /// `terraform show -json` output with one aws_lambda_event_source_mapping.
    #[arg(long, value_name = "FILE", conflicts_with = "esm")]
    terraform: Option<PathBuf>,
    /// The scenario's name (default: imported).
    #[arg(long)]
    name: Option<String>,
    /// The topic's partition count (a placeholder of 12 without it).
    #[arg(long, value_name = "N")]
    partitions: Option<u32>,
    /// A constant producer rate, records/s.
    #[arg(long, value_name = "R", conflicts_with = "rate_from")]
    rate: Option<f64>,
    /// Traffic from a file: CSV (time,rate[,bytes_per_second]) or CloudWatch get-metric-data JSON.
    #[arg(long, value_name = "FILE")]
    rate_from: Option<PathBuf>,
    /// Value bytes per record (default 1024, or bytes/messages of the traffic file).
    #[arg(long, value_name = "BYTES")]
    record_bytes: Option<u64>,
    /// Where to write the scenario.
    #[arg(long, value_name = "FILE.json")]
    out: PathBuf,
}

/// Arguments shared by sweep, tune and capacity.
#[derive(clap::Args)]
struct StudyArgs {
    /// A scenario path and its values, e.g. esm.batch_size=100,500,1000 (repeatable; the last varies fastest).
    #[arg(long = "grid", value_name = "PATH=V1,V2,...")]
    grids: Vec<String>,
    /// Override a scenario field for every run (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Seeds per grid point: the scenario's seed + 0 .. N-1.
    #[arg(long, default_value_t = 1)]
    seeds: u32,
    /// Runs at once (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only shard K of N (1-based); join shards with `esmsim merge`.
    #[arg(long, value_name = "K/N", conflicts_with = "shards")]
    shard: Option<String>,
    /// Shard count, with the 0-based index from JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX or
    /// SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN.
    #[arg(long, value_name = "N")]
    shards: Option<usize>,
    /// The directory to write the study's files into.
    #[arg(long)]
    out: PathBuf,
    /// Skip the charts.
    #[arg(long)]
    no_charts: bool,
    /// Leave this start-up transient out of the statistics (tune and capacity default to a fifth
    /// of the run); the same as --set warmup=DURATION.
    #[arg(long, value_name = "DURATION")]
    warmup: Option<String>,
    #[command(flatten)]
    memory: MemoryArg,
}

/// The memory budget, shared by every command that simulates.
#[derive(clap::Args)]
struct MemoryArg {
    /// Memory a run may hold, e.g. 2G (default: half the machine's); a run that would exceed it
    /// stops with an error. Runs at once share it.
    #[arg(long = "max-memory", value_name = "SIZE")]
    max_memory: Option<String>,
}

impl MemoryArg {
    fn bytes(&self) -> Result<u64, Error> {
        self.max_memory.as_deref().map_or_else(|| Ok(esmsim::budget::default_bytes()), esmsim::budget::parse)
    }
}

/// The user's real handler behind the Lambda Runtime API (the `function.handler` fields).
#[derive(clap::Args, Debug)]
struct HandlerArgs {
    /// Run this command as the function's handler, e.g. 'python -m awslambdaric app.handler';
    /// the same as --set function.handler.command=CMD.
    #[arg(long, value_name = "CMD")]
    handler: Option<String>,
    /// model (default: the scenario's duration model, deterministic) or measured[:FACTOR]
    /// (the handler's wall time times FACTOR: not deterministic).
    #[arg(long, value_name = "SOURCE")]
    handler_duration: Option<String>,
    /// Wall time an invocation may take before it is cut off as a timeout (default 30s).
    #[arg(long, value_name = "DURATION")]
    handler_wall_limit: Option<String>,
    /// Most handler processes at once (default 8); more environments share them.
    #[arg(long, value_name = "N")]
    handler_processes: Option<u32>,
}

impl HandlerArgs {
    /// The `--set`s these arguments stand for; strings are JSON-quoted so they stay strings.
    fn sets(self) -> Vec<String> {
        let quoted = |s: String| serde_json::Value::String(s).to_string();
        let mut sets = Vec::new();
        sets.extend(self.handler.map(|c| format!("function.handler.command={}", quoted(c))));
        sets.extend(self.handler_duration.map(|d| format!("function.handler.duration={}", quoted(d))));
        sets.extend(self.handler_wall_limit.map(|w| format!("function.handler.wall_limit={}", quoted(w))));
        sets.extend(self.handler_processes.map(|n| format!("function.handler.max_processes={n}")));
        sets
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    remove_staged_output_on_signals();
    let result = match cli.command {
        Command::Run {
            scenario,
            seed,
            mut sets,
            out,
            trace,
            trace_partition,
            no_charts,
            cloudwatch_period,
            warmup,
            threads,
            handler,
            memory,
        } => {
            sets.extend(handler.sets());
            sets.extend(cloudwatch_period.map(|p| format!("cloudwatch_period={p}")));
            sets.extend(warmup.map(|w| format!("warmup={w}")));
            memory.bytes().and_then(|bytes| {
                let options = RunOptions { seed, trace, trace_partition, max_memory: Some(bytes), threads };
                run(scenario, sets, out, options, !no_charts)
            })
        }
        Command::Validate { scenario, sets, memory } => memory.bytes().and_then(|b| validate(scenario, sets, b)),
        Command::Explain { trace, partition, offset } => explain(trace, partition, offset),
        Command::Sweep { scenario, study } => run_study(scenario, study, |_| Ok(Kind::Sweep)),
        Command::Tune { scenario, minimize, constraints, strategy, robust, study } => {
            run_study(scenario, study, |shard| {
                sweep::tune::spec_from_args(minimize, constraints, strategy, shard, robust)
            })
        }
        Command::Capacity { scenario, rates, slos, study } => {
            run_study(scenario, study, |_| Ok(Kind::Capacity(sweep::capacity::CapacitySpec::from_args(&rates, slos)?)))
        }
        Command::Diff { a, b, mut sets, seeds, jobs, out, no_charts, warmup, memory } => {
            sets.extend(warmup.map(|w| format!("warmup={w}")));
            diff(DiffArgs { a, b, sets, seeds, jobs, out, charts: !no_charts }, &memory)
        }
        Command::Sensitivity {
            scenario,
            metric,
            trajectories,
            mut sets,
            seeds,
            jobs,
            out,
            no_charts,
            warmup,
            memory,
        } => {
            sets.extend(warmup.map(|w| format!("warmup={w}")));
            let spec = sweep::sensitivity::Spec { metric: &metric, trajectories, seeds };
            sensitivity(scenario, sets, &spec, jobs, Output { dir: &out, charts: !no_charts }, &memory)
        }
        Command::Merge { dirs, out, jobs, no_charts, memory } => {
            memory.bytes().and_then(|bytes| merge(dirs, out, jobs, !no_charts, bytes))
        }
        Command::Import { args } => import(args),
        Command::Calibrate { args } => match args.durations.clone() {
            Some(durations) => calibrate(durations, args.out),
            None => calibrate_observed(args),
        },
        Command::Schema => {
            let schema = esmsim::scenario::schema::scenario_schema();
            print_out(&(serde_json::to_string_pretty(&schema).expect("a JSON value serialises") + "\n"));
            Ok(())
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "esmsim", &mut text);
            print_out(&String::from_utf8_lossy(&text));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", esmsim::text::one_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// On SIGINT or SIGTERM, kills the real handler's processes, removes what the command staged
/// and exits (130 or 143, as a shell reports a process killed by the signal): an interrupted
/// command leaves nothing new behind, and no process running.
fn remove_staged_output_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    // Without the handler the default applies: the process dies and staged paths stay hidden.
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else { return };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            // Both held until the exit: no handler process starts, and no output is committed.
            let _no_more_processes = esmsim::model::runtime_api::children::kill_all();
            let _no_more_commits = esmsim::staging::abandon_all();
            std::process::exit(128 + signal);
        }
    });
}

fn print_warnings(file: &std::path::Path, warnings: &[esmsim::Warning]) {
    for w in warnings {
        eprintln!("warning: {}", esmsim::text::one_line(&format!("{}: {w}", file.display())));
    }
}

fn validate(scenario: PathBuf, sets: Vec<String>, memory: u64) -> Result<(), Error> {
    let (warnings, budget, mappings) = match load_any(&scenario, &sets)? {
        Parsed::One(loaded) => {
            esmsim::check_real_handler(&loaded)?;
            print_warnings(&loaded.file, &loaded.warnings);
            // Not one of the scenario's warnings: it depends on the machine, and report.html keeps those.
            let budget = esmsim::budget::warning(&loaded.scenario, memory).into_iter().collect();
            (loaded.warnings.len(), budget, String::new())
        }
        Parsed::Many(loaded) => {
            print_warnings(&loaded.file, &loaded.warnings);
            let mappings = &loaded.mappings.mappings;
            let share = memory / mappings.len() as u64;
            let budget: Vec<String> = mappings
                .iter()
                .filter_map(|m| esmsim::budget::warning(&m.scenario, share).map(|w| format!("mapping {}: {w}", m.name)))
                .collect();
            (loaded.warnings.len(), budget, format!("{} mappings, ", mappings.len()))
        }
    };
    for w in &budget {
        eprintln!("warning: {}", esmsim::text::one_line(&format!("{}: {w}", scenario.display())));
    }
    let n = warnings + budget.len();
    print_out(&format!("{}: valid ({mappings}{n} warning{})\n", scenario.display(), if n == 1 { "" } else { "s" }));
    Ok(())
}

fn run(
    scenario: PathBuf,
    sets: Vec<String>,
    out: Option<PathBuf>,
    options: RunOptions,
    charts: bool,
) -> Result<(), Error> {
    match load_any(&scenario, &sets)? {
        Parsed::One(loaded) => run_one(*loaded, out, options, charts),
        Parsed::Many(loaded) => run_mappings(loaded, out, options, charts),
    }
}

/// Every output a run may write into its directory, staged before the simulation starts; a
/// stale file of an earlier run there is removed at the commit.
fn staged_run_dir(out: &std::path::Path) -> Result<Staged, Error> {
    let stale =
        ["destination.jsonl", "mappings"].map(String::from).into_iter().chain(esmsim::report::run_report_files());
    Staged::directory(out).map(|s| s.replacing(stale))
}

/// A progress bar on a terminal for runs longer than two seconds.
struct Progress {
    started: Instant,
    bar: Option<indicatif::ProgressBar>,
    show: bool,
}

impl Progress {
    fn new() -> Self {
        Progress { started: Instant::now(), bar: None, show: std::io::stderr().is_terminal() }
    }

    fn at(&mut self, fraction: f64) {
        if self.show && self.bar.is_none() && self.started.elapsed() > Duration::from_secs(2) {
            self.bar = Some(indicatif::ProgressBar::new(1000));
        }
        if let Some(bar) = &self.bar {
            bar.set_position((fraction * 1000.0) as u64);
        }
    }

    fn done(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

fn run_mappings(
    loaded: esmsim::LoadedMappings,
    out: Option<PathBuf>,
    options: RunOptions,
    charts: bool,
) -> Result<(), Error> {
    print_warnings(&loaded.file, &loaded.warnings);
    let out = out.unwrap_or_else(|| PathBuf::from("reports").join(&loaded.mappings.name));
    let staged_out = staged_run_dir(&out)?;
    let mut progress = Progress::new();
    let report = esmsim::run_mappings(&loaded, &options, |f| progress.at(f))?;
    progress.done();
    let dir = staged_out.path();
    let mut written = output::write_mappings_report(&report, dir)?;
    if charts {
        written.extend(esmsim::report::write_mappings_run_report(&report, &loaded, dir)?);
    }
    let written: Vec<PathBuf> = written.iter().map(|p| staged_out.final_path(p)).collect();
    staging::commit(vec![staged_out])?;
    let mut text = output::mappings_table(&report);
    for path in written.iter().filter(|p| p.parent() == Some(out.as_path())) {
        text += &format!("wrote {}\n", path.display());
    }
    text += &format!("wrote {} (each mapping's own files)\n", out.join("mappings").display());
    print_out(&text);
    Ok(())
}

fn run_one(loaded: esmsim::Loaded, out: Option<PathBuf>, options: RunOptions, charts: bool) -> Result<(), Error> {
    options.check(&loaded.scenario)?;
    print_warnings(&loaded.file, &loaded.warnings);
    // The name was checked to be an identifier, so this stays under reports/.
    let out = out.unwrap_or_else(|| PathBuf::from("reports").join(&loaded.scenario.name));
    // Every output path is checked, and staged, before the simulation starts.
    let staged_out = staged_run_dir(&out)?;
    let staged_trace = options.trace.as_deref().map(Staged::file).transpose()?;
    let mut progress = Progress::new();
    let report = esmsim::run_staged(&loaded, &options, staged_trace.as_ref().map(Staged::path), |f| progress.at(f))?;
    progress.done();
    let dir = staged_out.path();
    let mut written = output::write_report(&report, dir)?;
    if charts {
        written.extend(esmsim::report::write_run_report(&report, &loaded, dir)?);
    }
    let written: Vec<PathBuf> = written.iter().map(|p| staged_out.final_path(p)).collect();
    staging::commit(std::iter::once(staged_out).chain(staged_trace).collect())?;
    let mut text = output::summary_table(&report.summary);
    for path in written.iter().chain(&options.trace) {
        text += &format!("wrote {}\n", path.display());
    }
    print_out(&text);
    Ok(())
}

fn import(args: ImportArgs) -> Result<(), Error> {
    use esmsim::import::{Facts, Sources};
    let sources = Sources {
        esm: args.esm,
        function: args.function,
        concurrency: args.concurrency,
        cloudformation: args.cloudformation,
        terraform: args.terraform,
    };
    let facts = Facts {
        name: args.name,
        partitions: args.partitions,
        rate: args.rate,
        rate_from: args.rate_from,
        record_bytes: args.record_bytes,
    };
    let imported = esmsim::import::import(&sources, &facts, &args.out)?;
    let text = serde_json::to_string_pretty(&imported.scenario).expect("a JSON value serialises") + "\n";
    // The scenario must load as written, its traffic file included, before it replaces anything.
    let loaded = esmsim::parse_scenario(&args.out, &text, &[])?;
    let staged = Staged::file(&args.out)?;
    std::fs::write(staged.path(), &text).map_err(|source| Error::Write { path: args.out.clone(), source })?;
    staging::commit(vec![staged])?;
    for w in imported.warnings.iter().chain(loaded.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>().iter()) {
        eprintln!("warning: {}", esmsim::text::one_line(w));
    }
    print_out(&format!("wrote {} (valid; run it with esmsim run {})\n", args.out.display(), args.out.display()));
    Ok(())
}

fn calibrate(durations: PathBuf, out: Option<PathBuf>) -> Result<(), Error> {
    use esmsim::calibrate::durations;
    let fit = durations::fit(&durations, &durations::read(&durations)?)?;
    let mut text = fit.report();
    text += "patch (--set):\n";
    for line in fit.set_lines() {
        text += &format!("  --set '{line}'\n");
    }
    if let Some(out) = &out {
        let staged = Staged::file(out)?;
        let json = serde_json::to_string_pretty(&fit.patch()).expect("a JSON value serialises") + "\n";
        std::fs::write(staged.path(), json).map_err(|source| Error::Write { path: out.clone(), source })?;
        staging::commit(vec![staged])?;
        text += &format!("wrote {}\n", out.display());
    }
    print_out(&text);
    Ok(())
}

fn calibrate_observed(args: CalibrateArgs) -> Result<(), Error> {
    use esmsim::calibrate::{autoscaling, observation};
    // clap requires these with --observed.
    let (Some(observed), Some(traffic), Some(scenario), Some(out)) =
        (args.observed, args.traffic, args.scenario, args.out)
    else {
        unreachable!("clap requires --traffic, SCENARIO and --out with --observed")
    };
    let observation = observation::read(&observed)?;
    let spec = autoscaling::Spec { traffic, levels: args.levels, grids: args.grids, seeds: args.seeds };
    let prepared = autoscaling::prepare(&scenario, &args.sets, &spec, &observation)?;
    let bar = Bar::new();
    let exec = Execution::new(args.jobs, &bar)?.with_memory(args.memory.bytes()?);
    for w in prepared.warnings() {
        eprintln!("warning: {}", esmsim::text::one_line(&format!("{}: {w}", scenario.display())));
    }
    let staged = Staged::directory(&out)?;
    let calibration = autoscaling::search(&prepared, &observation, &exec)?;
    let done = autoscaling::write(&calibration, Output { dir: staged.path(), charts: !args.no_charts })?;
    finish(bar, staged, done)
}

fn explain(trace: PathBuf, partition: u32, offset: u64) -> Result<(), Error> {
    let text = std::fs::read_to_string(&trace).map_err(|source| Error::Read { file: trace.clone(), source })?;
    let lines = esmsim::explain::explain(&text, partition, offset)
        .map_err(|e| Error::Argument { argument: trace.display().to_string(), message: e.to_string() })?;
    print_out(&(lines.join("\n") + "\n"));
    Ok(())
}

/// A progress bar on stderr when it is a terminal, with an estimate of the time left; runs are
/// counted as they are queued.
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn new() -> Self {
        let template = "{wide_bar} {pos}/{len} runs, {elapsed} so far, about {eta} left";
        let style = indicatif::ProgressStyle::with_template(template).ok();
        Bar(std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            if let Some(style) = style {
                bar.set_style(style);
            }
            bar
        }))
    }
}

impl sweep::Progress for Bar {
    fn queued(&self, runs: usize) {
        if let Some(bar) = &self.0 {
            bar.inc_length(runs as u64);
        }
    }
    fn finished(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }
}

fn run_study(
    scenario: PathBuf,
    args: StudyArgs,
    kind: impl FnOnce(Option<Shard>) -> Result<Kind, Error>,
) -> Result<(), Error> {
    let shard = Shard::resolve(args.shard.as_deref(), args.shards, |k| std::env::var(k).ok())?;
    let mut sets = args.sets.clone();
    sets.extend(args.warmup.as_ref().map(|w| format!("warmup={w}")));
    let mut base = Base::read(&scenario, &sets)?;
    let kind = kind(shard)?;
    if let Some(note) = base.default_warmup(&kind)? {
        eprintln!("note: {note}");
    }
    let mut grid = Grid::parse(&args.grids)?;
    if matches!(kind, Kind::Tune(_)) && grid.dimensions.is_empty() {
        let (space, notes) = sweep::space::default_space(&base.load(&[])?.scenario);
        for note in notes {
            eprintln!("note: default tune space: {note}");
        }
        grid = space;
    }
    let memory = args.memory.bytes()?;
    let prepared = Prepared::new(Study { kind, base, grid, seeds: args.seeds })?;
    let bar = Bar::new();
    let exec = Execution::new(args.jobs, &bar)?.with_memory(memory);
    for w in prepared.warnings() {
        eprintln!("warning: {}", esmsim::text::one_line(&format!("{}: {w}", scenario.display())));
    }
    if let Some(w) = sweep::size::estimate_warning(&prepared, exec.threads()) {
        eprintln!("warning: {}", esmsim::text::one_line(&w));
    }
    let staged = Staged::directory(&args.out)?;
    let out = Output { dir: staged.path(), charts: !args.no_charts };
    let stopwatch = esmsim::cpu::Stopwatch::start();
    let done = match &prepared.study.kind {
        Kind::Sweep => sweep::sweep(&prepared, &exec, shard, out),
        Kind::Tune(_) => sweep::tune::tune(&prepared, &exec, shard, out),
        Kind::Capacity(_) => sweep::capacity::capacity(&prepared, &exec, shard, out),
    };
    let parallelism = stopwatch.report(exec.threads());
    finish(bar, staged, done?)?;
    // Timing differs from run to run: the terminal only, never a file.
    if let Some(line) = parallelism {
        eprintln!("note: {line}");
    }
    Ok(())
}

struct DiffArgs {
    a: PathBuf,
    b: PathBuf,
    sets: Vec<String>,
    seeds: u32,
    jobs: Option<usize>,
    out: PathBuf,
    charts: bool,
}

fn diff(args: DiffArgs, memory: &MemoryArg) -> Result<(), Error> {
    if args.seeds == 0 {
        return Err(Error::Argument { argument: "--seeds".into(), message: "must be at least 1".into() });
    }
    let a = load_scenario(&args.a, &args.sets)?;
    let b = load_scenario(&args.b, &args.sets)?;
    print_warnings(&a.file, &a.warnings);
    print_warnings(&b.file, &b.warnings);
    if a.scenario.seed != b.scenario.seed {
        eprintln!(
            "note: both scenarios run with A's seeds ({} + 0 .. {}), not B's seed",
            a.scenario.seed,
            args.seeds - 1
        );
    }
    let bar = Bar::new();
    let exec = Execution::new(args.jobs, &bar)?.with_memory(memory.bytes()?);
    let staged = Staged::directory(&args.out)?;
    let done = sweep::diff::diff(&a, &b, args.seeds, &exec, Output { dir: staged.path(), charts: args.charts })?;
    finish(bar, staged, done)
}

fn sensitivity(
    scenario: PathBuf,
    sets: Vec<String>,
    spec: &sweep::sensitivity::Spec,
    jobs: Option<usize>,
    out: Output,
    memory: &MemoryArg,
) -> Result<(), Error> {
    sweep::sensitivity::check(spec)?;
    let base = Base::read(&scenario, &sets)?;
    let loaded = base.load(&[])?;
    print_warnings(&loaded.file, &loaded.warnings);
    let bar = Bar::new();
    let exec = Execution::new(jobs, &bar)?.with_memory(memory.bytes()?);
    let staged = Staged::directory(out.dir)?;
    let done = sweep::sensitivity::sensitivity(&base, spec, &exec, Output { dir: staged.path(), ..out })?;
    finish(bar, staged, done)
}

fn merge(dirs: Vec<PathBuf>, out: PathBuf, jobs: Option<usize>, charts: bool, memory: u64) -> Result<(), Error> {
    let bar = Bar::new();
    let exec = Execution::new(jobs, &bar)?.with_memory(memory);
    let staged = Staged::directory(&out)?;
    let done = sweep::merge::merge(&dirs, &exec, Output { dir: staged.path(), charts })?;
    finish(bar, staged, done)
}

/// Moves a study's staged files into place and says what was written.
fn finish(bar: Bar, staged: Staged, done: Done) -> Result<(), Error> {
    if let Some(bar) = bar.0 {
        bar.finish_and_clear();
    }
    let files: Vec<PathBuf> = done.files.iter().map(|p| staged.final_path(p)).collect();
    staging::commit(vec![staged])?;
    let mut text = done.text;
    for path in &files {
        text += &format!("wrote {}\n", path.display());
    }
    print_out(&text);
    Ok(())
}

/// Prints to stdout; a closed pipe (`esmsim run … | head`) is not an error worth a panic.
fn print_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
