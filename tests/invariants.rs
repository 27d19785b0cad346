//! Invariants over many random scenarios (proptest drives the seed from which every parameter
//! is derived; a failure prints the seed and the scenario).

mod common;
use common::*;
use esmsim::SimulationBuilder;
use esmsim::scenario::{PartialBatchCommit, StartingPosition};
use proptest::prelude::*;

fn check(seed: u64) -> Result<(), TestCaseError> {
    check_json(random_scenario(seed), &format!("seed {seed}"))
}

fn check_json(json: serde_json::Value, name: &str) -> Result<(), TestCaseError> {
    let s = scenario(json.clone());
    let in_order = s.esm.partial_batch_commit == PartialBatchCommit::LowestFailure;
    let config = config(&s);
    let (report, checker) =
        SimulationBuilder::new(&config).build_with_observer(OrderChecker::new(s.topic.partitions, in_order)).run();
    let r = &report.summary.records;
    let context = || format!("{name}, scenario {json}");
    prop_assert_eq!(
        r.produced,
        r.succeeded + r.to_destination + r.discarded + r.lost_to_retention + r.pending_at_end,
        "conservation: {}",
        context()
    );
    prop_assert!(checker.violations.is_empty(), "order: {:?}; {}", checker.violations, context());
    prop_assert_eq!(
        checker.resolved,
        r.succeeded + r.to_destination + r.discarded + r.lost_to_retention,
        "{}",
        context()
    );
    let i = &report.summary.invocations;
    prop_assert_eq!(i.total, i.succeeded + i.failed + i.timed_out, "{}", context());
    prop_assert!(report.summary.concurrency.peak <= s.account.concurrency_limit, "{}", context());
    if let Some(plan) = config.esm.scaling.pollers() {
        let p = &report.summary.pollers;
        prop_assert!(p.peak <= plan.max && p.peak >= plan.min, "pollers {:?}; {}", p, context());
        prop_assert!(report.timeseries.iter().all(|row| (plan.min..=plan.max).contains(&row.pollers)), "{}", context());
    }
    // The time series counts arrivals during the run; the backlog came before it.
    let arrived: u64 = report.timeseries.iter().map(|row| row.produced_records).sum();
    let reads_backlog = s.topic.backlog.is_some() && s.esm.starting_position != StartingPosition::Latest;
    prop_assert!(arrived == r.produced || (reads_backlog && arrived < r.produced), "{}", context());
    prop_assert_eq!(report.timeseries.iter().map(|row| row.succeeded_records).sum::<u64>(), r.succeeded);
    // Same seed, same everything.
    let again = run(&s);
    prop_assert_eq!(&again.summary, &report.summary, "determinism: {}", context());
    prop_assert_eq!(&again.timeseries, &report.timeseries, "determinism: {}", context());
    prop_assert_eq!(&again.destination, &report.destination, "determinism: {}", context());
    // Per-partition streams count a lagging partition's arrivals instead of storing them and
    // regenerate them later: the same run as storing every one.
    if json["arrival_streams"] == "per_partition" {
        let (stored, _) = SimulationBuilder::new(&config).store_every_record().build().run();
        prop_assert_eq!(&stored.summary, &report.summary, "deferral: {}", context());
        prop_assert_eq!(&stored.timeseries, &report.timeseries, "deferral: {}", context());
        prop_assert_eq!(&stored.destination, &report.destination, "deferral: {}", context());
        // Drawn a chunk ahead on a second thread, the arrivals are the same.
        let (ahead, _) = SimulationBuilder::new(&config).draw_ahead(true).build().run();
        prop_assert_eq!(&ahead.summary, &report.summary, "lookahead: {}", context());
        prop_assert_eq!(&ahead.timeseries, &report.timeseries, "lookahead: {}", context());
        prop_assert_eq!(&ahead.destination, &report.destination, "lookahead: {}", context());
    }
    // Planning incrementally answers as the search from scratch does: every fetcher with a
    // planner (the default gives one only to fetchers of over 700 partitions, 500 with
    // per-producer streams) changes nothing,
    // whether appends come in arrival order or partition by partition (per-partition streams).
    let (planned, _) = SimulationBuilder::new(&config).plan_incrementally_above(0).build().run();
    prop_assert_eq!(&planned.summary, &report.summary, "planner: {}", context());
    prop_assert_eq!(&planned.timeseries, &report.timeseries, "planner: {}", context());
    prop_assert_eq!(&planned.destination, &report.destination, "planner: {}", context());
    // Samples that visit only the partitions whose records have arrived (a quiet topic's
    // default) measure the same lag as visiting every partition; batches that skip partitions
    // parked until their records arrive (the default for fetchers of many partitions while
    // producers draw seconds ahead) form as those that pass over them.
    let (occupied, _) =
        SimulationBuilder::new(&config).sample_occupied_only().park_waiting_candidates(true).build().run();
    prop_assert_eq!(&occupied.summary, &report.summary, "occupancy and parking: {}", context());
    prop_assert_eq!(&occupied.timeseries, &report.timeseries, "occupancy and parking: {}", context());
    prop_assert_eq!(&occupied.destination, &report.destination, "occupancy and parking: {}", context());
    // Records that failed schema validation are part of to_destination or discarded, and each
    // has exactly one failure record of its own when there is a destination.
    if let Some(g) = &report.summary.schema_registry {
        let invalid = g.schema_not_found + g.deserialization_error;
        prop_assert!(invalid <= r.to_destination + r.discarded, "{}", context());
        let lines = report
            .destination
            .iter()
            .filter(|l| {
                l.contains(r#""condition":"SCHEMA_NOT_FOUND""#) || l.contains(r#""condition":"DESERIALIZATION_ERROR""#)
            })
            .count() as u64;
        let expected = if s.esm.on_failure_destination.is_some() { invalid } else { 0 };
        prop_assert_eq!(lines, expected, "{}", context());
    }
    // Every poison story that ended names a real outcome, and to_destination needs a destination.
    if s.esm.on_failure_destination.is_none() {
        prop_assert_eq!(r.to_destination, 0);
        prop_assert!(report.destination.is_empty());
    }
    Ok(())
}

/// Scenarios that once failed (bisect halves after retention, per-record commits across
/// pieces), kept as files so that a change of the generator does not lose them.
#[test]
fn former_failures_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let json = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        check_json(json, &file.display().to_string()).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn conservation_order_and_determinism_hold(seed in any::<u64>()) {
        check(seed)?;
    }
}

/// A random scenario made sparse: hundreds of partitions per poller at a few records a second,
/// so that most partitions hold nothing or only records still to arrive, and batches form from
/// the rotation (no retention expiring, no record over the payload limit).
fn sparse_scenario(seed: u64) -> serde_json::Value {
    use rand::{RngExt, SeedableRng};
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed.rotate_left(17));
    let mut json = random_scenario(seed);
    json["name"] = format!("sparse-{seed}").into();
    json["duration"] = format!("{}s", r.random_range(20..=40)).into();
    json["sample_interval"] = format!("{}ms", r.random_range(500..=5_000)).into();
    json["topic"]["partitions"] = r.random_range(600..=2_000).into();
    json["topic"]["retention"] = "1h".into();
    json["esm"]["max_payload_bytes"] = 6_291_456.into();
    for producer in json["producers"].as_array_mut().unwrap() {
        producer["rate"] = r.random_range(1.0..60.0).into();
        producer["schedule"] = serde_json::json!([]);
    }
    json
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Batches that skip the partitions parked until their records arrive (the default for
    /// fetchers of many partitions while producers draw seconds ahead) are those that pass
    /// over them one by one.
    #[test]
    fn parking_waiting_partitions_changes_no_output(seed in any::<u64>()) {
        let json = sparse_scenario(seed);
        let s = scenario(json.clone());
        let config = config(&s);
        let (parked, _) = SimulationBuilder::new(&config).park_waiting_candidates(true).build().run();
        let (passed, _) = SimulationBuilder::new(&config).park_waiting_candidates(false).build().run();
        let context = || format!("seed {seed}: {json}");
        prop_assert!(parked.summary.records.produced > 0, "{}", context());
        prop_assert_eq!(&parked.summary, &passed.summary, "{}", context());
        prop_assert_eq!(&parked.timeseries, &passed.timeseries, "{}", context());
        prop_assert_eq!(&parked.destination, &passed.destination, "{}", context());
    }
}
