//! Axis ranges, tick positions and tick labels. Plotters' own tick choice for log axes labels
//! every intermediate value and crowds the axis, so every chart takes its ticks from here and
//! hands them to plotters as fixed key points. A log axis is drawn as a linear axis over
//! `log10(value)`, which keeps one coordinate type for both scales.

/// The smallest and largest value of some data, if there are any.
pub type Extent = Option<(f64, f64)>;

/// `extent` grown to include `value`.
pub fn widen(extent: Extent, value: f64) -> Extent {
    Some(extent.map_or((value, value), |(lo, hi)| (lo.min(value), hi.max(value))))
}

/// How values map onto an axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Linear,
    /// Base 10; values ≤ 0 cannot be shown and are left out (as gaps).
    Log,
}

/// Where an axis starts and ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bounds {
    /// The data's extent, widened to the nearest ticks.
    Data,
    /// From 0 (or the data's minimum if negative) to the data's maximum, widened to the nearest
    /// tick; counts and rates read best from a zero baseline. Treated as `Data` on a log axis.
    FromZero,
    /// Exactly these values (in data units, not logarithms).
    Fixed(f64, f64),
}

/// The fraction added above the data's maximum on a `FromZero` axis.
const HEADROOM: f64 = 0.04;

/// One axis of a chart: its label (with units), scale and bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub label: String,
    pub scale: Scale,
    pub bounds: Bounds,
    /// A fixed tick spacing for a linear axis (time reads best in steps of 15 or 30, which
    /// the 1-2-5 rule never picks); `None` chooses one.
    pub tick_step: Option<f64>,
}

impl Axis {
    pub fn linear(label: impl Into<String>, bounds: Bounds) -> Self {
        Axis { label: label.into(), scale: Scale::Linear, bounds, tick_step: None }
    }

    pub fn log(label: impl Into<String>) -> Self {
        Axis { label: label.into(), scale: Scale::Log, bounds: Bounds::Data, tick_step: None }
    }

    pub fn with_tick_step(self, step: f64) -> Self {
        Axis { tick_step: Some(step).filter(|s| *s > 0.0), ..self }
    }

    /// The value as drawn: its logarithm on a log axis; `None` if it cannot be drawn.
    pub fn project(&self, value: f64) -> Option<f64> {
        match self.scale {
            _ if !value.is_finite() => None,
            Scale::Linear => Some(value),
            Scale::Log if value > 0.0 => Some(value.log10()),
            Scale::Log => None,
        }
    }

    /// The drawn range and the ticks in it (both in drawn units), for data spanning
    /// `data_min..=data_max` (data units; `None` when there is no data).
    pub fn layout(&self, extent: Extent, max_ticks: usize) -> Layout {
        match self.scale {
            Scale::Linear => self.linear_layout(extent, max_ticks),
            Scale::Log => self.log_layout(extent, max_ticks),
        }
    }

    fn linear_layout(&self, extent: Extent, max_ticks: usize) -> Layout {
        let (lo, hi) = match (self.bounds, extent) {
            (Bounds::Fixed(lo, hi), _) => {
                let step = self.tick_step.unwrap_or_else(|| tick_step(lo, hi, max_ticks));
                return Layout::fixed(lo, hi, ticks_every(lo, hi, step));
            }
            (_, None) => (0.0, 1.0),
            // Headroom, so a maximum that falls on a tick does not run along the frame.
            (Bounds::FromZero, Some((lo, hi))) => (lo.min(0.0), hi.max(0.0) * (1.0 + HEADROOM)),
            (_, Some(extent)) => extent,
        };
        // A flat series still needs a non-empty range: widen around its value.
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else if lo == 0.0 {
            (0.0, 1.0)
        } else {
            (lo - lo.abs(), hi + hi.abs())
        };
        let step = self.tick_step.unwrap_or_else(|| tick_step(lo, hi, max_ticks));
        // The tolerance keeps a bound already on a tick (0, say) from widening by a whole step.
        let (lo, hi) = ((lo / step + 1e-9).floor() * step, (hi / step - 1e-9).ceil() * step);
        Layout { min: lo, max: hi, ticks: ticks_every(lo, hi, step) }
    }

    fn log_layout(&self, extent: Extent, max_ticks: usize) -> Layout {
        let (lo, hi) = match (self.bounds, extent) {
            (Bounds::Fixed(lo, hi), _) => (lo, hi),
            (_, Some((lo, hi))) if lo > 0.0 => (lo, hi),
            _ => (1.0, 10.0),
        };
        let candidates = log_candidates(lo, hi, max_ticks);
        let below = candidates.iter().copied().rfind(|&c| c <= lo * (1.0 + 1e-9)).unwrap_or(lo);
        let above = candidates.iter().copied().find(|&c| c >= hi * (1.0 - 1e-9)).unwrap_or(hi);
        let (lo, hi) = if matches!(self.bounds, Bounds::Fixed(..)) { (lo, hi) } else { (below, above) };
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo / 10.0, hi * 10.0) };
        let ticks = candidates.into_iter().filter(|&c| c >= lo * (1.0 - 1e-9) && c <= hi * (1.0 + 1e-9));
        Layout { min: lo.log10(), max: hi.log10(), ticks: ticks.map(f64::log10).collect() }
    }

    /// The label of a tick at drawn position `drawn`.
    pub fn tick_label(&self, drawn: f64, layout: &Layout) -> String {
        match self.scale {
            Scale::Linear => format_tick(drawn, layout.step(), layout.min.abs().max(layout.max.abs())),
            Scale::Log => format_log_tick(10f64.powf(drawn)),
        }
    }
}

/// An axis's drawn range and ticks.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub min: f64,
    pub max: f64,
    pub ticks: Vec<f64>,
}

impl Layout {
    fn fixed(min: f64, max: f64, ticks: Vec<f64>) -> Self {
        Layout { min, max, ticks }
    }

    /// The distance between neighbouring ticks, which decides how many decimals labels need.
    fn step(&self) -> f64 {
        self.ticks.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min)
    }
}

/// A 1, 2, 2.5 or 5 × 10^k step giving at most `max_ticks` ticks over `lo..=hi`.
fn tick_step(lo: f64, hi: f64, max_ticks: usize) -> f64 {
    let raw = (hi - lo) / max_ticks.saturating_sub(1).max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// Multiples of a round step inside `lo..=hi`, at most `max_ticks` of them.
pub fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    if hi <= lo || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    ticks_every(lo, hi, tick_step(lo, hi, max_ticks))
}

fn ticks_every(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    // Multiplying the index (rather than adding steps) keeps labels like 0.3 exact; `+ 0.0`
    // turns -0 into 0.
    (first..=last).map(|i| i as f64 * step + 0.0).collect()
}

/// Round values for a log axis over `lo..hi`: every decade, with 2 and 5 between when the axis
/// spans few decades, and every other decade when it spans too many for `max_ticks`.
fn log_candidates(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    let first = lo.log10().floor() as i32 - 1;
    let last = hi.log10().ceil() as i32 + 1;
    let decades = (hi / lo).log10();
    let (mantissas, every): (&[f64], i32) = if decades * 3.0 <= max_ticks as f64 {
        (&[1.0, 2.0, 5.0], 1)
    } else {
        (&[1.0], (decades / max_ticks.max(1) as f64).ceil().max(1.0) as i32)
    };
    (first..=last)
        .filter(|k| k.rem_euclid(every) == 0)
        .flat_map(|k| mantissas.iter().map(move |m| m * 10f64.powi(k)))
        .collect()
}

/// A short tick label: `0`, `2.5`, `750`, `15k`, `600k`, `1.25M`. `step` is the tick spacing
/// (0 when unknown), so neighbouring labels never round to the same text; `magnitude` (the
/// largest value on the axis) picks one suffix for all of an axis's labels.
pub fn format_tick(value: f64, step: f64, magnitude: f64) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    // Below 10,000 plain numbers are short enough and avoid labels like 2.5k.
    let (divisor, suffix) = suffix_for(magnitude, 1e4);
    let scaled = value / divisor;
    let scaled_step = step / divisor;
    let decimals = if scaled_step > 0.0 && scaled_step.is_finite() {
        (-scaled_step.log10().floor()).clamp(0.0, 6.0) as usize + usize::from(is_half_step(scaled_step))
    } else {
        significant_decimals(scaled, 3)
    };
    trimmed(scaled, decimals) + suffix
}

/// A value on its own (a heatmap cell, say), to 3 significant digits: `0.0123`, `1400`, `12.3k`.
pub fn format_value(value: f64) -> String {
    format_tick(value, 0.0, value)
}

/// A log axis's label: each stands alone (`200`, `1k`, `50k`, `2M`), with `k` from 1000 up.
pub fn format_log_tick(value: f64) -> String {
    let (divisor, suffix) = suffix_for(value, 1e3);
    trimmed(value / divisor, significant_decimals(value / divisor, 3)) + suffix
}

fn suffix_for(magnitude: f64, thousands_from: f64) -> (f64, &'static str) {
    match magnitude.abs() {
        m if m >= 1e9 => (1e9, "G"),
        m if m >= 1e6 => (1e6, "M"),
        m if m >= thousands_from => (1e3, "k"),
        _ => (1.0, ""),
    }
}

/// `value` with at most `decimals` decimals, without trailing zeros.
fn trimmed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

/// Steps such as 0.25 or 2.5 need one decimal more than their magnitude suggests.
fn is_half_step(step: f64) -> bool {
    let mantissa = step / 10f64.powf(step.log10().floor());
    (mantissa - 2.5).abs() < 1e-6
}

/// Decimals needed to show `value` with `digits` significant digits.
fn significant_decimals(value: f64, digits: i32) -> usize {
    if value == 0.0 {
        return 0;
    }
    (digits - 1 - value.abs().log10().floor() as i32).clamp(0, 6) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_and_bounded() {
        assert_eq!(nice_ticks(0.0, 60.0, 8), vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
        assert_eq!(nice_ticks(0.0, 1.0, 6), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert!(nice_ticks(0.0, 603_353.0, 7).len() <= 7);
    }

    #[test]
    fn from_zero_widens_to_the_next_tick() {
        let layout = Axis::linear("lag", Bounds::FromZero).layout(Some((10.0, 603_353.0)), 8);
        assert_eq!(layout.min, 0.0);
        assert_eq!(layout.max, 700_000.0);
        assert_eq!(layout.ticks.len(), 8);
        assert_eq!(layout.ticks.last(), Some(&700_000.0));
    }

    #[test]
    fn flat_and_empty_data_still_have_a_range() {
        let axis = Axis::linear("errors", Bounds::FromZero);
        let layout = axis.layout(Some((0.0, 0.0)), 6);
        assert_eq!((layout.min, layout.max), (0.0, 1.0));
        let layout = axis.layout(None, 6);
        assert_eq!((layout.min, layout.max), (0.0, 1.0));
    }

    #[test]
    fn fixed_bounds_are_kept() {
        let layout = Axis::linear("time (min)", Bounds::Fixed(0.0, 60.0)).layout(Some((1.0, 59.0)), 8);
        assert_eq!((layout.min, layout.max), (0.0, 60.0));
        assert_eq!(layout.ticks.len(), 7);
        let layout = Axis::linear("time (s)", Bounds::Fixed(0.0, 240.0)).with_tick_step(30.0).layout(None, 11);
        assert_eq!(layout.ticks, [0.0, 30.0, 60.0, 90.0, 120.0, 150.0, 180.0, 210.0, 240.0]);
    }

    #[test]
    fn log_ticks_span_the_data_in_round_values() {
        let axis = Axis::log("latency (ms)");
        let layout = axis.layout(Some((535.0, 84_607.0)), 8);
        let labels: Vec<String> = layout.ticks.iter().map(|&t| axis.tick_label(t, &layout)).collect();
        assert_eq!(labels, ["500", "1k", "2k", "5k", "10k", "20k", "50k", "100k"]);
        assert_eq!(axis.project(0.0), None);
    }

    #[test]
    fn log_ticks_thin_out_over_many_decades() {
        let axis = Axis::log("x");
        let layout = axis.layout(Some((150.0, 1.7e6)), 8);
        let labels: Vec<String> = layout.ticks.iter().map(|&t| axis.tick_label(t, &layout)).collect();
        assert_eq!(labels, ["100", "1k", "10k", "100k", "1M", "10M"]);
        let layout = axis.layout(Some((1.0, 1e9)), 6);
        assert!(layout.ticks.len() <= 7, "{:?}", layout.ticks);
        assert!(layout.ticks.iter().all(|t| t.fract().abs() < 1e-9), "decades only");
    }

    #[test]
    fn tick_labels_are_short_and_distinct() {
        assert_eq!(format_tick(0.0, 100_000.0, 700_000.0), "0");
        assert_eq!(format_tick(600_000.0, 100_000.0, 700_000.0), "600k");
        assert_eq!(format_tick(5_000.0, 5_000.0, 15_000.0), "5k");
        assert_eq!(format_tick(1_250_000.0, 250_000.0, 2e6), "1.25M");
        assert_eq!(format_tick(2.5, 2.5, 10.0), "2.5");
        assert_eq!(format_tick(7_500.0, 2_500.0, 7_500.0), "7500");
        assert_eq!(format_tick(0.3, 0.1, 1.0), "0.3");
        assert_eq!(format_tick(84_607.0, 0.0, 84_607.0), "84.6k");
    }
}
