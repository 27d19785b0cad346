//! The records already in the topic at t = 0, as far as the consumer will read them.

use super::producer::{Arrival, PayloadRule};
use crate::engine::SimTime;
use crate::scenario::{Scenario, StartingPosition};

/// How far before t = 0 the consumer starts reading: the backlog it will consume (capped by
/// retention: older records no longer exist). `LATEST` reads none of it.
pub fn reach_ns(s: &Scenario) -> SimTime {
    let Some(backlog) = &s.topic.backlog else { return 0 };
    let reach = match s.esm.starting_position {
        StartingPosition::Latest => 0,
        StartingPosition::TrimHorizon => backlog.span.ns(),
        StartingPosition::AtTimestamp => s.esm.starting_position_age.map_or(0, |age| age.ns()).min(backlog.span.ns()),
    };
    reach.min(s.topic.retention.ns())
}

/// The backlog records the consumer will read, in time order, on a clock whose t = 0 lies at
/// `origin_ns`: `records` per partition evenly spaced over `span` before it, keeping those
/// within `reach_ns` of it.
pub fn arrivals(s: &Scenario, origin_ns: SimTime, reach_ns: SimTime, payload: PayloadRule) -> Vec<Arrival> {
    let Some(backlog) = &s.topic.backlog else { return vec![] };
    if reach_ns == 0 || backlog.records == 0 {
        return vec![];
    }
    let gap = backlog.span.ns() as f64 / backlog.records as f64;
    let bytes = payload.payload_bytes(0, backlog.record_bytes);
    let mut out = Vec::new();
    for k in 0..backlog.records {
        let before_origin = backlog.span.ns() as f64 - k as f64 * gap;
        if before_origin > reach_ns as f64 {
            continue;
        }
        let time_ns = origin_ns - before_origin.round() as SimTime;
        for partition in 0..s.topic.partitions {
            out.push(Arrival { time_ns, partition, payload_bytes: bytes });
        }
    }
    out
}
