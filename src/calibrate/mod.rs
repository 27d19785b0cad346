//! `esmsim calibrate`: fit the model to what the user measured and write a scenario patch:
//! `--durations` (the function's duration model and cold-start init) and `--observed` (the
//! ASSUMED autoscaling parameters against an observed `OffsetLag` series).

pub mod autoscaling;
pub mod durations;
pub mod observation;
