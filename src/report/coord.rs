//! A plotters coordinate over `f64` whose ticks are fixed by [`Layout`]. Plotters' own `f64`
//! coordinate chooses its ticks itself, and its key-point wrapper loses the formatting that
//! `configure_mesh` needs, so charts use this one.

use super::axis::Layout;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use std::ops::Range;

#[derive(Clone, Debug)]
pub struct Ticked {
    min: f64,
    max: f64,
    ticks: Vec<f64>,
}

impl From<&Layout> for Ticked {
    fn from(layout: &Layout) -> Self {
        Ticked { min: layout.min, max: layout.max, ticks: layout.ticks.clone() }
    }
}

impl Ranged for Ticked {
    // Labels always come from a formatter the chart passes in; this default is never shown.
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (from_px, to_px): (i32, i32)) -> i32 {
        let fraction = if self.max > self.min { (value - self.min) / (self.max - self.min) } else { 0.5 };
        from_px + (fraction * f64::from(to_px - from_px)).round() as i32
    }

    /// Only the fixed ticks, and no light grid lines between them.
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> Range<f64> {
        self.min..self.max
    }
}
