//! The metrics a user's CloudWatch dashboard shows, with AWS's names and meanings, per
//! CloudWatch period and for the whole run: `cloudwatch.csv` and `summary.json`'s `cloudwatch`.
//!
//! Meanings (monitoring-metrics-types; README, "CloudWatch metrics"):
//! - invocation metrics (`Invocations`, `Errors`, `Duration`, `InvokedEventCount`,
//!   `FailedInvokeEventCount`) are timestamped when the invocation starts, as CloudWatch does;
//! - a batch given up counts every record in `DroppedEventCount` (no destination) or
//!   `OnFailureDestinationDeliveredEventCount`, including records the handler processed before it
//!   threw;
//! - `OffsetLag` (ASSUMED: summed over partitions, like `SumOffsetLag`) and `ConcurrentExecutions`
//!   are sampled; a period's maximum is the largest sample in it.

use crate::engine::SimTime;
use hdrhistogram::Histogram;
use serde::Serialize;

/// One CloudWatch period's statistics.
#[derive(Clone, Debug, Default)]
pub struct Period {
    pub invocations: u64,
    pub errors: u64,
    pub throttles: u64,
    pub dropped_events: u64,
    pub destination_events: u64,
    pub polled_events: u64,
    /// Records of the batches formed that matched no filter.
    pub filtered_out_events: u64,
    pub invoked_events: u64,
    pub failed_invoke_events: u64,
    pub committed_events: u64,
    pub concurrency_max: u32,
    /// Provisioned concurrency: invocations on provisioned environments and spill-overs to
    /// on-demand ones, and the most provisioned environments busy at once.
    pub provisioned_invocations: u64,
    pub spillover_invocations: u64,
    pub provisioned_concurrency_max: u32,
    pub offset_lag_max: Option<u64>,
    duration_sum_ns: u128,
    durations: Option<Histogram<u64>>,
}

/// Durations are kept in microseconds with 2 significant digits: small enough for one histogram
/// per period.
fn duration_histogram() -> Option<Histogram<u64>> {
    Histogram::new_with_bounds(1, 1 << 40, 2).ok()
}

impl Period {
    fn add_duration(&mut self, run_ns: SimTime) {
        self.duration_sum_ns += run_ns as u128;
        let h = self.durations.get_or_insert_with(|| duration_histogram().unwrap_or_else(empty_histogram));
        let _ = h.record((run_ns / 1_000).max(1));
    }

    pub fn duration_average_ms(&self) -> Option<f64> {
        (self.invocations > 0).then(|| self.duration_sum_ns as f64 / self.invocations as f64 / 1e6)
    }

    pub fn duration_quantile_ms(&self, q: f64) -> Option<f64> {
        self.durations.as_ref().filter(|h| !h.is_empty()).map(|h| h.value_at_quantile(q) as f64 / 1e3)
    }
}

/// A histogram that records nothing, should the bounds ever be refused.
fn empty_histogram() -> Histogram<u64> {
    Histogram::new(1).unwrap_or_else(|_| unreachable!("one significant digit is always allowed"))
}

/// Everything CloudWatch would show for a run, by period. (`Default` is an empty one with no
/// periods, which a finished run leaves behind when its report takes its own.)
#[derive(Clone, Debug, Default)]
pub struct CloudWatch {
    origin_ns: SimTime,
    period_ns: SimTime,
    pub periods: Vec<Period>,
    /// Whole-run handler durations, for `Duration` and `duration_ms`.
    durations: Option<Histogram<u64>>,
    duration_sum_ns: u128,
    duration_max_ns: SimTime,
    /// The first period of the steady state: the run's statistics leave out those before it.
    steady_from: usize,
    /// Invocations started before this instant (the warm-up) are left out of `duration_ms`.
    steady_start_ns: SimTime,
    /// Event filtering is on: `cloudwatch.csv` gets a `FilteredOutEventCount_Sum` column.
    pub filtering: bool,
    /// Provisioned concurrency allocated (0 = none): when set, `cloudwatch.csv` gets the
    /// `ProvisionedConcurrency*` columns.
    pub provisioned: u32,
}

impl CloudWatch {
    pub fn new(origin_ns: SimTime, end_ns: SimTime, period_ns: SimTime) -> Self {
        let count = (end_ns - origin_ns).div_ceil(period_ns.max(1)).max(1) as usize;
        CloudWatch {
            origin_ns,
            period_ns: period_ns.max(1),
            periods: vec![Period::default(); count],
            durations: Histogram::new_with_bounds(1, 1 << 42, 3).ok(),
            duration_sum_ns: 0,
            duration_max_ns: 0,
            steady_from: 0,
            steady_start_ns: origin_ns,
            filtering: false,
            provisioned: 0,
        }
    }

    /// Empties every period (keeping the grid and the steady-state start), to add mappings into.
    pub fn clear(&mut self) {
        self.periods.iter_mut().for_each(|p| *p = Period::default());
        self.durations = Histogram::new_with_bounds(1, 1 << 42, 3).ok();
        self.duration_sum_ns = 0;
        self.duration_max_ns = 0;
        self.provisioned = 0;
    }

    /// Adds another mapping's periods (on the same grid) to these: counts add up, and so do
    /// maxima, as a bound of the mappings together; a function's concurrency is added only
    /// once (`counts_function` for the first mapping that invokes it).
    pub fn absorb(&mut self, other: &CloudWatch, counts_function: bool) {
        for (mine, theirs) in self.periods.iter_mut().zip(&other.periods) {
            mine.invocations += theirs.invocations;
            mine.errors += theirs.errors;
            mine.throttles += theirs.throttles;
            mine.dropped_events += theirs.dropped_events;
            mine.destination_events += theirs.destination_events;
            mine.polled_events += theirs.polled_events;
            mine.filtered_out_events += theirs.filtered_out_events;
            mine.invoked_events += theirs.invoked_events;
            mine.failed_invoke_events += theirs.failed_invoke_events;
            mine.committed_events += theirs.committed_events;
            mine.provisioned_invocations += theirs.provisioned_invocations;
            mine.spillover_invocations += theirs.spillover_invocations;
            if counts_function {
                mine.concurrency_max += theirs.concurrency_max;
                mine.provisioned_concurrency_max += theirs.provisioned_concurrency_max;
            }
            mine.offset_lag_max = match (mine.offset_lag_max, theirs.offset_lag_max) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            mine.duration_sum_ns += theirs.duration_sum_ns;
            if let Some(h) = &theirs.durations {
                let into = mine.durations.get_or_insert_with(|| duration_histogram().unwrap_or_else(empty_histogram));
                let _ = into.add(h);
            }
        }
        if let (Some(mine), Some(theirs)) = (self.durations.as_mut(), other.durations.as_ref()) {
            let _ = mine.add(theirs);
        }
        self.duration_sum_ns += other.duration_sum_ns;
        self.duration_max_ns = self.duration_max_ns.max(other.duration_max_ns);
        self.filtering |= other.filtering;
        if counts_function {
            self.provisioned += other.provisioned;
        }
    }

    /// The warm-up ends at `now`: the run's statistics count whole periods from here on and
    /// durations of invocations started from here on.
    pub fn start_steady_state(&mut self, now: SimTime) {
        let since = now.saturating_sub(self.origin_ns);
        self.steady_from = (since.div_ceil(self.period_ns) as usize).min(self.periods.len());
        // Durations count from the same period boundary as the totals.
        self.steady_start_ns = self.origin_ns + self.steady_from as u64 * self.period_ns;
        self.durations = Histogram::new_with_bounds(1, 1 << 42, 3).ok();
        self.duration_sum_ns = 0;
        self.duration_max_ns = 0;
    }

    fn steady(&self) -> &[Period] {
        &self.periods[self.steady_from..]
    }

    pub fn period_ns(&self) -> SimTime {
        self.period_ns
    }

    /// The period of an instant (before t = 0: the first; at or after the end: the last).
    pub fn at(&mut self, t: SimTime) -> &mut Period {
        let index = (t.saturating_sub(self.origin_ns) / self.period_ns) as usize;
        let last = self.periods.len() - 1;
        &mut self.periods[index.min(last)]
    }

    /// An invocation of `records` records that started at `started_ns` ended after `run_ns` of
    /// handler time; `error` if the function failed, with `failed_records` of its records failed.
    pub fn invocation(&mut self, started_ns: SimTime, run_ns: SimTime, records: u64, error: bool, failed_records: u64) {
        let period = self.at(started_ns);
        period.invocations += 1;
        period.errors += u64::from(error);
        period.invoked_events += records;
        period.failed_invoke_events += failed_records;
        period.add_duration(run_ns);
        if started_ns < self.steady_start_ns {
            return;
        }
        if let Some(h) = self.durations.as_mut() {
            let _ = h.record((run_ns / 1_000).max(1));
        }
        self.duration_sum_ns += run_ns as u128;
        self.duration_max_ns = self.duration_max_ns.max(run_ns);
    }

    /// A sample of the offset lag and the concurrency (all, and on provisioned environments)
    /// at `t`.
    pub fn sample(&mut self, t: SimTime, offset_lag: u64, concurrency: u32, provisioned_busy: u32) {
        let period = self.at(t);
        period.offset_lag_max = Some(period.offset_lag_max.unwrap_or(0).max(offset_lag));
        period.concurrency_max = period.concurrency_max.max(concurrency);
        period.provisioned_concurrency_max = period.provisioned_concurrency_max.max(provisioned_busy);
    }

    /// `ProvisionedConcurrencyUtilization`: provisioned environments busy over those allocated.
    fn utilization(&self, busy: u32) -> f64 {
        busy as f64 / self.provisioned.max(1) as f64
    }

    /// The handler's duration per invocation over the run.
    pub fn duration_summary(&self) -> DurationSummary {
        let count = self.durations.as_ref().map_or(0, |h| h.len());
        let quantile =
            |q: f64| self.durations.as_ref().filter(|h| !h.is_empty()).map(|h| h.value_at_quantile(q) as f64 / 1e3);
        DurationSummary {
            mean: (count > 0).then(|| self.duration_sum_ns as f64 / count as f64 / 1e6),
            p50: quantile(0.5),
            p99: quantile(0.99),
            max: (count > 0).then(|| self.duration_max_ns as f64 / 1e6),
        }
    }

    /// The whole run's totals and extremes.
    pub fn summary(
        &self,
        peak_concurrency: u32,
        peak_provisioned: u32,
        lag_max_records: u64,
        max_partition_lag: u64,
    ) -> CloudWatchSummary {
        let sum = |f: fn(&Period) -> u64| self.steady().iter().map(f).sum::<u64>();
        let d = self.duration_summary();
        let provisioning = self.provisioned > 0;
        CloudWatchSummary {
            provisioned_concurrency_invocations: provisioning.then(|| sum(|p| p.provisioned_invocations)),
            provisioned_concurrency_spillover_invocations: provisioning.then(|| sum(|p| p.spillover_invocations)),
            provisioned_concurrent_executions: provisioning.then_some(Maximum { max: peak_provisioned as u64 }),
            provisioned_concurrency_utilization: provisioning
                .then(|| MaximumRatio { max: self.utilization(peak_provisioned) }),
            invocations: sum(|p| p.invocations),
            errors: sum(|p| p.errors),
            throttles: sum(|p| p.throttles),
            dropped_event_count: sum(|p| p.dropped_events),
            on_failure_destination_delivered_event_count: sum(|p| p.destination_events),
            polled_event_count: sum(|p| p.polled_events),
            invoked_event_count: sum(|p| p.invoked_events),
            failed_invoke_event_count: sum(|p| p.failed_invoke_events),
            filtered_out_event_count: sum(|p| p.filtered_out_events),
            committed_event_count: sum(|p| p.committed_events),
            concurrent_executions: Maximum { max: peak_concurrency as u64 },
            offset_lag: Maximum { max: lag_max_records },
            max_offset_lag: Maximum { max: max_partition_lag },
            duration: CloudWatchDuration { avg_ms: d.mean, p50_ms: d.p50, p99_ms: d.p99, max_ms: d.max },
            provisioned_pollers: Maximum::default(),
            event_poller_unit: Average::default(),
        }
    }
}

/// `duration_ms` in summary.json: the function's own time per invocation (init excluded, as
/// CloudWatch's `Duration`).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct DurationSummary {
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Maximum {
    pub max: u64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct CloudWatchDuration {
    pub avg_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

/// `cloudwatch` in summary.json, keyed by AWS's metric names.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct CloudWatchSummary {
    pub invocations: u64,
    pub errors: u64,
    pub throttles: u64,
    pub dropped_event_count: u64,
    pub on_failure_destination_delivered_event_count: u64,
    pub polled_event_count: u64,
    pub invoked_event_count: u64,
    pub failed_invoke_event_count: u64,
    pub filtered_out_event_count: u64,
    pub committed_event_count: u64,
    pub concurrent_executions: Maximum,
    pub offset_lag: Maximum,
    pub max_offset_lag: Maximum,
    pub duration: CloudWatchDuration,
    /// Provisioned mode: the most pollers at once (0 otherwise).
    pub provisioned_pollers: Maximum,
    /// Provisioned mode: Event Poller Units billed, averaged over the run (0 otherwise).
    pub event_poller_unit: Average,
    /// Provisioned concurrency only (monitoring-concurrency): invocations on provisioned
    /// environments, spill-overs onto on-demand ones, the most provisioned environments busy
    /// at once, and that over the allocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned_concurrency_invocations: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned_concurrency_spillover_invocations: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned_concurrent_executions: Option<Maximum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned_concurrency_utilization: Option<MaximumRatio>,
}

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct MaximumRatio {
    pub max: f64,
}

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Average {
    pub avg: f64,
}

/// `cloudwatch.csv`: one row per period, `timestamp` then `<Metric>_<Statistic>` columns.
pub fn write_cloudwatch_csv(cw: &CloudWatch, out: &mut impl std::io::Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec![
        "timestamp",
        "OffsetLag_Maximum",
        "Duration_Average",
        "Duration_p99",
        "Invocations_Sum",
        "Errors_Sum",
        "Throttles_Sum",
        "ConcurrentExecutions_Maximum",
        "DroppedEventCount_Sum",
        "OnFailureDestinationDeliveredEventCount_Sum",
        "PolledEventCount_Sum",
        "InvokedEventCount_Sum",
        "FailedInvokeEventCount_Sum",
        "CommittedEventCount_Sum",
    ];
    if cw.filtering {
        header.push("FilteredOutEventCount_Sum");
    }
    if cw.provisioned > 0 {
        header.extend([
            "ProvisionedConcurrencyInvocations_Sum",
            "ProvisionedConcurrencySpilloverInvocations_Sum",
            "ProvisionedConcurrentExecutions_Maximum",
            "ProvisionedConcurrencyUtilization_Maximum",
        ]);
    }
    w.write_record(&header)?;
    let cell = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
    for (i, p) in cw.periods.iter().enumerate() {
        let start_ns = i as u64 * cw.period_ns;
        let mut row = vec![
            crate::model::destination::iso_time(start_ns as i64),
            p.offset_lag_max.map_or(String::new(), |v| v.to_string()),
            cell(p.duration_average_ms()),
            cell(p.duration_quantile_ms(0.99)),
            p.invocations.to_string(),
            p.errors.to_string(),
            p.throttles.to_string(),
            p.concurrency_max.to_string(),
            p.dropped_events.to_string(),
            p.destination_events.to_string(),
            p.polled_events.to_string(),
            p.invoked_events.to_string(),
            p.failed_invoke_events.to_string(),
            p.committed_events.to_string(),
        ];
        if cw.filtering {
            row.push(p.filtered_out_events.to_string());
        }
        if cw.provisioned > 0 {
            row.extend([
                p.provisioned_invocations.to_string(),
                p.spillover_invocations.to_string(),
                p.provisioned_concurrency_max.to_string(),
                format!("{:.3}", cw.utilization(p.provisioned_concurrency_max)),
            ]);
        }
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}
