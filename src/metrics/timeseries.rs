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
    /// The interval's share of the run's cost (`cost_usd.total`): requests in proportion to the
    /// invocations that ended in it, compute to their billed GB-seconds, pollers to poller-time,
    /// provisioned concurrency's allocation and SnapStart's cache to the interval's length,
    /// SnapStart's restores to its cold starts. The column sums to the total.
    pub cost_usd: f64,
}

#[cfg(test)]
impl Row {
    /// A row with nothing in it but its time, lag and binding limit, for tests of what reads rows.
    pub(crate) fn quiet(time_s: f64, lag_records: u64, bottleneck: super::Bottleneck) -> Row {
        Row {
            time_s,
            produced_records: 0,
            succeeded_records: 0,
            lag_records,
            max_partition_lag_records: lag_records,
            oldest_record_age_s: 0.0,
            concurrency: 0,
            invocations: 0,
            errors: 0,
            throttles: 0,
            cold_starts: 0,
            pollers: 0,
            latency_p50_ms: None,
            latency_p99_ms: None,
            bottleneck,
            cost_usd: 0.0,
        }
    }
}

/// What each interval used, for sharing out the run's cost once it is known.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IntervalUsage {
    pub billed_mb_ms: u128,
    pub poller_ns: u128,
}

/// Fills each row's `cost_usd` with its share of `cost`, from each interval's usage.
pub fn share_cost(rows: &mut [Row], usage: &[IntervalUsage], cost: &super::CostSummary) {
    let invocations: u64 = rows.iter().map(|r| r.invocations).sum();
    let billed: u128 = usage.iter().map(|u| u.billed_mb_ms).sum();
    let poller_ns: u128 = usage.iter().map(|u| u.poller_ns).sum();
    let cold_starts: u64 = rows.iter().map(|r| r.cold_starts).sum();
    let span_s = rows.last().map_or(0.0, |r| r.time_s);
    let share = |part: f64, whole: f64, amount: f64| if whole > 0.0 { amount * part / whole } else { 0.0 };
    // Charges for time allocated whether used or not, and for restores.
    let allocated = cost.provisioned_concurrency.as_ref().map_or(0.0, |pc| pc.allocation)
        + cost.snapstart.as_ref().map_or(0.0, |s| s.cache);
    let restores = cost.snapstart.as_ref().map_or(0.0, |s| s.restore);
    let mut previous_s = 0.0;
    for (row, used) in rows.iter_mut().zip(usage) {
        row.cost_usd = share(row.invocations as f64, invocations as f64, cost.requests)
            + share(used.billed_mb_ms as f64, billed as f64, cost.compute)
            + share(used.poller_ns as f64, poller_ns as f64, cost.pollers)
            + share(row.time_s - previous_s, span_s, allocated)
            + share(row.cold_starts as f64, cold_starts as f64, restores);
        previous_s = row.time_s;
    }
}

pub fn write_timeseries_csv(rows: &[Row], out: impl Write) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    for row in rows {
        writer.serialize(row)?;
    }
    writer.flush()?;
    Ok(())
}
