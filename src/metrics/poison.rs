//! The story of each poison record that caused a failure: when it first failed, when bisect
//! isolated it, how and when it was resolved, and how much traffic queued behind it.

use crate::engine::SimTime;
use serde::Serialize;
use std::collections::BTreeMap;

/// How a record's story ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Succeeded,
    #[serde(rename = "destination")]
    ToDestination,
    Discarded,
    LostToRetention,
    /// Matched no filter of `esm.filter_criteria`; committed with the batch after it.
    FilteredOut,
}

/// One entry of `summary.json`'s `poison_pills`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PoisonPill {
    pub partition: u32,
    pub offset: u64,
    pub first_failure_s: f64,
    /// When it was first delivered alone (bisect down to one record), if ever.
    pub isolated_s: Option<f64>,
    pub resolved_s: Option<f64>,
    /// `succeeded`, `destination`, `discarded`, `lost_to_retention` or `unresolved`.
    pub outcome: String,
    /// Failed invocations it caused.
    pub attempts: u64,
    /// The most records of its partition waiting behind it at one of its failures.
    pub max_blocked_records: u64,
}

#[derive(Clone, Debug, Default)]
struct Story {
    first_failure_ns: SimTime,
    isolated_ns: Option<SimTime>,
    resolved: Option<(SimTime, Resolution)>,
    attempts: u64,
    max_blocked: u64,
}

#[derive(Debug, Default)]
pub struct PoisonPills {
    stories: BTreeMap<(u32, u64), Story>,
}

impl PoisonPills {
    pub fn is_empty(&self) -> bool {
        self.stories.is_empty()
    }

    /// The poison record caused a failed invocation at `now`, with `blocked` records behind it.
    pub fn failed(&mut self, partition: u32, offset: u64, now: SimTime, blocked: u64) {
        let story = self
            .stories
            .entry((partition, offset))
            .or_insert_with(|| Story { first_failure_ns: now, ..Default::default() });
        story.attempts += 1;
        story.max_blocked = story.max_blocked.max(blocked);
    }

    /// The record was delivered alone at `now` (only recorded once it has failed).
    pub fn delivered_alone(&mut self, partition: u32, offset: u64, now: SimTime) {
        if let Some(story) = self.stories.get_mut(&(partition, offset)) {
            story.isolated_ns.get_or_insert(now);
        }
    }

    /// Offsets `start..end` of `partition` were resolved at `now`.
    pub fn resolved(&mut self, partition: u32, start: u64, end: u64, how: Resolution, now: SimTime) {
        for (_, story) in self.stories.range_mut((partition, start)..(partition, end)) {
            story.resolved.get_or_insert((now, how));
        }
    }

    /// The stories, with times measured from `origin_ns` (the scenario's t = 0).
    pub fn summary(&self, origin_ns: SimTime) -> Vec<PoisonPill> {
        let seconds = |ns: SimTime| ns.saturating_sub(origin_ns) as f64 / 1e9;
        self.stories
            .iter()
            .map(|(&(partition, offset), s)| PoisonPill {
                partition,
                offset,
                first_failure_s: seconds(s.first_failure_ns),
                isolated_s: s.isolated_ns.map(seconds),
                resolved_s: s.resolved.map(|(t, _)| seconds(t)),
                outcome: match s.resolved {
                    None => "unresolved".into(),
                    Some((_, how)) => serde_json::to_value(how).expect("enum").as_str().expect("string").to_string(),
                },
                attempts: s.attempts,
                max_blocked_records: s.max_blocked,
            })
            .collect()
    }
}
