//! Decisions a planner can trust, through the CLI, against answers worked out by hand:
//! capacity never above C·B/D, SLOs that make a rate unsustainable, and tune's AWS commands that
//! deploy exactly the winner.

mod common;

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::Path;
use tempfile::TempDir;

fn esmsim() -> Command {
    common::esmsim_cli()
}

fn write(dir: &TempDir, name: &str, scenario: &Value) -> String {
    common::write_scenario(dir.path(), name, scenario)
}

/// Runs `esmsim ARGS`, expecting success; returns stdout.
fn ok(args: &[&str]) -> String {
    let output = esmsim().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "esmsim {args:?} failed: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

fn json_file(dir: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn capacity_of_fixed_concurrency_is_c_b_over_d_and_never_above() {
    // Factor 4 over 8 partitions: 4 batches in flight at once. Full batches of 100 records take
    // 20 ms + 100 × 0.3 ms = 50 ms. C·B/D = 4 × 100 / 0.05 s = 8,000 records/s. Constant
    // arrivals spread round robin, no jitter: above 8,000/s lag grows by the excess every second.
    let scenario = common::fixed_concurrency("5m");
    let dir = TempDir::new().unwrap();
    let file = write(&dir, "fixed.json", &scenario);
    let out = dir.path().join("out");
    let stdout =
        ok(&["capacity", &file, "--rates", "2000,6000,10000,14000", "--no-charts", "--out", out.to_str().unwrap()]);
    let result = json_file(&out, "capacity.json");
    let limit = result["max_sustainable_rate"].as_f64().unwrap();
    assert!((7840.0..=8000.0).contains(&limit), "found {limit} records/s, expected 7,840 to 8,000:\n{stdout}");
    let analytic = &result["analytic_limit"];
    assert_eq!(analytic["kind"], "concurrent_batches");
    assert_eq!(analytic["bound"], "pollers", "the factor sets C");
    assert!((analytic["records_per_second"].as_f64().unwrap() - 8000.0).abs() < 1e-6, "{analytic}");
    assert_eq!(analytic["formula"], "C·B/D = 4 × 100 / 50 ms");
    let margin = analytic["margin_fraction"].as_f64().unwrap();
    assert!((margin - (limit / 8000.0 - 1.0)).abs() < 1e-12 && margin <= 0.0, "{analytic}");
    // Past the knee the factor binds (the bottleneck accounting calls the factor's gate `pollers`).
    assert_eq!(result["binding_limit"]["limit"], "pollers", "{}", result["binding_limit"]);
    assert_eq!(result["slos"], json!(["lag.max_age_ms<=60000"]), "the default SLO");
    assert!(stdout.starts_with("sustainable = lag not growing after the warm-up and every SLO met"), "{stdout}");
    assert!(stdout.contains("analytic limit 8000 records/s"), "{stdout}");
}

#[test]
fn a_rate_whose_p99_misses_an_slo_is_not_sustainable() {
    // One partition, window 2 s, batches of up to 1,000 taking 10 ms + 0.1 ms per record.
    // At 100 records/s (constant) the window flushes 2 s after a batch's first record: that
    // record waits 2 s + 10 ms + 200 × 0.1 ms = 2.03 s, the last about 0.03 s, evenly between,
    // so p99 ≈ 0.99 × 2 s + 0.03 s ≈ 2,010 ms, yet lag never grows. At 4,000 records/s a batch
    // fills by size 0.25 s after its first record: every record waits under 0.25 s + 110 ms.
    let scenario = json!({
        "name": "windowed", "duration": "2m", "sample_interval": "5s",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 100, "arrivals": "constant" }],
        "esm": { "batch_size": 1000, "batching_window": "2s",
                 "scaling": { "mode": "parallelization_factor", "factor": 1 } },
        "function": { "timeout": "10s", "duration": { "base": "10ms", "per_record": "100us" } }
    });
    let dir = TempDir::new().unwrap();
    let file = write(&dir, "windowed.json", &scenario);
    let run = |slo: Option<&str>, name: &str| {
        let out = dir.path().join(name);
        let mut args = vec!["capacity", &file, "--rates", "100,4000", "--no-charts", "--out", out.to_str().unwrap()];
        if let Some(slo) = slo {
            args.extend(["--slo", slo]);
        }
        ok(&args);
        json_file(&out, "capacity.json")
    };
    let with_slo = run(Some("latency_ms.p99<=1000"), "slo");
    let slow = &with_slo["points"][0]["rates"][0];
    assert_eq!(slow["rate_records_per_s"], 100.0);
    let p99 = slow["latency_ms.p99"].as_f64().unwrap();
    assert!((1980.0..2040.0).contains(&p99), "p99 {p99} ms, expected about 2,010 ms");
    assert_eq!(slow["lag_keeps_up"], true, "the lag keeps up: {slow}");
    assert_eq!(slow["sustainable"], false, "but p99 misses the SLO: {slow}");
    assert!(slow["missed"][0].as_str().unwrap().starts_with("latency_ms.p99 = 20"), "{slow}");
    let fast = &with_slo["points"][0]["rates"][1];
    assert_eq!((fast["rate_records_per_s"].as_f64(), fast["sustainable"].as_bool()), (Some(4000.0), Some(true)));
    assert!(fast["latency_ms.p99"].as_f64().unwrap() < 360.0, "{fast}");
    assert_eq!(with_slo["slos"], json!(["latency_ms.p99<=1000"]));
    // Without that SLO (the default one only: records at most a minute old) 100/s is sustainable.
    let default = run(None, "default");
    assert_eq!(default["points"][0]["rates"][0]["sustainable"], true);
}

/// The metrics of `summary.json` as `sweep.csv` holds them: every numeric field by dotted path.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&path, v, out);
            }
        }
        _ => out.push((prefix.to_string(), value.clone())),
    }
}

#[test]
fn tunes_commands_translated_to_sets_give_the_winners_metrics() {
    // The scenario runs with a 0 s window; a 500 ms window batches 400 records/s into far fewer
    // invocations, so it is cheaper and wins, and only a new mapping can have it. The commands'
    // settings applied with --set must reproduce the winner's metrics exactly (one seed, same
    // warm-up).
    let scenario = json!({
        "name": "tuned", "duration": "4m", "sample_interval": "10s", "warmup": "1m",
        "topic": { "partitions": 4 },
        "producers": [{ "rate": 400 }],
        "esm": { "batch_size": 10, "batching_window": "0s",
                 "scaling": { "mode": "provisioned", "min_pollers": 1, "max_pollers": 4 } },
        "function": { "memory_mb": 512, "timeout": "30s",
                      "duration": { "base": "20ms", "per_record": "1ms", "jitter_sigma": 0.2 } }
    });
    let dir = TempDir::new().unwrap();
    let file = write(&dir, "tuned.json", &scenario);
    let out = dir.path().join("tune");
    let stdout = ok(&[
        "tune",
        &file,
        "--minimize",
        "cost_usd.per_month",
        "--constraint",
        "latency_ms.p99<=2000",
        "--grid",
        "esm.batch_size=10,100,500",
        "--grid",
        "esm.batching_window=0s,500ms",
        "--strategy",
        "brute-force",
        "--no-charts",
        "--out",
        out.to_str().unwrap(),
    ]);
    let tune = json_file(&out, "tune.json");
    let aws = &tune["aws"];
    let commands: Vec<&str> = aws["commands"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(commands.iter().all(|c| !c.contains("--memory-size")), "memory was not searched: {commands:?}");
    assert_eq!(tune["best"]["esm.batching_window"], "500ms", "{stdout}");
    assert!(commands.iter().any(|c| c.starts_with("aws lambda create-event-source-mapping")), "{commands:?}");
    assert!(!commands.iter().any(|c| c.starts_with("aws lambda update-event-source-mapping")), "{commands:?}");
    assert!(!commands.iter().any(|c| c.contains("--maximum-batching-window-in-seconds")), "{commands:?}");
    for command in &commands {
        assert!(stdout.contains(command), "printed: {command}\n{stdout}");
    }
    // Translate the deployed requests back to --sets and run the base scenario with them.
    let sets: Vec<String> =
        aws["scenario_sets"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    assert!(sets.iter().any(|s| s.starts_with("esm.batch_size=")), "{sets:?}");
    assert!(sets.iter().any(|s| s.starts_with("esm.batching_window=")), "{sets:?}");
    let run_out = dir.path().join("run");
    let mut args: Vec<String> = vec!["run".into(), file.clone(), "--no-charts".into(), "--out".into()];
    args.push(run_out.display().to_string());
    for s in &sets {
        args.extend(["--set".to_string(), s.clone()]);
    }
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&arg_refs);
    let summary = json_file(&run_out, "summary.json");
    let mut flat = Vec::new();
    flatten("", &summary, &mut flat);
    let best = tune["best_metrics"].as_object().unwrap();
    let mut compared = 0;
    for (name, value) in flat {
        if let Some(expected) = best.get(&name) {
            assert_eq!(value.as_f64(), expected.as_f64(), "{name}: the commands' run differs from the winner");
            compared += 1;
        }
    }
    assert!(compared > 50, "compared {compared} metrics");
}

#[test]
fn tied_results_are_reported_once_with_the_settings_they_ignore() {
    // Window 0 s and a batch size of 10 or more: with 4 partitions at 40 records/s (one record
    // every 100 ms per partition) and 20 ms + 1 ms per record of handling, a batch never holds
    // more than 3 records, so batch sizes 10, 100 and 1,000 form the very same batches and give
    // the same result. With a 1 s window, batches of 10 fill by size (0.9 s) and differ from 100
    // and 1,000, which tie (41 records by window). The lowest p99 is the 0 s window's (21 ms).
    let scenario = json!({
        "name": "ties", "duration": "2m", "sample_interval": "10s", "warmup": "20s",
        "topic": { "partitions": 4 },
        "producers": [{ "rate": 40, "arrivals": "constant", "partitioning": "round_robin" }],
        "esm": { "batching_window": "0s", "scaling": { "mode": "provisioned", "min_pollers": 1, "max_pollers": 1 } },
        "function": { "timeout": "30s", "duration": { "base": "20ms", "per_record": "1ms" } }
    });
    let dir = TempDir::new().unwrap();
    let file = write(&dir, "ties.json", &scenario);
    let out = dir.path().join("tune");
    let stdout = ok(&[
        "tune",
        &file,
        "--minimize",
        "latency_ms.p99",
        "--grid",
        "esm.batch_size=10,100,1000",
        "--grid",
        "esm.batching_window=0s,1s",
        "--no-charts",
        "--out",
        out.to_str().unwrap(),
    ]);
    let tune = json_file(&out, "tune.json");
    assert_eq!(tune["insensitive_to"], json!(["esm.batch_size"]), "{stdout}");
    assert_eq!(tune["best_ties"].as_array().unwrap().len(), 2, "{}", tune["best_ties"]);
    // No two configurations listed have the same result.
    let objective = |v: &Value| v["latency_ms.p99"].as_f64().unwrap();
    let mut listed = vec![objective(&tune["best_metrics"])];
    for runner_up in tune["runners_up"].as_array().unwrap() {
        let cost = objective(&runner_up["metrics"]);
        assert!(!listed.contains(&cost), "{cost} listed twice: {}", tune["runners_up"]);
        listed.push(cost);
    }
    assert!(stdout.contains("the same whatever esm.batch_size"), "{stdout}");
    assert!(stdout.contains("and 2 more configurations with the same result"), "{stdout}");
    let runners_up = tune["runners_up"].as_array().unwrap();
    assert_eq!(runners_up.len(), 2, "the 1 s window's two results: {runners_up:?}");
    assert_eq!(runners_up.iter().map(|r| r["ties"].as_array().unwrap().len()).sum::<usize>(), 1, "100 and 1,000 tie");
    assert_eq!(tune["best"]["esm.batching_window"], "0s");
}

#[test]
fn a_bad_slo_is_one_error_line_and_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let file =
        write(&dir, "s.json", &json!({ "name": "s", "topic": { "partitions": 1 }, "producers": [{ "rate": 10 }] }));
    let out = dir.path().join("out");
    for (slo, needle) in [
        ("p99<=5", "error: --slo p99<=5: unknown metric \"p99\""),
        ("latency_ms.p99=5", "error: --slo latency_ms.p99=5: expected METRIC<=NUMBER"),
    ] {
        let output = esmsim()
            .args(["capacity", &file, "--rates", "10", "--slo", slo, "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(!output.status.success() && stderr.lines().count() == 1, "{stderr}");
        assert!(stderr.starts_with(needle), "expected {needle:?}, got {stderr}");
        assert!(!out.exists());
    }
}
