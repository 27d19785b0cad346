//! Helpers shared by the integration tests.
#![allow(dead_code)]

use esmsim::config::{Config, compile};
use esmsim::engine::SimTime;
use esmsim::metrics::Resolution;
use esmsim::model::destination::Condition;
use esmsim::model::esm::{Batch, Piece, Segment};
use esmsim::model::topic::Partition;
use esmsim::{Observer, Outcome, Report, Scenario, SimulationBuilder, parse_scenario};
use serde_json::Value;
use std::path::Path;

/// A scenario from JSON, validated as the CLI would.
pub fn scenario(json: Value) -> Scenario {
    parse_scenario(Path::new("test.json"), &json.to_string(), &[])
        .unwrap_or_else(|e| panic!("invalid test scenario: {e}"))
        .scenario
}

/// The compiled configuration of a validated scenario.
pub fn config(s: &Scenario) -> Config {
    compile(s).unwrap_or_else(|p| panic!("invalid test scenario: {}: {}", p.path, p.message)).config
}

pub fn run(s: &Scenario) -> Report {
    SimulationBuilder::new(&config(s)).build().run().0
}

pub fn run_json(json: Value) -> Report {
    run(&scenario(json))
}

/// Records what the ESM did, for assertions on individual batches and invocations.
#[derive(Default, Debug)]
pub struct Log {
    pub formed: Vec<(SimTime, u32)>,
    pub started: Vec<(SimTime, u64, u32, bool)>,
    pub ended: Vec<(SimTime, u64, Outcome)>,
    pub throttles: u64,
    pub bisects: u64,
    pub destination: Vec<(SimTime, Vec<Segment>, Condition, u32)>,
}

impl Observer for Log {
    fn batch_formed(&mut self, now: SimTime, batch: &Batch, _: &[Partition]) {
        self.formed.push((now, batch.records));
    }
    fn invocation_started(&mut self, now: SimTime, batch: &Batch, cold: bool) {
        self.started.push((now, batch.id, batch.records, cold));
    }
    fn invocation_ended(&mut self, now: SimTime, batch: &Batch, outcome: Outcome) {
        self.ended.push((now, batch.id, outcome));
    }
    fn throttled(&mut self, _now: SimTime, _batch: &Batch) {
        self.throttles += 1;
    }
    fn bisected(&mut self, _now: SimTime, _batch: &Batch, _second: &Piece) {
        self.bisects += 1;
    }
    fn delivered_to_destination(&mut self, now: SimTime, _: u64, segments: &[Segment], c: Condition, count: u32) {
        self.destination.push((now, segments.to_vec(), c, count));
    }
}

pub fn run_logged(s: &Scenario) -> (Report, Log) {
    SimulationBuilder::new(&config(s)).build_with_observer(Log::default()).run()
}

/// Checks, as the run goes, that every record is resolved exactly once; that, unless
/// `in_order` is off (the per-record commit model), records of a partition are resolved in
/// offset order; and that committed offsets never go backwards.
#[derive(Default, Debug)]
pub struct OrderChecker {
    in_order: bool,
    /// Per partition: the lowest offset not yet resolved, and ranges resolved beyond it.
    next: Vec<u64>,
    ahead: Vec<std::collections::BTreeMap<u64, u64>>,
    committed: Vec<u64>,
    pub violations: Vec<String>,
    pub resolved: u64,
}

impl OrderChecker {
    pub fn new(partitions: u32, in_order: bool) -> Self {
        let n = partitions as usize;
        OrderChecker {
            in_order,
            next: vec![0; n],
            ahead: vec![Default::default(); n],
            committed: vec![0; n],
            ..Default::default()
        }
    }
}

impl Observer for OrderChecker {
    fn resolved(&mut self, now: SimTime, partition: u32, start: u64, end: u64, how: Resolution) {
        let p = partition as usize;
        self.resolved += end - start;
        let overlaps_ahead = self.ahead[p].range(..end).next_back().is_some_and(|(_, &e)| e > start);
        if start < self.next[p] || overlaps_ahead || end <= start {
            self.violations.push(format!("t={now}: {how:?} {partition}:{start}..{end} resolved twice"));
            return;
        }
        if start > self.next[p] {
            if self.in_order {
                self.violations.push(format!(
                    "t={now}: {how:?} {partition}:{start}..{end} before offset {} was resolved",
                    self.next[p]
                ));
            }
            self.ahead[p].insert(start, end);
            return;
        }
        self.next[p] = end;
        while let Some((&s, &e)) = self.ahead[p].first_key_value() {
            if s != self.next[p] {
                break;
            }
            self.ahead[p].remove(&s);
            self.next[p] = e;
        }
    }

    fn committed(&mut self, now: SimTime, partition: u32, offset: u64) {
        let p = partition as usize;
        if offset < self.committed[p] {
            self.violations.push(format!("t={now}: commit of {partition} went back to {offset}"));
        }
        if offset > self.next[p] {
            self.violations.push(format!("t={now}: committed {partition}:{offset} past unresolved {}", self.next[p]));
        }
        self.committed[p] = offset;
    }
}

/// `produced = succeeded + to_destination + discarded + lost_to_retention + filtered_out + pending_at_end`.
pub fn assert_conserved(report: &Report) {
    let r = &report.summary.records;
    assert_eq!(
        r.produced,
        r.succeeded
            + r.to_destination
            + r.discarded
            + r.lost_to_retention
            + r.filtered_out.unwrap_or(0)
            + r.pending_at_end,
        "records not conserved: {r:?}"
    );
}

pub const MS: u64 = 1_000_000;
pub const SEC: u64 = 1_000_000_000;

/// A random but valid scenario derived from one seed (VOPR style): every parameter comes from
/// `seed`, so a failing seed reproduces the whole run.
pub fn random_scenario(seed: u64) -> Value {
    use rand::{RngExt, SeedableRng};
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let partitions: u32 = r.random_range(1..=8);
    let producers: Vec<Value> = (0..r.random_range(1..=3)).map(|_| random_producer(&mut r, partitions)).collect();
    let autoscaling = |r: &mut rand_chacha::ChaCha8Rng| {
        let up = r.random_range(10..3_000);
        serde_json::json!({
            "evaluation_interval": format!("{}s", r.random_range(5..=60)),
            "scale_delay": format!("{}s", r.random_range(0..=60)),
            "scale_up_lag_per_poller": up,
            "scale_down_utilization": r.random_range(0.0..0.9),
            "rebalance_pause": format!("{}ms", r.random_range(0..=5_000)),
            "poller_bytes_per_second": r.random_range(20_000..=5_000_000),
        })
    };
    let mut scaling = match r.random_range(0..3) {
        0 => serde_json::json!({ "mode": "parallelization_factor", "factor": r.random_range(1..=10) }),
        1 => serde_json::json!({ "mode": "on_demand", "initial_pollers": r.random_range(1..=partitions),
                                 "invocations_per_poller": r.random_range(1..=3) }),
        _ => {
            let min = r.random_range(1..=partitions);
            serde_json::json!({ "mode": "provisioned", "min_pollers": min, "max_pollers": r.random_range(min..=partitions + 2),
                                "invocations_per_poller": r.random_range(1..=5) })
        }
    };
    if scaling["mode"] != "parallelization_factor" && r.random_bool(0.7) {
        for (k, v) in autoscaling(&mut r).as_object().unwrap() {
            scaling[k] = v.clone();
        }
    }
    let effects = ["error", "error", "timeout", "crash"];
    let poison: Vec<Value> = (0..r.random_range(0..=3))
        .map(|_| {
            serde_json::json!({ "partition": r.random_range(0..partitions), "offset": r.random_range(0..300),
                                "effect": effects[r.random_range(0..4)] })
        })
        .collect();
    let reserved = if r.random_bool(0.3) { Value::from(r.random_range(0..=5)) } else { Value::Null };
    // A small unreserved pool: other functions use most of the account's concurrency.
    let other_concurrency = if r.random_bool(0.5) {
        Value::from(r.random_range(980..=999))
    } else {
        serde_json::json!([{ "at": "0s", "value": r.random_range(900..=995) },
                           { "at": format!("{}s", r.random_range(10..200)), "value": r.random_range(900..=999) }])
    };
    let init = if r.random_bool(0.5) {
        Value::from(format!("{}ms", r.random_range(0..=1000)))
    } else {
        serde_json::json!({ "distribution": "lognormal", "median": format!("{}ms", r.random_range(1..=1000)),
                            "sigma": r.random_range(0.0..1.0) })
    };
    let (starting_position, backlog) = match r.random_range(0..3) {
        0 => (serde_json::json!({ "starting_position": "LATEST" }), Value::Null),
        1 => (
            serde_json::json!({ "starting_position": "TRIM_HORIZON" }),
            serde_json::json!({ "records": r.random_range(0..2_000), "span": format!("{}s", r.random_range(1..600)) }),
        ),
        _ => (
            serde_json::json!({ "starting_position": "AT_TIMESTAMP", "starting_position_age": format!("{}s", r.random_range(1..600)) }),
            serde_json::json!({ "records": r.random_range(0..2_000), "span": format!("{}s", r.random_range(1..600)) }),
        ),
    };
    let destinations = [
        Value::Null,
        serde_json::json!({"kind": "sqs"}),
        serde_json::json!({"kind": "s3"}),
        serde_json::json!({"kind": "kafka"}),
    ];
    let faults: Vec<Value> = (0..r.random_range(0..=2))
        .map(|_| {
            let from = r.random_range(0..200);
            let until = from + r.random_range(1..100);
            match r.random_range(0..4) {
                0 => serde_json::json!({ "kind": "function_outage", "from": format!("{from}s"), "until": format!("{until}s") }),
                3 => serde_json::json!({ "kind": "rebalance", "from": format!("{from}s"), "until": format!("{}s", from + 1 + until % 10) }),
                1 => serde_json::json!({ "kind": "error_burst", "from": format!("{from}s"), "until": format!("{until}s"),
                                         "error_rate": r.random_range(0.0..1.0) }),
                _ => serde_json::json!({ "kind": "slowdown", "from": format!("{from}s"), "until": format!("{until}s"),
                                         "factor": r.random_range(0.5..5.0) }),
            }
        })
        .collect();
    let mut scenario = serde_json::json!({
        "name": format!("random-{seed}"),
        "seed": r.random_range(0..1000),
        "duration": format!("{}s", r.random_range(30..=300)),
        "sample_interval": format!("{}ms", r.random_range(500..=20_000)),
        "topic": { "partitions": partitions, "retention": format!("{}s", r.random_range(20..=2000)), "backlog": backlog },
        "producers": producers,
        "esm": {
            "batch_size": r.random_range(1..=300),
            "batching_window": format!("{}ms", r.random_range(0..=3000)),
            "max_payload_bytes": r.random_range(2_000..=6_291_456),
            "scaling": scaling,
            "maximum_retry_attempts": if r.random_bool(0.5) { -1 } else { r.random_range(0..4) },
            "maximum_record_age": if r.random_bool(0.7) { Value::from(-1) } else { Value::from(r.random_range(60..200)) },
            "bisect_batch_on_function_error": r.random_bool(0.4),
            "bisect_resets_retries": r.random_bool(0.7),
            "throttles_count_as_retries": r.random_bool(0.2),
            "function_response_types": if r.random_bool(0.5) { serde_json::json!(["ReportBatchItemFailures"]) } else { serde_json::json!([]) },
            "partial_batch_commit": if r.random_bool(0.5) { "lowest_failure" } else { "per_record" },
            "on_failure_destination": destinations[r.random_range(0..4)],
            "retry_backoff": { "initial": format!("{}ms", r.random_range(1..2000)), "max": "5s" },
            "starting_position": starting_position["starting_position"],
            "starting_position_age": starting_position.get("starting_position_age").cloned().unwrap_or(Value::Null),
        },
        "function": {
            "memory_mb": r.random_range(128..=4096),
            "timeout": format!("{}s", r.random_range(1..=5)),
            "reserved_concurrency": reserved,
            "duration": { "base": format!("{}ms", r.random_range(0..=200)),
                          "per_record": format!("{}us", r.random_range(0..=20_000)),
                          "per_kib": format!("{}us", r.random_range(0..=500)),
                          "jitter_sigma": r.random_range(0.0..0.8),
                          "reference_memory_mb": r.random_range(128..=10_240), "threads": r.random_range(1..=4),
                          "arm64_factor": r.random_range(0.5..1.5) },
            "architecture": if r.random_bool(0.5) { "x86_64" } else { "arm64" },
            "cold_start": { "init": init, "idle_expiry": format!("{}s", r.random_range(0..=120)) },
            "burst_limit": { "environments": r.random_range(1..=20), "every": format!("{}s", r.random_range(1..=10)) },
        },
        "account": { "concurrency_limit": 1000, "other_concurrency": other_concurrency },
        "faults": faults,
        "failures": {
            "handler": if r.random_bool(0.5) { "fail_batch" } else { "report_failures" },
            "transient_record_error_rate": if r.random_bool(0.2) { r.random_range(0.0..0.05) } else { 0.0 },
            "poison_rate_effect": effects[r.random_range(0..4)],
            "poison_records": poison,
            "poison_rate": if r.random_bool(0.2) { r.random_range(0.0..0.01) } else { 0.0 },
            "transient_error_rate": if r.random_bool(0.3) { r.random_range(0.0..0.3) } else { 0.0 },
        }
    });
    add_random_registry(&mut scenario, seed);
    // Half the scenarios draw Poisson arrivals per partition (the default), half per producer
    // (v0.1's streams); decided from the seed, not drawn, so every other field stays what it
    // was for the seed.
    scenario["arrival_streams"] = if seed % 2 == 1 { "per_partition" } else { "per_producer" }.into();
    scenario
}

/// A schema registry on some provisioned scenarios, drawn from a stream of its own so that every
/// other field of a seed's scenario stays what it was. With failure rates, the per-record failures
/// and bisect that validation refuses beside them are switched off.
fn add_random_registry(s: &mut Value, seed: u64) {
    use rand::{RngExt, SeedableRng};
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x7265_6769_7374_7279);
    if s["esm"]["scaling"]["mode"] != "provisioned" || !r.random_bool(0.5) {
        return;
    }
    let json = r.random_bool(0.5);
    let validate = if r.random_bool(0.5) { serde_json::json!(["VALUE"]) } else { serde_json::json!(["KEY", "VALUE"]) };
    let kind = ["glue", "confluent_cloud", "confluent_self_managed"][r.random_range(0..3)];
    let mut registry = serde_json::json!({
        "kind": kind,
        "event_record_format": if json { "JSON" } else { "SOURCE" },
        "validate": validate,
        "epu_factor": r.random_range(1.0..3.0),
    });
    if json {
        registry["json_size_factor"] = Value::from(r.random_range(1.0..4.0));
    }
    if r.random_bool(0.7) {
        registry["schema_not_found_rate"] = Value::from(r.random_range(0.0..0.1));
        registry["deserialization_error_rate"] = Value::from(r.random_range(0.0..0.2));
        s["esm"]["bisect_batch_on_function_error"] = Value::from(false);
        s["failures"]["poison_records"] = serde_json::json!([]);
        s["failures"]["poison_rate"] = Value::from(0.0);
        s["failures"]["transient_record_error_rate"] = Value::from(0.0);
    }
    s["esm"]["schema_registry"] = registry;
}

fn random_producer(r: &mut rand_chacha::ChaCha8Rng, partitions: u32) -> Value {
    use rand::RngExt;
    let partitioning = match r.random_range(0..4) {
        0 => serde_json::json!("uniform"),
        1 => serde_json::json!("round_robin"),
        2 => {
            serde_json::json!({ "hot_partition": { "partition": r.random_range(0..partitions), "share": r.random_range(0.0..1.0) } })
        }
        _ => serde_json::json!({ "zipf": { "exponent": r.random_range(0.0..2.0) } }),
    };
    let record_bytes = match r.random_range(0..3) {
        0 => serde_json::json!(r.random_range(0..5_000)),
        1 => serde_json::json!({ "distribution": "uniform", "min": 10, "max": r.random_range(10..20_000) }),
        _ => {
            serde_json::json!({ "distribution": "lognormal", "median": r.random_range(10.0..5_000.0), "sigma": r.random_range(0.0..1.5) })
        }
    };
    let schedule: Vec<Value> = (1..=r.random_range(0..=3))
        .map(|k| serde_json::json!({ "at": format!("{}s", k * 40), "rate": r.random_range(0.0..800.0) }))
        .collect();
    serde_json::json!({
        "rate": r.random_range(0.0..800.0),
        "arrivals": if r.random_bool(0.5) { "poisson" } else { "constant" },
        "schedule": schedule,
        "record_bytes": record_bytes,
        "key_bytes": r.random_range(0..64),
        "partitioning": partitioning,
    })
}

/// One partition that receives exactly `records` records at t = 0 … 10 ms, flushed as one batch
/// of `records` by size; a function of 10 ms + 1 ms per record.
pub fn one_batch(records: u32) -> Value {
    serde_json::json!({
        "name": "one-batch", "duration": "10m",
        "topic": { "partitions": 1 },
        "producers": [{ "rate": records as f64 * 100.0, "arrivals": "constant",
                        "schedule": [{ "at": "10ms", "rate": 0 }] }],
        "esm": { "batch_size": records, "batching_window": "1s",
                 "scaling": { "mode": "parallelization_factor" } },
        "function": { "duration": { "base": "10ms", "per_record": "1ms" } }
    })
}

/// The fixed-concurrency case of capacity's hand-worked tests: factor 4 over 8 partitions keeps 4
/// batches in flight; full batches of 100 records take 20 ms + 100 × 0.3 ms = 50 ms, so
/// C·B/D = 4 × 100 / 0.05 s = 8,000 records/s. Constant arrivals, round robin, no jitter.
pub fn fixed_concurrency(duration: &str) -> Value {
    serde_json::json!({
        "name": "fixed", "duration": duration, "sample_interval": "5s",
        "topic": { "partitions": 8 },
        "producers": [{ "rate": 1000, "arrivals": "constant", "partitioning": "round_robin" }],
        "esm": { "batch_size": 100, "batching_window": "1s",
                 "scaling": { "mode": "parallelization_factor", "factor": 4 } },
        "function": { "timeout": "10s", "duration": { "base": "20ms", "per_record": "300us" } }
    })
}

/// The `esmsim` binary with no shard variables from the environment, so a test runs the whole
/// study whatever CI's environment holds.
pub fn esmsim_cli() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("esmsim").unwrap();
    for variable in ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "ESMSIM_SHARDS", "SLURM_ARRAY_TASK_ID"] {
        command.env_remove(variable);
    }
    command
}

/// Writes `scenario` as `dir/name` and returns its path as text, for command lines.
pub fn write_scenario(dir: &Path, name: &str, scenario: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, scenario.to_string()).unwrap();
    path.display().to_string()
}
