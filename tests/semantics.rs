//! The model against answers worked out by hand (issue: core simulator, "What it must show").

mod common;
use common::*;
use serde_json::json;

/// One partition, constant arrivals, a fast function: the batching rules alone decide.
fn one_partition(rate: f64, batch_size: u32, window: &str) -> serde_json::Value {
    json!({
        "name": "hand", "duration": "1h",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": rate, "arrivals": "constant", "record_bytes": 100 }],
        "esm": { "batch_size": batch_size, "batching_window": window,
                 "scaling": { "mode": "parallelization_factor", "factor": 1 } },
        "function": { "duration": { "base": "10ms" } }
    })
}

#[test]
fn constant_40_per_second_with_a_2s_window_gives_81_records_every_2_025s() {
    // Records every 25 ms from t = 0. A window opens at a batch's first record and closes 2 s
    // later, holding that record and the 80 that follow (0, 25, …, 2000 ms): 81 records. The
    // next batch starts with the record at 2025 ms, so batches form every 2.025 s.
    let (report, log) = run_logged(&scenario(one_partition(40.0, 100, "2s")));
    let b = &report.summary.batches;
    assert_eq!(b.max_records, 81);
    assert_eq!(b.flushed_by_window, b.count);
    let full: Vec<_> = log.formed.iter().filter(|(_, n)| *n == 81).collect();
    assert!(full.len() + 1 >= log.formed.len(), "all batches but the last hold 81 records");
    for pair in log.formed.windows(2) {
        assert_eq!(pair[1].0 - pair[0].0, 2_025 * MS, "batches every 2.025 s");
    }
    // Batch k opens at 2.025·k s and flushes 2 s later; flushes before 3600 s need
    // k ≤ (3600 − 2) / 2.025 = 1776.8, so k = 0 … 1776: 1777 batches.
    assert_eq!(b.count, 1777);
}

#[test]
fn window_zero_with_a_busy_function_settles_at_lambda_b_over_one_minus_lambda_c() {
    // n = λ·b / (1 − λ·c) with λ = 1000/s, b = 50 ms, c = 0.5 ms: n = 50 / 0.5 = 100.
    let mut s = one_partition(1000.0, 10_000, "0s");
    s["function"]["duration"] = json!({ "base": "50ms", "per_record": "0.5ms" });
    s["function"]["cold_start"] = json!({ "init": "0s" });
    let report = run_json(s);
    let mean = report.summary.batches.mean_records;
    assert!((mean - 100.0).abs() < 1.0, "mean batch {mean}, expected 100");
}

#[test]
fn records_of_100_kib_fill_a_6_mb_payload_with_46_because_of_base64() {
    // Payload per record: ceil(4/3 × 102,400) + 128 overhead = 136,662 bytes. Budget:
    // 6,291,456 − 512 envelope = 6,290,944 bytes → 46 records (47 would be 6,423,114).
    let mut s = one_partition(200.0, 100, "1s");
    s["producers"][0]["record_bytes"] = json!(102_400);
    s["duration"] = json!("10m");
    let report = run_json(s);
    let b = &report.summary.batches;
    assert_eq!(b.max_records, 46);
    assert!(b.flushed_by_payload >= b.count - 1, "{b:?}");
}

#[test]
fn offered_load_above_capacity_grows_lag_at_the_difference() {
    // Two partitions, factor 2, full batches of 100 taking 100 ms: capacity C·B/D = 2 × 100 /
    // 0.1 s = 2,000 records/s. Offered 2,500/s, so lag grows at 500 records/s.
    let report = run_json(json!({
        "name": "overload", "duration": "10m", "sample_interval": "60s",
        "topic": { "partitions": 2 },
        "producers": [{ "rate": 2500, "arrivals": "constant", "partitioning": "round_robin" }],
        "esm": { "batch_size": 100, "scaling": { "mode": "parallelization_factor", "factor": 2 } },
        "function": { "duration": { "base": "100ms" } }
    }));
    let rows = &report.timeseries;
    let (early, late) = (&rows[1], &rows[9]);
    let slope = (late.lag_records - early.lag_records) as f64 / (late.time_s - early.time_s);
    assert!((slope - 500.0).abs() < 5.0, "lag grows at {slope}/s, expected 500/s");
    let throughput = report.summary.throughput.mean_records_per_second;
    assert!((throughput - 2000.0).abs() < 20.0, "throughput {throughput}");
}

fn function_bound(factor: u32) -> serde_json::Value {
    // Ten partitions at 50 records/s each; a full batch of 100 takes 1 s, so one partition
    // processed at a time manages 100 records/s.
    json!({
        "name": "function-bound", "duration": "30m",
        "topic": { "partitions": 10 },
        "producers": [{ "rate": 500, "arrivals": "constant", "partitioning": "round_robin" }],
        "esm": { "batch_size": 100, "batching_window": "2s",
                 "scaling": { "mode": "parallelization_factor", "factor": factor } },
        "function": { "timeout": "10s", "duration": { "base": "0ms", "per_record": "10ms" } }
    })
}

#[test]
fn factor_1_vs_10_on_a_function_bound_topic() {
    let one = run_json(function_bound(1)).summary;
    let ten = run_json(function_bound(10)).summary;
    let (t1, t10) = (one.throughput.mean_records_per_second, ten.throughput.mean_records_per_second);
    // Factor 1: one batch at a time at 100 records/s of work. Factor 10 keeps up with 500/s.
    assert!((t1 - 100.0).abs() < 2.0, "factor 1 throughput {t1}");
    assert!((t10 - 500.0).abs() < 5.0, "factor 10 throughput {t10}");
    assert!(one.lag.final_records > 300_000, "factor 1 falls behind: {:?}", one.lag);
    assert!(ten.lag.max_records < 2_000, "factor 10 keeps up: {:?}", ten.lag);
    assert_eq!(one.concurrency.peak, 1);
    assert!(ten.concurrency.peak >= 5);
}

#[test]
fn reserved_concurrency_caps_concurrency_and_causes_throttles() {
    let mut s = function_bound(10);
    s["function"]["reserved_concurrency"] = json!(3);
    let (report, log) = run_logged(&scenario(s));
    let summary = &report.summary;
    assert_eq!(summary.concurrency.peak, 3);
    assert!(summary.invocations.throttled > 0);
    assert_eq!(summary.invocations.throttled, log.throttles);
    // Throttled attempts are not invocations; invocations count when they end.
    assert_eq!(summary.invocations.total as usize, log.ended.len());
    assert!(log.started.len() - log.ended.len() <= 3);
    // Three at a time at 100 records/s each.
    let t = summary.throughput.mean_records_per_second;
    assert!((t - 300.0).abs() < 10.0, "throughput {t}");
}

#[test]
fn a_batch_too_large_for_the_timeout_stalls_forever() {
    // 200 records/s: the first window (500 ms) holds 100 records, which take 100 × 20 ms = 2 s
    // against a 1 s timeout. The same batch is retried forever.
    let (report, log) = run_logged(&scenario(json!({
        "name": "timeout", "duration": "10m",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 200, "arrivals": "constant" }],
        "esm": { "scaling": { "mode": "parallelization_factor" } },
        "function": { "timeout": "1s", "duration": { "base": "0ms", "per_record": "20ms" } }
    })));
    let s = &report.summary;
    assert_eq!(s.records.succeeded, 0);
    assert_eq!(s.invocations.timed_out, s.invocations.total);
    assert_eq!(s.stalls.count, 1);
    assert!(s.stalls.longest_seconds > 598.0, "{:?}", s.stalls);
    // Every delivery after the first redelivers the same 100 records.
    assert_eq!(s.records.redelivered, (log.started.len() as u64 - 1) * 100);
    assert_conserved(&report);
}

#[test]
fn retention_ends_a_poison_pill_stall() {
    // 10 records/s, one every 100 ms. The second batch (offsets 6..=11, formed at 1.1 s)
    // holds the poison record 10 and fails until retention (10 min) deletes offset 10, at
    // 1.0 s + 600 s. Retries come every ~1 s, so the stall lasts about 600 s, and the records
    // deleted are the ones that expired while the partition was stuck: offsets 6..=10, plus
    // at most one more expiring before the retry lands.
    let report = run_json(json!({
        "name": "poison", "duration": "30m",
        "topic": { "partitions": 1, "retention": "10m" },
        "producers": [{ "rate": 10, "arrivals": "constant" }],
        "esm": { "scaling": { "mode": "parallelization_factor" } },
        "function": { "duration": { "base": "10ms" } },
        "failures": { "poison_records": [{ "partition": 0, "offset": 10 }] }
    }));
    let s = &report.summary;
    assert_eq!(s.stalls.count, 1);
    assert!((598.0..=602.0).contains(&s.stalls.longest_seconds), "{:?}", s.stalls);
    assert!((5..=16).contains(&s.records.lost_to_retention), "{:?}", s.records);
    assert!(s.lag.final_records < 20, "the partition caught up: {:?}", s.lag);
    assert_conserved(&report);
}

#[test]
fn cost_of_a_known_invocation_count_to_the_cent() {
    // 100 records/s at exactly 10 ms spacing, batch 100, window 5 m: a batch flushes by size
    // every second (at n s − 10 ms), so 3,600 invocations start within the hour. Each runs
    // 500 ms at 10,240 MB (10 GB); the first is cold and also bills 300 ms of init.
    //   requests: 3,600 × $0.20 / 1M = $0.00072
    //   compute:  (0.8 + 3,599 × 0.5) s × 10 GB = 18,003 GB-s × $0.0000166667 = $0.300050...
    // The run lasts 3,600.5 s so that the last invocation (3,599.99 s → 3,600.49 s) ends in it.
    let mut s = one_partition(100.0, 100, "300s");
    s["duration"] = json!("3600.5s");
    s["function"] = json!({ "memory_mb": 10240, "duration": { "base": "500ms" } });
    let report = run_json(s);
    let c = &report.summary.cost_usd;
    assert_eq!(report.summary.invocations.total, 3600);
    assert_eq!(report.summary.invocations.cold_starts, 1);
    let compute = 18_003.0 * 0.000_016_666_7;
    assert!((c.requests - 0.000_72).abs() < 1e-12);
    assert!((c.compute - compute).abs() < 1e-9, "{c:?}");
    assert!((c.total - 0.30077).abs() < 0.005, "{c:?}");
    assert_eq!(c.pollers, 0.0);
}

#[test]
fn arm64_is_billed_at_its_own_price() {
    let mut s = one_partition(100.0, 100, "300s");
    s["duration"] = json!("3600.5s");
    s["function"] = json!({ "memory_mb": 10240, "architecture": "arm64", "duration": { "base": "500ms" } });
    let c = run_json(s).summary.cost_usd;
    assert!((c.compute - 18_003.0 * 0.000_013_333_4).abs() < 1e-9, "{c:?}");
}

#[test]
fn an_idle_gap_longer_than_idle_expiry_causes_a_cold_start() {
    // One record at t = 0 and one at 20 min (rate steps to 0 in between): with idle expiry
    // 10 min the second invocation is cold; with 30 min it is warm.
    let schedule = json!([{ "at": "1ms", "rate": 0 }, { "at": "20m", "rate": 1000 }, { "at": "20m1ms", "rate": 0 }]);
    let base = json!({
        "name": "gap", "duration": "30m",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 1000, "arrivals": "constant", "schedule": schedule }],
        "esm": { "scaling": { "mode": "parallelization_factor" } }
    });
    let mut short = base.clone();
    short["function"] = json!({ "cold_start": { "idle_expiry": "10m" } });
    let mut long = base;
    long["function"] = json!({ "cold_start": { "idle_expiry": "30m" } });
    assert_eq!(run_json(short).summary.invocations.cold_starts, 2);
    assert_eq!(run_json(long).summary.invocations.cold_starts, 1);
}

#[test]
fn throughput_and_latency_of_an_easy_topic() {
    // Far below capacity, everything produced more than a window before the end is committed,
    // and latency is the batching wait plus the function's time.
    let report = run_json(one_partition(100.0, 1000, "1s"));
    let s = &report.summary;
    assert!(s.records.pending_at_end <= 101);
    let p99 = s.latency_ms.p99.unwrap();
    assert!(p99 > 990.0 && p99 < 1_020.0, "p99 {p99}");
    assert_conserved(&report);
}
