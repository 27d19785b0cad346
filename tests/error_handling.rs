//! Error handling against answers worked out by hand (issue: error handling and poison pills).

mod common;
use common::*;
use esmsim::Outcome;
use esmsim::model::destination::Condition;
use esmsim::model::record::RecordKey;
use serde_json::{Value, json};

/// [`common::one_batch`] with a poison record at `poison`.
fn one_batch(records: u32, poison: u64) -> Value {
    let mut s = common::one_batch(records);
    s["failures"] = json!({ "poison_records": [{ "partition": 0, "offset": poison }] });
    s
}

#[test]
fn bisect_isolates_a_poison_record_in_a_64_record_batch_with_13_invocations() {
    // Halving 64 → 32 → 16 → 8 → 4 → 2 → 1: seven failing invocations (one per size) and six
    // successful sibling halves. With no retries the single poison record is then dropped.
    let mut s = one_batch(64, 20);
    s["esm"]["bisect_batch_on_function_error"] = json!(true);
    s["esm"]["maximum_retry_attempts"] = json!(0);
    let (report, log) = run_logged(&scenario(s));
    let sizes: Vec<u32> = log.started.iter().map(|&(_, _, n, _)| n).collect();
    // Poison at 20: [0,64) ✗, [0,32) ✗, [0,16) ✓, [16,32) ✗, [16,24) ✗, [16,20) ✓, [20,24) ✗,
    // [20,22) ✗, [20,21) ✗ (given up), [21,22) ✓, [22,24) ✓, [24,32) ✓, [32,64) ✓.
    assert_eq!(sizes, vec![64, 32, 16, 16, 8, 4, 4, 2, 1, 1, 2, 8, 32]);
    assert_eq!(report.summary.invocations.total, 13);
    assert_eq!(report.summary.invocations.failed, 7);
    assert_eq!(log.bisects, 6);
    let r = &report.summary.records;
    assert_eq!((r.succeeded, r.discarded, r.pending_at_end), (63, 1, 0));
    let pill = &report.summary.poison_pills[0];
    assert_eq!((pill.partition, pill.offset, pill.outcome.as_str(), pill.attempts), (0, 20, "discarded", 7));
    assert!(pill.isolated_s.is_some() && pill.resolved_s >= pill.isolated_s);
}

fn partial(commit: &str) -> Value {
    let mut s = one_batch(100, 47);
    s["failures"]["handler"] = json!("report_failures");
    s["esm"]["function_response_types"] = json!(["ReportBatchItemFailures"]);
    s["esm"]["partial_batch_commit"] = json!(commit);
    s["esm"]["maximum_retry_attempts"] = json!(2);
    s
}

#[test]
fn lowest_failure_redelivers_the_tail_and_per_record_only_the_failure() {
    // Poison at offset 47 of a 100-record batch, three attempts (two retries).
    // lowest_failure: commit 0..47, redeliver 47..100 (53 records) twice = 106 redeliveries.
    // per_record: 99 records are done after the first attempt; only offset 47 is redelivered,
    // twice = 2.
    let lowest = run_json(partial("lowest_failure")).summary;
    let per_record = run_json(partial("per_record")).summary;
    assert_eq!(lowest.records.redelivered, 106);
    assert_eq!(per_record.records.redelivered, 2);
    for s in [&lowest, &per_record] {
        assert_eq!(s.invocations.total, 3);
        assert_eq!(s.invocations.partial_failures, 3);
        // 48..99 were processed without error, so they succeed even though their batch gave up.
        assert_eq!((s.records.succeeded, s.records.discarded), (99, 1));
    }
}

#[test]
fn retry_attempts_n_give_n_plus_one_attempts_then_the_destination() {
    let mut s = one_batch(10, 4);
    s["esm"]["maximum_retry_attempts"] = json!(3);
    s["esm"]["on_failure_destination"] = json!({ "kind": "sqs" });
    let (report, log) = run_logged(&scenario(s));
    assert_eq!(report.summary.invocations.total, 4);
    assert_eq!(log.destination.len(), 1);
    let (_, segments, condition, count) = &log.destination[0];
    assert_eq!((*condition, *count), (Condition::RetryAttemptsExhausted, 4));
    assert_eq!(segments[0].start..segments[0].end, 0..10);
    // 0..4 were processed before the handler threw at 4; 4..10 failed in the last delivery.
    let r = &report.summary.records;
    assert_eq!((r.succeeded, r.to_destination, r.discarded), (4, 6, 0));
    let line: Value = serde_json::from_str(&report.destination[0]).unwrap();
    assert_eq!(line["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(line["requestContext"]["approximateInvokeCount"], 4);
    assert_eq!(line["KafkaBatchInfo"]["batchSize"], 10);
    assert_eq!(line["KafkaBatchInfo"]["recordsInfo"]["events-0"]["firstRecordOffset"], "0");
    assert_eq!(line["KafkaBatchInfo"]["recordsInfo"]["events-0"]["lastRecordOffset"], "9");
    assert!(line.get("payload").is_none(), "SQS gets metadata only");
}

#[test]
fn infinite_retries_with_a_destination_stop_at_10() {
    let mut s = one_batch(10, 4);
    s["esm"]["on_failure_destination"] = json!({ "kind": "sns" });
    let report = run_json(s);
    assert_eq!(report.summary.invocations.total, 11);
    let line: Value = serde_json::from_str(&report.destination[0]).unwrap();
    assert_eq!(line["requestContext"]["approximateInvokeCount"], 11);
    assert!(line.get("payload").is_none(), "SNS records carry metadata only (kafka-on-failure)");
}

#[test]
fn record_age_60s_ends_a_stall_after_about_60s() {
    // Ten records a second. Batches span 500 ms windows: [24, 30) opens at 2.4 s, flushes at
    // 2.9 s and fails at 2.91 s on the poison record 24. Retries come every 1.01 s (1 s backoff
    // plus 10 ms of handler): k = 0 … 58 fail, and retry 59 at 2.91 + 59 × 1.01 = 62.50 s is the
    // first after record 24 turned 60 s old (62.4 s). It is given up; the other five records of
    // the batch are younger and go through, ending a stall of 62.50 − 2.91 = 59.59 s.
    let s = json!({
        "name": "age", "duration": "5m",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 10, "arrivals": "constant" }],
        "esm": { "maximum_record_age": 60, "scaling": { "mode": "parallelization_factor" } },
        "failures": { "poison_records": [{ "partition": 0, "offset": 24 }] }
    });
    let report = run_json(s);
    let stall = &report.summary.stalls;
    assert_eq!(stall.count, 1);
    assert!((59.5..=59.7).contains(&stall.longest_seconds), "{stall:?}");
    let pill = &report.summary.poison_pills[0];
    let resolved = pill.resolved_s.unwrap();
    assert!((62.49..=62.51).contains(&resolved), "{pill:?}");
    assert_eq!(pill.outcome, "discarded");
    assert_eq!(pill.attempts, 59);
    assert_eq!(report.summary.records.discarded, 1);
    assert!(report.summary.lag.final_records < 20);
}

#[test]
fn the_missing_report_batch_item_failures_pitfall_loses_exactly_the_reported_records() {
    let mut s = one_batch(100, 10);
    s["failures"]["handler"] = json!("report_failures");
    s["failures"]["poison_records"] =
        json!([{ "partition": 0, "offset": 10 }, { "partition": 0, "offset": 55 }, { "partition": 0, "offset": 99 }]);
    let report = run_json(s);
    let r = &report.summary.records;
    assert_eq!((r.succeeded, r.discarded, r.redelivered), (97, 3, 0));
    assert_eq!(report.summary.invocations.total, 1);
    assert_eq!(report.summary.invocations.failed, 0);
    // With ReportBatchItemFailures the same batch retries instead of losing them.
    let mut fixed = one_batch(100, 10);
    fixed["failures"]["handler"] = json!("report_failures");
    fixed["esm"]["function_response_types"] = json!(["ReportBatchItemFailures"]);
    assert_eq!(run_json(fixed).summary.records.discarded, 0);
}

#[test]
fn an_oversize_record_goes_out_with_maximum_payload_size_exceeded() {
    // 5,000,000 value bytes become 6,666,667 in base64: more than 6 MB on their own.
    let s = json!({
        "name": "oversize", "duration": "1m",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 100, "arrivals": "constant", "record_bytes": 5_000_000,
                        "schedule": [{ "at": "10ms", "rate": 0 }] }],
        "esm": { "on_failure_destination": { "kind": "s3" }, "scaling": { "mode": "parallelization_factor" } }
    });
    let report = run_json(s);
    assert_eq!(report.summary.records.to_destination, 1);
    assert_eq!(report.summary.invocations.total, 0);
    let line: Value = serde_json::from_str(&report.destination[0]).unwrap();
    assert_eq!(line["requestContext"]["condition"], "MaximumPayloadSizeExceeded");
    assert_eq!(line["requestContext"]["approximateInvokeCount"], 0);
    assert!(line["responseContext"].is_null());
    // S3 carries the payload, as an escaped JSON string.
    let payload: Value = serde_json::from_str(line["payload"].as_str().expect("a string")).unwrap();
    assert!(payload["records"]["events-0"].is_array(), "{payload}");
}

#[test]
fn a_crash_destroys_the_environment_so_the_next_invocation_is_cold() {
    let mut s = one_batch(10, 4);
    s["failures"]["poison_records"][0]["effect"] = json!("crash");
    s["esm"]["maximum_retry_attempts"] = json!(2);
    let (report, log) = run_logged(&scenario(s));
    let cold: Vec<bool> = log.started.iter().map(|&(_, _, _, cold)| cold).collect();
    assert_eq!(cold, vec![true, true, true], "every attempt after a crash starts cold");
    assert_eq!(report.summary.invocations.cold_starts, 3);
    // Errors keep the environment warm.
    let mut plain = one_batch(10, 4);
    plain["esm"]["maximum_retry_attempts"] = json!(2);
    let (_, log) = run_logged(&scenario(plain));
    assert_eq!(log.started.iter().filter(|s| s.3).count(), 1);
}

#[test]
fn a_hanging_record_fails_the_whole_batch_even_with_partial_responses() {
    let mut s = partial("lowest_failure");
    s["failures"]["poison_records"][0]["effect"] = json!("timeout");
    let (report, log) = run_logged(&scenario(s));
    assert!(
        log.ended
            .iter()
            .all(|(_, _, o)| matches!(o, Outcome::Timeout { at: Some(RecordKey { lane: 0, position: 47 }) }))
    );
    assert_eq!(report.summary.invocations.timed_out, 3);
    // 0..47 were processed before the hang, so they count as succeeded; 47..100 were not.
    let r = &report.summary.records;
    assert_eq!((r.succeeded, r.discarded), (47, 53));
}

#[test]
fn transient_errors_fail_about_their_share_of_invocations() {
    let s = json!({
        "name": "transient", "duration": "1h",
        "topic": { "partitions": 4 },
        "producers": [{ "rate": 200 }],
        "esm": { "scaling": { "mode": "parallelization_factor", "factor": 4 } },
        "failures": { "transient_error_rate": 0.2 }
    });
    let summary = run_json(s).summary;
    let share = summary.invocations.failed as f64 / summary.invocations.total as f64;
    assert!((share - 0.2).abs() < 0.02, "{share}");
    assert_eq!(summary.records.discarded + summary.records.to_destination, 0, "retried until they succeed");
    assert!(summary.records.redelivered > 0);
}

#[test]
fn an_outage_fails_every_invocation_and_the_topic_recovers_after_it() {
    let s = json!({
        "name": "outage", "duration": "30m", "sample_interval": "1m",
        "topic": { "partitions": 2 },
        "producers": [{ "rate": 100, "arrivals": "constant" }],
        "esm": { "batch_size": 1000, "scaling": { "mode": "parallelization_factor", "factor": 2 },
                 "retry_backoff": { "initial": "1s", "max": "30s" } },
        "function": { "timeout": "30s", "duration": { "base": "10ms", "per_record": "1ms" } },
        "faults": [{ "kind": "function_outage", "from": "10m", "until": "15m" }]
    });
    let report = run_json(s);
    let rows = &report.timeseries;
    // Minutes 11 to 15 commit nothing; by minute 20 the backlog has drained.
    assert!(rows[10..15].iter().all(|r| r.succeeded_records == 0), "{:?}", &rows[10..15]);
    assert!(rows[11].errors > 0);
    assert!(rows[19].lag_records < 500, "{:?}", rows[19]);
    assert_eq!(report.summary.stalls.count, 2);
}

#[test]
fn a_kafka_destination_gets_one_message_per_record() {
    let mut s = one_batch(10, 4);
    s["esm"]["maximum_retry_attempts"] = json!(0);
    s["esm"]["on_failure_destination"] = json!({ "kind": "kafka" });
    let report = run_json(s);
    assert_eq!(report.destination.len(), 10);
    let line: Value = serde_json::from_str(&report.destination[4]).unwrap();
    assert_eq!(line["KafkaBatchInfo"]["recordInfo"]["offset"], "4");
    assert_eq!(line["payload"]["records"]["events-0"][0]["offset"], 4);
}

#[test]
fn sns_records_carry_metadata_and_the_payload_size_only() {
    // 100 records of 4,000 bytes: 4⌈4,000 / 3⌉ = 5,336 base64 bytes each, so
    // 100 × (5,336 + 128) + 512 = 546,912 payload bytes.
    let mut big = one_batch(100, 4);
    big["producers"][0]["record_bytes"] = json!(4_000);
    big["esm"]["maximum_retry_attempts"] = json!(0);
    big["esm"]["on_failure_destination"] = json!({ "kind": "sns" });
    let line: Value = serde_json::from_str(&run_json(big).destination[0]).unwrap();
    assert_eq!(line["KafkaBatchInfo"]["payloadSize"], 546_912);
    assert!(line.get("payload").is_none(), "{line}");
}

#[test]
fn a_partial_batch_response_is_not_an_error_but_stalls_its_partition() {
    // The function returns normally: CloudWatch counts no error. But the partition cannot commit
    // past the reported record until it is given up: one stall, however many partial responses.
    let report = run_json(partial("lowest_failure"));
    assert_eq!(report.timeseries.iter().map(|r| r.errors).sum::<u64>(), 0);
    assert_eq!(report.summary.stalls.count, 1);
    assert_eq!(report.summary.poison_pills[0].attempts, 3);
}
