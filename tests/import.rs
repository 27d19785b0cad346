//! `esmsim import` and `rate_from` through the CLI and the library, on the example AWS documents
//! under examples/aws/ (written from AWS's documented shapes, with fields esmsim ignores).

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::Path;
use tempfile::TempDir;

fn esmsim() -> Command {
    Command::cargo_bin("esmsim").unwrap()
}

fn aws(name: &str) -> String {
    format!("examples/aws/{name}")
}

/// Runs `esmsim import ARGS --out DIR/NAME`; returns the scenario and stderr.
fn import(dir: &TempDir, name: &str, args: &[&str]) -> (Value, String) {
    let out = dir.path().join(name);
    let output = esmsim().arg("import").args(args).arg("--out").arg(&out).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "import {args:?} failed: {stderr}");
    (serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap(), stderr)
}

#[test]
fn the_cli_documents_map_every_modelled_field_and_list_the_rest() {
    let dir = TempDir::new().unwrap();
    let (esm, function, concurrency) = (aws("esm.json"), aws("function.json"), aws("concurrency.json"));
    let args =
        ["--esm", &esm, "--function", &function, "--concurrency", &concurrency, "--partitions", "12", "--rate", "2000"];
    let (s, stderr) = import(&dir, "s.json", &args);
    // The values in examples/aws/esm.json, function.json and concurrency.json.
    assert_eq!(
        s["esm"],
        json!({
            "batch_size": 500, "batching_window": "1s", "starting_position": "LATEST",
            "scaling": {"mode": "provisioned", "min_pollers": 2, "max_pollers": 12},
            "on_failure_destination": {"kind": "sqs"}, "function_response_types": ["ReportBatchItemFailures"],
            "maximum_retry_attempts": 3, "maximum_record_age": -1, "bisect_batch_on_function_error": true
        })
    );
    assert_eq!(
        s["function"],
        json!({"memory_mb": 1024, "timeout": "60s", "architecture": "arm64", "reserved_concurrency": 50})
    );
    assert_eq!(s["topic"], json!({"name": "orders", "partitions": 12}));
    assert_eq!(s["producers"], json!([{"name": "imported", "rate": 2000.0}]));
    // Every field of the documents that esmsim does not model is named in a warning.
    for ignored in [
        "UUID",
        "EventSourceArn",
        "FunctionArn",
        "LastModified",
        "LastProcessingResult",
        "State",
        "StateTransitionReason",
        "AmazonManagedKafkaEventSourceConfig",
        "MetricsConfig",
        "EventSourceMappingArn",
        "Runtime",
        "Role",
        "Handler",
        "CodeSize",
        "Environment",
        "EphemeralStorage",
        "SnapStart",
        "LoggingConfig",
        "TracingConfig",
        "PackageType",
        "RevisionId",
        "CodeSha256",
        "Version",
        "LastUpdateStatus",
        "Description",
    ] {
        assert!(stderr.contains(ignored), "{ignored} not listed in:\n{stderr}");
    }
    // The example also has BisectBatchOnFunctionError, which validation refuses beside a filter.
    assert!(stderr.contains("FilterCriteria is not simulated together with BisectBatchOnFunctionError"));
    assert!(stderr.contains("placeholder: function.duration"));
    assert!(
        s["description"].as_str().unwrap().contains("PLACEHOLDERS (not from AWS; replace them): function.duration")
    );
    assert!(s["description"].as_str().unwrap().contains("PLACED"), "FilterCriteria kept");
    // And it runs.
    let out = dir.path().join("run");
    let run = esmsim()
        .arg("run")
        .arg(dir.path().join("s.json"))
        .args(["--set", "duration=2m", "--no-charts", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
fn cloudformation_and_terraform_give_the_same_scenario_as_the_cli_documents() {
    let dir = TempDir::new().unwrap();
    let (esm, function, concurrency) = (aws("esm.json"), aws("function.json"), aws("concurrency.json"));
    let common = ["--partitions", "12", "--rate", "2000"];
    let (cli, _) = import(
        &dir,
        "cli.json",
        &[&["--esm", &esm, "--function", &function, "--concurrency", &concurrency][..], &common].concat(),
    );
    let template = aws("template.json");
    let (cfn, cfn_warnings) =
        import(&dir, "cfn.json", &[&["--cloudformation", template.as_str()][..], &common].concat());
    let state = aws("terraform-show.json");
    let (tf, tf_warnings) = import(&dir, "tf.json", &[&["--terraform", state.as_str()][..], &common].concat());
    for (name, other) in [("cloudformation", &cfn), ("terraform", &tf)] {
        for section in ["esm", "function", "topic", "producers"] {
            assert_eq!(other[section], cli[section], "{name}: {section}");
        }
    }
    // Their own unmodelled fields are listed, by their own names.
    for field in ["Code", "Handler", "Enabled", "EventSourceArn", "AmazonManagedKafkaEventSourceConfig"] {
        assert!(cfn_warnings.contains(field), "cloudformation: {field}");
    }
    for field in [
        "event_source_arn",
        "tumbling_window_in_seconds",
        "uuid",
        "runtime",
        "invoke_arn",
        "amazon_managed_kafka_event_source_config",
    ] {
        assert!(tf_warnings.contains(field), "terraform: {field}");
    }
}

/// The example mapping without bisect, with two filters (an OR) in AWS's shape: the patterns
/// become `esm.filter_criteria` as written, and the missing value template is a placeholder.
#[test]
fn filter_criteria_are_imported_when_esmsim_can_simulate_them() {
    let dir = TempDir::new().unwrap();
    let mut esm: Value = serde_json::from_slice(&std::fs::read(aws("esm.json")).unwrap()).unwrap();
    esm["BisectBatchOnFunctionError"] = json!(false);
    let placed = r#"{"value": {"status": ["PLACED"], "amount": [{"numeric": [">", 100]}]}}"#;
    let refund = r#"{"value": {"type": [{"prefix": "refund-"}]}}"#;
    esm["FilterCriteria"] = json!({"Filters": [{"Pattern": placed}, {"Pattern": refund}]});
    let file = dir.path().join("esm-filtered.json");
    std::fs::write(&file, serde_json::to_string_pretty(&esm).unwrap()).unwrap();
    let (s, stderr) = import(&dir, "s.json", &["--esm", file.to_str().unwrap(), "--partitions", "4", "--rate", "100"]);
    assert_eq!(s["esm"]["filter_criteria"], json!({"Filters": [{"Pattern": placed}, {"Pattern": refund}]}));
    assert!(!stderr.contains("FilterCriteria is not simulated"), "{stderr}");
    assert!(stderr.contains("placeholder: producers.0.value"), "{stderr}");
    assert!(s["description"].as_str().unwrap().contains("producers.0.value"));
    // With a value template that matches half the records, the scenario runs and filters:
    // status is PLACED or CANCELLED with equal weight and amount is always 150, so the first
    // filter passes about half; type "order" never has the prefix "refund-".
    let template = r#"producers.0.value={"fields": {"status": {"one_of": {"values": ["PLACED", "CANCELLED"]}}, "amount": {"constant": 150}, "type": {"constant": "order"}}}"#;
    let out = dir.path().join("run");
    let run = esmsim()
        .arg("run")
        .arg(dir.path().join("s.json"))
        .args(["--set", "duration=2m", "--set", template, "--no-charts", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let (filtered, invoked) = (
        summary["cloudwatch"]["FilteredOutEventCount"].as_f64().unwrap(),
        summary["cloudwatch"]["InvokedEventCount"].as_f64().unwrap(),
    );
    let share = filtered / (filtered + invoked);
    assert!((0.4..0.6).contains(&share), "filtered out {filtered}, invoked {invoked}");
}

/// A schema registry in AWS's shape (`SchemaRegistryConfig` inside the Kafka source config): the
/// kind from the URI, the record format and the validated attributes, with provisioned pollers as
/// AWS requires; without them it is a warning, and a format AWS does not have is one error line.
#[test]
fn a_schema_registry_config_is_imported_in_provisioned_mode() {
    let dir = TempDir::new().unwrap();
    let mut esm: Value = serde_json::from_slice(&std::fs::read(aws("esm.json")).unwrap()).unwrap();
    esm["AmazonManagedKafkaEventSourceConfig"]["SchemaRegistryConfig"] = json!({
        "SchemaRegistryURI": "arn:aws:glue:us-east-1:123456789012:registry/orders",
        "EventRecordFormat": "JSON",
        "AccessConfigs": [],
        "SchemaValidationConfigs": [{"Attribute": "VALUE"}]
    });
    let write = |name: &str, value: &Value| {
        let file = dir.path().join(name);
        std::fs::write(&file, serde_json::to_string_pretty(value).unwrap()).unwrap();
        file.to_str().unwrap().to_string()
    };
    let file = write("esm-registry.json", &esm);
    let (s, stderr) = import(&dir, "s.json", &["--esm", &file, "--partitions", "4", "--rate", "100"]);
    assert_eq!(
        s["esm"]["schema_registry"],
        json!({"kind": "glue", "event_record_format": "JSON", "validate": ["VALUE"]})
    );
    assert!(stderr.contains("AmazonManagedKafkaEventSourceConfig.ConsumerGroupId"), "{stderr}");
    assert!(stderr.contains("schema format"), "{stderr}");
    // The imported scenario runs, with the registry in its summary.
    let out = dir.path().join("run");
    let run = esmsim()
        .arg("run")
        .arg(dir.path().join("s.json"))
        .args(["--set", "duration=1m", "--no-charts", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["schema_registry"], json!({"schema_not_found": 0, "deserialization_error": 0}));
    // A poller group's name comes along (it bills with other mappings in a scenario of several).
    let mut grouped = esm.clone();
    grouped["ProvisionedPollerConfig"]["PollerGroupName"] = json!("team-streams");
    let file = write("esm-grouped.json", &grouped);
    let (s, stderr) = import(&dir, "g.json", &["--esm", &file, "--partitions", "4", "--rate", "100"]);
    assert_eq!(s["esm"]["scaling"]["poller_group"], json!("team-streams"));
    assert!(!stderr.contains("PollerGroupName"), "{stderr}");
    // Without provisioned pollers the registry is left out, with a warning saying why.
    let mut on_demand = esm.clone();
    on_demand.as_object_mut().unwrap().remove("ProvisionedPollerConfig");
    let file = write("esm-on-demand.json", &on_demand);
    let (s, stderr) = import(&dir, "d.json", &["--esm", &file, "--partitions", "4", "--rate", "100"]);
    assert!(s["esm"].get("schema_registry").is_none());
    assert!(stderr.contains("a schema registry needs provisioned mode"), "{stderr}");
    // A record format AWS does not have is one line naming the field.
    let mut bad = esm.clone();
    bad["AmazonManagedKafkaEventSourceConfig"]["SchemaRegistryConfig"]["EventRecordFormat"] = json!("AVRO");
    let file = write("esm-bad.json", &bad);
    let target = dir.path().join("bad.json");
    let failed = esmsim().args(["import", "--esm", &file, "--partitions", "4", "--out"]).arg(&target).output().unwrap();
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success() && !target.exists());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("SchemaRegistryConfig.EventRecordFormat") && stderr.contains("JSON or SOURCE"), "{stderr}");
}

/// A pattern the filter model cannot read: the mapping is imported without the filter, with a
/// warning carrying validation's message for the same pattern.
#[test]
fn an_unsupported_filter_pattern_is_a_warning_with_validations_message() {
    let dir = TempDir::new().unwrap();
    let mut esm: Value = serde_json::from_slice(&std::fs::read(aws("esm.json")).unwrap()).unwrap();
    esm["BisectBatchOnFunctionError"] = json!(false);
    let pattern = r#"{"value": {"status": [{"wildcard": "PLACE*"}]}}"#;
    esm["FilterCriteria"] = json!({"Filters": [{"Pattern": pattern}]});
    let file = dir.path().join("esm-wildcard.json");
    std::fs::write(&file, serde_json::to_string(&esm).unwrap()).unwrap();
    let (s, stderr) = import(&dir, "s.json", &["--esm", file.to_str().unwrap(), "--partitions", "4", "--rate", "100"]);
    assert!(s["esm"].get("filter_criteria").is_none());
    let warning = stderr.lines().find(|l| l.contains("FilterCriteria.Filters.0.Pattern")).expect(&stderr);
    assert!(
        warning.contains("unsupported condition") && warning.contains("imported without FilterCriteria"),
        "{warning}"
    );
    // Validation says the same of the same pattern.
    let set = format!("esm.filter_criteria={}", json!({"Filters": [{"Pattern": pattern}]}));
    let validate = esmsim().arg("validate").arg(dir.path().join("s.json")).args(["--set", &set]).output().unwrap();
    let error = String::from_utf8(validate.stderr).unwrap();
    assert!(!validate.status.success() && error.contains("unsupported condition"), "{error}");
}

/// Bad documents: one `error:` line naming the file and field, and no scenario written.
#[test]
fn bad_documents_fail_with_one_line_and_write_nothing() {
    let dir = TempDir::new().unwrap();
    let esm: Value = serde_json::from_slice(&std::fs::read(aws("esm.json")).unwrap()).unwrap();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "two.json",
            json!({"EventSourceMappings": [esm.clone(), esm.clone()]}),
            "EventSourceMappings: holds 2 mappings",
        ),
        (
            "type.json",
            {
                let mut e = esm.clone();
                e["BatchSize"] = json!("big");
                e
            },
            "BatchSize: expected an integer",
        ),
        (
            "lambda.json",
            {
                let mut e = esm.clone();
                e["DestinationConfig"]["OnFailure"]["Destination"] =
                    json!("arn:aws:lambda:us-east-1:123456789012:function:x");
                e
            },
            "DestinationConfig.OnFailure.Destination",
        ),
        (
            "range.json",
            {
                let mut e = esm.clone();
                e["BatchSize"] = json!(20000);
                e
            },
            "esm.batch_size: 20000 is out of range",
        ),
    ];
    for (name, document, needle) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, document.to_string()).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let output = esmsim().arg("import").arg("--esm").arg(&file).arg("--out").arg(&out).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(!output.status.success(), "{name} accepted");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{name}: {stderr}");
        assert!(errors[0].contains(needle), "{name}: {needle:?} not in {:?}", errors[0]);
        assert!(!out.exists(), "{name}: scenario written");
    }
}

fn load(file: &Path, text: &str) -> esmsim::Loaded {
    esmsim::parse_scenario(file, text, &[]).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn cloudwatch_brokers_sum_to_the_csv_traffic_and_the_duration_is_the_span() {
    // metrics.json splits traffic.csv's rate 40/35/25 % over three brokers, newest first.
    let scenario = |from: &str| {
        format!(r#"{{"name": "t", "topic": {{"partitions": 4}}, "producers": [{{"rate_from": {from}}}]}}"#)
    };
    let file = Path::new("examples/aws/scenario.json");
    let csv = load(file, &scenario(r#"{"csv": "traffic.csv"}"#));
    let cw = load(file, &scenario(r#"{"cloudwatch": "metrics.json"}"#));
    let (a, b) = (&csv.config.producers[0].steps, &cw.config.producers[0].steps);
    assert_eq!(a.len(), 61, "60 one-minute rows and the silence after them");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.0, y.0);
        assert!((x.1 - y.1).abs() < 1e-6, "{x:?} vs {y:?}");
    }
    // 60 rows a minute apart: the last holds one more minute, so the run lasts an hour.
    assert_eq!(csv.scenario.duration.ns(), 3_600_000_000_000);
    assert_eq!(cw.scenario.duration.ns(), 3_600_000_000_000);
    // bytes_per_second is 900 × rate in every row.
    assert!(matches!(csv.config.producers[0].record_bytes, esmsim::config::Dist::Fixed(900)));
    // Other data, another run: the traffic file is part of the config hash.
    assert_ne!(csv.config.config_hash, cw.config.config_hash);
}

#[test]
fn replayed_steps_produce_the_records_worked_out_by_hand() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("t.csv"), "time,rate\n0,100\n10,300\n").unwrap();
    // Constant arrivals: 100/s for 10 s and 300/s for the last row's 10 s = 1,000 + 3,000 records;
    // the duration defaults to the 20 s span.
    let text = r#"{"name": "steps", "topic": {"partitions": 2}, "sample_interval": "1s",
      "producers": [{"rate_from": {"csv": "t.csv"}, "arrivals": "constant"}]}"#;
    let file = dir.path().join("s.json");
    let loaded = load(&file, text);
    assert_eq!(loaded.scenario.duration.ns(), 20_000_000_000);
    let (report, ()) = esmsim::SimulationBuilder::new(&loaded.config).build().run();
    assert_eq!(report.summary.records.produced, 4_000);
    // A missing file names the field and the path.
    let err = esmsim::parse_scenario(&file, &text.replace("t.csv", "missing.csv"), &[]).unwrap_err().to_string();
    assert!(err.contains("producers.0.rate_from.csv") && err.contains("missing.csv"), "{err}");
    let both = text.replace(r#""arrivals""#, r#""rate": 5, "arrivals""#);
    let err = esmsim::parse_scenario(&file, &both, &[]).unwrap_err().to_string();
    assert!(err.contains("give rate or rate_from, not both"), "{err}");
}
