//! The winning configuration as AWS CLI commands, and as JSON in the shape of the API's requests
//! (usable with `--cli-input-json`). Only the searched settings are written: a setting the grid
//! did not vary is left as the deployment has it.
//!
//! `UpdateEventSourceMapping` changes a Kafka mapping's `BatchSize`,
//! `MaximumBatchingWindowInSeconds`, `ProvisionedPollerConfig` and (provisioned mode) its retry
//! settings in place. Two things it cannot do, so a new mapping is needed
//! (`create-event-source-mapping` with every setting, after the old one is deleted):
//! - return the window to Kafka's 500 ms default: the API takes whole seconds, and "to restore
//!   the default batching window, you must create a new event source mapping" (API reference,
//!   `MaximumBatchingWindowInSeconds`);
//! - change `StartingPosition`, which only `CreateEventSourceMapping` takes.
//!
//! The new mapping joins the old one's consumer group, so it resumes from the committed offsets
//! and ignores `StartingPosition`; a group ID must be unique among a region's Kafka event
//! sources, so the old mapping is deleted first (kafka-consumer-group-id).
//!
//! SnapStart (`update-function-configuration --snap-start`) and provisioned concurrency
//! (`put-provisioned-concurrency-config`) apply to a published version behind the alias
//! `$ALIAS`, so the commands publish a version and move the alias to it first.
//!
//! `$ESM_UUID`, `$FUNCTION_NAME`, `$ALIAS`, `$CLUSTER_ARN`, `$TOPIC` and `$DESTINATION_ARN` are left for
//! the shell to fill. [`scenario_sets`] translates the requests back into `--set`s, so a test
//! can check that the commands deploy what won.

use crate::engine::{NS_PER_MS, NS_PER_SEC};
use crate::scenario::{ScalingMode, Scenario};
use serde_json::{Map, Value, json};

/// Kafka's default batching window, which only a new mapping can return to.
const DEFAULT_WINDOW_NS: u64 = 500 * NS_PER_MS;

/// What a searched path deploys as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Setting {
    BatchSize,
    Window,
    Pollers,
    Retries,
    RecordAge,
    Bisect,
    ResponseTypes,
    StartingPosition,
    Memory,
    Timeout,
    Reserved,
    ProvisionedConcurrency,
    SnapStart,
    /// Not an AWS setting: a what-if of the simulation (traffic, durations, ASSUMED parameters).
    None,
}

fn setting(path: &str) -> Setting {
    match path {
        "esm.batch_size" => Setting::BatchSize,
        "esm.batching_window" => Setting::Window,
        "esm.scaling" | "esm.scaling.mode" | "esm.scaling.min_pollers" | "esm.scaling.max_pollers" => Setting::Pollers,
        "esm.maximum_retry_attempts" => Setting::Retries,
        "esm.maximum_record_age" => Setting::RecordAge,
        "esm.bisect_batch_on_function_error" => Setting::Bisect,
        "esm.function_response_types" => Setting::ResponseTypes,
        "esm.starting_position" => Setting::StartingPosition,
        "function.memory_mb" => Setting::Memory,
        "function.timeout" => Setting::Timeout,
        "function.reserved_concurrency" => Setting::Reserved,
        "function.provisioned_concurrency" => Setting::ProvisionedConcurrency,
        "function.snapstart" => Setting::SnapStart,
        _ => Setting::None,
    }
}

/// A window in whole seconds, with a note when it had to be rounded.
fn window_seconds(s: &Scenario, notes: &mut Vec<String>) -> u64 {
    let ns = s.esm.batching_window.ns();
    let seconds = (ns + NS_PER_SEC / 2) / NS_PER_SEC;
    if seconds * NS_PER_SEC != ns {
        notes.push(format!(
            "the API takes whole seconds: the {} window is rounded to {seconds} s, which was not what was simulated",
            s.esm.batching_window
        ));
    }
    seconds
}

/// The ESM settings in the API's shape, for `searched` (or every setting when `None`).
fn esm_fields(s: &Scenario, searched: Option<&[Setting]>, notes: &mut Vec<String>) -> Map<String, Value> {
    let wants = |x: Setting| searched.is_none_or(|list| list.contains(&x));
    let e = &s.esm;
    let mut m = Map::new();
    if wants(Setting::BatchSize) {
        m.insert("BatchSize".into(), json!(e.batch_size));
    }
    if wants(Setting::Window) && e.batching_window.ns() != DEFAULT_WINDOW_NS {
        m.insert("MaximumBatchingWindowInSeconds".into(), json!(window_seconds(s, notes)));
    }
    if wants(Setting::Pollers) && e.scaling.mode == ScalingMode::Provisioned {
        // Written whole: the two bounds are one setting, and the other bound is the scenario's.
        let config = json!({
            "MinimumPollers": e.scaling.min_pollers.unwrap_or(1),
            "MaximumPollers": e.scaling.max_pollers.unwrap_or(200),
        });
        m.insert("ProvisionedPollerConfig".into(), config);
    }
    // Retry settings: only where they differ from AWS's defaults when every setting is written,
    // since on-demand mappings reject them.
    let every = searched.is_none();
    if wants(Setting::Retries) && (!every || e.maximum_retry_attempts != -1) {
        m.insert("MaximumRetryAttempts".into(), json!(e.maximum_retry_attempts));
    }
    if wants(Setting::RecordAge) && (!every || e.maximum_record_age.0.is_some()) {
        let seconds = e.maximum_record_age.0.map_or(-1, |ns| (ns / NS_PER_SEC) as i64);
        m.insert("MaximumRecordAgeInSeconds".into(), json!(seconds));
    }
    if wants(Setting::Bisect) && (!every || e.bisect_batch_on_function_error) {
        m.insert("BisectBatchOnFunctionError".into(), json!(e.bisect_batch_on_function_error));
    }
    if wants(Setting::ResponseTypes) && (!every || !e.function_response_types.is_empty()) {
        m.insert("FunctionResponseTypes".into(), serde_json::to_value(&e.function_response_types).expect("types"));
    }
    m
}

/// Which searched settings can be updated in place; `Err` with the reason a new mapping is needed.
fn needs_new_mapping(base: &Scenario, winner: &Scenario, searched: &[Setting]) -> Option<String> {
    if searched.contains(&Setting::Window)
        && winner.esm.batching_window.ns() == DEFAULT_WINDOW_NS
        && base.esm.batching_window.ns() != DEFAULT_WINDOW_NS
    {
        return Some(format!(
            "the window returns from {} to Kafka's 500 ms default, which UpdateEventSourceMapping cannot set (whole \
             seconds only; AWS: \"to restore the default batching window, you must create a new event source mapping\")",
            base.esm.batching_window
        ));
    }
    if searched.contains(&Setting::StartingPosition) {
        return Some("StartingPosition is set only when a mapping is created".to_string());
    }
    None
}

/// Shell arguments for the API fields, e.g. `--batch-size 500`.
fn args(fields: &Map<String, Value>) -> String {
    let mut text = String::new();
    for (key, value) in fields {
        let arg = match (key.as_str(), value) {
            ("ProvisionedPollerConfig", Value::Object(c)) => {
                let parts: Vec<String> = c.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("--provisioned-poller-config {}", parts.join(","))
            }
            ("BisectBatchOnFunctionError", Value::Bool(true)) => "--bisect-batch-on-function-error".to_string(),
            ("BisectBatchOnFunctionError", _) => "--no-bisect-batch-on-function-error".to_string(),
            ("FunctionResponseTypes", Value::Array(types)) if types.is_empty() => {
                "--function-response-types '[]'".to_string()
            }
            ("FunctionResponseTypes", Value::Array(types)) => {
                let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
                format!("--function-response-types {}", names.join(" "))
            }
            ("StartingPosition", Value::String(p)) => format!("--starting-position {p}"),
            ("SnapStart", Value::Object(c)) => {
                let parts: Vec<String> =
                    c.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
                format!("--snap-start {}", parts.join(","))
            }
            (key, value) => format!("--{} {value}", kebab(key)),
        };
        text.push(' ');
        text.push_str(&arg);
    }
    text
}

/// `MaximumBatchingWindowInSeconds` → `maximum-batching-window-in-seconds`.
fn kebab(key: &str) -> String {
    let mut out = String::new();
    for (i, c) in key.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The settings, commands and notes that deploy `winner`'s values of the `searched` grid paths,
/// starting from `base` (the scenario as the deployment has it).
pub fn settings(base: &Scenario, winner: &Scenario, searched: &[&str]) -> Value {
    let mut notes = Vec::new();
    let kinds: Vec<Setting> = searched.iter().map(|p| setting(p)).collect();
    for (path, kind) in searched.iter().zip(&kinds) {
        if *kind == Setting::None {
            notes.push(format!("{path} is not an AWS setting (a what-if of the simulation): nothing to deploy for it"));
        }
    }
    if winner.esm.scaling.mode == ScalingMode::ParallelizationFactor {
        notes.push(
            "the parallelization_factor model has no Kafka setting in AWS: re-tune in on_demand or provisioned mode"
                .to_string(),
        );
    }
    if kinds.contains(&Setting::Pollers) && winner.esm.scaling.mode == ScalingMode::OnDemand {
        notes.push("on-demand mode: remove ProvisionedPollerConfig if the mapping has one".to_string());
    }
    let mut out = Map::new();
    let mut commands = Vec::new();
    if let Some(reason) = needs_new_mapping(base, winner, &kinds) {
        let mut fields = Map::new();
        fields.insert("FunctionName".into(), json!("$FUNCTION_NAME"));
        fields.insert("EventSourceArn".into(), json!("$CLUSTER_ARN"));
        fields.insert("Topics".into(), json!(["$TOPIC"]));
        let position = serde_json::to_value(winner.esm.starting_position).expect("position");
        fields.insert("StartingPosition".into(), position);
        fields.extend(esm_fields(winner, None, &mut notes));
        if winner.esm.on_failure_destination.is_some() {
            fields.insert("DestinationConfig".into(), json!({ "OnFailure": { "Destination": "$DESTINATION_ARN" } }));
        }
        fields.insert("AmazonManagedKafkaEventSourceConfig".into(), json!({ "ConsumerGroupId": "$CONSUMER_GROUP_ID" }));
        commands.push(
            "CONSUMER_GROUP_ID=$(aws lambda get-event-source-mapping --uuid \"$ESM_UUID\" --query \
             'AmazonManagedKafkaEventSourceConfig.ConsumerGroupId' --output text)"
                .to_string(),
        );
        commands.push("aws lambda delete-event-source-mapping --uuid \"$ESM_UUID\"".to_string());
        let mut create =
            "aws lambda create-event-source-mapping --function-name \"$FUNCTION_NAME\" --event-source-arn \
                          \"$CLUSTER_ARN\" --topics \"$TOPIC\""
                .to_string();
        let rest: Map<String, Value> = fields
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "FunctionName" | "EventSourceArn" | "Topics" | "AmazonManagedKafkaEventSourceConfig"
                )
            })
            .filter(|(k, _)| k.as_str() != "DestinationConfig")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        create.push_str(&args(&rest));
        if fields.contains_key("DestinationConfig") {
            create.push_str(" --destination-config 'OnFailure={Destination=$DESTINATION_ARN}'");
        }
        create.push_str(" --amazon-managed-kafka-event-source-config \"ConsumerGroupId=$CONSUMER_GROUP_ID\"");
        commands.push(create);
        notes.push(format!(
            "a new mapping is needed: {reason}. The commands read the old mapping's consumer group, delete the old \
             mapping (a consumer group ID must be unique among your Kafka event sources) and create the new one in \
             that group, so it resumes from the committed offsets (StartingPosition applies only to a new group); \
             records arriving in between wait in the topic. Self-managed Kafka: use --self-managed-event-source \
             and --self-managed-kafka-event-source-config instead of --event-source-arn and \
             --amazon-managed-kafka-event-source-config"
        ));
        out.insert("create_event_source_mapping".into(), Value::Object(fields));
    } else {
        let fields = esm_fields(winner, Some(&kinds), &mut notes);
        if kinds.contains(&Setting::Window) && winner.esm.batching_window.ns() == DEFAULT_WINDOW_NS {
            notes.push("the window stays at Kafka's 500 ms default, as the scenario has it".to_string());
        }
        if !fields.is_empty() {
            let mut request = Map::new();
            request.insert("UUID".into(), json!("$ESM_UUID"));
            request.extend(fields.clone());
            commands.push(format!("aws lambda update-event-source-mapping --uuid \"$ESM_UUID\"{}", args(&fields)));
            out.insert("update_event_source_mapping".into(), Value::Object(request));
        }
    }
    let f = &winner.function;
    let mut function = Map::new();
    if kinds.contains(&Setting::Memory) {
        function.insert("MemorySize".into(), json!(f.memory_mb));
    }
    if kinds.contains(&Setting::Timeout) {
        let seconds = f.timeout.ns().div_ceil(NS_PER_SEC);
        if seconds * NS_PER_SEC != f.timeout.ns() {
            notes.push(format!("the API takes whole seconds: the {} timeout is rounded up to {seconds} s", f.timeout));
        }
        function.insert("Timeout".into(), json!(seconds));
    }
    if kinds.contains(&Setting::SnapStart) {
        let apply_on = if f.snapstart.is_off() { "None" } else { "PublishedVersions" };
        function.insert("SnapStart".into(), json!({ "ApplyOn": apply_on }));
    }
    if !function.is_empty() {
        let command =
            format!("aws lambda update-function-configuration --function-name \"$FUNCTION_NAME\"{}", args(&function));
        commands.push(command);
        let mut request = Map::new();
        request.insert("FunctionName".into(), json!("$FUNCTION_NAME"));
        request.extend(function);
        out.insert("update_function_configuration".into(), Value::Object(request));
    }
    if kinds.contains(&Setting::SnapStart) || kinds.contains(&Setting::ProvisionedConcurrency) {
        alias_commands(&kinds, &mut commands, &mut notes);
    }
    if kinds.contains(&Setting::Reserved) {
        match f.reserved_concurrency {
            Some(n) => {
                commands.push(format!(
                    "aws lambda put-function-concurrency --function-name \"$FUNCTION_NAME\" --reserved-concurrent-executions {n}"
                ));
                out.insert(
                    "put_function_concurrency".into(),
                    json!({ "FunctionName": "$FUNCTION_NAME", "ReservedConcurrentExecutions": n }),
                );
            }
            None => {
                commands.push("aws lambda delete-function-concurrency --function-name \"$FUNCTION_NAME\"".to_string());
                out.insert("delete_function_concurrency".into(), json!({ "FunctionName": "$FUNCTION_NAME" }));
            }
        }
    }
    if kinds.contains(&Setting::ProvisionedConcurrency) {
        provisioned_concurrency(f.provisioned_concurrency, &mut commands, &mut out);
    }
    if commands.is_empty() {
        notes.push("no searched setting is an AWS setting: nothing to deploy".to_string());
    }
    out.insert("commands".into(), json!(commands));
    out.insert("notes".into(), json!(notes));
    out.insert("scenario_sets".into(), json!(scenario_sets(&Value::Object(out.clone()))));
    Value::Object(out)
}

/// SnapStart and provisioned concurrency apply to a published version behind an alias
/// (`$ALIAS`), not to `$LATEST` (snapstart; provisioned-concurrency): the configuration just
/// updated is published and the alias moved to it, and the mapping must invoke the alias.
fn alias_commands(kinds: &[Setting], commands: &mut Vec<String>, notes: &mut Vec<String>) {
    if commands.iter().any(|c| c.starts_with("aws lambda update-function-configuration")) {
        commands.push("aws lambda wait function-updated --function-name \"$FUNCTION_NAME\"".to_string());
    }
    commands.push(
        "VERSION=$(aws lambda publish-version --function-name \"$FUNCTION_NAME\" --query Version --output text)"
            .to_string(),
    );
    commands.push(
        "aws lambda update-alias --function-name \"$FUNCTION_NAME\" --name \"$ALIAS\" --function-version \"$VERSION\""
            .to_string(),
    );
    let what = match (kinds.contains(&Setting::SnapStart), kinds.contains(&Setting::ProvisionedConcurrency)) {
        (true, true) => "SnapStart and provisioned concurrency apply",
        (true, false) => "SnapStart applies",
        _ => "provisioned concurrency applies",
    };
    notes.push(format!(
        "{what} to a published version, not to $LATEST: the commands publish the updated configuration and move \
         the alias $ALIAS to it; the mapping must invoke that alias (its FunctionName the alias ARN)"
    ));
}

/// `put-provisioned-concurrency-config` on the alias, or its removal for 0.
fn provisioned_concurrency(n: u32, commands: &mut Vec<String>, out: &mut Map<String, Value>) {
    let target = "--function-name \"$FUNCTION_NAME\" --qualifier \"$ALIAS\"";
    if n > 0 {
        commands.push(format!(
            "aws lambda put-provisioned-concurrency-config {target} --provisioned-concurrent-executions {n}"
        ));
        out.insert(
            "put_provisioned_concurrency_config".into(),
            json!({ "FunctionName": "$FUNCTION_NAME", "Qualifier": "$ALIAS", "ProvisionedConcurrentExecutions": n }),
        );
    } else {
        commands.push(format!("aws lambda delete-provisioned-concurrency-config {target}"));
        out.insert(
            "delete_provisioned_concurrency_config".into(),
            json!({ "FunctionName": "$FUNCTION_NAME", "Qualifier": "$ALIAS" }),
        );
    }
}

/// The `--set`s that give a scenario what the requests in `aws` deploy: the translation back
/// from AWS's names to esmsim's, so the commands can be checked by simulation. A new mapping
/// leaves out `MaximumBatchingWindowInSeconds` for the 500 ms default.
pub fn scenario_sets(aws: &Value) -> Vec<String> {
    let mut sets = Vec::new();
    let created = aws.get("create_event_source_mapping");
    for request in [aws.get("update_event_source_mapping"), created].into_iter().flatten() {
        for (key, value) in request.as_object().into_iter().flatten() {
            match key.as_str() {
                "BatchSize" => sets.push(format!("esm.batch_size={value}")),
                "MaximumBatchingWindowInSeconds" => sets.push(format!("esm.batching_window={value}s")),
                "ProvisionedPollerConfig" => {
                    sets.push("esm.scaling.mode=provisioned".to_string());
                    if let Some(n) = value.get("MinimumPollers") {
                        sets.push(format!("esm.scaling.min_pollers={n}"));
                    }
                    if let Some(n) = value.get("MaximumPollers") {
                        sets.push(format!("esm.scaling.max_pollers={n}"));
                    }
                }
                "MaximumRetryAttempts" => sets.push(format!("esm.maximum_retry_attempts={value}")),
                "MaximumRecordAgeInSeconds" if value == -1 => sets.push("esm.maximum_record_age=-1".to_string()),
                "MaximumRecordAgeInSeconds" => sets.push(format!("esm.maximum_record_age={value}s")),
                "BisectBatchOnFunctionError" => sets.push(format!("esm.bisect_batch_on_function_error={value}")),
                "FunctionResponseTypes" => sets.push(format!("esm.function_response_types={value}")),
                "StartingPosition" => {
                    sets.push(format!("esm.starting_position={}", value.as_str().unwrap_or_default()))
                }
                _ => {}
            }
        }
    }
    if let Some(request) = created
        && request.get("MaximumBatchingWindowInSeconds").is_none()
    {
        sets.push("esm.batching_window=500ms".to_string());
    }
    if let Some(request) = aws.get("update_function_configuration") {
        if let Some(m) = request.get("MemorySize") {
            sets.push(format!("function.memory_mb={m}"));
        }
        if let Some(t) = request.get("Timeout") {
            sets.push(format!("function.timeout={t}s"));
        }
        if let Some(apply_on) = request.get("SnapStart").and_then(|c| c.get("ApplyOn")) {
            sets.push(format!("function.snapstart={}", apply_on == "PublishedVersions"));
        }
    }
    if let Some(n) =
        aws.get("put_provisioned_concurrency_config").and_then(|r| r.get("ProvisionedConcurrentExecutions"))
    {
        sets.push(format!("function.provisioned_concurrency={n}"));
    }
    if aws.get("delete_provisioned_concurrency_config").is_some() {
        sets.push("function.provisioned_concurrency=0".to_string());
    }
    if let Some(n) = aws.get("put_function_concurrency").and_then(|r| r.get("ReservedConcurrentExecutions")) {
        sets.push(format!("function.reserved_concurrency={n}"));
    }
    if aws.get("delete_function_concurrency").is_some() {
        sets.push("function.reserved_concurrency=null".to_string());
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_scenario;

    fn scenario(esm: Value) -> Scenario {
        let text = json!({ "name": "t", "topic": { "partitions": 4 }, "esm": esm, "function": { "memory_mb": 1024 } });
        parse_scenario("t.json".as_ref(), &text.to_string(), &[]).unwrap().scenario
    }

    #[test]
    fn only_searched_settings_are_updated() {
        let base = scenario(json!({ "batching_window": "1s",
            "scaling": { "mode": "provisioned", "min_pollers": 1, "max_pollers": 4 } }));
        let winner = scenario(json!({ "batch_size": 500, "batching_window": "2s",
            "scaling": { "mode": "provisioned", "min_pollers": 2, "max_pollers": 4 } }));
        let v = settings(&base, &winner, &["esm.batch_size", "esm.batching_window", "esm.scaling.min_pollers"]);
        assert_eq!(
            v["commands"][0],
            "aws lambda update-event-source-mapping --uuid \"$ESM_UUID\" --batch-size 500 \
             --maximum-batching-window-in-seconds 2 --provisioned-poller-config MaximumPollers=4,MinimumPollers=2"
        );
        assert_eq!(v["commands"].as_array().unwrap().len(), 1, "memory was not searched: {v}");
        assert!(v.get("update_function_configuration").is_none());
        assert_eq!(
            v["scenario_sets"],
            json!([
                "esm.batch_size=500",
                "esm.batching_window=2s",
                "esm.scaling.mode=provisioned",
                "esm.scaling.min_pollers=2",
                "esm.scaling.max_pollers=4"
            ])
        );
        // Memory searched alone: only the function is updated.
        let v = settings(&base, &winner, &["function.memory_mb"]);
        assert_eq!(
            v["commands"],
            json!(["aws lambda update-function-configuration --function-name \"$FUNCTION_NAME\" --memory-size 1024"])
        );
    }

    fn with_function(function: Value) -> Scenario {
        let text = json!({ "name": "t", "topic": { "partitions": 4 }, "function": function });
        parse_scenario("t.json".as_ref(), &text.to_string(), &[]).unwrap().scenario
    }

    #[test]
    fn provisioned_concurrency_and_snapstart_deploy_on_the_alias() {
        let base = with_function(json!({ "runtime": "java21" }));
        let winner = with_function(json!({ "runtime": "java21", "provisioned_concurrency": 5 }));
        let v = settings(&base, &winner, &["function.provisioned_concurrency"]);
        assert_eq!(
            v["commands"],
            json!([
                "VERSION=$(aws lambda publish-version --function-name \"$FUNCTION_NAME\" --query Version --output text)",
                "aws lambda update-alias --function-name \"$FUNCTION_NAME\" --name \"$ALIAS\" --function-version \"$VERSION\"",
                "aws lambda put-provisioned-concurrency-config --function-name \"$FUNCTION_NAME\" --qualifier \"$ALIAS\" \
                 --provisioned-concurrent-executions 5"
            ])
        );
        assert_eq!(v["scenario_sets"], json!(["function.provisioned_concurrency=5"]));
        // 0 removes the configuration.
        let v = settings(&winner, &base, &["function.provisioned_concurrency"]);
        let last = v["commands"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            last,
            "aws lambda delete-provisioned-concurrency-config --function-name \"$FUNCTION_NAME\" --qualifier \"$ALIAS\""
        );
        assert_eq!(v["scenario_sets"], json!(["function.provisioned_concurrency=0"]));

        // SnapStart with memory: one update, then wait, publish and move the alias.
        let winner = with_function(json!({ "runtime": "java21", "memory_mb": 1024, "snapstart": true }));
        let v = settings(&base, &winner, &["function.memory_mb", "function.snapstart"]);
        let commands: Vec<&str> = v["commands"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert_eq!(
            commands[0],
            "aws lambda update-function-configuration --function-name \"$FUNCTION_NAME\" --memory-size 1024 \
             --snap-start ApplyOn=PublishedVersions"
        );
        assert_eq!(commands[1], "aws lambda wait function-updated --function-name \"$FUNCTION_NAME\"");
        assert!(commands[2].starts_with("VERSION=$(aws lambda publish-version"));
        assert!(commands[3].starts_with("aws lambda update-alias"));
        assert_eq!(commands.len(), 4);
        assert_eq!(v["scenario_sets"], json!(["function.memory_mb=1024", "function.snapstart=true"]));
        let v = settings(&winner, &base, &["function.snapstart"]);
        assert!(v["commands"][0].as_str().unwrap().ends_with("--snap-start ApplyOn=None"), "{v}");
        assert_eq!(v["scenario_sets"], json!(["function.snapstart=false"]));
    }

    #[test]
    fn a_return_to_the_default_window_needs_a_new_mapping() {
        let base = scenario(json!({ "batching_window": "0s" }));
        let winner = scenario(json!({ "batch_size": 500, "batching_window": "500ms" }));
        let v = settings(&base, &winner, &["esm.batch_size", "esm.batching_window"]);
        let commands: Vec<&str> = v["commands"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert!(commands[0].starts_with("CONSUMER_GROUP_ID=$(aws lambda get-event-source-mapping"));
        assert_eq!(commands[1], "aws lambda delete-event-source-mapping --uuid \"$ESM_UUID\"");
        assert_eq!(
            commands[2],
            "aws lambda create-event-source-mapping --function-name \"$FUNCTION_NAME\" --event-source-arn \
             \"$CLUSTER_ARN\" --topics \"$TOPIC\" --batch-size 500 --starting-position LATEST \
             --amazon-managed-kafka-event-source-config \"ConsumerGroupId=$CONSUMER_GROUP_ID\""
        );
        assert!(v.get("update_event_source_mapping").is_none());
        assert!(v["notes"][0].as_str().unwrap().starts_with("a new mapping is needed: the window returns from 0s"));
        assert_eq!(
            v["scenario_sets"],
            json!(["esm.batch_size=500", "esm.starting_position=LATEST", "esm.batching_window=500ms"])
        );
        // From a 500 ms scenario, the window simply stays.
        let v = settings(&winner, &winner, &["esm.batch_size", "esm.batching_window"]);
        assert_eq!(
            v["commands"],
            json!(["aws lambda update-event-source-mapping --uuid \"$ESM_UUID\" --batch-size 500"])
        );
    }
}
