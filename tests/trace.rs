//! Traces replay a seed's story: byte-identical across repeats, and `explain` reads one
//! record's life back from them.

use assert_cmd::Command;
use esmsim::trace::event::TraceEvent;
use std::path::Path;
use tempfile::TempDir;

const POISON: &str = r#"{
  "name": "trace", "duration": "2m",
  "topic": { "partitions": 2 },
  "producers": [{ "rate": 20, "arrivals": "constant", "partitioning": "round_robin" }],
  "esm": { "batch_size": 64, "batching_window": "2s", "bisect_batch_on_function_error": true,
           "maximum_retry_attempts": 2, "on_failure_destination": { "kind": "sqs" },
           "scaling": { "mode": "parallelization_factor", "factor": 2 } },
  "failures": { "poison_records": [{ "partition": 1, "offset": 30 }] }
}"#;

fn esmsim() -> Command {
    Command::cargo_bin("esmsim").unwrap()
}

fn trace(dir: &Path, name: &str, extra: &[&str]) -> String {
    let scenario = dir.join("s.json");
    std::fs::write(&scenario, POISON).unwrap();
    let file = dir.join(name);
    esmsim()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(dir.join(format!("out-{name}")))
        .arg("--trace")
        .arg(&file)
        .args(extra)
        .assert()
        .success();
    std::fs::read_to_string(file).unwrap()
}

#[test]
fn a_trace_is_byte_identical_across_repeats_of_one_seed() {
    let dir = TempDir::new().unwrap();
    let a = trace(dir.path(), "a.jsonl", &[]);
    let b = trace(dir.path(), "b.jsonl", &[]);
    let c = trace(dir.path(), "c.jsonl", &["--seed", "2"]);
    assert_eq!(a, b);
    assert_ne!(a, c);
    let events: Vec<serde_json::Value> = a.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events[0]["event"], "header");
    let times: Vec<u64> = events[1..].iter().map(|e| e["t_ns"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "events in time order");
    for kind in
        ["batch_formed", "invoke_start", "invoke_end", "bisect", "retry_scheduled", "resolved", "commit", "destination"]
    {
        assert!(events.iter().any(|e| e["event"] == kind), "no {kind} event");
    }
    assert!(events.iter().any(|e| e["event"] == "invoke_start" && e["redelivery"] == true));
}

#[test]
fn every_trace_line_reads_back_as_a_typed_event_that_prints_the_same_line() {
    let dir = TempDir::new().unwrap();
    for (name, extra) in [("all.jsonl", &[][..]), ("one.jsonl", &["--trace-partition", "1"][..])] {
        for line in trace(dir.path(), name, extra).lines() {
            let event: TraceEvent = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert_eq!(event.to_string(), line);
        }
    }
}

#[test]
fn explain_tells_a_poison_records_life() {
    let dir = TempDir::new().unwrap();
    trace(dir.path(), "p.jsonl", &["--trace-partition", "1"]);
    let output = esmsim()
        .arg("explain")
        .arg(dir.path().join("p.jsonl"))
        .args(["--partition", "1", "--offset", "30"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    // Record 30 of partition 1 arrives at 3.05 s (every 100 ms on partition 1, from 50 ms).
    assert!(text.contains("arrived: 3.050 s"), "{text}");
    assert!(text.contains("the handler threw at this record"), "{text}");
    assert!(text.contains("bisected: this record is in the"), "{text}");
    assert!(text.contains("sent to the on-failure destination (RetryAttemptsExhausted"), "{text}");
    assert!(text.contains("resolved: destination"), "{text}");
    let missing = esmsim()
        .arg("explain")
        .arg(dir.path().join("p.jsonl"))
        .args(["--partition", "0", "--offset", "3"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8(missing.stderr).unwrap().contains("does not appear in the trace"));
}

#[test]
fn a_trace_partition_that_does_not_exist_is_rejected_without_output() {
    let dir = TempDir::new().unwrap();
    let scenario = dir.path().join("s.json");
    std::fs::write(&scenario, POISON).unwrap();
    let file = dir.path().join("t.jsonl");
    let output = esmsim()
        .arg("run")
        .arg(&scenario)
        .arg("--trace")
        .arg(&file)
        .args(["--trace-partition", "9", "--out"])
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8(output.stderr).unwrap().starts_with("error: --trace-partition: partition 9 does not exist")
    );
    assert!(!file.exists() && !dir.path().join("o").exists());
}
