//! The event source mapping: pollers and batchers, batches, and the batching rules.

pub mod batch;
pub mod batcher;
pub mod bits;
pub mod candidates;
pub mod fenwick;
pub mod fetcher;
pub mod filter;
pub mod planner;
pub mod ranges;
pub mod registry;

pub use batch::{Batch, BatchState, FlushReason, Piece, Running, Segment};
pub use batcher::{BatchRules, Plan};
pub use candidates::{CandidateSet, Visit};
pub use fetcher::{Fetcher, Gate, Waiting};
pub use planner::Planner;
pub use ranges::RangeSet;
