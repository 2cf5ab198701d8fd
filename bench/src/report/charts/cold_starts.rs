//! Cold starts: per second, cold starts and instances alive for each target that reports cold
//! starts (left), and the latency of its cold responses next to its warm ones (right: a dot
//! at p50, a box on to p99 and a whisker to the maximum, on a log scale).

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{self, DrawResult, Figure};
use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::scales;
use super::spectrum::FLOOR_MS;
use super::timeline::{self, Timeline};
use super::{style, Chart};
use crate::resultset::{ResultSet, TargetData};

const TITLE: &str = "Cold starts";
const BOX_DESC: &str = "latency (ms, log scale): dot p50, box to p99, whisker to max";

/// Percentiles of one distribution, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Spread {
    count: u64,
    p50: f64,
    p99: f64,
    max: f64,
}

impl Spread {
    fn of(histogram: &Histogram<u64>) -> Option<Spread> {
        if histogram.is_empty() {
            return None;
        }
        let ms = |us: u64| (us as f64 / 1000.0).max(FLOOR_MS);
        Some(Spread {
            count: histogram.len(),
            p50: ms(histogram.value_at_quantile(0.50)),
            p99: ms(histogram.value_at_quantile(0.99)),
            max: ms(histogram.max()),
        })
    }
}

struct TargetCold {
    name: String,
    color: RGBColor,
    cold_per_second: Vec<(f64, f64)>,
    /// Empty when the target does not report instances.
    instances: Vec<(f64, f64)>,
    cold: Option<Spread>,
    warm: Option<Spread>,
}

struct ColdStarts {
    context: String,
    timeline: Timeline,
    legend: Vec<LegendItem>,
    targets: Vec<TargetCold>,
}

pub(super) fn cold_starts(run: &ResultSet) -> anyhow::Result<Chart> {
    let targets: Vec<TargetCold> = run
        .targets
        .iter()
        .filter(|t| t.reports_cold_starts())
        .map(target_cold)
        .collect();
    let alt = if targets.is_empty() {
        format!(
            "Cold starts for {}: no target reports cold starts.",
            run.manifest.scenario.name
        )
    } else {
        let parts: Vec<String> = targets.iter().map(describe).collect();
        format!(
            "Cold starts and instances alive per second, and cold against warm latency, for {}: \
             {}.",
            run.manifest.scenario.name,
            parts.join("; ")
        )
    };
    let figure = ColdStarts {
        context: super::run_context(run),
        timeline: Timeline::of(run),
        legend: targets
            .iter()
            .map(|t| LegendItem::new(t.name.clone(), t.color, Mark::Line))
            .collect(),
        targets,
    };
    canvas::render("cold-starts", TITLE.into(), alt, &figure)
}

fn target_cold(target: &TargetData) -> TargetCold {
    let has_instances = target.series.iter().any(|r| r.instances.is_some());
    TargetCold {
        name: target.name.clone(),
        color: style::target_color(target.index),
        cold_per_second: timeline::stairs(&target.series, |r| r.cold_starts.unwrap_or(0) as f64),
        instances: if has_instances {
            timeline::stairs(&target.series, |r| r.instances.unwrap_or(0) as f64)
        } else {
            Vec::new()
        },
        cold: Spread::of(&TargetData::merged(&target.cold_latency)),
        warm: Spread::of(&TargetData::merged(&target.warm_latency)),
    }
}

fn describe(target: &TargetCold) -> String {
    let count: f64 = target.cold_per_second.iter().step_by(2).map(|p| p.1).sum();
    let p50 = |s: Option<Spread>| {
        s.map(|s| style::duration_ms(s.p50))
            .unwrap_or_else(|| "none".into())
    };
    format!(
        "{} had {} cold starts, cold p50 {} against warm p50 {}",
        target.name,
        count,
        p50(target.cold),
        p50(target.warm)
    )
}

impl Figure for ColdStarts {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let header = Header {
            title: TITLE,
            context: &self.context,
            legend: &self.legend,
        };
        if self.targets.is_empty() {
            let panel = Panel {
                x_desc: timeline::X_DESC,
                y_desc: "cold starts per second",
                ..Panel::default()
            };
            let why = "no target reports cold starts (x-coldfront-cold)";
            return frame::empty_chart(root, &header, &panel, why);
        }
        let body = frame::frame(root, &header)?;
        let (left, right) = body.split_horizontally(body.dim_in_pixel().0 * 55 / 100);
        let (top, bottom) = left.split_vertically(left.dim_in_pixel().1 / 2);
        self.draw_per_second(&top, "cold starts per second", "", true, |t| {
            &t.cold_per_second
        })?;
        self.draw_per_second(&bottom, "instances alive", timeline::X_DESC, false, |t| {
            &t.instances
        })?;
        self.draw_spreads(&right)
    }
}

impl ColdStarts {
    /// One staircase per target of what `points` picks.
    fn draw_per_second<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        x_desc: &str,
        phase_names: bool,
        points: impl Fn(&TargetCold) -> &Vec<(f64, f64)>,
    ) -> DrawResult<(), DB> {
        let panel = Panel {
            caption: Some(caption),
            x_desc,
            ..Panel::default()
        };
        let drawn: Vec<&TargetCold> = self
            .targets
            .iter()
            .filter(|t| !points(t).is_empty())
            .collect();
        if drawn.is_empty() {
            return frame::no_data(area, &panel, "no target reports it");
        }
        let max = drawn
            .iter()
            .flat_map(|t| points(t))
            .map(|p| p.1)
            .fold(0.0, f64::max);
        let y = scales::zero_range(max * if phase_names { 1.3 } else { 1.1 }, 4.0);
        let mut chart = frame::axes(
            area,
            &panel,
            self.timeline.x_range(),
            y.clone(),
            &|x| style::number(*x),
            &|v| style::number(*v),
        )?;
        self.timeline.draw_phases(&mut chart, &y, phase_names)?;
        for target in drawn {
            let points = points(target);
            chart.draw_series(AreaSeries::new(
                points.iter().copied(),
                0.0,
                style::fill(target.color, 0.15),
            ))?;
            frame::draw_line(&mut chart, points, target.color, Mark::Line)?;
        }
        Ok(())
    }

    /// Cold and warm latency side by side, one row each per target.
    fn draw_spreads<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> DrawResult<(), DB> {
        let rows: Vec<(String, RGBColor, bool, Option<Spread>)> = self
            .targets
            .iter()
            .flat_map(|t| {
                [
                    (format!("{} cold", t.name), t.color, true, t.cold),
                    (format!("{} warm", t.name), t.color, false, t.warm),
                ]
            })
            .collect();
        let label_width = rows
            .iter()
            .map(|(label, ..)| area.estimate_text_size(label, &style::tick_labels()))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .map(|(w, _)| w + 16)
            .max()
            .unwrap_or(60);
        let panel = Panel {
            caption: Some("cold against warm latency"),
            x_desc: BOX_DESC,
            y_label_width: Some(label_width),
            ..Panel::default()
        };
        let spreads: Vec<Spread> = rows.iter().filter_map(|r| r.3).collect();
        if spreads.is_empty() {
            return frame::no_data(area, &panel, "no response was timed");
        }
        let min = spreads.iter().map(|s| s.p50).fold(f64::INFINITY, f64::min);
        let max = spreads.iter().map(|s| s.max).fold(0.0, f64::max);
        let x = scales::log_range(min, max, FLOOR_MS);
        let n = rows.len();
        // Row i (from the top) is centred at n - i - 0.5.
        let centres: Vec<f64> = (0..n).map(|i| n as f64 - i as f64 - 0.5).collect();
        let label_of = |v: &f64| {
            let i = n as f64 - v - 0.5;
            rows.get(i.round() as usize)
                .map(|r| r.0.clone())
                .unwrap_or_default()
        };
        let mut chart = frame::axes(
            area,
            &panel,
            scales::log_axis(x.clone()),
            scales::linear_axis(0.0..n as f64, centres.clone()),
            &|v| style::number(*v),
            &label_of,
        )?;
        for ((_, color, cold, spread), y) in rows.iter().zip(centres) {
            match spread {
                Some(s) => draw_box(&mut chart, s, y, *color, *cold, x.start)?,
                None => {
                    let note = style::anchored(
                        style::text(style::LABEL_SIZE, style::MUTED),
                        HPos::Left,
                        VPos::Center,
                    );
                    let what = if *cold {
                        "no cold response"
                    } else {
                        "no warm response"
                    };
                    chart.draw_series(std::iter::once(
                        EmptyElement::at((x.start, y)) + Text::new(what, (8, 0), note),
                    ))?;
                }
            }
        }
        Ok(())
    }
}

fn draw_box<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    s: &Spread,
    y: f64,
    color: RGBColor,
    cold: bool,
    x_start: f64,
) -> DrawResult<(), DB>
where
    DB: DrawingBackend,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let half = 0.28;
    let line = style::line(color, style::LINE);
    chart.draw_series([
        Rectangle::new(
            [(s.p50, y - half), (s.p99, y + half)],
            style::fill(color, if cold { 0.75 } else { 0.25 }),
        ),
        Rectangle::new([(s.p50, y - half), (s.p99, y + half)], line),
    ])?;
    chart.draw_series([
        PathElement::new(vec![(s.p99, y), (s.max, y)], line),
        PathElement::new(vec![(s.max, y - half / 2.0), (s.max, y + half / 2.0)], line),
    ])?;
    chart.draw_series([
        Circle::new((s.p50, y), 7, style::fill(style::BACKGROUND, 1.0)),
        Circle::new((s.p50, y), 5, style::fill(color, 1.0)),
    ])?;
    let note = style::anchored(
        style::text(style::LABEL_SIZE, style::TEXT),
        HPos::Left,
        VPos::Bottom,
    );
    let text = format!(
        "p50 {} · p99 {} · n={}",
        style::duration_ms(s.p50),
        style::duration_ms(s.p99),
        s.count
    );
    chart.draw_series(std::iter::once(
        EmptyElement::at((x_start, y + half)) + Text::new(text, (8, -5), note),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn draws_cold_starts_instances_and_cold_against_warm() {
        let run = fixtures::sample();
        let chart = cold_starts(&run).unwrap();
        fixtures::assert_chart(
            &chart,
            &[
                "cold starts per second",
                "instances alive",
                BOX_DESC,
                timeline::X_DESC,
                "serverless cold",
                "serverless warm",
            ],
        );
        assert!(
            !chart.svg.contains("persistent"),
            "the persistent fixture does not report cold starts"
        );
    }

    #[test]
    fn awkward_runs_draw_without_panicking() {
        for (name, run) in fixtures::awkward() {
            let chart = cold_starts(&run).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let expected: &[&str] = match name {
                "empty" | "zero latency" => &["no data: no target reports cold starts"],
                _ => &["cold starts per second"],
            };
            fixtures::assert_chart(&chart, expected);
        }
    }
}
