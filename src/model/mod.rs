//! The simulated world: a topic and its producers, the event source mapping, the function,
//! failures and prices.

pub mod account;
pub mod esm;
pub mod exp_draw;
pub mod failures;
pub mod function;
pub mod handler;
pub mod kafka;
pub mod partition_streams;
pub mod pricing;
pub mod producer;
pub mod record;
pub mod runtime_api;
pub mod value;
pub mod value_samples;

// Kafka's modules keep their old paths too.
pub use kafka::{backlog, destination, topic};
