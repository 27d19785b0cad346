//! Parallel execution: whole runs on a rayon pool of `--jobs` threads. Each run is the library's
//! single-threaded simulation, and results are collected in run order, never completion order,
//! so the output does not depend on the number of threads.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::sim::{Report, SimulationBuilder};
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

/// Where runs execute: a thread pool and a progress sink.
pub struct Execution<'a> {
    pool: rayon::ThreadPool,
    progress: &'a dyn Progress,
}

impl<'a> Execution<'a> {
    /// A pool of `jobs` threads (default: one per core).
    pub fn new(jobs: Option<usize>, progress: &'a dyn Progress) -> Result<Self> {
        let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if jobs == 0 {
            return Err(Error::Argument { argument: "--jobs".into(), message: "must be at least 1".into() });
        }
        let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().map_err(|e| Error::Argument {
            argument: "--jobs".into(),
            message: format!("cannot start {jobs} threads: {e}"),
        })?;
        Ok(Execution { pool, progress })
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

/// One run of a scenario with a seed.
pub fn simulate(config: &Config, seed: u64) -> Report {
    SimulationBuilder::new(config).seed(seed).build().run().0
}
