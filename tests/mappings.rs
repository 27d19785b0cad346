//! Several mappings in one scenario: a one-mapping list is the scenario alone, the account's
//! concurrency is shared, a shared function shares its environments, and a poller group pays
//! one bill (hand-computed EPUs).

mod common;

use esmsim::scenario::{Parsed, parse_any};
use esmsim::{MappingsReport, RunOptions, run_mappings};
use serde_json::{Value, json};
use std::path::Path;

fn parse(json: &Value) -> Result<esmsim::LoadedMappings, String> {
    match parse_any(Path::new("m.json"), &json.to_string(), &[]) {
        Ok(Parsed::Many(loaded)) => Ok(loaded),
        Ok(Parsed::One(_)) => Err("parsed as one mapping".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn run(json: &Value) -> MappingsReport {
    let loaded = parse(json).unwrap_or_else(|e| panic!("invalid test scenario: {e}"));
    run_mappings(&loaded, &RunOptions::default(), |_| {}).unwrap()
}

/// A provisioned mapping with a fixed poller count, light traffic and a quick function.
fn mapping(name: &str, pollers: u32, group: Option<&str>) -> Value {
    let mut scaling = json!({"mode": "provisioned", "min_pollers": pollers, "max_pollers": pollers});
    if let Some(g) = group {
        scaling["poller_group"] = json!(g);
    }
    json!({
        "name": name,
        "topic": {"partitions": 4},
        "producers": [{"rate": 50, "record_bytes": 512}],
        "esm": {"scaling": scaling},
        "function": {"duration": {"base": "10ms"}}
    })
}

fn scenario(duration: &str, mappings: Vec<Value>) -> Value {
    json!({"name": "m", "duration": duration, "sample_interval": "10s", "mappings": mappings})
}

#[test]
fn a_one_mapping_list_runs_as_the_scenario_alone() {
    let alone = json!({
        "name": "m", "duration": "10m", "sample_interval": "10s",
        "topic": {"partitions": 6},
        "producers": [{"rate": 400}],
        "esm": {"batch_size": 50, "scaling": {"mode": "on_demand"}},
        "function": {"duration": {"base": "30ms", "per_record": "1ms"}}
    });
    let mut listed = alone.clone();
    let object = listed.as_object_mut().unwrap();
    let mut only = json!({"name": "only"});
    for key in ["topic", "producers", "esm", "function"] {
        only[key] = object.remove(key).unwrap();
    }
    object.insert("mappings".into(), json!([only]));
    let single = common::run_json(alone);
    let together = run(&listed);
    let (_, mapping) = &together.mappings[0];
    let strip = |mut s: esmsim::metrics::Summary| {
        s.config_hash.clear();
        s
    };
    assert_eq!(strip(mapping.summary.clone()), strip(single.summary.clone()));
    assert_eq!(mapping.timeseries, single.timeseries);
    let totals = &together.totals.summary;
    assert_eq!(totals.records, single.summary.records);
    assert_eq!(totals.latency_ms, single.summary.latency_ms);
    assert!((totals.cost_usd.total - single.summary.cost_usd.total).abs() < 1e-12);
    assert_eq!(together.totals.timeseries.len(), single.timeseries.len());
}

#[test]
fn ten_one_poller_mappings_pay_ten_epus_alone_and_one_grouped() {
    // AWS's cost example (kafka-scaling-modes): each ungrouped mapping pays a whole EPU; grouped,
    // ten pollers fit one EPU (10 pollers per EPU). One hour: 10 EPU-hours against 1.
    let grouped = run(&scenario("1h", (0..10).map(|i| mapping(&format!("m{i}"), 1, Some("g"))).collect()));
    let g = &grouped.poller_groups[0];
    assert_eq!(g.mappings.len(), 10);
    assert!((g.epu_hours - 1.0).abs() < 1e-9, "{}", g.epu_hours);
    assert!((g.ungrouped_epu_hours - 10.0).abs() < 1e-9, "{}", g.ungrouped_epu_hours);
    assert!((g.cost_usd - 0.185).abs() < 1e-9);
    assert!((grouped.totals.summary.cost_usd.pollers - 0.185).abs() < 1e-9);
    // Each mapping carries a tenth of the group's bill.
    for (_, r) in &grouped.mappings {
        assert!((r.summary.cost_usd.pollers - 0.0185).abs() < 1e-9);
    }
    let alone = run(&scenario("1h", (0..10).map(|i| mapping(&format!("m{i}"), 1, None)).collect()));
    assert!(alone.poller_groups.is_empty());
    assert!((alone.totals.summary.cost_usd.pollers - 1.85).abs() < 1e-9);
    // Grouping changes the bill, not the traffic.
    assert_eq!(alone.totals.summary.records, grouped.totals.summary.records);
}

#[test]
fn a_group_pays_whole_epus_for_its_pooled_pollers() {
    // Three mappings of four pollers: 12 pollers need ceil(12 / 10) = 2 EPUs together, and
    // 1 EPU each alone (3). Over 30 minutes: 1 EPU-hour against 1.5.
    let r = run(&scenario("30m", (0..3).map(|i| mapping(&format!("m{i}"), 4, Some("g"))).collect()));
    let g = &r.poller_groups[0];
    assert!((g.epu_hours - 1.0).abs() < 1e-9, "{}", g.epu_hours);
    assert!((g.ungrouped_epu_hours - 1.5).abs() < 1e-9, "{}", g.ungrouped_epu_hours);
    // The timeseries cost column still adds up to the total, per mapping and over all.
    let column: f64 = r.totals.timeseries.iter().map(|row| row.cost_usd).sum();
    assert!((column - r.totals.summary.cost_usd.total).abs() < 1e-9);
}

/// A mapping whose function runs a second per batch: with 2 partitions in the factor model
/// (factor 2) it wants two environments most of the time.
fn busy(name: &str, function: Value) -> Value {
    json!({
        "name": name,
        "topic": {"partitions": 2},
        "producers": [{"rate": 100}],
        "esm": {"batch_size": 10, "batching_window": "0s", "scaling": {"mode": "parallelization_factor", "factor": 2}},
        "function": function
    })
}

#[test]
fn mappings_share_the_accounts_unreserved_concurrency() {
    // The account leaves 2 environments to these functions (100 less 98 used elsewhere). Alone,
    // a mapping uses both and is never throttled; together the two compete for them.
    let account = json!({"concurrency_limit": 100, "other_concurrency": 98});
    let function = json!({"duration": {"base": "1s"}});
    let mut alone = scenario("5m", vec![busy("a", function.clone())]);
    alone["account"] = account.clone();
    let one = run(&alone);
    assert_eq!(one.totals.summary.invocations.throttled, 0);
    assert_eq!(one.totals.summary.concurrency.peak, 2);
    let mut both = scenario("5m", vec![busy("a", function.clone()), busy("b", function)]);
    both["account"] = account;
    let two = run(&both);
    assert_eq!(two.totals.summary.concurrency.peak, 2, "the account never runs more than its 2");
    assert!(two.totals.summary.invocations.throttled > 0);
    for (name, r) in &two.mappings {
        assert!(r.summary.invocations.throttled > 0, "{name} was never throttled");
    }
}

#[test]
fn a_reservation_is_its_functions_alone() {
    // a reserves 2 of an account of 102 with 98 used elsewhere: a keeps its 2, and b (no
    // reservation) has 102 - 98 - 2 = 2 of its own: nobody is throttled.
    let mut s = scenario(
        "5m",
        vec![
            busy("a", json!({"duration": {"base": "1s"}, "reserved_concurrency": 2})),
            busy("b", json!({"duration": {"base": "1s"}})),
        ],
    );
    s["account"] = json!({"concurrency_limit": 200, "other_concurrency": 196});
    let r = run(&s);
    assert_eq!(r.totals.summary.invocations.throttled, 0);
    assert_eq!(r.totals.summary.concurrency.peak, 4);
    // Reserving more than the account can spare is refused.
    let mut s = scenario(
        "5m",
        vec![busy("a", json!({"reserved_concurrency": 60})), busy("b", json!({"reserved_concurrency": 60}))],
    );
    s["account"] = json!({"concurrency_limit": 200});
    let e = parse(&s).unwrap_err();
    assert!(e.contains("account.concurrency_limit") && e.contains("reserve 120"), "{e}");
}

#[test]
fn a_shared_function_reuses_the_other_mappings_warm_environment() {
    // a produces for the first minute only, b from the third minute on, one record a second
    // (constant arrivals, batch of 1, a 10 ms function): each needs one environment. Separate
    // functions start cold once each; one shared function is still warm (idle expiry 10 min)
    // when b starts.
    let timed = |name: &str, from: &str, until: Option<&str>, function: &str| {
        let mut schedule = vec![];
        let mut rate = 1;
        if from != "0s" {
            rate = 0;
            schedule.push(json!({"at": from, "rate": 1}));
        }
        if let Some(until) = until {
            schedule.push(json!({"at": until, "rate": 0}));
        }
        json!({
            "name": name,
            "topic": {"partitions": 1},
            "producers": [{"rate": rate, "arrivals": "constant", "schedule": schedule}],
            "esm": {"batch_size": 1, "batching_window": "0s"},
            "function": {"name": function, "duration": {"base": "10ms"}, "cold_start": {"init": "100ms", "idle_expiry": "10m"}}
        })
    };
    let separate = run(&scenario("5m", vec![timed("a", "0s", Some("1m"), "fa"), timed("b", "3m", None, "fb")]));
    let shared = run(&scenario("5m", vec![timed("a", "0s", Some("1m"), "f"), timed("b", "3m", None, "f")]));
    let cold =
        |r: &MappingsReport| r.mappings.iter().map(|(_, m)| m.summary.invocations.cold_starts).collect::<Vec<_>>();
    assert_eq!(cold(&separate), vec![1, 1]);
    assert_eq!(cold(&shared), vec![1, 0]);
    assert_eq!(separate.totals.summary.records, shared.totals.summary.records);
}

#[test]
fn mapping_problems_name_the_mapping_and_aws_limits_hold() {
    let at = |s: &Value| parse(s).unwrap_err();
    // A mapping's own field, at its path.
    let mut bad = mapping("a", 1, None);
    bad["esm"]["batch_size"] = json!(0);
    assert!(at(&scenario("1m", vec![bad])).contains("mappings.0.esm.batch_size"));
    // Sections belong in mappings.
    let mut s = scenario("1m", vec![mapping("a", 1, None)]);
    s["topic"] = json!({"partitions": 1});
    assert!(at(&s).contains("topic: belongs inside each mapping"));
    // Names are unique, and unknown fields are refused.
    assert!(at(&scenario("1m", vec![mapping("a", 1, None), mapping("a", 1, None)])).contains("mappings.1.name"));
    let mut odd = mapping("a", 1, None);
    odd["colour"] = json!("red");
    assert!(at(&scenario("1m", vec![odd])).contains("mappings.0.colour: unknown field"));
    // AWS: 2,000 maximum pollers per group (11 mappings at the default 200 are 2,200).
    let many: Vec<Value> = (0..11)
        .map(|i| {
            let mut m = mapping(&format!("m{i}"), 1, Some("g"));
            m["esm"]["scaling"].as_object_mut().unwrap().remove("max_pollers");
            m
        })
        .collect();
    let e = at(&scenario("1m", many));
    assert!(e.contains("mappings.10.esm.scaling.max_pollers") && e.contains("2200"), "{e}");
    // AWS: 100 mappings per group.
    let e = at(&scenario("1m", (0..101).map(|i| mapping(&format!("m{i}"), 1, Some("g"))).collect()));
    assert!(e.contains("mappings.100.esm.scaling.poller_group") && e.contains("at most 100"), "{e}");
    // A poller group is a provisioned-mode setting.
    let mut on_demand = mapping("a", 1, None);
    on_demand["esm"]["scaling"] = json!({"mode": "on_demand", "poller_group": "g"});
    assert!(at(&scenario("1m", vec![on_demand])).contains("mappings.0.esm.scaling.poller_group"));
    // A shared function has one set of settings.
    let mut a = mapping("a", 1, None);
    a["function"]["name"] = json!("f");
    let mut b = mapping("b", 1, None);
    b["function"] = json!({"name": "f", "memory_mb": 2048});
    assert!(at(&scenario("1m", vec![a, b])).contains("mappings.1.function"));
    // A real handler is for a scenario of one mapping (refused by validate too).
    let mut real = mapping("a", 1, None);
    real["function"]["handler"] = json!({"command": "python3 h.py"});
    assert!(at(&scenario("1m", vec![real])).contains("mappings.0.function.handler"));
}

#[test]
fn studies_refuse_several_mappings_in_one_line() {
    let s = scenario("1m", vec![mapping("a", 1, None), mapping("b", 1, None)]);
    let e = esmsim::parse_scenario(Path::new("m.json"), &s.to_string(), &[]).unwrap_err().to_string();
    assert!(e.contains("mappings") && e.contains("esmsim run"), "{e}");
    assert_eq!(e.lines().count(), 1);
}

#[test]
fn same_seed_same_bytes_and_mappings_draw_their_own_streams() {
    let s = scenario("5m", vec![mapping("a", 2, Some("g")), mapping("b", 2, Some("g"))]);
    let (x, y) = (run(&s), run(&s));
    assert_eq!(x.totals.summary, y.totals.summary);
    assert_eq!(x.totals.timeseries, y.totals.timeseries);
    // Two identical mappings are not copies of one another: each has its own seed.
    assert_ne!(x.mappings[0].1.summary.records.produced, x.mappings[1].1.summary.records.produced);
}

#[test]
fn run_writes_the_totals_each_mappings_files_and_the_side_by_side_page() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let s = scenario("2m", vec![mapping("orders", 1, Some("g")), mapping("refunds", 1, Some("g"))]);
    let file = common::write_scenario(dir.path(), "m.json", &s);
    common::esmsim_cli().args(["run", &file, "--out", out.to_str().unwrap()]).assert().success();
    for name in ["summary.json", "timeseries.csv", "cloudwatch.csv", "mappings-lag.svg", "report.html"] {
        assert!(out.join(name).exists(), "{name}");
    }
    for name in ["summary.json", "timeseries.csv", "lag.svg", "report.html"] {
        assert!(out.join("mappings/refunds").join(name).exists(), "refunds/{name}");
    }
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let mappings = summary["mappings"].as_array().unwrap();
    assert_eq!(mappings[1]["mapping"], "refunds");
    let produced: u64 = mappings.iter().map(|m| m["records"]["produced"].as_u64().unwrap()).sum();
    assert_eq!(summary["records"]["produced"].as_u64().unwrap(), produced);
    assert_eq!(summary["poller_groups"][0]["mappings"], json!(["orders", "refunds"]));
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("href=\"mappings/refunds/report.html\"") && page.contains("Poller groups"));
    // The same folder reused by a scenario of one mapping: nothing of the mappings is left.
    let one = common::write_scenario(
        dir.path(),
        "one.json",
        &json!({"name": "one", "duration": "1m", "topic": {"partitions": 1}, "producers": [{"rate": 1}]}),
    );
    common::esmsim_cli().args(["run", &one, "--out", out.to_str().unwrap()]).assert().success();
    assert!(!out.join("mappings").exists() && !out.join("mappings-lag.svg").exists());
    // A trace is of one mapping: refused in one line, nothing written.
    let fresh = dir.path().join("fresh");
    let refused = common::esmsim_cli()
        .args(["run", &file, "--out", fresh.to_str().unwrap(), "--trace", dir.path().join("t.jsonl").to_str().unwrap()])
        .assert()
        .failure();
    let stderr = String::from_utf8(refused.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!fresh.exists() && !dir.path().join("t.jsonl").exists());
}
