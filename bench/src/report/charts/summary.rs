//! The run at a glance: four bar panels, one bar (or two, for p50 and p99 latency) per target:
//! latency, throughput, timeout rate and error rate. Latency goes on a log scale when the
//! slowest p99 is more than [`LOG_RATIO`] times the fastest p50 (a linear axis would flatten
//! the p50 bars to nothing), and says so. A rate of zero is said in words ("0 errors"), and a
//! panel where every target has none shows only those words. A target the run stopped before
//! summarizing is measured from what it recorded, and says so.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{self, DrawResult, Figure};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};

use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::scales;
use super::spectrum::FLOOR_MS;
use super::{style, Chart};
use crate::resultset::{ResultSet, TargetData};

const TITLE: &str = "Summary";
/// Latency is drawn on a log scale past this ratio of the slowest p99 to the fastest p50.
const LOG_RATIO: f64 = 10.0;

/// What the panels show of one target.
#[derive(Debug, Clone, PartialEq)]
struct Figures {
    label: String,
    color: RGBColor,
    p50_ms: f64,
    p99_ms: f64,
    throughput_rps: f64,
    timeout_rate: f64,
    error_rate: f64,
    requests: u64,
    timeouts: u64,
    errors: u64,
}

impl Figures {
    /// From the target's summary, or from its series and log when the run stopped before
    /// writing one (the label then says "partial").
    fn of(target: &TargetData) -> Figures {
        let color = style::target_color(target.index);
        let finite = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
        if let Some(s) = &target.summary {
            return Figures {
                label: target.name.clone(),
                color,
                p50_ms: finite(s.latency_ms.p50),
                p99_ms: finite(s.latency_ms.p99),
                throughput_rps: finite(s.throughput_rps),
                timeout_rate: finite(s.timeout_rate),
                error_rate: finite(s.error_rate),
                requests: s.requests,
                timeouts: s.timeouts,
                errors: s.errors.values().sum(),
            };
        }
        let sum = |f: fn(&crate::resultset::series::SeriesRow) -> u64| -> u64 {
            target.series.iter().map(f).sum()
        };
        let requests = sum(|r| r.completed);
        let rate = |n: u64| {
            if requests == 0 {
                0.0
            } else {
                n as f64 / requests as f64
            }
        };
        let latency = TargetData::merged(&target.latency);
        let quantile = |q: f64| {
            if latency.is_empty() {
                0.0
            } else {
                latency.value_at_quantile(q) as f64 / 1000.0
            }
        };
        Figures {
            label: format!("{} (partial)", target.name),
            color,
            p50_ms: quantile(0.5),
            p99_ms: quantile(0.99),
            throughput_rps: requests as f64 / target.series.len().max(1) as f64,
            timeout_rate: rate(sum(|r| r.timeouts)),
            error_rate: rate(sum(|r| r.errors)),
            requests,
            timeouts: sum(|r| r.timeouts),
            errors: sum(|r| r.errors),
        }
    }
}

struct Summary {
    context: String,
    legend: Vec<LegendItem>,
    targets: Vec<Figures>,
}

pub(super) fn summary(run: &ResultSet) -> anyhow::Result<Chart> {
    let targets: Vec<Figures> = run.targets.iter().map(Figures::of).collect();
    let alt = if targets.is_empty() {
        format!(
            "Summary of {}: no target recorded anything.",
            run.manifest.scenario.name
        )
    } else {
        let parts: Vec<String> = targets
            .iter()
            .map(|f| {
                format!(
                    "{} p50 {}, p99 {}, {} req/s, {} timeouts, {} errors",
                    f.label,
                    style::duration_ms(f.p50_ms),
                    style::duration_ms(f.p99_ms),
                    style::number(f.throughput_rps),
                    crate::model::percent(f.timeout_rate),
                    crate::model::percent(f.error_rate)
                )
            })
            .collect();
        format!(
            "Summary of {}: {}.",
            run.manifest.scenario.name,
            parts.join("; ")
        )
    };
    let figure = Summary {
        context: super::run_context(run),
        legend: targets
            .iter()
            .map(|f| LegendItem::new(f.label.clone(), f.color, Mark::Fill))
            .collect(),
        targets,
    };
    canvas::render("summary", TITLE.into(), alt, &figure)
}

/// Whether the latency panel needs a log scale: the slowest p99 is more than [`LOG_RATIO`]
/// times the fastest p50.
fn latency_on_log_scale(targets: &[Figures]) -> bool {
    let fastest = targets
        .iter()
        .map(|f| f.p50_ms)
        .fold(f64::INFINITY, f64::min);
    let slowest = targets.iter().map(|f| f.p99_ms).fold(0.0, f64::max);
    slowest > LOG_RATIO * fastest.max(FLOOR_MS)
}

/// `n` of `what` in words, or its `rate` and count: `0 errors`, `1.2% (12)`.
fn count_label(n: u64, rate: f64, what: &str) -> String {
    if n == 0 {
        format!("0 {what}")
    } else {
        format!("{} ({n})", crate::model::percent(rate))
    }
}

/// One bar: its left and right edge in the panel's x units, height, fill opacity and label.
struct Bar {
    left: f64,
    right: f64,
    value: f64,
    color: RGBColor,
    opacity: f64,
    label: String,
}

impl Figure for Summary {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let header = Header {
            title: TITLE,
            context: &self.context,
            legend: &self.legend,
        };
        if self.targets.is_empty() {
            let panel = Panel::default();
            return frame::empty_chart(root, &header, &panel, "no target recorded anything");
        }
        let body = frame::frame(root, &header)?;
        let areas = body.split_evenly((2, 2));
        self.draw_latency(&areas[0])?;
        let number = |v: f64| style::number(v);
        let throughput = self.bars(|f| (f.throughput_rps, number(f.throughput_rps)));
        let max = throughput.iter().map(|b| b.value).fold(0.0, f64::max);
        // Room above the tallest bar for its label.
        let y = scales::zero_range(max * 1.15, 1.0);
        let caption = "throughput (requests/s)";
        self.draw_bars(&areas[1], caption, &throughput, y, number)?;
        let timeouts = |f: &Figures| (f.timeouts, f.timeout_rate);
        self.draw_counts(&areas[2], "timeout rate", "timeouts", timeouts)?;
        let errors = |f: &Figures| (f.errors, f.error_rate);
        self.draw_counts(
            &areas[3],
            "error rate (any outcome but ok)",
            "errors",
            errors,
        )
    }
}

impl Summary {
    /// One bar per target of `value` (height and label).
    fn bars(&self, value: impl Fn(&Figures) -> (f64, String)) -> Vec<Bar> {
        self.targets
            .iter()
            .enumerate()
            .map(|(i, f)| Bar {
                left: i as f64 + 0.25,
                right: i as f64 + 0.75,
                value: value(f).0,
                color: f.color,
                opacity: 1.0,
                label: value(f).1,
            })
            .collect()
    }

    /// p50 and p99 side by side, on a log scale when a linear one would hide the p50s.
    fn draw_latency<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> DrawResult<(), DB> {
        let bars: Vec<Bar> = self
            .targets
            .iter()
            .enumerate()
            .flat_map(|(i, f)| {
                let i = i as f64;
                let bar = |left, value, opacity, name| Bar {
                    left: i + left,
                    right: i + left + 0.35,
                    value,
                    color: f.color,
                    opacity,
                    label: format!("{name} {}", style::number(value)),
                };
                [
                    bar(0.12, f.p50_ms, 0.4, "p50"),
                    bar(0.53, f.p99_ms, 1.0, "p99"),
                ]
            })
            .collect();
        let number = |v: f64| style::number(v);
        let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
        if latency_on_log_scale(&self.targets) {
            let min = bars.iter().map(|b| b.value).fold(f64::INFINITY, f64::min);
            // Room above the tallest bar for its label, a log step's worth.
            let y = scales::log_range(min, max * 2.0, FLOOR_MS);
            let caption = "latency p50 and p99 (ms, log scale)";
            return self.draw_bars(area, caption, &bars, scales::log_axis(y), number);
        }
        let y = scales::zero_range(max * 1.15, 1.0);
        self.draw_bars(area, "latency p50 and p99 (ms)", &bars, y, number)
    }

    /// Rates of `what` (count and rate from `value`) as bars; a zero in words, and only words
    /// when every target's is zero.
    fn draw_counts<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        what: &str,
        value: impl Fn(&Figures) -> (u64, f64),
    ) -> DrawResult<(), DB> {
        if self.targets.iter().all(|f| value(f).0 == 0) {
            return self.draw_none(area, caption, what);
        }
        let bars = self.bars(|f| {
            let (n, rate) = value(f);
            (rate, count_label(n, rate, what))
        });
        let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
        let y = scales::zero_range(max * 1.15, 0.01);
        self.draw_bars(area, caption, &bars, y, crate::model::percent)
    }

    /// A panel where no target had any `what`: "0 `what`" and the requests, per target.
    fn draw_none<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        what: &str,
    ) -> DrawResult<(), DB> {
        let panel = Panel {
            caption: Some(caption),
            no_x_grid: true,
            ..Panel::default()
        };
        let n = self.targets.len();
        let mut chart = frame::builder(area, &panel).build_cartesian_2d(0.0..n as f64, 0.0..1.0)?;
        let mut mesh = chart.configure_mesh();
        frame::style_mesh(&mut mesh, &panel);
        mesh.x_labels(0).y_labels(0).disable_y_mesh().draw()?;
        let centred = |text| style::anchored(text, HPos::Center, VPos::Center);
        for (i, f) in self.targets.iter().enumerate() {
            let x = i as f64 + 0.5;
            let none = centred(style::bold(style::PANEL_SIZE, f.color));
            let requests = centred(style::text(style::LABEL_SIZE, style::MUTED));
            chart.draw_series([
                Text::new(format!("0 {what}"), (x, 0.62), none),
                Text::new(format!("in {} requests", f.requests), (x, 0.45), requests),
            ])?;
            let name = centred(style::text(style::LABEL_SIZE, style::TEXT));
            chart.draw_series(std::iter::once(Text::new(f.label.clone(), (x, 0.3), name)))?;
        }
        Ok(())
    }

    fn draw_bars<DB, Y>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        bars: &[Bar],
        y: Y,
        format_y: fn(f64) -> String,
    ) -> DrawResult<(), DB>
    where
        DB: DrawingBackend,
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let panel = Panel {
            caption: Some(caption),
            no_x_grid: true,
            ..Panel::default()
        };
        let n = self.targets.len();
        let centres: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
        let label_of = |x: &f64| {
            self.targets
                .get(x.floor().max(0.0) as usize)
                .map(|f| f.label.clone())
                .unwrap_or_default()
        };
        let mut chart = frame::axes(
            area,
            &panel,
            scales::linear_axis(0.0..n as f64, centres),
            y,
            &label_of,
            &|v| format_y(*v),
        )?;
        // Bars stand on the bottom of the axis (zero, or a log axis's floor).
        let range = chart.y_range();
        let label = style::anchored(
            style::text(style::LABEL_SIZE, style::TEXT),
            HPos::Center,
            VPos::Bottom,
        );
        for bar in bars {
            let value = bar.value.clamp(range.start, range.end);
            let corners = [(bar.left, range.start), (bar.right, value)];
            chart.draw_series([
                Rectangle::new(corners, style::fill(bar.color, bar.opacity)),
                Rectangle::new(corners, style::line(bar.color, 1)),
            ])?;
            chart.draw_series(std::iter::once(
                EmptyElement::at(((bar.left + bar.right) / 2.0, value))
                    + Text::new(bar.label.clone(), (0, -4), label.clone()),
            ))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn draws_four_panels_naming_every_target() {
        let run = fixtures::sample();
        let chart = summary(&run).unwrap();
        fixtures::assert_chart(
            &chart,
            &[
                "latency p50 and p99 (ms, log scale)",
                "throughput (requests/s)",
                "timeout rate",
                "error rate",
                "serverless",
                "persistent",
                "p99 ",
            ],
        );
        let persistent = run.target("persistent").unwrap().summary.as_ref().unwrap();
        let throughput = style::number(persistent.throughput_rps);
        assert!(chart.svg.contains(&throughput), "bar labelled {throughput}");
    }

    #[test]
    fn latency_goes_on_a_log_scale_when_the_p99s_dwarf_the_p50s() {
        let mut run = fixtures::sample();
        let figures: Vec<Figures> = run.targets.iter().map(Figures::of).collect();
        assert!(figures[0].p99_ms > LOG_RATIO * figures[1].p50_ms);
        assert!(latency_on_log_scale(&figures));
        // The log axis has honest ticks (1, 2, 5 per decade) and p50 bars well above its floor.
        let chart = summary(&run).unwrap();
        let texts = fixtures::svg_texts(&chart.svg);
        for tick in ["1", "2", "5", "10", "100"] {
            assert!(texts.contains(&tick), "tick {tick}: {texts:?}");
        }
        for target in &mut run.targets {
            let latency = &mut target.summary.as_mut().unwrap().latency_ms;
            (latency.p50, latency.p99) = (1.0, 5.0);
        }
        let close: Vec<Figures> = run.targets.iter().map(Figures::of).collect();
        assert!(!latency_on_log_scale(&close));
        let chart = summary(&run).unwrap();
        fixtures::assert_chart(&chart, &["latency p50 and p99 (ms)"]);
        assert!(!chart.svg.contains("log scale"));
    }

    #[test]
    fn no_timeouts_and_no_errors_are_said_in_words() {
        assert_eq!(count_label(0, 0.0, "errors"), "0 errors");
        assert_eq!(count_label(12, 0.012, "errors"), "1.2% (12)");
        let run = fixtures::faultless();
        let chart = summary(&run).unwrap();
        let requests = run.targets[0].summary.as_ref().unwrap().requests;
        fixtures::assert_chart(
            &chart,
            &["0 timeouts", "0 errors", &format!("in {requests} requests")],
        );
        let texts = fixtures::svg_texts(&chart.svg);
        assert!(!texts.contains(&"0%"), "no empty 0% panels: {texts:?}");
        // With errors somewhere, a target without any still says so in words.
        let mut mixed = fixtures::sample();
        mixed.targets[1] = run.targets[1].clone();
        let chart = summary(&mixed).unwrap();
        fixtures::assert_chart(&chart, &["0 errors", "0 timeouts"]);
        assert!(
            chart.svg.contains("%"),
            "the other target's rates are drawn"
        );
    }

    #[test]
    fn a_target_without_a_summary_is_measured_from_its_series_and_says_so() {
        let run = fixtures::interrupted();
        let figures = Figures::of(&run.targets[0]);
        assert_eq!(figures.label, "serverless (partial)");
        let completed: u64 = run.targets[0].series.iter().map(|r| r.completed).sum();
        assert_eq!(figures.throughput_rps, completed as f64 / 7.0);
        assert!(figures.p99_ms > 0.0 && figures.error_rate > 0.0);
    }

    #[test]
    fn awkward_runs_draw_without_panicking() {
        for (name, run) in fixtures::awkward() {
            let chart = summary(&run).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let expected: &[&str] = match name {
                "empty" => &["no data: no target recorded anything"],
                "interrupted" => &["serverless (partial)"],
                _ => &["throughput (requests/s)"],
            };
            fixtures::assert_chart(&chart, expected);
        }
    }
}
