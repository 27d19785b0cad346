//! Which limit binds in each sample interval, the run's time per limit, how long the remaining
//! lag takes to drain, and the one-line verdict a planner reads first.

use super::Row;
use serde::Serialize;

/// The limit that binds in an interval (timeseries.csv's `bottleneck`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bottleneck {
    /// Keeping up: the lag did not grow beyond what batching holds.
    #[default]
    None,
    /// Every partition with lag already has a batch outstanding.
    Partitions,
    /// The poller count (a poller at its one invocation; in the factor model, the factor).
    Pollers,
    /// A poller's fetch throughput (5 MB/s).
    PollerThroughput,
    /// A poller's invocations at once (5 in provisioned mode).
    PollerInvocations,
    /// Reserved or account concurrency: invokes were throttled.
    Concurrency,
    /// The burst limit on new environments: invokes were throttled.
    Burst,
    /// The payload limit keeps batches small while lag grows.
    Payload,
    /// A failing record blocks its partition.
    Stall,
    /// A consumer-group rebalance stopped new batches.
    Rebalance,
}

impl Bottleneck {
    pub fn name(self) -> &'static str {
        match self {
            Bottleneck::None => "none",
            Bottleneck::Partitions => "partitions",
            Bottleneck::Pollers => "pollers",
            Bottleneck::PollerThroughput => "poller_throughput",
            Bottleneck::PollerInvocations => "poller_invocations",
            Bottleneck::Concurrency => "concurrency",
            Bottleneck::Burst => "burst",
            Bottleneck::Payload => "payload",
            Bottleneck::Stall => "stall",
            Bottleneck::Rebalance => "rebalance",
        }
    }
}

/// What the simulation saw in an interval and at its end, to decide the bottleneck.
#[derive(Clone, Copy, Debug, Default)]
pub struct Evidence {
    pub stalled: bool,
    pub rebalancing: bool,
    pub concurrency_throttles: u64,
    pub burst_throttles: u64,
    /// The lag grew over the interval beyond what one batching window holds.
    pub behind: bool,
    pub flushed_by_payload: u64,
    /// A partition with lag but no batch waits for its poller's throughput limit, for its
    /// poller's invocation slots (`per_poller` of them), or for the gate of the factor model.
    pub waiting_for_throughput: bool,
    pub waiting_for_slots: Option<u32>,
    pub waiting_for_gate: bool,
    /// Every partition with lag has a batch outstanding.
    pub all_lagging_busy: bool,
}

impl Evidence {
    /// The binding limit, most specific first: events that stop progress outright, then what
    /// holds a lagging partition back.
    pub fn bottleneck(&self) -> Bottleneck {
        if self.stalled {
            Bottleneck::Stall
        } else if self.rebalancing {
            Bottleneck::Rebalance
        } else if self.concurrency_throttles > 0 {
            Bottleneck::Concurrency
        } else if self.burst_throttles > 0 {
            Bottleneck::Burst
        } else if !self.behind {
            Bottleneck::None
        } else if self.flushed_by_payload > 0 {
            Bottleneck::Payload
        } else if self.waiting_for_throughput {
            Bottleneck::PollerThroughput
        } else if let Some(per_poller) = self.waiting_for_slots {
            if per_poller > 1 { Bottleneck::PollerInvocations } else { Bottleneck::Pollers }
        } else if self.waiting_for_gate {
            Bottleneck::Pollers
        } else if self.all_lagging_busy {
            Bottleneck::Partitions
        } else {
            Bottleneck::None
        }
    }
}

/// `bottlenecks` in summary.json: seconds of the run (after the warm-up) each limit bound.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Bottlenecks {
    pub none: f64,
    pub partitions: f64,
    pub pollers: f64,
    pub poller_throughput: f64,
    pub poller_invocations: f64,
    pub concurrency: f64,
    pub burst: f64,
    pub payload: f64,
    pub stall: f64,
    pub rebalance: f64,
}

impl Bottlenecks {
    pub fn from_rows(rows: &[Row], interval_s: f64) -> Self {
        let mut b = Bottlenecks::default();
        for row in rows {
            *b.slot(row.bottleneck) += interval_s;
        }
        b
    }

    fn slot(&mut self, which: Bottleneck) -> &mut f64 {
        match which {
            Bottleneck::None => &mut self.none,
            Bottleneck::Partitions => &mut self.partitions,
            Bottleneck::Pollers => &mut self.pollers,
            Bottleneck::PollerThroughput => &mut self.poller_throughput,
            Bottleneck::PollerInvocations => &mut self.poller_invocations,
            Bottleneck::Concurrency => &mut self.concurrency,
            Bottleneck::Burst => &mut self.burst,
            Bottleneck::Payload => &mut self.payload,
            Bottleneck::Stall => &mut self.stall,
            Bottleneck::Rebalance => &mut self.rebalance,
        }
    }

    pub fn seconds(&self, which: Bottleneck) -> f64 {
        *self.clone().slot(which)
    }

    /// The limit that bound longest, other than `none`, with its seconds.
    pub fn binding(&self) -> Option<(Bottleneck, f64)> {
        use Bottleneck::*;
        let mut limits =
            [Partitions, Pollers, PollerThroughput, PollerInvocations, Concurrency, Burst, Payload, Stall, Rebalance]
                .map(|b| (b, self.seconds(b)));
        limits.sort_by(|a, b| b.1.total_cmp(&a.1));
        limits.into_iter().find(|&(_, s)| s > 0.0)
    }
}

/// Seconds until the final lag is consumed at the rate it fell over the last six samples: 0 with
/// no lag or while keeping up (the lag is then what batching holds), `None` when it is neither
/// falling nor kept in check.
pub fn drain_seconds(rows: &[Row]) -> Option<f64> {
    let last = rows.last()?;
    if last.lag_records == 0 {
        return Some(0.0);
    }
    // Keeping up: the lag is what batching holds, however it wobbles from sample to sample (a
    // small fall is not a drain to time).
    let recent = &rows[rows.len().saturating_sub(6)..];
    if recent.iter().all(|r| r.bottleneck == Bottleneck::None) {
        return Some(0.0);
    }
    let first = &rows[rows.len().saturating_sub(7)];
    let span = last.time_s - first.time_s;
    let falling = first.lag_records as f64 - last.lag_records as f64;
    (span > 0.0 && falling > 0.0).then(|| last.lag_records as f64 / (falling / span))
}

/// The first line of a run's report: whether it kept up, the binding limit, the drain time.
pub fn verdict(b: &Bottlenecks, drain: Option<f64>, steady_seconds: f64) -> String {
    let drain_text = match drain {
        Some(0.0) => "no lag left".to_string(),
        Some(s) => format!("the remaining lag drains in about {s:.0} s"),
        None => "the remaining lag is not draining".to_string(),
    };
    match b.binding() {
        Some((limit, seconds)) => format!(
            "fell behind {:.0}% of the time; binding limit: {} ({seconds:.0} s); {drain_text}",
            100.0 * (steady_seconds - b.none) / steady_seconds.max(1e-9),
            limit.name()
        ),
        None => format!("kept up; {drain_text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(time_s: f64, lag_records: u64, bottleneck: Bottleneck) -> Row {
        Row::quiet(time_s, lag_records, bottleneck)
    }

    #[test]
    fn a_wobbling_lag_that_keeps_up_has_nothing_to_drain() {
        // What batching holds goes up and down; ending 10 records lower is not a drain of 1,740 s.
        let lags = [300, 290, 310, 280, 320, 300, 290];
        let rows: Vec<Row> = lags.iter().enumerate().map(|(i, &l)| row(10.0 * i as f64, l, Bottleneck::None)).collect();
        assert_eq!(drain_seconds(&rows), Some(0.0));
    }

    #[test]
    fn a_falling_lag_drains_at_its_rate_and_a_rising_one_does_not() {
        // Behind (concurrency binds) and falling 700 -> 600 over 60 s: 600 / (100 / 60) = 360 s.
        let falling: Vec<Row> =
            (0..7).map(|i| row(10.0 * i as f64, 700 - 100 * i / 6, Bottleneck::Concurrency)).collect();
        assert_eq!(falling.last().unwrap().lag_records, 600);
        assert!((drain_seconds(&falling).unwrap() - 360.0).abs() < 1e-9);
        let rising: Vec<Row> = (0..7).map(|i| row(10.0 * i as f64, 600 + 10 * i, Bottleneck::Concurrency)).collect();
        assert_eq!(drain_seconds(&rising), None);
    }
}
