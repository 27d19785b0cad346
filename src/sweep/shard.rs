//! `--shard K/N`: a stable slice of a study's runs for one machine of a cluster.
//!
//! Runs are numbered in output order (grid point, then rate for `capacity`, then seed) from 0,
//! and run `i` belongs to shard `(i mod N) + 1`. Dealing runs out in turn, rather than in
//! contiguous blocks, gives every shard a similar mix of cheap and expensive grid points.
//!
//! The shard can also come from the environment of a cluster's array job: the 0-based index from
//! `JOB_COMPLETION_INDEX` (Kubernetes Indexed Job) or else `AWS_BATCH_JOB_ARRAY_INDEX` (AWS Batch
//! array job) or else Slurm's `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN`, and the count from
//! `--shards N`, else `ESMSIM_SHARDS`, else (in a Slurm array) `SLURM_ARRAY_TASK_COUNT`.

use super::study::Study;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The environment variables that can give the 0-based shard index, in order of precedence.
pub const INDEX_VARIABLES: [&str; 2] = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"];
/// Every environment variable a shard can come from (tests clear them).
pub const ENVIRONMENT: [&str; 6] =
    ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "ESMSIM_SHARDS", SLURM_ID, SLURM_MIN, SLURM_COUNT];
/// The environment variable that can give the shard count.
pub const COUNT_VARIABLE: &str = "ESMSIM_SHARDS";
/// Slurm's array variables: the task's id, the array's lowest id (ids need not start at 0, e.g.
/// `--array=1-50`) and the number of tasks, the count when no other gives it.
const SLURM_ID: &str = "SLURM_ARRAY_TASK_ID";
const SLURM_MIN: &str = "SLURM_ARRAY_TASK_MIN";
const SLURM_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";

fn parse_count(variable: &str, text: &str) -> Result<usize> {
    text.trim().parse().map_err(|_| shard_error(variable, format!("{text:?} is not a number of shards")))
}

fn parse_index(variable: &str, text: &str) -> Result<usize> {
    text.trim().parse().map_err(|_| shard_error(variable, format!("{text:?} is not an index")))
}

/// The 0-based shard index from the first array-job variable set: Kubernetes, AWS Batch, then
/// Slurm (`SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN`), with the variable that gave it.
fn environment_index(env: &impl Fn(&str) -> Option<String>) -> Result<(&'static str, usize)> {
    if let Some((variable, text)) = INDEX_VARIABLES.iter().find_map(|v| env(v).map(|t| (*v, t))) {
        return Ok((variable, parse_index(variable, &text)?));
    }
    let Some(id) = env(SLURM_ID) else {
        return Err(shard_error(
            "--shards",
            format!(
                "needs the 0-based shard index in {}, {} or {SLURM_ID}; or give --shard K/N",
                INDEX_VARIABLES[0], INDEX_VARIABLES[1]
            ),
        ));
    };
    let id = parse_index(SLURM_ID, &id)?;
    let min = env(SLURM_MIN).map_or(Ok(0), |text| parse_index(SLURM_MIN, &text))?;
    let index = id.checked_sub(min).ok_or_else(|| {
        shard_error(SLURM_ID, format!("{id} is below {SLURM_MIN} = {min}; Slurm sets the ids between MIN and MAX"))
    })?;
    Ok((SLURM_ID, index))
}
/// The manifest each shard writes beside its rows.
pub const MANIFEST: &str = "shard.json";

/// Shard `index` of `count` (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

fn shard_error(argument: &str, message: impl Into<String>) -> Error {
    Error::Argument { argument: argument.to_string(), message: message.into() }
}

impl Shard {
    /// Parses `K/N` with `1 ≤ K ≤ N`.
    pub fn parse(text: &str) -> Result<Shard> {
        let argument = format!("--shard {text}");
        let usage = "expected K/N with 1 ≤ K ≤ N, e.g. 2/10";
        let (k, n) = text.split_once('/').ok_or_else(|| shard_error(&argument, usage))?;
        let (Ok(index), Ok(count)) = (k.trim().parse::<usize>(), n.trim().parse::<usize>()) else {
            return Err(shard_error(&argument, usage));
        };
        if index == 0 || count == 0 || index > count {
            return Err(shard_error(&argument, format!("shard {index} of {count} does not exist; {usage}")));
        }
        Ok(Shard { index, count })
    }

    /// The shard from `--shard`, or from the environment when a count is given by `--shards`,
    /// `ESMSIM_SHARDS` or (in a Slurm array) `SLURM_ARRAY_TASK_COUNT`; `None` runs everything.
    pub fn resolve(
        flag: Option<&str>,
        shards: Option<usize>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Shard>> {
        if let Some(text) = flag {
            return Shard::parse(text).map(Some);
        }
        let count = match (shards, env(COUNT_VARIABLE), env(SLURM_COUNT)) {
            (Some(n), _, _) => n,
            (None, Some(text), _) => parse_count(COUNT_VARIABLE, &text)?,
            (None, None, Some(text)) if env(SLURM_ID).is_some() => parse_count(SLURM_COUNT, &text)?,
            _ => return Ok(None),
        };
        if count == 0 {
            return Err(shard_error("--shards", "must be at least 1"));
        }
        let (variable, index) = environment_index(&env)?;
        if index >= count {
            return Err(shard_error(
                variable,
                format!("index {index} is out of range for {count} shards; allowed: 0 to {}", count - 1),
            ));
        }
        Ok(Some(Shard { index: index + 1, count }))
    }

    /// Whether run `run` (0-based) is this shard's.
    pub fn owns(&self, run: usize) -> bool {
        run % self.count == self.index - 1
    }

    /// This shard's runs among `total`, in order.
    pub fn runs(&self, total: usize) -> Vec<usize> {
        (self.index - 1..total).step_by(self.count).collect()
    }
}

/// What a shard wrote: enough for `merge` to check the shards belong together and finish the
/// study without the scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub esmsim_version: String,
    pub shard: Shard,
    /// Runs in the whole study (all shards).
    pub runs: usize,
    /// The table file holding this shard's rows.
    pub table: String,
    /// SHA-256 of the table file's bytes, so `merge` takes only rows this shard wrote.
    pub rows_sha256: String,
    pub study: Study,
}

/// The hex SHA-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(name, _)| *name == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn parses_and_slices_round_robin() {
        let s = Shard::parse("2/3").unwrap();
        assert_eq!(s.runs(8), [1, 4, 7]);
        assert!(s.owns(4) && !s.owns(5));
        for bad in ["4/3", "0/3", "1/0", "x/3", "3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn environment_gives_a_zero_based_index() {
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0"), ("AWS_BATCH_JOB_ARRAY_INDEX", "5")]);
        assert_eq!(Shard::resolve(None, Some(3), &k8s).unwrap(), Some(Shard { index: 1, count: 3 }));
        let batch = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "2"), ("ESMSIM_SHARDS", "3")]);
        assert_eq!(Shard::resolve(None, None, &batch).unwrap(), Some(Shard { index: 3, count: 3 }));
        assert_eq!(Shard::resolve(None, None, env(&[("JOB_COMPLETION_INDEX", "1")])).unwrap(), None);
        assert!(Shard::resolve(None, Some(3), env(&[])).is_err());
        assert!(Shard::resolve(None, Some(3), env(&[("JOB_COMPLETION_INDEX", "3")])).is_err());
        assert_eq!(Shard::resolve(Some("1/2"), Some(9), &k8s).unwrap(), Some(Shard { index: 1, count: 2 }));
    }

    #[test]
    fn slurm_ids_count_from_the_array_minimum() {
        // sbatch --array=1-50: ids 1..=50, MIN 1, COUNT 50; task 7 is 0-based index 6, shard 7/50.
        let task =
            env(&[("SLURM_ARRAY_TASK_ID", "7"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "50")]);
        assert_eq!(Shard::resolve(None, None, &task).unwrap(), Some(Shard { index: 7, count: 50 }));
        // --shards wins over SLURM_ARRAY_TASK_COUNT: id 5 − min 1 = 4 → shard 5/10.
        let low = env(&[("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "50")]);
        assert_eq!(Shard::resolve(None, Some(10), &low).unwrap(), Some(Shard { index: 5, count: 10 }));
        // --array=0-2 gives ids from 0; an id below MIN or beyond the count is refused.
        let zero = env(&[("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_COUNT", "3")]);
        assert_eq!(Shard::resolve(None, None, &zero).unwrap(), Some(Shard { index: 3, count: 3 }));
        let below =
            env(&[("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "3")]);
        assert!(Shard::resolve(None, None, &below).is_err());
        let beyond =
            env(&[("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "3")]);
        assert!(Shard::resolve(None, None, &beyond).is_err());
        // A Kubernetes index wins over Slurm's.
        let both = env(&[("JOB_COMPLETION_INDEX", "0"), ("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "3")]);
        assert_eq!(Shard::resolve(None, Some(3), &both).unwrap(), Some(Shard { index: 1, count: 3 }));
    }
}
