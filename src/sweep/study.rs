//! A study: what `sweep`, `tune` and `capacity` run — the scenario with its `--set`s, the grid,
//! the seeds and the command's own settings. It is written into each shard's manifest, so `merge`
//! can finish the study from the shards alone, and it is checked (every grid point parsed and
//! validated) before anything runs.

use super::capacity::CapacitySpec;
use super::grid::Grid;
use super::tune::TuneSpec;
use crate::error::{Error, Result};
use crate::scenario::{Loaded, Warning, parse_scenario};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The scenario a study starts from: the file as read, and the `--set`s applied to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base {
    pub file: PathBuf,
    pub text: String,
    pub sets: Vec<String>,
}

impl Base {
    /// Reads the file and checks the scenario with its `--set`s.
    pub fn read(file: &Path, sets: &[String]) -> Result<Base> {
        let text = crate::scenario::read_scenario_text(file)?;
        let base = Base { file: file.to_path_buf(), text, sets: sets.to_vec() };
        base.load(&[])?;
        Ok(base)
    }

    /// `tune` and `capacity` judge the steady state: a scenario without a warm-up of its own
    /// leaves out the first fifth of each run (in whole sample intervals). Returns the note that
    /// says so, if it applied.
    pub fn default_warmup(&mut self, kind: &Kind) -> Result<Option<String>> {
        if matches!(kind, Kind::Sweep) {
            return Ok(None);
        }
        let s = self.load(&[])?.scenario;
        let sample = s.sample_interval.ns();
        let warmup = s.duration.ns() / 5 / sample * sample;
        if s.warmup.is_some() || warmup == 0 {
            return Ok(None);
        }
        let warmup = crate::scenario::Dur(warmup);
        self.sets.push(format!("warmup={warmup}"));
        Ok(Some(format!(
            "warm-up {warmup} (a fifth of the run) left out of latency, lag, throughput, concurrency and CloudWatch statistics; change it with --warmup"
        )))
    }

    /// The scenario with the `--set`s and then `extra` applied.
    pub fn load(&self, extra: &[String]) -> Result<Loaded> {
        let sets: Vec<String> = self.sets.iter().chain(extra).cloned().collect();
        parse_scenario(&self.file, &self.text, &sets)
    }
}

/// Which command a study belongs to, with that command's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Kind {
    Sweep,
    Tune(TuneSpec),
    Capacity(CapacitySpec),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Study {
    pub kind: Kind,
    pub base: Base,
    pub grid: Grid,
    /// Seeds per grid point: the scenario's seed + 0 .. seeds − 1.
    pub seeds: u32,
}

/// A study whose grid points all parsed and validated.
pub struct Prepared {
    pub study: Study,
    pub points: Vec<Loaded>,
}

impl Prepared {
    /// Builds and validates every grid point's scenario; the first invalid one is an error
    /// naming the field, the value and the grid point.
    pub fn new(study: Study) -> Result<Prepared> {
        if study.seeds == 0 {
            return Err(Error::Argument { argument: "--seeds".into(), message: "must be at least 1".into() });
        }
        super::size::check(&study)?;
        let points = (0..study.grid.len()).map(|i| load_point(&study, i)).collect::<Result<Vec<_>>>()?;
        if let Some(p) = points.iter().find(|p| p.scenario.function.handler.is_some()) {
            let message = "studies run the built-in handler model; run a real handler with `esmsim run --handler`";
            return Err(Error::field(&p.file, "function.handler", message));
        }
        Ok(Prepared { study, points })
    }

    /// The seed of run `offset` (0-based) of grid point `point`.
    pub fn seed(&self, point: usize, offset: u32) -> u64 {
        self.points[point].scenario.seed.wrapping_add(u64::from(offset))
    }

    /// Each distinct warning of the grid points, once, in grid order.
    pub fn warnings(&self) -> Vec<&Warning> {
        let mut seen: Vec<&Warning> = Vec::new();
        for w in self.points.iter().flat_map(|p| &p.warnings) {
            if !seen.contains(&w) {
                seen.push(w);
            }
        }
        seen
    }
}

fn load_point(study: &Study, index: usize) -> Result<Loaded> {
    let assignments = study.grid.assignments(index);
    study.base.load(&assignments).map_err(|e| match e {
        Error::Field { file, path, message } if !assignments.is_empty() => {
            Error::Field { file, path, message: format!("{message} (at grid point {})", assignments.join(" ")) }
        }
        other => other,
    })
}
