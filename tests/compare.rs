//! `diff` and `sensitivity` through the CLI, with answers worked out by hand: a scenario against
//! itself changes nothing with a zero-width interval; a batch size doubled doubles the mean
//! batch; a parameter that cannot matter ranks last with μ* = 0; the same scenario gives the
//! same bytes at any `--jobs`; bad arguments give one `error:` line and write nothing.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn esmsim() -> Command {
    Command::cargo_bin("esmsim").unwrap()
}

fn write(dir: &TempDir, name: &str, scenario: &Value) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, scenario.to_string()).unwrap();
    path
}

fn ok(args: &[&str]) -> String {
    let output = esmsim().args(args).output().unwrap();
    assert!(output.status.success(), "esmsim {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Fails with exactly one `error:` line containing `expected`, and `out` does not exist.
fn fails(args: &[&str], expected: &str, out: &Path) {
    let output = esmsim().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "esmsim {args:?}: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains(expected), "{stderr}");
    assert!(!out.exists(), "{} was written", out.display());
}

fn json_file(dir: &Path, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
}

/// Four partitions of Poisson traffic with jittered durations: every seed differs.
fn poisson() -> Value {
    json!({
        "name": "poisson", "duration": "2m", "sample_interval": "10s",
        "topic": { "partitions": 4 },
        "producers": [{ "rate": 400 }],
        "esm": { "batch_size": 100, "scaling": { "mode": "parallelization_factor", "factor": 2 } },
        "function": { "timeout": "30s", "duration": { "base": "20ms", "per_record": "1ms", "jitter_sigma": 0.3 } }
    })
}

#[test]
fn a_scenario_against_itself_changes_nothing_with_zero_width_intervals() {
    let dir = TempDir::new().unwrap();
    let a = write(&dir, "a.json", &poisson());
    let out = dir.path().join("diff");
    let text = ok(&["diff", a.to_str().unwrap(), a.to_str().unwrap(), "--seeds", "3", "--out", out.to_str().unwrap()]);
    assert!(text.contains("over 3 paired seeds: 0 of 77 metrics changed beyond the noise"), "{text}");
    let diff = json_file(&out, "diff.json");
    assert_eq!(diff["seeds"], json!([1, 2, 3]));
    let changes = diff["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 77);
    let mut with_values = 0;
    for c in changes {
        assert_eq!(c["meaningful"], json!(false), "{c}");
        if c["pairs"] == json!(3) {
            // The seeds differ from each other (jitter), but each pair is the same run: d = 0, s_d = 0.
            assert_eq!(
                (&c["difference"], &c["ci95"], &c["relative_change"]),
                (&json!(0.0), &json!([0.0, 0.0]), &json!(0.0)),
                "{c}"
            );
            assert_eq!(c["a_mean"], c["b_mean"]);
            with_values += 1;
        }
    }
    assert!(with_values >= 70, "{with_values}");
    let md = String::from_utf8(std::fs::read(out.join("diff.md")).unwrap()).unwrap();
    assert!(
        md.contains("No metric changed beyond the run-to-run noise.") && md.contains("77 metrics unchanged."),
        "{md}"
    );
}

#[test]
fn doubling_the_batch_size_doubles_the_mean_batch_and_one_seed_has_no_interval() {
    // One partition, a record every 10 ms (constant), batches flushed by size well before the
    // 10 s window, and a 1 ms function: every batch formed is full, so the mean batch is exactly
    // 10 records in A and 20 in B: change +10, relative +100 %. One seed: no interval.
    let dir = TempDir::new().unwrap();
    let scenario = |batch: u32| {
        json!({
            "name": "steady", "duration": "1m", "sample_interval": "10s",
            "topic": { "partitions": 1 },
            "producers": [{ "rate": 100, "arrivals": "constant" }],
            "esm": { "batch_size": batch, "batching_window": "10s",
                     "scaling": { "mode": "parallelization_factor", "factor": 1 } },
            "function": { "duration": { "base": "1ms", "per_record": "0ms" } }
        })
    };
    let (a, b) = (write(&dir, "a.json", &scenario(10)), write(&dir, "b.json", &scenario(20)));
    let out = dir.path().join("diff");
    let text = ok(&["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let diff = json_file(&out, "diff.json");
    let mean = diff["changes"].as_array().unwrap().iter().find(|c| c["metric"] == "batches.mean_records").unwrap();
    assert_eq!((&mean["a_mean"], &mean["b_mean"], &mean["difference"]), (&json!(10.0), &json!(20.0), &json!(10.0)));
    assert_eq!(
        (&mean["relative_change"], &mean["ci95"], &mean["meaningful"]),
        (&json!(1.0), &Value::Null, &json!(true))
    );
    let md = String::from_utf8(std::fs::read(out.join("diff.md")).unwrap()).unwrap();
    assert!(md.contains("| `batches.mean_records` | 10 | 20 | +10 | +100.0 % | one seed: no interval |"), "{md}");
    assert!(text.contains("batches.mean_records") && text.contains("+100.0 %"), "{text}");
    // Meaningful changes first, largest relative change first (a record waits up to 90 ms for
    // its batch in A and 190 ms in B, so p99 latency rises by more than 100 % and leads).
    let changes = diff["changes"].as_array().unwrap();
    let meaningful = changes.iter().take_while(|c| c["meaningful"] == json!(true)).count();
    assert!(changes[meaningful..].iter().all(|c| c["meaningful"] == json!(false)));
    let sizes: Vec<f64> = changes[..meaningful].iter().map(|c| c["relative_change"].as_f64().unwrap().abs()).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
    assert_eq!(changes[0]["metric"], "latency_ms.p99");
}

/// On-demand pollers, 50 s long: the first scaling evaluation (at 1 min) never comes, and no
/// environment can be idle for the shortest idle expiry in its range (1 min), so
/// `function.cold_start.idle_expiry` cannot change anything; the initial pollers (1 to 4) and
/// the invocations per poller set how many batches run at once, which moves p99 latency.
fn short_on_demand() -> Value {
    json!({
        "name": "short", "duration": "50s", "sample_interval": "5s",
        "topic": { "partitions": 4 },
        "producers": [{ "rate": 2000 }],
        "esm": { "batch_size": 100, "batching_window": "500ms", "scaling": { "mode": "on_demand" } },
        "function": { "duration": { "base": "20ms", "per_record": "1ms" } }
    })
}

#[test]
fn a_parameter_that_cannot_matter_ranks_last_with_zero_mu_star() {
    let dir = TempDir::new().unwrap();
    let s = write(&dir, "s.json", &short_on_demand());
    let out = dir.path().join("sens");
    let args = ["sensitivity", s.to_str().unwrap(), "--metric", "latency_ms.p99", "--trajectories", "4"];
    let text = ok(&[&args[..], &["--jobs", "2", "--out", out.to_str().unwrap()]].concat());
    let result = json_file(&out, "sensitivity.json");
    let params = result["parameters"].as_array().unwrap();
    let last_rank = params.iter().map(|p| p["rank"].as_u64().unwrap()).max().unwrap();
    let idle = params.iter().find(|p| p["parameter"] == "function.cold_start.idle_expiry").unwrap();
    assert_eq!(idle["mu_star"], json!(0.0), "{idle}");
    assert_eq!(idle["rank"].as_u64(), Some(last_rank), "{idle}");
    // Each of its 4 effects is exactly 0: the runs either side of its step are identical.
    assert_eq!(idle["elementary_effects"], json!([0.0, 0.0, 0.0, 0.0]));
    let top = &params[0];
    assert!(top["mu_star"].as_f64().unwrap() > 0.0, "{top}");
    assert!(
        ["esm.scaling.initial_pollers", "esm.scaling.invocations_per_poller"]
            .contains(&top["parameter"].as_str().unwrap()),
        "{top}"
    );
    // 12 parameters apply to on_demand (README's range table): 4 trajectories × 13 points + the scenario.
    assert_eq!(params.len(), 12);
    assert_eq!(result["runs"], json!(53));
    assert!(text.contains("rank") && text.contains("function.cold_start.idle_expiry"), "{text}");
    let csv = String::from_utf8(std::fs::read(out.join("sensitivity.csv")).unwrap()).unwrap();
    assert!(csv.starts_with("rank,parameter,low,high,spread,scenario_value,mu_star,mu,sigma,effects\n1,"), "{csv}");
    assert!(out.join("sensitivity.svg").exists() && out.join("sensitivity.png").exists());

    // Seeded and deterministic: the same files at another --jobs.
    let again = dir.path().join("again");
    ok(&[&args[..], &["--jobs", "1", "--out", again.to_str().unwrap()]].concat());
    for name in ["sensitivity.json", "sensitivity.csv", "sensitivity.svg"] {
        assert!(std::fs::read(out.join(name)).unwrap() == std::fs::read(again.join(name)).unwrap(), "{name}");
    }
}

#[test]
fn bad_arguments_give_one_line_and_write_nothing() {
    let dir = TempDir::new().unwrap();
    let s = write(&dir, "s.json", &short_on_demand());
    let s = s.to_str().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    fails(
        &["sensitivity", s, "--metric", "latency", "--out", o],
        "--metric: unknown metric \"latency\"; allowed:",
        &out,
    );
    fails(
        &["sensitivity", s, "--metric", "latency_ms.p99", "--trajectories", "0", "--out", o],
        "--trajectories: 0 is out of range; allowed: 1 to 1000",
        &out,
    );
    fails(
        &["sensitivity", s, "--metric", "latency_ms.p99", "--seeds", "0", "--out", o],
        "--seeds: must be at least 1",
        &out,
    );
    fails(
        &["sensitivity", s, "--metric", "latency_ms.p99", "--set", "esm.batch_size=0", "--out", o],
        "esm.batch_size",
        &out,
    );
    let missing = dir.path().join("missing.json");
    fails(&["diff", s, missing.to_str().unwrap(), "--out", o], "missing.json: cannot read the file", &out);
    fails(&["diff", s, s, "--seeds", "0", "--out", o], "--seeds: must be at least 1", &out);
    fails(&["diff", s, s, "--set", "esm.batchsize=5", "--out", o], "unknown field `batchsize`", &out);
    fails(&["diff", s, s, "--jobs", "0", "--out", o], "--jobs: 0 is out of range", &out);
}

#[test]
fn tune_robust_rechecks_the_winner_at_the_ends_of_the_influential_assumptions() {
    let dir = TempDir::new().unwrap();
    let s = write(&dir, "s.json", &short_on_demand());
    let out = dir.path().join("tune");
    let args = ["tune", s.to_str().unwrap(), "--minimize", "latency_ms.p99", "--grid", "esm.batch_size=10,100,500"];
    let text = ok(&[&args[..], &["--robust", "--out", out.to_str().unwrap()]].concat());
    let tune = json_file(&out, "tune.json");
    let robust = json_file(&out, "robust.json");
    // The winner re-checked is tune's winner, first of the candidates (all three are feasible).
    assert_eq!(robust["winner"], json!([format!("esm.batch_size={}", tune["best"]["esm.batch_size"])]));
    assert_eq!(robust["candidates"].as_array().unwrap().len(), 3);
    assert_eq!(robust["candidates"][0], robust["winner"]);
    // Every applicable assumption screened (12 on demand); the most influential (at most 3, each
    // with a non-zero influence) re-checked at both ends; "holds" is every end keeping the winner.
    let screened = robust["screened"].as_array().unwrap();
    assert_eq!(screened.len(), 12);
    let extremes = robust["extremes"].as_array().unwrap();
    assert!(!extremes.is_empty() && extremes.len() <= 6 && extremes.len() % 2 == 0, "{extremes:?}");
    for e in extremes {
        let screened = screened.iter().find(|s| s["parameter"] == e["parameter"]).unwrap();
        assert!(screened["influence"].as_f64().unwrap() > 0.0);
        assert_eq!(e["holds"].as_bool().unwrap(), e["best"] == robust["winner"], "{e}");
    }
    let holds = extremes.iter().all(|e| e["holds"] == json!(true));
    assert_eq!(robust["holds"], json!(holds));
    let verdict = if holds { "robust: the choice holds" } else { "robust: the choice does NOT hold" };
    assert!(text.contains(verdict), "{text}");
    // A shard cannot re-check: the re-check needs the whole search.
    let o = dir.path().join("shard");
    fails(
        &[&args[..], &["--robust", "--shard", "1/2", "--out", o.to_str().unwrap()]].concat(),
        "--robust: re-checks after the whole search; run it without sharding",
        &o,
    );
}

/// One partition, one record a second, and an arm64 function whose every invocation takes
/// 900 ms on x86_64 (no jitter, nothing per record); the factor model, infinite retries and
/// constant traffic leave `function.duration.arm64_factor` (0.8 to 1.25) as the only ASSUMED
/// parameter that can change a run: there are no failures to back off from, payloads are tiny
/// and an environment idles 0.1 s between invocations, far below the shortest idle expiry (1 min).
fn arm64_second_per_record() -> Value {
    json!({
        "name": "arm64", "duration": "2m", "sample_interval": "5s",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": 1, "arrivals": "constant" }],
        "esm": { "batch_size": 10, "batching_window": "0s",
                 "scaling": { "mode": "parallelization_factor", "factor": 1 } },
        "function": { "architecture": "arm64", "timeout": "2s", "duration": { "base": "900ms" } }
    })
}

/// `tune --robust` minimising cost under a p99 bound; returns robust.json.
fn robust_tune(dir: &TempDir, grid: &str) -> (Value, String) {
    let s = write(dir, "s.json", &arm64_second_per_record());
    let out = dir.path().join("tune");
    let text = ok(&[
        "tune",
        s.to_str().unwrap(),
        "--minimize",
        "cost_usd.per_month",
        "--constraint",
        "latency_ms.p99<=5000",
        "--grid",
        grid,
        "--strategy",
        "brute-force",
        "--robust",
        "--no-charts",
        "--out",
        out.to_str().unwrap(),
    ]);
    (json_file(&out, "robust.json"), text)
}

fn only_arm64_factor_screened_as_influential(robust: &Value) {
    let influential: Vec<&Value> = robust["screened"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["influence"].as_f64().is_some_and(|i| i > 0.0))
        .collect();
    assert_eq!(influential.len(), 1, "{influential:?}");
    assert_eq!(influential[0]["parameter"], "function.duration.arm64_factor");
    let ends: Vec<&Value> = robust["extremes"].as_array().unwrap().iter().map(|e| &e["value"]).collect();
    assert_eq!(ends, [&json!("0.8"), &json!("1.25")]);
}

#[test]
fn robust_choice_does_not_hold_when_an_assumed_arm64_factor_makes_the_winner_time_out() {
    // Timeouts 1 s and 2 s. At the scenario's factor 1 an invocation takes 900 ms < 1 s, so
    // both timeouts give the very same runs; the tie goes to the first grid point, 1 s. At the
    // low end, 900 × 0.8 = 720 ms: still the same runs, 1 s stays best. At the high end,
    // 900 × 1.25 = 1,125 ms > 1 s: every invocation with the 1 s timeout times out and is
    // retried forever, nothing commits, so its p99 is empty and fails `latency_ms.p99<=5000`;
    // with 2 s the invocation finishes (1,125 ms < 2 s) and meets it. The winner changes to 2 s.
    let dir = TempDir::new().unwrap();
    let (robust, text) = robust_tune(&dir, "function.timeout=1s,2s");
    assert_eq!(robust["winner"], json!(["function.timeout=1s"]));
    only_arm64_factor_screened_as_influential(&robust);
    let extremes = robust["extremes"].as_array().unwrap();
    assert_eq!((&extremes[0]["best"], &extremes[0]["holds"]), (&json!(["function.timeout=1s"]), &json!(true)));
    assert_eq!((&extremes[1]["best"], &extremes[1]["holds"]), (&json!(["function.timeout=2s"]), &json!(false)));
    assert_eq!(extremes[1]["candidates"][0]["feasible"], json!(false), "1 s times out at 1,125 ms");
    assert_eq!(extremes[1]["candidates"][1]["feasible"], json!(true));
    assert_eq!(robust["holds"], json!(false));
    assert!(text.contains("robust: the choice does NOT hold"), "{text}");
    assert!(text.contains("winner changes to function.timeout=2s"), "{text}");
}

#[test]
fn robust_choice_holds_when_every_extreme_scales_both_candidates_alike() {
    // Memory 128 MB and 256 MB with the 2 s timeout: durations do not depend on memory here (no
    // reference_memory_mb), so at factor 0.8 (720 ms) and 1.25 (1,125 ms < 2 s) both run the
    // same invocations, and compute is billed per GB-second: 128 MB costs half of 256 MB's
    // compute at every end, with the same request cost. 128 MB stays the cheapest everywhere.
    let dir = TempDir::new().unwrap();
    let (robust, text) = robust_tune(&dir, "function.memory_mb=256,128");
    assert_eq!(robust["winner"], json!(["function.memory_mb=128"]));
    only_arm64_factor_screened_as_influential(&robust);
    for e in robust["extremes"].as_array().unwrap() {
        assert_eq!((&e["best"], &e["holds"]), (&json!(["function.memory_mb=128"]), &json!(true)), "{e}");
        let cost = |i: usize| e["candidates"][i]["metrics"]["cost_usd.per_month"].as_f64().unwrap();
        // Candidates in rank order: 128 MB, then 256 MB; 256 MB costs more but less than twice
        // (requests are billed alike).
        assert!(cost(0) < cost(1) && cost(1) < 2.0 * cost(0), "{e}");
    }
    assert_eq!(robust["holds"], json!(true));
    assert!(text.contains("robust: the choice holds"), "{text}");
}
