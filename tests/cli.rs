//! The command line: every class of bad input gets one line naming the file, the field path and
//! what is allowed, a non-zero exit, no panic and no output; good input runs deterministically.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

const VALID: &str = r#"{
  "name": "cli", "duration": "2m",
  "topic": { "partitions": 2 },
  "producers": [ { "rate": 200 } ],
  "esm": { "scaling": { "mode": "parallelization_factor", "factor": 2 } }
}"#;

fn esmsim() -> Command {
    Command::cargo_bin("esmsim").unwrap()
}

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `esmsim run FILE ARGS --out DIR/out`; expects failure with exactly one stderr line
/// starting `error: FILE: PATH: ` and containing `needle`, and no output directory.
fn rejects(text: &str, args: &[&str], path: &str, needle: &str) {
    let dir = TempDir::new().unwrap();
    let file = write(&dir, "scenario.json", text);
    let out = dir.path().join("out");
    let output = esmsim().arg("run").arg(&file).args(args).arg("--out").arg(&out).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success(), "accepted {args:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected, got: {stderr}");
    let prefix = format!("error: {}: {path}: ", file.display());
    assert!(lines[0].starts_with(&prefix), "expected prefix {prefix:?}, got {:?}", lines[0]);
    assert!(lines[0].contains(needle), "expected {needle:?} in {:?}", lines[0]);
    assert!(!stderr.contains("panicked"));
    assert!(!out.exists(), "partial output written");
}

fn with(field_path: &str, value: &str) -> Vec<String> {
    vec!["--set".into(), format!("{field_path}={value}")]
}

fn rejects_set(field_path: &str, value: &str, needle: &str) {
    let args = with(field_path, value);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    rejects(VALID, &args, field_path, needle);
}

#[test]
fn unreadable_file() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("missing.json");
    let output = esmsim().arg("run").arg(&missing).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with(&format!("error: {}: cannot read", missing.display())), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
}

#[test]
fn malformed_json() {
    rejects("{ \"name\": \"x\", ", &[], "(file)", "not valid JSON");
}

#[test]
fn unknown_fields_at_any_depth() {
    rejects(&VALID.replace("\"duration\"", "\"durration\""), &[], "durration", "unknown field");
    rejects(&VALID.replace("\"rate\"", "\"rat\""), &[], "producers.0.rat", "unknown field");
    rejects_set("esm.batch_sise", "5", "unknown field `batch_sise`");
    rejects_set("function.duration.bse", "5ms", "unknown field `bse`");
}

#[test]
fn missing_required_fields() {
    rejects(r#"{ "name": "x", "producers": [] }"#, &[], "(root)", "missing field `topic`");
}

#[test]
fn wrong_types_and_bad_durations() {
    rejects_set("esm.batch_size", "abc", "invalid type");
    rejects_set("esm.batching_window", "2 fortnights", "invalid duration");
    rejects_set("esm.batching_window", "1.5", "duration string");
    rejects_set("esm.scaling.mode", "turbo", "unknown variant `turbo`");
    rejects_set("producers.0.arrivals", "bursty", "expected `poisson` or `constant`");
}

#[test]
fn every_aws_range() {
    for (path, value, needle) in [
        ("esm.batch_size", "0", "allowed: 1 to 10000"),
        ("esm.batch_size", "10001", "allowed: 1 to 10000"),
        ("esm.batching_window", "301s", "allowed: 0s to 300s"),
        ("function.memory_mb", "127", "allowed: 128 to 10240"),
        ("function.memory_mb", "10241", "allowed: 128 to 10240"),
        ("function.timeout", "15m", "allowed: 1s to 14m"),
        ("esm.maximum_retry_attempts", "-2", "allowed: -1 (infinite) or 0 to 10000"),
        ("esm.maximum_retry_attempts", "10001", "allowed: -1 (infinite) or 0 to 10000"),
        ("esm.maximum_record_age", "59", "60s to 604800s"),
        ("esm.maximum_record_age", "604801", "60s to 604800s"),
        ("topic.partitions", "0", "at least 1"),
        ("producers.0.rate", "-1", "≥ 0"),
        ("failures.poison_rate", "1.5", "allowed: 0 to 1"),
        ("failures.transient_error_rate", "-0.1", "allowed: 0 to 1"),
        ("esm.scaling.factor", "11", "allowed: 1 to 10"),
        ("function.reserved_concurrency", "901", "AWS keeps 100 of the account's 1000 unreserved"),
        ("esm.max_payload_bytes", "6291457", "6 MB"),
    ] {
        rejects_set(path, value, needle);
    }
}

#[test]
fn runs_and_backlogs_longer_than_a_century_are_rejected() {
    // Every instant of the clock stays below 2^63 ns (292 years), which arrival times rely on.
    let century = ["--set", "sample_interval=1d", "--set", "duration=36501d"];
    rejects(VALID, &century, "duration", "at most 36500d (100 years)");
    let backlog = ["--set", r#"topic.backlog={"records":10,"span":"36501d"}"#];
    rejects(VALID, &backlog, "topic.backlog.span", "at most 36500d (100 years)");
}

#[test]
fn settings_for_another_scaling_mode_are_rejected_not_ignored() {
    rejects_set("esm.scaling.initial_pollers", "2", "applies only to mode on_demand");
}

#[test]
fn provisioned_mode_ranges() {
    let scaling = |json: &str| vec!["--set".to_string(), format!("esm.scaling={json}")];
    for (json, path, needle) in [
        (r#"{"mode":"provisioned","min_pollers":0}"#, "esm.scaling.min_pollers", "allowed: 1 to 200"),
        (r#"{"mode":"provisioned","min_pollers":201}"#, "esm.scaling.min_pollers", "allowed: 1 to 200"),
        (r#"{"mode":"provisioned","max_pollers":2001}"#, "esm.scaling.max_pollers", "allowed: 1 to 2000"),
        (r#"{"mode":"provisioned","min_pollers":5,"max_pollers":3}"#, "esm.scaling.max_pollers", "below min_pollers"),
        (
            r#"{"mode":"provisioned","invocations_per_poller":6}"#,
            "esm.scaling.invocations_per_poller",
            "allowed: 1 to 5",
        ),
        (
            r#"{"mode":"provisioned","initial_pollers":2}"#,
            "esm.scaling.initial_pollers",
            "applies only to mode on_demand",
        ),
        (
            r#"{"mode":"parallelization_factor","scale_delay":"1m"}"#,
            "esm.scaling.scale_delay",
            "on_demand or provisioned",
        ),
        (
            r#"{"mode":"on_demand","scale_down_utilization":1.5}"#,
            "esm.scaling.scale_down_utilization",
            "allowed: 0 to 1",
        ),
    ] {
        let args = scaling(json);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        rejects(VALID, &args, path, needle);
    }
}

#[test]
fn starting_position_backlog_and_environment_settings() {
    rejects(VALID, &["--set", "esm.starting_position=AT_TIMESTAMP"], "esm.starting_position_age", "AT_TIMESTAMP needs");
    rejects_set("esm.starting_position_age", "10m", "applies only to starting_position AT_TIMESTAMP");
    let init = r#"function.cold_start.init={"distribution":"uniform","min":"2s","max":"1s"}"#;
    rejects(VALID, &["--set", init], "function.cold_start.init.min", "longer than max");
    rejects_set("function.duration.threads", "0", "allowed: 1 to 64");
    let other = r#"account.other_concurrency=[{"at":"10m","value":5},{"at":"5m","value":1}]"#;
    rejects(VALID, &["--set", other], "account.other_concurrency.1.at", "increasing");
    rejects(
        VALID,
        &["--set", r#"topic.backlog={"records":10,"spann":"1h"}"#],
        "topic.backlog.spann",
        "unknown field `spann`",
    );
}

#[test]
fn faults_are_checked_field_by_field() {
    let fault = |json: &str| vec!["--set".to_string(), format!("faults=[{json}]")];
    let cases = [
        (r#"{"kind":"slowdown","from":"1m","until":"2m"}"#, "faults.0.factor", "slowdown needs factor"),
        (r#"{"kind":"error_burst","from":"1m","until":"2m","factor":2}"#, "faults.0.error_rate", "error_burst needs"),
        (r#"{"kind":"function_outage","from":"2m","until":"1m"}"#, "faults.0.until", "is not after from"),
        (r#"{"kind":"error_burst","from":"1m","until":"2m","error_rate":2}"#, "faults.0.error_rate", "allowed: 0 to 1"),
        (
            r#"{"kind":"function_outage","from":"1m","until":"2m","error_rate":0.5}"#,
            "faults.0.error_rate",
            "applies only",
        ),
        (r#"{"kind":"earthquake","from":"1m","until":"2m"}"#, "faults.0.kind", "unknown variant"),
    ];
    for (json, path, needle) in cases {
        let args = fault(json);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        rejects(VALID, &args, path, needle);
    }
}

#[test]
fn validate_warns_about_the_silent_loss_pitfall_and_provisioned_only_controls() {
    let dir = TempDir::new().unwrap();
    let file = write(&dir, "s.json", VALID);
    let output = esmsim()
        .args(["validate"])
        .arg(&file)
        .args(["--set", "failures.handler=report_failures", "--set", "esm.maximum_retry_attempts=2"])
        .args(["--set", r#"esm.on_failure_destination={"kind":"kafka"}"#])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("esm.function_response_types: the handler returns batchItemFailures"), "{stderr}");
    assert!(
        stderr.contains("esm.maximum_retry_attempts: a retry limit is available only in provisioned mode"),
        "{stderr}"
    );
    assert!(stderr.contains("esm.on_failure_destination.kind: a Kafka-topic destination"), "{stderr}");
    let quiet = esmsim()
        .args(["validate"])
        .arg(&file)
        .args(["--set", "failures.handler=report_failures"])
        .args(["--set", r#"esm.function_response_types=["ReportBatchItemFailures"]"#])
        .output()
        .unwrap();
    assert!(!String::from_utf8(quiet.stderr).unwrap().contains("batchItemFailures but"));
}

#[test]
fn bad_set_arguments() {
    rejects(VALID, &["--set", "esm.batch_size"], "esm.batch_size", "needs PATH=VALUE");
    rejects(VALID, &["--set", "producers.4.rate=1"], "producers.4", "out of range");
    rejects(VALID, &["--set", "name.first=1"], "name.first", "cannot set a field inside");
    rejects(VALID, &["--set", "esm..batch_size=1"], "esm..batch_size", "dot-separated");
}

#[test]
fn validate_warns_but_accepts_suspicious_settings() {
    let dir = TempDir::new().unwrap();
    let file = write(&dir, "s.json", VALID);
    let output = esmsim()
        .args(["validate"])
        .arg(&file)
        .args(["--set", "esm.batching_window=750ms", "--set", "esm.scaling.factor=5"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("esm.batching_window: 750ms is not whole seconds"), "{stderr}");
    assert!(stderr.contains("esm.scaling.factor: factor 5 is above the partition count 2"), "{stderr}");
    assert!(String::from_utf8(output.stdout).unwrap().contains("valid (2 warnings)"));
}

fn run_to(file: &Path, out: &Path, extra: &[&str]) {
    esmsim().arg("run").arg(file).arg("--out").arg(out).args(extra).assert().success();
}

#[test]
fn same_seed_gives_byte_identical_files_and_another_seed_differs() {
    let dir = TempDir::new().unwrap();
    let file = write(&dir, "s.json", VALID);
    let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    // One run draws its arrivals a chunk ahead on a second thread, the other on its own.
    run_to(&file, &a, &["--seed", "7", "--threads", "2"]);
    run_to(&file, &b, &["--seed", "7", "--threads", "1"]);
    run_to(&file, &c, &["--seed", "8"]);
    for name in ["summary.json", "timeseries.csv", "cloudwatch.csv"] {
        let read = |d: &Path| std::fs::read(d.join(name)).unwrap();
        assert_eq!(read(&a), read(&b), "{name} differs between two runs of seed 7");
        assert_ne!(read(&a), read(&c), "{name} is the same for seeds 7 and 8");
    }
    // Only one or two threads have a meaning.
    let bad = esmsim().arg("run").arg(&file).args(["--threads", "3"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8(bad.stderr).unwrap().contains("--threads"));
}

#[test]
fn run_prints_a_table_with_units_and_the_seed() {
    let dir = TempDir::new().unwrap();
    let file = write(&dir, "s.json", VALID);
    let output = esmsim().arg("run").arg(&file).arg("--out").arg(dir.path().join("o")).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    for needle in ["seed 1", "config ", "records/s", " ms", "$"] {
        assert!(stdout.contains(needle), "{needle:?} missing from:\n{stdout}");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("o/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["scenario"], "cli");
}

#[test]
fn default_output_directory_is_reports_slash_name() {
    let dir = TempDir::new().unwrap();
    let file = write(&dir, "s.json", VALID);
    esmsim().current_dir(dir.path()).arg("run").arg(&file).assert().success();
    assert!(dir.path().join("reports/cli/summary.json").exists());
    assert!(dir.path().join("reports/cli/timeseries.csv").exists());
}

/// Every subcommand's help gives each argument a line of help and ends with an example.
#[test]
fn every_argument_has_help_and_every_command_an_example() {
    let commands = [
        "run",
        "validate",
        "sweep",
        "tune",
        "capacity",
        "merge",
        "explain",
        "import",
        "calibrate",
        "schema",
        "completions",
    ];
    for command in commands {
        let output = esmsim().args([command, "--help"]).output().unwrap();
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(output.status.success(), "{command} --help");
        let example = help.rfind("Example:").unwrap_or_else(|| panic!("{command}: no example in\n{help}"));
        assert!(help[example..].contains(&format!("esmsim {command}")), "{command}: example does not run it");
        for line in help[..example].lines().filter(|l| l.starts_with("  ") && !l.starts_with("     ")) {
            let line = line.trim();
            if !(line.starts_with('-') || line.starts_with('<') || line.starts_with('[')) {
                continue;
            }
            // "--out <OUT>  Where to write ..." — the argument, two spaces, its help.
            assert!(line.split("  ").filter(|s| !s.trim().is_empty()).count() >= 2, "{command}: no help for {line:?}");
        }
    }
}

#[test]
fn completions_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let output = esmsim().args(["completions", shell]).output().unwrap();
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(output.status.success(), "{shell}");
        for command in ["run", "sweep", "schema", "completions"] {
            assert!(script.contains(command), "{shell}: {command} missing");
        }
    }
    assert!(!esmsim().args(["completions", "tcsh"]).output().unwrap().status.success());
}
