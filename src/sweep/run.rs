//! Parallel execution: whole runs on a rayon pool of `--jobs` threads. Each run is the library's
//! single-threaded simulation, and results are collected in run order, never completion order,
//! so the output does not depend on the number of threads.

use super::Prepared;
use super::record::RunRecord;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::sim::{Limits, Report, SimulationBuilder, Stopped};
use rayon::prelude::*;

/// Told how many runs are queued and when each finishes (the CLI draws a progress bar).
pub trait Progress: Sync {
    fn queued(&self, runs: usize);
    fn finished(&self);
}

/// No progress reporting.
pub struct Silent;

impl Progress for Silent {
    fn queued(&self, _: usize) {}
    fn finished(&self) {}
}

/// Threads a study may use: far more than cores only adds memory (each run's share of the
/// budget shrinks) and stacks.
pub const MAX_JOBS: usize = 1024;

/// Where runs execute: a thread pool and a progress sink.
pub struct Execution<'a> {
    pool: rayon::ThreadPool,
    progress: &'a dyn Progress,
    /// Each run's share of the memory budget: runs at once share it.
    limits: Limits,
}

impl<'a> Execution<'a> {
    /// A pool of `jobs` threads (default: one per core).
    pub fn new(jobs: Option<usize>, progress: &'a dyn Progress) -> Result<Self> {
        let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if !(1..=MAX_JOBS).contains(&jobs) {
            let message = format!("{jobs} is out of range; allowed: 1 to {MAX_JOBS} threads");
            return Err(Error::Argument { argument: "--jobs".into(), message });
        }
        let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().map_err(|e| Error::Argument {
            argument: "--jobs".into(),
            message: format!("cannot start {jobs} threads: {e}"),
        })?;
        let limits = Limits { memory_bytes: crate::budget::default_bytes() / jobs as u64 };
        Ok(Execution { pool, progress, limits })
    }

    /// Threads that run at once.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Shares `bytes` of memory among the runs that run at once.
    pub fn with_memory(mut self, bytes: u64) -> Self {
        self.limits.memory_bytes = bytes / self.pool.current_num_threads() as u64;
        self
    }

    /// `f` of every item, computed in parallel, returned in the items' order.
    pub fn map<I: Sync, T: Send>(&self, items: &[I], f: impl Fn(&I) -> T + Sync) -> Vec<T> {
        self.progress.queued(items.len());
        self.pool.install(|| {
            items
                .par_iter()
                .map(|item| {
                    let result = f(item);
                    self.progress.finished();
                    result
                })
                .collect()
        })
    }
}

/// One run of a scenario with a seed, within its share of the memory budget.
pub fn simulate(config: &Config, seed: u64, exec: &Execution) -> Result<Report, Stopped> {
    SimulationBuilder::new(config).seed(seed).build().try_run(&exec.limits, |_| {}).0
}

/// The error for a run of a study that the budget stopped, naming the run.
pub fn stopped_error(p: &Prepared, run: &RunRecord, stopped: &Stopped) -> Error {
    let loaded = &p.points[run.point];
    let assignments = p.study.grid.assignments(run.point);
    let point = if assignments.is_empty() { String::new() } else { format!("grid point {}, ", assignments.join(" ")) };
    let rate = run.rate.map_or(String::new(), |r| format!("rate {} records/s, ", crate::text::number(r.rate)));
    let at = format!(" (in the run at {point}{rate}seed {}; runs at once share the budget)", run.seed);
    crate::budget::stopped_error(&loaded.file, stopped, &at)
}
