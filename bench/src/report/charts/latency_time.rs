//! Latency over time: each target's p50 (dashed) and p99 (solid) latency against seconds since
//! the start of its load, over the scenario's phases (top), and the requests each second
//! completed (below), which is what every point stands for. A percentile is drawn only from
//! enough requests ([`super::enough`]: a p50 from 10, a p99 from 100): seconds of one phase are
//! pooled until they hold that many ([`super::pooling`]), and seconds that never do are left
//! out, which a note says. A run longer than `MAX_POINTS` seconds is read per window of
//! several seconds (percentiles from the merged interval histograms, never averaged), which
//! the axis says.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{self, DrawResult, Figure};
use super::enough;
use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::pooling::{self, Point, Pooled, MAX_POOL_S};
use super::scales;
use super::spectrum::{FLOOR_MS, ZERO_LATENCY};
use super::timeline::{self, Timeline};
use super::{style, Chart};
use crate::resultset::{ResultSet, TargetData};

const Y_DESC: &str = "latency (ms, log scale)";
const COUNT_CAPTION: &str = "requests completed per second";
const TOO_FEW: &str = "too few requests for any percentile";
/// Points per line at most before seconds are grouped into windows.
const MAX_POINTS: u64 = 200;
/// The percentiles drawn, and how.
const LINES: [(f64, Mark); 2] = [(0.99, Mark::Line), (0.5, Mark::Dashed)];

/// Seconds per window for a run of `seconds`.
fn window_seconds(seconds: u64) -> u64 {
    seconds.div_ceil(MAX_POINTS).max(1)
}

/// The rule every point follows, in words.
fn rule() -> String {
    format!(
        "a p50 is drawn from ≥{} requests, a p99 from ≥{}: seconds of one phase are pooled \
         until they hold that many (up to {MAX_POOL_S} s); fewer are not drawn",
        enough::requests_for(0.5),
        enough::requests_for(0.99)
    )
}

/// A target's percentiles: from its interval log, or from its per-second rows (each second
/// alone) when it has none.
fn percentiles(target: &TargetData, window: u64, timeline: &Timeline) -> Vec<Pooled> {
    let quantiles: Vec<f64> = LINES.iter().map(|(q, _)| *q).collect();
    if !target.latency.is_empty() {
        return pooling::pooled(&target.latency, window, timeline, &quantiles);
    }
    quantiles
        .iter()
        .map(|&q| {
            let mut pooled = Pooled::default();
            for row in target.series.iter().filter(|r| r.completed > 0) {
                let value = if q == 0.5 { row.p50_ms } else { row.p99_ms };
                let (start, length) = row.span_s();
                match value.filter(|v| *v > 0.0 && v.is_finite()) {
                    Some(ms) if enough::enough(q, row.completed) => pooled.points.push(Point {
                        start,
                        end: start + length,
                        ms: ms.max(FLOOR_MS),
                        requests: row.completed,
                    }),
                    _ => pooled.left_out_s += length,
                }
            }
            pooled
        })
        .collect()
}

struct Line {
    color: RGBColor,
    mark: Mark,
    segments: Vec<Vec<(f64, f64)>>,
}

struct LatencyOverTime {
    context: String,
    empty_because: &'static str,
    y_desc: String,
    timeline: Timeline,
    legend: Vec<LegendItem>,
    lines: Vec<Line>,
    /// Requests completed per second, per target: what the points stand for.
    counts: Vec<(RGBColor, Vec<(f64, f64)>)>,
    /// The rule, and what it left out.
    notes: Vec<String>,
}

const TITLE: &str = "Latency over time";

pub(super) fn latency_over_time(run: &ResultSet) -> anyhow::Result<Chart> {
    let window = window_seconds(run.seconds());
    let mut figure = LatencyOverTime {
        context: super::run_context(run),
        empty_because: "",
        y_desc: if window == 1 {
            Y_DESC.into()
        } else {
            format!("latency per {window} s window or more (ms, log scale)")
        },
        timeline: Timeline::of(run),
        legend: Vec::new(),
        lines: Vec::new(),
        counts: Vec::new(),
        notes: vec![rule()],
    };
    let mut worst = Vec::new();
    let mut left_out = Vec::new();
    for target in &run.targets {
        let color = style::target_color(target.index);
        let pooled = percentiles(target, window, &figure.timeline);
        let p99 = &pooled[0];
        if let Some(max) = p99.points.iter().map(|p| p.ms).reduce(f64::max) {
            worst.push(format!(
                "{} (worst p99 {})",
                target.name,
                style::duration_ms(max)
            ));
        }
        for ((q, mark), pooled) in LINES.iter().zip(&pooled) {
            let label = format!("{} {}", target.name, enough::name(*q));
            if pooled.left_out_s > 0.0 {
                left_out.push(format!(
                    "{label} for {} s",
                    style::number(pooled.left_out_s)
                ));
            }
            if pooled.points.is_empty() {
                continue;
            }
            figure.legend.push(LegendItem::new(label, color, *mark));
            figure.lines.push(Line {
                color,
                mark: *mark,
                segments: pooled.segments(),
            });
        }
        figure.counts.push((
            color,
            timeline::stairs(&target.series, |r| r.completed as f64),
        ));
    }
    if !left_out.is_empty() {
        figure.notes.push(format!(
            "not drawn, too few requests: {}",
            left_out.join(", ")
        ));
    }
    figure.legend.extend(figure.timeline.legend());
    let completed = run
        .targets
        .iter()
        .any(|t| t.series.iter().any(|r| r.completed > 0));
    figure.empty_because = if !completed {
        "no request completed"
    } else if left_out.is_empty() {
        ZERO_LATENCY
    } else {
        TOO_FEW
    };
    let alt = describe(run, &figure, window, &worst);
    canvas::render("latency-over-time", TITLE.into(), alt, &figure)
}

fn describe(run: &ResultSet, figure: &LatencyOverTime, window: u64, worst: &[String]) -> String {
    let name = &run.manifest.scenario.name;
    if worst.is_empty() && figure.lines.is_empty() {
        return format!("Latency over time for {name}: {}.", figure.empty_because);
    }
    let per = if window == 1 {
        "second".to_string()
    } else {
        format!("{window} s window")
    };
    format!(
        "p50 (dashed) and p99 (solid) latency per {per} over time for {name}, on a log scale, \
         with the scenario's phases shaded by their load and the requests behind each point \
         below ({}): {}.",
        figure.notes.join("; "),
        if worst.is_empty() {
            "no p99 had enough requests".to_string()
        } else {
            worst.join(", ")
        }
    )
}

impl Figure for LatencyOverTime {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let header = Header {
            title: TITLE,
            context: &self.context,
            legend: &self.legend,
        };
        let panel = Panel {
            caption: None,
            x_desc: "",
            y_desc: &self.y_desc,
            ..Panel::default()
        };
        if self.lines.is_empty() && self.counts.iter().all(|c| c.1.is_empty()) {
            let panel = Panel {
                x_desc: timeline::X_DESC,
                ..panel
            };
            return frame::empty_chart(root, &header, &panel, self.empty_because);
        }
        let body = frame::frame(root, &header)?;
        let (top, bottom) = body.split_vertically(body.dim_in_pixel().1 * 68 / 100);
        self.draw_latency(&top, &panel)?;
        self.draw_counts(&bottom)
    }
}

impl LatencyOverTime {
    fn draw_latency<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &Panel,
    ) -> DrawResult<(), DB> {
        if self.lines.is_empty() {
            return frame::no_data(area, panel, self.empty_because);
        }
        let values = self.lines.iter().flat_map(|l| l.segments.iter().flatten());
        let (min, max) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
        // Room above the highest point for the phase names.
        let y = scales::log_range(min, max * 1.6, FLOOR_MS);
        let mut chart = frame::axes(
            area,
            panel,
            self.timeline.x_range(),
            scales::log_axis(y.clone()),
            &|x| style::number(*x),
            &|v| style::number(*v),
        )?;
        self.timeline.draw_phases(&mut chart, &y, true)?;
        for line in &self.lines {
            for segment in &line.segments {
                frame::draw_line(&mut chart, segment, line.color, line.mark)?;
            }
        }
        Ok(())
    }

    /// Requests per second per target, with the least a p50 and a p99 are drawn from.
    fn draw_counts<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let panel = Panel {
            caption: None,
            x_desc: timeline::X_DESC,
            y_desc: "requests",
            ..Panel::default()
        };
        let max = self
            .counts
            .iter()
            .flat_map(|c| c.1.iter().map(|p| p.1))
            .fold(0.0, f64::max);
        // Room above for the notes.
        let y = scales::zero_range(max * (1.2 + 0.35 * self.notes.len() as f64), 12.0);
        let x = self.timeline.x_range();
        let mut chart = frame::axes(
            area,
            &panel,
            x.clone(),
            y.clone(),
            &|v| style::number(*v),
            &|v| style::number(*v),
        )?;
        self.timeline.draw_phases(&mut chart, &y, false)?;
        let label = style::anchored(
            style::text(style::LABEL_SIZE - 1.0, style::MUTED),
            HPos::Right,
            VPos::Bottom,
        );
        for q in [0.5, 0.99] {
            let least = enough::requests_for(q) as f64;
            if least > y.end {
                continue;
            }
            chart.draw_series(std::iter::once(DashedPathElement::new(
                [(x.start, least), (x.end, least)],
                4.0,
                4.0,
                style::line(style::MUTED, 1),
            )))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((x.end, least))
                    + Text::new(
                        format!("{} needs {}", enough::name(q), least),
                        (-4, -2),
                        label.clone(),
                    ),
            ))?;
        }
        for (color, points) in &self.counts {
            frame::draw_line(&mut chart, points, *color, Mark::Line)?;
        }
        let caption = style::anchored(
            style::bold(style::LABEL_SIZE, style::TEXT),
            HPos::Left,
            VPos::Top,
        );
        chart
            .plotting_area()
            .strip_coord_spec()
            .draw_text(COUNT_CAPTION, &caption, (8, 4))?;
        for (i, note) in self.notes.iter().enumerate() {
            frame::note(&mut chart, note, (8, 24 + 18 * i as i32))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
