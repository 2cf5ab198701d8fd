//! Send lag over time: how late the generator itself took up requests, each target's p99 per
//! second on a log scale, with the 1 ms line past which a request counts as late. A target
//! whose line sits above it for long was measured by a generator that could not keep up: its
//! latency includes that delay (`generator.limited`).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{self, DrawResult, Figure};
use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::scales;
use super::spectrum::FLOOR_MS;
use super::timeline::{self, Timeline};
use super::{style, Chart};
use crate::record::recorder::LATE_AFTER;
use crate::resultset::series::SeriesRow;
use crate::resultset::ResultSet;

const TITLE: &str = "Generator send lag";
const Y_DESC: &str = "send lag p99 per second (ms, log scale)";

struct Line {
    color: RGBColor,
    segments: Vec<Vec<(f64, f64)>>,
}

struct SendLag {
    context: String,
    timeline: Timeline,
    legend: Vec<LegendItem>,
    lines: Vec<Line>,
}

fn late_ms() -> f64 {
    LATE_AFTER.as_secs_f64() * 1000.0
}

pub(super) fn send_lag(run: &ResultSet) -> anyhow::Result<Chart> {
    let mut figure = SendLag {
        context: super::run_context(run),
        timeline: Timeline::of(run),
        legend: Vec::new(),
        lines: Vec::new(),
    };
    let mut worst = Vec::new();
    for target in &run.targets {
        let color = style::target_color(target.index);
        let segments = timeline::segments(&target.series, |r: &SeriesRow| {
            r.send_lag_p99_ms.map(|v| v.max(FLOOR_MS))
        });
        let Some(max) = segments.iter().flatten().map(|p| p.1).reduce(f64::max) else {
            continue;
        };
        let late: u64 = target.series.iter().map(|r| r.late).sum();
        worst.push(format!(
            "{} (worst second's p99 {}, {late} late)",
            target.name,
            style::duration_ms(max)
        ));
        figure.legend.push(LegendItem::new(
            format!("{} p99", target.name),
            color,
            Mark::Line,
        ));
        figure.lines.push(Line { color, segments });
    }
    if !figure.lines.is_empty() {
        figure.legend.push(LegendItem::new(
            format!("late beyond {} ms", late_ms()),
            style::MUTED,
            Mark::Dashed,
        ));
    }
    let phases = figure.timeline.legend();
    figure.legend.extend(phases);
    let alt = if worst.is_empty() {
        format!(
            "Generator send lag for {}: not recorded in this result set.",
            run.manifest.scenario.name
        )
    } else {
        format!(
            "The generator's send lag (p99 per second, log scale) for {}, against the {} ms \
             line past which a request is late: {}.",
            run.manifest.scenario.name,
            late_ms(),
            worst.join(", ")
        )
    };
    canvas::render("send-lag", TITLE.into(), alt, &figure)
}

impl Figure for SendLag {
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
            return frame::empty_chart(root, &header, &panel, "not recorded in this result set");
        }
        let body = frame::frame(root, &header)?;
        let values = self.lines.iter().flat_map(|l| l.segments.iter().flatten());
        let (min, max) = values.fold((late_ms(), late_ms()), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
        // Room above the highest point for the phase names.
        let y = scales::log_range(min, max * 1.6, FLOOR_MS);
        let mut chart = frame::axes(
            &body,
            &panel,
            self.timeline.x_range(),
            scales::log_axis(y.clone()),
            &|x| style::number(*x),
            &|v| style::number(*v),
        )?;
        self.timeline.draw_phases(&mut chart, &y, true)?;
        let x = self.timeline.x_range();
        frame::draw_line(
            &mut chart,
            &[(x.start, late_ms()), (x.end, late_ms())],
            style::MUTED,
            Mark::Dashed,
        )?;
        for line in &self.lines {
            for segment in &line.segments {
                frame::draw_line(&mut chart, segment, line.color, Mark::Line)?;
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
    fn draws_each_targets_send_lag_against_the_late_line() {
        let mut run = fixtures::sample();
        for target in &mut run.targets {
            for row in &mut target.series {
                row.send_lag_p99_ms = Some(0.05 * row.second as f64);
                row.late = u64::from(row.second > 20);
            }
        }
        let chart = send_lag(&run).unwrap();
        fixtures::assert_chart(
            &chart,
            &[
                Y_DESC,
                timeline::X_DESC,
                "serverless p99",
                "late beyond 1 ms",
            ],
        );
        assert!(chart.alt.contains("late)"), "{}", chart.alt);
    }

    #[test]
    fn a_result_set_without_send_lag_says_so() {
        let chart = send_lag(&fixtures::sample()).unwrap();
        fixtures::assert_chart(&chart, &["not recorded in this result set"]);
        for (name, run) in fixtures::awkward() {
            send_lag(&run).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
    }
}
