//! Schema registry (`esm.schema_registry`), against answers worked out by hand.

mod common;

use common::{assert_conserved, config, run_json, scenario};
use esmsim::model::destination::Condition;
use esmsim::model::esm::registry::SchemaCheck;
use esmsim::model::value::RecordFilter;
use serde_json::{Value, json};

/// 1 partition, 100 records/s of 30,000-byte values (no key) for 60 s, read by one provisioned
/// poller: 3 MB/s stored, under the poller's 5 MB/s. Batches of up to 1,000 records and a 10 s
/// window, so the 6 MB payload is what flushes them. The function takes 1 ms per invocation.
fn payload_bound(format: &str) -> Value {
    json!({
        "name": "registry", "duration": "60s",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 100, "arrivals": "constant", "record_bytes": 30000, "key_bytes": 0 }],
        "esm": {
            "batch_size": 1000, "batching_window": "10s",
            "scaling": { "mode": "provisioned", "min_pollers": 1, "max_pollers": 1 },
            "schema_registry": {
                "kind": "confluent_cloud", "event_record_format": format, "validate": ["VALUE"],
                "json_size_factor": 2
            }
        },
        "function": { "memory_mb": 1024, "duration": { "base": "1ms", "per_record": "0ms" },
                      "cold_start": { "init": "0ms" } }
    })
}

#[test]
fn a_json_size_factor_of_2_halves_batch_fill_when_the_payload_binds() {
    // The payload rule (README, "Batching rules"): budget = 6,291,456 − 512 (envelope) =
    // 6,290,944 bytes for the records.
    // SOURCE: a record is 4⌈30,000/3⌉ + 128 = 40,128 bytes; 156 fit (6,259,968), 157 do not
    // (6,300,096). JSON, factor 2: the value is 60,000 bytes, 4 × 20,000 + 128 = 80,128 per
    // record; 78 fit (6,249,984), 79 do not (6,330,112). Half the records per batch.
    let mut source = payload_bound("SOURCE");
    source["esm"]["schema_registry"].as_object_mut().unwrap().remove("json_size_factor");
    let source = run_json(source);
    let json = run_json(payload_bound("JSON"));
    assert_eq!((source.summary.batches.max_records, json.summary.batches.max_records), (156, 78));
    // Every batch formed in the run fills to the cap and flushes by payload: the window (10 s)
    // is longer than a batch takes to fill (1.56 s, 0.78 s at 100 records/s).
    let produced = source.summary.records.produced;
    assert_eq!(json.summary.records.produced, produced);
    for (report, per_batch) in [(&source, 156), (&json, 78)] {
        let b = &report.summary.batches;
        assert_eq!((b.count, b.flushed_by_payload), (produced / per_batch, produced / per_batch));
        assert_eq!(report.summary.invocations.total, produced / per_batch);
        assert_eq!(report.summary.records.succeeded, produced / per_batch * per_batch);
        assert_conserved(report);
    }
    // The pollers read the records as stored either way (EventPollerThroughputInBytes): the
    // same bytes, so the same single EPU (3 MB/s is far below 20 MB/s per EPU).
    assert_eq!(source.summary.cost_usd.pollers, json.summary.cost_usd.pollers);
    assert_eq!(source.summary.cloudwatch.polled_event_count, produced / 156 * 156);
}

#[test]
fn the_epu_factor_scales_throughput_towards_event_poller_units() {
    // 3 MB/s polled (100 records/s × 30,000 bytes, in batches every 1.56 s) is 0.15 EPU by
    // throughput (20 MB/s per EPU): one whole EPU. An epu_factor of 10 counts 30 MB/s: 1.5 EPU,
    // two whole ones. Each 30 s window polls 19 batches (2.96 MB/s, ×10 = 1.48 → 2), and the
    // run's two windows are both billed 2 EPUs: 2 × 60 s = 1/30 EPU-hour × $0.185 = $0.0061667,
    // twice the $0.0030833 of one EPU for a minute.
    let mut base = payload_bound("SOURCE");
    base["esm"]["schema_registry"].as_object_mut().unwrap().remove("json_size_factor");
    let one = run_json(base.clone());
    base["esm"]["schema_registry"]["epu_factor"] = json!(10);
    let ten = run_json(base);
    assert!((one.summary.cost_usd.pollers - 0.185 / 60.0).abs() < 1e-9, "{}", one.summary.cost_usd.pollers);
    assert!((ten.summary.cost_usd.pollers - 0.185 / 30.0).abs() < 1e-9, "{}", ten.summary.cost_usd.pollers);
    // Nothing else changes.
    assert_eq!(one.summary.records, ten.summary.records);
    assert_eq!(one.summary.invocations, ten.summary.invocations);
}

/// 1 partition, 100 records/s for 100 s (constant: 10,000 records), then nothing; batches of
/// 10, window 1 s; a function of 10 ms + 1 ms per record; 10 % of the records fail to
/// deserialise. The run lasts 200 s, so everything that can be committed is.
fn failing(destination: Option<&str>) -> Value {
    let mut s = json!({
        "name": "registry", "duration": "200s",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 100, "arrivals": "constant", "schedule": [{ "at": "100s", "rate": 0 }],
                        "record_bytes": 100 }],
        "esm": {
            "batch_size": 10, "batching_window": "1s",
            "scaling": { "mode": "provisioned", "min_pollers": 1, "max_pollers": 1 },
            "schema_registry": { "kind": "glue", "event_record_format": "SOURCE", "validate": ["VALUE"],
                                 "deserialization_error_rate": 0.1 }
        },
        "function": { "memory_mb": 1024, "duration": { "base": "10ms", "per_record": "1ms" },
                      "cold_start": { "init": "0ms" } }
    });
    if let Some(kind) = destination {
        s["esm"]["on_failure_destination"] = json!({ "kind": kind });
    }
    s
}

/// The registry's verdict on offsets `0..n` of partition 0, from the compiled scenario.
fn verdicts(s: &Value, n: u64) -> Vec<Option<Condition>> {
    let c = config(&scenario(s.clone()));
    let check = SchemaCheck::new(&c.esm.registry.unwrap(), c.seed).unwrap();
    (0..n).map(|o| check.verdict(0, o)).collect()
}

#[test]
fn a_10_percent_deserialization_error_rate_sends_10_percent_to_the_destination() {
    let s = failing(Some("sqs"));
    let n = 10_000u64;
    let v = verdicts(&s, n);
    let bad = v.iter().filter(|c| c.is_some()).count() as u64;
    // 10,000 draws at p = 0.1: 1,000 ± 5σ, σ = √(10,000 × 0.1 × 0.9) = 30.
    assert!(bad.abs_diff(1_000) < 150, "{bad} failed");
    assert!(v.iter().all(|c| *c != Some(Condition::SchemaNotFound)));
    // Records after the last valid one ride in no batch: nothing commits past them.
    let last_valid = (0..n).rev().find(|&o| v[o as usize].is_none()).unwrap();
    let turned_away = v[..last_valid as usize].iter().filter(|c| c.is_some()).count() as u64;

    let report = run_json(s);
    let r = &report.summary.records;
    assert_conserved(&report);
    assert_eq!(r.produced, n);
    // The valid records reach the function, ten to a batch; the others never do.
    assert_eq!(r.succeeded, n - bad);
    assert_eq!(report.summary.invocations.total, (n - bad).div_ceil(10));
    assert_eq!(report.summary.cloudwatch.invoked_event_count, n - bad);
    // Every failed record up to the last valid one went to the destination, one failure
    // record each, with AWS's reason code and no invocation behind it.
    assert_eq!(r.to_destination, turned_away);
    assert_eq!(r.pending_at_end, n - (last_valid + 1));
    let registry = report.summary.schema_registry.as_ref().expect("reported with a registry");
    assert_eq!((registry.schema_not_found, registry.deserialization_error), (0, turned_away));
    assert_eq!(report.destination.len() as u64, turned_away);
    for line in &report.destination {
        let record: Value = serde_json::from_str(line).unwrap();
        assert_eq!(record["requestContext"]["condition"], "DESERIALIZATION_ERROR");
        assert_eq!(record["requestContext"]["approximateInvokeCount"], 0);
        assert_eq!(record["responseContext"], Value::Null);
        assert_eq!(record["KafkaBatchInfo"]["batchSize"], 1);
        // The record as stored, base64: 4⌈100/3⌉ + 128 = 264, plus the 512-byte envelope.
        assert_eq!(record["KafkaBatchInfo"]["payloadSize"], 776);
    }
    // CloudWatch: polled, not invoked, not filtered out, delivered to the destination.
    let cw = &report.summary.cloudwatch;
    assert_eq!(cw.polled_event_count, last_valid + 1);
    assert_eq!(cw.filtered_out_event_count, 0);
    assert_eq!(cw.on_failure_destination_delivered_event_count, turned_away);
    assert_eq!(cw.dropped_event_count, 0);
    assert_eq!(cw.committed_event_count, last_valid + 1);
}

#[test]
fn without_a_destination_failed_records_are_dropped() {
    let s = failing(None);
    let v = verdicts(&s, 10_000);
    let last_valid = (0..10_000).rev().find(|&o| v[o].is_none()).unwrap();
    let turned_away = v[..last_valid].iter().filter(|c| c.is_some()).count() as u64;
    let report = run_json(s);
    assert_conserved(&report);
    assert_eq!((report.summary.records.discarded, report.summary.records.to_destination), (turned_away, 0));
    assert_eq!(report.summary.cloudwatch.dropped_event_count, turned_away);
    assert!(report.destination.is_empty());
}

#[test]
fn failed_records_are_not_filtered_and_valid_ones_are() {
    // Filtering runs after deserialisation: with a filter keeping 30 % ("keep") and 5 % of
    // records without a schema, a record without a schema goes to the destination whatever its
    // value; a valid one is sent if it matches, else filtered out.
    let mut s = failing(Some("s3"));
    s["esm"]["schema_registry"] = json!({ "kind": "confluent_self_managed", "event_record_format": "JSON",
        "validate": ["VALUE"], "schema_format": "JSON", "schema_not_found_rate": 0.05 });
    s["producers"][0]["value"] =
        json!({ "fields": { "kind": { "one_of": { "values": ["keep", "drop"], "weights": [3, 7] } } } });
    s["esm"]["filter_criteria"] = json!({ "Filters": [{ "Pattern": r#"{"value": {"kind": ["keep"]}}"# }] });
    let n = 10_000u64;
    let v = verdicts(&s, n);
    let c = config(&scenario(s.clone()));
    let filter = RecordFilter {
        patterns: c.esm.filters.clone().unwrap(),
        templates: vec![c.producers[0].value.clone().unwrap()],
        seed: c.seed,
    };
    let sent: Vec<bool> = (0..n).map(|o| v[o as usize].is_none() && filter.matches(0, 0, o)).collect();
    let last_sent = (0..n).rev().find(|&o| sent[o as usize]).unwrap();
    let upto = |want: &dyn Fn(u64) -> bool| (0..=last_sent).filter(|&o| want(o)).count() as u64;
    let missing = upto(&|o| v[o as usize] == Some(Condition::SchemaNotFound));
    let missing_but_matching = upto(&|o| v[o as usize].is_some() && filter.matches(0, 0, o));
    let filtered = upto(&|o| v[o as usize].is_none() && !filter.matches(0, 0, o));
    // Some records without a schema would have matched the filter: they too are turned away.
    assert!(missing_but_matching > 0 && missing_but_matching < missing);

    let report = run_json(s);
    let r = &report.summary.records;
    assert_conserved(&report);
    assert_eq!(r.succeeded, upto(&|o| sent[o as usize]));
    assert_eq!(r.to_destination, missing);
    assert_eq!(r.filtered_out, Some(filtered));
    assert_eq!(report.summary.schema_registry.as_ref().unwrap().schema_not_found, missing);
    assert_eq!(report.summary.cloudwatch.filtered_out_event_count, filtered);
    // A JSON Schema record is JSON already: the default size factor is 1, so the S3 failure
    // records' payloads and the batches are as without a registry.
    assert!(report.destination.iter().all(|l| l.contains(r#""condition":"SCHEMA_NOT_FOUND""#)));
    assert_eq!(report.destination.len() as u64, missing);
}

#[test]
fn validation_draws_shift_no_other_draw() {
    // The verdicts are a hash of their own: producers' arrivals and the function's durations
    // are the same with and without failing records. Without failures every record is sent.
    let with = run_json(failing(Some("sqs")));
    let mut s = failing(Some("sqs"));
    s["esm"]["schema_registry"]["deserialization_error_rate"] = json!(0);
    let without = run_json(s);
    assert_eq!(with.summary.records.produced, without.summary.records.produced);
    let produced = |r: &esmsim::Report| r.timeseries.iter().map(|row| row.produced_records).collect::<Vec<_>>();
    assert_eq!(produced(&with), produced(&without));
    assert_eq!(without.summary.records.succeeded, 10_000);
    assert_eq!(without.summary.schema_registry.as_ref().map(|g| g.deserialization_error), Some(0));
    // A registry that validates nothing away and keeps sizes changes nothing but the report's
    // schema_registry section.
    let mut plain = failing(Some("sqs"));
    plain["esm"].as_object_mut().unwrap().remove("schema_registry");
    let plain = run_json(plain);
    assert_eq!(plain.summary.records, without.summary.records);
    assert_eq!(plain.summary.invocations, without.summary.invocations);
    assert_eq!(plain.summary.schema_registry, None);
}

#[test]
fn bad_registries_are_refused_with_one_line() {
    let err = |s: Value| match esmsim::parse_scenario("r.json".as_ref(), &s.to_string(), &[]) {
        Ok(_) => panic!("should be refused: {s}"),
        Err(e) => e.to_string(),
    };
    let base = failing(Some("sqs"));
    let with = |path: &[&str], v: Value| {
        let mut s = base.clone();
        let mut at = &mut s;
        for key in &path[..path.len() - 1] {
            at = &mut at[*key];
        }
        at[path[path.len() - 1]] = v;
        s
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            with(&["esm", "scaling"], json!({ "mode": "on_demand" })),
            "esm.schema_registry: needs esm.scaling.mode provisioned",
        ),
        (with(&["esm", "scaling"], json!({ "mode": "parallelization_factor" })), "mode is parallelization_factor"),
        (with(&["esm", "schema_registry", "validate"], json!([])), "esm.schema_registry.validate: is empty"),
        (with(&["esm", "schema_registry", "validate"], json!(["KEY", "KEY"])), "names an attribute twice"),
        (with(&["esm", "schema_registry", "validate"], json!(["HEADERS"])), "unknown variant `HEADERS`"),
        (with(&["esm", "schema_registry", "kind"], json!("apicurio")), "unknown variant `apicurio`"),
        (with(&["esm", "schema_registry", "event_record_format"], json!("AVRO")), "unknown variant `AVRO`"),
        (
            with(&["esm", "schema_registry", "schema_not_found_rate"], json!(0.95)),
            "esm.schema_registry.deserialization_error_rate: 0.1 plus schema_not_found_rate 0.95 is more than 1",
        ),
        (with(&["esm", "schema_registry", "deserialization_error_rate"], json!(-0.1)), "allowed: 0 to 1"),
        (
            with(&["esm", "schema_registry", "json_size_factor"], json!(2)),
            "esm.schema_registry.json_size_factor: applies only with event_record_format \"JSON\"",
        ),
        (
            with(&["esm", "schema_registry", "epu_factor"], json!(0.5)),
            "esm.schema_registry.epu_factor: 0.5 is out of range",
        ),
        (
            with(&["esm", "bisect_batch_on_function_error"], json!(true)),
            "esm.bisect_batch_on_function_error: not modelled together with schema_not_found_rate",
        ),
        (with(&["failures"], json!({ "poison_rate": 0.01 })), "failures.poison_rate: not modelled together"),
    ];
    for (s, expected) in cases {
        let e = err(s);
        assert!(e.contains(expected), "{e}\nshould contain: {expected}");
        assert!(!e.contains('\n'), "one line: {e}");
    }
    // JSON with a factor out of range.
    let mut s = with(&["esm", "schema_registry", "event_record_format"], json!("JSON"));
    s["esm"]["schema_registry"]["json_size_factor"] = json!(0.5);
    assert!(err(s).contains("json_size_factor: 0.5 is out of range; allowed: 1 to 20"));
    // Without failure rates, bisect is fine: nothing is held back.
    let mut s = with(&["esm", "bisect_batch_on_function_error"], json!(true));
    s["esm"]["schema_registry"]["deserialization_error_rate"] = json!(0);
    assert!(esmsim::parse_scenario("r.json".as_ref(), &s.to_string(), &[]).is_ok());
}

#[test]
fn a_kafka_topic_destination_gets_each_failed_record_once() {
    // Every invocation fails (transient_error_rate 1) and is not retried: each batch of valid
    // records goes to the Kafka topic one message per record as RetryAttemptsExhausted, and each
    // record that failed to deserialise once, as DESERIALIZATION_ERROR — never both, although it
    // lies in the failed batch's offset range.
    let mut s = failing(Some("kafka"));
    s["esm"]["maximum_retry_attempts"] = json!(0);
    s["failures"] = json!({ "transient_error_rate": 1.0 });
    let n = 10_000u64;
    let v = verdicts(&s, n);
    let bad = v.iter().filter(|c| c.is_some()).count() as u64;
    let last_valid = (0..n).rev().find(|&o| v[o as usize].is_none()).unwrap();
    let turned_away = v[..last_valid as usize].iter().filter(|c| c.is_some()).count() as u64;

    let report = run_json(s);
    assert_conserved(&report);
    assert_eq!(report.summary.records.succeeded, 0);
    assert_eq!(report.summary.records.to_destination, (n - bad) + turned_away);
    let mut offsets = std::collections::BTreeMap::new();
    for line in &report.destination {
        let record: Value = serde_json::from_str(line).unwrap();
        let offset: u64 = record["KafkaBatchInfo"]["recordInfo"]["offset"].as_str().unwrap().parse().unwrap();
        let condition = record["requestContext"]["condition"].as_str().unwrap().to_string();
        assert_eq!(offsets.insert(offset, condition), None, "offset {offset} written twice");
    }
    assert_eq!(offsets.len() as u64, (n - bad) + turned_away);
    for (offset, condition) in offsets {
        let expected = if v[offset as usize].is_some() { "DESERIALIZATION_ERROR" } else { "RetryAttemptsExhausted" };
        assert_eq!(condition, expected, "offset {offset}");
    }
}
