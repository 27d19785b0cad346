//! Sensitivity's `report.html`: the ranking first (the most influential ASSUMED parameters and
//! those that cannot matter), then the table of μ*, μ and σ, then the μ* against σ chart.

use super::sensitivity::SensitivityJson;
use crate::human::number;
use crate::report::study::{StudyPage, Table};

/// Parameters named in the answer.
const NAMED: usize = 3;

fn value(v: Option<f64>) -> String {
    v.map_or("—".to_string(), number)
}

/// The page of a sensitivity study.
pub(super) fn sensitivity_page(json: &SensitivityJson) -> StudyPage {
    let metric = json.metric;
    let moving: Vec<String> = json
        .parameters
        .iter()
        .filter(|r| r.mu_star.is_some_and(|m| m > 0.0))
        .take(NAMED)
        .map(|r| format!("{} (μ* {} over {} – {})", r.parameter, value(r.mu_star), r.low, r.high))
        .collect();
    let still: Vec<&str> = json.parameters.iter().filter(|r| r.mu_star == Some(0.0)).map(|r| r.parameter).collect();
    let mut answer = vec![if moving.is_empty() {
        format!("No ASSUMED parameter moved {metric} across its range.")
    } else {
        format!("Most influential on {metric}: {}.", moving.join(", then "))
    }];
    answer.push(format!("{metric} at the scenario's own values: {}.", value(json.scenario_metric)));
    if !still.is_empty() {
        answer.push(format!("Cannot change {metric} in this scenario (μ* = 0): {}.", still.join(", ")));
    }
    let headers = ["rank", "parameter", "range", "scenario value", "μ*", "μ", "σ"].map(String::from).to_vec();
    let mut table =
        Table::new(format!("Ranking by μ* (the mean size of the change in {metric} over the range)"), headers);
    for r in &json.parameters {
        table.rows.push(vec![
            r.rank.to_string(),
            r.parameter.to_string(),
            format!("{} – {}", r.low, r.high),
            r.scenario_value.clone(),
            value(r.mu_star),
            value(r.mu),
            value(r.sigma),
        ]);
    }
    let mut notes = vec![
        format!("μ*: the mean size of the change in {metric} from one end of a range to the other; μ: its mean with sign (the direction); a σ as large as μ* means the effect depends on the other parameters or is not linear."),
        "Every run uses the same seeds, so an effect is the parameter's and not run-to-run noise; hover over a dot of the chart for its parameter.".into(),
    ];
    if !json.skipped.is_empty() {
        let skipped: Vec<String> = json.skipped.iter().map(|s| format!("{} ({})", s.parameter, s.why)).collect();
        notes.push(format!("Not varied: {}.", skipped.join("; ")));
    }
    let seeds = json.seeds.len();
    StudyPage {
        title: format!("Sensitivity of {metric}: {}", json.scenario),
        meta: format!(
            "Morris elementary effects: {} trajectories × {} points × {seeds} seed{} + the scenario = {} runs · esmsim {}",
            json.trajectories,
            json.parameters.len() + 1,
            if seeds == 1 { "" } else { "s" },
            json.runs,
            env!("CARGO_PKG_VERSION")
        ),
        answer,
        commands: None,
        tables: vec![table],
        notes,
    }
}
