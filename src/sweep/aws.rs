//! The winning configuration as AWS CLI commands and as JSON in the shape of the API's
//! `UpdateEventSourceMapping` and `UpdateFunctionConfiguration` requests (usable with
//! `--cli-input-json`). `$ESM_UUID` and `$FUNCTION_NAME` are left for the shell to fill.

use crate::engine::{NS_PER_MS, NS_PER_SEC};
use crate::scenario::{ScalingMode, Scenario};
use serde_json::{Value, json};

/// The settings, commands and notes for one scenario.
pub fn settings(s: &Scenario) -> Value {
    let mut esm = json!({ "UUID": "$ESM_UUID", "BatchSize": s.esm.batch_size });
    let mut esm_args =
        format!("aws lambda update-event-source-mapping --uuid \"$ESM_UUID\" --batch-size {}", s.esm.batch_size);
    let mut notes = Vec::new();
    let window_ns = s.esm.batching_window.ns();
    if window_ns == 500 * NS_PER_MS {
        notes.push(
            "a 500 ms window is Kafka's default and the API takes whole seconds: leave \
             MaximumBatchingWindowInSeconds unset when creating the mapping"
                .to_string(),
        );
    } else {
        let seconds = (window_ns + NS_PER_SEC / 2) / NS_PER_SEC;
        if seconds * NS_PER_SEC != window_ns {
            notes.push(format!(
                "the API takes whole seconds: the {} window is rounded to {seconds} s",
                s.esm.batching_window
            ));
        }
        esm["MaximumBatchingWindowInSeconds"] = json!(seconds);
        esm_args.push_str(&format!(" --maximum-batching-window-in-seconds {seconds}"));
    }
    match s.esm.scaling.mode {
        ScalingMode::Provisioned => {
            let (min, max) = (s.esm.scaling.min_pollers.unwrap_or(1), s.esm.scaling.max_pollers.unwrap_or(200));
            esm["ProvisionedPollerConfig"] = json!({ "MinimumPollers": min, "MaximumPollers": max });
            esm_args.push_str(&format!(" --provisioned-poller-config MinimumPollers={min},MaximumPollers={max}"));
        }
        ScalingMode::OnDemand => {}
        ScalingMode::ParallelizationFactor => notes.push(
            "the parallelization_factor model has no Kafka setting in AWS: re-tune in on_demand or provisioned mode"
                .to_string(),
        ),
    }
    let memory = s.function.memory_mb;
    let function_args =
        format!("aws lambda update-function-configuration --function-name \"$FUNCTION_NAME\" --memory-size {memory}");
    json!({
        "update_event_source_mapping": esm,
        "update_function_configuration": { "FunctionName": "$FUNCTION_NAME", "MemorySize": memory },
        "commands": [esm_args, function_args],
        "notes": notes,
    })
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
    fn provisioned_settings_become_commands_and_json() {
        let s = scenario(json!({ "batch_size": 500, "batching_window": "2s",
            "scaling": { "mode": "provisioned", "min_pollers": 2, "max_pollers": 4 } }));
        let v = settings(&s);
        assert_eq!(
            v["commands"][0],
            "aws lambda update-event-source-mapping --uuid \"$ESM_UUID\" --batch-size 500 \
             --maximum-batching-window-in-seconds 2 --provisioned-poller-config MinimumPollers=2,MaximumPollers=4"
        );
        assert_eq!(v["update_event_source_mapping"]["ProvisionedPollerConfig"]["MinimumPollers"], 2);
        assert_eq!(v["update_function_configuration"]["MemorySize"], 1024);
        assert!(v["commands"][1].as_str().unwrap().ends_with("--memory-size 1024"));
    }

    #[test]
    fn half_second_window_is_left_to_the_default() {
        let v = settings(&scenario(json!({ "batching_window": "500ms" })));
        assert!(v["update_event_source_mapping"].get("MaximumBatchingWindowInSeconds").is_none());
        assert_eq!(v["notes"].as_array().unwrap().len(), 1);
    }
}
