//! Whether a run keeps up, decided from its `timeseries.csv` rows: the lag half of `capacity`'s
//! judgement (the SLOs are the other half, see [`super::capacity`]).
//!
//! A run at total producer rate `R` (records/s) **keeps up** when, over the samples after the
//! warm-up (`time_s > warmup_seconds`):
//! 1. the least-squares slope of `lag_records` against `time_s` is at most 0.1 % of `R` (lag is
//!    not growing: a consumer short of capacity by 0.1 % grows lag by 3.6 s of traffic an hour;
//!    a tighter bound would call the noise of Poisson traffic growth), and
//! 2. the lag at the last sample is at most 60 s of traffic (`60 × R` records), so a backlog
//!    built earlier is not just draining too slowly to matter within the run.

use crate::metrics::Row;

/// Lag may grow by at most this fraction of the rate per second.
pub const SLOPE_LIMIT_FRACTION: f64 = 0.001;
/// The final lag may hold at most this many seconds of traffic.
pub const FINAL_LAG_LIMIT_S: f64 = 60.0;
/// Samples a run needs after its warm-up to have a slope.
pub const MIN_SAMPLES: u64 = 4;

/// How lag behaved after a run's warm-up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    pub slope_records_per_s: f64,
    /// Mean `lag_records` after the warm-up: the steady-state lag.
    pub steady_lag_records: f64,
    pub final_lag_records: f64,
    /// Both lag criteria hold: lag is not growing and no large backlog is left.
    pub keeps_up: bool,
}

/// The trend of `rows` after `warmup_s` seconds, from a run at `rate_records_per_s`.
pub fn trend(rows: &[Row], warmup_s: f64, rate_records_per_s: f64) -> Trend {
    let after: Vec<(f64, f64)> =
        rows.iter().filter(|r| r.time_s > warmup_s).map(|r| (r.time_s, r.lag_records as f64)).collect();
    let n = after.len().max(1) as f64;
    let mean_t = after.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_lag = after.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = after.iter().map(|p| (p.0 - mean_t).powi(2)).sum();
    let sxy: f64 = after.iter().map(|p| (p.0 - mean_t) * (p.1 - mean_lag)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let final_lag = rows.last().map_or(0.0, |r| r.lag_records as f64);
    let keeps_up = keeps_up(slope, final_lag, rate_records_per_s);
    Trend { slope_records_per_s: slope, steady_lag_records: mean_lag, final_lag_records: final_lag, keeps_up }
}

/// The two lag criteria, from the slope and the final lag.
pub fn keeps_up(slope_records_per_s: f64, final_lag_records: f64, rate_records_per_s: f64) -> bool {
    slope_records_per_s <= SLOPE_LIMIT_FRACTION * rate_records_per_s
        && final_lag_records <= FINAL_LAG_LIMIT_S * rate_records_per_s
}

impl Trend {
    /// Why the lag fails the criteria, e.g. `lag growing 15.6 records/s > 3`; `None` when it keeps up.
    pub fn why(&self, rate_records_per_s: f64) -> Option<String> {
        let short = super::constraint::short;
        let slope_limit = SLOPE_LIMIT_FRACTION * rate_records_per_s;
        if self.slope_records_per_s > slope_limit {
            Some(format!("lag growing {} records/s > {}", short(self.slope_records_per_s), short(slope_limit)))
        } else if !self.keeps_up {
            let limit = FINAL_LAG_LIMIT_S * rate_records_per_s;
            Some(format!("final lag {} records > {}", short(self.final_lag_records), short(limit)))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lags: &[u64]) -> Vec<Row> {
        let row = |(i, &lag): (usize, &u64)| Row::quiet((i + 1) as f64 * 10.0, lag, Default::default());
        lags.iter().enumerate().map(row).collect()
    }

    #[test]
    fn flat_lag_is_sustainable_and_growing_lag_is_not() {
        // Warm-up 30 s: samples at 40, 50 and 60 s; their least-squares slope is 0.5 records/s.
        let flat = trend(&rows(&[900, 100, 120, 80, 110, 90]), 30.0, 1000.0);
        assert!(flat.keeps_up && flat.why(1000.0).is_none(), "{flat:?}");
        assert!((flat.steady_lag_records - (80.0 + 110.0 + 90.0) / 3.0).abs() < 1e-9);
        // 40 s → 1000, 50 s → 1020, 60 s → 1040: 2 records/s, above 0.1 % of 1000/s.
        let growing = trend(&rows(&[0, 0, 0, 1000, 1020, 1040]), 30.0, 1000.0);
        assert!((growing.slope_records_per_s - 2.0).abs() < 1e-9);
        assert!(!growing.keeps_up);
        assert_eq!(growing.why(1000.0).unwrap(), "lag growing 2 records/s > 1");
        let backlog = trend(&rows(&[0, 0, 0, 90_000, 80_000, 70_000]), 30.0, 1000.0);
        assert!(!backlog.keeps_up, "70,000 records left is over 60 s of traffic");
        assert_eq!(backlog.why(1000.0).unwrap(), "final lag 70000 records > 60000");
        // Without a warm-up every sample counts: 900 at 10 s drags the slope down.
        assert!(trend(&rows(&[900, 100, 120, 80, 110, 90]), 0.0, 1000.0).slope_records_per_s < 0.0);
    }
}
