//! The time axis of the per-second charts: seconds since the start of each target's load, the
//! scenario's phases shaded by what they are ([`PhaseKind`]: idle, warm-up, ramp; steady load
//! is left white), edged and named, with legend entries for the shades in use; and per-second
//! rows turned into plottable points (line segments that break where a value is missing, or
//! stairs).

use std::ops::Range;

use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::DrawResult;
use super::frame::{LegendItem, Mark};
use super::style;
use crate::resultset::series::SeriesRow;
use crate::resultset::{PhaseRecord, ResultSet};

pub(super) const X_DESC: &str = "seconds since the start of load";

/// What a phase is, by its load (and, for a warm-up, its name: the scenario has no other
/// word for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PhaseKind {
    /// Rate 0 (from start to end) or concurrency 0: no load is sent.
    Idle,
    /// Named "warm-up" (or "warmup", "warm up").
    WarmUp,
    /// An open-model rate that changes over the phase.
    Ramp,
    /// Anything else: a constant rate or a closed model's clients.
    Steady,
}

impl PhaseKind {
    pub(super) fn of(phase: &PhaseRecord) -> PhaseKind {
        let name = phase.name.to_lowercase();
        let no_rate =
            matches!((phase.rate_from, phase.rate_to), (Some(a), Some(b)) if a <= 0.0 && b <= 0.0);
        if no_rate || phase.concurrency == Some(0) {
            PhaseKind::Idle
        } else if ["warm-up", "warmup", "warm up"]
            .iter()
            .any(|w| name.contains(w))
        {
            PhaseKind::WarmUp
        } else if matches!((phase.rate_from, phase.rate_to), (Some(a), Some(b)) if a != b) {
            PhaseKind::Ramp
        } else {
            PhaseKind::Steady
        }
    }

    /// The shade and legend words of a kind; `None` for steady load, which is not shaded.
    fn shade(self) -> Option<(RGBColor, &'static str)> {
        match self {
            PhaseKind::Idle => Some((style::IDLE_BAND, "idle phase (no load)")),
            PhaseKind::WarmUp => Some((style::WARM_UP_BAND, "warm-up phase")),
            PhaseKind::Ramp => Some((style::RAMP_BAND, "ramp phase (rate changes)")),
            PhaseKind::Steady => None,
        }
    }
}

/// One scenario phase, in seconds since the start of load.
#[derive(Debug, Clone, PartialEq)]
struct Band {
    name: String,
    kind: PhaseKind,
    start: f64,
    end: f64,
}

/// The seconds a run covers and its phases.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Timeline {
    /// The longest target's recorded seconds.
    pub seconds: f64,
    phases: Vec<Band>,
}

impl Timeline {
    pub(crate) fn of(run: &ResultSet) -> Timeline {
        let phases = run
            .manifest
            .scenario
            .phases
            .iter()
            .enumerate()
            .filter(|(_, p)| p.start_s.is_finite() && p.duration_s.is_finite())
            .map(|(i, p)| Band {
                name: if p.name.is_empty() {
                    format!("phase {}", i + 1)
                } else {
                    p.name.clone()
                },
                kind: PhaseKind::of(p),
                start: p.start_s,
                end: p.start_s + p.duration_s,
            })
            .collect();
        Timeline {
            seconds: run.seconds() as f64,
            phases,
        }
    }

    /// The x range: every recorded second (at least one, so an axis can be drawn).
    pub(crate) fn x_range(&self) -> Range<f64> {
        0.0..self.seconds.max(1.0)
    }

    /// The index of the phase second `[start, start + length)` belongs to (the one its middle
    /// falls in, as figures by phase count it); `None` outside every phase.
    pub(crate) fn phase_of(&self, (start, length): (f64, f64)) -> Option<usize> {
        let middle = start + length / 2.0;
        self.phases
            .iter()
            .position(|band| middle >= band.start && middle < band.end)
    }

    /// A legend entry for each shade the phases use, in the order idle, warm-up, ramp.
    pub(crate) fn legend(&self) -> Vec<LegendItem> {
        [PhaseKind::Idle, PhaseKind::WarmUp, PhaseKind::Ramp]
            .into_iter()
            .filter(|kind| self.phases.iter().any(|band| band.kind == *kind))
            .filter_map(PhaseKind::shade)
            .map(|(color, label)| LegendItem::new(label, color, Mark::Band))
            .collect()
    }

    /// Shades each phase over `y` by its kind, draws the line where one phase gives way to
    /// the next and, when `labels`, names each phase at the top where its band is wide
    /// enough for the name.
    pub(crate) fn draw_phases<DB, X, Y>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
        y: &Range<f64>,
        labels: bool,
    ) -> DrawResult<(), DB>
    where
        DB: DrawingBackend,
        X: Ranged<ValueType = f64>,
        Y: Ranged<ValueType = f64>,
    {
        let x = self.x_range();
        let visible = self.phases.iter().filter_map(|band| {
            let (start, end) = (band.start.max(x.start), band.end.min(x.end));
            (end > start).then_some((band, start, end))
        });
        let label_style = style::anchored(
            style::text(style::LABEL_SIZE, style::MUTED),
            HPos::Center,
            VPos::Top,
        );
        for (band, start, end) in visible {
            if let Some((color, _)) = band.kind.shade() {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(start, y.start), (end, y.end)],
                    style::fill(color, 1.0),
                )))?;
            }
            if start > x.start {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(start, y.start), (start, y.end)],
                    style::line(style::PHASE_EDGE, 1),
                )))?;
            }
            if !labels {
                continue;
            }
            let (left, _) = chart.backend_coord(&(start, y.end));
            let (right, _) = chart.backend_coord(&(end, y.end));
            let (text_width, _) = chart
                .plotting_area()
                .estimate_text_size(&band.name, &label_style)?;
            if (right - left) < text_width as i32 + 8 {
                continue;
            }
            chart.draw_series(std::iter::once(
                EmptyElement::at(((start + end) / 2.0, y.end))
                    + Text::new(band.name.clone(), (0, 5), label_style.clone()),
            ))?;
        }
        Ok(())
    }
}

/// `value` of each row at the middle of its second, as line segments that break where the
/// value is missing or a second was not recorded.
pub(super) fn segments(
    rows: &[SeriesRow],
    value: impl Fn(&SeriesRow) -> Option<f64>,
) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut previous_second = None;
    for row in rows {
        let point = value(row)
            .filter(|v| v.is_finite())
            .map(|v| (row.second as f64 - 0.5, v));
        match point {
            Some(point) if previous_second == Some(row.second.wrapping_sub(1)) => {
                if let Some(last) = out.last_mut() {
                    last.push(point);
                }
            }
            Some(point) => out.push(vec![point]),
            None => {}
        }
        previous_second = point.map(|_| row.second);
    }
    out
}

/// `value` of each row held flat over its second `[second - 1, second)`: a staircase.
pub(super) fn stairs(rows: &[SeriesRow], value: impl Fn(&SeriesRow) -> f64) -> Vec<(f64, f64)> {
    let mut points = Vec::with_capacity(rows.len() * 2);
    for row in rows.iter().filter(|row| row.second > 0) {
        let v = value(row);
        let v = if v.is_finite() { v } else { 0.0 };
        points.push(((row.second - 1) as f64, v));
        points.push((row.second as f64, v));
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(second: u64, p50: Option<f64>) -> SeriesRow {
        SeriesRow {
            second,
            p50_ms: p50,
            ok: second,
            ..SeriesRow::default()
        }
    }

    #[test]
    fn segments_break_at_missing_values_and_missing_seconds() {
        let rows = vec![
            row(1, Some(1.0)),
            row(2, Some(2.0)),
            row(3, None),
            row(4, Some(4.0)),
            row(6, Some(6.0)),
            row(7, Some(f64::NAN)),
        ];
        let got = segments(&rows, |r| r.p50_ms);
        assert_eq!(
            got,
            vec![
                vec![(0.5, 1.0), (1.5, 2.0)],
                vec![(3.5, 4.0)],
                vec![(5.5, 6.0)]
            ]
        );
    }

    #[test]
    fn stairs_hold_each_value_over_its_second() {
        let rows = vec![row(1, None), row(2, None)];
        assert_eq!(
            stairs(&rows, |r| r.ok as f64),
            vec![(0.0, 1.0), (1.0, 1.0), (1.0, 2.0), (2.0, 2.0)]
        );
    }

    fn phase(
        name: &str,
        rate: (Option<f64>, Option<f64>),
        concurrency: Option<usize>,
    ) -> PhaseRecord {
        PhaseRecord {
            name: name.into(),
            start_s: 0.0,
            duration_s: 5.0,
            rate_from: rate.0,
            rate_to: rate.1,
            concurrency,
            think_time_ms: None,
        }
    }

    #[test]
    fn phases_are_shaded_by_their_load_not_by_their_turn() {
        let kind = |name, rate, clients| PhaseKind::of(&phase(name, rate, clients));
        assert_eq!(kind("idle", (Some(0.0), Some(0.0)), None), PhaseKind::Idle);
        assert_eq!(kind("pause", (None, None), Some(0)), PhaseKind::Idle);
        assert_eq!(
            kind("Warm-up", (Some(5.0), Some(5.0)), None),
            PhaseKind::WarmUp
        );
        assert_eq!(
            kind("ramp", (Some(0.0), Some(100.0)), None),
            PhaseKind::Ramp
        );
        assert_eq!(
            kind("steady", (Some(50.0), Some(50.0)), None),
            PhaseKind::Steady
        );
        assert_eq!(
            kind("80 clients", (None, None), Some(80)),
            PhaseKind::Steady
        );
        assert_eq!(PhaseKind::Steady.shade(), None);

        // The quickstart: steady, idle, burst: only the idle phase is grey, and the legend
        // says what grey means.
        let timeline = Timeline::of(&super::super::fixtures::sample());
        let kinds: Vec<PhaseKind> = timeline.phases.iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            [PhaseKind::Steady, PhaseKind::Idle, PhaseKind::Steady]
        );
        let legend: Vec<String> = timeline.legend().into_iter().map(|i| i.label).collect();
        assert_eq!(legend, ["idle phase (no load)"]);
        assert_eq!(timeline.phase_of((10.0, 1.0)), Some(1));
        assert_eq!(timeline.phase_of((30.0, 1.0)), None);
    }
}
