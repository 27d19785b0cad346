//! Sampling the time series and assembling the summary at the end of the run.

use super::{Observer, Report, Simulation};
use crate::config::Scaling;
use crate::engine::{NS_PER_SEC, SimTime};
use crate::metrics::*;
use crate::model::esm::Waiting;
use crate::model::pricing::{SnapStartUsage, Usage, cost};

impl<O: Observer> Simulation<O> {
    /// Takes every sample due at or before `t`, each before the events of its instant.
    pub(super) fn sample_until(&mut self, t: SimTime) {
        while self.next_sample_ns <= t && self.metrics.rows.len() < self.metrics.produced_per_interval.len() {
            let at = self.next_sample_ns;
            self.now = at;
            self.take_sample(at);
            self.next_sample_ns = (at + self.config.clock.sample_ns).min(self.config.clock.end_ns);
        }
    }

    fn take_sample(&mut self, at: SimTime) {
        // Not a pass over every partition while nothing can have expired (most runs).
        if self.retention_may_have_expired() {
            for p in 0..self.source.logs.len() as u32 {
                if !self.esm.lanes[p as usize].busy {
                    self.expire(p);
                }
            }
        }
        let (lag, max_lag, oldest_ns) = self.measure_lag(at);
        self.metrics.lag_max_records = self.metrics.lag_max_records.max(lag);
        self.metrics.age_max_ns = self.metrics.age_max_ns.max(oldest_ns);
        // The sample closes the interval ending at `at`: it belongs to the period before it.
        let (busy, provisioned_busy) = {
            let envs = self.function.envs.borrow();
            (envs.busy(), envs.provisioned_busy())
        };
        self.metrics.cloudwatch.sample(at.saturating_sub(1), lag, busy, provisioned_busy);
        let interval = std::mem::take(&mut self.metrics.interval);
        let latency = self.metrics.close_latency_interval();
        let index = self.metrics.rows.len();
        let produced = self.metrics.produced_per_interval[index];
        let bottleneck = self.evidence(at, &interval, lag, produced).bottleneck();
        self.metrics.rows.push(Row {
            time_s: (at - self.config.clock.origin_ns) as f64 / 1e9,
            produced_records: self.metrics.produced_per_interval[index],
            succeeded_records: interval.succeeded,
            lag_records: lag,
            max_partition_lag_records: max_lag,
            oldest_record_age_s: oldest_ns as f64 / 1e9,
            concurrency: busy,
            invocations: interval.invocations,
            errors: interval.errors,
            throttles: interval.throttles,
            cold_starts: interval.cold_starts,
            pollers: self.poller_count(),
            latency_p50_ms: latency.map(|l| l.0),
            latency_p99_ms: latency.map(|l| l.1),
            bottleneck,
            cost_usd: 0.0,
        });
        let poller_ns = self.esm.autoscaler.as_ref().map_or(0, |scaler| scaler.poller_ns_until(at));
        let sampled = &mut self.metrics.usage_sampled;
        let used = IntervalUsage {
            billed_mb_ms: self.metrics.billed_mb_ms - sampled.billed_mb_ms,
            poller_ns: poller_ns - sampled.poller_ns,
        };
        *sampled = IntervalUsage { billed_mb_ms: self.metrics.billed_mb_ms, poller_ns };
        self.metrics.row_usage.push(used);
    }

    /// The records that have arrived by `at` and are not yet committed: in all, in the
    /// partition that has most, and the age of the oldest. Only the partitions `Occupancy`
    /// says may hold some are visited.
    fn measure_lag(&mut self, at: SimTime) -> (u64, u64, SimTime) {
        let (mut lag, mut max_lag, mut oldest_ns) = (0u64, 0u64, 0u64);
        // Deferred arrivals are counted by sample interval; this sample closes interval `rows`.
        let sample = self.metrics.rows.len();
        let source = &mut self.source;
        source.occupancy.due(sample);
        let mut leaving = std::mem::take(&mut source.scratch.leaving);
        let (logs, deferred) = (&source.logs, &mut source.deferred);
        // What partition `p` adds to the lag, and whether it holds nothing that has arrived.
        let mut tally = |p: usize| {
            let log = &logs[p];
            let deferred = deferred.get_mut(p);
            let deferring = deferred.as_ref().is_some_and(|d| d.is_active());
            let deferred_arrived = deferred.map_or(0, |d| d.arrived_before_interval(sample + 1));
            let arrived = log.arrived_before(at) as u64 + deferred_arrived;
            lag += arrived;
            max_lag = max_lag.max(arrived);
            if let Some(front) = log.front().filter(|_| arrived > 0) {
                oldest_ns = oldest_ns.max(at - front.arrival_ns);
            }
            arrived == 0 && !deferring
        };
        if source.occupancy.visits_all() {
            (0..logs.len()).for_each(|p| {
                tally(p);
            });
        } else {
            for p in source.occupancy.visited() {
                if tally(p) {
                    leaving.push((p, logs[p].front_arrival()));
                }
            }
        }
        for (p, front_ns) in leaving.drain(..) {
            match front_ns {
                Some(front_ns) => source.occupancy.arrives_later(p, front_ns, sample + 1),
                None => source.occupancy.emptied(p),
            }
        }
        source.scratch.leaving = leaving;
        #[cfg(debug_assertions)]
        for (p, log) in source.logs.iter().enumerate() {
            let deferring = source.deferred.get(p).is_some_and(|d| d.is_active() || d.records() > 0);
            debug_assert!(
                source.occupancy.is_visited(p) || (log.arrived_before(at) == 0 && !deferring),
                "partition {p} has arrived records a sample does not visit"
            );
        }
        (lag, max_lag, oldest_ns)
    }

    /// What held the ESM back in the interval ending at `at`, for its bottleneck.
    fn evidence(&self, at: SimTime, interval: &IntervalCounts, lag: u64, produced: u64) -> Evidence {
        let previous_lag = self.metrics.rows.last().map_or(0, |r| r.lag_records);
        // Batching alone holds about a window's worth of records (plus a second of slack).
        let window_share = (self.config.esm.rules.window_ns + NS_PER_SEC) as f64 / self.config.clock.sample_ns as f64;
        let behind = lag > previous_lag + produced / 100 && lag as f64 > produced as f64 * window_share;
        let mut e = Evidence {
            stalled: self.metrics.stalls.any_open(),
            rebalancing: interval.rebalanced || self.esm.pause.active,
            concurrency_throttles: interval.throttles - interval.burst_throttles,
            burst_throttles: interval.burst_throttles,
            behind,
            flushed_by_payload: interval.flushed_by_payload,
            ..Evidence::default()
        };
        if !behind {
            return e;
        }
        let (mut lagging, mut idle) = (0u32, 0u32);
        // A partition with records that have arrived is visited.
        for p in self.source.occupancy.visited() {
            if self.source.logs[p].arrived_before(at) == 0 {
                continue;
            }
            lagging += 1;
            let lane = &self.esm.lanes[p];
            if lane.busy {
                continue;
            }
            idle += 1;
            let f = &self.esm.fetchers[lane.owner as usize];
            if f.fetch_ready_ns > at {
                e.waiting_for_throughput = true;
            } else if !f.has_room() {
                e.waiting_for_slots = Some(f.max_in_flight);
            } else if f.waiting == Waiting::Gate {
                e.waiting_for_gate = true;
            }
        }
        e.all_lagging_busy = lagging > 0 && idle == 0;
        e
    }

    /// What provisioned concurrency and SnapStart used, for the bill.
    fn function_usage(&self) -> Usage {
        let f = &self.config.function;
        let memory_gb = f.memory_mb as f64 / 1024.0;
        let snapstart = f.snapstart.as_ref().map(|s| {
            let charged = if s.charged { 1.0 } else { 0.0 };
            SnapStartUsage {
                cached_gb: charged * memory_gb,
                restored_gb: charged * memory_gb * self.metrics.restores as f64,
            }
        });
        // A function shared by several mappings is allocated (and its snapshot cached) once.
        let fixed = if self.function.charges_fixed { 1.0 } else { 0.0 };
        let snapstart = snapstart.map(|s| SnapStartUsage { cached_gb: fixed * s.cached_gb, ..s });
        Usage {
            provisioned_gb: fixed * f.provisioned as f64 * memory_gb,
            provisioned_billed_mb_ms: self.metrics.provisioned_billed_mb_ms,
            snapstart,
            ..Usage::default()
        }
    }

    /// The summary and time series, once the clock has reached the end. `epu_hours`, when
    /// given, is this mapping's share of its poller group's bill, in place of its own.
    pub(super) fn finish(&mut self, group_epu_hours: Option<f64>) -> Report {
        let (origin, end) = (self.config.clock.origin_ns, self.config.clock.end_ns);
        self.metrics.stalls.close_all(end);
        let pricing = &self.config.pricing;
        let pollers = match self.esm.autoscaler.as_mut() {
            Some(scaler) => {
                scaler.close_epu_window(end, pricing);
                PollerSummary { peak: scaler.peak, mean: scaler.mean(origin, end) }
            }
            None => PollerSummary { peak: 0, mean: 0.0 },
        };
        let epu_hours = match &self.esm.autoscaler {
            Some(scaler) if matches!(self.config.esm.scaling, Scaling::Provisioned(_)) => {
                group_epu_hours.unwrap_or(scaler.epu_ns / 3.6e12)
            }
            _ => 0.0,
        };
        let envs = self.function.envs.borrow();
        let m = &self.metrics;
        let pending: u64 = (0..self.source.logs.len() as u32).map(|p| self.pending_in(p)).sum();
        let seconds = (end - origin) as f64 / 1e9;
        let warmup_ns = self.config.clock.warmup_end_ns - origin;
        let steady_seconds = (end - self.config.clock.warmup_end_ns) as f64 / 1e9;
        let steady_rows = m.rows.get((warmup_ns / self.config.clock.sample_ns) as usize..).unwrap_or(&[]);
        let usage = Usage {
            run_seconds: seconds,
            invocations: m.invocations,
            billed_mb_ms: m.billed_mb_ms,
            epu_hours,
            succeeded_records: m.succeeded,
            ..self.function_usage()
        };
        let mut summary = Summary {
            esmsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: self.config.name.clone(),
            seed: self.seed,
            config_hash: self.config.config_hash.clone(),
            simulated_seconds: seconds,
            warmup_seconds: warmup_ns as f64 / 1e9,
            records: m.record_summary(pending),
            invocations: m.invocation_summary(),
            batches: m.batch_summary(),
            latency_ms: m.latency_summary(),
            lag: m.lag_summary(),
            concurrency: ConcurrencySummary { peak: envs.peak, mean: envs.mean_concurrency(end) },
            pollers,
            cost_usd: cost(&self.config.pricing, self.config.function.architecture, &usage),
            stalls: m.stall_summary(),
            throughput: ThroughputSummary { mean_records_per_second: m.succeeded_steady() as f64 / steady_seconds },
            poison_pills: m.poison_pills.summary(origin),
            duration_ms: m.cloudwatch.duration_summary(),
            cloudwatch: m.cloudwatch.summary(
                envs.peak,
                envs.provisioned_peak,
                m.lag_max_records,
                steady_rows.iter().map(|r| r.max_partition_lag_records).max().unwrap_or(0),
            ),
            bottlenecks: Bottlenecks::from_rows(steady_rows, self.config.clock.sample_ns as f64 / 1e9),
            drain_seconds: drain_seconds(&m.rows),
            schema_registry: m.schema_registry_summary(),
        };
        if matches!(self.config.esm.scaling, Scaling::Provisioned(_)) {
            summary.cloudwatch.provisioned_pollers.max = summary.pollers.peak as u64;
            summary.cloudwatch.event_poller_unit.avg = epu_hours / (seconds / 3600.0);
        }
        drop(envs);
        let mut rows = std::mem::take(&mut self.metrics.rows);
        share_cost(&mut rows, &self.metrics.row_usage, &summary.cost_usd);
        Report {
            summary,
            timeseries: rows,
            destination: std::mem::take(&mut self.esm.destination_lines),
            // Taken, not cloned: a period's histograms are tens of kilobytes, and copying an
            // hour's took 4 % of bench-steady's time.
            cloudwatch: std::mem::take(&mut self.metrics.cloudwatch),
        }
    }
}
