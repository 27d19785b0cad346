//! The simulated world: a topic and its producers, the event source mapping, the function,
//! failures and prices.

pub mod backlog;
pub mod destination;
pub mod esm;
pub mod failures;
pub mod function;
pub mod handler;
pub mod pricing;
pub mod producer;
pub mod record;
pub mod topic;
