//! One drawing routine per chart, rendered to both PNG and SVG, and the frame every chart
//! shares: a title on top and a legend row under it. The legend sits outside the plot so it never
//! covers data, whatever the data look like.

use super::fonts;
use image::ImageEncoder;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::fmt;

/// Pixel sizes of text; tuned by eye on 1000 × 500 charts.
pub const TITLE_PX: u32 = 24;
pub const AXIS_LABEL_PX: u32 = 18;
pub const TICK_PX: u32 = 16;
const LEGEND_ROW_PX: u32 = 30;
const SWATCH_PX: i32 = 26;

/// Something that can draw itself on any plotters backend.
pub trait Chart {
    /// Width and height in pixels (the SVG's user units).
    fn size_px(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError>;

    /// A last touch to the SVG text after drawing (tooltips plotters cannot express).
    fn finish_svg(&self, svg: String) -> String {
        svg
    }
}

/// A chart failed to draw (a font or backend problem, never the data).
#[derive(Debug)]
pub struct DrawError(pub String);

impl fmt::Display for DrawError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// DrawError itself is not a std error, so this does not overlap `From<T> for T`.
impl<E: std::error::Error> From<E> for DrawError {
    fn from(e: E) -> Self {
        DrawError(e.to_string())
    }
}

/// A chart as PNG bytes and SVG text.
pub struct Rendered {
    pub png: Vec<u8>,
    pub svg: String,
}

pub fn render(chart: &impl Chart) -> Result<Rendered, DrawError> {
    Ok(Rendered { png: render_png(chart)?, svg: render_svg(chart)? })
}

pub fn render_svg(chart: &impl Chart) -> Result<String, DrawError> {
    fonts::ensure_registered();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, chart.size_px()).into_drawing_area();
        chart.draw(&root)?;
        root.present()?;
    }
    Ok(chart.finish_svg(svg))
}

pub fn render_png(chart: &impl Chart) -> Result<Vec<u8>, DrawError> {
    fonts::ensure_registered();
    let (width, height) = chart.size_px();
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        chart.draw(&root)?;
        root.present()?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png).write_image(&pixels, width, height, image::ColorType::Rgb8)?;
    Ok(png)
}

/// How a legend entry is marked: a line for line series, a dot for point sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    Line,
    Dashed,
    Dot,
    /// A filled square: a shaded band.
    Block,
}

pub struct LegendEntry<'a> {
    pub name: &'a str,
    pub colour: RGBColor,
    pub marker: Marker,
}

/// Fills the background, draws the title and the legend (centred rows, as many as the entries
/// need), and returns the area left for the plot.
pub fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[LegendEntry],
) -> Result<DrawingArea<DB, Shift>, DrawError> {
    root.fill(&WHITE)?;
    // Built with its style: plotters' `.style()` keeps the regular face's glyphs.
    let title_style = (fonts::FAMILY, TITLE_PX, FontStyle::Bold).into_font().color(&BLACK);
    let body = root.margin(12, 0, 0, 0).titled(title, title_style)?;
    if legend.is_empty() {
        return Ok(body);
    }
    let style = legend_style();
    let widths: Vec<i32> = legend
        .iter()
        .map(|e| body.estimate_text_size(e.name, &style).map(|(w, _)| SWATCH_PX + 8 + w as i32))
        .collect::<Result<_, _>>()?;
    let rows = legend_rows(&widths, body.dim_in_pixel().0 as i32 - 2 * LEGEND_GAP_PX);
    let (mut area, body) = body.split_vertically(LEGEND_ROW_PX * rows.len() as u32);
    for range in rows {
        let (row, rest) = area.split_vertically(LEGEND_ROW_PX);
        draw_legend_row(&row, &legend[range.clone()], &widths[range])?;
        area = rest;
    }
    Ok(body)
}

const LEGEND_GAP_PX: i32 = 28;

fn legend_style() -> TextStyle<'static> {
    (fonts::FAMILY, AXIS_LABEL_PX - 2).into_font().color(&BLACK)
}

/// Entries packed greedily into rows no wider than `width_px` (a row holds at least one).
fn legend_rows(widths: &[i32], width_px: i32) -> Vec<std::ops::Range<usize>> {
    let mut rows = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, &w) in widths.iter().enumerate() {
        let needed = if i == start { w } else { used + LEGEND_GAP_PX + w };
        if i > start && needed > width_px {
            rows.push(start..i);
            (start, used) = (i, w);
        } else {
            used = needed;
        }
    }
    if start < widths.len() {
        rows.push(start..widths.len());
    }
    rows
}

fn draw_legend_row<DB: DrawingBackend>(
    row: &DrawingArea<DB, Shift>,
    legend: &[LegendEntry],
    widths: &[i32],
) -> Result<(), DrawError> {
    let style = legend_style();
    let total: i32 = widths.iter().sum::<i32>() + LEGEND_GAP_PX * (legend.len() as i32 - 1);
    let (row_width, row_height) = row.dim_in_pixel();
    let (mut x, y) = ((row_width as i32 - total).max(0) / 2, row_height as i32 / 2);
    for (entry, &width) in legend.iter().zip(widths) {
        let swatch = entry.colour.stroke_width(3);
        match entry.marker {
            Marker::Line => row.draw(&PathElement::new(vec![(x, y), (x + SWATCH_PX, y)], swatch))?,
            Marker::Dashed => {
                for start in [x, x + SWATCH_PX * 2 / 3] {
                    row.draw(&PathElement::new(vec![(start, y), (start + SWATCH_PX / 3, y)], swatch))?;
                }
            }
            Marker::Dot => row.draw(&Circle::new((x + SWATCH_PX / 2, y), 5, entry.colour.filled()))?,
            Marker::Block => {
                let half = SWATCH_PX / 3;
                let (left, right) = (x + SWATCH_PX / 2 - half, x + SWATCH_PX / 2 + half);
                row.draw(&Rectangle::new(
                    [(left, y - half), (right, y + half)],
                    entry.colour.mix(BLOCK_OPACITY).filled(),
                ))?
            }
        }
        let label = style.pos(Pos::new(HPos::Left, VPos::Center));
        row.draw(&Text::new(entry.name.to_string(), (x + SWATCH_PX + 8, y), label))?;
        x += width + LEGEND_GAP_PX;
    }
    Ok(())
}

/// How strongly a band's legend swatch (and a strip) shows its colour.
pub const BLOCK_OPACITY: f64 = 0.6;

#[cfg(test)]
mod legend_tests {
    use super::legend_rows;

    #[test]
    fn legend_wraps_into_rows_that_fit() {
        assert_eq!(legend_rows(&[100, 100, 100], 1000), vec![0..3]);
        // 100 + 28 + 100 = 228 fits 250; a third entry would not.
        assert_eq!(legend_rows(&[100, 100, 100], 250), vec![0..2, 2..3]);
        // An entry wider than the row still gets a row of its own.
        assert_eq!(legend_rows(&[400, 100], 250), vec![0..1, 1..2]);
        assert!(legend_rows(&[], 250).is_empty());
    }
}

/// Colour-blind-friendly colours (Okabe and Ito), in the order charts use them.
pub mod palette {
    use plotters::style::RGBColor;
    pub const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
    pub const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
    pub const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
    pub const VERMILION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
    pub const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
    pub const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
    pub const GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);
    pub const YELLOW: RGBColor = RGBColor(0xF0, 0xE4, 0x42);
    pub const BLACK: RGBColor = RGBColor(0x00, 0x00, 0x00);
    pub const LIGHT_GREY: RGBColor = RGBColor(0x99, 0x99, 0x99);
    /// Grid lines: light enough to recede behind the data.
    pub const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
}
