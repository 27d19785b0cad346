//! `timeseries.csv`: one row per sample interval. Counts are per interval; lag, age and
//! concurrency are the value at the sample instant (CloudWatch meanings, AWS_FACTS.md §8).

use serde::Serialize;
use std::io::Write;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Row {
    /// End of the interval `[time_s - sample_interval, time_s)`.
    pub time_s: f64,
    pub produced_records: u64,
    pub succeeded_records: u64,
    /// Offset lag summed over partitions (CloudWatch `SumOffsetLag`).
    pub lag_records: u64,
    /// The largest lag of one partition (CloudWatch `MaxOffsetLag`).
    pub max_partition_lag_records: u64,
    pub oldest_record_age_s: f64,
    pub concurrency: u32,
    pub invocations: u64,
    /// Failed invocations, timeouts included (CloudWatch `Errors`).
    pub errors: u64,
    pub throttles: u64,
    pub cold_starts: u64,
    /// Event pollers at the instant (CloudWatch `ProvisionedPollers`); 0 in the
    /// `parallelization_factor` model, which has none.
    pub pollers: u32,
    /// Latency of the records committed in the interval; empty when none was.
    pub latency_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    /// The limit that bound in the interval (`none` while keeping up).
    pub bottleneck: super::Bottleneck,
}

pub fn write_timeseries_csv(rows: &[Row], out: impl Write) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    for row in rows {
        writer.serialize(row)?;
    }
    writer.flush()?;
    Ok(())
}
