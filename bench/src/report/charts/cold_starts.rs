//! Cold starts: per second, cold starts and instances alive for each target that reports cold
//! starts (left), and the latency of its cold responses next to its warm ones (right, on a log
//! scale): a dot at p50, a box over the middle half (p25 to p75), whiskers on to p90 and p99
//! and a ring at the maximum, each row saying how many responses it holds. A percentile is
//! drawn only from enough responses ([`super::enough`]; a p99 from 100), so a few cold starts
//! are not judged by a "p99" that is only their slowest; fewer than 10 are drawn one by one.

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{self, DrawResult, Figure};
use super::enough;
use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::scales;
use super::spectrum::FLOOR_MS;
use super::timeline::{self, Timeline};
use super::{style, Chart};
use crate::resultset::{ResultSet, TargetData};

const TITLE: &str = "Cold starts";
const BOX_DESC: &str = "latency (ms, log scale)";
/// How to read a row, at the top of the panel.
const KEY: &str = "dot p50 · box p25–p75 · whiskers to p90 and p99 · ring max";

/// One distribution in milliseconds: its percentiles where there are enough responses for
/// them, else each response.
#[derive(Debug, Clone, PartialEq)]
struct Spread {
    count: u64,
    /// p25, p50, p75, p90, p99, each `None` from too few responses.
    percentiles: [Option<f64>; 5],
    max: f64,
    /// Each response, when there are too few for any percentile.
    each: Vec<f64>,
}

const QUANTILES: [f64; 5] = [0.25, 0.5, 0.75, 0.9, 0.99];

impl Spread {
    fn of(histogram: &Histogram<u64>) -> Option<Spread> {
        if histogram.is_empty() {
            return None;
        }
        let ms = |us: u64| (us as f64 / 1000.0).max(FLOOR_MS);
        let count = histogram.len();
        let percentiles =
            QUANTILES.map(|q| enough::enough(q, count).then(|| ms(histogram.value_at_quantile(q))));
        let each = if percentiles.iter().all(Option::is_none) {
            let values = histogram.iter_recorded();
            values
                .flat_map(|v| {
                    std::iter::repeat_n(ms(v.value_iterated_to()), v.count_at_value() as usize)
                })
                .collect()
        } else {
            Vec::new()
        };
        Some(Spread {
            count,
            percentiles,
            max: ms(histogram.max()),
            each,
        })
    }

    fn p50(&self) -> Option<f64> {
        self.percentiles[1]
    }

    /// The row's label: `n=1020 · p50 1.1 ms · p99 5.1 ms`, or what is missing and why.
    fn label(&self) -> String {
        let at = |i: usize| self.percentiles[i].map(style::duration_ms);
        match (at(1), at(3), at(4)) {
            (Some(p50), _, Some(p99)) => format!("n={} · p50 {p50} · p99 {p99}", self.count),
            (Some(p50), Some(p90), None) => format!(
                "n={} · p50 {p50} · p90 {p90} · too few for a p99 (needs {})",
                self.count,
                enough::requests_for(0.99)
            ),
            _ => format!(
                "n={}: too few for percentiles (need {}), each drawn",
                self.count,
                enough::AT_LEAST
            ),
        }
    }

    /// The lowest value drawn.
    fn low(&self) -> f64 {
        let drawn = self.percentiles[0]
            .into_iter()
            .chain(self.each.iter().copied());
        drawn.fold(self.max, f64::min)
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
    let timeline = Timeline::of(run);
    let legend = targets
        .iter()
        .map(|t| LegendItem::new(t.name.clone(), t.color, Mark::Line))
        .chain(timeline.legend())
        .collect();
    let figure = ColdStarts {
        context: super::run_context(run),
        timeline,
        legend,
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
    let p50 = |s: &Option<Spread>| match s {
        None => "none".to_string(),
        Some(s) => match s.p50() {
            Some(p50) => format!("{} (n={})", style::duration_ms(p50), s.count),
            None => format!("too few for a p50 (n={})", s.count),
        },
    };
    format!(
        "{} had {} cold starts, cold p50 {} against warm p50 {}",
        target.name,
        count,
        p50(&target.cold),
        p50(&target.warm)
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
        let rows: Vec<(String, RGBColor, bool, Option<&Spread>)> = self
            .targets
            .iter()
            .flat_map(|t| {
                [
                    (format!("{} cold", t.name), t.color, true, t.cold.as_ref()),
                    (format!("{} warm", t.name), t.color, false, t.warm.as_ref()),
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
        let spreads: Vec<&Spread> = rows.iter().filter_map(|r| r.3).collect();
        if spreads.is_empty() {
            return frame::no_data(area, &panel, "no response was timed");
        }
        let min = spreads
            .iter()
            .map(|s| s.low())
            .fold(f64::INFINITY, f64::min);
        let max = spreads.iter().map(|s| s.max).fold(0.0, f64::max);
        let x = scales::log_range(min, max, FLOOR_MS);
        let n = rows.len();
        // Row i (from the top) is centred at n - i - 0.5; room above the rows for the key.
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
            scales::linear_axis(0.0..n as f64 + 0.3, centres.clone()),
            &|v| style::number(*v),
            &label_of,
        )?;
        frame::note(&mut chart, KEY, (8, 4))?;
        for ((_, color, cold, spread), y) in rows.iter().zip(centres) {
            let row = Row {
                y,
                color: *color,
                cold: *cold,
                x_start: x.start,
            };
            match spread {
                Some(s) => draw_box(&mut chart, s, &row)?,
                None => {
                    let what = if *cold {
                        "no cold response"
                    } else {
                        "no warm response"
                    };
                    row_label(&mut chart, what, &row, style::MUTED)?;
                }
            }
        }
        Ok(())
    }
}

/// Where a row is drawn and how.
struct Row {
    y: f64,
    color: RGBColor,
    cold: bool,
    /// The left end of the axis, where the row's label starts.
    x_start: f64,
}

const HALF: f64 = 0.24;

fn row_label<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    text: &str,
    row: &Row,
    color: RGBColor,
) -> DrawResult<(), DB>
where
    DB: DrawingBackend,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let note = style::anchored(
        style::text(style::LABEL_SIZE, color),
        HPos::Left,
        VPos::Bottom,
    );
    chart.draw_series(std::iter::once(
        EmptyElement::at((row.x_start, row.y + HALF)) + Text::new(text.to_string(), (8, -5), note),
    ))?;
    Ok(())
}

/// A row: box p25–p75, whiskers to p90 (thick) and p99 (thin), dot at p50, ring at the
/// maximum; or each response when there are too few for percentiles.
fn draw_box<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    s: &Spread,
    row: &Row,
) -> DrawResult<(), DB>
where
    DB: DrawingBackend,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let (y, color) = (row.y, row.color);
    let line = style::line(color, style::LINE);
    let [p25, p50, p75, p90, p99] = s.percentiles;
    if let (Some(p25), Some(p75)) = (p25, p75) {
        let corners = [(p25, y - HALF), (p75, y + HALF)];
        let opacity = if row.cold { 0.75 } else { 0.25 };
        chart.draw_series([
            Rectangle::new(corners, style::fill(color, opacity)),
            Rectangle::new(corners, line),
        ])?;
    }
    let cap = |at: f64, half: f64| PathElement::new(vec![(at, y - half), (at, y + half)], line);
    if let (Some(p75), Some(p90)) = (p75, p90) {
        chart.draw_series([
            PathElement::new(vec![(p75, y), (p90, y)], line),
            cap(p90, HALF / 2.0),
        ])?;
    }
    if let (Some(p90), Some(p99)) = (p90, p99) {
        let thin = style::line(color, 1);
        chart.draw_series([
            PathElement::new(vec![(p90, y), (p99, y)], thin),
            PathElement::new(vec![(p99, y - HALF / 3.0), (p99, y + HALF / 3.0)], thin),
        ])?;
    }
    chart.draw_series(std::iter::once(Circle::new((s.max, y), 5, line)))?;
    for &value in &s.each {
        chart.draw_series(std::iter::once(Circle::new(
            (value, y),
            4,
            style::fill(color, 0.8),
        )))?;
    }
    if let Some(p50) = p50 {
        chart.draw_series([
            Circle::new((p50, y), 7, style::fill(style::BACKGROUND, 1.0)),
            Circle::new((p50, y), 5, style::fill(color, 1.0)),
        ])?;
    }
    row_label(chart, &s.label(), row, style::TEXT)
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
                KEY,
                timeline::X_DESC,
                "serverless cold",
                "serverless warm",
                "idle phase (no load)",
            ],
        );
        let serverless = run.target("serverless").unwrap();
        for (what, log) in [
            ("cold", &serverless.cold_latency),
            ("warm", &serverless.warm_latency),
        ] {
            let n = TargetData::merged(log).len();
            assert!(
                chart.svg.contains(&format!("n={n}")),
                "{what}: n={n} is said"
            );
        }
        assert!(
            !chart.svg.contains("persistent"),
            "the persistent fixture does not report cold starts"
        );
    }

    fn histogram_of(ms: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut histogram = crate::resultset::hlog::new_histogram();
        for value in ms {
            histogram.record(value * 1000).unwrap();
        }
        histogram
    }

    #[test]
    fn a_spread_has_the_middle_half_and_only_the_percentiles_it_has_responses_for() {
        // Twenty cold starts at 100–119 ms: a box and p90, but no p99 (it needs 100).
        let cold = Spread::of(&histogram_of(100..120)).unwrap();
        let [p25, p50, p75, p90, p99] = cold.percentiles;
        assert_eq!((cold.count, p99), (20, None));
        let (p25, p50, p75, p90) = (p25.unwrap(), p50.unwrap(), p75.unwrap(), p90.unwrap());
        assert!(p25 < p50 && p50 < p75 && p75 < p90 && p90 < cold.max);
        assert!(
            (104.0..106.0).contains(&p25) && (113.0..116.0).contains(&p75),
            "{cold:?}"
        );
        assert!(cold.label().starts_with("n=20 · p50 "));
        assert!(cold.label().contains("too few for a p99 (needs 100)"));
        // A thousand warm responses around 1 ms with a noisy tail: the tail shows in the p99
        // whisker, not in the box, which stays far below the cold one.
        let warm = (0..1000).map(|i| if i % 50 == 0 { 300 } else { 1 + i % 2 });
        let warm = Spread::of(&histogram_of(warm)).unwrap();
        assert!(warm.percentiles[4].unwrap() >= 299.0);
        assert!(warm.percentiles[2].unwrap() < 2.1 && warm.percentiles[2].unwrap() < p25);
        assert!(warm.label().starts_with("n=1000 · p50 ") && warm.label().contains("p99 "));
        // Three responses are three dots.
        let few = Spread::of(&histogram_of([5, 50, 500])).unwrap();
        assert_eq!(few.percentiles, [None; 5]);
        assert_eq!(few.each.len(), 3);
        assert!(few.label().starts_with("n=3: too few for percentiles"));
        assert!(few.low() < 5.1);
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
