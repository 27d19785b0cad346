//! The user's real handler in the loop, through the Lambda Runtime API, with AWS's own Python
//! runtime interface client (`awslambdaric`, installed by pip into a virtual environment under
//! the target directory on first use). Every count below is worked out by hand from the
//! scenario `examples/handlers/poison.json`: 16 records at t = 0 … 10 ms on one partition, one
//! batch of 16, the record at offset 5 poison, one retry, an SQS on-failure destination.
//!
//! Without python3 these tests pass after saying they skipped; with python3, a venv that cannot
//! be built (pip cannot reach PyPI) fails them.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tempfile::TempDir;

const SCENARIO: &str = "examples/handlers/poison.json";

/// The venv's python, creating the venv once; `None` (with a message) without python3.
fn python() -> Option<PathBuf> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    PYTHON.get_or_init(make_venv).clone()
}

fn make_venv() -> Option<PathBuf> {
    let found = std::process::Command::new("python3").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: python3 is not installed; the real-handler tests need it");
        return None;
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("handler-venv");
    let python = venv.join("bin/python");
    let ready = |p: &Path| {
        std::process::Command::new(p).args(["-c", "import awslambdaric"]).output().is_ok_and(|o| o.status.success())
    };
    if ready(&python) {
        return Some(python);
    }
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.output().expect("runs");
        assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run(std::process::Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "awslambdaric",
    ]));
    assert!(ready(&python), "awslambdaric did not install into {}", venv.display());
    Some(python)
}

/// The `--handler` command for a module under `dir` (`examples/handlers` or `tests/handlers`).
fn ric(python: &Path, module: &str) -> String {
    format!("{} -m awslambdaric {module}.handler", python.display())
}

struct Run {
    summary: Value,
    destination: Vec<Value>,
    /// Every output file's bytes, by name, and the trace's.
    files: Vec<(String, Vec<u8>)>,
    stdout: String,
}

fn esmsim(handler: &str, sets: &[&str], dir: &Path, extra: &[&str]) -> std::process::Output {
    esmsim_on(SCENARIO, handler, sets, dir, extra)
}

fn esmsim_on(scenario: &str, handler: &str, sets: &[&str], dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("esmsim").unwrap();
    cmd.arg("run").arg(scenario).arg("--handler").arg(handler).arg("--no-charts");
    for set in sets {
        cmd.arg("--set").arg(set);
    }
    cmd.arg("--out").arg(dir.join("out")).arg("--trace").arg(dir.join("trace.jsonl")).args(extra);
    cmd.output().unwrap()
}

fn run_on(scenario: &str, handler: &str, sets: &[&str]) -> Run {
    let dir = TempDir::new().unwrap();
    let output = esmsim_on(scenario, handler, sets, dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.is_empty(), "no warnings expected: {stderr}");
    let out = dir.path().join("out");
    let read = |name: &str| std::fs::read(out.join(name)).unwrap_or_default();
    let summary = serde_json::from_slice(&read("summary.json")).unwrap();
    let destination = String::from_utf8(read("destination.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut files: Vec<(String, Vec<u8>)> = ["summary.json", "timeseries.csv", "cloudwatch.csv", "destination.jsonl"]
        .iter()
        .map(|n| (n.to_string(), read(n)))
        .collect();
    files.push(("trace.jsonl".into(), std::fs::read(dir.path().join("trace.jsonl")).unwrap()));
    Run { summary, destination, files, stdout: String::from_utf8(output.stdout).unwrap() }
}

/// Two runs give the same bytes in every file; the first is returned.
fn run_twice(handler: &str, sets: &[&str]) -> Run {
    run_twice_on(SCENARIO, handler, sets)
}

fn run_twice_on(scenario: &str, handler: &str, sets: &[&str]) -> Run {
    let first = run_on(scenario, handler, sets);
    let second = run_on(scenario, handler, sets);
    for ((name, a), (_, b)) in first.files.iter().zip(&second.files) {
        assert!(a == b, "{name} differs between two runs");
    }
    first
}

fn counts(s: &Value) -> [u64; 5] {
    let i = &s["invocations"];
    ["total", "failed", "timed_out", "cold_starts", "partial_failures"].map(|k| i[k].as_u64().unwrap())
}

fn records(s: &Value) -> [u64; 4] {
    let r = &s["records"];
    ["succeeded", "to_destination", "discarded", "pending_at_end"].map(|k| r[k].as_u64().unwrap())
}

/// The destination's records: (first offset, last offset, batchSize) of `orders-0`.
fn destined(run: &Run) -> Vec<(String, String, u64)> {
    run.destination
        .iter()
        .map(|d| {
            let info = &d["KafkaBatchInfo"];
            let p = &info["recordsInfo"]["orders-0"];
            assert_eq!(d["requestContext"]["condition"], "RetryAttemptsExhausted");
            let offset = |k: &str| p[k].as_str().unwrap().to_string();
            (offset("firstRecordOffset"), offset("lastRecordOffset"), info["batchSize"].as_u64().unwrap())
        })
        .collect()
}

/// The trace's `handler` lines: the event sent and the answer.
fn exchanges(run: &Run) -> Vec<Value> {
    let trace = &run.files.last().unwrap().1;
    String::from_utf8_lossy(trace)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == "handler")
        .collect()
}

/// What `tests/handlers/echo_values.py` saw, over every invocation: (offset, value text).
fn echoed(run: &Run) -> Vec<(u64, String)> {
    exchanges(run)
        .iter()
        .flat_map(|e| {
            let body: Value = serde_json::from_str(e["answer"]["body"].as_str().unwrap()).unwrap();
            body["seen"].as_array().unwrap().clone()
        })
        .map(|r| (r[1].as_u64().unwrap(), r[2].as_str().unwrap().to_string()))
        .collect()
}

/// The (start, end) of every invocation's records, from the trace.
fn invoked(run: &Run) -> Vec<(u64, u64)> {
    let trace = &run.files.last().unwrap().1;
    String::from_utf8_lossy(trace)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == "invoke_start")
        .map(|e| (e["segments"][0]["start"].as_u64().unwrap(), e["segments"][0]["end"].as_u64().unwrap()))
        .collect()
}

#[test]
fn a_handler_that_throws_on_poison_is_bisected_down_to_it() {
    let Some(py) = python() else { return };
    let run = run_twice(&ric(&py, "examples/handlers/throws_on_poison"), &[]);
    // Bisect around offset 5: [0,16) ✗ → [0,8) ✗ → [0,4) ✓, [4,8) ✗ → [4,6) ✗ → [4,5) ✓,
    // [5,6) ✗ and its one retry ✗ → destination; then the queued halves [6,8) ✓ and [8,16) ✓.
    // 10 invocations: 6 failed (sizes 16, 8, 4, 2, 1, 1), one cold start.
    assert_eq!(invoked(&run), [(0, 16), (0, 8), (0, 4), (4, 8), (4, 6), (4, 5), (5, 6), (5, 6), (6, 8), (8, 16)]);
    assert_eq!(counts(&run.summary), [10, 6, 0, 1, 0]);
    // 15 records processed, exactly the poison one to the destination.
    assert_eq!(records(&run.summary), [15, 1, 0, 0]);
    assert_eq!(destined(&run), [("5".into(), "5".into(), 1)]);
    // An error names no record, so each failure stalls the partition at the batch's first
    // record: at 0 (until [0,4) commits), at 4 (until [4,5) commits) and at 5 (until the
    // destination): three stalls.
    assert_eq!(run.summary["stalls"]["count"], 3);
    assert!(run.stdout.contains("invocations          10 (4 ok, 6 failed, 0 timed out)"), "{}", run.stdout);
}

#[test]
fn correct_batch_item_failures_retry_from_the_failed_record() {
    let Some(py) = python() else { return };
    let handler = ric(&py, "examples/handlers/reports_failures");
    // AWS's checkpoint (lowest failed offset): attempt 1 of [0,16) names 5 → offsets 0..5
    // commit, [5,16) is retried; attempt 2 names 5 again → the one retry is used up: the failure
    // record covers 5..15 (11 records), but only offset 5 failed in its last delivery.
    // A partial response is not an error: 0 failed, 2 partial failures; 11 redelivered.
    let run = run_twice(&handler, &[]);
    assert_eq!(invoked(&run), [(0, 16), (5, 16)]);
    assert_eq!(counts(&run.summary), [2, 0, 0, 1, 2]);
    assert_eq!(records(&run.summary), [15, 1, 0, 0]);
    assert_eq!(run.summary["records"]["redelivered"], 11);
    assert_eq!(destined(&run), [("5".into(), "15".into(), 11)]);
    // Committing every success instead: only offset 5 is retried and sent to the destination.
    let per_record = run_twice(&handler, &["esm.partial_batch_commit=per_record"]);
    assert_eq!(invoked(&per_record), [(0, 16), (5, 6)]);
    assert_eq!(counts(&per_record.summary), [2, 0, 0, 1, 2]);
    assert_eq!(records(&per_record.summary), [15, 1, 0, 0]);
    assert_eq!(per_record.summary["records"]["redelivered"], 1);
    assert_eq!(destined(&per_record), [("5".into(), "5".into(), 1)]);
}

#[test]
fn malformed_item_identifiers_fail_the_whole_batch() {
    let Some(py) = python() else { return };
    // The handler names the poison record by its index ("5"): Lambda cannot match it, so the
    // whole batch failed, twice (one retry), and all 16 records go to the destination.
    let run = run_twice(&ric(&py, "examples/handlers/malformed_ids"), &["esm.bisect_batch_on_function_error=false"]);
    assert_eq!(invoked(&run), [(0, 16), (0, 16)]);
    assert_eq!(counts(&run.summary), [2, 0, 0, 1, 2]);
    assert_eq!(records(&run.summary), [0, 16, 0, 0]);
    assert_eq!(run.summary["records"]["redelivered"], 16);
    assert_eq!(destined(&run), [("0".into(), "15".into(), 16)]);
}

#[test]
fn the_event_is_what_aws_sends_and_the_trace_and_explain_show_the_answer() {
    let Some(py) = python() else { return };
    let dir = TempDir::new().unwrap();
    let output = esmsim(&ric(&py, "examples/handlers/throws_on_poison"), &[], dir.path(), &[]);
    assert!(output.status.success());
    let trace = std::fs::read_to_string(dir.path().join("trace.jsonl")).unwrap();
    let first: Value =
        trace.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|e| e["event"] == "handler").unwrap();
    let request = &first["request"];
    assert_eq!(request["eventSource"], "aws:kafka");
    assert_eq!(request["eventSourceArn"], "arn:aws:kafka:us-east-1:123456789012:cluster/handler-poison/simulated");
    let list = request["records"]["orders-0"].as_array().unwrap();
    assert_eq!(list.len(), 16);
    // Offset 5: line (0 + 5) mod 4 = 1 of samples.jsonl is replaced by the poison value; offset
    // 6 takes line 2. Constant arrivals 1/1600 s apart: offset 6 arrived at 3.75 ms → 3 ms.
    let value = |o: usize| list[o]["value"].as_str().unwrap().to_string();
    assert_eq!(value(5), "eyJwb2lzb24iOnRydWV9"); // {"poison":true}
    assert_eq!(value(6), "eyJvcmRlciI6IDMsICJhbW91bnRfdXNkIjogOTkuOX0="); // {"order": 3, "amount_usd": 99.9}
    assert_eq!(list[6]["timestamp"], 1_735_689_600_003i64);
    assert_eq!((list[6]["offset"].as_u64(), list[6]["timestampType"].as_str()), (Some(6), Some("CREATE_TIME")));
    assert_eq!(list[6]["key"], "MC02"); // "0-6"
    assert_eq!(first["answer"]["kind"], "error");
    let explain = Command::cargo_bin("esmsim")
        .unwrap()
        .args(["explain"])
        .arg(dir.path().join("trace.jsonl"))
        .args(["--partition", "0", "--offset", "5"])
        .output()
        .unwrap();
    let story = String::from_utf8(explain.stdout).unwrap();
    assert!(story.contains("the handler (environment 1) raised ValueError: poison message at orders-0@5"), "{story}");
    assert!(story.contains("failed: the handler raised an error"), "{story}");
}

#[test]
fn a_crash_loses_the_environment_and_the_next_invocation_is_cold() {
    let Some(py) = python() else { return };
    // [0,16) crashes the process → its environment is gone; the retry needs a new one (cold,
    // a new process) and crashes it too → the destination gets the batch.
    let run = run_twice(&ric(&py, "tests/handlers/crash_on_poison"), &["esm.bisect_batch_on_function_error=false"]);
    assert_eq!(counts(&run.summary), [2, 2, 0, 2, 0]);
    assert_eq!(records(&run.summary), [0, 16, 0, 0]);
    assert_eq!(destined(&run), [("0".into(), "15".into(), 16)]);
}

#[test]
fn a_hang_is_cut_off_at_the_wall_limit_and_counted_as_a_timeout() {
    let Some(py) = python() else { return };
    let started = std::time::Instant::now();
    let sets = ["esm.bisect_batch_on_function_error=false", "esm.maximum_retry_attempts=0"];
    let dir = TempDir::new().unwrap();
    let output = esmsim(&ric(&py, "tests/handlers/hang_on_poison"), &sets, dir.path(), &["--handler-wall-limit", "1s"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(started.elapsed().as_secs() < 30, "the hang was not cut off");
    let summary: Value = serde_json::from_slice(&std::fs::read(dir.path().join("out/summary.json")).unwrap()).unwrap();
    // One invocation, timed out (3 s, the scenario's default timeout), not retried.
    assert_eq!(counts(&summary), [1, 0, 1, 1, 0]);
    assert_eq!(records(&summary), [0, 16, 0, 0]);
}

#[test]
fn state_kept_between_invocations_stays_in_its_environment() {
    let Some(py) = python() else { return };
    // Batches of one record: each next batch forms when the last one ends and finds its
    // environment warm again, so all 16 run in one environment: the process counts 1, 2, …, 16.
    let sets = ["esm.batch_size=1"];
    let dir = TempDir::new().unwrap();
    let output = esmsim(&ric(&py, "tests/handlers/counts_invocations"), &sets, dir.path(), &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let trace = std::fs::read_to_string(dir.path().join("trace.jsonl")).unwrap();
    let answers: Vec<String> = trace
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == "handler")
        .map(|e| e["answer"]["body"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (1..=16).map(|n| format!("{{\"invocation_in_this_process\": {n}}}")).collect();
    assert_eq!(answers, expected);
}

/// Runs a failing handler: one `error:` line naming `function.handler` and containing `needle`,
/// exit 1, nothing written.
fn fails_cleanly(handler: &str, extra: &[&str], needle: &str) {
    let dir = TempDir::new().unwrap();
    let output = esmsim(handler, &[], dir.path(), extra);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(lines[0].starts_with(&format!("error: {SCENARIO}: function.handler: ")), "{}", lines[0]);
    assert!(lines[0].contains(needle), "expected {needle:?} in {}", lines[0]);
    assert!(!dir.path().join("out").exists() && !dir.path().join("trace.jsonl").exists(), "partial output");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "staging left behind: {left:?}");
}

#[test]
fn a_handler_that_cannot_start_fails_with_one_line() {
    fails_cleanly("/nonexistent/handler --flag", &[], "the handler exited during init (exit status: 127)");
}

#[test]
fn a_handler_that_exits_during_init_fails_with_one_line() {
    fails_cleanly(
        "sh -c 'echo cannot connect to the database >&2; exit 3'",
        &[],
        "exit status: 3); its last stderr line: cannot connect to the database",
    );
}

#[test]
fn a_handler_that_never_asks_for_an_event_fails_with_one_line() {
    fails_cleanly("sleep 30", &["--handler-wall-limit", "500ms"], "did not ask for its first event within 0.5 s");
}

#[test]
fn a_handler_whose_init_fails_in_the_runtime_client_fails_with_one_line() {
    let Some(py) = python() else { return };
    fails_cleanly(&ric(&py, "examples/handlers/no_such_module"), &[], "the handler reported an init error");
}

#[test]
fn a_handler_that_sends_garbage_to_the_api_fails_with_one_line() {
    let Some(_) = python() else { return };
    fails_cleanly("python3 tests/handlers/garbage.py", &[], "sent `POST /2018-06-01/runtime/invocation/nonsense`");
}

#[test]
fn studies_refuse_a_real_handler() {
    let dir = TempDir::new().unwrap();
    let output = Command::cargo_bin("esmsim")
        .unwrap()
        .args(["sweep", SCENARIO, "--set", "function.handler.command=cat", "--grid", "esm.batch_size=1,2", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("function.handler: studies run the built-in handler model"), "{stderr}");
}

#[test]
fn sample_values_need_a_handler_and_the_synthetic_failures_do_not_mix_with_one() {
    let check = |sets: &[&str], needle: &str| {
        let mut cmd = Command::cargo_bin("esmsim").unwrap();
        cmd.args(["validate", SCENARIO]);
        for s in sets {
            cmd.arg("--set").arg(s);
        }
        let output = cmd.output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(!output.status.success(), "accepted {sets:?}");
        assert!(stderr.starts_with("error: ") && stderr.contains(needle), "{stderr}");
    };
    check(&[], "producers.0.values: sample values are read by a real handler only");
    check(
        &["function.handler.command=cat", "failures.poison_rate=0.1"],
        "failures.poison_rate: models the built-in handler",
    );
    check(&["function.handler.command=cat", "function.handler.duration=fast"], "function.handler.duration");
    check(&["function.handler.command=cat", "function.handler.max_processes=0"], "function.handler.max_processes");
    let missing = ["function.handler.command=cat", "producers.0.values.file=missing.jsonl"];
    check(&missing, "producers.0.values.file: examples/handlers/missing.jsonl: cannot read the file");
    // Two producers: a partition's log does not keep which one wrote a record.
    let mut two: Value = serde_json::from_str(&std::fs::read_to_string(SCENARIO).unwrap()).unwrap();
    two["producers"].as_array_mut().unwrap().push(serde_json::json!({"rate": 1}));
    two["function"]["handler"] = serde_json::json!({"command": "cat"});
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("two.json");
    std::fs::write(&file, two.to_string()).unwrap();
    let output = Command::cargo_bin("esmsim").unwrap().arg("validate").arg(&file).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        !output.status.success() && stderr.contains("producers.0.values: sample values need a single producer"),
        "{stderr}"
    );
    // Nor a value template or headers: the event could not say whose they are.
    let refused = |scenario: &Value, needle: &str| {
        std::fs::write(&file, scenario.to_string()).unwrap();
        let output = Command::cargo_bin("esmsim").unwrap().arg("validate").arg(&file).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(!output.status.success() && stderr.contains(needle), "{stderr}");
    };
    two["producers"][0].as_object_mut().unwrap().remove("values");
    two["producers"][1]["value"] = serde_json::json!({"fields": {"kind": {"constant": "order"}}});
    refused(&two, "producers.1.value: a value template read by a real handler needs a single producer");
    two["producers"][1].as_object_mut().unwrap().remove("value");
    two["producers"][0]["header_count"] = serde_json::json!(1);
    refused(&two, "producers.0.header_count: headers read by a real handler need a single producer");
    // Sample values under a filter: the filter judges the template, not the samples.
    let mut filtered: Value = serde_json::from_str(&std::fs::read_to_string(SCENARIO).unwrap()).unwrap();
    filtered["function"]["handler"] = serde_json::json!({"command": "cat"});
    filtered["esm"]["bisect_batch_on_function_error"] = serde_json::json!(false);
    filtered["esm"]["filter_criteria"] = serde_json::json!({"Filters": [{"Pattern": "{\"value\": {\"a\": [1]}}"}]});
    refused(
        &filtered,
        "producers.0.values: event filtering (esm.filter_criteria) decides on the producer's `value` template",
    );
}

/// Builds `examples/handlers/rust` (AWS's `lambda_runtime` crate) once; its binary's path.
fn rust_handler() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rust-handler");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let out = std::process::Command::new(cargo)
                .args(["build", "--quiet", "--locked", "--manifest-path", "examples/handlers/rust/Cargo.toml"])
                .arg("--target-dir")
                .arg(&target)
                .output()
                .expect("cargo runs");
            assert!(out.status.success(), "building the Rust handler failed: {}", String::from_utf8_lossy(&out.stderr));
            target.join("debug/reports-failures")
        })
        .clone()
}

#[test]
fn a_rust_lambda_runtime_handler_runs_unmodified() {
    // The same answers as reports_failures.py, so the same counts: [0,16) names 5, [5,16) names
    // 5 again, the retry is used up; 15 succeeded, offset 5 to the destination (5..15 recorded).
    let run = run_twice(&rust_handler().display().to_string(), &[]);
    assert_eq!(invoked(&run), [(0, 16), (5, 16)]);
    assert_eq!(counts(&run.summary), [2, 0, 0, 1, 2]);
    assert_eq!(records(&run.summary), [15, 1, 0, 0]);
    assert_eq!(destined(&run), [("5".into(), "15".into(), 11)]);
}

#[test]
fn measured_durations_scale_the_handlers_wall_time() {
    let Some(py) = python() else { return };
    // ×1,000,000: any answer slower than 3 µs of wall time (every real one) passes the 3 s
    // timeout in simulated time, so the one invocation times out whatever the handler said.
    let sets = ["esm.bisect_batch_on_function_error=false", "esm.maximum_retry_attempts=0"];
    let dir = TempDir::new().unwrap();
    let handler = ric(&py, "examples/handlers/reports_failures");
    let output = esmsim(&handler, &sets, dir.path(), &["--handler-duration", "measured:1000000"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: Value = serde_json::from_slice(&std::fs::read(dir.path().join("out/summary.json")).unwrap()).unwrap();
    assert_eq!(counts(&summary), [1, 0, 1, 1, 0]);
    assert_eq!(records(&summary), [0, 16, 0, 0]);
}

#[test]
fn the_handler_reads_the_template_values_the_filter_judged() {
    let Some(py) = python() else { return };
    let scenario = "tests/handlers/filtered.json";
    let handler = ric(&py, "tests/handlers/echo_values");
    // Without the filter the one batch holds all 32 records: the handler reads every value the
    // template drew, and each is an order or a refund.
    let all = run_twice_on(scenario, &handler, &["esm.filter_criteria=null"]);
    let values = echoed(&all);
    assert_eq!(values.iter().map(|(o, _)| *o).collect::<Vec<_>>(), (0..32).collect::<Vec<_>>());
    let kind = |text: &str| serde_json::from_str::<Value>(text).unwrap()["kind"].as_str().unwrap().to_string();
    let orders: Vec<(u64, String)> = values.iter().filter(|(_, v)| kind(v) == "order").cloned().collect();
    assert!(values.iter().all(|(_, v)| ["order", "refund"].contains(&kind(v).as_str())));
    // Even odds: about half are orders (the check needs both kinds present to mean anything).
    assert!((8..=24).contains(&orders.len()), "{} orders of 32", orders.len());
    // With the filter `kind = order`, the handler must see exactly those records, with the same
    // bytes: the filter judged the values the handler reads. The rest are filtered out.
    let filtered = run_twice_on(scenario, &handler, &[]);
    assert_eq!(echoed(&filtered), orders);
    let records = &filtered.summary["records"];
    assert_eq!(records["filtered_out"].as_u64(), Some(32 - orders.len() as u64));
    assert_eq!(records["succeeded"].as_u64(), Some(orders.len() as u64));
    assert_eq!(counts(&filtered.summary), [1, 0, 0, 1, 0]);
}

#[test]
fn headers_are_sent_as_aws_encodes_them_within_the_payload_rule() {
    let Some(py) = python() else { return };
    let run = run_twice_on("tests/handlers/headers.json", &ric(&py, "tests/handlers/echo_values"), &[]);
    // The payload rule per record: key 4⌈8/3⌉ = 12, value 4⌈40/3⌉ = 56, overhead 128, headers
    // 2 × 8 + 100 × 4 = 416: 612 bytes. Batch limit 1736 = 512 (envelope) + 2 × 612, so the 4
    // records go two by two: [0,2) and [2,4). (Without the headers' 416, 196 bytes each, all 4
    // would fit in one batch.)
    assert_eq!(invoked(&run), [(0, 2), (2, 4)]);
    for exchange in exchanges(&run) {
        let request = &exchange["request"];
        // The event as sent (the trace keeps its JSON; serde_json writes it back byte for byte).
        assert!(request.to_string().len() <= 1736, "the event outgrew the payload it was counted as");
        for record in request["records"]["orders-0"].as_array().unwrap() {
            // Each header: 50 bytes, the name h0 or h1 (2) and 48 value bytes, each 3 digits:
            // {"h0":[ddd,…]} = 1 + 4 + 1 + 1 + (48 × 3 + 47) + 1 + 1 = 200; two and a comma: 401.
            let headers = record["headers"].as_array().unwrap();
            assert_eq!(headers.len(), 2);
            assert_eq!(record["headers"].to_string().len() - 2, 401, "{}", record["headers"]);
            for (i, header) in headers.iter().enumerate() {
                let bytes = header[format!("h{i}")].as_array().unwrap();
                assert_eq!(bytes.len(), 48);
                assert!(bytes.iter().all(|b| (100..=122).contains(&b.as_u64().unwrap())));
            }
            assert!(record.to_string().len() <= 612, "a record outgrew its payload: {record}");
        }
    }
    // The handler decodes each header's bytes as text: letters d to z.
    let answer: Value = serde_json::from_str(exchanges(&run)[0]["answer"]["body"].as_str().unwrap()).unwrap();
    let h0 = answer["seen"][0][3][0]["h0"].as_str().unwrap();
    assert!(h0.len() == 48 && h0.bytes().all(|b| (b'd'..=b'z').contains(&b)), "{h0}");
}

/// Whether `pid` is a live process (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')))
}

#[test]
fn a_signal_kills_the_handler_and_what_it_started_and_writes_nothing() {
    use std::time::{Duration, Instant};
    let Some(_) = python() else { return };
    if !Path::new("/proc/self/stat").exists() {
        eprintln!("SKIPPED: no /proc to watch processes in");
        return;
    }
    for (signal, name, code) in
        [(rustix::process::Signal::TERM, "SIGTERM", 143), (rustix::process::Signal::INT, "SIGINT", 130)]
    {
        let dir = TempDir::new().unwrap();
        let pid_file = dir.path().join("pids");
        let mut esmsim = std::process::Command::new(assert_cmd::cargo::cargo_bin("esmsim"))
            .args(["run", SCENARIO, "--no-charts", "--handler", "python3 tests/handlers/sleeps.py"])
            .arg("--out")
            .arg(dir.path().join("out"))
            .arg("--trace")
            .arg(dir.path().join("trace.jsonl"))
            .env("ESMSIM_TEST_PID_FILE", &pid_file)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The handler has its event and sleeps on it: esmsim waits on it (for up to 30 s).
        let start = Instant::now();
        while !pid_file.exists() {
            assert!(start.elapsed() < Duration::from_secs(20), "the handler never got its event");
            std::thread::sleep(Duration::from_millis(20));
        }
        let pids: Vec<u32> =
            std::fs::read_to_string(&pid_file).unwrap().split_whitespace().map(|p| p.parse().unwrap()).collect();
        assert!(pids.iter().all(|&p| alive(p)), "the handler and its sleep run");
        let esmsim_pid = rustix::process::Pid::from_raw(esmsim.id() as i32).unwrap();
        rustix::process::kill_process(esmsim_pid, signal).unwrap();
        let status = esmsim.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{name}: exit code");
        // Killed before esmsim exited; their new parent reaps them, so allow it a moment.
        let start = Instant::now();
        while pids.iter().any(|&p| alive(p)) {
            assert!(start.elapsed() < Duration::from_secs(5), "{name}: handler processes outlived esmsim");
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        left.sort();
        assert_eq!(left, ["pids"], "{name}: partial output or staging left behind");
    }
}
