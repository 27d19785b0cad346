//! Kafka record headers (`producers[].header_count`, `header_bytes`) in the payload.

mod common;

use serde_json::{Value, json};

/// 300-byte values, no key, 100 records/s on one partition for 60 s; the payload limit is
/// 10,000 bytes, so the payload decides every batch.
fn scenario(headers: Option<(u32, u64)>) -> Value {
    let mut s = json!({
        "name": "headers", "duration": "60s",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 100, "arrivals": "constant", "record_bytes": 300 }],
        "esm": { "batch_size": 100, "batching_window": "5s", "max_payload_bytes": 10000,
                 "scaling": { "mode": "parallelization_factor", "factor": 1 } }
    });
    if let Some((count, bytes)) = headers {
        s["producers"][0]["header_count"] = json!(count);
        s["producers"][0]["header_bytes"] = json!(bytes);
    }
    s
}

#[test]
fn headers_count_about_four_times_their_bytes_against_the_payload() {
    // Budget: 10,000 − 512 (envelope) = 9,488 bytes.
    // Without headers a record takes 4⌈300/3⌉ + 128 = 528 bytes: 17 fit (8,976; 18 take 9,504).
    let plain = common::run_json(scenario(None));
    assert_eq!(plain.summary.batches.max_records, 17);
    // Two headers of 100 bytes in all add 2 × 8 + 100 × 4 = 416 bytes: 944 per record, 10 fit
    // (9,440; 11 take 10,384).
    let with = common::run_json(scenario(Some((2, 100))));
    assert_eq!(with.summary.batches.max_records, 10);
    assert!(with.summary.batches.flushed_by_payload > 0);
    assert_eq!(with.summary.batches.flushed_by_payload, with.summary.batches.count);
    // The per-byte and per-header costs are parameters: at 3 bytes per byte and no overhead,
    // 300 + 528 = 828 per record, 11 fit (9,108; 12 take 9,936).
    let mut s = scenario(Some((2, 100)));
    s["esm"]["payload_header_byte_bytes"] = json!(3);
    s["esm"]["payload_header_overhead_bytes"] = json!(0);
    assert_eq!(common::run_json(s).summary.batches.max_records, 11);
}

#[test]
fn header_bytes_need_a_header_count() {
    let s = scenario(Some((0, 100)));
    let e = match esmsim::parse_scenario("h.json".as_ref(), &s.to_string(), &[]) {
        Ok(_) => panic!("should be refused"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("producers.0.header_count"), "{e}");
}
