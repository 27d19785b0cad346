//! Fidelity against AWS's documentation, with every expected number worked out by hand (issue:
//! provisioned mode, poller billing and CloudWatch metrics as AWS defines them).

mod common;
use common::*;
use esmsim::Outcome;
use serde_json::{Value, json};

fn poison(s: &mut Value, offsets: &[u64]) {
    let list: Vec<Value> = offsets.iter().map(|&o| json!({ "partition": 0, "offset": o })).collect();
    s["failures"]["poison_records"] = json!(list);
}

/// 1. The autoscaler must not remove pollers that are fully busy.
#[test]
fn a_fully_busy_provisioned_fleet_keeps_its_twelve_pollers() {
    // 6,000 records/s round-robin over 12 partitions: 500/s each. A full batch of 100 takes
    // 10 ms + 100 × 1.5 ms = 160 ms, and comes every 200 ms: each partition is 80 % busy, 9.6
    // invocations in flight. Each poller owns one partition, so 12 pollers can have at most 12
    // in flight (not 12 × 5 = 60): utilisation 9.6 / 12 = 0.8 ≥ 0.5, so no scale-down.
    let s = json!({
        "name": "busy", "duration": "40m",
        "topic": { "partitions": 12 },
        "producers": [{ "rate": 6000, "record_bytes": 100, "partitioning": "round_robin" }],
        "esm": { "batch_size": 100, "batching_window": "500ms",
                 "scaling": { "mode": "provisioned", "min_pollers": 1, "max_pollers": 12 } },
        "function": { "memory_mb": 1024, "timeout": "30s", "duration": { "base": "10ms", "per_record": "1500us" } }
    });
    let report = run_json(s);
    let rows = &report.timeseries;
    let first = rows.iter().position(|r| r.pollers == 12).expect("reaches 12 pollers");
    assert!(rows[first..].iter().all(|r| r.pollers == 12), "a poller was removed");
    assert!(report.summary.lag.final_records < 3_000, "{:?}", report.summary.lag);
    // Once settled, records wait well under a second or two (one 500 ms window and a 160 ms batch).
    let late = &rows[rows.len() - 60..];
    assert!(late.iter().all(|r| r.latency_p99_ms.unwrap_or(0.0) < 2_000.0), "{:?}", late.last());
}

fn provisioned_pollers(n: u32) -> Value {
    json!({
        "name": "epu", "duration": "1h",
        "topic": { "partitions": n },
        "producers": [{ "rate": 10, "record_bytes": 1000 }],
        "esm": { "scaling": { "mode": "provisioned", "min_pollers": n, "max_pollers": n } }
    })
}

/// 2. Event Poller Units are billed whole, at least one per mapping.
#[test]
fn pollers_are_billed_in_whole_event_poller_units() {
    // One EPU covers 10 pollers and 20 MB/s; 10 KB/s is nothing. 1 or 3 pollers for an hour: one
    // EPU-hour, $0.185. 12 pollers: ⌈12 / 10⌉ = 2 EPU-hours, $0.37.
    for (pollers, usd) in [(1, 0.185), (3, 0.185), (12, 0.37)] {
        let cost = run_json(provisioned_pollers(pollers)).summary.cost_usd.pollers;
        assert!((cost - usd).abs() < 1e-9, "{pollers} pollers cost {cost}");
    }
    let mut shared = provisioned_pollers(3);
    shared["pricing"] = json!({ "epu_billing": "fractional" });
    let cost = run_json(shared).summary.cost_usd.pollers;
    assert!((cost - 0.3 * 0.185).abs() < 1e-9, "a share of a group's EPU: {cost}");
}

fn one_poller_of_100_kib_records(rate: f64) -> Value {
    json!({
        "name": "poller-bytes", "duration": "10m",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": rate, "arrivals": "constant", "record_bytes": 102_400 }],
        "esm": { "batch_size": 10, "batching_window": "0s",
                 "scaling": { "mode": "provisioned", "min_pollers": 1, "max_pollers": 1 } },
        "function": { "memory_mb": 1024, "duration": { "base": "10ms" } }
    })
}

/// 3. A poller's 5 MB/s counts the bytes polled from Kafka, not the invocation payload.
#[test]
fn poller_throughput_counts_the_bytes_polled_not_the_payload() {
    // 5,000,000 B/s ÷ 102,400 B = 48.83 records/s. Counted on the base64 payload
    // (136,536 + 128 = 136,664 B) it would be 36.6 records/s.
    let saturated = run_json(one_poller_of_100_kib_records(60.0)).summary;
    let rate = saturated.throughput.mean_records_per_second;
    assert!((47.8..=49.3).contains(&rate), "{rate} records/s");
    // 45 records/s is below the cap: the poller keeps up.
    let below = run_json(one_poller_of_100_kib_records(45.0)).summary;
    assert!(below.lag.final_records < 50, "{:?}", below.lag);
}

/// 4. base64 is sized per field, with padding.
#[test]
fn key_and_value_are_encoded_separately_with_padding() {
    // Key 8 → 12 base64 bytes, value 10 → 16: 28 payload bytes without overhead. A budget of
    // 3,312 − 512 (envelope) = 2,800 bytes holds exactly 100 records (⌈4 × 18 / 3⌉ = 24 would
    // have held 116).
    let s = json!({
        "name": "base64", "duration": "1m",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 1000, "arrivals": "constant", "record_bytes": 10, "key_bytes": 8 }],
        "esm": { "batch_size": 10000, "batching_window": "10s", "max_payload_bytes": 3312,
                 "payload_record_overhead_bytes": 0, "scaling": { "mode": "parallelization_factor" } }
    });
    let b = run_json(s).summary.batches;
    assert_eq!(b.max_records, 100);
    assert!(b.flushed_by_payload > 500, "{b:?}");
}

/// 5a. One poison record isolated by bisect is one stall, not one per failing half.
#[test]
fn a_poison_record_isolated_by_bisect_is_one_stall() {
    let mut s = one_batch(64);
    poison(&mut s, &[20]);
    s["esm"]["bisect_batch_on_function_error"] = json!(true);
    s["esm"]["maximum_retry_attempts"] = json!(0);
    let report = run_json(s);
    // The committed offset stays below 21 from the first failure until offset 20 is dropped:
    // [0,16) and [16,20) commit on the way, but not past the poison record.
    assert_eq!(report.summary.stalls.count, 1);
    assert_eq!(report.summary.invocations.total, 13);
}

/// 5b. Partial batch responses stall a partition too.
#[test]
fn a_poison_record_behind_partial_responses_is_one_stall_of_about_a_minute() {
    // Record 4 arrived at 4 ms and is reported failed at every attempt; attempts come every
    // 1 s (backoff) + 16 ms (6 records). With maximum_record_age 60 s it is given up at the
    // first delivery after 60.004 s: one stall from the first failure (29 ms) to then.
    let mut s = one_batch(10);
    poison(&mut s, &[4]);
    s["failures"]["handler"] = json!("report_failures");
    s["esm"]["function_response_types"] = json!(["ReportBatchItemFailures"]);
    s["esm"]["maximum_record_age"] = json!(60);
    let report = run_json(s);
    let stalls = &report.summary.stalls;
    assert_eq!(stalls.count, 1);
    assert!((59.0..=61.5).contains(&stalls.longest_seconds), "{stalls:?}");
    assert!(report.summary.invocations.partial_failures >= 58);
}

/// 6. Failure records keep every failed offset.
#[test]
fn per_record_failure_records_keep_every_offset() {
    let mut s = one_batch(100);
    poison(&mut s, &[30, 60]);
    s["failures"]["handler"] = json!("report_failures");
    s["esm"]["function_response_types"] = json!(["ReportBatchItemFailures"]);
    s["esm"]["partial_batch_commit"] = json!("per_record");
    s["esm"]["maximum_retry_attempts"] = json!(0);
    s["esm"]["on_failure_destination"] = json!({ "kind": "s3" });
    let report = run_json(s);
    assert_eq!(report.destination.len(), 1);
    let line: Value = serde_json::from_str(&report.destination[0]).unwrap();
    let info = &line["KafkaBatchInfo"];
    assert_eq!(info["batchSize"], 2);
    assert_eq!(info["recordsInfo"]["events-0"]["firstRecordOffset"], "30");
    assert_eq!(info["recordsInfo"]["events-0"]["lastRecordOffset"], "60");
    // S3's payload is an escaped JSON string holding both records.
    let payload: Value = serde_json::from_str(line["payload"].as_str().unwrap()).unwrap();
    let offsets: Vec<u64> =
        payload["records"]["events-0"].as_array().unwrap().iter().map(|r| r["offset"].as_u64().unwrap()).collect();
    assert_eq!(offsets, vec![30, 60]);
}

#[test]
fn a_kafka_destination_message_carries_its_own_records_payload_size() {
    let mut s = one_batch(10);
    poison(&mut s, &[4]);
    s["esm"]["maximum_retry_attempts"] = json!(0);
    s["esm"]["on_failure_destination"] = json!({ "kind": "kafka" });
    let report = run_json(s);
    // Records of 1,024 bytes: 4 × 342 = 1,368 base64 bytes + 128 overhead + 512 envelope = 2,008.
    let line: Value = serde_json::from_str(&report.destination[0]).unwrap();
    assert_eq!(line["KafkaBatchInfo"]["payloadSize"], 2_008);
}

/// 7. Init longer than 10 s runs again inside the first invocation.
#[test]
fn init_longer_than_ten_seconds_runs_again_inside_the_first_invocation() {
    // Init 12 s: cut off at 10 s, then 12 s again inside the invocation with the handler's
    // 10 ms + 10 × 1 ms = 20 ms: the invocation ends 22.02 s after it started.
    let mut s = one_batch(10);
    s["function"]["timeout"] = json!("30s");
    s["function"]["cold_start"] = json!({ "init": "12s" });
    let (report, log) = run_logged(&scenario(s.clone()));
    let (started, ended) = (log.started[0].0, log.ended[0].0);
    assert_eq!(ended - started, 22_020_000_000);
    assert_eq!(log.ended[0].2, Outcome::Success);
    assert_eq!(report.summary.duration_ms.max, Some(12_020.0));
    // Init 25 s under a 20 s timeout: the second init alone times out, 10 s + 20 s after the start.
    s["function"]["timeout"] = json!("20s");
    s["function"]["cold_start"] = json!({ "init": "25s" });
    let (_, log) = run_logged(&scenario(s));
    assert_eq!(log.ended[0].0 - log.started[0].0, 30_000_000_000);
    assert_eq!(log.ended[0].2, Outcome::Timeout { at: None });
}

/// 8. A partial response with identifiers Lambda cannot match fails the whole batch.
#[test]
fn malformed_item_identifiers_fail_the_whole_batch() {
    let mut s = one_batch(10);
    poison(&mut s, &[4]);
    s["failures"]["handler"] = json!("report_invalid_ids");
    s["esm"]["function_response_types"] = json!(["ReportBatchItemFailures"]);
    s["esm"]["maximum_retry_attempts"] = json!(1);
    s["esm"]["on_failure_destination"] = json!({ "kind": "sqs" });
    let (report, log) = run_logged(&scenario(s.clone()));
    // Two attempts of all 10 records, then the whole batch goes to the destination; the nine
    // records the handler did process count as succeeded.
    let sizes: Vec<u32> = log.started.iter().map(|&(_, _, n, _)| n).collect();
    assert_eq!(sizes, vec![10, 10]);
    let line: Value = serde_json::from_str(&report.destination[0]).unwrap();
    assert_eq!(line["KafkaBatchInfo"]["batchSize"], 10);
    let r = &report.summary.records;
    assert_eq!((r.succeeded, r.to_destination), (9, 1));
    assert_eq!(report.summary.cloudwatch.on_failure_destination_delivered_event_count, 10);
    // Without ReportBatchItemFailures Lambda ignores the response: one invocation, record 4 lost.
    s["esm"]["function_response_types"] = json!([]);
    let r = run_json(s).summary.records;
    assert_eq!((r.succeeded, r.discarded), (9, 1));
}

fn scaling_speed(mode: &str) -> Vec<u32> {
    let mut s = json!({
        "name": "speed", "duration": "5m",
        "topic": { "partitions": 4 },
        "producers": [{ "rate": 4000 }],
        "esm": { "batch_size": 100, "scaling": { "mode": mode } },
        "function": { "timeout": "10s", "duration": { "base": "100ms", "per_record": "1ms" } }
    });
    if mode == "provisioned" {
        s["esm"]["scaling"]["max_pollers"] = json!(4);
    }
    run_json(s).timeseries.iter().map(|r| r.pollers).collect()
}

/// 9. Provisioned autoscaling has its own, faster timing.
#[test]
fn provisioned_pollers_scale_within_a_minute_on_demand_ones_after_four() {
    // One poller drains at most 100 records per 200 ms = 500/s of 4,000/s: lag passes 1,000 at
    // once. Provisioned: evaluated at 30 s, doubled to 2 at 60 s. On demand: evaluated at 60 s,
    // effective 3 minutes later, at 240 s. Row k is the sample at (k + 1) × 10 s.
    let provisioned = scaling_speed("provisioned");
    assert_eq!((provisioned[4], provisioned[5], provisioned[6]), (1, 1, 2));
    let on_demand = scaling_speed("on_demand");
    assert_eq!((on_demand[22], on_demand[23], on_demand[24]), (1, 1, 2));
}

/// CloudWatch: a dropped batch counts every record, even those processed before the throw.
#[test]
fn a_dropped_batch_counts_all_its_records_in_dropped_event_count() {
    // Ten records, the sixth (offset 5) poison, no retries, no destination: the handler processed
    // 0..5 before it threw, so 5 succeed and 5 are discarded, but DroppedEventCount is 10.
    let mut s = one_batch(10);
    poison(&mut s, &[5]);
    s["esm"]["maximum_retry_attempts"] = json!(0);
    let summary = run_json(s.clone()).summary;
    assert_eq!((summary.records.succeeded, summary.records.discarded), (5, 5));
    let cw = &summary.cloudwatch;
    assert_eq!((cw.dropped_event_count, cw.on_failure_destination_delivered_event_count), (10, 0));
    assert_eq!((cw.invocations, cw.errors, cw.invoked_event_count, cw.failed_invoke_event_count), (1, 1, 10, 10));
    s["esm"]["on_failure_destination"] = json!({ "kind": "sqs" });
    let cw = run_json(s).summary.cloudwatch;
    assert_eq!((cw.dropped_event_count, cw.on_failure_destination_delivered_event_count), (0, 10));
}

/// CloudWatch: an invocation's metrics carry the time it started.
#[test]
fn a_long_invocation_lands_in_the_period_it_started() {
    // The batch is invoked at 9 ms and runs 25 s + 10 × 1 ms = 25.01 s: with 20 s periods it
    // ends in the second period but counts in the first, with its whole duration.
    let mut s = one_batch(10);
    s["cloudwatch_period"] = json!("20s");
    s["function"]["timeout"] = json!("30s");
    s["function"]["duration"]["base"] = json!("25s");
    let report = run_json(s);
    let periods = &report.cloudwatch.periods;
    assert_eq!((periods[0].invocations, periods[1].invocations), (1, 0));
    assert_eq!(periods[0].duration_average_ms(), Some(25_010.0));
    assert_eq!(report.summary.duration_ms.mean, Some(25_010.0));
    assert_eq!(report.summary.cloudwatch.duration.max_ms, Some(25_010.0));
}

#[test]
fn cloudwatch_csv_has_a_row_per_period_and_the_documented_columns() {
    let mut s = one_batch(10);
    s["duration"] = json!("5m");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    std::fs::write(&path, s.to_string()).unwrap();
    let out = dir.path().join("out");
    assert_cmd::Command::cargo_bin("esmsim")
        .unwrap()
        .args(["run", path.to_str().unwrap(), "--no-charts", "--cloudwatch-period", "1m", "--out"])
        .arg(&out)
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.join("cloudwatch.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("timestamp,OffsetLag_Maximum,Duration_Average,Duration_p99,Invocations_Sum,"));
    assert_eq!(lines.len(), 1 + 5, "five one-minute periods");
    assert!(lines[1].starts_with("2025-01-01T00:00:00.000Z,"), "{}", lines[1]);
}

fn backlog_then_steady(warmup: Option<&str>) -> Value {
    // 6,000 records of history on one partition (TRIM_HORIZON), then 10 records/s. Batches of up
    // to 1,000 take 100 ms + 0.1 ms per record: the history is gone after 6 × 0.2 s = 1.2 s, so
    // the sample at 1 s still sees about 1,000 of it.
    let mut s = json!({
        "name": "warmup", "duration": "5m", "sample_interval": "1s",
        "topic": { "partitions": 1, "backlog": { "records": 6000, "span": "1h" } },
        "producers": [{ "rate": 10, "arrivals": "constant" }],
        "esm": { "batch_size": 1000, "starting_position": "TRIM_HORIZON",
                 "scaling": { "mode": "parallelization_factor" } },
        "function": { "duration": { "base": "100ms", "per_record": "100us" } }
    });
    if let Some(w) = warmup {
        s["warmup"] = json!(w);
    }
    s
}

/// Decisions: a warm-up leaves the start-up transient out of the statistics, not the counts.
#[test]
fn a_warmup_leaves_the_backlog_out_of_latency_lag_and_throughput() {
    let whole = run_json(backlog_then_steady(None)).summary;
    let steady = run_json(backlog_then_steady(Some("1m"))).summary;
    // Counts cover the whole run either way: 6,000 + 10 × 300 = 9,000 records.
    assert_eq!(whole.records.produced, steady.records.produced);
    assert_eq!(steady.records.produced, 9_000);
    assert_eq!(steady.warmup_seconds, 60.0);
    // Whole run: the history's records are up to an hour old when committed; (6,000 + 3,000) /
    // 300 s = 30 records/s. After a minute: 10 records/s, waiting at most a 500 ms window plus a
    // batch of ~5 records (100.5 ms).
    assert!(whole.latency_ms.p99.unwrap() > 3_000_000.0, "{:?}", whole.latency_ms);
    assert!(steady.latency_ms.max.unwrap() < 650.0, "{:?}", steady.latency_ms);
    assert!((whole.throughput.mean_records_per_second - 30.0).abs() < 0.1);
    assert!((steady.throughput.mean_records_per_second - 10.0).abs() < 0.1, "{:?}", steady.throughput);
    assert!(whole.lag.max_records > 1_000 && steady.lag.max_records < 20, "{:?} {:?}", whole.lag, steady.lag);
    assert_eq!(steady.concurrency.peak, 1);
    // CloudWatch statistics leave out the first minute's period too: 240 s of ~2 invocations/s.
    let invoked = steady.cloudwatch.invoked_event_count;
    assert!((2_390..=2_410).contains(&invoked), "{invoked}");
}

#[test]
fn a_warmup_must_be_whole_sample_intervals_and_shorter_than_the_run() {
    let path = std::path::Path::new("w.json");
    let mut s = backlog_then_steady(Some("1500ms"));
    let err = esmsim::parse_scenario(path, &s.to_string(), &[]).unwrap_err().to_string();
    assert!(err.contains("warmup") && err.contains("whole number of sample intervals"), "{err}");
    s["warmup"] = json!("5m");
    let err = esmsim::parse_scenario(path, &s.to_string(), &[]).unwrap_err().to_string();
    assert!(err.contains("warmup") && err.contains("not shorter"), "{err}");
}

/// Review: an init that overruns and then times out leaves no warm environment behind.
#[test]
fn an_init_that_never_finishes_makes_every_invocation_cold() {
    let s = json!({ "name": "init-timeout", "duration": "5m",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 1, "arrivals": "constant" }],
        "esm": { "scaling": { "mode": "parallelization_factor" } },
        "function": { "timeout": "15s", "duration": { "base": "10ms" }, "cold_start": { "init": "30s" } } });
    // Init 30 s: 10 s, then 30 s again under a 15 s timeout: every attempt times out after 25 s
    // and the next one must initialise again (one per 25 s + 1 s backoff: 11 in 300 s).
    let i = run_json(s).summary.invocations;
    assert_eq!((i.total, i.timed_out, i.cold_starts), (11, 11, 11));
}

/// Review: pollers added at the instant a billing window closes are billed from the next one.
#[test]
fn a_scale_up_is_billed_from_the_window_after_it() {
    // 10 pollers until 60 s, then 20: windows [0,30) and [30,60) are 1 EPU, [60,90) is 2:
    // 120 EPU-seconds × $0.185 / 3,600 s = $0.0061667.
    let s = json!({ "name": "epu", "duration": "90s",
        "topic": { "partitions": 20, "backlog": { "records": 5000, "span": "1h", "record_bytes": 100 } },
        "producers": [{ "rate": 100, "record_bytes": 100 }],
        "esm": { "starting_position": "TRIM_HORIZON",
                 "scaling": { "mode": "provisioned", "min_pollers": 10, "max_pollers": 20 } },
        "function": { "duration": { "base": "2s" } } });
    let report = run_json(s);
    assert_eq!(report.timeseries[5].pollers, 10);
    assert_eq!(report.timeseries[6].pollers, 20);
    assert!((report.summary.cost_usd.pollers - 120.0 * 0.185 / 3600.0).abs() < 1e-12);
}

/// Review: a partial response's own commit must not leave its record's stall unopened.
#[test]
fn a_stall_moves_from_the_batch_start_to_the_named_record_without_a_gap() {
    // An outage for 20 s stalls the partition at offset 0; at the first partial response the
    // ESM commits 0..5 and offset 5 stalls it from that instant: 598.69 s in all, no gap.
    let s = json!({ "name": "stall-gap", "duration": "10m",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 10, "arrivals": "constant" }],
        "esm": { "batch_size": 100, "batching_window": "1s",
                 "scaling": { "mode": "provisioned", "min_pollers": 1, "max_pollers": 1 },
                 "function_response_types": ["ReportBatchItemFailures"],
                 "retry_backoff": { "initial": "1s", "max": "60s" } },
        "function": { "duration": { "base": "10ms" } },
        "faults": [ { "kind": "function_outage", "from": "0s", "until": "20s" } ],
        "failures": { "handler": "report_failures", "poison_records": [{ "partition": 0, "offset": 5 }] } });
    let stalls = run_json(s).summary.stalls;
    assert_eq!(stalls.count, 2);
    assert!((stalls.total_seconds - 598.69).abs() < 0.01, "{stalls:?}");
}

/// Review: records deleted by retention are not committed events.
#[test]
fn committed_event_count_leaves_out_records_lost_to_retention() {
    let s = json!({ "name": "commit-lost", "duration": "30m",
        "topic": { "partitions": 1, "retention": "10m" },
        "producers": [{ "rate": 10, "arrivals": "constant" }],
        "esm": { "scaling": { "mode": "parallelization_factor" } },
        "function": { "duration": { "base": "10ms" } },
        "failures": { "poison_records": [{ "partition": 0, "offset": 10 }] } });
    let summary = run_json(s).summary;
    let r = &summary.records;
    assert!(r.lost_to_retention > 0);
    assert_eq!(summary.cloudwatch.committed_event_count, r.succeeded + r.to_destination + r.discarded);
}

fn dominant(report: &esmsim::Report) -> String {
    let b = &report.summary.bottlenecks;
    let (limit, _) = b.binding().expect("some limit binds");
    limit.name().to_string()
}

fn overloaded(partitions: u32, esm: Value, function: Value) -> Value {
    // 4,000 records/s against batches of 100 taking 100 ms + 1 ms per record: 500 records/s
    // per partition at most, so 2 partitions can drain 1,000/s and fall behind.
    json!({ "name": "limits", "duration": "5m",
        "topic": { "partitions": partitions },
        "producers": [{ "rate": 4000 }],
        "esm": esm, "function": function })
}

/// Decisions: the binding limit, by hand.
#[test]
fn the_binding_limit_is_named_for_each_kind_of_shortfall() {
    let slow = json!({ "timeout": "10s", "duration": { "base": "100ms", "per_record": "1ms" } });
    // Two partitions, each with a batch always out: the partitions bind.
    let factor = json!({ "batch_size": 100, "scaling": { "mode": "parallelization_factor", "factor": 10 } });
    let report = run_json(overloaded(2, factor.clone(), slow.clone()));
    assert_eq!(dominant(&report), "partitions");
    assert!(report.timeseries[20..].iter().all(|r| r.bottleneck.name() == "partitions"));
    assert_eq!(report.summary.drain_seconds, None, "lag grows: not draining");
    // Twenty partitions but a reserved concurrency of 2: throttles, so concurrency binds.
    let mut reserved = slow.clone();
    reserved["reserved_concurrency"] = json!(2);
    assert_eq!(dominant(&run_json(overloaded(20, factor.clone(), reserved))), "concurrency");
    // The factor of 2 caps batches in flight among 20 partitions: the model's pollers bind.
    let two = json!({ "batch_size": 100, "scaling": { "mode": "parallelization_factor", "factor": 2 } });
    assert_eq!(dominant(&run_json(overloaded(20, two, slow.clone()))), "pollers");
    // A poison record retried forever: its partition stalls.
    let mut s = one_batch(10);
    poison(&mut s, &[4]);
    let report = run_json(s);
    assert_eq!(dominant(&report), "stall");
    assert!(report.summary.bottlenecks.stall > 590.0, "{:?}", report.summary.bottlenecks);
}

#[test]
fn a_run_that_keeps_up_binds_nothing_and_has_no_lag_to_drain() {
    let fast = json!({ "duration": { "base": "10ms" } });
    let esm = json!({ "batch_size": 100, "scaling": { "mode": "parallelization_factor", "factor": 10 } });
    let mut s = overloaded(12, esm, fast);
    s["producers"][0]["rate"] = json!(400);
    let report = run_json(s);
    assert!(report.summary.bottlenecks.binding().is_none(), "{:?}", report.summary.bottlenecks);
    assert_eq!(report.summary.bottlenecks.none, 300.0);
    assert_eq!(report.summary.drain_seconds, Some(0.0));
}

#[test]
fn provisioned_runs_report_their_pollers_and_event_poller_units() {
    // 12 pollers for an hour: ProvisionedPollers 12, EventPollerUnit 2 (⌈12 / 10⌉) on average.
    let cw = run_json(provisioned_pollers(12)).summary.cloudwatch;
    assert_eq!(cw.provisioned_pollers.max, 12);
    assert!((cw.event_poller_unit.avg - 2.0).abs() < 1e-9, "{:?}", cw.event_poller_unit);
}
