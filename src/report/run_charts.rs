//! The charts of one run, built from its time series. Each is a [`LineChart`] spec: adding a
//! series is adding one entry to a list.

use super::axis::{Axis, Bounds};
use super::canvas::palette;
use super::charts::{LineChart, Series};
use crate::metrics::Row;
use crate::scenario::Scenario;
use plotters::style::RGBColor;

/// Latency is drawn on a log axis when its largest value is at least this many times its
/// smallest: below that a linear axis reads more naturally, above it a backlog's minutes-long
/// p99 would flatten the sub-second p50 into the axis.
pub const LATENCY_LOG_RATIO: f64 = 20.0;

const MAX_TIME_TICKS: usize = 11;

/// The file stems of the run charts, in report order.
pub const RUN_CHARTS: [&str; 5] = ["lag", "throughput", "concurrency", "latency", "invocations"];

/// The unit of the time axis, chosen by run length so ticks land on round values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeUnit {
    pub seconds: f64,
    pub label: &'static str,
}

impl TimeUnit {
    /// Seconds up to 5 minutes, minutes up to 5 hours, hours beyond.
    pub fn for_run(duration_s: f64) -> Self {
        match duration_s {
            d if d <= 300.0 => TimeUnit { seconds: 1.0, label: "s" },
            d if d <= 5.0 * 3600.0 => TimeUnit { seconds: 60.0, label: "min" },
            _ => TimeUnit { seconds: 3600.0, label: "h" },
        }
    }

    /// A clock-friendly tick spacing giving at most `MAX_TIME_TICKS` ticks over `span` units.
    pub fn step(&self, span: f64) -> f64 {
        let steps: &[f64] = if self.seconds < 3600.0 {
            &[1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0]
        } else {
            &[1.0, 2.0, 3.0, 4.0, 6.0, 12.0, 24.0, 48.0]
        };
        let wanted = span / (MAX_TIME_TICKS - 1) as f64;
        // Past the list (a run of weeks), whole multiples of the largest step.
        let largest = steps[steps.len() - 1];
        steps.iter().copied().find(|&s| s >= wanted).unwrap_or_else(|| (wanted / largest).ceil() * largest)
    }
}

/// The run charts as (file stem, chart), in the order of [`RUN_CHARTS`].
pub fn run_charts(rows: &[Row], scenario: &Scenario) -> Vec<(&'static str, LineChart)> {
    let t = Timeline::new(rows, scenario);
    let charts = [lag(&t), throughput(&t), concurrency(&t), latency(&t), invocations(&t)];
    RUN_CHARTS.into_iter().zip(charts).collect()
}

/// What every run chart shares: the rows and the time axis.
struct Timeline<'a> {
    rows: &'a [Row],
    unit: TimeUnit,
    /// The run's length in `unit`s.
    span: f64,
    sample_interval_s: f64,
}

impl<'a> Timeline<'a> {
    fn new(rows: &'a [Row], scenario: &Scenario) -> Self {
        let duration_s = scenario.duration.secs_f64();
        let unit = TimeUnit::for_run(duration_s);
        let sample_interval_s = scenario.sample_interval.secs_f64();
        Timeline { rows, unit, span: duration_s / unit.seconds, sample_interval_s }
    }

    /// The whole run, even where the series stop early.
    fn x(&self) -> Axis {
        let axis = Axis::linear(format!("time ({})", self.unit.label), Bounds::Fixed(0.0, self.span));
        axis.with_tick_step(self.unit.step(self.span))
    }

    fn time(&self, row: &Row) -> f64 {
        row.time_s / self.unit.seconds
    }

    fn series(&self, name: &str, colour: RGBColor, value: impl Fn(&Row) -> f64) -> Series {
        Series::new(name, colour, self.rows.iter().map(|r| (self.time(r), value(r))))
    }

    /// A chart of counts or rates over time, from a zero baseline.
    fn chart(&self, title: &str, y_label: &str, series: Vec<Series>) -> LineChart {
        LineChart::new(title, self.x(), Axis::linear(y_label, Bounds::FromZero), series)
    }
}

fn lag(t: &Timeline) -> LineChart {
    let series = vec![
        t.series("total, all partitions", palette::BLUE, |r| r.lag_records as f64),
        // Dashed: with one partition it coincides with the total.
        t.series("worst partition", palette::VERMILION, |r| r.max_partition_lag_records as f64).dashed(),
    ];
    t.chart("Consumer lag", "lag (records)", series)
}

fn throughput(t: &Timeline) -> LineChart {
    let rates = per_second(t.rows);
    let rate = |name, colour, pick: fn(&(f64, f64)) -> f64| {
        Series::new(name, colour, t.rows.iter().zip(&rates).map(|(r, q)| (t.time(r), pick(q))))
    };
    let series = vec![rate("produced", palette::GREY, |q| q.0), rate("succeeded", palette::GREEN, |q| q.1)];
    t.chart("Throughput", "throughput (records/s)", series)
}

fn concurrency(t: &Timeline) -> LineChart {
    let mut series = vec![t.series("concurrent executions", palette::BLUE, |r| f64::from(r.concurrency))];
    // The factor model has no pollers: no line of zeros.
    if t.rows.iter().any(|r| r.pollers > 0) {
        series.push(t.series("event pollers", palette::ORANGE, |r| f64::from(r.pollers)).dashed());
    }
    t.chart("Concurrency and pollers", "executions / pollers", series)
}

fn invocations(t: &Timeline) -> LineChart {
    // Totals in the legend say why a line hugging zero is hard to see.
    let counted = |name, colour, count: fn(&Row) -> u64| {
        let total: u64 = t.rows.iter().map(count).sum();
        t.series(&format!("{name} ({total} in the run)"), colour, |r| count(r) as f64)
    };
    let series = vec![
        counted("invocations", palette::BLUE, |r| r.invocations),
        counted("errors", palette::VERMILION, |r| r.errors),
        counted("throttles", palette::ORANGE, |r| r.throttles),
    ];
    let y_label = format!("count per {} interval", format_seconds(t.sample_interval_s));
    t.chart("Invocations", &y_label, series)
}

fn latency(t: &Timeline) -> LineChart {
    let values = t.rows.iter().flat_map(|r| [r.latency_p50_ms, r.latency_p99_ms]).flatten().filter(|&v| v > 0.0);
    let (lo, hi) = values.fold((f64::INFINITY, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let y = if hi >= lo * LATENCY_LOG_RATIO {
        Axis::log("latency (ms, log scale)")
    } else {
        Axis::linear("latency (ms)", Bounds::FromZero)
    };
    let series = |name: &str, colour, value: fn(&Row) -> Option<f64>| {
        Series::with_gaps(name, colour, t.rows.iter().map(|r| (t.time(r), value(r))))
    };
    let series = vec![
        series("p50", palette::BLUE, |r| r.latency_p50_ms),
        series("p99", palette::VERMILION, |r| r.latency_p99_ms),
    ];
    LineChart::new("Latency, produced to committed", t.x(), y, series)
}

/// (produced, succeeded) per second for each row: its counts divided by the length of its
/// interval (the last one may be shorter than `sample_interval`).
fn per_second(rows: &[Row]) -> Vec<(f64, f64)> {
    let starts = std::iter::once(0.0).chain(rows.iter().map(|r| r.time_s));
    rows.iter()
        .zip(starts)
        .map(|(r, start_s)| {
            let length_s = r.time_s - start_s;
            if length_s <= 0.0 {
                return (0.0, 0.0);
            }
            (r.produced_records as f64 / length_s, r.succeeded_records as f64 / length_s)
        })
        .collect()
}

/// `10 s`, `1.5 s`, `500 ms`, `2 min`: for axis labels.
fn format_seconds(seconds: f64) -> String {
    match seconds {
        s if s < 1.0 => format!("{} ms", s * 1000.0),
        s if s >= 60.0 && s % 60.0 == 0.0 => format!("{} min", s / 60.0),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::axis::Scale;

    fn row(time_s: f64, produced: u64, p50: Option<f64>, p99: Option<f64>) -> Row {
        Row {
            time_s,
            produced_records: produced,
            succeeded_records: produced / 2,
            lag_records: 0,
            max_partition_lag_records: 0,
            oldest_record_age_s: 0.0,
            concurrency: 1,
            invocations: 1,
            errors: 0,
            throttles: 0,
            cold_starts: 0,
            pollers: 0,
            latency_p50_ms: p50,
            latency_p99_ms: p99,
            bottleneck: Default::default(),
        }
    }

    #[test]
    fn rates_divide_by_each_interval_including_a_short_last_one() {
        let rows = [row(10.0, 100, None, None), row(20.0, 200, None, None), row(25.0, 100, None, None)];
        assert_eq!(per_second(&rows), vec![(10.0, 5.0), (20.0, 10.0), (20.0, 10.0)]);
    }

    #[test]
    fn time_unit_follows_run_length() {
        assert_eq!(TimeUnit::for_run(120.0).label, "s");
        assert_eq!(TimeUnit::for_run(3600.0).label, "min");
        assert_eq!(TimeUnit::for_run(86_400.0).label, "h");
        assert_eq!(TimeUnit::for_run(240.0).step(240.0), 30.0);
        assert_eq!(TimeUnit::for_run(3600.0).step(60.0), 10.0);
        assert_eq!(TimeUnit::for_run(1800.0).step(30.0), 5.0);
        assert_eq!(TimeUnit::for_run(86_400.0).step(24.0), 3.0);
        assert_eq!(TimeUnit::for_run(30.0 * 86_400.0).step(720.0), 96.0);
    }

    fn scenario(duration: &str) -> Scenario {
        let json = format!(r#"{{"name":"t","duration":"{duration}","topic":{{"partitions":1}}}}"#);
        crate::parse_scenario("t.json".as_ref(), &json, &[]).unwrap().scenario
    }

    #[test]
    fn latency_switches_to_log_over_a_wide_range() {
        let s = scenario("1m");
        let narrow = [row(10.0, 1, Some(500.0), Some(900.0)), row(20.0, 1, None, None)];
        let wide = [row(10.0, 1, Some(500.0), Some(90_000.0))];
        assert_eq!(latency(&Timeline::new(&narrow, &s)).y.scale, Scale::Linear);
        assert_eq!(latency(&Timeline::new(&wide, &s)).y.scale, Scale::Log);
        assert_eq!(latency(&Timeline::new(&[], &s)).y.scale, Scale::Linear);
    }

    #[test]
    fn time_axis_spans_the_run_in_its_unit() {
        let rows = [row(60.0, 1, None, None)];
        let charts = run_charts(&rows, &scenario("2h"));
        let x = &charts[0].1.x;
        assert_eq!((x.label.as_str(), x.bounds), ("time (min)", Bounds::Fixed(0.0, 120.0)));
        assert_eq!(charts[0].1.series[0].points, vec![(1.0, Some(0.0))]);
        assert_eq!(charts[4].1.series[0].name, "invocations (1 in the run)");
    }

    #[test]
    fn interval_labels() {
        assert_eq!(format_seconds(10.0), "10 s");
        assert_eq!(format_seconds(0.5), "500 ms");
        assert_eq!(format_seconds(120.0), "2 min");
    }
}
