//! `esmsim calibrate --durations` on ground truth: invocations simulated by esmsim itself with
//! known duration parameters and log-normal noise, read back from its trace, must give those
//! parameters back within stated tolerances.

use esmsim::calibrate::durations::{Invocation, fit};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use tempfile::TempDir;

/// Runs `scenario` with a trace; returns (records, ms from invoke start to end, cold) per
/// successful invocation.
fn invocations(dir: &TempDir, scenario: &str) -> Vec<(f64, f64, bool)> {
    let file = dir.path().join("truth.json");
    let loaded = esmsim::parse_scenario(&file, scenario, &[]).unwrap();
    let trace = dir.path().join("truth.jsonl");
    let options = esmsim::RunOptions { trace: Some(trace.clone()), ..Default::default() };
    esmsim::run(&loaded, &options, |_| {}).unwrap();
    let mut started: BTreeMap<u64, (i64, f64, bool)> = BTreeMap::new();
    let mut out = vec![];
    for line in std::fs::read_to_string(&trace).unwrap().lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        match event["event"].as_str() {
            Some("invoke_start") => {
                let batch = event["batch"].as_u64().unwrap();
                let records = event["records"].as_f64().unwrap();
                started.insert(batch, (event["t_ns"].as_i64().unwrap(), records, event["cold"].as_bool().unwrap()));
            }
            Some("invoke_end") => {
                let (t0, records, cold) = started.remove(&event["batch"].as_u64().unwrap()).unwrap();
                assert_eq!(event["outcome"]["result"], "success");
                out.push((records, (event["t_ns"].as_i64().unwrap() - t0) as f64 / 1e6, cold));
            }
            _ => {}
        }
    }
    out
}

/// Batches of 10 to 500 records: the rate steps from 20 to 1,500 records/s over 4 partitions
/// with a 2 s window.
const TRAFFIC: &str = r#""topic": {"partitions": 4},
  "producers": [{"rate": 20, "schedule": [{"at": "3m", "rate": 100}, {"at": "6m", "rate": 400}, {"at": "9m", "rate": 1500}]}],
  "esm": {"batch_size": 500, "batching_window": "2s", "scaling": {"mode": "parallelization_factor", "factor": 4}}"#;

#[test]
fn durations_from_a_simulated_function_are_recovered() {
    let dir = TempDir::new().unwrap();
    // Truth: base 20 ms, 0.5 ms per record, jitter sigma 0.2.
    let scenario = format!(
        r#"{{"name": "truth", "duration": "12m", {TRAFFIC},
        "function": {{"timeout": "10s", "duration": {{"base": "20ms", "per_record": "500us", "jitter_sigma": 0.2}}}}}}"#
    );
    let rows: Vec<Invocation> = invocations(&dir, &scenario)
        .into_iter()
        .filter(|(_, _, cold)| !cold) // a warm invocation's time is the handler's alone
        .map(|(records, duration_ms, _)| Invocation { records, duration_ms, init_ms: None, memory_mb: None })
        .collect();
    assert!(rows.len() > 500, "{} invocations", rows.len());
    let fit = fit(Path::new("truth.csv"), &rows).unwrap();
    eprintln!("{}", fit.report());
    // Stated tolerances (README): base within 10 %, per_record within 5 %, sigma within 0.03.
    assert!((fit.base_ms.value - 20.0).abs() <= 2.0, "base {:?}", fit.base_ms);
    assert!((fit.per_record_ms.value - 0.5).abs() <= 0.025, "per_record {:?}", fit.per_record_ms);
    assert!((fit.jitter_sigma.value - 0.2).abs() <= 0.03, "sigma {:?}", fit.jitter_sigma);
    // And the printed 95 % intervals hold the truth (for this seed).
    for (estimate, truth) in [(fit.base_ms, 20.0), (fit.per_record_ms, 0.5), (fit.jitter_sigma, 0.2)] {
        assert!(estimate.low <= truth && truth <= estimate.high, "{estimate:?} misses {truth}");
    }
    // The patch is a valid scenario change.
    let sets = fit.set_lines();
    esmsim::parse_scenario(&dir.path().join("p.json"), &scenario, &sets).unwrap();
}

#[test]
fn init_times_from_simulated_cold_starts_are_recovered() {
    let dir = TempDir::new().unwrap();
    // Every invocation cold (environments expire after 1 ms idle); handler time exactly
    // 20 ms + 0.5 ms × records (no jitter), so init = measured − handler. Truth: lognormal
    // init of median 300 ms and sigma 0.3.
    let scenario = format!(
        r#"{{"name": "truth", "duration": "12m", {TRAFFIC},
        "function": {{"timeout": "10s", "duration": {{"base": "20ms", "per_record": "500us"}},
          "cold_start": {{"init": {{"distribution": "lognormal", "median": "300ms", "sigma": 0.3}}, "idle_expiry": "1ms"}}}}}}"#
    );
    let rows: Vec<Invocation> = invocations(&dir, &scenario)
        .into_iter()
        .filter(|(_, _, cold)| *cold)
        .map(|(records, total_ms, _)| {
            let handler_ms = 20.0 + 0.5 * records;
            Invocation { records, duration_ms: handler_ms, init_ms: Some(total_ms - handler_ms), memory_mb: None }
        })
        .collect();
    assert!(rows.len() > 300, "{} cold starts", rows.len());
    let fit = fit(Path::new("truth.csv"), &rows).unwrap();
    eprintln!("{}", fit.report());
    let (median, sigma, n) = fit.init.unwrap();
    assert_eq!(n, rows.len());
    // Stated tolerances (README): init median within 10 %, its sigma within 0.05.
    assert!((median.value - 300.0).abs() <= 30.0, "init median {median:?}");
    assert!((sigma - 0.3).abs() <= 0.05, "init sigma {sigma}");
}
