//! `esmsim calibrate`: fit the model to what the user measured and write a scenario patch.
//! Today: `--durations` (the function's duration model and cold-start init). The autoscaling
//! fit against an observed `OffsetLag` series is not built yet (README, Known limitations).

pub mod durations;
