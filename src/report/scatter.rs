//! The scatter chart with an optional Pareto front: for tuning sweeps, each point is one
//! configuration (cost against p99 latency, say) and the front joins those no other point beats
//! on both axes.

use super::axis::{Axis, Extent, widen};
use super::canvas::{self, Chart, DrawError, LegendEntry, Marker, palette};
use super::charts::{DEFAULT_SIZE_PX, draw_mesh, plot_area};
use plotters::coord::Shift;
use plotters::prelude::*;

const MAX_X_TICKS: usize = 11;
const MAX_Y_TICKS: usize = 8;
const POINT_RADIUS_PX: i32 = 4;

/// Name of the front in the legend.
pub const FRONT_NAME: &str = "Pareto front (lower is better on both axes)";

/// One named set of points, drawn as dots of one colour.
#[derive(Clone, Debug, PartialEq)]
pub struct PointSet {
    pub name: String,
    pub colour: RGBColor,
    pub points: Vec<(f64, f64)>,
}

impl PointSet {
    pub fn new(name: impl Into<String>, colour: RGBColor, points: impl IntoIterator<Item = (f64, f64)>) -> Self {
        PointSet { name: name.into(), colour, points: points.into_iter().collect() }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scatter {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub sets: Vec<PointSet>,
    /// Join the points of all sets that no other point beats on both axes (both minimised).
    pub pareto_front: bool,
    pub size_px: (u32, u32),
}

impl Scatter {
    pub fn new(title: impl Into<String>, x: Axis, y: Axis, sets: Vec<PointSet>) -> Self {
        Scatter { title: title.into(), x, y, sets, pareto_front: false, size_px: DEFAULT_SIZE_PX }
    }

    pub fn with_pareto_front(self) -> Self {
        Scatter { pareto_front: true, ..self }
    }

    /// Points both axes can show, in data units.
    fn drawable(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let sets = self.sets.iter().flat_map(|s| &s.points).copied();
        sets.filter(|&(x, y)| self.x.project(x).is_some() && self.y.project(y).is_some())
    }

    fn legend(&self) -> Vec<LegendEntry<'_>> {
        let sets = self.sets.iter().map(|s| LegendEntry { name: &s.name, colour: s.colour, marker: Marker::Dot });
        let front = LegendEntry { name: FRONT_NAME, colour: palette::GREY, marker: Marker::Dashed };
        sets.chain(self.pareto_front.then_some(front)).collect()
    }
}

/// The points that no other point beats on both coordinates (lower is better on both), sorted
/// by x. Of equal points one is kept.
pub fn pareto_front(points: impl IntoIterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = points.into_iter().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut front: Vec<(f64, f64)> = Vec::new();
    for point in sorted {
        // Sorted by x, a point is on the front exactly when it is lower than every point before.
        if front.last().is_none_or(|last| point.1 < last.1) {
            front.push(point);
        }
    }
    front
}

impl Chart for Scatter {
    fn size_px(&self) -> (u32, u32) {
        self.size_px
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let body = canvas::frame(root, &self.title, &self.legend())?;
        let (xs, ys) =
            self.drawable().fold((None, None), |(xs, ys): (Extent, Extent), (x, y)| (widen(xs, x), widen(ys, y)));
        let (xl, yl) = (self.x.layout(xs, MAX_X_TICKS), self.y.layout(ys, MAX_Y_TICKS));
        let mut chart = plot_area(&body, &xl, &yl)?;
        draw_mesh(&mut chart, (&self.x, &xl), (&self.y, &yl))?;
        let project = |(x, y): (f64, f64)| Some((self.x.project(x)?, self.y.project(y)?));
        if self.pareto_front {
            // Drawn first, so the dots stay on top of it.
            let front: Vec<(f64, f64)> = pareto_front(self.drawable()).into_iter().filter_map(project).collect();
            chart.draw_series(DashedLineSeries::new(front, 8, 6, palette::GREY.stroke_width(2)))?;
        }
        for set in &self.sets {
            let dots = set.points.iter().filter_map(|&p| project(p));
            chart.draw_series(dots.map(|p| Circle::new(p, POINT_RADIUS_PX, set.colour.filled())))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::axis::Bounds;

    #[test]
    fn front_keeps_only_undominated_points() {
        let points = [(3.0, 1.0), (1.0, 5.0), (2.0, 2.0), (2.5, 2.0), (4.0, 4.0), (1.0, 6.0), (2.0, 2.0)];
        assert_eq!(pareto_front(points), vec![(1.0, 5.0), (2.0, 2.0), (3.0, 1.0)]);
        assert_eq!(pareto_front([]), vec![]);
        assert_eq!(pareto_front([(1.0, f64::NAN), (2.0, 1.0)]), vec![(2.0, 1.0)]);
    }

    #[test]
    fn renders_with_legend_and_front() {
        let chart = Scatter::new(
            "Cost against latency",
            Axis::linear("cost (USD per million records)", Bounds::FromZero),
            Axis::log("p99 latency (ms, log scale)"),
            vec![
                PointSet::new("batch 100", palette::BLUE, [(0.02, 900.0), (0.03, 600.0)]),
                PointSet::new("batch 500", palette::ORANGE, [(0.01, 2500.0), (0.04, 700.0)]),
            ],
        )
        .with_pareto_front();
        let rendered = canvas::render(&chart).unwrap();
        for text in ["Cost against latency", "cost (USD per million records)", "batch 500", FRONT_NAME] {
            assert!(rendered.svg.contains(text), "{text}");
        }
        assert!(rendered.svg.contains("<circle"), "dots");
        assert!(rendered.png.starts_with(b"\x89PNG"));
        canvas::render(&Scatter::new("empty", chart.x.clone(), chart.y.clone(), vec![]).with_pareto_front()).unwrap();
    }
}
