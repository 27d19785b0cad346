//! Event filtering (`esm.filter_criteria`), against answers worked out by hand.

mod common;

use common::{assert_conserved, config, scenario};
use esmsim::engine::SimTime;
use esmsim::model::esm::Batch;
use esmsim::model::value::RecordFilter;
use esmsim::{Observer, Outcome, SimulationBuilder};
use serde_json::{Value, json};

/// 1 partition, 100 records/s for 100 s (constant: 10,000 records), then nothing; 30 % of the
/// values have `kind` "keep". Batches of 10, window 1 s, one batch at a time; each invocation
/// takes 10 ms + 1 ms per record, without jitter or init time, at 1,024 MB.
fn base(filter: Option<&str>) -> Value {
    let mut s = json!({
        "name": "filter", "duration": "200s",
        "topic": { "partitions": 1 },
        "producers": [{
            "rate": 100, "arrivals": "constant", "schedule": [{ "at": "100s", "rate": 0 }],
            "record_bytes": 100,
            "value": { "fields": { "kind": { "one_of": { "values": ["keep", "drop"], "weights": [3, 7] } } } }
        }],
        "esm": { "batch_size": 10, "batching_window": "1s",
                 "scaling": { "mode": "parallelization_factor", "factor": 1 } },
        "function": { "memory_mb": 1024, "duration": { "base": "10ms", "per_record": "1ms" },
                      "cold_start": { "init": "0ms" } }
    });
    if let Some(pattern) = filter {
        s["esm"]["filter_criteria"] = json!({ "Filters": [{ "Pattern": pattern }] });
    }
    s
}

const KEEP: &str = r#"{"value": {"kind": ["keep"]}}"#;

/// Commits and invocation ends, with their times.
#[derive(Default)]
struct Commits {
    commits: Vec<(SimTime, u64)>,
    ends: Vec<SimTime>,
    records_sent: Vec<u32>,
}

impl Observer for Commits {
    fn invocation_started(&mut self, _: SimTime, batch: &Batch, _: bool) {
        self.records_sent.push(batch.records);
    }
    fn invocation_ended(&mut self, now: SimTime, _: &Batch, _: Outcome) {
        self.ends.push(now);
    }
    fn committed(&mut self, now: SimTime, _: u32, offset: u64) {
        self.commits.push((now, offset));
    }
}

/// The offsets (of partition 0) whose value matches, from the compiled filter and template.
fn matched_offsets(s: &Value, n: u64) -> Vec<u64> {
    let c = config(&scenario(s.clone()));
    let filter = RecordFilter {
        patterns: c.esm.filters.clone().unwrap(),
        templates: vec![c.producers[0].value.clone().unwrap()],
        seed: c.seed,
    };
    (0..n).filter(|&o| filter.matches(0, 0, o)).collect()
}

#[test]
fn a_30_percent_match_sends_30_percent_of_the_records_and_bills_only_those() {
    let s = base(Some(KEEP));
    let n = 10_000u64;
    let matched = matched_offsets(&s, n);
    let m = matched.len() as u64;
    // 10,000 draws at p = 0.3: 3,000 ± 5σ, σ = √(10,000 × 0.3 × 0.7) = 45.8.
    assert!(m.abs_diff(3_000) < 230, "{m} matched");
    let last = *matched.last().unwrap();

    let (report, commits) = SimulationBuilder::new(&config(&scenario(s))).build_with_observer(Commits::default()).run();
    let r = &report.summary.records;
    assert_conserved(&report);
    assert_eq!(r.produced, n);
    // Every matched record reaches the function and succeeds; nothing else does.
    assert_eq!(r.succeeded, m);
    assert_eq!(report.summary.cloudwatch.invoked_event_count, m);
    assert_eq!(commits.records_sent.iter().map(|&k| k as u64).sum::<u64>(), m);
    // 30 matched records a second fill a batch of 10 in about 0.33 s, inside the 1 s window:
    // every batch is full but the last, which the window flushes.
    let invocations = m.div_ceil(10);
    assert_eq!(report.summary.invocations.total, invocations);
    assert!(commits.records_sent[..commits.records_sent.len() - 1].iter().all(|&k| k == 10));
    // Unmatched records up to the last matched one are committed with the batches; those after
    // it have no invocation to commit them and stay as lag.
    assert_eq!(r.filtered_out, Some(last + 1 - m));
    assert_eq!(r.pending_at_end, n - (last + 1));
    assert_eq!(report.summary.lag.final_records, n - (last + 1));
    // The pollers read every record up to the last batch; the filtered ones are counted.
    assert_eq!(report.summary.cloudwatch.polled_event_count, last + 1);
    assert_eq!(report.summary.cloudwatch.filtered_out_event_count, last + 1 - m);
    // Cost: invocations × 10 ms + matched records × 1 ms at 1 GB, $0.0000166667 per GB-s, and
    // $0.20 per million requests. Unfiltered it would be 1,000 × 10 ms + 10,000 × 1 ms.
    let billed_s = (invocations * 10 + m) as f64 / 1000.0;
    let cost = &report.summary.cost_usd;
    assert!((cost.compute - billed_s * 0.000_016_666_7).abs() < 1e-12, "{}", cost.compute);
    assert!((cost.requests - invocations as f64 * 0.2e-6).abs() < 1e-12);
    let unfiltered = common::run_json(base(None));
    assert_eq!(unfiltered.summary.invocations.total, 1_000);
    assert!((unfiltered.summary.cost_usd.compute - 20.0 * 0.000_016_666_7).abs() < 1e-12);
    assert_eq!(unfiltered.summary.records.filtered_out, None);
}

#[test]
fn lag_drops_only_when_an_invocation_commits() {
    let (report, c) =
        SimulationBuilder::new(&config(&scenario(base(Some(KEEP))))).build_with_observer(Commits::default()).run();
    // One commit per successful invocation, at the instant it ends, each further than the last.
    assert_eq!(c.commits.len() as u64, report.summary.invocations.total);
    for (i, &(t, offset)) in c.commits.iter().enumerate() {
        assert_eq!(t, c.ends[i], "commit {i} is not at an invocation's end");
        assert!(i == 0 || offset > c.commits[i - 1].1);
    }
    // Between commits the lag only grows: each sample's lag is the records produced minus those
    // committed by then (no commits means no drop, however many records were filtered).
    let mut produced = 0u64;
    for row in &report.timeseries {
        produced += row.produced_records;
        let t_ns = (row.time_s * 1e9).round() as SimTime;
        let committed = c.commits.iter().take_while(|&&(t, _)| t < t_ns).last().map_or(0, |&(_, o)| o);
        assert_eq!(row.lag_records, produced - committed, "at {} s", row.time_s);
    }
}

#[test]
fn a_partition_of_only_filtered_records_keeps_its_lag() {
    let report = common::run_json(base(Some(r#"{"value": {"kind": ["never"]}}"#)));
    let r = &report.summary.records;
    // No record matches: no batch, no invocation, no commit; all 10,000 stay as lag.
    assert_eq!(report.summary.invocations.total, 0);
    assert_eq!((r.succeeded, r.filtered_out, r.pending_at_end), (0, Some(0), 10_000));
    assert_eq!(report.summary.lag.final_records, 10_000);
    assert_conserved(&report);
}

#[test]
fn filters_are_ored_and_plain_text_values_match_string_patterns() {
    // Every value is plain text "heartbeat": the field pattern never matches it, the prefix
    // pattern on the whole value always does; OR-ed, all 10,000 records are sent.
    let mut s = base(None);
    s["producers"][0]["value"]["non_json_share"] = json!(1.0);
    s["producers"][0]["value"]["non_json_text"] = json!("heartbeat");
    s["esm"]["filter_criteria"] =
        json!({ "Filters": [{ "Pattern": KEEP }, { "Pattern": r#"{"value": [{"prefix": "heart"}]}"# }] });
    let report = common::run_json(s);
    assert_eq!(report.summary.records.succeeded, 10_000);
    assert_eq!(report.summary.records.filtered_out, Some(0));
    assert_eq!(report.summary.invocations.total, 1_000);
}

#[test]
fn bad_filters_are_refused_with_one_line() {
    let err = |s: Value| match esmsim::parse_scenario("f.json".as_ref(), &s.to_string(), &[]) {
        Ok(_) => panic!("should be refused"),
        Err(e) => e.to_string(),
    };
    let mut s = base(Some(r#"{"value": {"kind": [{"wildcard": "k*"}]}}"#));
    let e = err(s.clone());
    assert!(e.contains("esm.filter_criteria.Filters.0.Pattern") && e.contains("unsupported condition"), "{e}");
    s["esm"]["filter_criteria"] = json!({ "Filters": vec![json!({ "Pattern": KEEP }); 11] });
    assert!(err(s.clone()).contains("allowed: 1 to 10"));
    let mut s = base(Some(KEEP));
    s["failures"] = json!({ "poison_rate": 0.01 });
    assert!(err(s.clone()).contains("failures.poison_rate: not modelled together with esm.filter_criteria"));
    let mut s = base(Some(KEEP));
    s["esm"]["filter_criteria"]["filters"] = json!([]);
    assert!(err(s).contains("unknown field `filters`"));
    let mut s = base(Some(KEEP));
    s["producers"][0]["value"]["fields"]["kind"] = json!({ "one_of": { "values": [] } });
    assert!(err(s).contains("producers.0.value.fields.kind"));
}

mod invariants {
    use super::common::{OrderChecker, assert_conserved, config, scenario};
    use esmsim::SimulationBuilder;
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]
        /// Whatever the match rate, batching, scaling mode, whole-invocation failures and
        /// destination: records are conserved with `filtered_out`, resolved exactly once in
        /// offset order, invocations carry only matched records and never more than a batch.
        #[test]
        fn filtering_conserves_records(
            keep in 0u32..=10, batch_size in 1u32..50, window_ms in 0u64..3000, partitions in 1u32..6,
            mode in 0usize..3, error_rate in 0.0f64..0.3, destination in any::<bool>(),
            retries in -1i64..3, seed in 0u64..1000,
        ) {
            let scaling = [
                json!({ "mode": "parallelization_factor", "factor": 2 }),
                json!({ "mode": "on_demand" }),
                json!({ "mode": "provisioned", "min_pollers": 1, "max_pollers": 2 }),
            ][mode].clone();
            let s = json!({
                "name": "prop", "seed": seed, "duration": "60s",
                "topic": { "partitions": partitions, "retention": "30s" },
                "producers": [{ "rate": 200, "record_bytes": 1000,
                    "value": { "fields": {
                        "n": { "integer": { "min": 1, "max": 10 } },
                        "kind": { "one_of": { "values": ["a", "b"] } } } } }],
                "esm": {
                    "batch_size": batch_size, "batching_window": format!("{window_ms}ms"),
                    "max_payload_bytes": 20000, "scaling": scaling, "maximum_retry_attempts": retries,
                    "on_failure_destination": if destination { json!({ "kind": "sqs" }) } else { json!(null) },
                    "filter_criteria": { "Filters": [
                        { "Pattern": format!(r#"{{"value": {{"n": [{{"numeric": ["<=", {keep}]}}]}}}}"#) }
                    ] }
                },
                "function": { "duration": { "base": "5ms", "per_record": "2ms" } },
                "failures": { "transient_error_rate": error_rate }
            });
            let c = config(&scenario(s));
            let (report, checker) =
                SimulationBuilder::new(&c).build_with_observer(OrderChecker::new(partitions, true)).run();
            prop_assert!(checker.violations.is_empty(), "{:?}", &checker.violations[..checker.violations.len().min(3)]);
            assert_conserved(&report);
            let r = &report.summary.records;
            let cw = &report.summary.cloudwatch;
            prop_assert!(r.filtered_out.is_some());
            prop_assert_eq!(report.summary.batches.max_records.min(batch_size as u64), report.summary.batches.max_records);
            // Records sent to the function are matched ones: every attempt counts them again.
            prop_assert!(cw.invoked_event_count >= r.succeeded);
            let b = &report.summary.batches;
            let sent_at_formation = (b.count as f64 * b.mean_records).round() as u64;
            prop_assert_eq!(cw.polled_event_count, cw.filtered_out_event_count + sent_at_formation);
            if keep == 0 {
                prop_assert_eq!(report.summary.invocations.total, 0);
            }
            if keep == 10 {
                prop_assert_eq!(r.filtered_out, Some(0));
            }
        }
    }
}
