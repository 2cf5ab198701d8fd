//! The parts every chart is built from: the header (title, what was run, a legend strip that
//! never covers data), panels with styled axes, lines, and the honest empty panel
//! ("no data: why").

use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::DrawResult;
use super::style;

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Mark {
    Line,
    Dashed,
    Fill,
    /// A pale fill with an outline (phase shading).
    Band,
}

#[derive(Debug, Clone)]
pub(super) struct LegendItem {
    pub label: String,
    pub color: RGBColor,
    pub mark: Mark,
}

impl LegendItem {
    pub(crate) fn new(label: impl Into<String>, color: RGBColor, mark: Mark) -> Self {
        LegendItem {
            label: label.into(),
            color,
            mark,
        }
    }
}

/// The top of a chart.
pub(super) struct Header<'a> {
    pub title: &'a str,
    /// What was run, at the right of the title: scenario, status, length.
    pub context: &'a str,
    pub legend: &'a [LegendItem],
}

const SIDE: i32 = 22;
const LEGEND_TOP: i32 = 52;
const LEGEND_ROW: i32 = 26;
const SWATCH: i32 = 30;

/// Clears the canvas, draws the header and returns the area left for panels.
pub(super) fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    header: &Header,
) -> DrawResult<DrawingArea<DB, Shift>, DB> {
    root.fill(&style::BACKGROUND)?;
    let (width, _) = root.dim_in_pixel();
    let width = width as i32;
    root.draw_text(
        header.title,
        &style::bold(style::TITLE_SIZE, style::TEXT),
        (SIDE, 14),
    )?;
    let context = style::anchored(
        style::text(style::LABEL_SIZE + 1.0, style::MUTED),
        HPos::Right,
        VPos::Top,
    );
    root.draw_text(header.context, &context, (width - SIDE, 20))?;
    let legend_bottom = draw_legend(root, header.legend, width)?;
    let top = legend_bottom.max(LEGEND_TOP) + 6;
    Ok(root.margin(top, 8, 8, 14))
}

/// Lays the legend out left to right under the title, wrapping rows; returns its bottom.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
    width: i32,
) -> DrawResult<i32, DB> {
    if items.is_empty() {
        return Ok(LEGEND_TOP);
    }
    let label = style::anchored(
        style::text(style::LABEL_SIZE + 1.0, style::TEXT),
        HPos::Left,
        VPos::Center,
    );
    let (mut x, mut y) = (SIDE, LEGEND_TOP + LEGEND_ROW / 2);
    for item in items {
        let (text_width, _) = root.estimate_text_size(&item.label, &label)?;
        let item_width = SWATCH + 8 + text_width as i32 + 26;
        if x > SIDE && x + item_width > width - SIDE {
            x = SIDE;
            y += LEGEND_ROW;
        }
        draw_swatch(root, item, (x, y))?;
        root.draw_text(&item.label, &label, (x + SWATCH + 8, y))?;
        x += item_width;
    }
    Ok(y + LEGEND_ROW / 2)
}

fn draw_swatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    item: &LegendItem,
    (x, y): (i32, i32),
) -> DrawResult<(), DB> {
    let line = style::line(item.color, style::LINE + 1);
    match item.mark {
        Mark::Line => root.draw(&PathElement::new(vec![(x, y), (x + SWATCH, y)], line)),
        Mark::Dashed => root.draw(&DashedPathElement::new(
            vec![(x, y), (x + SWATCH, y)],
            style::DASH.0,
            style::DASH.1,
            line,
        )),
        Mark::Fill => root.draw(&Rectangle::new(
            [(x + 6, y - 8), (x + SWATCH - 6, y + 8)],
            style::fill(item.color, 1.0),
        )),
        Mark::Band => {
            let corners = [(x + 4, y - 8), (x + SWATCH - 4, y + 8)];
            root.draw(&Rectangle::new(corners, style::fill(item.color, 1.0)))?;
            root.draw(&Rectangle::new(corners, style::line(style::PHASE_EDGE, 1)))
        }
    }
}

/// A line of muted text in a panel's plotting area, `(dx, dy)` pixels from its top left.
pub(super) fn note<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    text: &str,
    (dx, dy): (i32, i32),
) -> DrawResult<(), DB>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let style = style::anchored(
        style::text(style::LABEL_SIZE, style::MUTED),
        HPos::Left,
        VPos::Top,
    );
    let area = chart.plotting_area().strip_coord_spec();
    area.draw_text(text, &style, (dx, dy))?;
    Ok(())
}

/// What a panel says about itself: an optional caption and the axis descriptions.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Panel<'a> {
    pub caption: Option<&'a str>,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    /// Width of the y tick labels' area when the usual one is too narrow.
    pub y_label_width: Option<u32>,
    /// No vertical grid lines (bar charts, whose x ticks name categories).
    pub no_x_grid: bool,
}

/// A panel's chart builder: caption, margins and label areas sized for the fonts in use.
pub(super) fn builder<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    panel: &Panel,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_top(6)
        .margin_right(36)
        .margin_left(4)
        .x_label_area_size(if panel.x_desc.is_empty() { 30 } else { 54 })
        .y_label_area_size(panel.y_label_width.unwrap_or(if panel.y_desc.is_empty() {
            56
        } else {
            80
        }));
    if let Some(caption) = panel.caption {
        builder.caption(caption, style::bold(style::PANEL_SIZE, style::TEXT));
    }
    builder
}

/// The common look of a panel's axes and grid: bold grid lines only, no minor lines.
pub(super) fn style_mesh<X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &mut plotters::chart::MeshStyle<'_, '_, X, Y, DB>,
    panel: &Panel,
) {
    mesh.bold_line_style(style::GRID)
        .light_line_style(TRANSPARENT)
        .max_light_lines(0)
        .axis_style(style::AXIS)
        .label_style(style::tick_labels())
        .axis_desc_style(style::desc())
        .x_desc(panel.x_desc)
        .y_desc(panel.y_desc);
    if panel.no_x_grid {
        mesh.disable_x_mesh();
    }
}

/// An empty panel: axes, descriptions and a centred "no data: `why`".
pub(super) fn no_data<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    why: &str,
) -> DrawResult<(), DB> {
    let mut chart = builder(area, panel).build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
    let mut mesh = chart.configure_mesh();
    style_mesh(&mut mesh, panel);
    mesh.x_labels(0).y_labels(0).draw()?;
    let message = style::anchored(
        style::text(style::DESC_SIZE + 1.0, style::MUTED),
        HPos::Center,
        VPos::Center,
    );
    chart.draw_series(std::iter::once(Text::new(
        format!("no data: {why}"),
        (0.5, 0.5),
        message,
    )))?;
    Ok(())
}

/// A whole chart with nothing to show: the header and one empty panel.
pub(super) fn empty_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    header: &Header,
    panel: &Panel,
    why: &str,
) -> DrawResult<(), DB> {
    let body = frame(root, header)?;
    no_data(&body, panel, why)
}

/// Builds a panel over `x` × `y` with styled axes; `format_x`/`format_y` write tick labels.
#[allow(clippy::type_complexity)]
pub(super) fn axes<'a, DB, X, Y>(
    area: &'a DrawingArea<DB, Shift>,
    panel: &Panel,
    x: X,
    y: Y,
    format_x: &dyn Fn(&X::Value) -> String,
    format_y: &dyn Fn(&Y::Value) -> String,
) -> DrawResult<ChartContext<'a, DB, Cartesian2d<X::CoordDescType, Y::CoordDescType>>, DB>
where
    DB: DrawingBackend,
    X: AsRangedCoord,
    Y: AsRangedCoord,
    X::CoordDescType: ValueFormatter<X::Value>,
    Y::CoordDescType: ValueFormatter<Y::Value>,
{
    let mut chart = builder(area, panel).build_cartesian_2d(x, y)?;
    let mut mesh = chart.configure_mesh();
    style_mesh(&mut mesh, panel);
    mesh.x_labels(12)
        .y_labels(8)
        .x_label_formatter(format_x)
        .y_label_formatter(format_y)
        .draw()?;
    Ok(chart)
}

/// Draws `points` as a solid or dashed line in `color`, a lone point as a dot.
///
/// The line is drawn as runs that never turn back on themselves (see [`monotone_runs`]):
/// plotters fills a thick bitmap line as one polygon, and a spike narrower than the line
/// (a one-second stair on a ten-minute axis) would otherwise cancel itself out.
pub(super) fn draw_line<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    points: &[(f64, f64)],
    color: RGBColor,
    mark: Mark,
) -> DrawResult<(), DB>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let line = style::line(color, style::LINE);
    if let [point] = points {
        chart.draw_series(std::iter::once(Circle::new(
            *point,
            4,
            style::fill(color, 1.0),
        )))?;
        return Ok(());
    }
    for run in monotone_runs(points) {
        if mark == Mark::Dashed {
            chart.draw_series(DashedLineSeries::new(
                run.iter().copied(),
                style::DASH.0,
                style::DASH.1,
                line,
            ))?;
        } else {
            chart.draw_series(LineSeries::new(run.iter().copied(), line))?;
        }
    }
    Ok(())
}

/// `points` cut into overlapping runs in which neither coordinate changes direction, so no
/// run can fold back over itself (whatever the scales, as long as they are monotonic).
pub(super) fn monotone_runs(points: &[(f64, f64)]) -> Vec<&[(f64, f64)]> {
    let sign = |a: f64, b: f64| (b > a) as i8 - (b < a) as i8;
    let mut runs = Vec::new();
    let (mut start, mut dx, mut dy) = (0, 0i8, 0i8);
    for i in 1..points.len() {
        let (sx, sy) = (
            sign(points[i - 1].0, points[i].0),
            sign(points[i - 1].1, points[i].1),
        );
        let turns = (sx != 0 && dx != 0 && sx != dx) || (sy != 0 && dy != 0 && sy != dy);
        if turns {
            runs.push(&points[start..i]);
            start = i - 1;
            (dx, dy) = (0, 0);
        }
        if sx != 0 {
            dx = sx;
        }
        if sy != 0 {
            dy = sy;
        }
    }
    if points.len() - start >= 2 {
        runs.push(&points[start..]);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_where_they_turn_back() {
        let stairs = [
            (0.0, 0.0),
            (1.0, 0.0),
            (1.0, 5.0),
            (2.0, 5.0),
            (2.0, 0.0),
            (3.0, 0.0),
        ];
        let runs = monotone_runs(&stairs);
        assert_eq!(runs, vec![&stairs[0..4], &stairs[3..6]]);
        let rising = [(0.0, 1.0), (1.0, 2.0), (2.0, 2.0), (3.0, 9.0)];
        assert_eq!(monotone_runs(&rising), vec![&rising[..]]);
        assert!(monotone_runs(&[(0.0, 1.0)]).is_empty());
    }
}
