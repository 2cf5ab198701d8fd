//! Outcomes over time: each second's requests stacked by outcome (ok, other errors, client
//! timeouts, function timeouts, throttled), one panel per target on a shared scale, since
//! stacking one target on another would add up unrelated runs.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{self, DrawResult, Figure};
use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::scales;
use super::timeline::{self, Timeline};
use super::{style, Chart};
use crate::resultset::series::SeriesRow;
use crate::resultset::ResultSet;

const TITLE: &str = "Outcomes per second";
const Y_DESC: &str = "requests per second";

/// The outcome layers, bottom to top.
const LAYERS: [(&str, RGBColor); 5] = [
    ("ok", style::OK),
    ("other errors", style::ERROR),
    ("client timeouts", style::CLIENT_TIMEOUT),
    ("function timeouts", style::FUNCTION_TIMEOUT),
    ("throttled (429)", style::THROTTLED),
];

/// Each layer's count in a row, in `LAYERS` order.
fn layer_counts(row: &SeriesRow) -> [u64; 5] {
    let other = row
        .errors
        .saturating_sub(row.client_timeouts + row.function_timeouts + row.throttled);
    [
        row.ok,
        other,
        row.client_timeouts,
        row.function_timeouts,
        row.throttled,
    ]
}

struct TargetPanel {
    name: String,
    color: RGBColor,
    /// Cumulative stairs per layer: `tops[i]` is the top of layer i.
    tops: Vec<Vec<(f64, f64)>>,
}

struct Outcomes {
    context: String,
    timeline: Timeline,
    legend: Vec<LegendItem>,
    panels: Vec<TargetPanel>,
    y_max: f64,
}

pub(super) fn outcomes(run: &ResultSet) -> anyhow::Result<Chart> {
    let mut panels = Vec::new();
    let mut y_max = 0.0f64;
    let mut totals = Vec::new();
    for target in &run.targets {
        let tops: Vec<Vec<(f64, f64)>> = (0..LAYERS.len())
            .map(|layer| {
                timeline::stairs(&target.series, |row| {
                    layer_counts(row)[..=layer].iter().sum::<u64>() as f64
                })
            })
            .collect();
        let highest = tops
            .last()
            .into_iter()
            .flatten()
            .map(|p| p.1)
            .fold(0.0, f64::max);
        y_max = y_max.max(highest);
        let sums = target.series.iter().fold([0u64; 5], |mut acc, row| {
            for (a, c) in acc.iter_mut().zip(layer_counts(row)) {
                *a += c;
            }
            acc
        });
        totals.push(format!(
            "{}: {} ok, {} not",
            target.name,
            sums[0],
            sums[1..].iter().sum::<u64>()
        ));
        panels.push(TargetPanel {
            name: target.name.clone(),
            color: style::target_color(target.index),
            tops,
        });
    }
    let figure = Outcomes {
        context: super::run_context(run),
        timeline: Timeline::of(run),
        legend: LAYERS
            .iter()
            .map(|(label, color)| LegendItem::new(*label, *color, Mark::Fill))
            .collect(),
        panels,
        y_max,
    };
    let alt = if totals.is_empty() {
        format!(
            "Outcomes per second for {}: no target recorded a second.",
            run.manifest.scenario.name
        )
    } else {
        format!(
            "Requests per second stacked by outcome (ok, other errors, client timeouts, function \
             timeouts, throttled), one panel per target, for {}: {}.",
            run.manifest.scenario.name,
            totals.join("; ")
        )
    };
    canvas::render("outcomes", TITLE.into(), alt, &figure)
}

impl Figure for Outcomes {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let header = Header {
            title: TITLE,
            context: &self.context,
            legend: &self.legend,
        };
        if self.panels.is_empty() {
            let panel = Panel {
                caption: None,
                x_desc: timeline::X_DESC,
                y_desc: Y_DESC,
                ..Panel::default()
            };
            return frame::empty_chart(root, &header, &panel, "no target recorded a second");
        }
        let body = frame::frame(root, &header)?;
        let areas = body.split_evenly((self.panels.len(), 1));
        let last = self.panels.len() - 1;
        for (i, (panel, area)) in self.panels.iter().zip(&areas).enumerate() {
            self.draw_panel(area, panel, i == last)?;
        }
        Ok(())
    }
}

impl Outcomes {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        target: &TargetPanel,
        bottom: bool,
    ) -> DrawResult<(), DB> {
        let panel = Panel {
            caption: None,
            x_desc: if bottom { timeline::X_DESC } else { "" },
            y_desc: Y_DESC,
            ..Panel::default()
        };
        let (caption_area, plot_area) = area.split_vertically(26);
        caption_area.draw_text(
            &target.name,
            &style::bold(style::PANEL_SIZE, target.color),
            (86, 4),
        )?;
        if target.tops.iter().all(|t| t.is_empty()) {
            return frame::no_data(&plot_area, &panel, "no second recorded");
        }
        let y = scales::zero_range(self.y_max * 1.15, 1.0);
        let mut chart = frame::axes(
            &plot_area,
            &panel,
            self.timeline.x_range(),
            y.clone(),
            &|x| style::number(*x),
            &|v| style::number(*v),
        )?;
        self.timeline.draw_phases(&mut chart, &y, true)?;
        for (top, (_, color)) in target.tops.iter().zip(LAYERS).rev() {
            if top.iter().all(|p| p.1 == 0.0) {
                continue;
            }
            chart.draw_series(AreaSeries::new(
                top.iter().copied(),
                0.0,
                style::fill(color, 1.0),
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
    fn every_error_lands_in_exactly_one_layer() {
        let row = SeriesRow {
            completed: 20,
            ok: 10,
            errors: 10,
            timeouts: 3,
            client_timeouts: 2,
            function_timeouts: 1,
            throttled: 4,
            ..SeriesRow::default()
        };
        assert_eq!(layer_counts(&row), [10, 3, 2, 1, 4]);
        assert_eq!(layer_counts(&row).iter().sum::<u64>(), row.completed);
    }

    #[test]
    fn draws_one_panel_per_target_with_every_outcome_named() {
        let chart = outcomes(&fixtures::sample()).unwrap();
        let mut expected = vec![Y_DESC, timeline::X_DESC, "serverless", "persistent"];
        expected.extend(LAYERS.iter().map(|(label, _)| *label));
        fixtures::assert_chart(&chart, &expected);
    }

    #[test]
    fn awkward_runs_draw_without_panicking() {
        for (name, run) in fixtures::awkward() {
            let chart = outcomes(&run).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let expected: &[&str] = if name == "empty" {
                &["no data: no target recorded a second"]
            } else {
                &[Y_DESC]
            };
            fixtures::assert_chart(&chart, expected);
        }
    }
}
