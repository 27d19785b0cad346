//! The `esmsim` command line: argument parsing and printing only.

use clap::{Parser, Subcommand};
use esmsim::sweep::{self, Base, Done, Execution, Kind, Output, Prepared, Shard, Study, grid::Grid};
use esmsim::{Error, RunOptions, load_scenario, output};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "esmsim", version, about = "Simulate AWS Lambda event source mappings reading Kafka / Amazon MSK")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one simulation and write summary.json, timeseries.csv, charts and report.html.
    Run {
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
    },
    /// Parse and check a scenario; warnings go to stderr.
    Validate {
        scenario: PathBuf,
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
    },
    /// Run a grid of scenarios over seeds; write sweep.csv, sweep_summary.csv and charts.
    Sweep {
        scenario: PathBuf,
        #[command(flatten)]
        study: StudyArgs,
    },
    /// Find the configuration that minimises a metric under constraints; write tune.csv and tune.json.
    Tune {
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
        #[command(flatten)]
        study: StudyArgs,
    },
    /// Metrics against producer rate and the highest sustainable rate; write capacity.csv and capacity.json.
    Capacity {
        scenario: PathBuf,
        /// Total producer rates to run, records/s, e.g. 1000,2000,4000.
        #[arg(long, value_name = "R1,R2,...")]
        rates: String,
        #[command(flatten)]
        study: StudyArgs,
    },
    /// Join shard directories of one sweep, tune or capacity study into the single-machine files.
    Merge {
        #[arg(required = true, value_name = "SHARD_DIR")]
        dirs: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// Threads for capacity's bisection (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        #[arg(long)]
        no_charts: bool,
    },
    /// Print the life of one record from a trace written by `run --trace`.
    Explain {
        trace: PathBuf,
        #[arg(long)]
        partition: u32,
        #[arg(long)]
        offset: u64,
    },
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
    /// Shard count, with the 0-based index from JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX.
    #[arg(long, value_name = "N")]
    shards: Option<usize>,
    #[arg(long)]
    out: PathBuf,
    /// Skip the charts.
    #[arg(long)]
    no_charts: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { scenario, seed, sets, out, trace, trace_partition, no_charts } => {
            run(scenario, sets, out, RunOptions { seed, trace, trace_partition }, !no_charts)
        }
        Command::Validate { scenario, sets } => validate(scenario, sets),
        Command::Explain { trace, partition, offset } => explain(trace, partition, offset),
        Command::Sweep { scenario, study } => run_study(scenario, study, |_| Ok(Kind::Sweep)),
        Command::Tune { scenario, minimize, constraints, strategy, study } => {
            run_study(scenario, study, |shard| sweep::tune::spec_from_args(minimize, constraints, strategy, shard))
        }
        Command::Capacity { scenario, rates, study } => {
            run_study(scenario, study, |_| Ok(Kind::Capacity(sweep::capacity::CapacitySpec::parse(&rates)?)))
        }
        Command::Merge { dirs, out, jobs, no_charts } => merge(dirs, out, jobs, !no_charts),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", esmsim::text::one_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

fn print_warnings(loaded: &esmsim::Loaded) {
    for w in &loaded.warnings {
        eprintln!("warning: {}", esmsim::text::one_line(&format!("{}: {w}", loaded.file.display())));
    }
}

fn validate(scenario: PathBuf, sets: Vec<String>) -> Result<(), Error> {
    let loaded = load_scenario(&scenario, &sets)?;
    print_warnings(&loaded);
    let n = loaded.warnings.len();
    print_out(&format!("{}: valid ({n} warning{})\n", scenario.display(), if n == 1 { "" } else { "s" }));
    Ok(())
}

fn run(
    scenario: PathBuf,
    sets: Vec<String>,
    out: Option<PathBuf>,
    options: RunOptions,
    charts: bool,
) -> Result<(), Error> {
    let loaded = load_scenario(&scenario, &sets)?;
    options.check(&loaded.scenario)?;
    print_warnings(&loaded);
    let out = out.unwrap_or_else(|| PathBuf::from("reports").join(&loaded.scenario.name));
    let started = Instant::now();
    let show_progress = std::io::stderr().is_terminal();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let report = esmsim::run(&loaded, &options, |fraction| {
        if show_progress && bar.is_none() && started.elapsed() > Duration::from_secs(2) {
            bar = Some(indicatif::ProgressBar::new(1000));
        }
        if let Some(bar) = &bar {
            bar.set_position((fraction * 1000.0) as u64);
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut written = output::write_report(&report, &out)?;
    if charts {
        written.extend(esmsim::report::write_run_report(&report, &loaded, &out)?);
    } else {
        esmsim::report::remove_run_report(&out)?;
    }
    let mut text = output::summary_table(&report.summary);
    for path in written.iter().chain(&options.trace) {
        text += &format!("wrote {}\n", path.display());
    }
    print_out(&text);
    Ok(())
}

fn explain(trace: PathBuf, partition: u32, offset: u64) -> Result<(), Error> {
    let text = std::fs::read_to_string(&trace).map_err(|source| Error::Read { file: trace.clone(), source })?;
    let lines = esmsim::explain::explain(&text, partition, offset)
        .map_err(|message| Error::Argument { argument: trace.display().to_string(), message })?;
    print_out(&(lines.join("\n") + "\n"));
    Ok(())
}

/// A progress bar on stderr when it is a terminal; runs are counted as they are queued.
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn new() -> Self {
        Bar(std::io::stderr().is_terminal().then(|| indicatif::ProgressBar::new(0)))
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
    let base = Base::read(&scenario, &args.sets)?;
    let kind = kind(shard)?;
    let mut grid = Grid::parse(&args.grids)?;
    if matches!(kind, Kind::Tune(_)) && grid.dimensions.is_empty() {
        let (space, notes) = sweep::space::default_space(&base.load(&[])?.scenario);
        for note in notes {
            eprintln!("note: default tune space: {note}");
        }
        grid = space;
    }
    let prepared = Prepared::new(Study { kind, base, grid, seeds: args.seeds })?;
    let bar = Bar::new();
    let exec = Execution::new(args.jobs, &bar)?;
    for w in prepared.warnings() {
        eprintln!("warning: {}", esmsim::text::one_line(&format!("{}: {w}", scenario.display())));
    }
    let out = Output { dir: &args.out, charts: !args.no_charts };
    let done = match &prepared.study.kind {
        Kind::Sweep => sweep::sweep(&prepared, &exec, shard, out),
        Kind::Tune(_) => sweep::tune::tune(&prepared, &exec, shard, out),
        Kind::Capacity(_) => sweep::capacity::capacity(&prepared, &exec, shard, out),
    };
    finish(bar, done?)
}

fn merge(dirs: Vec<PathBuf>, out: PathBuf, jobs: Option<usize>, charts: bool) -> Result<(), Error> {
    let bar = Bar::new();
    let exec = Execution::new(jobs, &bar)?;
    let done = sweep::merge::merge(&dirs, &exec, Output { dir: &out, charts })?;
    finish(bar, done)
}

fn finish(bar: Bar, done: Done) -> Result<(), Error> {
    if let Some(bar) = bar.0 {
        bar.finish_and_clear();
    }
    let mut text = done.text;
    for path in &done.files {
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
