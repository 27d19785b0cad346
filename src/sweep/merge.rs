//! `esmsim merge SHARD_DIR... --out DIR`: joins the shards of one study into the files a single
//! machine would have written, byte for byte. The shards' manifests must describe the same study
//! and cover shards 1 to N exactly once; each row is checked against the run expected at its
//! place. `capacity` then runs its bisection here, from the scenario stored in the manifest.

use super::record::{self, RunRecord};
use super::shard::{MANIFEST, Manifest};
use super::table::read_csv;
use super::tune::{self, Goal};
use super::{Done, Execution, Kind, Output, Prepared, capacity, finish_sweep, plan};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

fn merge_error(argument: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Argument { argument: argument.into(), message: message.into() }
}

/// The largest manifest read: it holds the scenario (at most 16 MiB) and the study's settings.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let text = crate::text::read_capped(&path, MAX_MANIFEST_BYTES, "a shard manifest")?;
    serde_json::from_str(&text)
        .map_err(|e| merge_error(path.display().to_string(), format!("not a shard manifest: {e}")))
}

/// Checks that the manifests are one study's shards 1 to N, each once.
fn check(manifests: &[(PathBuf, Manifest)]) -> Result<()> {
    let (first_dir, first) = &manifests[0];
    for (dir, m) in &manifests[1..] {
        let same = m.study == first.study && m.runs == first.runs && m.shard.count == first.shard.count;
        if !same || m.esmsim_version != first.esmsim_version || m.table != first.table {
            let message =
                format!("is a shard of another study than {} (or of another esmsim version)", first_dir.display());
            return Err(merge_error(dir.display().to_string(), message));
        }
    }
    let count = first.shard.count;
    for index in 1..=count {
        let holders: Vec<&PathBuf> = manifests.iter().filter(|(_, m)| m.shard.index == index).map(|(d, _)| d).collect();
        match holders[..] {
            [_] => {}
            [] => return Err(merge_error("merge", format!("shard {index} of {count} is missing"))),
            [a, b, ..] => {
                let message = format!("shard {index} of {count} is given twice: {} and {}", a.display(), b.display());
                return Err(merge_error("merge", message));
            }
        }
    }
    Ok(())
}

/// Reads every shard's rows into their places in the study's run order.
fn gather(p: &Prepared, manifests: &[(PathBuf, Manifest)]) -> Result<Vec<RunRecord>> {
    let plan = plan(p);
    let runs = manifests[0].1.runs;
    if plan.len() != runs {
        return Err(merge_error(
            "merge",
            format!("the manifests speak of {runs} runs but the study has {}", plan.len()),
        ));
    }
    let capacity = matches!(p.study.kind, Kind::Capacity(_));
    let header = record::header(&p.study.grid, capacity);
    let mut slots: Vec<Option<RunRecord>> = vec![None; runs];
    for (dir, m) in manifests {
        let path = dir.join(&m.table);
        check_digest(&path, m)?;
        let rows = read_csv(&path, &header)?;
        let mine = m.shard.runs(runs);
        let source = path.display().to_string();
        if rows.len() != mine.len() {
            return Err(merge_error(
                source,
                format!(
                    "has {} rows; shard {} of {} has {} runs",
                    rows.len(),
                    m.shard.index,
                    m.shard.count,
                    mine.len()
                ),
            ));
        }
        for (row, i) in rows.iter().zip(mine) {
            slots[i] = Some(record::from_row(&p.study.grid, row, &plan[i], &source)?);
        }
    }
    Ok(slots.into_iter().map(|s| s.expect("the shards cover every run")).collect())
}

/// The rows must be the bytes the shard wrote: an edited value would otherwise pass unseen.
fn check_digest(table: &Path, m: &Manifest) -> Result<()> {
    let bytes = std::fs::read(table).map_err(|source| Error::Read { file: table.to_path_buf(), source })?;
    if super::shard::digest(&bytes) != m.rows_sha256 {
        let message = format!(
            "its rows are not those shard {} of {} wrote (the digest in its {MANIFEST} differs); run the shard again",
            m.shard.index, m.shard.count
        );
        return Err(merge_error(table.display().to_string(), message));
    }
    Ok(())
}

/// `esmsim merge`.
pub fn merge(dirs: &[PathBuf], exec: &Execution, out: Output) -> Result<Done> {
    if dirs.is_empty() {
        return Err(merge_error("merge", "give the shard directories to merge"));
    }
    let manifests = dirs.iter().map(|d| read_manifest(d).map(|m| (d.clone(), m))).collect::<Result<Vec<_>>>()?;
    check(&manifests)?;
    let p = Prepared::new(manifests[0].1.study.clone())?;
    let records = gather(&p, &manifests)?;
    match &p.study.kind {
        Kind::Sweep => finish_sweep(&p, &records, out),
        Kind::Tune(spec) => tune::finish(&p, &Goal::new(spec)?, records, &vec![None; p.points.len()], out),
        Kind::Capacity(_) => capacity::finish(&p, exec, records, out),
    }
}
