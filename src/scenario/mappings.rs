//! `mappings`: several event source mappings in one scenario, each reading its own topic into
//! a function (shared or not), in one account (one concurrency pool), with poller groups that
//! pool provisioned pollers for billing.
//!
//! A mapping holds the sections a single-mapping scenario has at its top (`topic`, `producers`,
//! `esm`, `function`, `failures`, `faults`) and a `name`; everything else (`duration`, `seed`,
//! `account`, `pricing`, ...) stays at the top and applies to every mapping. Each mapping is read
//! as the single-mapping scenario it would be on its own, so it is validated by the same rules,
//! and its problems are reported at `mappings.<i>.<path>`.

use super::load::compile_value;
use super::{Scenario, Warning};
use crate::config::{Config, Problem, problem};
use serde_json::{Map, Value};
use std::path::Path;

/// The sections a mapping holds (the rest of a scenario applies to every mapping).
pub const MAPPING_SECTIONS: [&str; 6] = ["topic", "producers", "esm", "function", "failures", "faults"];
/// AWS: a poller group holds at most 100 mappings, whose `MaximumPollers` add up to at most 2,000
/// (API_ProvisionedPollerConfig).
pub const MAX_MAPPINGS_PER_GROUP: usize = 100;
pub const MAX_POLLERS_PER_GROUP: u32 = 2_000;
/// AWS keeps at least this much of the account's concurrency unreserved.
const UNRESERVED_MINIMUM: u32 = 100;

/// One mapping, read and compiled as the scenario it would be alone.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub name: String,
    pub scenario: Scenario,
    pub config: Config,
    /// Mappings with the same index invoke one function (named by `function.name`).
    pub function: usize,
    /// The index of its poller group in [`Mappings::groups`].
    pub group: Option<usize>,
}

/// A scenario with `mappings`.
#[derive(Clone, Debug)]
pub struct Mappings {
    pub name: String,
    pub description: String,
    pub seed: u64,
    /// A short hash of the whole scenario but its seed, name and description.
    pub config_hash: String,
    pub mappings: Vec<Mapping>,
    /// Poller group names, in order of first use.
    pub groups: Vec<String>,
    /// The scenario as read (after `--set`), for the report page.
    pub source: Value,
}

/// Reads a scenario object with `mappings` (after `--set`) into its mappings.
pub fn read(root: &Value, base: &Path, warnings: &mut Vec<Warning>) -> Result<Mappings, Problem> {
    let object = root.as_object().ok_or_else(|| problem("(root)", "a scenario is a JSON object"))?;
    let Some(Value::Array(list)) = object.get("mappings") else {
        return Err(problem("mappings", "must be a list of mappings: [{\"name\": ..., \"topic\": {...}, ...}]"));
    };
    if list.is_empty() {
        return Err(problem("mappings", "is empty; give at least one mapping, or leave `mappings` out"));
    }
    if let Some(section) = MAPPING_SECTIONS.iter().find(|s| object.contains_key(**s)) {
        return Err(problem(
            *section,
            format!("belongs inside each mapping when the scenario has `mappings` (mappings.<i>.{section})"),
        ));
    }
    let mut shared = object.clone();
    shared.remove("mappings");
    let mut mappings: Vec<Mapping> = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let (name, value) = mapping_value(&shared, item, i)?;
        if mappings.iter().any(|m| m.name == name) {
            return Err(problem(
                format!("mappings.{i}.name"),
                format!("{name:?} is used by an earlier mapping; names are unique"),
            ));
        }
        let prefix = |p: Problem| Problem { path: in_mapping(i, &p.path), message: p.message };
        let (scenario, compiled) = compile_value(&value, base).map_err(prefix)?;
        if scenario.function.handler.is_some() {
            return Err(problem(
                format!("mappings.{i}.function.handler"),
                "a real handler runs in a scenario of one mapping only; run this mapping as its own scenario",
            ));
        }
        warnings.extend(compiled.warnings.into_iter().map(|w| Warning { path: in_mapping(i, &w.path), ..w }));
        let mut config = compiled.config;
        config.seed = mapping_seed(config.seed, i);
        mappings.push(Mapping { name, scenario, config, function: 0, group: None });
    }
    align_clocks(&mut mappings);
    let functions = assign_functions(&mut mappings)?;
    check_account(&mappings, &functions)?;
    let groups = assign_groups(&mut mappings)?;
    let first = &mappings[0].scenario;
    Ok(Mappings {
        name: first.name.clone(),
        description: first.description.clone(),
        seed: first.seed,
        config_hash: crate::config_hash_of(root),
        mappings,
        groups,
        source: root.clone(),
    })
}

/// Mapping `i`'s own scenario: the shared fields and its sections. Returns its name too.
fn mapping_value(shared: &Map<String, Value>, item: &Value, i: usize) -> Result<(String, Value), Problem> {
    let at = |field: &str| format!("mappings.{i}.{field}");
    let Value::Object(fields) = item else {
        return Err(problem(format!("mappings.{i}"), "a mapping is an object {\"name\": ..., \"topic\": {...}, ...}"));
    };
    let name = match fields.get("name") {
        Some(Value::String(name)) => name.clone(),
        Some(_) => return Err(problem(at("name"), "must be a string")),
        None => return Err(problem(at("name"), "is missing; each mapping has a name")),
    };
    crate::config::check_identifier(&name, &at("name"), 64)?;
    let mut value = shared.clone();
    for (key, section) in fields {
        if key == "name" {
            continue;
        }
        if !MAPPING_SECTIONS.contains(&key.as_str()) {
            return Err(problem(
                at(key),
                format!("unknown field; a mapping has name, {}", MAPPING_SECTIONS.join(", ")),
            ));
        }
        value.insert(key.clone(), section.clone());
    }
    if !value.contains_key("topic") {
        return Err(problem(at("topic"), "is missing; each mapping reads its own topic"));
    }
    Ok((name, Value::Object(value)))
}

/// A problem of a mapping's own sections is reported inside `mappings.<i>`; one of the shared
/// fields where it is.
fn in_mapping(i: usize, path: &str) -> String {
    let head = path.split('.').next().unwrap_or("");
    if MAPPING_SECTIONS.contains(&head) { format!("mappings.{i}.{path}") } else { path.to_string() }
}

/// The first mapping runs with the scenario's seed (so a one-mapping list runs as the scenario
/// would without `mappings`); each other mapping with its own seed derived from it.
pub fn mapping_seed(seed: u64, index: usize) -> u64 {
    if index == 0 {
        return seed;
    }
    // SplitMix64's finaliser: distinct, well-mixed seeds per mapping.
    let mut z = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One clock for every mapping: t = 0 is the same instant, after the longest backlog reach.
fn align_clocks(mappings: &mut [Mapping]) {
    let origin = mappings.iter().map(|m| m.config.clock.origin_ns).max().unwrap_or(0);
    for m in mappings {
        m.config.clock = m.config.clock.rebased(origin);
    }
}

/// Gives mappings that name the same function one index, and checks that they describe it alike.
/// Returns each function's first mapping.
fn assign_functions(mappings: &mut [Mapping]) -> Result<Vec<usize>, Problem> {
    let mut firsts: Vec<usize> = Vec::new();
    for i in 0..mappings.len() {
        let name = mappings[i].scenario.function.name.clone();
        let same = name.as_ref().and_then(|n| {
            firsts.iter().position(|&f| mappings[f].scenario.function.name.as_deref() == Some(n.as_str()))
        });
        match same {
            Some(index) => {
                let first = firsts[index];
                let (a, b) = (&mappings[first].scenario.function, &mappings[i].scenario.function);
                if serde_json::to_value(a).ok() != serde_json::to_value(b).ok() {
                    return Err(problem(
                        format!("mappings.{i}.function"),
                        format!(
                            "names function {:?}, which mappings.{first} describes differently; mappings that share a function give it the same settings",
                            name.unwrap_or_default()
                        ),
                    ));
                }
                mappings[i].function = index;
            }
            None => {
                mappings[i].function = firsts.len();
                firsts.push(i);
            }
        }
    }
    Ok(firsts)
}

/// Reservations come out of the account's pool, which keeps at least 100 unreserved.
fn check_account(mappings: &[Mapping], firsts: &[usize]) -> Result<(), Problem> {
    let reserved: u32 = firsts.iter().filter_map(|&f| mappings[f].config.function.reserved_concurrency).sum();
    let limit = mappings[0].config.function.account_limit;
    if reserved > limit.saturating_sub(UNRESERVED_MINIMUM) {
        return Err(problem(
            "account.concurrency_limit",
            format!(
                "{limit} leaves less than {UNRESERVED_MINIMUM} unreserved: the mappings' functions reserve {reserved} together; AWS keeps {UNRESERVED_MINIMUM} unreserved"
            ),
        ));
    }
    Ok(())
}

/// Numbers the poller groups and checks AWS's limits on each.
fn assign_groups(mappings: &mut [Mapping]) -> Result<Vec<String>, Problem> {
    let mut groups: Vec<String> = Vec::new();
    for i in 0..mappings.len() {
        let Some(name) = mappings[i].scenario.esm.scaling.poller_group.clone() else { continue };
        let index = groups.iter().position(|g| *g == name).unwrap_or_else(|| {
            groups.push(name.clone());
            groups.len() - 1
        });
        mappings[i].group = Some(index);
        let members: Vec<usize> = (0..=i).filter(|&m| mappings[m].group == Some(index)).collect();
        let at = format!("mappings.{i}.esm.scaling.poller_group");
        if members.len() > MAX_MAPPINGS_PER_GROUP {
            return Err(problem(
                at,
                format!(
                    "group {name:?} would have {} mappings; AWS allows at most {MAX_MAPPINGS_PER_GROUP}",
                    members.len()
                ),
            ));
        }
        // AWS's limit is on the MaximumPollers settings (before any cap at the partition count).
        let pollers: u32 = members.iter().map(|&m| mappings[m].scenario.esm.scaling.max_pollers.unwrap_or(200)).sum();
        if pollers > MAX_POLLERS_PER_GROUP {
            return Err(problem(
                format!("mappings.{i}.esm.scaling.max_pollers"),
                format!(
                    "brings group {name:?} to {pollers} maximum pollers; AWS allows at most {MAX_POLLERS_PER_GROUP} in a group"
                ),
            ));
        }
        let interval = |m: usize| mappings[m].config.esm.scaling.pollers().map_or(0, |p| p.evaluation_interval_ns);
        if interval(i) != interval(members[0]) {
            return Err(problem(
                format!("mappings.{i}.esm.scaling.evaluation_interval"),
                format!(
                    "differs from mappings.{}'s in group {name:?}; a group's mappings share one evaluation interval (its EPU billing window)",
                    members[0]
                ),
            ));
        }
    }
    Ok(groups)
}
