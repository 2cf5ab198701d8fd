//! The run at a glance: four bar panels, one bar (or two, for p50 and p99 latency) per target:
//! latency, throughput, timeout rate and error rate. A target the run stopped before
//! summarizing is measured from what it recorded, and says so.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{self, DrawResult, Figure};
use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::scales;
use super::{style, Chart};
use crate::resultset::{ResultSet, TargetData};

const TITLE: &str = "Summary";

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
        let single = |value: fn(&Figures) -> f64, format: fn(f64) -> String| -> Vec<Bar> {
            self.targets
                .iter()
                .enumerate()
                .map(|(i, f)| Bar {
                    left: i as f64 + 0.25,
                    right: i as f64 + 0.75,
                    value: value(f),
                    color: f.color,
                    opacity: 1.0,
                    label: format(value(f)),
                })
                .collect()
        };
        let latency: Vec<Bar> = self
            .targets
            .iter()
            .enumerate()
            .flat_map(|(i, f)| {
                let i = i as f64;
                [
                    Bar {
                        left: i + 0.12,
                        right: i + 0.47,
                        value: f.p50_ms,
                        color: f.color,
                        opacity: 0.4,
                        label: format!("p50 {}", style::number(f.p50_ms)),
                    },
                    Bar {
                        left: i + 0.53,
                        right: i + 0.88,
                        value: f.p99_ms,
                        color: f.color,
                        opacity: 1.0,
                        label: format!("p99 {}", style::number(f.p99_ms)),
                    },
                ]
            })
            .collect();
        let number = |v: f64| style::number(v);
        let percent = |v: f64| crate::model::percent(v);
        self.draw_bars(&areas[0], "latency p50 and p99 (ms)", &latency, 1.0, number)?;
        let throughput = single(|f| f.throughput_rps, number);
        self.draw_bars(
            &areas[1],
            "throughput (requests/s)",
            &throughput,
            1.0,
            number,
        )?;
        let timeouts = single(|f| f.timeout_rate, percent);
        self.draw_bars(&areas[2], "timeout rate", &timeouts, 0.01, percent)?;
        let errors = single(|f| f.error_rate, percent);
        self.draw_bars(
            &areas[3],
            "error rate (any outcome but ok)",
            &errors,
            0.01,
            percent,
        )
    }
}

impl Summary {
    fn draw_bars<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        bars: &[Bar],
        at_least: f64,
        format_y: fn(f64) -> String,
    ) -> DrawResult<(), DB> {
        let panel = Panel {
            caption: Some(caption),
            no_x_grid: true,
            ..Panel::default()
        };
        let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
        // Room above the tallest bar for its label.
        let y = scales::zero_range(max * 1.15, at_least);
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
            y.clone(),
            &label_of,
            &|v| format_y(*v),
        )?;
        let label = style::anchored(
            style::text(style::LABEL_SIZE, style::TEXT),
            HPos::Center,
            VPos::Bottom,
        );
        for bar in bars {
            let value = bar.value.clamp(0.0, y.end);
            chart.draw_series([
                Rectangle::new(
                    [(bar.left, 0.0), (bar.right, value)],
                    style::fill(bar.color, bar.opacity),
                ),
                Rectangle::new(
                    [(bar.left, 0.0), (bar.right, value)],
                    style::line(bar.color, 1),
                ),
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
                "latency p50 and p99 (ms)",
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
