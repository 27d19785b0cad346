//! A bounded mutation test of the whole command: shipped scenarios with adversarial values put
//! at random fields (through `--set` and in the file itself), run by the real binary. Whatever
//! the input, the process exits 0 or 1 (never a panic, an abort or a signal); a failure is one
//! `error:` line and leaves nothing in the output's directory; a success conserves records.
//! The fuzz targets in fuzz/ search the same space for much longer.

use assert_cmd::Command;
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// Values that broke earlier versions, or sit on an edge of a range.
const VALUES: &[&str] = &[
    "-1",
    "0",
    "1",
    "0.5",
    "1e9",
    "1e308",
    "-1e308",
    "18446744073709551615",
    "1e400",
    "null",
    "true",
    "[]",
    "{}",
    "\"\"",
    "\"\\n\"",
    "\"../x\"",
    "\"/abs\"",
    "\"0s\"",
    "\"1ns\"",
    "\"10ms\"",
    "\"1h\"",
    "\"999999h\"",
    "\"-1s\"",
    "\"TRIM_HORIZON\"",
    "\"LATEST\"",
    "[{\"rate\":1e9}]",
    "{\"mode\":\"provisioned\",\"min_pollers\":200}",
    "{\"records\":50000000,\"span\":\"1h\"}",
    "{\"mode\":\"on_demand\"}",
    "\"report_failures\"",
];

fn scenarios() -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()))
        .collect()
}

/// Every field path of `value` in `--set` form, objects and arrays included.
fn paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
        _ => return,
    };
    for (name, child) in children {
        let path = if prefix.is_empty() { name } else { format!("{prefix}.{name}") };
        out.push(path.clone());
        paths(child, &path, out);
    }
}

/// What the command did with one mutated input.
fn check(dir: &Path, args: &[String]) -> Result<(), TestCaseError> {
    let output = Command::cargo_bin("esmsim")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    prop_assert!(code == Some(0) || code == Some(1), "exit {code:?} for {args:?}: {stderr}");
    let mut entries: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    entries.sort();
    if code == Some(1) {
        let errors: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("warning: ")).collect();
        prop_assert_eq!(errors.len(), 1, "one line for {:?}: {}", args, stderr);
        prop_assert!(errors[0].starts_with("error: "), "{}", stderr);
        prop_assert_eq!(entries, vec!["s.json".to_string()], "left behind by {:?}", args);
        return Ok(());
    }
    let summary: Value = serde_json::from_slice(&std::fs::read(dir.join("out/summary.json")).unwrap()).unwrap();
    let r = &summary["records"];
    let n = |k: &str| r[k].as_u64().unwrap();
    // `filtered_out` is present only with event filtering.
    let filtered = r["filtered_out"].as_u64().unwrap_or(0);
    let resolved =
        n("succeeded") + n("to_destination") + n("discarded") + n("lost_to_retention") + filtered + n("pending_at_end");
    prop_assert_eq!(n("produced"), resolved, "conservation for {:?}", args);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_fail_cleanly_or_conserve_records(
        pick in any::<prop::sample::Index>(),
        in_file in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..3),
        by_set in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..3),
        charts in any::<bool>(),
    ) {
        let all = scenarios();
        let (_, mut scenario) = all[pick.index(all.len())].clone();
        let mut fields = Vec::new();
        paths(&scenario, "", &mut fields);
        for (field, value) in &in_file {
            let set = format!("{}={}", fields[field.index(fields.len())], VALUES[value.index(VALUES.len())]);
            // A path the mutation made unreachable is skipped: the file stays as it was.
            let _ = esmsim::scenario::apply_set(&mut scenario, &set);
        }
        let dir = tempfile::TempDir::new().unwrap();
        std::fs::write(dir.path().join("s.json"), scenario.to_string()).unwrap();
        // Short runs, and a small budget so that a mutation that explodes stops quickly.
        let mut args: Vec<String> = ["run", "s.json", "--out", "out", "--max-memory", "64M"].map(String::from).to_vec();
        for (field, value) in &by_set {
            args.push("--set".into());
            args.push(format!("{}={}", fields[field.index(fields.len())], VALUES[value.index(VALUES.len())]));
        }
        args.extend(["--set".into(), "duration=20s".into()]);
        if !charts {
            args.push("--no-charts".into());
        }
        check(dir.path(), &args)?;
    }
}
