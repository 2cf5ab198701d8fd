//! PNG text, set by coldfront rather than plotters: [`TextBackend`] wraps the bitmap backend
//! and lays each string out at the bundled font's real advances and kerning (fractional pen
//! positions, each glyph's own side bearing), rasterised with ab_glyph.
//!
//! plotters' own ab_glyph text drew every glyph at its truncated pen position without its
//! left side bearing, so a narrow glyph slid left of its slot ("p50 11 4 ms", "serverl ess").
//! Sizes and anchors follow what the SVG backend writes: an em of `size / 1.24` pixels, the
//! baseline 0.76 em below a top anchor and half an x-height below (centre) or above (bottom)
//! the others; rotated text turns about its anchor as the SVG's `rotate()` does.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, GlyphId, OutlinedGlyph, PxScale, ScaleFont};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

use super::style;

/// The em of text of plotters size `size`, in pixels (what the SVG backend writes).
fn em_px(size: f64) -> f32 {
    (size / 1.24) as f32
}

/// The bundled regular and bold faces, parsed once.
fn faces() -> &'static [FontRef<'static>; 2] {
    static FACES: OnceLock<[FontRef<'static>; 2]> = OnceLock::new();
    FACES.get_or_init(|| {
        let parse = |bytes| FontRef::try_from_slice(bytes).expect("the bundled font parses");
        [parse(style::REGULAR), parse(style::BOLD)]
    })
}

/// One face at one size: lays strings out and rasterises them.
pub(super) struct Typeface {
    font: &'static FontRef<'static>,
    scale: PxScale,
    em: f32,
}

/// A glyph placed on the baseline: its pen position from the start of the string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Placed {
    pub id: GlyphId,
    pub x: f32,
}

/// A string laid out: its glyphs and the pen position after the last one (its width).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Layout {
    pub glyphs: Vec<Placed>,
    pub width: f32,
}

/// Coverage (0–1) of the pixels from `(x0, y0)`, `width` to a row, row by row, in pixels from
/// the text's anchor.
#[derive(Debug, Clone, Default)]
pub(super) struct Raster {
    pub x0: i32,
    pub y0: i32,
    pub width: usize,
    pub coverage: Vec<f32>,
}

impl Typeface {
    /// The bundled face (`bold` or regular) at plotters size `size`.
    pub(super) fn new(bold: bool, size: f64) -> Typeface {
        let font = &faces()[usize::from(bold)];
        let em = em_px(size);
        let units_per_em = font.units_per_em().unwrap_or(2048.0);
        // ab_glyph scales by ascent − descent; this makes one em `em` pixels.
        let scale = PxScale::from(em * font.height_unscaled() / units_per_em);
        Typeface { font, scale, em }
    }

    /// The face a plotters text style asks for (bold or not: charts use one family).
    fn of(style: &impl BackendTextStyle) -> Typeface {
        Typeface::new(matches!(style.style(), FontStyle::Bold), style.size())
    }

    /// `text` on one line: each glyph at the pen, the pen moved on by the glyph's advance and
    /// the kerning between it and the next.
    pub(super) fn layout(&self, text: &str) -> Layout {
        let font = self.font.as_scaled(self.scale);
        let mut glyphs = Vec::with_capacity(text.len());
        let mut pen = 0.0f32;
        let mut previous: Option<GlyphId> = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                pen += font.kern(previous, id);
            }
            glyphs.push(Placed { id, x: pen });
            pen += font.h_advance(id);
            previous = Some(id);
        }
        Layout { glyphs, width: pen }
    }

    /// Width and height (one em) of `text`, in whole pixels.
    pub(super) fn size_of(&self, text: &str) -> (u32, u32) {
        (
            self.layout(text).width.ceil().max(0.0) as u32,
            self.em.round() as u32,
        )
    }

    /// Where the baseline of the first glyph starts, from the anchor, for `anchor`.
    fn origin(&self, width: f32, anchor: Pos) -> (f32, f32) {
        let x = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let half_ex = self.x_height() / 2.0;
        let y = match anchor.v_pos {
            VPos::Top => 0.76 * self.em,
            VPos::Center => half_ex,
            VPos::Bottom => -half_ex,
        };
        (x, y)
    }

    /// The height of a lower-case x, in pixels.
    fn x_height(&self) -> f32 {
        let units_per_em = self.font.units_per_em().unwrap_or(2048.0);
        let x = self.font.glyph_id('x');
        let top = self
            .font
            .outline(x)
            .map_or(0.55 * units_per_em, |o| o.bounds.min.y);
        top / units_per_em * self.em
    }

    /// The glyphs of `text`, outlined at their places relative to `anchor`.
    pub(super) fn outlines(&self, text: &str, anchor: Pos) -> Vec<OutlinedGlyph> {
        let layout = self.layout(text);
        let (x, y) = self.origin(layout.width, anchor);
        layout
            .glyphs
            .iter()
            .filter_map(|g| {
                let glyph = g.id.with_scale_and_position(self.scale, point(x + g.x, y));
                self.font.outline_glyph(glyph)
            })
            .collect()
    }

    /// `text` rasterised, its pixels relative to `anchor`.
    pub(super) fn raster(&self, text: &str, anchor: Pos) -> Raster {
        let outlines = self.outlines(text, anchor);
        let Some(first) = outlines.first() else {
            return Raster::default();
        };
        let mut bounds = first.px_bounds();
        for outline in &outlines[1..] {
            let b = outline.px_bounds();
            bounds.min.x = bounds.min.x.min(b.min.x);
            bounds.min.y = bounds.min.y.min(b.min.y);
            bounds.max.x = bounds.max.x.max(b.max.x);
            bounds.max.y = bounds.max.y.max(b.max.y);
        }
        let (x0, y0) = (bounds.min.x as i32, bounds.min.y as i32);
        let width = (bounds.max.x - bounds.min.x) as usize;
        let height = (bounds.max.y - bounds.min.y) as usize;
        let mut coverage = vec![0.0f32; width * height];
        for outline in &outlines {
            let b = outline.px_bounds();
            let (left, top) = (b.min.x as i32 - x0, b.min.y as i32 - y0);
            outline.draw(|x, y, c| {
                let i = (top as usize + y as usize) * width + left as usize + x as usize;
                coverage[i] = (coverage[i] + c).min(1.0);
            });
        }
        Raster {
            x0,
            y0,
            width,
            coverage,
        }
    }
}

/// A drawing backend whose text is set by [`Typeface`]; everything else goes to `inner`.
pub(super) struct TextBackend<B> {
    inner: B,
}

impl<B: DrawingBackend> TextBackend<B> {
    pub(super) fn new(inner: B) -> Self {
        TextBackend { inner }
    }
}

type Drawn<B> = Result<(), DrawingErrorKind<<B as DrawingBackend>::ErrorType>>;

impl<B: DrawingBackend> DrawingBackend for TextBackend<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Drawn<B> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Drawn<B> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Drawn<B> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Drawn<B> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Drawn<B> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Drawn<B> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Drawn<B> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Drawn<B> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> Drawn<B> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Drawn<B> {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let raster = Typeface::of(style).raster(text, style.anchor());
        let turn = style.transform();
        for (i, &c) in raster.coverage.iter().enumerate() {
            if c <= 0.0 {
                continue;
            }
            let x = raster.x0 + (i % raster.width) as i32;
            let y = raster.y0 + (i / raster.width) as i32;
            let (dx, dy) = turn.transform(x, y);
            let pixel = BackendColor {
                alpha: color.alpha * f64::from(c),
                rgb: color.rgb,
            };
            self.inner.draw_pixel((pos.0 + dx, pos.1 + dy), pixel)?;
        }
        Ok(())
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        Ok(Typeface::of(style).size_of(text))
    }
}

#[cfg(test)]
mod tests {
    use plotters::prelude::{BitMapBackend, IntoDrawingArea};
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    use plotters::style::FontTransform;

    use super::*;

    /// The string the quickstart's PNGs spaced wrongly.
    const SAMPLE: &str = "p50 114 ms · n=1 020 serverless max_connections = 10 AVATAR To";

    #[test]
    fn glyphs_sit_at_the_fonts_advances_plus_kerning() {
        let face = Typeface::new(false, style::LABEL_SIZE);
        let scaled = face.font.as_scaled(face.scale);
        let factor = scaled.h_scale_factor();
        let layout = face.layout(SAMPLE);
        assert_eq!(layout.glyphs.len(), SAMPLE.chars().count());
        assert_eq!(layout.glyphs[0].x, 0.0);
        let mut kerned = 0;
        for pair in layout.glyphs.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert!(b.x > a.x, "pen positions increase: {a:?} then {b:?}");
            let advance = face.font.h_advance_unscaled(a.id) * factor;
            let kern = face.font.kern_unscaled(a.id, b.id) * factor;
            assert!(
                (b.x - a.x - (advance + kern)).abs() < 1e-3,
                "{a:?} to {b:?}: {} against advance {advance} + kerning {kern}",
                b.x - a.x
            );
            kerned += usize::from(kern != 0.0);
        }
        assert!(
            kerned >= 2,
            "the sample has kerned pairs (AV, VA, To): {kerned}"
        );
        let last = layout.glyphs.last().unwrap();
        let end = last.x + face.font.h_advance_unscaled(last.id) * factor;
        assert!((layout.width - end).abs() < 1e-3);
    }

    /// Draws `text` on a white `width`×60 bitmap through [`TextBackend`], anchored top left at
    /// `(0, 10)`, and returns each column's darkest value (255 = no ink).
    fn ink_columns(text: &str, size: f64, width: u32) -> Vec<u8> {
        let mut rgb = vec![255u8; width as usize * 60 * 3];
        {
            let backend = TextBackend::new(BitMapBackend::with_buffer(&mut rgb, (width, 60)));
            let root = backend.into_drawing_area();
            root.draw_text(text, &style::text(size, style::TEXT), (0, 10))
                .unwrap();
            root.present().unwrap();
        }
        (0..width as usize)
            .map(|x| {
                (0..60)
                    .map(|y| rgb[(y * width as usize + x) * 3])
                    .min()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn each_glyphs_ink_starts_at_its_pen_plus_its_side_bearing() {
        // Wide gaps keep each glyph's ink apart; `1` and `l` have wide left side bearings,
        // which plotters' own drawing dropped.
        let text = "1   l   4   i   1";
        let size = 30.0;
        let face = Typeface::new(false, size);
        let scaled = face.font.as_scaled(face.scale);
        let columns = ink_columns(text, size, 400);
        let layout = face.layout(text);
        for (c, placed) in text.chars().zip(&layout.glyphs).filter(|(c, _)| *c != ' ') {
            let from = placed.x.floor() as usize;
            let to = (placed.x + scaled.h_advance(placed.id)).ceil() as usize;
            let first_ink = (from..to).find(|&x| columns[x] < 200).unwrap();
            let expected = placed.x + scaled.h_side_bearing(placed.id);
            assert!(
                (first_ink as f32 - expected).abs() <= 1.0,
                "{c:?}: ink from column {first_ink}, expected {expected} (pen {})",
                placed.x
            );
        }
        let bearing = scaled.h_side_bearing(scaled.glyph_id('1'));
        assert!(bearing > 2.0, "the test needs a visible bearing: {bearing}");
    }

    #[test]
    fn measured_and_drawn_widths_agree() {
        let face = Typeface::new(true, style::TITLE_SIZE);
        let (width, height) = face.size_of(SAMPLE);
        assert_eq!(width, face.layout(SAMPLE).width.ceil() as u32);
        assert_eq!(height, (style::TITLE_SIZE / 1.24).round() as u32);
        let right = face.raster(SAMPLE, Pos::new(HPos::Right, VPos::Top));
        let left = face.raster(SAMPLE, Pos::new(HPos::Left, VPos::Top));
        assert!(
            (right.x0 - (left.x0 - width as i32)).abs() <= 1,
            "right-anchored text is the left-anchored one moved left by its width"
        );
        assert!(
            right.x0 + right.width as i32 <= 1,
            "right-anchored text ends at the anchor"
        );
        // A top anchor puts the capitals' tops just below it; a bottom one lifts the
        // baseline half an x-height above it.
        assert!((0..=4).contains(&left.y0), "top of the ink {}", left.y0);
        let bottom = face.raster("x", Pos::new(HPos::Left, VPos::Bottom));
        let height = (bottom.coverage.len() / bottom.width) as i32;
        assert!(bottom.y0 + height <= 0, "{bottom:?}");
    }

    #[test]
    fn rotated_text_reads_upwards_about_its_anchor() {
        let face = Typeface::new(false, style::DESC_SIZE);
        let raster = face.raster("latency (ms)", Pos::new(HPos::Center, VPos::Top));
        let corners = [
            (raster.x0, raster.y0),
            (
                raster.x0 + raster.width as i32,
                raster.y0 + (raster.coverage.len() / raster.width) as i32,
            ),
        ];
        let turned: Vec<(i32, i32)> = corners
            .iter()
            .map(|&(x, y)| FontTransform::Rotate270.transform(x, y))
            .collect();
        let (w, h) = (
            (turned[0].0 - turned[1].0).abs(),
            (turned[0].1 - turned[1].1).abs(),
        );
        assert!(h > 3 * w, "turned text is tall: {w}×{h}");
    }
}
