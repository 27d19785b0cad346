//! `FilterCriteria` onto `esm.filter_criteria`, when esmsim can simulate it: every pattern in
//! the syntax the filter model supports, and no setting validation refuses beside a filter
//! (`BisectBatchOnFunctionError`). Otherwise the mapping is imported without it, with a warning
//! that says why, and the criteria are kept in the scenario's description.

use super::Draft;
use crate::error::{Error, Result};
use crate::model::esm::filter::parse_pattern;
use serde_json::{Value, json};

/// Maps `criteria` (the API's `FilterCriteria`, not empty) from `source` onto the draft.
pub fn apply(criteria: &Value, source: &str, draft: &mut Draft) -> Result<()> {
    let shape =
        || Error::field(source, "FilterCriteria", "expected {\"Filters\": [{\"Pattern\": \"<JSON text>\"}, ...]}");
    let filters = criteria.get("Filters").and_then(Value::as_array).ok_or_else(shape)?;
    let mut patterns = Vec::with_capacity(filters.len());
    for filter in filters {
        patterns.push(filter.get("Pattern").and_then(Value::as_str).ok_or_else(shape)?);
    }
    let not_simulated = |draft: &mut Draft, why: String| {
        draft.filter_criteria = Some(criteria.clone());
        draft.warnings.push(format!(
            "{source}: {why}; imported without FilterCriteria (every record reaches the function), kept in the description"
        ));
    };
    for (i, pattern) in patterns.iter().enumerate() {
        if let Err(message) = parse_pattern(pattern) {
            not_simulated(draft, format!("FilterCriteria.Filters.{i}.Pattern: {message}"));
            return Ok(());
        }
    }
    if draft.scenario["esm"]["bisect_batch_on_function_error"] == json!(true) {
        let why = "FilterCriteria is not simulated together with BisectBatchOnFunctionError yet \
                   (esm.filter_criteria with esm.bisect_batch_on_function_error does not validate)";
        not_simulated(draft, why.to_string());
        return Ok(());
    }
    let filters: Vec<Value> = patterns.iter().map(|p| json!({ "Pattern": p })).collect();
    draft.set("esm", "filter_criteria", json!({ "Filters": filters }));
    draft.value_placeholder = true;
    Ok(())
}
