//! Latency over time: each target's p50 (dashed) and p99 (solid) latency against seconds since
//! the start of its load, over the scenario's phases. Per second up to `MAX_POINTS` seconds;
//! a longer run is drawn per window of several seconds (each window's percentiles computed
//! from its merged interval histograms, never averaged), which the axis says.

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{self, DrawResult, Figure};
use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::scales;
use super::spectrum::{FLOOR_MS, ZERO_LATENCY};
use super::timeline::{self, Timeline};
use super::{style, Chart};
use crate::resultset::hlog::HlogInterval;
use crate::resultset::series::SeriesRow;
use crate::resultset::ResultSet;

const Y_DESC: &str = "latency per second (ms, log scale)";
/// Points per line at most before seconds are grouped into windows.
const MAX_POINTS: u64 = 200;

/// Seconds per point for a run of `seconds`.
fn window_seconds(seconds: u64) -> u64 {
    seconds.div_ceil(MAX_POINTS).max(1)
}

/// p50 and p99 of each `window`-second window of `intervals` (in time order, as a log holds
/// them), at the window's middle, as segments that break at windows without a sample. One
/// window's histogram at a time: memory does not grow with the run's length.
fn windowed(intervals: &[HlogInterval], window: u64) -> [Vec<Vec<(f64, f64)>>; 2] {
    let mut lines: [Vec<Vec<(f64, f64)>>; 2] = [Vec::new(), Vec::new()];
    let mut previous = None;
    let mut draw = |k: u64, histogram: &Histogram<u64>| {
        if histogram.max() == 0 {
            return;
        }
        let x = (k as f64 + 0.5) * window as f64;
        let adjacent = previous == Some(k.wrapping_sub(1));
        for (line, q) in lines.iter_mut().zip([0.5, 0.99]) {
            let point = (
                x,
                (histogram.value_at_quantile(q) as f64 / 1000.0).max(FLOOR_MS),
            );
            match line.last_mut() {
                Some(segment) if adjacent => segment.push(point),
                _ => line.push(vec![point]),
            }
        }
        previous = Some(k);
    };
    let mut current: Option<(u64, Histogram<u64>)> = None;
    for interval in intervals {
        let k = (interval.start.as_secs_f64() / window as f64 + 1e-6).floor() as u64;
        match current.as_mut() {
            Some((open, merged)) if *open == k => {
                // Intervals share coldfront's bounds; one that does not is left out, not fatal.
                let _ = merged.add(interval.histogram());
            }
            _ => {
                if let Some((done, merged)) = current.take() {
                    draw(done, &merged);
                }
                current = Some((k, interval.histogram()));
            }
        }
    }
    if let Some((done, merged)) = current {
        draw(done, &merged);
    }
    lines
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
            format!("latency per {window} s window (ms, log scale)")
        },
        timeline: Timeline::of(run),
        legend: Vec::new(),
        lines: Vec::new(),
    };
    let mut worst = Vec::new();
    for target in &run.targets {
        let color = style::target_color(target.index);
        let [p50, p99] = if window > 1 && !target.latency.is_empty() {
            windowed(&target.latency, window)
        } else {
            // A zero cannot sit on a log axis: it is left out, and said if it is all there is.
            let ms = |v: Option<f64>| v.filter(|v| *v > 0.0).map(|v| v.max(FLOOR_MS));
            [
                timeline::segments(&target.series, |r: &SeriesRow| ms(r.p50_ms)),
                timeline::segments(&target.series, |r: &SeriesRow| ms(r.p99_ms)),
            ]
        };
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
    let completed = run
        .targets
        .iter()
        .any(|t| t.series.iter().any(|r| r.completed > 0));
    figure.empty_because = if completed {
        ZERO_LATENCY
    } else {
        "no request completed"
    };
    let alt = if worst.is_empty() {
        format!(
            "Latency over time for {}: {}.",
            run.manifest.scenario.name, figure.empty_because
        )
    } else {
        format!(
            "p50 (dashed) and p99 (solid) latency per {} over time for {}, on a log scale, \
             with the scenario's phases shaded: {}.",
            if window == 1 {
                "second".to_string()
            } else {
                format!("{window} s window")
            },
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
            y_desc: &self.y_desc,
            ..Panel::default()
        };
        if self.lines.is_empty() {
            return frame::empty_chart(root, &header, &panel, self.empty_because);
        }
        let body = frame::frame(root, &header)?;
        let values = self.lines.iter().flat_map(|l| l.segments.iter().flatten());
        let (min, max) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), p| {
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
    fn a_long_run_is_drawn_per_window_from_the_merged_histograms() {
        assert_eq!(window_seconds(23), 1);
        assert_eq!(window_seconds(200), 1);
        assert_eq!(window_seconds(201), 2);
        assert_eq!(window_seconds(600), 3);
        let target = fixtures::target(
            "serverless",
            0,
            &fixtures::Shape::serverless(9, |s| if s == 5 { 0 } else { 40 }),
        );
        let [p50, p99] = windowed(&target.latency, 3);
        // Windows [0,3) [3,6) [6,9): second 5 is empty but its window is not.
        assert_eq!(p99.len(), 1);
        let xs: Vec<f64> = p99[0].iter().map(|p| p.0).collect();
        assert_eq!(xs, vec![1.5, 4.5, 7.5]);
        let first = crate::resultset::hlog::merged(&target.latency[0..3]);
        assert_eq!(p50[0][0].1, first.value_at_quantile(0.5) as f64 / 1000.0);
        assert_eq!(p99[0][0].1, first.value_at_quantile(0.99) as f64 / 1000.0);

        let long = fixtures::target("persistent", 1, &fixtures::Shape::persistent(400, |_| 5));
        let mut run = fixtures::sample();
        run.targets = vec![long];
        let chart = latency_over_time(&run).unwrap();
        fixtures::assert_chart(&chart, &["latency per 2 s window (ms, log scale)"]);
    }

    #[test]
    fn awkward_runs_draw_without_panicking() {
        for (name, run) in fixtures::awkward() {
            let chart = latency_over_time(&run).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let expected: &[&str] = match name {
                "empty" => &["no data: no request completed"],
                "zero latency" => &["no data: every request measured 0 ms"],
                _ => &[Y_DESC],
            };
            fixtures::assert_chart(&chart, expected);
        }
    }
}
