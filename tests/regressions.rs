//! Bugs found in review, each pinned by the scenario that showed it.

mod common;
use common::*;
use serde_json::json;

#[test]
fn partitions_freed_after_a_scale_up_are_read_again() {
    // One poller scales to four while a merged 20 s batch is out; when it finishes, its
    // partitions belong to other pollers, which must pick them up (they used to stay unread).
    let s = json!({
        "name": "rb", "duration": "3m", "sample_interval": "10s",
        "topic": { "partitions": 4 },
        "producers": [{ "rate": 4, "arrivals": "constant", "partitioning": "round_robin" }],
        "esm": { "batching_window": "1s", "scaling": { "mode": "on_demand", "initial_pollers": 1,
                 "evaluation_interval": "30s", "scale_delay": "1s", "scale_up_lag_per_poller": 1,
                 "scale_down_utilization": 0, "rebalance_pause": "1s" } },
        "function": { "timeout": "60s", "duration": { "base": "20s" } }
    });
    let (report, log) = run_logged(&scenario(s));
    // Every partition keeps being batched to the end: pending are at most each partition's batch
    // in flight (about 21 records, one a second while the last ran) and the 21 since it began:
    // 4 × 42 = 168. With a partition left unread, 234 were pending.
    assert!(report.summary.records.pending_at_end <= 168, "{:?}", report.summary.records);
    assert!(log.formed.iter().any(|&(t, _)| t > 150 * SEC));
}

#[test]
fn throttled_batches_still_age_out_and_expire() {
    // Every invoke is throttled; the batch is re-fetched at each throttle retry, so records
    // past maximum_record_age are given up and none lives past retention.
    let s = json!({
        "name": "throttled-age", "duration": "5m",
        "topic": { "partitions": 2, "retention": "2m" },
        "producers": [{ "rate": 100 }],
        "esm": { "maximum_record_age": 60, "scaling": { "mode": "parallelization_factor", "factor": 2 } },
        "function": { "reserved_concurrency": 0 }
    });
    let summary = run_json(s).summary;
    assert!(summary.records.discarded > 20_000, "{:?}", summary.records);
    assert!(summary.lag.max_age_ms < 75_000.0, "{:?}", summary.lag);
}

#[test]
fn a_long_chain_of_batches_given_up_at_once_does_not_nest_calls() {
    // 20,000 partitions behind one gate slot, every record older than maximum_record_age when
    // its turn comes: each slot hand-off used to recurse (and overflow the stack).
    let s = json!({
        "name": "deep", "duration": "5m",
        "topic": { "partitions": 20000 },
        "producers": [{ "rate": 20000, "arrivals": "constant", "partitioning": "round_robin",
                        "schedule": [{ "at": "1s", "rate": 0 }] }],
        "esm": { "scaling": { "mode": "parallelization_factor", "factor": 1 }, "maximum_record_age": 60 },
        "function": { "timeout": "14m", "duration": { "base": "90s" } }
    });
    let report = run_json(s);
    assert_conserved(&report);
    assert!(report.summary.records.discarded >= 19_990);
}

#[test]
fn a_rebalance_fault_during_a_scaling_pause_is_honoured() {
    // The autoscaler's rebalance pauses 240–245 s; a rebalance fault from 242 s to 400 s must
    // keep new batches stopped until 400 s.
    let mut s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("scenarios/quickstart.json").unwrap()).unwrap();
    s["duration"] = json!("8m");
    s["faults"] = json!([{ "kind": "rebalance", "from": "242s", "until": "400s" }]);
    let report = run_json(s);
    let rows = &report.timeseries;
    // Rows end at 10 s steps: [250 s, 400 s) forms no new batch, so commits stop once the
    // batches out at 242 s are done.
    assert!(rows[25..40].iter().all(|r| r.invocations <= 2), "{:?}", &rows[24..41]);
    assert!(rows[41].invocations > 100);
}
