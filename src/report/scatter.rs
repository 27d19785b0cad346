//! The scatter chart with an optional Pareto front: for tuning sweeps, each point is one
//! configuration (cost against p99 latency, say) and the front joins those no other point beats
//! on both axes.

use super::axis::{Axis, Extent, widen};
use super::canvas::{self, Chart, DrawError, LegendEntry, Marker, palette};
use super::charts::{DEFAULT_SIZE_PX, draw_mesh, plot_area};
use super::html::escape;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::cell::RefCell;

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
    /// A tooltip per point (the SVG's `<title>`: the full configuration); empty for none.
    pub labels: Vec<String>,
    /// Ringed, so the answer stands out (tune's best point).
    pub emphasised: bool,
}

impl PointSet {
    pub fn new(name: impl Into<String>, colour: RGBColor, points: impl IntoIterator<Item = (f64, f64)>) -> Self {
        PointSet {
            name: name.into(),
            colour,
            points: points.into_iter().collect(),
            labels: Vec::new(),
            emphasised: false,
        }
    }

    /// Points with their tooltips.
    pub fn labelled(
        name: impl Into<String>,
        colour: RGBColor,
        points: impl IntoIterator<Item = ((f64, f64), String)>,
    ) -> Self {
        let (points, labels) = points.into_iter().unzip();
        PointSet { name: name.into(), colour, points, labels, emphasised: false }
    }

    pub fn emphasised(self) -> Self {
        PointSet { emphasised: true, ..self }
    }
}

/// A bound drawn across the plot: a constraint or SLO on the axis's metric, or a marked value
/// (capacity's knee). In the SVG each guide also gets an invisible `<line class="guide">` with
/// its label as `<title>`, so a browser names it under the pointer and a test can find it.
#[derive(Clone, Debug, PartialEq)]
pub struct Guide {
    /// A line at y = `value` when true, at x = `value` otherwise.
    pub horizontal: bool,
    pub value: f64,
    pub label: String,
    pub colour: RGBColor,
}

impl Guide {
    /// A horizontal line at y = `value` (a bound on the y axis's metric), in vermilion.
    pub fn horizontal(value: f64, label: impl Into<String>) -> Self {
        Guide { horizontal: true, value, label: label.into(), colour: palette::VERMILION }
    }

    /// A vertical line at x = `value` (a bound on the x axis's metric), in vermilion.
    pub fn vertical(value: f64, label: impl Into<String>) -> Self {
        Guide { horizontal: false, value, label: label.into(), colour: palette::VERMILION }
    }

    pub fn coloured(self, colour: RGBColor) -> Self {
        Guide { colour, ..self }
    }
}

/// A drawn guide: both ends in pixels and its label.
type GuideLine = ((i32, i32), (i32, i32), String);

#[derive(Clone, Debug, PartialEq)]
pub struct Scatter {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub sets: Vec<PointSet>,
    /// Join the points of all sets that no other point beats on both axes (both minimised).
    pub pareto_front: bool,
    pub guides: Vec<Guide>,
    pub size_px: (u32, u32),
    /// Where the labelled points landed in pixels, filled by each draw for [`Chart::finish_svg`].
    tooltips: RefCell<Vec<(i32, i32, String)>>,
    /// Where the guides landed in pixels, likewise.
    guide_lines: RefCell<Vec<GuideLine>>,
}

impl Scatter {
    pub fn new(title: impl Into<String>, x: Axis, y: Axis, sets: Vec<PointSet>) -> Self {
        Scatter {
            title: title.into(),
            x,
            y,
            sets,
            pareto_front: false,
            guides: Vec::new(),
            size_px: DEFAULT_SIZE_PX,
            tooltips: RefCell::default(),
            guide_lines: RefCell::default(),
        }
    }

    pub fn with_pareto_front(self) -> Self {
        Scatter { pareto_front: true, ..self }
    }

    pub fn with_guides(self, guides: Vec<Guide>) -> Self {
        Scatter { guides, ..self }
    }

    /// Points both axes can show, in data units.
    fn drawable(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let sets = self.sets.iter().flat_map(|s| &s.points).copied();
        sets.filter(|&(x, y)| self.x.project(x).is_some() && self.y.project(y).is_some())
    }

    fn legend(&self) -> Vec<LegendEntry<'_>> {
        let sets = self.sets.iter().map(|s| LegendEntry { name: &s.name, colour: s.colour, marker: Marker::Dot });
        let front = LegendEntry { name: FRONT_NAME, colour: palette::GREY, marker: Marker::Dashed };
        let guides =
            self.guides.iter().map(|g| LegendEntry { name: &g.label, colour: g.colour, marker: Marker::Dashed });
        sets.chain(self.pareto_front.then_some(front)).chain(guides).collect()
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
        let (mut xs, mut ys) =
            self.drawable().fold((None, None), |(xs, ys): (Extent, Extent), (x, y)| (widen(xs, x), widen(ys, y)));
        // A bound just outside the data still shows, so the reader sees the margin.
        for g in
            self.guides.iter().filter(|g| (if g.horizontal { &self.y } else { &self.x }).project(g.value).is_some())
        {
            if g.horizontal { ys = widen(ys, g.value) } else { xs = widen(xs, g.value) }
        }
        let (xl, yl) = (self.x.layout(xs, MAX_X_TICKS), self.y.layout(ys, MAX_Y_TICKS));
        let mut chart = plot_area(&body, &xl, &yl)?;
        draw_mesh(&mut chart, (&self.x, &xl), (&self.y, &yl))?;
        let project = |(x, y): (f64, f64)| Some((self.x.project(x)?, self.y.project(y)?));
        if self.pareto_front {
            // Drawn first, so the dots stay on top of it.
            let front: Vec<(f64, f64)> = pareto_front(self.drawable()).into_iter().filter_map(project).collect();
            chart.draw_series(DashedLineSeries::new(front, 8, 6, palette::GREY.stroke_width(2)))?;
        }
        let mut guide_lines = self.guide_lines.borrow_mut();
        guide_lines.clear();
        for g in &self.guides {
            let line = if g.horizontal {
                self.y.project(g.value).map(|y| vec![(xl.min, y), (xl.max, y)])
            } else {
                self.x.project(g.value).map(|x| vec![(x, yl.min), (x, yl.max)])
            };
            if let Some(line) = line {
                let ends = (chart.backend_coord(&line[0]), chart.backend_coord(&line[1]));
                guide_lines.push((ends.0, ends.1, g.label.clone()));
                chart.draw_series(DashedLineSeries::new(line, 8, 6, g.colour.stroke_width(2)))?;
            }
        }
        let mut tooltips = self.tooltips.borrow_mut();
        tooltips.clear();
        for set in &self.sets {
            let dots = set.points.iter().filter_map(|&p| project(p));
            chart.draw_series(dots.clone().map(|p| Circle::new(p, POINT_RADIUS_PX, set.colour.filled())))?;
            if set.emphasised {
                let ring = BLACK.stroke_width(2);
                chart.draw_series(dots.map(|p| Circle::new(p, POINT_RADIUS_PX * 2 + 2, ring)))?;
            }
            for (&p, label) in set.points.iter().zip(&set.labels) {
                if let Some(drawn) = project(p) {
                    let (x, y) = chart.backend_coord(&drawn);
                    tooltips.push((x, y, label.clone()));
                }
            }
        }
        Ok(())
    }

    /// Each labelled point and each guide gets an invisible hover target with its label as
    /// `<title>`: a browser shows the full configuration (or the bound) under the pointer, with
    /// no script.
    fn finish_svg(&self, svg: String) -> String {
        let (tooltips, guides) = (self.tooltips.borrow(), self.guide_lines.borrow());
        if tooltips.is_empty() && guides.is_empty() {
            return svg;
        }
        let Some(end) = svg.rfind("</svg>") else { return svg };
        let mut out = String::with_capacity(svg.len() + (tooltips.len() + guides.len()) * 120);
        out.push_str(&svg[..end]);
        for ((x1, y1), (x2, y2), label) in guides.iter() {
            out.push_str(&format!(
                "<line class=\"guide\" x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"#000\" stroke-opacity=\"0\" stroke-width=\"8\"><title>{}</title></line>\n",
                escape(label)
            ));
        }
        if tooltips.is_empty() {
            out.push_str(&svg[end..]);
            return out;
        }
        out.push_str("<g class=\"tooltips\">\n");
        for (x, y, label) in tooltips.iter() {
            let r = POINT_RADIUS_PX + 4;
            out.push_str(&format!(
                "<circle cx=\"{x}\" cy=\"{y}\" r=\"{r}\" fill=\"#000\" fill-opacity=\"0\"><title>{}</title></circle>\n",
                escape(label)
            ));
        }
        out.push_str("</g>\n");
        out.push_str(&svg[end..]);
        out
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
        assert!(!rendered.svg.contains("<title>"), "no labels, no tooltips");
        assert!(rendered.png.starts_with(b"\x89PNG"));
        canvas::render(&Scatter::new("empty", chart.x.clone(), chart.y.clone(), vec![]).with_pareto_front()).unwrap();
    }

    #[test]
    fn labelled_points_get_tooltips_and_guides_a_legend_entry() {
        let points = [((1.0, 10.0), "batch 100 & window 0s".to_string()), ((2.0, 5.0), "batch 500".to_string())];
        let chart = Scatter::new(
            "t",
            Axis::linear("x", Bounds::FromZero),
            Axis::linear("y", Bounds::FromZero),
            vec![PointSet::labelled("configs", palette::BLUE, points).emphasised()],
        )
        .with_guides(vec![Guide::horizontal(20.0, "p99 <= 20")]);
        let svg = canvas::render(&chart).unwrap().svg;
        assert_eq!(svg.matches("<title>").count(), 3, "two points and the guide");
        assert!(svg.contains("<line class=\"guide\"") && svg.contains("<title>p99 &lt;= 20</title>"), "{svg}");
        assert!(svg.contains("<title>batch 100 &amp; window 0s</title>"));
        assert!(svg.contains("p99 &lt;= 20") || svg.contains("p99 <= 20"), "the guide's legend");
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(canvas::render_svg(&chart).unwrap(), svg, "deterministic");
    }
}
