//! The process's CPU time, to tell whether a study's runs actually ran in parallel: CPU time
//! over wall time is the achieved parallelism (2.0 = two cores busy throughout). It is printed on
//! the terminal only: no output file depends on it, since timing differs from run to run.

use std::time::{Duration, Instant};

/// User + system CPU time of this process so far, all threads included (`getrusage`,
/// `RUSAGE_SELF`); `None` where the call fails.
pub fn process_cpu_time() -> Option<Duration> {
    // SAFETY: `getrusage` only writes the struct it is given, which is zero-initialised plain data.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return None;
        }
        usage
    };
    let time = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    Some(time(usage.ru_utime) + time(usage.ru_stime))
}

/// CPU and wall time since it started.
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Stopwatch {
    pub fn start() -> Self {
        Stopwatch { wall: Instant::now(), cpu: process_cpu_time() }
    }

    /// CPU time and wall time since the start (`None` if CPU time is unavailable).
    pub fn elapsed(&self) -> Option<(Duration, Duration)> {
        let cpu = process_cpu_time()?.checked_sub(self.cpu?)?;
        Some((cpu, self.wall.elapsed()))
    }

    /// One line for the terminal: CPU time, wall time and their ratio, for `threads` threads.
    pub fn report(&self, threads: usize) -> Option<String> {
        let (cpu, wall) = self.elapsed()?;
        Some(parallelism_line(cpu, wall, threads))
    }
}

/// "`cpu` s of CPU in `wall` s of wall time: achieved parallelism x (of `threads` threads)".
pub fn parallelism_line(cpu: Duration, wall: Duration, threads: usize) -> String {
    let ratio = if wall.is_zero() { 0.0 } else { cpu.as_secs_f64() / wall.as_secs_f64() };
    format!(
        "{:.2} s of CPU in {:.2} s of wall time: achieved parallelism {ratio:.2} of {threads} thread{}",
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
        if threads == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ratio_is_cpu_over_wall() {
        // 3 s of CPU in 2 s of wall time: 1.5 of 2 threads.
        let line = parallelism_line(Duration::from_secs(3), Duration::from_secs(2), 2);
        assert_eq!(line, "3.00 s of CPU in 2.00 s of wall time: achieved parallelism 1.50 of 2 threads");
    }

    #[test]
    fn cpu_time_grows_with_work() {
        let before = process_cpu_time().expect("getrusage works on Linux");
        // Spin until the CPU clock moves (its resolution is a microsecond to a tick).
        let mut x = 0u64;
        while process_cpu_time().unwrap() <= before {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(process_cpu_time().unwrap() > before);
    }
}
