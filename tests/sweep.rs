//! The decision commands through the CLI: sweeps are the same bytes whatever `--jobs` is,
//! merged shards equal one machine's files, tune finds brute force's answer, capacity finds the
//! analytic limit C·B/D, and bad arguments give one `error:` line and write nothing.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn esmsim() -> Command {
    let mut command = Command::cargo_bin("esmsim").unwrap();
    for variable in esmsim::sweep::shard::ENVIRONMENT {
        command.env_remove(variable);
    }
    command
}

/// Four partitions of Poisson traffic for three minutes: every seed differs a little.
fn poisson() -> Value {
    json!({
        "name": "poisson", "duration": "3m", "sample_interval": "10s",
        "topic": { "partitions": 4 },
        "producers": [{ "rate": 400 }],
        "esm": { "batch_size": 100, "scaling": { "mode": "parallelization_factor", "factor": 2 } },
        "function": { "timeout": "30s", "duration": { "base": "20ms", "per_record": "1ms", "jitter_sigma": 0.3 } }
    })
}

fn write_scenario(dir: &TempDir, scenario: &Value) -> PathBuf {
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, scenario.to_string()).unwrap();
    path
}

/// Runs `esmsim ARGS`, expecting success.
fn ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = esmsim();
    command.args(args).envs(env.iter().copied());
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "esmsim {args:?} failed: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

/// Every file of `a` is in `b` with the same bytes, and `b` has no others.
fn same_files(a: &Path, b: &Path) {
    let names = |d: &Path| {
        let mut n: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        n.sort();
        n
    };
    assert_eq!(names(a), names(b));
    for name in names(a) {
        assert!(read(a, &name) == read(b, &name), "{name} differs between {} and {}", a.display(), b.display());
    }
}

const GRID: [&str; 4] = ["--grid", "esm.batch_size=10,100,500", "--grid", "esm.batching_window=0s,500ms,2s"];

fn sweep_args<'a>(scenario: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["sweep", scenario];
    args.extend(GRID);
    args.extend(["--seeds", "2", "--out", out]);
    args.extend(extra);
    args
}

fn path(dir: &TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

#[test]
fn a_sweep_is_the_same_bytes_with_one_or_two_jobs() {
    let dir = TempDir::new().unwrap();
    let scenario = write_scenario(&dir, &poisson()).display().to_string();
    let (one, two) = (path(&dir, "one"), path(&dir, "two"));
    ok(&sweep_args(&scenario, &one, &["--jobs", "1", "--no-charts"]), &[]);
    ok(&sweep_args(&scenario, &two, &["--jobs", "2", "--no-charts"]), &[]);
    same_files(Path::new(&one), Path::new(&two));
    let csv = String::from_utf8(read(Path::new(&one), "sweep.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0]
            .starts_with("esm.batch_size,esm.batching_window,seed,simulated_seconds,warmup_seconds,records.produced,")
    );
    assert!(lines[0].contains(",latency_ms.p99,") && lines[0].contains(",cost_usd.total,"));
    assert_eq!(lines.len(), 1 + 9 * 2, "one row per run");
    // Grid order, last dimension fastest, then seed (the scenario's seed 1, then 2).
    assert!(
        lines[1].starts_with("10,0s,1,") && lines[2].starts_with("10,0s,2,") && lines[3].starts_with("10,500ms,1,")
    );
    let summary = String::from_utf8(read(Path::new(&one), "sweep_summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1 + 9);
    assert!(summary.lines().next().unwrap().contains(
        ",latency_ms.p99.mean,latency_ms.p99.min,latency_ms.p99.max,latency_ms.p99.ci95_low,latency_ms.p99.ci95_high,"
    ));
}

#[test]
fn three_shards_merged_equal_the_full_sweep_also_from_array_job_indices() {
    let dir = TempDir::new().unwrap();
    let scenario = write_scenario(&dir, &poisson()).display().to_string();
    let full = path(&dir, "full");
    ok(&sweep_args(&scenario, &full, &[]), &[]);
    let shards: Vec<String> = (1..=3).map(|k| path(&dir, &format!("shard{k}"))).collect();
    for (k, out) in shards.iter().enumerate() {
        let slice = format!("{}/3", k + 1);
        ok(&sweep_args(&scenario, out, &["--shard", &slice]), &[]);
    }
    let merged = path(&dir, "merged");
    ok(&["merge", &shards[2], &shards[0], &shards[1], "--out", &merged], &[]);
    same_files(Path::new(&full), Path::new(&merged));

    // Kubernetes Indexed Job (0-based index, count from --shards) and AWS Batch array job
    // (0-based index, count from ESMSIM_SHARDS).
    let k8s: Vec<String> = (0..3).map(|i| path(&dir, &format!("k8s{i}"))).collect();
    for (i, out) in k8s.iter().enumerate() {
        ok(&sweep_args(&scenario, out, &["--shards", "3"]), &[("JOB_COMPLETION_INDEX", &i.to_string())]);
    }
    let batch: Vec<String> = (0..3).map(|i| path(&dir, &format!("batch{i}"))).collect();
    for (i, out) in batch.iter().enumerate() {
        ok(&sweep_args(&scenario, out, &[]), &[("AWS_BATCH_JOB_ARRAY_INDEX", &i.to_string()), ("ESMSIM_SHARDS", "3")]);
    }
    // Slurm array job, --array=1-3: ids from SLURM_ARRAY_TASK_MIN = 1, the count from
    // SLURM_ARRAY_TASK_COUNT.
    let slurm: Vec<String> = (1..=3).map(|i| path(&dir, &format!("slurm{i}"))).collect();
    for (i, out) in slurm.iter().enumerate() {
        let id = (i + 1).to_string();
        let vars =
            [("SLURM_ARRAY_TASK_ID", id.as_str()), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "3")];
        ok(&sweep_args(&scenario, out, &[]), &vars);
    }
    for (name, dirs) in [("k8s-merged", &k8s), ("batch-merged", &batch), ("slurm-merged", &slurm)] {
        let out = path(&dir, name);
        let mut args = vec!["merge"];
        args.extend(dirs.iter().map(String::as_str));
        args.extend(["--out", &out]);
        ok(&args, &[]);
        same_files(Path::new(&full), Path::new(&out));
    }
    assert_eq!(read(Path::new(&k8s[1]), "sweep.csv"), read(Path::new(&shards[1]), "sweep.csv"));
}

#[test]
fn tune_and_capacity_shards_merge_like_one_machine() {
    let dir = TempDir::new().unwrap();
    let scenario = write_scenario(&dir, &poisson()).display().to_string();
    let tune = |out: &str, extra: &[&str]| {
        let mut args =
            vec!["tune", &scenario, "--minimize", "cost_usd.per_month", "--constraint", "latency_ms.p99<=1000"];
        args.extend(GRID);
        args.extend(["--seeds", "2", "--no-charts", "--out"]);
        args.push(out);
        args.extend(extra);
        ok(&args, &[]);
    };
    let (single, a, b, merged) = (path(&dir, "tune"), path(&dir, "t1"), path(&dir, "t2"), path(&dir, "tm"));
    tune(&single, &["--strategy", "brute-force"]);
    tune(&a, &["--shard", "1/2"]);
    tune(&b, &["--shard", "2/2"]);
    ok(&["merge", &a, &b, "--out", &merged, "--no-charts"], &[]);
    same_files(Path::new(&single), Path::new(&merged));

    let capacity = |out: &str, extra: &[&str]| {
        let mut args = vec!["capacity", &scenario, "--rates", "200,800,3000", "--grid", "esm.batch_size=10,100"];
        args.extend(["--no-charts", "--out", out]);
        args.extend(extra);
        ok(&args, &[]);
    };
    let (single, a, b, merged) = (path(&dir, "cap"), path(&dir, "c1"), path(&dir, "c2"), path(&dir, "cm"));
    capacity(&single, &[]);
    capacity(&a, &["--shard", "1/2"]);
    capacity(&b, &["--shard", "2/2"]);
    ok(&["merge", &a, &b, "--out", &merged, "--no-charts"], &[]);
    same_files(Path::new(&single), Path::new(&merged));
}

/// Brute force from a full sweep: the grid point with the lowest mean objective among those
/// whose means meet the constraints (`metric`, at most `bound`); the earlier point on ties.
fn brute_force(summary_csv: &[u8], dims: usize, objective: &str, constraints: &[(&str, f64)]) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(summary_csv);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let column = |name: String| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name}"));
    let mut best: Option<(f64, Vec<String>)> = None;
    for row in reader.records() {
        let row = row.unwrap();
        let mean = |metric: &str| row[column(format!("{metric}.mean"))].parse::<f64>().ok();
        let feasible = constraints.iter().all(|(m, bound)| mean(m).is_some_and(|v| v <= *bound));
        let Some(value) = mean(objective).filter(|_| feasible) else { continue };
        if best.as_ref().is_none_or(|(b, _)| value < *b) {
            best = Some((value, row.iter().take(dims).map(String::from).collect()));
        }
    }
    best.expect("a feasible point").1
}

fn tune_matches_brute_force(scenario: Value, grid: &[&str], objective: &str, constraint: (&str, f64)) {
    let dir = TempDir::new().unwrap();
    let file = write_scenario(&dir, &scenario).display().to_string();
    let (sweep_out, tune_out) = (path(&dir, "sweep"), path(&dir, "tune"));
    let mut args = vec!["sweep", &file, "--seeds", "3", "--no-charts", "--out", &sweep_out];
    args.extend(grid);
    ok(&args, &[]);
    let expected =
        brute_force(&read(Path::new(&sweep_out), "sweep_summary.csv"), grid.len() / 2, objective, &[constraint]);
    let bound = format!("{}<={}", constraint.0, constraint.1);
    let mut args =
        vec!["tune", &file, "--minimize", objective, "--constraint", &bound, "--seeds", "3", "--out", &tune_out];
    args.extend(grid);
    args.push("--no-charts");
    let stdout = ok(&args, &[]);
    let result: Value = serde_json::from_slice(&read(Path::new(&tune_out), "tune.json")).unwrap();
    assert_eq!(result["feasible"], true, "{stdout}");
    assert_eq!(result["strategy"], "halving");
    let paths: Vec<&str> = grid.iter().skip(1).step_by(2).map(|g| g.split('=').next().unwrap()).collect();
    let best: Vec<String> = paths
        .iter()
        .map(|p| match &result["best"][*p] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(best, expected, "tune disagrees with brute force:\n{stdout}");
    assert!(result["runs"].as_u64().unwrap() < (grid_points(grid) * 3) as u64, "halving should skip runs");
    assert!(stdout.contains("aws lambda update-event-source-mapping --uuid \"$ESM_UUID\" --batch-size "), "{stdout}");
    assert!(result["best_metrics"][objective].is_number());
    let tune_csv = String::from_utf8(read(Path::new(&tune_out), "tune.csv")).unwrap();
    assert_eq!(tune_csv.lines().count(), 1 + grid_points(grid));
}

fn grid_points(grid: &[&str]) -> usize {
    grid.iter().skip(1).step_by(2).map(|g| g.split(',').count()).product()
}

#[test]
fn tune_finds_brute_forces_answer_on_batch_and_window() {
    let grid = ["--grid", "esm.batch_size=5,20,100,400", "--grid", "esm.batching_window=0s,500ms,1s,3s"];
    tune_matches_brute_force(poisson(), &grid, "cost_usd.per_month", ("latency_ms.p99", 800.0));
}

#[test]
fn tune_finds_brute_forces_answer_on_memory_and_batch() {
    // Durations measured at 1,769 MB (one vCPU): less memory is cheaper per ms but slower, and
    // a slow handler falls behind and breaks the latency bound.
    let mut s = poisson();
    s["function"]["duration"] =
        json!({ "base": "20ms", "per_record": "2ms", "jitter_sigma": 0.3, "reference_memory_mb": 1769 });
    let grid = ["--grid", "function.memory_mb=256,512,1024,1769,3008", "--grid", "esm.batch_size=20,100,400"];
    tune_matches_brute_force(s, &grid, "cost_usd.per_month", ("latency_ms.p99", 1500.0));
}

#[test]
fn capacity_finds_the_analytic_limit_c_b_over_d() {
    // Factor 3, full batches of 50 records taking 50 ms each: C·B/D = 3 × 50 / 0.05 s = 3,000
    // records/s. Constant arrivals, no jitter.
    let scenario = json!({
        "name": "analytic", "duration": "3m", "sample_interval": "5s",
        "topic": { "partitions": 6 },
        "producers": [{ "rate": 1000, "arrivals": "constant", "partitioning": "round_robin" }],
        "esm": { "batch_size": 50, "batching_window": "1s", "scaling": { "mode": "parallelization_factor", "factor": 3 } },
        "function": { "timeout": "10s", "duration": { "base": "50ms" } }
    });
    let dir = TempDir::new().unwrap();
    let file = write_scenario(&dir, &scenario).display().to_string();
    let out = path(&dir, "out");
    let stdout = ok(&["capacity", &file, "--rates", "1000,2000,4000,8000", "--out", &out], &[]);
    let result: Value = serde_json::from_slice(&read(Path::new(&out), "capacity.json")).unwrap();
    let limit = result["max_sustainable_rate"].as_f64().unwrap();
    assert!((limit - 3000.0).abs() / 3000.0 < 0.05, "found {limit} records/s, expected 3,000:\n{stdout}");
    let csv = String::from_utf8(read(Path::new(&out), "capacity.csv")).unwrap();
    assert!(csv.starts_with(
        "rate_records_per_s,seed,phase,sustainable,why,lag_slope_records_per_s,steady_lag_records,final_lag_records,"
    ));
    assert!(csv.contains(",bisection,"), "bisection rows are listed");
    for chart in ["capacity-lag", "capacity-latency", "capacity-concurrency", "capacity-cost"] {
        assert!(read(Path::new(&out), &format!("{chart}.png")).starts_with(b"\x89PNG"));
        let svg = String::from_utf8(read(Path::new(&out), &format!("{chart}.svg"))).unwrap();
        assert!(svg.contains("limit 3,0") || svg.contains("limit 2,9"), "{chart} marks the breaking point");
    }
}

#[test]
fn bad_arguments_give_one_error_line_and_write_nothing() {
    let dir = TempDir::new().unwrap();
    let scenario = write_scenario(&dir, &poisson()).display().to_string();
    let out = dir.path().join("out");
    let out_text = out.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["sweep", &scenario, "--grid", "esm.batch_size"], "error: --grid esm.batch_size: expected PATH=V1,V2"),
        (vec!["sweep", &scenario, "--grid", "esm.batch_size=1,,2"], "error: --grid esm.batch_size=1,,2: empty value"),
        (vec!["sweep", &scenario, "--grid", "esm.batchsize=1,2"], "esm.batchsize: unknown field `batchsize`"),
        (vec!["sweep", &scenario, "--grid", "esm.batch_size=100,20000"], "esm.batch_size: 20000 is out of range"),
        (vec!["sweep", &scenario, "--shard", "4/3"], "error: --shard 4/3: shard 4 of 3 does not exist"),
        (vec!["sweep", &scenario, "--shards", "3"], "error: --shards: needs the 0-based shard index"),
        (vec!["tune", &scenario, "--minimize", "cost"], "error: --minimize: unknown metric \"cost\""),
        (
            vec!["tune", &scenario, "--minimize", "cost_usd.total", "--constraint", "latency_ms.p99=5"],
            "error: --constraint latency_ms.p99=5: expected METRIC<=NUMBER",
        ),
        (
            vec!["tune", &scenario, "--minimize", "cost_usd.total", "--constraint", "p99<=5"],
            "error: --constraint p99<=5: unknown metric",
        ),
        (vec!["capacity", &scenario, "--rates", "100,fast"], "error: --rates 100,fast: \"fast\" is not a number"),
        (vec!["merge", &scenario], "shard.json: cannot read the file"),
    ];
    for (mut args, needle) in cases {
        args.extend(["--out", &out_text]);
        let output = esmsim().args(&args).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(!output.status.success(), "accepted {args:?}");
        assert_eq!(stderr.lines().count(), 1, "one line for {args:?}: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(needle), "{args:?}: expected {needle:?} in {stderr}");
        assert!(stderr.contains("grid point esm.batch_size=20000") || !needle.contains("20000"), "{stderr}");
        assert!(!out.exists(), "{args:?} wrote output");
    }
}

#[test]
fn a_sweep_reports_its_achieved_parallelism_on_the_terminal_only() {
    let dir = TempDir::new().unwrap();
    let scenario = write_scenario(&dir, &poisson()).display().to_string();
    let out = path(&dir, "two");
    let output = esmsim().args(sweep_args(&scenario, &out, &["--jobs", "2", "--no-charts"])).output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    // "note: C s of CPU in W s of wall time: achieved parallelism R of 2 threads", R = C / W:
    // at most 2 threads' worth (plus rounding and the main thread's own work), and above 0.
    let line = stderr.lines().find(|l| l.contains("achieved parallelism")).expect("a parallelism note");
    let ratio: f64 = line.split("achieved parallelism ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(line.starts_with("note: ") && line.ends_with(" of 2 threads"), "{line}");
    assert!(ratio > 0.0 && ratio < 2.5, "{line}");
    // Timing goes nowhere else: no file mentions it.
    for entry in std::fs::read_dir(&out).unwrap() {
        let text = String::from_utf8_lossy(&std::fs::read(entry.unwrap().path()).unwrap()).into_owned();
        assert!(!text.contains("parallelism"));
    }
}
