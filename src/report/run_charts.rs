//! The charts of one run, built from its time series. Each is a [`LineChart`] spec: adding a
//! series is adding one entry to a list.

use super::axis::{Axis, Bounds};
use super::canvas::palette;
use super::charts::{Band, LineChart, Series};
use crate::config::{Config, Fault, Scaling};
use crate::metrics::{Bottleneck, Row};
use plotters::style::RGBColor;

/// Latency is drawn on a log axis when its largest value is at least this many times its
/// smallest: below that a linear axis reads more naturally, above it a backlog's minutes-long
/// p99 would flatten the sub-second p50 into the axis.
pub const LATENCY_LOG_RATIO: f64 = 20.0;

const MAX_TIME_TICKS: usize = 11;

/// The file stems of the run charts, in report order.
pub const RUN_CHARTS: [&str; 6] = ["lag", "throughput", "concurrency", "latency", "invocations", "cost"];

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

/// The run charts as (file stem, chart), in the order of [`RUN_CHARTS`]. Every chart shades
/// the warm-up and the fault windows; the lag chart also colours each interval's binding limit.
pub fn run_charts(rows: &[Row], config: &Config) -> Vec<(&'static str, LineChart)> {
    let t = Timeline::new(rows, config);
    let charts = [lag(&t), throughput(&t), concurrency(&t), latency(&t), invocations(&t), cost(&t)];
    let shaded = charts.into_iter().map(|mut chart| {
        // The windows first: a strip is drawn over them.
        let own = std::mem::take(&mut chart.bands);
        chart.with_bands(t.windows.iter().cloned().chain(own).collect())
    });
    RUN_CHARTS.into_iter().zip(shaded).collect()
}

/// What every run chart shares: the rows, the time axis and the shaded windows.
struct Timeline<'a> {
    rows: &'a [Row],
    config: &'a Config,
    unit: TimeUnit,
    /// The run's length in `unit`s.
    span: f64,
    sample_interval_s: f64,
    /// The warm-up and the fault windows, in `unit`s.
    windows: Vec<Band>,
}

impl<'a> Timeline<'a> {
    fn new(rows: &'a [Row], config: &'a Config) -> Self {
        let clock = &config.clock;
        let duration_s = (clock.end_ns - clock.origin_ns) as f64 / 1e9;
        let unit = TimeUnit::for_run(duration_s);
        let sample_interval_s = clock.sample_ns as f64 / 1e9;
        let in_unit = |ns: u64| ns as f64 / 1e9 / unit.seconds;
        let mut windows = Vec::new();
        if clock.warmup_end_ns > clock.origin_ns {
            let until = in_unit(clock.warmup_end_ns - clock.origin_ns);
            windows.push(shade(0.0, until, "warm-up (left out of statistics)", palette::LIGHT_GREY));
        }
        for fault in &config.faults {
            let w = fault.window();
            windows.push(shade(in_unit(w.from_ns), in_unit(w.until_ns), fault_label(fault), fault_colour(fault)));
        }
        Timeline { rows, config, unit, span: duration_s / unit.seconds, sample_interval_s, windows }
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

    /// A value that holds until it changes (a poller count): each change is a visible step, so
    /// every scaling decision shows.
    fn stepped(&self, name: &str, colour: RGBColor, value: impl Fn(&Row) -> f64) -> Series {
        let mut points = Vec::with_capacity(self.rows.len() * 2);
        let mut previous: Option<f64> = None;
        for row in self.rows {
            let v = value(row);
            if let Some(p) = previous.filter(|&p| p != v) {
                points.push((self.time(row), p));
            }
            points.push((self.time(row), v));
            previous = Some(v);
        }
        Series::new(name, colour, points)
    }

    /// A chart of counts or rates over time, from a zero baseline.
    fn chart(&self, title: &str, y_label: &str, series: Vec<Series>) -> LineChart {
        LineChart::new(title, self.x(), Axis::linear(y_label, Bounds::FromZero), series)
    }
}

fn shade(from: f64, until: f64, label: &str, colour: RGBColor) -> Band {
    Band { from, until, label: label.to_string(), colour, strip: false }
}

fn fault_label(fault: &Fault) -> &'static str {
    match fault {
        Fault::FunctionOutage(_) => "function outage",
        Fault::ErrorBurst { .. } => "error burst",
        Fault::Slowdown { .. } => "slowdown",
        Fault::Rebalance(_) => "rebalance",
    }
}

fn fault_colour(fault: &Fault) -> RGBColor {
    match fault {
        Fault::FunctionOutage(_) => palette::VERMILION,
        Fault::ErrorBurst { .. } => palette::ORANGE,
        Fault::Slowdown { .. } => palette::PURPLE,
        Fault::Rebalance(_) => palette::SKY,
    }
}

/// The colour of a binding limit in the lag chart's strip; `None` (keeping up) is not drawn.
fn bottleneck_colour(b: Bottleneck) -> Option<RGBColor> {
    Some(match b {
        Bottleneck::None => return None,
        Bottleneck::Partitions => palette::BLUE,
        Bottleneck::Pollers => palette::ORANGE,
        Bottleneck::PollerThroughput => palette::YELLOW,
        Bottleneck::PollerInvocations => palette::SKY,
        Bottleneck::Concurrency => palette::VERMILION,
        Bottleneck::Burst => palette::PURPLE,
        Bottleneck::Payload => palette::GREEN,
        Bottleneck::Stall => palette::BLACK,
        Bottleneck::Rebalance => palette::LIGHT_GREY,
    })
}

/// One strip per run of intervals with the same binding limit.
fn bottleneck_strips(t: &Timeline) -> Vec<Band> {
    let mut strips: Vec<Band> = Vec::new();
    let mut start = 0.0;
    for row in t.rows {
        let end = t.time(row);
        let label = format!("limit: {}", row.bottleneck.name());
        match (strips.last_mut(), bottleneck_colour(row.bottleneck)) {
            (Some(last), Some(_)) if last.label == label && last.until == start => last.until = end,
            (_, Some(colour)) => strips.push(Band { from: start, until: end, label, colour, strip: true }),
            _ => {}
        }
        start = end;
    }
    strips
}

fn lag(t: &Timeline) -> LineChart {
    let series = vec![
        t.series("total, all partitions", palette::BLUE, |r| r.lag_records as f64),
        // Dashed: with one partition it coincides with the total.
        t.series("worst partition", palette::VERMILION, |r| r.max_partition_lag_records as f64).dashed(),
    ];
    t.chart("Consumer lag", "lag (records)", series).with_bands(bottleneck_strips(t))
}

/// A horizontal reference line across the whole run.
fn level(t: &Timeline, name: String, colour: RGBColor, value: u32) -> Series {
    Series::new(name, colour, [(0.0, f64::from(value)), (t.span, f64::from(value))]).dashed()
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
    let function = &t.config.function;
    let mut series = vec![t.series("concurrent executions", palette::BLUE, |r| f64::from(r.concurrency))];
    let (limit, name) = match function.reserved_concurrency {
        Some(reserved) => (reserved, "reserved concurrency"),
        None => (function.account_limit, "account concurrency limit"),
    };
    // The account limit (1,000 by default) would flatten a run that uses a few environments.
    let peak = t.rows.iter().map(|r| r.concurrency).max().unwrap_or(0);
    if function.reserved_concurrency.is_some() || peak * 2 >= limit {
        series.push(level(t, format!("{name} ({limit})"), palette::VERMILION, limit));
    }
    // The factor model has no pollers: no line of zeros.
    if let Scaling::OnDemand(plan) | Scaling::Provisioned(plan) = &t.config.esm.scaling {
        series.push(t.stepped("event pollers", palette::ORANGE, |r| f64::from(r.pollers)));
        series.push(level(t, format!("min pollers ({})", plan.min), palette::LIGHT_GREY, plan.min));
        if plan.max <= peak.max(plan.initial).saturating_mul(4) {
            series.push(level(t, format!("max pollers ({})", plan.max), palette::GREY, plan.max));
        }
    }
    t.chart("Concurrency and pollers", "executions / pollers", series)
}

fn cost(t: &Timeline) -> LineChart {
    let mut total = 0.0;
    let cumulative = t.rows.iter().map(|r| {
        total += r.cost_usd;
        (t.time(r), total)
    });
    let series = vec![Series::new("cost so far", palette::GREEN, std::iter::once((0.0, 0.0)).chain(cumulative))];
    t.chart("Cost over the run", "cost (USD)", series)
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
    let (unit, ms_per_unit) = latency_unit(hi);
    let y = if hi >= lo * LATENCY_LOG_RATIO {
        Axis::log(format!("latency ({unit}, log scale)"))
    } else {
        Axis::linear(format!("latency ({unit})"), Bounds::FromZero)
    };
    let series = |name: &str, colour, value: fn(&Row) -> Option<f64>| {
        Series::with_gaps(name, colour, t.rows.iter().map(|r| (t.time(r), value(r).map(|v| v / ms_per_unit))))
    };
    let series = vec![
        series("p50", palette::BLUE, |r| r.latency_p50_ms),
        series("p99", palette::VERMILION, |r| r.latency_p99_ms),
    ];
    LineChart::new("Latency, produced to committed", t.x(), y, series)
}

/// The unit a latency axis reads best in, from its largest value: ms below 2 s, s below 2 min,
/// min beyond (a backlog's p99 of 700,000 ms reads as 11.7 min).
fn latency_unit(largest_ms: f64) -> (&'static str, f64) {
    match largest_ms {
        ms if ms >= 120_000.0 => ("min", 60_000.0),
        ms if ms >= 2_000.0 => ("s", 1_000.0),
        _ => ("ms", 1.0),
    }
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

/// The side-by-side charts of a scenario of several mappings, in display order.
pub const MAPPING_CHARTS: [&str; 4] = ["mappings-lag", "mappings-throughput", "mappings-concurrency", "mappings-cost"];

/// Colours for mappings, cycled (the Okabe-Ito palette without its greys).
const MAPPING_COLOURS: [RGBColor; 6] =
    [palette::BLUE, palette::ORANGE, palette::GREEN, palette::VERMILION, palette::PURPLE, palette::SKY];

/// One line per mapping on each chart, and the total where a total means something (lag,
/// throughput, cost); `mappings` are `(name, rows)` on one clock.
pub fn mapping_charts(mappings: &[(&str, &[Row])], totals: &[Row], config: &Config) -> Vec<(&'static str, LineChart)> {
    // The clock and the warm-up are common; fault windows belong to one mapping each.
    let common = Config { faults: Vec::new(), ..config.clone() };
    let t = Timeline::new(totals, &common);
    let colour = |i: usize| MAPPING_COLOURS[i % MAPPING_COLOURS.len()];
    let each = |value: &dyn Fn(&Row) -> f64, with_total: bool| {
        let mut series: Vec<Series> = mappings
            .iter()
            .enumerate()
            .map(|(i, (name, rows))| Series::new(*name, colour(i), rows.iter().map(|r| (t.time(r), value(r)))))
            .collect();
        if with_total {
            series.push(t.series("total", palette::BLACK, value).dashed());
        }
        series
    };
    let per_second = |r: &Row| r.succeeded_records as f64 / t.sample_interval_s;
    let charts = [
        t.chart("Consumer lag by mapping", "lag (records)", each(&|r| r.lag_records as f64, true)),
        t.chart("Succeeded records by mapping", "throughput (records/s)", each(&per_second, true)),
        t.chart("Concurrency by mapping (its function's)", "environments busy", each(&|r| r.concurrency as f64, false)),
        t.chart("Cost by mapping, per sample interval", "USD per interval", each(&|r| r.cost_usd, true)),
    ];
    let shaded = charts.into_iter().map(|chart| chart.with_bands(t.windows.clone()));
    MAPPING_CHARTS.into_iter().zip(shaded).collect()
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
            cost_usd: 0.0,
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

    fn scenario(duration: &str) -> Config {
        let json = format!(r#"{{"name":"t","duration":"{duration}","topic":{{"partitions":1}}}}"#);
        crate::parse_scenario("t.json".as_ref(), &json, &[]).unwrap().config
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
        assert_eq!(charts[5].0, "cost");
    }

    #[test]
    fn latency_reads_in_the_unit_of_its_largest_value() {
        assert_eq!(latency_unit(1_999.0), ("ms", 1.0));
        assert_eq!(latency_unit(5_500.0), ("s", 1_000.0));
        assert_eq!(latency_unit(700_000.0), ("min", 60_000.0));
        let s = scenario("1m");
        let rows = [row(10.0, 1, Some(60_000.0), Some(720_000.0))];
        let chart = latency(&Timeline::new(&rows, &s));
        assert_eq!(chart.y.label, "latency (min)");
        // 720,000 ms is 12 minutes.
        assert_eq!(chart.series[1].points, vec![(10.0, Some(12.0))]);
    }

    fn parsed(json: &str) -> Config {
        crate::parse_scenario("t.json".as_ref(), json, &[]).unwrap().config
    }

    #[test]
    fn faults_and_warmup_are_shaded_on_every_chart() {
        let config = parsed(
            r#"{"name":"t","duration":"2m","warmup":"20s","topic":{"partitions":1},
                "faults":[{"kind":"function_outage","from":"30s","until":"50s"}]}"#,
        );
        for (stem, chart) in run_charts(&[row(10.0, 1, None, None)], &config) {
            let shaded: Vec<(f64, f64, &str)> =
                chart.bands.iter().filter(|b| !b.strip).map(|b| (b.from, b.until, b.label.as_str())).collect();
            assert_eq!(
                shaded,
                vec![(0.0, 20.0, "warm-up (left out of statistics)"), (30.0, 50.0, "function outage")],
                "{stem}"
            );
        }
    }

    #[test]
    fn bottleneck_strips_join_neighbouring_intervals_of_one_limit() {
        let config = scenario("1m");
        let mut rows: Vec<Row> = (1..=5).map(|i| row(f64::from(i) * 10.0, 1, None, None)).collect();
        for (r, b) in rows.iter_mut().zip([
            Bottleneck::None,
            Bottleneck::Concurrency,
            Bottleneck::Concurrency,
            Bottleneck::Stall,
            Bottleneck::None,
        ]) {
            r.bottleneck = b;
        }
        let strips: Vec<(f64, f64, String)> =
            bottleneck_strips(&Timeline::new(&rows, &config)).into_iter().map(|b| (b.from, b.until, b.label)).collect();
        assert_eq!(
            strips,
            vec![(10.0, 30.0, "limit: concurrency".to_string()), (30.0, 40.0, "limit: stall".to_string())]
        );
    }

    #[test]
    fn cost_is_cumulative_and_ends_at_the_total() {
        let config = scenario("1m");
        let mut rows: Vec<Row> = (1..=3).map(|i| row(f64::from(i) * 10.0, 1, None, None)).collect();
        for (r, c) in rows.iter_mut().zip([0.5, 0.25, 1.0]) {
            r.cost_usd = c;
        }
        let chart = cost(&Timeline::new(&rows, &config));
        let ys: Vec<Option<f64>> = chart.series[0].points.iter().map(|p| p.1).collect();
        assert_eq!(ys, vec![Some(0.0), Some(0.5), Some(0.75), Some(1.75)]);
    }

    #[test]
    fn pollers_step_at_each_scaling_decision_and_the_factor_model_has_none() {
        let on_demand = parsed(
            r#"{"name":"t","duration":"1m","topic":{"partitions":4},
                "esm":{"scaling":{"mode":"on_demand"}}}"#,
        );
        let mut rows: Vec<Row> = (1..=3).map(|i| row(f64::from(i) * 10.0, 1, None, None)).collect();
        for (r, p) in rows.iter_mut().zip([1, 1, 3]) {
            r.pollers = p;
        }
        let chart = concurrency(&Timeline::new(&rows, &on_demand));
        let pollers = chart.series.iter().find(|s| s.name == "event pollers").unwrap();
        // Held at 1 until the sample that saw 3: a vertical step at 30 s.
        assert_eq!(pollers.points, vec![(10.0, Some(1.0)), (20.0, Some(1.0)), (30.0, Some(1.0)), (30.0, Some(3.0))]);
        let factor = parsed(
            r#"{"name":"t","duration":"1m","topic":{"partitions":4},
                "esm":{"scaling":{"mode":"parallelization_factor","factor":2}}}"#,
        );
        let factor = concurrency(&Timeline::new(&rows, &factor));
        assert!(factor.series.iter().all(|s| !s.name.contains("poller")));
    }

    #[test]
    fn interval_labels() {
        assert_eq!(format_seconds(10.0), "10 s");
        assert_eq!(format_seconds(0.5), "500 ms");
        assert_eq!(format_seconds(120.0), "2 min");
    }
}
