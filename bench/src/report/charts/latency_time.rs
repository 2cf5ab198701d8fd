//! Latency over time: each target's per-second p50 (dashed) and p99 (solid) latency against
//! seconds since the start of its load, over the scenario's phases.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{self, DrawResult, Figure};
use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::spectrum::FLOOR_MS;
use super::timeline::{self, Timeline};
use super::{style, Chart};
use crate::record::series::SeriesRow;
use crate::report::RunData;

const Y_DESC: &str = "latency per second (ms, log scale)";

struct Line {
    color: RGBColor,
    mark: Mark,
    segments: Vec<Vec<(f64, f64)>>,
}

struct LatencyOverTime {
    context: String,
    timeline: Timeline,
    legend: Vec<LegendItem>,
    lines: Vec<Line>,
}

const TITLE: &str = "Latency over time";

pub(super) fn latency_over_time(run: &RunData) -> anyhow::Result<Chart> {
    let mut figure = LatencyOverTime {
        context: super::run_context(run),
        timeline: Timeline::of(run),
        legend: Vec::new(),
        lines: Vec::new(),
    };
    let mut worst = Vec::new();
    for target in &run.targets {
        let color = style::target_color(target.index);
        let ms = |v: Option<f64>| v.map(|v| v.max(FLOOR_MS));
        let p99 = timeline::segments(&target.series, |r: &SeriesRow| ms(r.p99_ms));
        let p50 = timeline::segments(&target.series, |r: &SeriesRow| ms(r.p50_ms));
        if let Some(max) = p99.iter().flatten().map(|p| p.1).reduce(f64::max) {
            worst.push(format!(
                "{} (worst p99 {})",
                target.name,
                style::duration_ms(max)
            ));
        }
        for (label, mark, segments) in [("p99", Mark::Line, p99), ("p50", Mark::Dashed, p50)] {
            if segments.is_empty() {
                continue;
            }
            figure.legend.push(LegendItem::new(
                format!("{} {label}", target.name),
                color,
                mark,
            ));
            figure.lines.push(Line {
                color,
                mark,
                segments,
            });
        }
    }
    let alt = if worst.is_empty() {
        format!(
            "Latency over time for {}: no request completed.",
            run.manifest.scenario.name
        )
    } else {
        format!(
            "Per-second p50 (dashed) and p99 (solid) latency over time for {}, on a log scale, \
             with the scenario's phases shaded: {}.",
            run.manifest.scenario.name,
            worst.join(", ")
        )
    };
    canvas::render("latency-over-time", TITLE.into(), alt, &figure)
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
            x_desc: timeline::X_DESC,
            y_desc: Y_DESC,
            ..Panel::default()
        };
        if self.lines.is_empty() {
            return frame::empty_chart(root, &header, &panel, "no request completed");
        }
        let body = frame::frame(root, &header)?;
        let values = self.lines.iter().flat_map(|l| l.segments.iter().flatten());
        let (min, max) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
        // Room above the highest point for the phase names.
        let y = frame::log_range(min, max * 1.6, FLOOR_MS);
        let mut chart = frame::axes(
            &body,
            &panel,
            self.timeline.x_range(),
            frame::log_axis(y.clone()),
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
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn draws_each_targets_p50_and_p99_over_named_phases() {
        let chart = latency_over_time(&fixtures::sample()).unwrap();
        fixtures::assert_chart(
            &chart,
            &[
                Y_DESC,
                timeline::X_DESC,
                "serverless p99",
                "persistent p50",
                "steady",
                "idle",
                "burst",
            ],
        );
    }

    #[test]
    fn awkward_runs_draw_without_panicking() {
        for (name, run) in fixtures::awkward() {
            let chart = latency_over_time(&run).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let expected: &[&str] = if name == "empty" {
                &["no data: no request completed"]
            } else {
                &[Y_DESC]
            };
            fixtures::assert_chart(&chart, expected);
        }
    }
}
