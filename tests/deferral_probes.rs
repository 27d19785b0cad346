//! Planner against search and deferral against storing every record, in corners the random
//! invariant scenarios (tests/invariants.rs) seldom reach: event filtering, exact zero-rate
//! steps, short retention over deferred records, payload triggers, failure paths, backlogs,
//! rebalances, and hundreds of partitions per poller. `PROBES=N` and `WIDE=N` run more seeds.
//!
//! Batches and resolutions are compared as an observer sees them, with one known difference:
//! retention deleting a deferred partition's lag resolves it a refill (up to two batches' worth)
//! at a time, where storing every record resolves it in one run, so resolutions are compared
//! with runs split at one instant joined again.

mod common;
use common::*;
use esmsim::engine::SimTime;
use esmsim::metrics::Resolution;
use esmsim::model::esm::{Batch, Segment};
use esmsim::model::topic::Partition;
use esmsim::{Observer, SimulationBuilder};
use serde_json::{Value, json};

/// Every batch formed and every resolution, as the run reports them.
#[derive(Default, Debug, PartialEq)]
struct Events {
    formed: Vec<(SimTime, Vec<Segment>)>,
    resolved: Vec<(SimTime, u32, u64, u64, Resolution)>,
}

impl Observer for Events {
    fn batch_formed(&mut self, now: SimTime, batch: &Batch, _: &[Partition]) {
        self.formed.push((now, batch.segments().to_vec()));
    }
    fn resolved(&mut self, now: SimTime, partition: u32, start: u64, end: u64, how: Resolution) {
        self.resolved.push((now, partition, start, end, how));
    }
}

fn probe(seed: u64) -> Value {
    use rand::{RngExt, SeedableRng};
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let partitions: u32 = r.random_range(2..=24);
    // Arrivals are generated about 32,768 at a time: a high rate makes many chunks, so that
    // deferral starts and stops many times in a short run.
    let rate = r.random_range(5_000..40_000);
    let schedule = json!([{ "at": "8s", "rate": 0 }, { "at": format!("{}s", r.random_range(9..15)), "rate": r.random_range(1_000..40_000) }]);
    let mut s = json!({
        "name": format!("probe-{seed}"), "duration": format!("{}s", r.random_range(20..=40)),
        "sample_interval": format!("{}ms", r.random_range(200..=3000)),
        "arrival_streams": "per_partition",
        "topic": { "partitions": partitions, "retention": format!("{}ms", r.random_range(1_500..=15_000)) },
        "producers": [{
            "rate": rate, "schedule": schedule,
            "record_bytes": { "distribution": "uniform", "min": 10, "max": r.random_range(100..4000) },
            "value": { "fields": { "kind": { "one_of": { "values": ["keep", "drop"], "weights": [r.random_range(1..5), r.random_range(1..20)] } } } }
        }],
        "esm": { "batch_size": r.random_range(1..=200), "batching_window": format!("{}ms", r.random_range(0..=2000)),
                 "max_payload_bytes": r.random_range(2_000..=60_000),
                 "scaling": { "mode": "provisioned", "min_pollers": 1, "max_pollers": r.random_range(1..=3),
                              "invocations_per_poller": r.random_range(1..=3) } },
        "function": { "duration": { "base": format!("{}ms", r.random_range(5..=400)), "per_record": "200us" },
                      "cold_start": { "init": "0ms" } },
        "faults": [{ "kind": "function_outage", "from": "3s", "until": format!("{}s", r.random_range(4..20)) }]
    });
    if r.random_bool(0.7) {
        s["esm"]["filter_criteria"] = json!({ "Filters": [{ "Pattern": r#"{"value": {"kind": ["keep"]}}"# }] });
    }
    if r.random_bool(0.3) {
        s["esm"]["scaling"] = json!({ "mode": "parallelization_factor", "factor": r.random_range(1..=4) });
    } else if r.random_bool(0.5) {
        for (k, v) in [
            ("evaluation_interval", json!("2s")),
            ("scale_delay", json!("1s")),
            ("scale_up_lag_per_poller", json!(r.random_range(100..5000))),
            ("rebalance_pause", json!(format!("{}ms", r.random_range(0..2000)))),
        ] {
            s["esm"]["scaling"][k] = v;
        }
        s["esm"]["scaling"]["max_pollers"] = json!(r.random_range(2..=6));
    }
    if seed % 2 == 1 && s["esm"]["filter_criteria"].is_null() {
        // Failure paths: bisect, partial responses, poison pills, record age, a destination.
        s["esm"]["bisect_batch_on_function_error"] = json!(r.random_bool(0.6));
        s["esm"]["function_response_types"] = json!(["ReportBatchItemFailures"]);
        s["esm"]["partial_batch_commit"] = json!(if r.random_bool(0.5) { "lowest_failure" } else { "per_record" });
        s["esm"]["maximum_retry_attempts"] = json!(r.random_range(0..4));
        s["esm"]["maximum_record_age"] = if r.random_bool(0.5) { json!(60) } else { json!(-1) };
        s["esm"]["on_failure_destination"] = json!({ "kind": "sqs" });
        s["failures"] = json!({ "handler": if r.random_bool(0.5) { "fail_batch" } else { "report_failures" },
                                "poison_rate": r.random_range(0.0..0.002), "transient_error_rate": r.random_range(0.0..0.2),
                                "transient_record_error_rate": r.random_range(0.0..0.01) });
    }
    if r.random_bool(0.4) {
        s["topic"]["backlog"] =
            json!({ "records": r.random_range(0..200_000), "span": format!("{}s", r.random_range(1..60)) });
        s["esm"]["starting_position"] = json!("TRIM_HORIZON");
    }
    if r.random_bool(0.3) {
        s["faults"].as_array_mut().unwrap().push(json!({ "kind": "rebalance", "from": "6s", "until": "7s" }));
    }
    s
}

/// Whether deferral visibly acted (retention split a deferred partition's resolutions).
fn compare(seed: u64) -> bool {
    let json = probe(seed);
    let s = scenario(json.clone());
    let c = config(&s);
    let (base, base_events) = SimulationBuilder::new(&c).build_with_observer(Events::default()).run();
    let (stored, stored_events) =
        SimulationBuilder::new(&c).store_every_record().build_with_observer(Events::default()).run();
    let (planned, planned_events) =
        SimulationBuilder::new(&c).plan_incrementally_above(0).build_with_observer(Events::default()).run();
    let ctx = format!("seed {seed}: {json}");
    assert_eq!(planned.summary, base.summary, "planner summary, {ctx}");
    assert_eq!(planned.timeseries, base.timeseries, "planner timeseries, {ctx}");
    same(&planned_events.formed, &base_events.formed, "planner batches", &ctx);
    assert_eq!(stored.summary, base.summary, "deferral summary, {ctx}");
    assert_eq!(stored.timeseries, base.timeseries, "deferral timeseries, {ctx}");
    same(&stored_events.formed, &base_events.formed, "deferral batches", &ctx);
    same(&coalesce(&stored_events.resolved), &coalesce(&base_events.resolved), "deferral resolutions", &ctx);
    stored_events.resolved != base_events.resolved
}

/// Panics at the first difference, showing only it.
fn same<T: PartialEq + std::fmt::Debug>(got: &[T], want: &[T], what: &str, ctx: &str) {
    if let Some(i) = (0..got.len().min(want.len())).find(|&i| got[i] != want[i]) {
        panic!("{what} differ at {i}: {:?} against {:?}; {ctx}", got[i], want[i]);
    }
    assert_eq!(got.len(), want.len(), "{what}: lengths; {ctx}");
}

/// Resolutions with runs split at the same instant joined again.
fn coalesce(events: &[(SimTime, u32, u64, u64, Resolution)]) -> Vec<(SimTime, u32, u64, u64, Resolution)> {
    let mut out: Vec<(SimTime, u32, u64, u64, Resolution)> = Vec::new();
    for &e in events {
        match out.iter_mut().rev().find(|o| o.0 == e.0 && o.1 == e.1) {
            Some(o) if o.3 == e.2 && o.4 == e.4 => o.3 = e.3,
            _ => out.push(e),
        }
    }
    out
}

/// Every probe run three ways (as configured, storing every record, a planner in every fetcher)
/// gives the same summary, time series, batches and (joined) resolutions.
#[test]
fn probes_agree() {
    let n: u64 = std::env::var("PROBES").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let deferred = (0..n).filter(|&seed| compare(seed)).count();
    eprintln!("{deferred} of {n} probes split resolutions (deferral with expiry)");
    // The probes are built to defer and expire: if none does, they test nothing.
    assert!(deferred * 2 >= n as usize, "only {deferred} of {n} probes deferred records that retention deleted");
}

/// Planner against search at many partitions per poller (compaction, stale heap keys, the window
/// deciding over mostly empty partitions), both arrival streams, with filtering and retention.
#[test]
fn many_partitions_per_poller_plan_as_the_search() {
    use rand::{RngExt, SeedableRng};
    let n: u64 = std::env::var("WIDE").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    for seed in 0..n {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        let streams = if seed % 2 == 0 { "per_partition" } else { "per_producer" };
        let mut json = json!({
            "name": format!("wide-{seed}"), "duration": "12s", "arrival_streams": streams,
            "topic": { "partitions": r.random_range(300..1500), "retention": format!("{}ms", r.random_range(2000..8000)) },
            "producers": [{ "rate": r.random_range(2_000..60_000), "record_bytes": { "distribution": "uniform", "min": 10, "max": 3000 },
                            "schedule": [{ "at": "4s", "rate": 0 }, { "at": "5s", "rate": r.random_range(500..60_000) }],
                            "partitioning": { "zipf": { "exponent": r.random_range(0.0..1.5) } },
                            "value": { "fields": { "kind": { "one_of": { "values": ["keep", "drop"], "weights": [1, 3] } } } } }],
            "esm": { "batch_size": r.random_range(1..500), "batching_window": format!("{}ms", r.random_range(0..1000)),
                     "max_payload_bytes": r.random_range(3_000..200_000),
                     "scaling": { "mode": "provisioned", "min_pollers": 1, "max_pollers": r.random_range(1..3),
                                  "invocations_per_poller": r.random_range(1..6) } },
            "function": { "duration": { "base": format!("{}ms", r.random_range(5..200)), "per_record": "100us" },
                          "cold_start": { "init": "0ms" } },
            "faults": [{ "kind": "function_outage", "from": "2s", "until": format!("{}s", r.random_range(3..9)) }]
        });
        if r.random_bool(0.5) {
            json["esm"]["filter_criteria"] = json!({ "Filters": [{ "Pattern": r#"{"value": {"kind": ["keep"]}}"# }] });
        }
        let c = config(&scenario(json.clone()));
        let run = |above: usize| {
            SimulationBuilder::new(&c).plan_incrementally_above(above).build_with_observer(Events::default()).run()
        };
        let ((planned, planned_events), (searched, searched_events)) = (run(0), run(usize::MAX));
        let ctx = format!("seed {seed}: {json}");
        assert_eq!(planned.summary, searched.summary, "{ctx}");
        same(&planned_events.formed, &searched_events.formed, "batches", &ctx);
    }
}
