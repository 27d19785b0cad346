//! Charts and report.html through the CLI: every chart as a decodable PNG and an SVG with its
//! title and axis labels, a self-contained page with the summary and warnings, `--no-charts`,
//! and byte-identical output for one seed.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// Two minutes with a 750 ms window, which `validate` warns about.
const SCENARIO: &str = r#"{
  "name": "report", "duration": "2m", "description": "Charts <&> report",
  "topic": { "partitions": 3 },
  "producers": [ { "rate": 300 } ],
  "esm": { "batching_window": "750ms", "scaling": { "mode": "parallelization_factor", "factor": 2 } }
}"#;

/// (file stem, title, y axis label) of every run chart.
const CHARTS: [(&str, &str, &str); 6] = [
    ("lag", "Consumer lag", "lag (records)"),
    ("throughput", "Throughput", "throughput (records/s)"),
    ("concurrency", "Concurrency and pollers", "executions / pollers"),
    ("latency", "Latency, produced to committed", "latency (ms"),
    ("invocations", "Invocations", "count per 10 s interval"),
    ("cost", "Cost over the run", "cost (USD)"),
];

fn scenario(dir: &TempDir) -> PathBuf {
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, SCENARIO).unwrap();
    path
}

fn run(file: &Path, out: &Path, extra: &[&str]) -> String {
    let output = Command::cargo_bin("esmsim").unwrap().arg("run").arg(file).arg("--out").arg(out).args(extra).output();
    let output = output.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn report_files() -> Vec<String> {
    CHARTS
        .iter()
        .flat_map(|(stem, ..)| [format!("{stem}.png"), format!("{stem}.svg")])
        .chain(["report.html".into()])
        .collect()
}

#[test]
fn every_chart_is_a_png_and_an_svg_with_title_and_axis_labels() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    let stdout = run(&scenario(&dir), &out, &[]);
    for name in report_files() {
        assert!(stdout.contains(&format!("wrote {}", out.join(&name).display())), "{name} not reported:\n{stdout}");
    }
    for (stem, title, y_label) in CHARTS {
        let png = image::load_from_memory(&std::fs::read(out.join(format!("{stem}.png"))).unwrap()).unwrap();
        assert_eq!((png.width(), png.height()), (1000, 500), "{stem}.png");
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{stem}.svg");
        for text in [title, "time (s)", y_label] {
            assert!(svg.contains(text), "{stem}.svg lacks {text:?}");
        }
    }
}

#[test]
fn report_html_is_self_contained_with_summary_scenario_and_warnings() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    run(&scenario(&dir), &out, &[]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for external in ["src=\"http", "href=\"http", "url(http", "<script", "<link", "@import"] {
        assert!(!html.contains(external), "report.html has {external:?}");
    }
    assert_eq!(html.matches("<svg").count(), CHARTS.len(), "every chart inline");
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    for value in [&summary["records"]["produced"], &summary["records"]["succeeded"], &summary["invocations"]["total"]] {
        let shown = esmsim::human::count(value.as_u64().unwrap());
        assert!(html.contains(&format!(">{shown}<")), "summary value {shown} missing");
    }
    // Latencies read in the unit of the largest one.
    let latency = |key: &str| summary["latency_ms"][key].as_f64().unwrap();
    let unit_ms = match esmsim::human::duration_parts(latency("max")).1 {
        "ms" => 1.0,
        "s" => 1e3,
        "min" => 6e4,
        _ => 3.6e6,
    };
    let p99 = format!(">{}<", esmsim::human::decimal(latency("p99") / unit_ms, 1));
    assert!(html.contains(&p99), "p99 {p99} missing");
    assert!(html.contains("<th scope=\"row\">produced</th>") && html.contains(">records/s<"), "a table with units");
    assert!(html.contains("esm.batching_window: 750ms is not whole seconds"), "the warning");
    assert!(html.contains("&quot;batching_window&quot;: &quot;750ms&quot;"), "the scenario, escaped");
    assert!(html.contains("Charts &lt;&amp;&gt; report"), "the description, escaped");
}

#[test]
fn no_charts_writes_none_and_removes_stale_ones() {
    let dir = TempDir::new().unwrap();
    let file = scenario(&dir);
    let (fresh, reused) = (dir.path().join("fresh"), dir.path().join("reused"));
    let stdout = run(&file, &fresh, &["--no-charts"]);
    assert!(fresh.join("summary.json").exists() && fresh.join("timeseries.csv").exists());
    run(&file, &reused, &[]);
    run(&file, &reused, &["--no-charts"]);
    for name in report_files() {
        assert!(!fresh.join(&name).exists(), "{name} written with --no-charts");
        assert!(!reused.join(&name).exists(), "stale {name} left beside a run without charts");
        assert!(!stdout.contains(&name), "{name} reported with --no-charts");
    }
}

#[test]
fn same_seed_gives_byte_identical_charts_and_html() {
    let dir = TempDir::new().unwrap();
    let file = scenario(&dir);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run(&file, &a, &["--seed", "9"]);
    run(&file, &b, &["--seed", "9"]);
    // PNG bytes may differ between font rasterisers, but never between two runs on one machine.
    for name in report_files() {
        let read = |d: &Path| std::fs::read(d.join(&name)).unwrap();
        assert!(read(&a) == read(&b), "{name} differs between two runs of seed 9");
    }
}
