//! The heatmap: one value per cell of a grid of two categorical settings (batch size × window →
//! p99 latency, say), coloured on a viridis scale with a colour bar, each cell labelled with its
//! value when it is wide enough to read.

use super::axis::{Axis, Bounds, Extent, Layout, format_value, widen};
use super::canvas::{self, AXIS_LABEL_PX, Chart, DrawError, TICK_PX, palette};
use super::charts::{DEFAULT_SIZE_PX, plot_area};
use super::fonts;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const COLOUR_BAR_PX: u32 = 130;
const COLOUR_BAR_STEPS: usize = 64;
/// Cells narrower than this carry no value label; it would not fit.
const MIN_LABELLED_CELL_PX: i32 = 44;
const MISSING: RGBColor = RGBColor(0xEE, 0xEE, 0xEE);

#[derive(Clone, Debug, PartialEq)]
pub struct HeatMap {
    pub title: String,
    pub x_label: String,
    pub x_categories: Vec<String>,
    pub y_label: String,
    /// From the bottom row up.
    pub y_categories: Vec<String>,
    /// `values[row][column]`, rows as `y_categories`, columns as `x_categories`; `None` is a
    /// cell without data, drawn grey.
    pub values: Vec<Vec<Option<f64>>>,
    /// The colour bar's axis: its label (with units) and scale.
    pub value_axis: Axis,
    pub size_px: (u32, u32),
}

impl HeatMap {
    pub fn new(title: impl Into<String>, x: (&str, Vec<String>), y: (&str, Vec<String>), value_axis: Axis) -> Self {
        let values = vec![vec![None; x.1.len()]; y.1.len()];
        HeatMap {
            title: title.into(),
            x_label: x.0.to_string(),
            x_categories: x.1,
            y_label: y.0.to_string(),
            y_categories: y.1,
            values,
            value_axis,
            size_px: DEFAULT_SIZE_PX,
        }
    }

    /// Sets the value of the cell at (column, row); cells outside the grid are ignored.
    pub fn set(&mut self, column: usize, row: usize, value: f64) {
        if let Some(cell) = self.values.get_mut(row).and_then(|r| r.get_mut(column)) {
            *cell = Some(value);
        }
    }

    fn cells(&self) -> impl Iterator<Item = (usize, usize, Option<f64>)> + '_ {
        let rows = self.values.iter().enumerate().take(self.y_categories.len());
        rows.flat_map(|(row, r)| r.iter().take(self.x_categories.len()).enumerate().map(move |(c, v)| (c, row, *v)))
    }

    fn value_layout(&self) -> Layout {
        let shown = self.cells().filter_map(|(_, _, v)| v.filter(|&v| self.value_axis.project(v).is_some()));
        let extent = shown.fold(None, |e: Extent, v| widen(e, v));
        self.value_axis.layout(extent, 8)
    }
}

/// Viridis, sampled at ten even steps: perceptually uniform and readable in grey and by
/// colour-blind readers.
const VIRIDIS: [(u8, u8, u8); 10] = [
    (0x44, 0x01, 0x54),
    (0x48, 0x28, 0x78),
    (0x3E, 0x4A, 0x89),
    (0x31, 0x68, 0x8E),
    (0x26, 0x82, 0x8E),
    (0x1F, 0x9E, 0x89),
    (0x35, 0xB7, 0x79),
    (0x6D, 0xCD, 0x59),
    (0xB4, 0xDE, 0x2C),
    (0xFD, 0xE7, 0x25),
];

/// The viridis colour at `t` in `0..=1` (clamped).
pub fn viridis(t: f64) -> RGBColor {
    let scaled = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (scaled.floor() as usize).min(VIRIDIS.len() - 2);
    let f = scaled - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Where a value falls on the colour scale, 0 to 1.
fn fraction(axis: &Axis, layout: &Layout, value: f64) -> Option<f64> {
    let drawn = axis.project(value)?;
    let span = layout.max - layout.min;
    Some(if span > 0.0 { (drawn - layout.min) / span } else { 0.5 })
}

/// A category axis: one tick per category at 0, 1, 2, ...; cells span ±0.5 around them.
fn category_layout(count: usize) -> Layout {
    let axis = Axis::linear("", Bounds::Fixed(-0.5, count.max(1) as f64 - 0.5)).with_tick_step(1.0);
    axis.layout(None, count)
}

impl Chart for HeatMap {
    fn size_px(&self) -> (u32, u32) {
        self.size_px
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let body = canvas::frame(root, &self.title, &[])?;
        let (width, _) = body.dim_in_pixel();
        let (grid_area, bar_area) = body.split_horizontally(width.saturating_sub(COLOUR_BAR_PX));
        let values = self.value_layout();
        self.draw_grid(&grid_area, &values)?;
        colour_bar(&bar_area, &self.value_axis, &values)
    }
}

impl HeatMap {
    fn draw_grid<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, values: &Layout) -> Result<(), DrawError> {
        let (xl, yl) = (category_layout(self.x_categories.len()), category_layout(self.y_categories.len()));
        let mut chart = plot_area(area, &xl, &yl)?;
        let name = |names: &[String], v: f64| names.get(v.round() as usize).cloned().unwrap_or_default();
        let (x_format, y_format) = (|v: &f64| name(&self.x_categories, *v), |v: &f64| name(&self.y_categories, *v));
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&x_format)
            .y_label_formatter(&y_format)
            .label_style((fonts::FAMILY, TICK_PX).into_font().color(&palette::GREY))
            .axis_desc_style((fonts::FAMILY, AXIS_LABEL_PX).into_font().color(&BLACK))
            .axis_style(palette::GREY)
            .draw()?;
        let cell_px = chart.backend_coord(&(1.0, 0.0)).0 - chart.backend_coord(&(0.0, 0.0)).0;
        for (column, row, value) in self.cells() {
            let (x, y) = (column as f64, row as f64);
            let t = value.and_then(|v| fraction(&self.value_axis, values, v));
            let fill = t.map_or(MISSING, viridis);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                fill.filled(),
            )))?;
            if cell_px >= MIN_LABELLED_CELL_PX {
                // Dark text on the light end of the scale, white on the dark end.
                let ink = if t.is_some_and(|t| t > 0.6) || t.is_none() { BLACK } else { WHITE };
                let text = value.map_or("–".to_string(), format_value);
                let style = (fonts::FAMILY, TICK_PX).into_font().color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
                chart.draw_series(std::iter::once(Text::new(text, (x, y), style)))?;
            }
        }
        Ok(())
    }
}

/// The colour scale as a vertical bar with the value axis's ticks and label.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    axis: &Axis,
    values: &Layout,
) -> Result<(), DrawError> {
    let mut bar = ChartBuilder::on(area)
        .margin_top(8)
        .margin_bottom(64)
        .margin_right(12)
        .y_label_area_size(88)
        .build_cartesian_2d(0f64..1f64, super::coord::Ticked::from(values))?;
    let format = |v: &f64| axis.tick_label(*v, values);
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(axis.label.as_str())
        .y_label_formatter(&format)
        .label_style((fonts::FAMILY, TICK_PX).into_font().color(&palette::GREY))
        .axis_desc_style((fonts::FAMILY, AXIS_LABEL_PX).into_font().color(&BLACK))
        .axis_style(palette::GREY)
        .draw()?;
    let step = (values.max - values.min) / COLOUR_BAR_STEPS as f64;
    bar.draw_series((0..COLOUR_BAR_STEPS).map(|i| {
        let lo = values.min + step * i as f64;
        Rectangle::new([(0.0, lo), (1.0, lo + step)], viridis((i as f64 + 0.5) / COLOUR_BAR_STEPS as f64).filled())
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> HeatMap {
        let x = ("batch size (records)", vec!["100".into(), "500".into(), "1000".into()]);
        let y = ("batching window", vec!["0 s".into(), "1 s".into()]);
        let mut map = HeatMap::new("p99 latency", x, y, Axis::linear("p99 latency (ms)", Bounds::Data));
        for (column, row, v) in [(0, 0, 120.0), (1, 0, 340.0), (2, 0, 900.0), (0, 1, 1100.0), (1, 1, 1400.0)] {
            map.set(column, row, v);
        }
        map.set(9, 9, 1.0);
        map
    }

    #[test]
    fn viridis_ends_and_clamps() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), RGBColor(0xFD, 0xE7, 0x25));
        assert_eq!(viridis(-1.0), viridis(0.0));
        assert_eq!(viridis(2.0), viridis(1.0));
    }

    #[test]
    fn cells_follow_the_grid_and_missing_ones_stay_empty() {
        let map = grid();
        assert_eq!(map.cells().count(), 6);
        assert_eq!(map.cells().filter(|c| c.2.is_none()).count(), 1);
        assert_eq!(category_layout(3).ticks, [0.0, 1.0, 2.0]);
    }

    #[test]
    fn renders_categories_values_and_colour_bar() {
        let rendered = canvas::render(&grid()).unwrap();
        for text in ["p99 latency", "batch size (records)", "batching window", "1000", "1 s", "p99 latency (ms)", "340"]
        {
            assert!(rendered.svg.contains(text), "{text}");
        }
        assert!(rendered.png.starts_with(b"\x89PNG"));
        let empty = HeatMap::new("empty", ("x", vec![]), ("y", vec![]), Axis::log("v"));
        canvas::render(&empty).unwrap();
    }
}
