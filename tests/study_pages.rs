//! The study pages through the CLI: `tune`, `capacity`, `diff` and `sensitivity` each write a
//! self-contained `report.html` with the answer before the first chart, the constraint and SLO
//! lines drawn as identifiable guides, the winner's configuration in a point's tooltip, and the
//! same bytes at `--jobs 1` and `--jobs 2`.

mod common;

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn esmsim() -> Command {
    common::esmsim_cli()
}

fn write(dir: &TempDir, name: &str, scenario: &Value) -> String {
    common::write_scenario(dir.path(), name, scenario)
}

fn ok(args: &[&str]) -> String {
    let output = esmsim().args(args).output().unwrap();
    assert!(output.status.success(), "esmsim {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn json_file(dir: &Path, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
}

fn page(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("report.html")).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// Runs the same study with `--jobs 1` and `--jobs 2` into `one` and `two`; every file is the
/// same bytes. Returns the first run's stdout.
fn at_both_job_counts(args: &[&str], dir: &TempDir) -> (String, PathBuf) {
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    let text = ok(&[args, &["--jobs", "1", "--out", one.to_str().unwrap()]].concat());
    ok(&[args, &["--jobs", "2", "--out", two.to_str().unwrap()]].concat());
    let names = |d: &Path| {
        let mut n: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        n.sort();
        n
    };
    assert_eq!(names(&one), names(&two));
    for name in names(&one) {
        assert!(std::fs::read(one.join(&name)).unwrap() == std::fs::read(two.join(&name)).unwrap(), "{name} differs");
    }
    (text, one)
}

/// No script, stylesheet, image or font is fetched: the page stands alone.
fn assert_self_contained(html: &str) {
    for external in ["<script", "<link", "src=\"http", "href=\"http", "url(http", "@import", "<img"] {
        assert!(!html.contains(external), "report.html has {external:?}");
    }
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
}

/// `text` appears in `html`, before the first chart.
fn before_first_chart(html: &str, text: &str) {
    let at = html.find(text).unwrap_or_else(|| panic!("{text:?} missing from report.html"));
    let svg = html.find("<svg").unwrap_or(html.len());
    assert!(at < svg, "{text:?} comes after the first chart");
}

/// Four partitions of constant traffic with jittered durations.
fn small() -> Value {
    json!({
        "name": "small", "duration": "2m", "sample_interval": "5s",
        "topic": { "partitions": 4 },
        "producers": [{ "rate": 400, "arrivals": "constant", "partitioning": "round_robin" }],
        "esm": { "batch_size": 100, "batching_window": "0s",
                 "scaling": { "mode": "parallelization_factor", "factor": 2 } },
        "function": { "timeout": "30s", "duration": { "base": "20ms", "per_record": "1ms", "jitter_sigma": 0.2 } }
    })
}

#[test]
fn tune_page_answers_first_draws_the_constraint_and_names_the_winner() {
    let dir = TempDir::new().unwrap();
    let s = write(&dir, "s.json", &small());
    let args = [
        "tune",
        s.as_str(),
        "--minimize",
        "cost_usd.per_month",
        "--constraint",
        "latency_ms.p99<=1500",
        "--grid",
        "esm.batch_size=10,100,500",
        "--grid",
        "esm.batching_window=0s,500ms,1s",
        "--seeds",
        "2",
    ];
    let (text, out) = at_both_job_counts(&args, &dir);
    let tune = json_file(&out, "tune.json");
    let (batch, window) = (&tune["best"]["esm.batch_size"], tune["best"]["esm.batching_window"].as_str().unwrap());
    let html = page(&out);
    assert_self_contained(&html);
    // The answer, in the page's words, before any chart: "Best: batch size B, window W — …".
    before_first_chart(&html, &format!("Best: batch size {batch}, window {window}"));
    // The deployable commands are on the page too.
    if let Some(first_command) = tune["aws"]["commands"][0].as_str() {
        before_first_chart(&html, &first_command.replace('"', "&quot;").replace('\'', "&#39;"));
    }
    // The constraint is a guide line on the p99 axis, named in its title.
    let svg = std::fs::read_to_string(out.join("tune-pareto.svg")).unwrap();
    assert!(svg.contains("<line class=\"guide\""), "no guide in tune-pareto.svg");
    assert!(svg.contains("<title>constraint latency_ms.p99&lt;=1500</title>"), "the guide's title");
    // The winner's dot carries its full configuration as a tooltip.
    let tooltip = format!("<title>esm.batch_size={batch}; esm.batching_window={window}; cost/month ");
    assert!(svg.contains(&tooltip), "the winner's tooltip {tooltip}");
    assert!(html.contains(&tooltip), "the chart is inline");
    // The terminal prints the top rows as a table: a header with rank and the grid's columns,
    // then the winner's row first.
    let header = text.lines().position(|l| l.starts_with("rank  batch size  window")).expect(&text);
    let first = text.lines().nth(header + 1).unwrap();
    assert!(first.split_whitespace().take(3).eq(["1", &batch.to_string(), window]), "{first}\n{text}");
}

#[test]
fn capacity_page_gives_the_verdict_first_and_draws_each_slo_and_the_knee() {
    // The factor model of tests/decide.rs: 4 batches in flight, full batches of 100 in
    // 20 ms + 100 × 0.3 ms = 50 ms, so C·B/D = 4 × 100 / 0.05 s = 8,000 records/s.
    let scenario = common::fixed_concurrency("2m");
    let dir = TempDir::new().unwrap();
    let s = write(&dir, "fixed.json", &scenario);
    let args = [
        "capacity",
        s.as_str(),
        "--rates",
        "2000,6000,10000",
        "--slo",
        "lag.max_age_ms<=60000",
        "--slo",
        "latency_ms.p99<=3000",
    ];
    let (_, out) = at_both_job_counts(&args, &dir);
    let result = json_file(&out, "capacity.json");
    let max = result["max_sustainable_rate"].as_f64().unwrap();
    assert!((7840.0..=8000.0).contains(&max), "{max}");
    let html = page(&out);
    assert_self_contained(&html);
    // "7,968.8 records/s": one decimal (none for a whole number), thousands separated.
    let rate = if max.fract() == 0.0 { format!("{max:.0}") } else { format!("{max:.1}") };
    let shown = format!("{},{}", &rate[..1], &rate[1..]);
    before_first_chart(&html, &format!("Max sustainable rate: {shown} records/s."));
    before_first_chart(&html, "lag.max_age_ms&lt;=60000, latency_ms.p99&lt;=3000");
    before_first_chart(&html, "Analytic limit: 8,000 records/s (concurrent_batches, C·B/D = 4 × 100 / 50 ms");
    before_first_chart(&html, "<th>why</th>");
    // One chart per SLO metric, with the SLO and the knee as guides named in their titles.
    for (stem, slo) in [
        ("capacity-slo-lag-max_age_ms", "lag.max_age_ms&lt;=60000"),
        ("capacity-slo-latency_ms-p99", "latency_ms.p99&lt;=3000"),
    ] {
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert_eq!(svg.matches("<line class=\"guide\"").count(), 2, "{stem}: the SLO and the knee");
        assert!(svg.contains(&format!("<title>SLO {slo}</title>")), "{stem}");
        assert!(svg.contains(&format!("<title>knee: max sustainable {shown} records/s</title>")), "{stem}");
        assert!(html.contains(&format!("<figure id=\"chart-{stem}\">")), "{stem} inline");
    }
}

#[test]
fn diff_page_is_the_table_with_the_largest_change_first() {
    // B gives A's function 1,024 MB instead of the default: durations do not depend on memory
    // here (no reference_memory_mb), so the runs are the same and only the cost metrics move.
    let dir = TempDir::new().unwrap();
    let a = write(&dir, "a.json", &small());
    let mut b_scenario = small();
    b_scenario["function"]["memory_mb"] = json!(1024);
    let b = write(&dir, "b.json", &b_scenario);
    let (text, out) = at_both_job_counts(&["diff", &a, &b, "--seeds", "2"], &dir);
    let html = page(&out);
    assert_self_contained(&html);
    // The page's first table row is diff.json's first change (diff order: meaningful first,
    // largest relative change first), and a cost metric.
    let diff = json_file(&out, "diff.json");
    let first = diff["changes"][0]["metric"].as_str().unwrap();
    assert!(first.starts_with("cost_usd.") && diff["changes"][0]["meaningful"] == json!(true), "{first}");
    let answer = html.find("metrics changed beyond the run-to-run noise").expect("the answer");
    let table = html.find("<table>").expect("the table");
    assert!(answer < table);
    let first_row = html[table..].find("<tr><td").map(|i| &html[table + i..]).unwrap();
    assert!(first_row.starts_with(&format!("<tr><td>{first}</td>")), "largest first: {first_row:.80}");
    assert!(text.contains("report.html"), "{text}");
    // The chart comes after the table: rank 1 is the first meaningful change with a relative
    // change (a change from 0 has none), named in its dot's tooltip, and 0 % is a guide.
    assert!(table < html.find("<svg").expect("the chart of relative changes"));
    let ranked = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["relative_change"].is_number() && c["meaningful"] == json!(true))
        .unwrap();
    let svg = std::fs::read_to_string(out.join("diff-changes.svg")).unwrap();
    assert!(svg.contains(&format!("<title>1. {}: ", ranked["metric"].as_str().unwrap())), "rank 1's tooltip");
    assert!(svg.contains("<line class=\"guide\"") && svg.contains("<title>no change</title>"), "the 0 % guide");
    // --no-charts keeps the page and drops the chart.
    let bare = dir.path().join("bare");
    ok(&["diff", &a, &b, "--seeds", "2", "--no-charts", "--out", bare.to_str().unwrap()]);
    assert!(!bare.join("diff-changes.svg").exists() && !page(&bare).contains("<svg"));
}

#[test]
fn sensitivity_page_ranks_before_the_chart_and_names_each_dot() {
    let dir = TempDir::new().unwrap();
    let s = write(&dir, "s.json", &small());
    let args = ["sensitivity", s.as_str(), "--metric", "latency_ms.p99", "--trajectories", "2"];
    let (_, out) = at_both_job_counts(&args, &dir);
    let html = page(&out);
    assert_self_contained(&html);
    let result = json_file(&out, "sensitivity.json");
    let top = result["parameters"][0]["parameter"].as_str().unwrap();
    // The factor model with constant traffic: the payload overheads and backoffs cannot change
    // anything (no failures, small payloads), so the answer lists them as μ* = 0.
    before_first_chart(&html, "Cannot change latency_ms.p99 in this scenario (μ* = 0)");
    before_first_chart(&html, &format!("<td>{top}</td>"));
    assert!(html.contains(&format!("<title>1. {top} (")), "the top parameter's tooltip");
}
