//! When a rate is sustainable, decided from a run's `timeseries.csv` rows.
//!
//! A run at total producer rate `R` (records/s) is **sustainable** when, over the second half of
//! the run (samples with `time_s > duration / 2`):
//! 1. the least-squares slope of `lag_records` against `time_s` is at most 1 % of `R` (lag is not
//!    trending up: a consumer short of capacity by more than 1 % grows lag faster), and
//! 2. the lag at the last sample is at most 60 s of traffic (`60 × R` records), so a backlog
//!    built earlier is not just draining too slowly to matter within the run.
//!
//! With several seeds, a rate is sustainable when every seed's run is.

use crate::metrics::Row;

/// Lag may grow by at most this fraction of the rate per second.
pub const SLOPE_LIMIT_FRACTION: f64 = 0.01;
/// The final lag may hold at most this many seconds of traffic.
pub const FINAL_LAG_LIMIT_S: f64 = 60.0;
/// Samples a run needs for the second half to have a slope.
pub const MIN_SAMPLES: u64 = 4;

/// How lag behaved over the second half of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    pub slope_records_per_s: f64,
    /// Mean `lag_records` over the second half: the steady-state lag.
    pub steady_lag_records: f64,
    pub final_lag_records: f64,
    pub sustainable: bool,
}

/// The trend of `rows` from a run of `duration_s` seconds at `rate_records_per_s`.
pub fn trend(rows: &[Row], duration_s: f64, rate_records_per_s: f64) -> Trend {
    let half: Vec<(f64, f64)> =
        rows.iter().filter(|r| r.time_s > duration_s / 2.0).map(|r| (r.time_s, r.lag_records as f64)).collect();
    let n = half.len().max(1) as f64;
    let mean_t = half.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_lag = half.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = half.iter().map(|p| (p.0 - mean_t).powi(2)).sum();
    let sxy: f64 = half.iter().map(|p| (p.0 - mean_t) * (p.1 - mean_lag)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let final_lag = rows.last().map_or(0.0, |r| r.lag_records as f64);
    let sustainable =
        slope <= SLOPE_LIMIT_FRACTION * rate_records_per_s && final_lag <= FINAL_LAG_LIMIT_S * rate_records_per_s;
    Trend { slope_records_per_s: slope, steady_lag_records: mean_lag, final_lag_records: final_lag, sustainable }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lags: &[u64]) -> Vec<Row> {
        let row = |(i, &lag): (usize, &u64)| Row {
            time_s: (i + 1) as f64 * 10.0,
            produced_records: 0,
            succeeded_records: 0,
            lag_records: lag,
            max_partition_lag_records: lag,
            oldest_record_age_s: 0.0,
            concurrency: 0,
            invocations: 0,
            errors: 0,
            throttles: 0,
            cold_starts: 0,
            pollers: 0,
            latency_p50_ms: None,
            latency_p99_ms: None,
            bottleneck: Default::default(),
            cost_usd: 0.0,
        };
        lags.iter().enumerate().map(row).collect()
    }

    #[test]
    fn flat_lag_is_sustainable_and_growing_lag_is_not() {
        let flat = trend(&rows(&[900, 100, 120, 80, 110, 90]), 60.0, 1000.0);
        assert!(flat.sustainable, "{flat:?}");
        // Second half: samples at 40, 50 and 60 s.
        assert!((flat.steady_lag_records - (80.0 + 110.0 + 90.0) / 3.0).abs() < 1e-9);
        // Second half: 40 s → 1000, 50 s → 1200, 60 s → 1400: 20 records/s, above 1 % of 1000/s.
        let growing = trend(&rows(&[0, 0, 0, 1000, 1200, 1400]), 60.0, 1000.0);
        assert!((growing.slope_records_per_s - 20.0).abs() < 1e-9);
        assert!(!growing.sustainable);
        let backlog = trend(&rows(&[0, 0, 0, 90_000, 80_000, 70_000]), 60.0, 1000.0);
        assert!(!backlog.sustainable, "70,000 records left is over 60 s of traffic");
    }
}
