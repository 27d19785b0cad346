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

/// A ramp from 1,500 to 5,000 records/s in 2-minute steps, then 2,000/s: one poller
/// (invocations_per_poller 1) moves about 1,000 records/s (100-record batches of 100 ms), so
/// lag builds at each step and how fast pollers follow shows in OffsetLag.
const RAMP: &str = "time,rate\n0,1500\n120,2200\n240,2900\n360,3600\n480,4300\n600,5000\n720,2000\n840,2000\n";

/// The scenario to calibrate: esmsim's default autoscaling (initial 1 poller, 1,000 records per
/// poller, 3 min delay), its rate replaced by --traffic.
const START: &str = r#"{"name": "start", "duration": "16m", "sample_interval": "5s", "seed": 1,
  "topic": {"partitions": 8}, "producers": [{"rate": 1000, "record_bytes": 500}],
  "esm": {"batch_size": 100, "batching_window": "0s", "scaling": {"mode": "on_demand"}},
  "function": {"timeout": "10s", "duration": {"base": "100ms", "per_record": "0ms", "jitter_sigma": 0.1}}}"#;

fn esmsim() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("esmsim").unwrap()
}

/// SplitMix64: deterministic noise for the observation, independent of esmsim's own streams.
fn splitmix(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / u64::MAX as f64
}

/// `esmsim run` of START with the truth's parameters and another seed; its OffsetLag with
/// ±10 % uniform noise, as observed-cloudwatch.csv (timestamp and OffsetLag_Maximum only).
fn observe(dir: &TempDir, truth: &[&str]) -> std::path::PathBuf {
    let scenario = dir.path().join("start.json");
    std::fs::write(&scenario, START).unwrap();
    std::fs::write(dir.path().join("ramp.csv"), RAMP).unwrap();
    let mut run = esmsim();
    run.arg("run").arg(&scenario).args(["--seed", "7", "--cloudwatch-period", "30s", "--no-charts", "--out"]);
    run.arg(dir.path().join("truth")).args(["--set", "producers.0.rate=null"]);
    run.args(["--set", r#"producers.0.rate_from={"csv":"ramp.csv"}"#]);
    for set in truth {
        run.args(["--set", set]);
    }
    run.assert().success();
    let clean = std::fs::read_to_string(dir.path().join("truth/cloudwatch.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(clean.as_bytes());
    let mut noisy = "timestamp,OffsetLag_Maximum\n".to_string();
    let mut state = 42;
    for row in reader.records() {
        let row = row.unwrap();
        let lag: f64 = row[1].parse().unwrap();
        let noise = 1.0 + 0.1 * (2.0 * splitmix(&mut state) - 1.0);
        noisy += &format!("{},{}\n", &row[0], (lag * noise).round());
    }
    let file = dir.path().join("observed.csv");
    std::fs::write(&file, noisy).unwrap();
    file
}

fn calibrate(dir: &TempDir, observed: &Path, out: &str, extra: &[&str]) -> (Value, String) {
    let output = esmsim()
        .args(["calibrate", "--observed"])
        .arg(observed)
        .arg("--traffic")
        .arg(dir.path().join("ramp.csv"))
        .arg(dir.path().join("start.json"))
        .arg("--out")
        .arg(dir.path().join(out))
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json = std::fs::read(dir.path().join(out).join("calibration.json")).unwrap();
    (serde_json::from_slice(&json).unwrap(), stdout)
}

#[test]
fn autoscaling_parameters_are_recovered_from_a_noisy_observation() {
    let dir = TempDir::new().unwrap();
    // Truth: 2 initial pollers, 5,000 records of lag per poller, decisions take effect after 60 s.
    let truth =
        ["esm.scaling.initial_pollers=2", "esm.scaling.scale_up_lag_per_poller=5000", "esm.scaling.scale_delay=60s"];
    let observed = observe(&dir, &truth);
    // From esmsim's defaults (1, 1000, 3m), 3 × 5 × 3 = 45 candidates; the truth is one of them
    // and every other level is at least a factor of 2 (lag per poller) or 30 s (delay) away.
    let grid = [
        "--grid",
        "esm.scaling.initial_pollers=1,2,3",
        "--grid",
        "esm.scaling.scale_up_lag_per_poller=1250,2500,5000,10000,20000",
        "--grid",
        "esm.scaling.scale_delay=30s,60s,2m",
    ];
    let (fit, stdout) = calibrate(&dir, &observed, "fit", &grid);
    eprintln!("{stdout}");
    // Stated tolerance (README): the truth's grid point itself, not a neighbour (initial_pollers
    // exact, lag per poller within less than a factor of 2, delay within less than 30 s). Here the
    // truth's RMSE is about 750 records (the noise) and the runner-up's about 10,000.
    let best = &fit["candidates"][0]["parameters"];
    assert_eq!(best["esm.scaling.initial_pollers"], "2", "{best}");
    assert_eq!(best["esm.scaling.scale_up_lag_per_poller"], "5000", "{best}");
    assert_eq!(best["esm.scaling.scale_delay"], "60s", "{best}");
    let (first, second) =
        (fit["candidates"][0]["rmse_records"].as_f64(), fit["candidates"][1]["rmse_records"].as_f64());
    assert!(first.unwrap() * 3.0 < second.unwrap(), "the truth is not clearly best: {first:?} vs {second:?}");
    assert_eq!(fit["candidates"].as_array().unwrap().len(), 45);
    // The patch is the best candidate, as JSON and as --set lines, and it validates.
    let sets: Vec<String> = fit["set"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    assert_eq!(fit["patch"]["esm"]["scaling"]["initial_pollers"], 2);
    esmsim::parse_scenario(&dir.path().join("start.json"), START, &sets).unwrap();
    for file in ["candidates.csv", "patch.json", "offset_lag_fit.csv", "offset_lag_fit.png", "offset_lag_fit.svg"] {
        assert!(dir.path().join("fit").join(file).exists(), "{file}");
    }
}

#[test]
fn the_search_is_the_same_bytes_at_any_thread_count() {
    let dir = TempDir::new().unwrap();
    let observed = observe(&dir, &["esm.scaling.scale_delay=60s"]);
    // Two values of two parameters, the third pinned: 4 candidates × 2 seeds.
    let grid = [
        "--grid",
        "esm.scaling.initial_pollers=1,2",
        "--grid",
        "esm.scaling.scale_delay=60s,2m",
        "--grid",
        "esm.scaling.scale_up_lag_per_poller=1000",
        "--seeds",
        "2",
    ];
    let (one, _) = calibrate(&dir, &observed, "one", &[&grid[..], &["--jobs", "1"]].concat());
    let (two, _) = calibrate(&dir, &observed, "two", &[&grid[..], &["--jobs", "2"]].concat());
    assert_eq!(one["candidates"].as_array().unwrap().len(), 4);
    assert_eq!(one["seeds"], 2);
    for file in ["calibration.json", "candidates.csv", "patch.json", "offset_lag_fit.csv", "offset_lag_fit.svg"] {
        let read = |d: &str| std::fs::read(dir.path().join(d).join(file)).unwrap();
        assert_eq!(read("one"), read("two"), "{file}");
    }
    assert_eq!(one, two);
}

/// Bad input: one `error:` line naming the file or flag, and no output directory.
#[test]
fn bad_observations_and_scenarios_fail_with_one_line_and_write_nothing() {
    let dir = TempDir::new().unwrap();
    let observed = observe(&dir, &[]);
    let write = |name: &str, text: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        file
    };
    let no_lag = write("no-lag.csv", "timestamp,Invocations_Sum\n0,1\n60,2\n");
    let factor = write("factor.json", &START.replace(r#""mode": "on_demand""#, r#""mode": "parallelization_factor""#));
    let two = write("two.json", &START.replace(r#"[{"rate": 1000"#, r#"[{"rate": 5}, {"rate": 1000"#));
    let bad_traffic = write("bad-traffic.csv", "time,rate\n0,100\n60,-1\n");
    let start = dir.path().join("start.json");
    let ramp = dir.path().join("ramp.csv");
    let cases: Vec<(&Path, &Path, &Path, &[&str], &str)> = vec![
        (&no_lag, &ramp, &start, &[], "no-lag.csv: line 1: the header needs timestamp and OffsetLag_Maximum"),
        (&observed, &ramp, &factor, &[], "factor.json: esm.scaling.mode: parallelization_factor has no autoscaling"),
        (&observed, &ramp, &two, &[], "--traffic: replaces the one producer's rate"),
        (&observed, &bad_traffic, &start, &[], "producers.0.rate_from.csv"),
        (&observed, &ramp, &start, &["--levels", "1"], "--levels: 1 is out of range; allowed: 2 to 10"),
        (&observed, &ramp, &start, &["--grid", "esm.scaling.scale_delay=soon"], "scale_delay"),
    ];
    for (i, (observed, traffic, scenario, extra, needle)) in cases.into_iter().enumerate() {
        let out = dir.path().join(format!("out{i}"));
        let output = esmsim()
            .args(["calibrate", "--observed"])
            .arg(observed)
            .arg("--traffic")
            .arg(traffic)
            .arg(scenario)
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(!output.status.success(), "case {i} accepted");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "case {i}: {stderr}");
        assert!(errors[0].contains(needle), "case {i}: {needle:?} not in {:?}", errors[0]);
        assert!(!out.exists(), "case {i}: output written");
    }
}

/// README's walkthrough step, as printed: the example observation against the imported
/// scenario with the fitted durations (64 runs of an hour).
#[test]
fn the_readme_walkthrough_fits_the_example_observation_as_printed() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("orders-autoscaling");
    let output = esmsim()
        .args(["calibrate", "--observed", "examples/aws/observed-cloudwatch.csv", "--traffic"])
        .args(["examples/aws/traffic.csv", "examples/aws/orders.json"])
        .args(["--set", r#"function.cold_start.init={"distribution":"lognormal","median":"408504us","sigma":0.109}"#])
        .args(["--set", "function.duration.base=28259us", "--set", "function.duration.per_record=789us"])
        .args(["--set", "function.duration.jitter_sigma=0.137", "--set", "function.duration.reference_memory_mb=1024"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let readme = std::fs::read_to_string("README.md").unwrap();
    // Every line README prints before the files written.
    let start = readme.find("searched 64 candidates").expect("README shows the search");
    let printed = &readme[start..readme[start..].find("wrote ").unwrap() + start];
    assert!(stdout.starts_with(printed), "README:\n{printed}\nnow:\n{stdout}");
    assert!(out.join("offset_lag_fit.png").exists());
}
