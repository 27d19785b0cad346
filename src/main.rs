//! The `esmsim` command line: argument parsing and printing only.

use clap::{Parser, Subcommand};
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
    /// Print the life of one record from a trace written by `run --trace`.
    Explain {
        trace: PathBuf,
        #[arg(long)]
        partition: u32,
        #[arg(long)]
        offset: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { scenario, seed, sets, out, trace, trace_partition, no_charts } => {
            run(scenario, sets, out, RunOptions { seed, trace, trace_partition }, !no_charts)
        }
        Command::Validate { scenario, sets } => validate(scenario, sets),
        Command::Explain { trace, partition, offset } => explain(trace, partition, offset),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_warnings(loaded: &esmsim::Loaded) {
    for w in &loaded.warnings {
        eprintln!("warning: {}: {w}", loaded.file.display());
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

/// Prints to stdout; a closed pipe (`esmsim run … | head`) is not an error worth a panic.
fn print_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
