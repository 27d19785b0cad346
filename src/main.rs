//! The `esmsim` command line: argument parsing and printing only.

use clap::{Parser, Subcommand};
use esmsim::{Error, SimulationBuilder, load_scenario, output};
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
    /// Run one simulation and write summary.json and timeseries.csv.
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
    },
    /// Parse and check a scenario; warnings go to stderr.
    Validate {
        scenario: PathBuf,
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { scenario, seed, sets, out } => run(scenario, seed, sets, out),
        Command::Validate { scenario, sets } => validate(scenario, sets),
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
    println!("{}: valid ({n} warning{})", scenario.display(), if n == 1 { "" } else { "s" });
    Ok(())
}

fn run(scenario: PathBuf, seed: Option<u64>, sets: Vec<String>, out: Option<PathBuf>) -> Result<(), Error> {
    let loaded = load_scenario(&scenario, &sets)?;
    print_warnings(&loaded);
    let s = &loaded.scenario;
    let builder = SimulationBuilder::new(s);
    let builder = match seed {
        Some(seed) => builder.seed(seed),
        None => builder,
    };
    let out = out.unwrap_or_else(|| PathBuf::from("reports").join(&s.name));
    let started = Instant::now();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let show_progress = std::io::stderr().is_terminal();
    let (report, ()) = builder.build().run_with_progress(|fraction| {
        if show_progress && bar.is_none() && started.elapsed() > Duration::from_secs(2) {
            bar = Some(indicatif::ProgressBar::new(1000));
        }
        if let Some(bar) = &bar {
            bar.set_position((fraction * 1000.0) as u64);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let written = output::write_report(&report, &out)?;
    print!("{}", esmsim::output::summary_table(&report.summary));
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}
