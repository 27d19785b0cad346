//! `arrival_streams: "per_partition"` (the default since v0.2.0): the same traffic as one stream
//! per producer (`per_producer`, v0.1's), drawn partition by partition. Checked against answers
//! worked out by hand and against per-producer streams on bench-steady.

mod common;
use common::*;
use serde_json::{Value, json};

fn per_partition(mut scenario: Value) -> Value {
    scenario["arrival_streams"] = "per_partition".into();
    scenario
}

fn per_producer(mut scenario: Value) -> Value {
    scenario["arrival_streams"] = "per_producer".into();
    scenario
}

fn bench_steady(minutes: u32) -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/bench-steady.json")).unwrap();
    let mut s: Value = serde_json::from_str(&text).unwrap();
    s["duration"] = format!("{minutes}m").into();
    s
}

fn mean_lag(report: &esmsim::Report) -> f64 {
    report.timeseries.iter().map(|r| r.lag_records as f64).sum::<f64>() / report.timeseries.len() as f64
}

#[test]
fn bench_steady_agrees_with_per_producer_streams() {
    // 10 minutes of 10,000 records/s: 6,000,000 records expected (Poisson, so within 5 σ ≈
    // 12,250), and the same batching: batches of about 210 records flushed by the 500 ms window
    // (24 partitions at 417 records/s each), the mean lag and median latency within 3 %.
    let one = run(&scenario(per_producer(bench_steady(10))));
    let split = run(&scenario(bench_steady(10)));
    for r in [&one, &split] {
        let produced = r.summary.records.produced as f64;
        assert!((produced - 6_000_000.0).abs() < 5.0 * 6_000_000f64.sqrt(), "{produced}");
        assert_eq!(r.summary.batches.flushed_by_window, r.summary.batches.count);
    }
    let within = |a: f64, b: f64, what: &str| assert!((a / b - 1.0).abs() < 0.03, "{what}: {a} against {b}");
    within(split.summary.batches.mean_records, one.summary.batches.mean_records, "mean batch");
    within(mean_lag(&split), mean_lag(&one), "mean lag");
    within(split.summary.latency_ms.p50.unwrap(), one.summary.latency_ms.p50.unwrap(), "latency p50");
    // By hand: a partition's window opens at its first record and closes 500 ms later, so a batch
    // holds that record and the Poisson arrivals of the next 500 ms: 1 + 416.7 × 0.5 ≈ 209.
    within(split.summary.batches.mean_records, 209.3, "mean batch by hand");
    // Not the same draws: another sample path of the same traffic.
    assert_ne!(split.summary.records.produced, one.summary.records.produced);
}

#[test]
fn a_window_gathers_the_arrivals_of_its_span() {
    // One partition at 40 records/s, batch 10,000, window 2 s: each batch is its first record
    // and the arrivals of the next 2 s, about 1 + 80 = 81 records.
    let s = json!({
        "name": "window", "duration": "1h",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 40 }],
        "esm": { "batch_size": 10000, "batching_window": "2s", "scaling": { "mode": "parallelization_factor", "factor": 1 } },
        "function": { "duration": { "base": "1ms", "per_record": "0us" } }
    });
    let r = run(&scenario(per_partition(s)));
    let mean = r.summary.batches.mean_records;
    assert!((mean - 81.0).abs() < 1.5, "mean batch {mean}");
}

#[test]
fn a_hot_partition_gets_its_share() {
    // 1,000 records/s, partition 3 of 8 takes 60 %: over 10 minutes 360,000 records reach it;
    // it is the one whose lag is the highest, and every record is accounted for.
    let s = json!({
        "name": "hot", "duration": "10m", "sample_interval": "1m",
        "topic": { "partitions": 8 },
        "producers": [{ "rate": 1000, "partitioning": { "hot_partition": { "partition": 3, "share": 0.6 } } }],
        "esm": { "batch_size": 100, "batching_window": "1s", "scaling": { "mode": "parallelization_factor", "factor": 1 } },
        "function": { "duration": { "base": "10ms", "per_record": "100us" } }
    });
    let r = run(&scenario(per_partition(s)));
    let records = &r.summary.records;
    assert_eq!(records.produced, records.succeeded + records.pending_at_end);
    assert!((records.produced as f64 - 600_000.0).abs() < 5.0 * 600_000f64.sqrt());
    // Batches of at most 100 from partition 3 at 600/s against 57/s elsewhere.
    let full = r.summary.batches.flushed_by_size as f64 / r.summary.batches.count as f64;
    assert!(full > 0.4, "share of full batches {full}");
}

#[test]
fn constant_producers_are_unchanged_and_others_merge() {
    // Constant arrivals are not random in time: both settings give the same run (apart from the
    // config hash, which names the setting).
    let constant = json!({
        "name": "constant", "duration": "5m",
        "topic": { "partitions": 3 },
        "producers": [{ "rate": 40, "arrivals": "constant", "partitioning": "round_robin" }],
        "esm": { "batch_size": 1000, "batching_window": "2s" }
    });
    let mut one = run(&scenario(constant.clone())).summary;
    let split = run(&scenario(per_partition(constant))).summary;
    one.config_hash = split.config_hash.clone();
    assert_eq!(one, split);
    // A constant and a Poisson producer on one topic, with filtering: the Poisson one's records
    // are drawn per partition and merged with the other's in time order; all are accounted for.
    let mixed = json!({
        "name": "mixed", "duration": "5m",
        "topic": { "partitions": 4 },
        "producers": [
            { "rate": 50, "arrivals": "constant", "value": { "fields": { "kind": { "one_of": { "values": ["a"] } } } } },
            { "rate": 150, "partitioning": "round_robin", "value": { "fields": { "kind": { "one_of": { "values": ["b"] } } } } }
        ],
        "esm": { "batch_size": 50, "batching_window": "1s", "filter_criteria": { "Filters": [{ "Pattern": "{\"value\": {\"kind\": [\"b\"]}}" }] } }
    });
    let a = run(&scenario(per_partition(mixed.clone())));
    let b = run(&scenario(per_partition(mixed)));
    assert_eq!(a.summary, b.summary);
    assert_eq!(a.timeseries, b.timeseries);
    let r = &a.summary.records;
    let filtered_out = r.filtered_out.unwrap();
    assert_eq!(r.produced, r.succeeded + filtered_out + r.pending_at_end);
    // 15,000 constant records filtered out (kind a), about 45,000 Poisson ones sent.
    assert!((filtered_out as f64 - 15_000.0).abs() < 100.0, "{filtered_out}");
    assert!((r.produced as f64 - 60_000.0).abs() < 5.0 * 45_000f64.sqrt(), "{}", r.produced);
}

#[test]
fn only_constant_producers_get_a_warning() {
    let s = json!({
        "name": "w", "arrival_streams": "per_partition", "topic": { "partitions": 1 },
        "producers": [{ "rate": 1, "arrivals": "constant" }]
    });
    let text = s.to_string();
    let loaded = esmsim::parse_scenario("w.json".as_ref(), &text, &[]).unwrap();
    assert!(loaded.warnings.iter().any(|w| w.path == "arrival_streams"), "{:?}", loaded.warnings);
    let bad = json!({ "name": "w", "arrival_streams": "per_record", "topic": { "partitions": 1 } }).to_string();
    let err = esmsim::parse_scenario("w.json".as_ref(), &bad, &[]).err().unwrap().to_string();
    assert!(err.contains("arrival_streams") && err.contains("per_partition"), "{err}");
}

/// 8 partitions at 4,000 records/s in all, read one batch of at most 100 at a time per partition
/// by a function taking 10 ms + 1 ms per record: each partition drains at most about 91
/// records/s of its 500, so the lag grows by about 3,300 records/s.
fn lagging_topic(duration: &str) -> esmsim::config::Config {
    let s = json!({
        "name": "lagging", "duration": duration, "sample_interval": "10s",
        "arrival_streams": "per_partition",
        "topic": { "partitions": 8 },
        "producers": [{ "rate": 4000, "record_bytes": 100 }],
        "esm": { "batch_size": 100, "batching_window": "0s", "scaling": { "mode": "parallelization_factor", "factor": 1 } },
        "function": { "duration": { "base": "10ms", "per_record": "1ms" } }
    });
    config(&scenario(s))
}

#[test]
fn a_lagging_topic_holds_what_its_batches_need_not_its_lag() {
    // The lag grows to about 2,000,000 records in 10 minutes (48 MB at 24 bytes a record, twice
    // that counted for growth).
    let config = lagging_topic("10m");
    let budget = esmsim::Limits { memory_bytes: 16 << 20 };
    // Storing every arrival, the run stops when the logs pass 16 MB...
    let stored = esmsim::SimulationBuilder::new(&config).store_every_record().build();
    let (stopped, _) = stored.try_run(&budget, |_| {});
    assert!(matches!(stopped, Err(esmsim::Stopped::Lag { .. })), "{stopped:?}");
    // ...while counting what the batches do not need yet, it holds a few batches per
    // partition and ends, with the same lag the time series would have shown.
    let (report, _) = esmsim::SimulationBuilder::new(&config).build().try_run(&budget, |_| {});
    let report = report.unwrap();
    let (full, _) = esmsim::SimulationBuilder::new(&config).store_every_record().build().run();
    assert_eq!(report.summary, full.summary);
    assert_eq!(report.timeseries, full.timeseries);
    let lag = report.summary.lag.max_records;
    assert!((1_800_000..2_200_000).contains(&lag), "lag {lag}");
}

#[test]
fn chunk_buffers_count_against_the_budget_at_any_thread_count() {
    // The lagging topic, for a minute. Its chunks hold 32,768 arrivals (16 per partition,
    // at least 32k; about 32,000 or more drawn), which wait in up to three chunk buffers of 32
    // bytes an arrival and 48 a partition. At the first check (after the second chunk) its logs
    // hold the first chunk, at least 72 bytes a record counted: so at least
    // 3 × 24 × 32,000 + 3 × (32 × 32,000 + 8 × 48) = 5,377,152 bytes, where the logs alone
    // count about 4.7 MB. The same with the arrivals drawn on the run's thread or a chunk ahead
    // on another.
    let config = lagging_topic("1m");
    let run = |megabytes: u64, ahead: bool| {
        let budget = esmsim::Limits { memory_bytes: megabytes << 20 };
        esmsim::SimulationBuilder::new(&config).draw_ahead(ahead).build().try_run(&budget, |_| {}).0.map(|r| r.summary)
    };
    let (here, ahead) = (run(1, false), run(1, true));
    let Err(esmsim::Stopped::Lag { bytes, at_s, .. }) = &here else { panic!("1 MB: {here:?}") };
    assert!(*bytes >= 5_377_152 && *at_s == 0.0, "held {bytes} bytes at {at_s} s");
    assert_eq!(format!("{here:?}"), format!("{ahead:?}"));
    assert!(run(16, false).is_ok() && run(16, true).is_ok());
}

/// A run with draw_ahead off and on: the same summary, time series and failure records.
fn same_drawn_ahead(json: Value) -> esmsim::Report {
    let config = config(&scenario(json));
    let (here, _) = esmsim::SimulationBuilder::new(&config).build().run();
    let (ahead, _) = esmsim::SimulationBuilder::new(&config).draw_ahead(true).build().run();
    assert_eq!(here.summary, ahead.summary);
    assert_eq!(here.timeseries, ahead.timeseries);
    assert_eq!(here.destination, ahead.destination);
    here
}

#[test]
fn drawing_ahead_on_a_second_thread_changes_nothing() {
    // Partitions that lag count their arrivals and regenerate them later; a hot partition and
    // uneven record sizes make every partition's stream its own. Drawn a chunk ahead on another
    // thread, the run is the same, down to the destination's lines.
    let lagging = |duration: &str| {
        json!({
            "name": "ahead", "duration": duration, "sample_interval": "1s",
            "topic": { "partitions": 6 },
            "producers": [{
                "rate": 3000,
                "record_bytes": { "distribution": "uniform", "min": 50, "max": 400 },
                "partitioning": { "hot_partition": { "partition": 2, "share": 0.5 } }
            }],
            "esm": {
                "batch_size": 100, "batching_window": "200ms",
                "scaling": { "mode": "parallelization_factor", "factor": 1 },
                "on_failure_destination": { "kind": "sqs" }
            },
            "function": { "duration": { "base": "10ms", "per_record": "1ms" } },
            "failures": { "poison_rate": 0.001 }
        })
    };
    let report = same_drawn_ahead(lagging("2m"));
    assert!(report.summary.lag.max_records > 10_000, "partitions lag: {}", report.summary.lag.max_records);
    assert!(!report.destination.is_empty());
    // A run shorter than one chunk (32k arrivals, over 10 s here) draws everything at its
    // start: asked again, the lookahead has nothing left to give.
    let report = same_drawn_ahead(lagging("1s"));
    assert!(report.summary.records.produced > 2_000);
}
