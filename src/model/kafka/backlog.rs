//! The records already in the topic at t = 0, as far as the consumer will read them.

use crate::config::TopicConfig;
use crate::engine::SimTime;
use crate::model::producer::{Arrival, PayloadRule};

/// The backlog records the consumer will read, in time order, on a clock whose t = 0 lies at
/// `origin_ns`: `records` per partition evenly spaced over `span` before it, keeping those
/// within the backlog's reach of it. An iterator, so that a large backlog is not held twice.
pub fn arrivals(topic: &TopicConfig, origin_ns: SimTime, payload: PayloadRule) -> impl Iterator<Item = Arrival> + '_ {
    let partitions = topic.partitions;
    let bytes = topic.backlog.as_ref().map_or(0, |b| payload.payload_bytes(0, b.record_bytes));
    let stored_bytes = topic.backlog.as_ref().map_or(0, |b| b.record_bytes);
    offsets_before_origin(topic).flat_map(move |before_origin| {
        let time_ns = origin_ns - before_origin;
        (0..partitions).map(move |partition| Arrival {
            time_ns,
            partition,
            payload_bytes: bytes,
            stored_bytes,
            producer: 0,
        })
    })
}

/// How many backlog records the consumer will read, over all partitions.
pub fn count(topic: &TopicConfig) -> u64 {
    offsets_before_origin(topic).count() as u64 * u64::from(topic.partitions)
}

/// How long before t = 0 each backlog offset within reach arrived, oldest first.
fn offsets_before_origin(topic: &TopicConfig) -> impl Iterator<Item = SimTime> + '_ {
    let backlog = topic.backlog.as_ref().filter(|b| b.reach_ns > 0 && b.records > 0);
    let (records, span, reach) = backlog.map_or((0, 0.0, 0.0), |b| (b.records, b.span_ns as f64, b.reach_ns as f64));
    let gap = span / records.max(1) as f64;
    (0..records).filter_map(move |k| {
        let before_origin = span - k as f64 * gap;
        (before_origin <= reach).then(|| before_origin.round() as SimTime)
    })
}
