//! Drawing one figure twice: as SVG text and as an RGB bitmap encoded to PNG, both
//! `WIDTH`×`HEIGHT`. A chart kind prepares its data once into a [`Figure`], and this module
//! owns the backends (the bitmap one with its text set by [`super::text`]).

use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, DrawingAreaErrorKind, DrawingBackend};
use plotters::prelude::{IntoDrawingArea, SVGBackend};

use super::text::TextBackend;
use super::{style, Chart, HEIGHT, WIDTH};

/// What drawing on a backend returns.
pub(super) type DrawResult<T, DB> =
    Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart's data, ready to be drawn on any backend.
pub(super) trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB>;
}

/// Draws `figure` as SVG and PNG.
pub(super) fn render(
    id: &'static str,
    title: String,
    alt: String,
    figure: &impl Figure,
) -> anyhow::Result<Chart> {
    style::register_fonts()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        figure
            .draw(&root)
            .and_then(|()| root.present())
            .map_err(|e| anyhow::anyhow!("chart {id}: drawing the SVG: {e}"))?;
    }
    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let bitmap = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT));
        let root = TextBackend::new(bitmap).into_drawing_area();
        figure
            .draw(&root)
            .and_then(|()| root.present())
            .map_err(|e| anyhow::anyhow!("chart {id}: drawing the PNG: {e}"))?;
    }
    let png = encode_png(&rgb, WIDTH, HEIGHT)
        .map_err(|e| anyhow::anyhow!("chart {id}: encoding the PNG: {e}"))?;
    Ok(Chart {
        id,
        title,
        alt,
        svg,
        png,
    })
}

/// An 8-bit RGB PNG of `rgb` (row-major, 3 bytes per pixel).
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::with_capacity(rgb.len() / 8);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}
