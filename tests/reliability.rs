//! Issue 12, one test per class: inputs that used to abort the process, outputs that were not
//! all-or-nothing, names that escaped `reports/`, the wrong seed in report.html, messages that
//! broke the one-line rule, huge studies that started silently, and shards whose rows were
//! edited. Each failure is one `error:` line, exit 1, and nothing written.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tempfile::TempDir;

fn esmsim() -> Command {
    let mut command = Command::cargo_bin("esmsim").unwrap();
    for variable in ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "ESMSIM_SHARDS"] {
        command.env_remove(variable);
    }
    command
}

fn small() -> Value {
    json!({
        "name": "small", "duration": "1m",
        "topic": { "partitions": 2 },
        "producers": [{ "rate": 100 }],
        "esm": { "scaling": { "mode": "parallelization_factor" } }
    })
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `esmsim ARGS` in `cwd`; expects exit 1 and exactly one `error:` line containing every
/// needle. Returns the line.
fn fails_in(cwd: &Path, args: &[&str], needles: &[&str]) -> String {
    let output = esmsim().current_dir(cwd).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("warning: ")).collect();
    assert_eq!(errors.len(), 1, "one line expected: {stderr}");
    assert!(errors[0].starts_with("error: "), "{stderr}");
    for needle in needles {
        assert!(errors[0].contains(needle), "expected {needle:?} in {:?}", errors[0]);
    }
    errors[0].to_string()
}

fn succeeds_in(cwd: &Path, args: &[&str]) -> (String, String) {
    let output = esmsim().current_dir(cwd).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{args:?}: {stderr}");
    (String::from_utf8_lossy(&output.stdout).to_string(), stderr)
}

/// Every entry of `dir`, sorted: what a failed command must leave unchanged.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    names.sort();
    names
}

// 3. Names are identifiers.

#[test]
fn a_name_that_is_a_path_is_rejected() {
    let dir = TempDir::new().unwrap();
    let long = "n".repeat(101);
    for name in ["../escaped", "..", "/some/dir", "a/b", ".hidden", "", "a b", "tab\there", long.as_str()] {
        let mut s = small();
        s["name"] = json!(name);
        let file = write(dir.path(), "s.json", &s.to_string());
        fails_in(dir.path(), &["run", file.to_str().unwrap(), "--no-charts"], &["name: ", "letters, digits"]);
    }
    assert_eq!(listing(dir.path()), ["s.json"], "nothing written anywhere");
    let mut s = small();
    s["name"] = json!("ok.name_1-x");
    let file = write(dir.path(), "s.json", &s.to_string());
    succeeds_in(dir.path(), &["validate", file.to_str().unwrap()]);
}

// 5. report.html shows the seed that ran.

#[test]
fn report_html_embeds_the_overriding_seed() {
    let dir = TempDir::new().unwrap();
    let file = write(dir.path(), "s.json", &small().to_string());
    succeeds_in(dir.path(), &["run", file.to_str().unwrap(), "--seed", "987654", "--out", "out"]);
    let page = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(page.contains("&quot;seed&quot;: 987654,"), "resolved scenario keeps the file's seed");
}

// 6. Messages.

#[test]
fn messages_are_one_clean_line() {
    let dir = TempDir::new().unwrap();
    let mut s = small();
    s["esm"]["scaling"]["mode"] = json!("\n\u{1b}[2J");
    let file = write(dir.path(), "ctl.json", &s.to_string());
    let line = fails_in(dir.path(), &["validate", file.to_str().unwrap()], &["esm.scaling.mode", r"\n\u{1b}[2J"]);
    assert!(!line.contains('\u{1b}'));
    let file = write(dir.path(), "s.json", &small().to_string());
    let file = file.to_str().unwrap();
    let line = fails_in(dir.path(), &["validate", file, "--set", "pricing.epu_hour_usd=-1e308"], &["-1e308"]);
    assert!(line.len() < 200, "{line}");
    let text = small().to_string();
    let bom = write(dir.path(), "bom.json", &format!("\u{feff}{text}"));
    succeeds_in(dir.path(), &["validate", bom.to_str().unwrap()]);
    let twice = text.replacen("\"duration\":\"1m\"", "\"duration\":\"1m\",\"duration\":\"2m\"", 1);
    assert_ne!(twice, text);
    let dup = write(dir.path(), "dup.json", &twice);
    fails_in(dir.path(), &["validate", dup.to_str().unwrap()], &["duration: is given twice"]);
    let array = write(dir.path(), "array.json", "[]");
    fails_in(dir.path(), &["validate", array.to_str().unwrap()], &["(root): a scenario is a JSON object"]);
}

#[test]
fn an_endless_file_is_read_only_up_to_the_cap() {
    let dir = TempDir::new().unwrap();
    let started = Instant::now();
    fails_in(dir.path(), &["validate", "/dev/zero"], &["/dev/zero", "larger than 16 MiB"]);
    fails_in(dir.path(), &["sweep", "/dev/zero", "--out", "o"], &["larger than 16 MiB"]);
    assert!(started.elapsed() < Duration::from_secs(10));
}

