//! The line chart: the primitive behind every run chart and, later, sweep charts. A chart is
//! plain data (title, axes, series), so callers build specs and the drawing stays in one place.

use super::axis::{Axis, Extent, Layout, widen};
use super::canvas::{self, AXIS_LABEL_PX, BLOCK_OPACITY, Chart, DrawError, LegendEntry, Marker, TICK_PX, palette};
use super::coord::Ticked;
use super::fonts;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Default chart size: wide enough for an hour at 10 s resolution, small enough to read in a
/// browser without scrolling.
pub const DEFAULT_SIZE_PX: (u32, u32) = (1000, 500);

/// At most this many ticks per axis, so labels never touch.
const MAX_X_TICKS: usize = 11;
const MAX_Y_TICKS: usize = 8;

const DASH_PX: u32 = 9;

/// One named line. A `None` value (or one a log axis cannot show) breaks the line: a gap.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub colour: RGBColor,
    pub points: Vec<(f64, Option<f64>)>,
    /// Drawn dashed, so a series that coincides with a solid one stays visible.
    pub dashed: bool,
}

impl Series {
    pub fn new(name: impl Into<String>, colour: RGBColor, points: impl IntoIterator<Item = (f64, f64)>) -> Self {
        Self::with_gaps(name, colour, points.into_iter().map(|(x, y)| (x, Some(y))))
    }

    pub fn with_gaps(
        name: impl Into<String>,
        colour: RGBColor,
        points: impl IntoIterator<Item = (f64, Option<f64>)>,
    ) -> Self {
        Series { name: name.into(), colour, points: points.into_iter().collect(), dashed: false }
    }

    pub fn dashed(self) -> Self {
        Series { dashed: true, ..self }
    }

    fn marker(&self) -> Marker {
        if self.dashed { Marker::Dashed } else { Marker::Line }
    }

    /// The runs of drawable points, in drawn units (logarithms on a log axis).
    fn segments(&self, x: &Axis, y: &Axis) -> Vec<Vec<(f64, f64)>> {
        let mut segments = vec![Vec::new()];
        for &(px, py) in &self.points {
            match (x.project(px), py.and_then(|py| y.project(py))) {
                (Some(dx), Some(dy)) => segments.last_mut().expect("never empty").push((dx, dy)),
                _ if segments.last().is_some_and(|s| !s.is_empty()) => segments.push(Vec::new()),
                _ => {}
            }
        }
        segments.retain(|s| !s.is_empty());
        segments
    }
}

/// A stretch of the x axis to shade behind the lines: a fault window, the warm-up. With
/// `strip`, only a thin strip along the bottom edge is coloured (the binding limit of each
/// interval), so several kinds of band can share a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub from: f64,
    pub until: f64,
    /// Bands with the same label share one legend entry.
    pub label: String,
    pub colour: RGBColor,
    pub strip: bool,
}

/// How much of a shaded band's colour shows over white: light enough to read lines through it.
const BAND_OPACITY: f64 = 0.14;
/// A strip's height, as a share of the plot's.
const STRIP_SHARE: f64 = 0.05;

#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
    pub bands: Vec<Band>,
    pub size_px: (u32, u32),
}

impl LineChart {
    pub fn new(title: impl Into<String>, x: Axis, y: Axis, series: Vec<Series>) -> Self {
        LineChart { title: title.into(), x, y, series, bands: Vec::new(), size_px: DEFAULT_SIZE_PX }
    }

    pub fn with_bands(self, bands: Vec<Band>) -> Self {
        LineChart { bands, ..self }
    }

    /// Series first, then one entry per band label in first-seen order.
    fn legend(&self) -> Vec<LegendEntry<'_>> {
        let mut legend: Vec<LegendEntry> =
            self.series.iter().map(|s| LegendEntry { name: &s.name, colour: s.colour, marker: s.marker() }).collect();
        for band in &self.bands {
            if !legend.iter().any(|e| e.marker == Marker::Block && e.name == band.label) {
                legend.push(LegendEntry { name: &band.label, colour: band.colour, marker: Marker::Block });
            }
        }
        legend
    }

    /// The extent of the drawable data in data units, per axis.
    fn extents(&self) -> (Extent, Extent) {
        let drawable = self.series.iter().flat_map(|s| &s.points).filter_map(|&(x, y)| {
            let y = y?;
            (self.x.project(x).is_some() && self.y.project(y).is_some()).then_some((x, y))
        });
        drawable.fold((None, None), |(xs, ys), (x, y)| (widen(xs, x), widen(ys, y)))
    }
}

impl Chart for LineChart {
    fn size_px(&self) -> (u32, u32) {
        self.size_px
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let body = canvas::frame(root, &self.title, &self.legend())?;
        let (x_extent, y_extent) = self.extents();
        let (xl, yl) = (self.x.layout(x_extent, MAX_X_TICKS), self.y.layout(y_extent, MAX_Y_TICKS));
        let mut chart = plot_area(&body, &xl, &yl)?;
        draw_mesh(&mut chart, (&self.x, &xl), (&self.y, &yl))?;
        // Behind the lines, clipped to the plot.
        for band in &self.bands {
            let (Some(from), Some(until)) = (self.x.project(band.from), self.x.project(band.until)) else { continue };
            let (from, until) = (from.clamp(xl.min, xl.max), until.clamp(xl.min, xl.max));
            if until <= from {
                continue;
            }
            let (top, opacity) = if band.strip {
                (yl.min + (yl.max - yl.min) * STRIP_SHARE, BLOCK_OPACITY)
            } else {
                (yl.max, BAND_OPACITY)
            };
            let style = band.colour.mix(opacity).filled();
            chart.draw_series(std::iter::once(Rectangle::new([(from, yl.min), (until, top)], style)))?;
        }
        for series in &self.series {
            for segment in series.segments(&self.x, &self.y) {
                // A lone point between gaps would be invisible as a line.
                if let [point] = segment[..] {
                    chart.draw_series(std::iter::once(Circle::new(point, 3, series.colour.filled())))?;
                } else if series.dashed {
                    let style = series.colour.stroke_width(2);
                    chart.draw_series(DashedLineSeries::new(segment, DASH_PX, DASH_PX * 2 / 3, style))?;
                } else {
                    chart.draw_series(LineSeries::new(segment, series.colour.stroke_width(2)))?;
                }
            }
        }
        Ok(())
    }
}

type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<Ticked, Ticked>>;

/// The plotting rectangle, with room for tick labels and axis labels; ticks as the layouts say.
pub(super) fn plot_area<'a, DB: DrawingBackend>(
    body: &'a DrawingArea<DB, Shift>,
    x: &Layout,
    y: &Layout,
) -> Result<Plot<'a, DB>, DrawError> {
    Ok(ChartBuilder::on(body)
        .margin_top(8)
        .margin_left(14)
        .margin_right(36)
        .margin_bottom(6)
        .x_label_area_size(58)
        .y_label_area_size(88)
        .build_cartesian_2d(Ticked::from(x), Ticked::from(y))?)
}

/// Grid lines at the ticks, tick labels, and the axis labels.
pub(super) fn draw_mesh<DB: DrawingBackend>(
    chart: &mut Plot<'_, DB>,
    (x, xl): (&Axis, &Layout),
    (y, yl): (&Axis, &Layout),
) -> Result<(), DrawError> {
    let x_format = |v: &f64| x.tick_label(*v, xl);
    let y_format = |v: &f64| y.tick_label(*v, yl);
    chart
        .configure_mesh()
        .x_desc(x.label.as_str())
        .y_desc(y.label.as_str())
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style((fonts::FAMILY, TICK_PX).into_font().color(&palette::GREY))
        .axis_desc_style((fonts::FAMILY, AXIS_LABEL_PX).into_font().color(&BLACK))
        .bold_line_style(palette::GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(palette::GREY)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::axis::Bounds;

    fn chart(series: Vec<Series>) -> LineChart {
        LineChart::new(
            "Lag",
            Axis::linear("time (min)", Bounds::Data),
            Axis::linear("records", Bounds::FromZero),
            series,
        )
    }

    #[test]
    fn gaps_split_a_series_into_segments() {
        let s = Series::with_gaps(
            "p99",
            palette::BLUE,
            [(0.0, Some(1.0)), (1.0, None), (2.0, Some(3.0)), (3.0, Some(4.0))],
        );
        let axis = Axis::linear("x", Bounds::Data);
        assert_eq!(s.segments(&axis, &axis), vec![vec![(0.0, 1.0)], vec![(2.0, 3.0), (3.0, 4.0)]]);
        assert_eq!(s.segments(&axis, &Axis::log("y")).len(), 2);
    }

    #[test]
    fn log_axis_drops_non_positive_values_from_the_extent() {
        let mut c = chart(vec![Series::new("a", palette::BLUE, [(0.0, 0.0), (1.0, 10.0), (2.0, 1000.0)])]);
        c.y = Axis::log("ms");
        assert_eq!(c.extents(), (Some((1.0, 2.0)), Some((10.0, 1000.0))));
    }

    #[test]
    fn renders_png_and_svg_with_title_and_labels() {
        let c = chart(vec![Series::new("total", palette::BLUE, (0..60).map(|i| (i as f64, (i * i) as f64)))]);
        let rendered = canvas::render(&c).unwrap();
        assert!(rendered.png.starts_with(b"\x89PNG"));
        for text in ["Lag", "time (min)", "records", "total"] {
            assert!(rendered.svg.contains(&format!(">{text}<")) || rendered.svg.contains(text), "{text}");
        }
        assert_eq!(canvas::render_svg(&c).unwrap(), rendered.svg, "deterministic");
    }

    #[test]
    fn empty_and_all_gap_charts_still_render() {
        canvas::render(&chart(vec![])).unwrap();
        canvas::render(&chart(vec![Series::with_gaps("p50", palette::BLUE, [(0.0, None), (1.0, None)])])).unwrap();
    }
}
