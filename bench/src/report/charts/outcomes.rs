//! Outcomes over time: each second's requests stacked by outcome, every kind on its own (ok,
//! HTTP 4xx, HTTP 5xx, throttled, function and client timeouts, connect and I/O errors), one
//! panel per target on a shared scale, since stacking one target on another would add up
//! unrelated runs. Each panel says its totals in words ("no errors" when there were none). A
//! result set written before the series counted errors by kind shows the errors it cannot
//! place as one layer that says so, and its panel names the kinds the run's summary counted.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{self, DrawResult, Figure};
use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::scales;
use super::timeline::{self, Timeline};
use super::{style, Chart};
use crate::model::Outcome;
use crate::resultset::series::SeriesRow;
use crate::resultset::{ResultSet, TargetData};

const TITLE: &str = "Outcomes per second";
const Y_DESC: &str = "requests per second";
const UNRECORDED: &str = "error, kind not recorded";

/// An outcome layer: its words (as in "1 client timeout" and "3 client timeouts"), colour and
/// count in a row.
struct Layer {
    label: &'static str,
    plural: &'static str,
    color: RGBColor,
    count: fn(&SeriesRow) -> u64,
}

/// The layers, bottom to top: ok, then the error kinds of [`crate::model::Outcome`], then
/// errors a result set did not record the kind of.
const LAYERS: [Layer; 9] = [
    Layer {
        label: "ok",
        plural: "ok",
        color: style::OK,
        count: |r| r.ok,
    },
    Layer {
        label: "HTTP 4xx",
        plural: "HTTP 4xx",
        color: style::HTTP_4XX,
        count: |r| r.http_4xx.unwrap_or(0),
    },
    Layer {
        label: "HTTP 5xx",
        plural: "HTTP 5xx",
        color: style::HTTP_5XX,
        count: |r| r.http_5xx.unwrap_or(0),
    },
    Layer {
        label: "throttled (429)",
        plural: "throttled (429)",
        color: style::THROTTLED,
        count: |r| r.throttled,
    },
    Layer {
        label: "function timeout (504)",
        plural: "function timeouts (504)",
        color: style::FUNCTION_TIMEOUT,
        count: |r| r.function_timeouts,
    },
    Layer {
        label: "client timeout",
        plural: "client timeouts",
        color: style::CLIENT_TIMEOUT,
        count: |r| r.client_timeouts,
    },
    Layer {
        label: "connect error",
        plural: "connect errors",
        color: style::CONNECT_ERROR,
        count: |r| r.connect_errors.unwrap_or(0),
    },
    Layer {
        label: "I/O error",
        plural: "I/O errors",
        color: style::IO_ERROR,
        count: |r| r.io_errors.unwrap_or(0),
    },
    Layer {
        label: UNRECORDED,
        plural: "errors, kind not recorded",
        color: style::UNRECORDED_ERROR,
        count: unrecorded,
    },
];

/// The errors of a row that no kind accounts for (only in result sets that did not record
/// the kinds).
fn unrecorded(row: &SeriesRow) -> u64 {
    let kinded: u64 = LAYERS[1..8].iter().map(|layer| (layer.count)(row)).sum();
    row.errors.saturating_sub(kinded)
}

/// Each layer's count in a row, in `LAYERS` order.
fn layer_counts(row: &SeriesRow) -> [u64; 9] {
    std::array::from_fn(|i| (LAYERS[i].count)(row))
}

/// `totals` in words: `1000 ok · 12 HTTP 5xx · 3 client timeouts`, or `… · no errors`.
fn in_words(totals: &[u64; 9]) -> String {
    let mut parts = vec![format!("{} ok", totals[0])];
    for (layer, &n) in LAYERS.iter().zip(totals).skip(1).filter(|(_, &n)| n > 0) {
        let words = if n == 1 { layer.label } else { layer.plural };
        parts.push(format!("{n} {words}"));
    }
    if parts.len() == 1 {
        parts.push("no errors".into());
    }
    parts.join(" · ")
}

/// For errors the series could not place: the kinds the run's summary counted that an older
/// series has no column for, as ` (whole run, from the summary: 279 HTTP 5xx)`; else empty.
fn summary_kinds(target: &TargetData, unplaced: u64) -> String {
    let Some(summary) = target.summary.as_ref().filter(|_| unplaced > 0) else {
        return String::new();
    };
    let kinds = [
        (Outcome::Http4xx, 1),
        (Outcome::Http5xx, 2),
        (Outcome::ConnectError, 6),
        (Outcome::IoError, 7),
    ];
    let parts: Vec<String> = kinds
        .iter()
        .filter_map(|&(outcome, layer)| {
            let n = summary.errors.get(&outcome).copied().unwrap_or(0);
            let words = if n == 1 {
                LAYERS[layer].label
            } else {
                LAYERS[layer].plural
            };
            (n > 0).then(|| format!("{n} {words}"))
        })
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!(" (whole run, from the summary: {})", parts.join(", "))
}

struct TargetPanel {
    name: String,
    color: RGBColor,
    totals: String,
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
    let mut occurred = [false; 9];
    for target in &run.targets {
        let tops: Vec<Vec<(f64, f64)>> = (0..LAYERS.len())
            .map(|layer| {
                timeline::stairs(&target.series, |row| {
                    layer_counts(row)[..=layer].iter().sum::<u64>() as f64
                })
            })
            .collect();
        let highest = tops.last().into_iter().flatten().map(|p| p.1);
        y_max = highest.fold(y_max, f64::max);
        let totals = target.series.iter().fold([0u64; 9], |mut acc, row| {
            for (a, c) in acc.iter_mut().zip(layer_counts(row)) {
                *a += c;
            }
            acc
        });
        for (seen, n) in occurred.iter_mut().zip(totals) {
            *seen |= n > 0;
        }
        panels.push(TargetPanel {
            name: target.name.clone(),
            color: style::target_color(target.index),
            totals: in_words(&totals) + &summary_kinds(target, totals[8]),
            tops,
        });
    }
    let timeline = Timeline::of(run);
    let mut legend: Vec<LegendItem> = LAYERS
        .iter()
        .zip(occurred)
        .enumerate()
        .filter(|&(i, (_, seen))| i == 0 || seen)
        .map(|(_, (layer, _))| LegendItem::new(layer.label, layer.color, Mark::Fill))
        .collect();
    legend.extend(timeline.legend());
    let alt = if panels.is_empty() {
        format!(
            "Outcomes per second for {}: no target recorded a second.",
            run.manifest.scenario.name
        )
    } else {
        let totals: Vec<String> = panels
            .iter()
            .map(|p| format!("{}: {}", p.name, p.totals))
            .collect();
        format!(
            "Requests per second stacked by outcome, each kind of error on its own, one panel \
             per target, for {}: {}.",
            run.manifest.scenario.name,
            totals.join("; ")
        )
    };
    let figure = Outcomes {
        context: super::run_context(run),
        timeline,
        legend,
        panels,
        y_max,
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
        let name_style = style::bold(style::PANEL_SIZE, target.color);
        caption_area.draw_text(&target.name, &name_style, (86, 4))?;
        let (name_width, _) = caption_area.estimate_text_size(&target.name, &name_style)?;
        let totals = style::anchored(
            style::text(style::LABEL_SIZE + 1.0, style::TEXT),
            HPos::Left,
            VPos::Top,
        );
        caption_area.draw_text(
            &format!("· {}", target.totals),
            &totals,
            (86 + name_width as i32 + 10, 7),
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
        for (i, (top, layer)) in target.tops.iter().zip(&LAYERS).enumerate().rev() {
            // A layer adds nothing where its top is the one below's.
            let below = i.checked_sub(1).map(|j| &target.tops[j]);
            if below.is_some_and(|b| b == top) || top.iter().all(|p| p.1 == 0.0) {
                continue;
            }
            chart.draw_series(AreaSeries::new(
                top.iter().copied(),
                0.0,
                style::fill(layer.color, 1.0),
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
    fn every_error_lands_in_exactly_one_layer_of_its_own_kind() {
        let row = SeriesRow {
            completed: 30,
            ok: 10,
            errors: 20,
            timeouts: 3,
            client_timeouts: 2,
            function_timeouts: 1,
            throttled: 4,
            http_4xx: Some(5),
            http_5xx: Some(3),
            connect_errors: Some(1),
            io_errors: Some(4),
            ..SeriesRow::default()
        };
        assert_eq!(layer_counts(&row), [10, 5, 3, 4, 1, 2, 1, 4, 0]);
        assert_eq!(layer_counts(&row).iter().sum::<u64>(), row.completed);
        // An older row: what no kind accounts for is its own, labelled layer.
        let old = SeriesRow {
            http_4xx: None,
            http_5xx: None,
            connect_errors: None,
            io_errors: None,
            ..row
        };
        assert_eq!(layer_counts(&old), [10, 0, 0, 4, 1, 2, 0, 0, 13]);
        assert_eq!(layer_counts(&old).iter().sum::<u64>(), old.completed);
    }

    #[test]
    fn totals_are_said_in_words() {
        assert_eq!(
            in_words(&[1020, 0, 0, 0, 0, 0, 0, 0, 0]),
            "1020 ok · no errors"
        );
        assert_eq!(
            in_words(&[9, 0, 12, 0, 1, 3, 0, 1, 0]),
            "9 ok · 12 HTTP 5xx · 1 function timeout (504) · 3 client timeouts · 1 I/O error"
        );
    }

    #[test]
    fn draws_each_kind_of_error_by_name_and_only_the_kinds_that_occurred() {
        let chart = outcomes(&fixtures::recorded_now()).unwrap();
        fixtures::assert_chart(
            &chart,
            &[
                Y_DESC,
                timeline::X_DESC,
                "serverless",
                "persistent",
                "ok",
                "HTTP 5xx",
                "I/O error",
                "client timeout",
                "idle phase (no load)",
            ],
        );
        for absent in [UNRECORDED, "connect error", "HTTP 4xx"] {
            assert!(!chart.svg.contains(absent), "{absent} did not occur");
        }
        let old = outcomes(&fixtures::sample()).unwrap();
        fixtures::assert_chart(&old, &[UNRECORDED]);
    }

    #[test]
    fn errors_an_older_series_cannot_place_are_named_from_the_summary() {
        let mut run = fixtures::sample();
        let target = &mut run.targets[0];
        let unplaced: u64 = target.series.iter().map(unrecorded).sum();
        assert!(unplaced > 0);
        let summary = target.summary.as_mut().unwrap();
        summary.errors.insert(Outcome::Http5xx, unplaced - 1);
        summary.errors.insert(Outcome::ConnectError, 1);
        let words = summary_kinds(&run.targets[0], unplaced);
        assert_eq!(
            words,
            format!(
                " (whole run, from the summary: {} HTTP 5xx, 1 connect error)",
                unplaced - 1
            )
        );
        let chart = outcomes(&run).unwrap();
        fixtures::assert_chart(&chart, &[words.as_str()]);
        assert_eq!(summary_kinds(&run.targets[0], 0), "");
    }

    #[test]
    fn awkward_runs_draw_without_panicking() {
        for (name, run) in fixtures::awkward() {
            let chart = outcomes(&run).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let expected: &[&str] = match name {
                "empty" => &["no data: no target recorded a second"],
                "single sample" => &["1 ok · no errors"],
                _ => &[Y_DESC],
            };
            fixtures::assert_chart(&chart, expected);
        }
    }
}
