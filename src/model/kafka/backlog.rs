//! The records already in the topic at t = 0, as far as the consumer will read them.

use crate::config::TopicConfig;
use crate::engine::SimTime;
use crate::model::producer::{Arrival, PayloadRule};

/// The backlog records the consumer will read, in time order, on a clock whose t = 0 lies at
/// `origin_ns`: `records` per partition evenly spaced over `span` before it, keeping those
/// within the backlog's reach of it.
pub fn arrivals(topic: &TopicConfig, origin_ns: SimTime, payload: PayloadRule) -> Vec<Arrival> {
    let Some(backlog) = &topic.backlog else { return vec![] };
    if backlog.reach_ns == 0 || backlog.records == 0 {
        return vec![];
    }
    let gap = backlog.span_ns as f64 / backlog.records as f64;
    let bytes = payload.payload_bytes(0, backlog.record_bytes);
    let mut out = Vec::new();
    for k in 0..backlog.records {
        let before_origin = backlog.span_ns as f64 - k as f64 * gap;
        if before_origin > backlog.reach_ns as f64 {
            continue;
        }
        let time_ns = origin_ns - before_origin.round() as SimTime;
        for partition in 0..topic.partitions {
            out.push(Arrival { time_ns, partition, payload_bytes: bytes, stored_bytes: backlog.record_bytes });
        }
    }
    out
}
