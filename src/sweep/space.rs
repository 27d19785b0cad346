//! `tune`'s default search space, when no `--grid` is given. Discrete values spread over each of
//! AWS's ranges, roughly geometrically, since the effects of these settings are multiplicative:
//!
//! | setting | values |
//! |---|---|
//! | `esm.batch_size` (1–10,000) | 1, 10, 100, 500, 1000, 5000, 10000 |
//! | `esm.batching_window` (0–300 s) | 0s, 500ms (Kafka's default), 1s, 5s, 30s, 300s |
//! | `function.memory_mb` (128–10,240) | 128, 512, 1024, 1769 (1 vCPU), 3008, 10240 — only when `function.duration.reference_memory_mb` is set; otherwise durations do not depend on memory and more memory only costs more |
//! | `esm.scaling.min_pollers` (1–200) | 1, 2, 5, 10, 20, 50, 100, 200 up to the partition count and `max_pollers`, plus the partition count — only in `provisioned` mode |
//! | `function.provisioned_concurrency` | 0, N/2 (rounded up), N, 2N for the scenario's N, up to the reservation (or the account limit less 100) — only when the scenario sets N > 0 |
//! | `function.snapstart` | off, and the scenario's setting — only when the scenario turns SnapStart on |

use super::grid::{Dimension, Grid};
use crate::scenario::{ScalingMode, Scenario};

pub const BATCH_SIZES: [u32; 7] = [1, 10, 100, 500, 1000, 5000, 10_000];
pub const WINDOWS: [&str; 6] = ["0s", "500ms", "1s", "5s", "30s", "300s"];
pub const MEMORY_MB: [u32; 6] = [128, 512, 1024, 1769, 3008, 10_240];
pub const MIN_POLLERS: [u32; 8] = [1, 2, 5, 10, 20, 50, 100, 200];

/// The default space for a scenario, and notes on the dimensions left out.
pub fn default_space(s: &Scenario) -> (Grid, Vec<String>) {
    let numbers = |values: &[u32]| values.iter().map(u32::to_string).collect::<Vec<_>>();
    let mut dimensions = vec![
        Dimension { path: "esm.batch_size".into(), values: numbers(&BATCH_SIZES) },
        Dimension { path: "esm.batching_window".into(), values: WINDOWS.map(String::from).to_vec() },
    ];
    let mut notes = Vec::new();
    if s.function.duration.reference_memory_mb.is_some() {
        dimensions.push(Dimension { path: "function.memory_mb".into(), values: numbers(&MEMORY_MB) });
    } else {
        notes.push(
            "function.memory_mb is not searched: without function.duration.reference_memory_mb durations do not \
             depend on memory"
                .to_string(),
        );
    }
    if s.esm.scaling.mode == ScalingMode::Provisioned {
        let cap = s.topic.partitions.min(s.esm.scaling.max_pollers.unwrap_or(200));
        let mut pollers: Vec<u32> = MIN_POLLERS.iter().copied().filter(|&n| n <= cap).collect();
        if !pollers.contains(&cap) {
            pollers.push(cap);
        }
        dimensions.push(Dimension { path: "esm.scaling.min_pollers".into(), values: numbers(&pollers) });
    } else {
        notes.push("esm.scaling.min_pollers is not searched: the scenario is not in provisioned mode".to_string());
    }
    let n = s.function.provisioned_concurrency;
    if n > 0 {
        let cap = s.function.reserved_concurrency.unwrap_or(s.account.concurrency_limit.saturating_sub(100));
        let mut values: Vec<u32> =
            [0, n.div_ceil(2), n, n.saturating_mul(2)].into_iter().filter(|&v| v <= cap).collect();
        values.dedup();
        dimensions.push(Dimension { path: "function.provisioned_concurrency".into(), values: numbers(&values) });
    }
    if !s.function.snapstart.is_off() {
        let on = serde_json::to_string(&s.function.snapstart).expect("SnapStart serialises");
        dimensions.push(Dimension { path: "function.snapstart".into(), values: vec!["false".into(), on] });
    }
    (Grid { dimensions }, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_scenario;
    use serde_json::json;

    fn paths_and_values(function: serde_json::Value) -> Vec<(String, Vec<String>)> {
        let text = json!({ "name": "t", "topic": { "partitions": 4 }, "function": function }).to_string();
        let s = parse_scenario("t.json".as_ref(), &text, &[]).unwrap().scenario;
        default_space(&s).0.dimensions.into_iter().map(|d| (d.path, d.values)).collect()
    }

    #[test]
    fn provisioned_concurrency_and_snapstart_are_searched_only_when_used() {
        let plain = paths_and_values(json!({}));
        assert!(plain.iter().all(|(p, _)| !p.contains("provisioned_concurrency") && !p.contains("snapstart")));
        // N = 5: 0, ⌈5/2⌉ = 3, 5 and 10; with a reservation of 8, 10 is left out.
        let pc = paths_and_values(json!({ "provisioned_concurrency": 5 }));
        assert_eq!(
            pc.last().unwrap(),
            &("function.provisioned_concurrency".into(), ["0", "3", "5", "10"].iter().map(|v| v.to_string()).collect())
        );
        let capped = paths_and_values(json!({ "provisioned_concurrency": 5, "reserved_concurrency": 8 }));
        assert_eq!(capped.last().unwrap().1, ["0", "3", "5"]);
        let snap = paths_and_values(json!({ "runtime": "java21", "snapstart": true }));
        assert_eq!(
            snap.last().unwrap(),
            &("function.snapstart".into(), vec!["false".into(), r#"{"restore":"200ms"}"#.into()])
        );
    }
}
