//! Handler processes never outlive esmsim. Every process is registered from its start until it
//! is reaped; on SIGINT or SIGTERM the CLI's signal thread calls [`kill_all`] before it exits,
//! and on every other path (an error, the end of the run, a panic that unwinds) the owning
//! [`ChildProcess`] kills its process as it drops.
//!
//! Each process leads a process group of its own and is killed as a group (SIGKILL), so a
//! handler command that starts processes of its own (a shell script, `npm start`) leaves none
//! behind. Registration, reaping and killing all hold one lock: a registered process is not yet
//! reaped, so its pid — its group's id — cannot have been given to another process, and a kill
//! never reaches a stranger.

use std::collections::BTreeSet;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Mutex, MutexGuard};

/// Pids of the handler processes started and not yet reaped.
static LIVE: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

fn live() -> MutexGuard<'static, BTreeSet<u32>> {
    // A panic elsewhere must not stop the clean-up.
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// SIGKILL to the process group `pid` leads (the process and whatever it started).
fn kill_group(pid: u32) {
    if let Some(group) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) {
        // It may be gone already (a zombie's group is empty of the living): nothing to do.
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
}

/// Whether the process `pid` (our child) has exited, without reaping it.
fn has_exited(pid: u32) -> bool {
    use rustix::process::{WaitId, WaitIdOptions, waitid};
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return false };
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    matches!(waitid(WaitId::Pid(pid), options), Ok(Some(_)))
}

/// A handler process: registered while it runs, killed (with its group) when dropped.
pub struct ChildProcess {
    child: Child,
}

impl ChildProcess {
    /// Starts `command` as the leader of a new process group, registered.
    pub fn spawn(command: &mut Command) -> std::io::Result<ChildProcess> {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        // Held across the spawn: a signal either finds the process registered or waits until it is.
        let mut live = live();
        let child = command.spawn()?;
        live.insert(child.id());
        Ok(ChildProcess { child })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The child's pipes and the like.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The exit status, if the process has exited (it is then reaped and unregistered). What
    /// it started is killed first, while its unreaped pid still holds the group's id.
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        let mut live = live();
        if live.contains(&self.child.id()) && has_exited(self.child.id()) {
            kill_group(self.child.id());
        }
        let status = self.child.try_wait();
        if !matches!(status, Ok(None)) {
            live.remove(&self.child.id());
        }
        status
    }

    /// Kills the process and its group, and reaps it.
    pub fn kill(&mut self) -> std::io::Result<ExitStatus> {
        let mut live = live();
        if live.contains(&self.child.id()) {
            kill_group(self.child.id());
        }
        let _ = self.child.kill();
        let status = self.child.wait();
        live.remove(&self.child.id());
        status
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// Kills every registered process group (on SIGINT or SIGTERM). Returns the lock, to be held
/// until the process exits, so that no new handler process starts in between.
pub fn kill_all() -> MutexGuard<'static, BTreeSet<u32>> {
    let mut live = live();
    for &pid in live.iter() {
        kill_group(pid);
    }
    live.clear();
    live
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Whether `pid` still exists (as anything but a zombie).
    fn alive(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            // The state follows the command name in parentheses: "Z" is a zombie.
            stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
    }

    fn gone_within(pid: u32, limit: Duration) -> bool {
        let start = Instant::now();
        while alive(pid) {
            if start.elapsed() > limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// `sh -c SCRIPT`, where the script starts a grandchild and prints its pid first: the
    /// process and the grandchild's pid; `None` (with a message) without /proc to watch them in.
    fn shell_with_grandchild(script: &str) -> Option<(ChildProcess, u32)> {
        if !std::path::Path::new("/proc/self/stat").exists() {
            eprintln!("SKIPPED: no /proc to watch processes in");
            return None;
        }
        let mut command = Command::new("sh");
        command.args(["-c", script]).stdout(std::process::Stdio::piped());
        let mut process = ChildProcess::spawn(&mut command).unwrap();
        let mut line = String::new();
        let stdout = process.child_mut().stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        Some((process, line.trim().parse().unwrap()))
    }

    #[test]
    fn dropping_a_process_kills_it_and_what_it_started() {
        // A shell that starts a grandchild, then waits.
        let Some((process, grandchild)) = shell_with_grandchild("sleep 60 & echo $!; wait") else { return };
        let pid = process.id();
        assert!(alive(pid) && alive(grandchild));
        assert!(live().contains(&pid));
        drop(process);
        assert!(!live().contains(&pid), "unregistered once reaped");
        assert!(!alive(pid), "the process is reaped at once");
        // The grandchild was killed with the group; it is reaped by init, so give it a moment.
        assert!(gone_within(grandchild, Duration::from_secs(5)), "the grandchild outlived its group");
    }

    #[test]
    fn a_process_that_exits_is_unregistered_when_reaped_and_what_it_started_is_killed() {
        // A shell that starts a grandchild and exits at once (a crash, say).
        let Some((mut process, grandchild)) = shell_with_grandchild("sleep 60 & echo $!") else { return };
        let pid = process.id();
        let start = Instant::now();
        while process.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < Duration::from_secs(10), "the shell did not exit");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!live().contains(&pid));
        assert!(gone_within(grandchild, Duration::from_secs(5)), "the grandchild outlived its exited parent");
    }
}
