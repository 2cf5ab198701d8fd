//! The look shared by every chart: the target palette, outcome and phase colours, the bundled
//! font and text styles, and how numbers are written on axes and labels.

use std::sync::OnceLock;

use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontDesc, FontFamily, FontStyle, RGBColor, ShapeStyle, TextStyle};

/// DejaVu Sans (licence in `assets/fonts/LICENSE-DejaVu.txt`), so PNGs have text on a machine
/// without system fonts (set by [`super::text`]). SVGs name the generic `sans-serif` family and
/// let the viewer choose; plotters measures their text with the same font.
pub(super) static REGULAR: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));
pub(super) static BOLD: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans-Bold.ttf"
));

/// Registers the bundled font as plotters' `sans-serif` (once per process), which plotters
/// measures the SVG's text with.
pub(super) fn register_fonts() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, REGULAR).is_ok()
            && plotters::style::register_font("sans-serif", FontStyle::Bold, BOLD).is_ok()
    });
    anyhow::ensure!(ok, "the bundled chart font could not be loaded");
    Ok(())
}

/// Okabe–Ito, the colour-blind-safe palette, without its yellow (too light on white) and
/// black (kept for text): a target's colour is `TARGET_PALETTE[index % len]`.
const TARGET_PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
];

/// The colour of the target at `index` in its scenario, the same in every chart.
pub(super) fn target_color(index: usize) -> RGBColor {
    TARGET_PALETTE[index % TARGET_PALETTE.len()]
}

/// Outcome colours (the eight of Okabe–Ito, black softened), the same in every panel.
pub(super) const OK: RGBColor = RGBColor(0, 158, 115);
pub(super) const HTTP_4XX: RGBColor = RGBColor(240, 228, 66);
pub(super) const HTTP_5XX: RGBColor = RGBColor(213, 94, 0);
pub(super) const THROTTLED: RGBColor = RGBColor(86, 180, 233);
pub(super) const FUNCTION_TIMEOUT: RGBColor = RGBColor(204, 121, 167);
pub(super) const CLIENT_TIMEOUT: RGBColor = RGBColor(230, 159, 0);
pub(super) const CONNECT_ERROR: RGBColor = RGBColor(0, 114, 178);
pub(super) const IO_ERROR: RGBColor = RGBColor(60, 60, 60);
/// Errors of a result set that did not record their kind.
pub(super) const UNRECORDED_ERROR: RGBColor = RGBColor(160, 160, 160);

pub(super) const TEXT: RGBColor = RGBColor(34, 34, 34);
pub(super) const MUTED: RGBColor = RGBColor(110, 110, 110);
pub(super) const AXIS: RGBColor = RGBColor(90, 90, 90);
pub(super) const GRID: RGBColor = RGBColor(225, 225, 225);
/// Phase shading by what the phase is (steady load is left white): no load, warm-up, a ramp.
pub(super) const IDLE_BAND: RGBColor = RGBColor(232, 232, 232);
pub(super) const WARM_UP_BAND: RGBColor = RGBColor(253, 236, 206);
pub(super) const RAMP_BAND: RGBColor = RGBColor(220, 234, 247);
/// The line between two phases.
pub(super) const PHASE_EDGE: RGBColor = RGBColor(190, 190, 190);
pub(super) const BACKGROUND: RGBColor = RGBColor(255, 255, 255);

/// Font sizes in pixels.
pub(super) const TITLE_SIZE: f64 = 26.0;
pub(super) const PANEL_SIZE: f64 = 19.0;
pub(super) const DESC_SIZE: f64 = 17.0;
pub(super) const LABEL_SIZE: f64 = 15.0;

/// Line widths in pixels.
pub(super) const LINE: u32 = 2;

/// Dash and gap lengths of a dashed line, in pixels.
pub(super) const DASH: (f64, f64) = (9.0, 5.0);

/// Plain text of `size` pixels in `color`, anchored at its top left.
pub(super) fn text(size: f64, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: FontDesc::new(FontFamily::SansSerif, size, FontStyle::Normal),
        color: color.to_backend_color(),
        pos: Pos::new(HPos::Left, VPos::Top),
    }
}

/// Bold text of `size` pixels in `color`, anchored at its top left.
pub(super) fn bold(size: f64, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: FontDesc::new(FontFamily::SansSerif, size, FontStyle::Bold),
        ..text(size, color)
    }
}

/// `style` anchored at `h`, `v`.
pub(super) fn anchored(style: TextStyle<'static>, h: HPos, v: VPos) -> TextStyle<'static> {
    style.pos(Pos::new(h, v))
}

/// Axis description text (the y one turned to read upwards).
pub(super) fn desc() -> TextStyle<'static> {
    text(DESC_SIZE, TEXT)
}

pub(super) fn tick_labels() -> TextStyle<'static> {
    text(LABEL_SIZE, TEXT)
}

/// A line in `color`, `width` pixels wide.
pub(super) fn line(color: RGBColor, width: u32) -> ShapeStyle {
    color.stroke_width(width)
}

/// A fill of `color` at `opacity`.
pub(super) fn fill(color: RGBColor, opacity: f64) -> ShapeStyle {
    color.mix(opacity).filled()
}

/// A number with about three significant digits and no trailing zeros: `0.05`, `1.5`, `112`,
/// `2400`.
pub(super) fn number(value: f64) -> String {
    if !value.is_finite() {
        return "?".into();
    }
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 6) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Milliseconds with their unit, switching to seconds past 10 s: `0.95 ms`, `112 ms`, `30 s`.
pub(super) fn duration_ms(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{} s", number(ms / 1000.0))
    } else {
        format!("{} ms", number(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_about_three_significant_digits() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.05), "0.05");
        assert_eq!(number(0.30000000000000004), "0.3");
        assert_eq!(number(1.5), "1.5");
        assert_eq!(number(1.0), "1");
        assert_eq!(number(112.511), "113");
        assert_eq!(number(44.36), "44.4");
        assert_eq!(number(2400.0), "2400");
        assert_eq!(number(f64::NAN), "?");
        assert_eq!(duration_ms(0.95), "0.95 ms");
        assert_eq!(duration_ms(30_000.0), "30 s");
    }

    #[test]
    fn targets_get_distinct_colours_that_repeat_only_past_the_palette() {
        assert_ne!(target_color(0), target_color(1));
        assert_eq!(target_color(0), target_color(TARGET_PALETTE.len()));
    }
}
