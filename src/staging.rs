//! All-or-nothing output. A command writes everything into fresh hidden paths beside its
//! destinations (a directory for `--out`, a file for `--trace`) and moves them into place only
//! when every file is complete, so a failure, a full disk or a signal leaves the previous
//! outputs as they were and nothing new.
//!
//! Staged paths are registered here while they exist; [`abandon_all`] (called on SIGINT and
//! SIGTERM) removes them. [`commit`] holds the same lock while it moves things into place, so a
//! signal waits for the few renames to finish rather than cutting them in half.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Staged paths not yet committed or removed.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Makes staged names unique within the process (the pid makes them unique across processes).
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A panic elsewhere must not stop the clean-up.
    PENDING.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Write { path: path.to_path_buf(), source }
}

fn refuse(path: &Path, message: &str) -> Error {
    Error::Write { path: path.to_path_buf(), source: std::io::Error::other(message.to_string()) }
}

/// `dest` made absolute when it has no parent or name of its own (`.`, `..`, `dir/..`).
fn resolved(dest: &Path) -> Result<PathBuf> {
    let plain = dest.file_name().is_some() && !dest.ends_with("..");
    if plain { Ok(dest.to_path_buf()) } else { dest.canonicalize().map_err(write_error(dest)) }
}

/// A unique hidden name beside `dest`: `.NAME.esmsim-PID-N`.
fn sibling(dest: &Path) -> Result<PathBuf> {
    let name = dest.file_name().ok_or_else(|| refuse(dest, "has no name to write beside"))?;
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let hidden = format!(".{}.esmsim-{}-{n}", name.to_string_lossy(), std::process::id());
    Ok(dest.with_file_name(hidden))
}

fn parent_of(dest: &Path) -> &Path {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// One destination being prepared: a directory of files, or one file.
#[derive(Debug)]
pub struct Staged {
    dest: PathBuf,
    temporary: PathBuf,
    /// Names the command writes in a directory; others already there are left alone, except
    /// `stale` ones, which describe an earlier run and are removed at the commit.
    stale: Vec<String>,
    directory: bool,
    done: bool,
    /// The outermost directory created to hold the destination, removed again (when empty) if
    /// the command fails, so that a failure leaves no empty `reports/` behind.
    created: Option<PathBuf>,
}

impl Staged {
    /// Stages the directory `dest`: checks it is (or can be) a directory and creates the
    /// staging directory beside it, so every problem shows before any work starts.
    pub fn directory(dest: &Path) -> Result<Staged> {
        let dest = resolved(dest)?;
        if dest.exists() && !dest.is_dir() {
            return Err(refuse(&dest, "is a file, not a directory; give a new directory or one esmsim wrote"));
        }
        let parent = parent_of(&dest);
        let created = parent.ancestors().take_while(|a| !a.as_os_str().is_empty() && !a.exists()).last();
        let created = created.map(Path::to_path_buf);
        std::fs::create_dir_all(parent).map_err(write_error(&dest))?;
        let temporary = sibling(&dest)?;
        let mut list = pending();
        std::fs::create_dir(&temporary).map_err(write_error(&dest))?;
        list.push(temporary.clone());
        Ok(Staged { dest, temporary, stale: Vec::new(), directory: true, done: false, created })
    }

    /// Stages the file `dest`: it must not be a directory and its directory must exist.
    pub fn file(dest: &Path) -> Result<Staged> {
        if dest.is_dir() || dest.file_name().is_none() {
            return Err(refuse(dest, "is a directory; give a file name"));
        }
        let temporary = sibling(dest)?;
        let mut list = pending();
        std::fs::File::create_new(&temporary).map_err(write_error(dest))?;
        list.push(temporary.clone());
        let dest = dest.to_path_buf();
        Ok(Staged { dest, temporary, stale: Vec::new(), directory: false, done: false, created: None })
    }

    /// Where to write: the staging directory or file.
    pub fn path(&self) -> &Path {
        &self.temporary
    }

    /// Where things end up.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Files of an earlier run to remove from the destination at the commit, unless written anew.
    pub fn replacing(mut self, names: impl IntoIterator<Item = String>) -> Self {
        self.stale.extend(names);
        self
    }

    /// A path written under the staging directory, as it will be named after the commit.
    pub fn final_path(&self, written: &Path) -> PathBuf {
        match written.strip_prefix(&self.temporary) {
            Ok(rest) => self.dest.join(rest),
            Err(_) => written.to_path_buf(),
        }
    }

    fn put_in_place(&self) -> Result<()> {
        if !self.directory || !self.dest.exists() {
            return std::fs::rename(&self.temporary, &self.dest).map_err(write_error(&self.dest));
        }
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.temporary).map_err(write_error(&self.dest))? {
            names.push(entry.map_err(write_error(&self.dest))?.file_name());
        }
        for name in &names {
            let target = self.dest.join(name);
            // A directory of an earlier run (a scenario's `mappings/`) is replaced whole.
            if target.is_dir() {
                std::fs::remove_dir_all(&target).map_err(write_error(&target))?;
            }
            std::fs::rename(self.temporary.join(name), &target).map_err(write_error(&target))?;
        }
        for name in self.stale.iter().filter(|s| !names.iter().any(|n| n == s.as_str())) {
            let target = self.dest.join(name);
            let removed =
                if target.is_dir() { std::fs::remove_dir_all(&target) } else { std::fs::remove_file(&target) };
            match removed {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(write_error(&target)(e)),
                _ => {}
            }
        }
        std::fs::remove_dir(&self.temporary).map_err(write_error(&self.temporary))
    }
}

impl Drop for Staged {
    /// A staged path never committed is removed: the command failed.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut list = pending();
        remove(&self.temporary);
        list.retain(|p| p != &self.temporary);
        if let Some(created) = &self.created {
            // Innermost first; a directory something else now uses is not empty and stays.
            let made = parent_of(&self.dest).ancestors().take_while(|a| a.starts_with(created));
            made.for_each(|dir| drop(std::fs::remove_dir(dir)));
        }
    }
}

fn remove(path: &Path) {
    let _ = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
}

/// Moves every staged destination into place, under the lock a signal waits for. A new
/// directory or a file moves in one rename; into an existing directory each file is renamed
/// over its old version, then stale files of an earlier run are removed.
pub fn commit(mut staged: Vec<Staged>) -> Result<()> {
    let mut list = pending();
    let mut result = Ok(());
    for s in staged.iter_mut() {
        result = result.and_then(|()| s.put_in_place());
        if result.is_ok() {
            s.done = true;
            list.retain(|p| p != &s.temporary);
        }
    }
    // Unlocked before `staged` drops: what was not put in place removes itself.
    drop(list);
    drop(staged);
    result
}

/// Removes every staged path (on SIGINT or SIGTERM). Holds the lock until the process exits, so
/// no commit starts after it.
pub fn abandon_all() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    let mut list = pending();
    for path in list.drain(..) {
        remove(&path);
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_the_commit_and_a_failure_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let staged = Staged::directory(&out).unwrap();
        std::fs::write(staged.path().join("a.txt"), "new").unwrap();
        assert!(!out.exists());
        commit(vec![staged]).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "new");

        let staged = Staged::directory(&out).unwrap().replacing(["old.txt".to_string()]);
        std::fs::write(out.join("old.txt"), "stale").unwrap();
        std::fs::write(staged.path().join("a.txt"), "newer").unwrap();
        drop(staged);
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "new");
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1, "staging left behind");

        let staged = Staged::directory(&out).unwrap().replacing(["old.txt".to_string()]);
        std::fs::write(staged.path().join("a.txt"), "newer").unwrap();
        commit(vec![staged]).unwrap();
        assert!(!out.join("old.txt").exists());
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "newer");
    }

    #[test]
    fn a_file_is_not_a_directory_and_names_are_unique() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("f");
        std::fs::write(&file, "").unwrap();
        assert!(Staged::directory(&file).unwrap_err().to_string().contains("is a file"));
        assert!(Staged::file(root.path()).unwrap_err().to_string().contains("is a directory"));
        let (a, b) = (Staged::file(&file).unwrap(), Staged::file(&file).unwrap());
        assert_ne!(a.path(), b.path());
    }
}
