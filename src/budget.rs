//! The memory budget: how much a run may hold before it stops with an error instead of letting
//! the allocator abort the process. What grows with a run is the lag (every record not yet
//! committed is kept), so the budget is checked as records enter the topic.

use crate::error::{Error, Result};
use crate::scenario::Scenario;
use crate::sim::{HELD_BYTES_PER_RECORD, Stopped};
use std::path::Path;

/// Used when the machine's memory cannot be read.
const FALLBACK_BYTES: u64 = 4 << 30;

/// Half of the memory this process may use (the machine's, or a cgroup limit if lower): room for
/// the rest of the machine, and for a log that doubles as it grows.
pub fn default_bytes() -> u64 {
    let total = meminfo_total().into_iter().chain(cgroup_limit()).min();
    total.map_or(FALLBACK_BYTES, |bytes| bytes / 2)
}

fn meminfo_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn cgroup_limit() -> Option<u64> {
    ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok()?.trim().parse().ok())
}

/// Parses `--max-memory`: bytes, or a number with K, M, G or T (powers of 1024), e.g. `512M`.
pub fn parse(text: &str) -> Result<u64> {
    let bad = || Error::Argument {
        argument: format!("--max-memory {}", crate::text::shown(text)),
        message: "expected a size such as 512M, 2G or 1.5G (K, M, G, T are powers of 1024), at least 1M".into(),
    };
    let trimmed = text.trim().trim_end_matches(['b', 'B']).trim_end_matches(['i', 'I']);
    let (digits, shift) = match trimmed.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&trimmed[..trimmed.len() - 1], 10),
        Some('M') => (&trimmed[..trimmed.len() - 1], 20),
        Some('G') => (&trimmed[..trimmed.len() - 1], 30),
        Some('T') => (&trimmed[..trimmed.len() - 1], 40),
        _ => (trimmed, 0),
    };
    let value: f64 = digits.trim().parse().map_err(|_| bad())?;
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= (1 << 20) as f64 && bytes < u64::MAX as f64) {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// Bytes for people: `568 MiB`, `3.6 GiB`.
pub fn show(bytes: u64) -> String {
    let mib = bytes as f64 / (1u64 << 20) as f64;
    if mib < 1024.0 { format!("{mib:.0} MiB") } else { format!("{:.1} GiB", mib / 1024.0) }
}

/// The one-line error for a run stopped by the budget, naming what grew and what to change.
/// `at` says which run of a study it was (empty for a single run).
pub fn stopped_error(file: &Path, stopped: &Stopped, at: &str) -> Error {
    match *stopped {
        Stopped::Backlog { records, bytes, budget } => Error::field(
            file,
            "topic.backlog.records",
            format!(
                "the backlog of {records} records needs {}, above the memory budget of {}{at}; \
                 use fewer backlog records or partitions, or raise --max-memory",
                show(bytes),
                show(budget)
            ),
        ),
        Stopped::Lag { records, bytes, budget, at_s } => Error::field(
            file,
            "(run)",
            format!(
                "lag reached {records} records at t = {at_s:.1} s ({} held), above the memory budget of {}{at}; \
                 shorten the run, lower the producers' rate, consume faster, or raise --max-memory",
                show(bytes),
                show(budget)
            ),
        ),
        Stopped::Observer => Error::field(file, "(run)", "stopped: the trace could not be written"),
        Stopped::Handler(ref reason) => {
            Error::field(file, "function.handler", format!("{reason}; nothing was written"))
        }
    }
}

/// The most records a scenario can hold: its backlog, plus everything its producers write within
/// the retention period (or the run, if shorter) should nothing be consumed. An upper bound for
/// `validate` to compare with the budget.
pub fn records_held_at_most(s: &Scenario) -> f64 {
    let backlog = s.topic.backlog.as_ref().map_or(0.0, |b| b.records as f64 * f64::from(s.topic.partitions));
    let window_s = s.duration.secs_f64().min(s.topic.retention.secs_f64());
    // A producer with rate_from counts 0 here: its rates live in a file (see the config's peak_rate).
    let peak: f64 =
        s.producers.iter().map(|p| p.schedule.iter().map(|step| step.rate).fold(p.rate.unwrap_or(0.0), f64::max)).sum();
    backlog + peak * window_s
}

/// A warning when the scenario's own numbers could exceed `budget` bytes.
pub fn warning(s: &Scenario, budget: u64) -> Option<String> {
    let records = records_held_at_most(s);
    let bytes = records * HELD_BYTES_PER_RECORD as f64;
    (bytes > budget as f64).then(|| {
        format!(
            "(run): if the consumer fell behind, up to {records:.0} records ({}) could be held, above the memory \
             budget of {}; such a run stops with an error (raise --max-memory, shorten the run or lower the rates)",
            show(bytes.min(u64::MAX as f64) as u64),
            show(budget)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_powers_of_1024() {
        assert_eq!(parse("512M").unwrap(), 512 << 20);
        assert_eq!(parse("2G").unwrap(), 2 << 30);
        assert_eq!(parse("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse("1048576").unwrap(), 1 << 20);
        for bad in ["", "x", "-1G", "1e400", "10", "NaNG", "1.0.0M"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(show(568 << 20), "568 MiB");
        assert_eq!(show(3 << 30), "3.0 GiB");
    }
}
