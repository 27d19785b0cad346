//! Provisioned concurrency and SnapStart (`function.provisioned_concurrency`,
//! `function.snapstart`), against answers worked out by hand.

mod common;

use common::{assert_conserved, config, run_json, scenario};
use esmsim::engine::SimTime;
use esmsim::model::esm::{Batch, Running};
use esmsim::{Observer, Report, SimulationBuilder, parse_scenario};
use serde_json::{Value, json};
use std::path::Path;

/// `partitions` partitions, each receiving 10 records/s (constant, round robin) for 90 s and
/// nothing after, in a 100 s run: 900 records per partition. Batches of 10 (a batch fills in
/// 0.9 s, inside the 1 s window), one batch at a time per partition and every partition served
/// at once (`parallelization_factor` = partitions); each invocation takes
/// 100 ms (no per-record time, no jitter) at 1,024 MB = 1 GB on x86_64; a cold start's init is
/// 300 ms. So every partition has one invocation running 100 ms in each second, and the
/// partitions' batches fill 1/(10 × partitions) s apart: all of them overlap.
fn base(partitions: u32) -> Value {
    json!({
        "name": "pc", "duration": "100s",
        "topic": { "partitions": partitions },
        "producers": [{ "rate": 10 * partitions, "arrivals": "constant", "partitioning": "round_robin",
                        "schedule": [{ "at": "90s", "rate": 0 }] }],
        "esm": { "batch_size": 10, "batching_window": "1s",
                 "scaling": { "mode": "parallelization_factor", "factor": partitions } },
        "function": { "memory_mb": 1024, "duration": { "base": "100ms" },
                      "cold_start": { "init": "300ms" } }
    })
}

fn with_pc(mut s: Value, n: u32) -> Value {
    s["function"]["provisioned_concurrency"] = json!(n);
    s
}

/// Every finished invocation: (started, ended, cold, provisioned, restored).
#[derive(Default)]
struct Starts(Vec<(SimTime, SimTime, bool, bool, bool)>);

impl Observer for Starts {
    fn invocation_finished(&mut self, now: SimTime, _: &Batch, r: &Running) {
        self.0.push((r.started_ns, now, r.cold, r.provisioned, r.restored));
    }
}

fn run_observed(s: Value) -> (Report, Starts) {
    SimulationBuilder::new(&config(&scenario(s))).build_with_observer(Starts::default()).run()
}

/// US dollars, to a part in a billion of the expected amount.
fn assert_usd(actual: f64, expected: f64, what: &str) {
    assert!((actual - expected).abs() <= expected.abs() * 1e-9 + 1e-15, "{what}: {actual} != {expected}");
}

const MONTH_SECONDS: f64 = 730.0 * 3600.0;

#[test]
fn two_provisioned_environments_serve_two_partitions_without_a_cold_start() {
    let (report, starts) = run_observed(with_pc(base(2), 2));
    let s = &report.summary;
    assert_conserved(&report);
    // 2 partitions × 900 records = 1,800 records in batches of 10: 180 invocations, all on the
    // two provisioned environments (never more than two run at once), none cold.
    assert_eq!(s.records.succeeded, 1_800);
    assert_eq!(s.invocations.total, 180);
    assert_eq!(s.invocations.cold_starts, 0);
    assert_eq!(s.invocations.provisioned, Some(180));
    assert_eq!(s.invocations.on_demand, Some(0));
    assert_eq!(s.concurrency.peak, 2);
    assert!(starts.0.iter().all(|&(_, _, cold, provisioned, _)| !cold && provisioned));
    let cw = &s.cloudwatch;
    assert_eq!(cw.provisioned_concurrency_invocations, Some(180));
    assert_eq!(cw.provisioned_concurrency_spillover_invocations, Some(0));
    assert_eq!(cw.provisioned_concurrent_executions.map(|m| m.max), Some(2));
    assert_eq!(cw.provisioned_concurrency_utilization.map(|m| m.max), Some(1.0));

    // The bill, by hand (1 GB, 100 s):
    //   requests:   180 × $0.20 / 1e6                         = $0.000036
    //   duration:   180 × 0.1 s × 1 GB = 18 GB-s × $0.0000097222 = $0.0001749996
    //   allocation: 2 × 1 GB × 100 s = 200 GB-s × $0.0000041667  = $0.00083334
    //   on-demand duration: none.
    let c = &s.cost_usd;
    let pc = c.provisioned_concurrency.as_ref().expect("the provisioned concurrency breakdown");
    assert_usd(c.requests, 0.000_036, "requests");
    assert_usd(pc.duration, 0.000_174_999_6, "provisioned duration");
    assert_usd(c.compute, 0.000_174_999_6, "compute is the provisioned duration alone");
    assert_usd(pc.allocation, 0.000_833_34, "allocation");
    assert_usd(c.total, 0.000_036 + 0.000_174_999_6 + 0.000_833_34, "total");
    // A month at this rate: 26,280 runs of 100 s.
    assert_usd(c.per_month, (0.000_036 + 0.000_174_999_6 + 0.000_833_34) * MONTH_SECONDS / 100.0, "per month");
    // The time series' cost column sums to the total.
    let column: f64 = report.timeseries.iter().map(|r| r.cost_usd).sum();
    assert_usd(column, c.total, "timeseries cost column");
}

#[test]
fn a_third_partition_spills_over_and_only_the_spill_over_starts_cold() {
    let (report, starts) = run_observed(with_pc(base(3), 2));
    let s = &report.summary;
    assert_conserved(&report);
    // 2,700 records: 270 invocations, 90 per partition. In each second the batches of
    // partitions 0, 1 and 2 fill 1/30 s apart and run 100 ms each, so all three overlap: the
    // first two take the provisioned environments, the third spills over. Its first spill-over
    // creates an on-demand environment (cold, 300 ms init); the later ones find it idle (it is
    // released 0.4 s into each second, long before the next batch) and start warm.
    assert_eq!(s.invocations.total, 270);
    assert_eq!(s.invocations.provisioned, Some(180));
    assert_eq!(s.invocations.on_demand, Some(90));
    assert_eq!(s.invocations.cold_starts, 1);
    assert_eq!(s.concurrency.peak, 3);
    let cold: Vec<_> = starts.0.iter().filter(|x| x.2).collect();
    assert_eq!(cold.len(), 1);
    assert!(!cold[0].3, "the cold start is a spill-over, not a provisioned environment");
    assert_eq!(cold[0].1 - cold[0].0, 400_000_000, "init 300 ms + handler 100 ms");
    assert!(starts.0.iter().filter(|x| x.3).all(|x| x.1 - x.0 == 100_000_000), "provisioned: 100 ms, no init");
    assert_eq!(s.cloudwatch.provisioned_concurrency_spillover_invocations, Some(90));
    assert_eq!(s.cloudwatch.provisioned_concurrent_executions.map(|m| m.max), Some(2));

    // The bill, by hand: spill-overs pay on-demand duration, 1 × 400 ms + 89 × 100 ms = 9.3 s
    // at 1 GB = 9.3 GB-s × $0.0000166667 (first tier: 9.3 × 26,280 runs a month is far below
    // 6 billion GB-s) = $0.00015500031; provisioned duration and allocation as with two
    // partitions; 270 requests = $0.000054.
    let c = &s.cost_usd;
    let pc = c.provisioned_concurrency.as_ref().unwrap();
    assert_usd(c.requests, 0.000_054, "requests");
    assert_usd(pc.duration, 0.000_174_999_6, "provisioned duration");
    assert_usd(c.compute, 0.000_155_000_31 + 0.000_174_999_6, "on-demand + provisioned duration");
    assert_usd(pc.allocation, 0.000_833_34, "allocation");
    assert_usd(c.total, 0.000_054 + 0.000_155_000_31 + 0.000_174_999_6 + 0.000_833_34, "total");
}

#[test]
fn without_provisioned_concurrency_nothing_changes_and_nothing_is_reported() {
    let report = run_json(base(2));
    let s = &report.summary;
    // Each partition's first invocation starts cold (2 environments); the bill is on-demand:
    // 2 × 400 ms + 178 × 100 ms = 18.6 GB-s × $0.0000166667 = $0.00031000062.
    assert_eq!(s.invocations.cold_starts, 2);
    assert_eq!(s.invocations.provisioned, None);
    assert!(s.cost_usd.provisioned_concurrency.is_none());
    assert!(s.cloudwatch.provisioned_concurrency_invocations.is_none());
    assert_usd(s.cost_usd.compute, 0.000_310_000_62, "compute");
    let text = serde_json::to_string(s).unwrap();
    for absent in ["provisioned", "on_demand", "restores", "snapstart", "ProvisionedConcurrency"] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }
}

fn snapstart(runtime: &str, restore: &str) -> Value {
    let mut s = base(1);
    s["function"]["cold_start"]["init"] = json!("2s");
    s["function"]["runtime"] = json!(runtime);
    s["function"]["snapstart"] = json!({ "restore": restore });
    s
}

#[test]
fn snapstart_replaces_init_by_the_restore_in_the_first_invocation() {
    // One partition, one environment for the whole run (never idle 10 minutes).
    let (plain, plain_starts) = run_observed({
        let mut s = base(1);
        s["function"]["cold_start"]["init"] = json!("2s");
        s
    });
    let (snap, snap_starts) = run_observed(snapstart("java21", "50ms"));
    // The first invocation: init 2 s + 100 ms without SnapStart, restore 50 ms + 100 ms with.
    let first = |starts: &Starts| starts.0[0];
    assert_eq!(first(&plain_starts).1 - first(&plain_starts).0, 2_100_000_000);
    assert_eq!(first(&snap_starts).1 - first(&snap_starts).0, 150_000_000);
    assert!(first(&snap_starts).4, "restored from the snapshot");
    assert_eq!(snap.summary.invocations.cold_starts, 1);
    assert_eq!(snap.summary.invocations.restores, Some(1));
    assert_eq!(plain.summary.invocations.restores, None);
    // The first record waits for the whole first invocation: 1.95 s less latency at most.
    assert!(snap.summary.latency_ms.max < plain.summary.latency_ms.max);
    // Billed as init is: 90 invocations, 150 ms + 89 × 100 ms = 9.05 GB-s against 11 GB-s.
    assert_usd(snap.summary.cost_usd.compute, 9.05 * 0.000_016_666_7, "compute with the restore");
    assert_usd(plain.summary.cost_usd.compute, 11.0 * 0.000_016_666_7, "compute with init");
    // Java: SnapStart has no charge.
    let java = snap.summary.cost_usd.snapstart.as_ref().unwrap();
    assert_eq!((java.cache, java.restore), (0.0, 0.0));
}

#[test]
fn snapstart_on_python_charges_the_cache_and_each_restore() {
    let report = run_json(snapstart("python3.12", "50ms"));
    // Cache: 1 GB × 100 s × $0.0000015046 = $0.00015046; one restore of 1 GB = $0.0001397998.
    let c = &report.summary.cost_usd;
    let ss = c.snapstart.as_ref().unwrap();
    assert_usd(ss.cache, 0.000_150_46, "cache");
    assert_usd(ss.restore, 0.000_139_799_8, "restore");
    assert_usd(c.total, c.requests + c.compute + c.pollers + ss.cache + ss.restore, "total");
}

fn rejection(s: Value) -> String {
    match parse_scenario(Path::new("s.json"), &s.to_string(), &[]) {
        Ok(_) => panic!("accepted: {s}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn settings_aws_refuses_are_rejected_with_one_line() {
    let mut s = with_pc(base(2), 20);
    s["function"]["reserved_concurrency"] = json!(10);
    let e = rejection(s);
    assert!(e.contains("function.provisioned_concurrency") && e.contains("reserved_concurrency 10"), "{e}");
    // No reservation: the account's 1,000 less the 100 AWS keeps unreserved.
    let e = rejection(with_pc(base(2), 901));
    assert!(e.contains("function.provisioned_concurrency") && e.contains("at most 900"), "{e}");
    let mut s = with_pc(snapstart("java21", "50ms"), 2);
    s["function"]["snapstart"] = json!(true);
    let e = rejection(s);
    assert!(e.contains("function.snapstart") && e.contains("provisioned concurrency"), "{e}");
    let mut s = snapstart("java21", "50ms");
    s["function"].as_object_mut().unwrap().remove("runtime");
    let e = rejection(s);
    assert!(e.contains("function.runtime") && e.contains("is needed"), "{e}");
    for runtime in ["nodejs22.x", "python3.11", "java8.al2"] {
        let e = rejection(snapstart(runtime, "50ms"));
        assert!(e.contains("function.runtime") && e.contains("does not support SnapStart"), "{e}");
    }
    for e in [rejection(snapstart("java21", "20m")), {
        let mut s = base(1);
        s["function"]["snapstart"] = json!({ "restore_time": "1s" });
        rejection(s)
    }] {
        assert!(e.contains("function.snapstart"), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}

#[test]
fn the_scenario_hash_changes_only_when_the_new_settings_are_used() {
    let plain = config(&scenario(base(2))).config_hash;
    let mut s = base(2);
    s["function"]["provisioned_concurrency"] = json!(0);
    s["function"]["snapstart"] = json!(false);
    assert_eq!(config(&scenario(s)).config_hash, plain);
    assert_ne!(config(&scenario(with_pc(base(2), 2))).config_hash, plain);
}

/// `tune` over provisioned concurrency and SnapStart, through the CLI: the grid's paths are
/// searched and the winner is printed as the AWS commands that deploy it.
#[test]
fn tune_searches_both_and_prints_their_commands() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("s.json");
    // Three partitions, init 2 s: without provisioned concurrency the first batch of each
    // partition waits 2 s for its environment (latency max above 2 s); with 3 it never does.
    let mut s = base(3);
    s["function"]["cold_start"]["init"] = json!("2s");
    s["function"]["runtime"] = json!("java21");
    std::fs::write(&file, s.to_string()).unwrap();
    let out = dir.path().join("tune");
    let output = assert_cmd::Command::cargo_bin("esmsim")
        .unwrap()
        .args(["tune", file.to_str().unwrap(), "--minimize", "cost_usd.total", "--constraint", "latency_ms.max<=1500"])
        .args(["--grid", "function.provisioned_concurrency=0,3", "--seeds", "1", "--warmup", "0s", "--no-charts"])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("best        function.provisioned_concurrency=3"), "{stdout}");
    assert!(
        stdout.contains(
            "aws lambda put-provisioned-concurrency-config --function-name \"$FUNCTION_NAME\" --qualifier \"$ALIAS\" \
             --provisioned-concurrent-executions 3"
        ),
        "{stdout}"
    );
    // SnapStart searched: with a 50 ms restore the first batches wait 150 ms, not 2.1 s, and
    // SnapStart is free on Java, so it wins on cost against provisioned concurrency's allocation.
    s["function"]["snapstart"] = json!({ "restore": "50ms" });
    std::fs::write(&file, s.to_string()).unwrap();
    let output = assert_cmd::Command::cargo_bin("esmsim")
        .unwrap()
        .args(["tune", file.to_str().unwrap(), "--minimize", "cost_usd.total", "--constraint", "latency_ms.max<=1500"])
        .args(["--grid", r#"function.snapstart=false,{"restore":"50ms"}"#, "--seeds", "1", "--warmup", "0s"])
        .args(["--no-charts", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        stdout.contains(
            "update-function-configuration --function-name \"$FUNCTION_NAME\" --snap-start ApplyOn=PublishedVersions"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("aws lambda publish-version"), "{stdout}");
}
