//! The discrete-event core: integer time, an event queue that keeps insertion order for equal
//! times, seeded random streams, and cache prefetch hints. Nothing here knows about Kafka or
//! Lambda.

mod calendar;
mod prefetch;
mod queue;
mod rng;
mod time;

pub use calendar::Calendar;
pub use prefetch::{prefetch, prefetch_slice, prefetch_value};
pub use queue::EventQueue;
pub use rng::{RngStream, StreamId, mix64, mix64_more, stream, unit_bound, unit_f64};
pub use time::{NS_PER_MS, NS_PER_SEC, NS_PER_US, SimTime, format_duration, parse_duration};
