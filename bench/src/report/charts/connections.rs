//! Connections per second: the client's connections open to each target (top left: the most
//! open at any moment of each second as a line, a band down to the fewest, and held SSE or
//! WebSocket streams open dashed), opened (bottom left), and each target's database
//! connections under PostgreSQL's `max_connections` ceiling (right), drawn as a labelled
//! horizontal line. A result set recorded before the per-second range existed shows the count
//! at each second's end, and says so.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{self, DrawResult, Figure};
use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::scales;
use super::timeline::{self, Timeline};
use super::{style, Chart};
use crate::resultset::series::SeriesRow;
use crate::resultset::{ResultSet, TargetData};

const TITLE: &str = "Connections";
/// The top left panel's captions (it names the phases), with and without the range.
const OPEN_RANGE: &str = "client connections open (most in each second)";
const OPEN_AT_END: &str = "client connections open (at the end of each second)";
const RANGE_NOTE: &str = "band: down to the fewest open in the second";
const HELD: &str = "held streams open (SSE, WebSocket)";

#[derive(Debug, Clone, PartialEq)]
struct TargetConnections {
    color: RGBColor,
    /// The most open at any moment of each second; in a result set without the range, the
    /// count at each second's end.
    open: Vec<(f64, f64)>,
    /// The fewest open in each second; empty without the range.
    fewest: Vec<(f64, f64)>,
    /// Held streams open at each second's end; empty without held requests.
    held: Vec<(f64, f64)>,
    opened: Vec<(f64, f64)>,
    /// Empty when not sampled.
    database: Vec<(f64, f64)>,
}

impl TargetConnections {
    fn of(target: &TargetData) -> TargetConnections {
        let rows = &target.series;
        let has = |f: fn(&SeriesRow) -> Option<u64>| rows.iter().any(|r| f(r).is_some());
        let stairs_of = |f: fn(&SeriesRow) -> Option<u64>| {
            if has(f) {
                timeline::stairs(rows, |r| f(r).unwrap_or(0) as f64)
            } else {
                Vec::new()
            }
        };
        let ranged = has(|r| r.connections_max);
        TargetConnections {
            color: style::target_color(target.index),
            open: timeline::stairs(rows, |r| {
                let most = if ranged { r.connections_max } else { None };
                most.unwrap_or(r.connections_open) as f64
            }),
            fewest: stairs_of(|r| r.connections_min),
            held: stairs_of(|r| r.held_open),
            opened: timeline::stairs(rows, |r| r.connections_opened as f64),
            database: stairs_of(|r| r.db_connections),
        }
    }

    /// The most client connections open at once in the run, as the series has it.
    fn most_open(&self) -> u64 {
        self.open.iter().map(|p| p.1).fold(0.0, f64::max) as u64
    }
}

/// A `max_connections` line and the targets it applies to.
struct Ceiling {
    value: f64,
    targets: Vec<String>,
}

struct Connections {
    context: String,
    timeline: Timeline,
    legend: Vec<LegendItem>,
    targets: Vec<TargetConnections>,
    ceilings: Vec<Ceiling>,
    /// Whether any target has the per-second range (else the end-of-second count is drawn).
    ranged: bool,
}

pub(super) fn connections(run: &ResultSet) -> anyhow::Result<Chart> {
    let mut ceilings: Vec<Ceiling> = Vec::new();
    for target in &run.targets {
        let db = target.summary.as_ref().and_then(|s| s.db_connections);
        if let Some(ceiling) = db.and_then(|db| db.ceiling) {
            match ceilings.iter_mut().find(|c| c.value == ceiling as f64) {
                Some(c) => c.targets.push(target.name.clone()),
                None => ceilings.push(Ceiling {
                    value: ceiling as f64,
                    targets: vec![target.name.clone()],
                }),
            }
        }
    }
    let targets: Vec<TargetConnections> = run.targets.iter().map(TargetConnections::of).collect();
    let ranged = run
        .targets
        .iter()
        .any(|t| t.series.iter().any(|r| r.connections_max.is_some()));
    let alt = describe(run, &targets, &ceilings, ranged);
    let timeline = Timeline::of(run);
    let mut legend: Vec<LegendItem> = run
        .targets
        .iter()
        .map(|t| LegendItem::new(t.name.clone(), style::target_color(t.index), Mark::Line))
        .collect();
    if targets.iter().any(|t| !t.held.is_empty()) {
        legend.push(LegendItem::new(HELD, style::MUTED, Mark::Dashed));
    }
    legend.extend(timeline.legend());
    let figure = Connections {
        context: super::run_context(run),
        timeline,
        legend,
        targets,
        ceilings,
        ranged,
    };
    canvas::render("connections", TITLE.into(), alt, &figure)
}

fn describe(
    run: &ResultSet,
    targets: &[TargetConnections],
    ceilings: &[Ceiling],
    ranged: bool,
) -> String {
    if targets.is_empty() {
        return format!(
            "Connections for {}: no target recorded a second.",
            run.manifest.scenario.name
        );
    }
    let facts: Vec<String> = run
        .targets
        .iter()
        .zip(targets)
        .map(|(target, drawn)| {
            let max_db = target.series.iter().filter_map(|r| r.db_connections).max();
            format!(
                "{} at most {} client and {} database connections",
                target.name,
                drawn.most_open(),
                max_db.map_or("unsampled".into(), |n| n.to_string())
            )
        })
        .collect();
    let ceiling = match ceilings {
        [one] => format!(", under max_connections = {}", one.value),
        _ => String::new(),
    };
    let open = if ranged {
        "the most open in each second"
    } else {
        "open at each second's end"
    };
    format!(
        "Client connections ({open}) and opened per second, and database connections, for {}: \
         {}{ceiling}.",
        run.manifest.scenario.name,
        facts.join("; ")
    )
}

impl Figure for Connections {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let header = Header {
            title: TITLE,
            context: &self.context,
            legend: &self.legend,
        };
        let body = frame::frame(root, &header)?;
        let (left, right) = body.split_horizontally(body.dim_in_pixel().0 / 2);
        let (top, bottom) = left.split_vertically(left.dim_in_pixel().1 / 2);
        let open = Spec {
            caption: if self.ranged { OPEN_RANGE } else { OPEN_AT_END },
            x_desc: "",
            ceilings: &[],
            open: true,
        };
        self.draw_lines(&top, &open, |t| &t.open)?;
        let opened = Spec {
            caption: "client connections opened per second",
            x_desc: timeline::X_DESC,
            ceilings: &[],
            open: false,
        };
        self.draw_lines(&bottom, &opened, |t| &t.opened)?;
        let database = Spec {
            caption: "database connections",
            x_desc: timeline::X_DESC,
            ceilings: &self.ceilings,
            open: false,
        };
        self.draw_lines(&right, &database, |t| &t.database)
    }
}

/// What a panel draws besides one staircase per target.
struct Spec<'a> {
    caption: &'a str,
    x_desc: &'a str,
    ceilings: &'a [Ceiling],
    /// The connections-open panel: phase names, the fewest-to-most band and held streams.
    open: bool,
}

impl Connections {
    /// One staircase per target of what `points` picks, and what `spec` adds.
    fn draw_lines<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        spec: &Spec,
        points: impl Fn(&TargetConnections) -> &Vec<(f64, f64)>,
    ) -> DrawResult<(), DB> {
        let panel = Panel {
            caption: Some(spec.caption),
            x_desc: spec.x_desc,
            ..Panel::default()
        };
        let drawn: Vec<&TargetConnections> = self
            .targets
            .iter()
            .filter(|t| !points(t).is_empty())
            .collect();
        if drawn.is_empty() {
            let why = if self.targets.is_empty() {
                "no target recorded a second"
            } else {
                "not sampled for any target"
            };
            return frame::no_data(area, &panel, why);
        }
        let held = drawn.iter().filter(|_| spec.open).flat_map(|t| &t.held);
        let max = drawn
            .iter()
            .flat_map(|t| points(t))
            .chain(held)
            .map(|p| p.1)
            .chain(spec.ceilings.iter().map(|c| c.value))
            .fold(0.0, f64::max);
        // Room above for the phase names and the note.
        let y = scales::zero_range(max * if spec.open { 1.5 } else { 1.1 }, 4.0);
        let x = self.timeline.x_range();
        let mut chart = frame::axes(
            area,
            &panel,
            x.clone(),
            y.clone(),
            &|v| style::number(*v),
            &|v| style::number(*v),
        )?;
        self.timeline.draw_phases(&mut chart, &y, spec.open)?;
        for ceiling in spec.ceilings {
            self.draw_ceiling(&mut chart, ceiling, &x)?;
        }
        for target in &drawn {
            if spec.open && !target.fewest.is_empty() {
                let band = target.open.iter().chain(target.fewest.iter().rev());
                chart.draw_series(std::iter::once(Polygon::new(
                    band.copied().collect::<Vec<_>>(),
                    style::fill(target.color, 0.22),
                )))?;
            }
            frame::draw_line(&mut chart, points(target), target.color, Mark::Line)?;
            if spec.open && !target.held.is_empty() {
                frame::draw_line(&mut chart, &target.held, target.color, Mark::Dashed)?;
            }
        }
        if spec.open && self.ranged {
            frame::note(&mut chart, RANGE_NOTE, (8, 26))?;
        }
        Ok(())
    }

    /// A `max_connections` line across the panel, labelled.
    fn draw_ceiling<DB, X, Y>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
        ceiling: &Ceiling,
        x: &std::ops::Range<f64>,
    ) -> DrawResult<(), DB>
    where
        DB: DrawingBackend,
        X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
        Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    {
        let line = [(x.start, ceiling.value), (x.end, ceiling.value)];
        chart.draw_series(std::iter::once(DashedPathElement::new(
            line,
            style::DASH.0,
            style::DASH.1,
            style::line(style::TEXT, style::LINE),
        )))?;
        let whose = if self.ceilings.len() > 1 {
            format!(" ({})", ceiling.targets.join(", "))
        } else {
            String::new()
        };
        let label = style::anchored(
            style::text(style::LABEL_SIZE, style::TEXT),
            HPos::Left,
            VPos::Bottom,
        );
        chart.draw_series(std::iter::once(
            EmptyElement::at((x.start, ceiling.value))
                + Text::new(
                    format!("PostgreSQL max_connections = {}{whose}", ceiling.value),
                    (8, -5),
                    label,
                ),
        ))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn draws_client_and_database_connections_under_the_ceiling() {
        let chart = connections(&fixtures::sample()).unwrap();
        fixtures::assert_chart(
            &chart,
            &[
                OPEN_AT_END,
                "client connections opened per second",
                "database connections",
                "max_connections = 100",
                timeline::X_DESC,
                "serverless",
                "persistent",
            ],
        );
    }

    #[test]
    fn plots_each_seconds_most_open_from_the_recorded_range() {
        let run = fixtures::recorded_now();
        let target = &run.targets[0];
        let drawn = TargetConnections::of(target);
        // The end-of-second count is 0 to 2; the most open at once in a busy second was 13.
        assert!(target.series.iter().all(|r| r.connections_open <= 2));
        let expected = timeline::stairs(&target.series, |r| r.connections_max.unwrap() as f64);
        assert_eq!(drawn.open, expected);
        assert_eq!(drawn.most_open(), 13);
        assert_eq!(
            drawn.fewest,
            timeline::stairs(&target.series, |r| r.connections_min.unwrap() as f64)
        );
        let chart = connections(&run).unwrap();
        fixtures::assert_chart(&chart, &[OPEN_RANGE, RANGE_NOTE]);
        assert!(
            chart.alt.contains("serverless at most 13 client"),
            "{}",
            chart.alt
        );
        assert!(chart.alt.contains("the most open in each second"));
        // An older result set draws its end-of-second count and says so.
        let sample = fixtures::sample();
        let old = TargetConnections::of(&sample.targets[0]);
        assert!(old.fewest.is_empty());
        let at_end = timeline::stairs(&sample.targets[0].series, |r| r.connections_open as f64);
        assert_eq!(old.open, at_end);
    }

    #[test]
    fn held_streams_open_are_charted_when_present() {
        let mut run = fixtures::recorded_now();
        assert!(!connections(&run).unwrap().svg.contains(HELD));
        for row in &mut run.targets[1].series {
            row.held_open = Some(row.second.min(6));
        }
        let drawn = TargetConnections::of(&run.targets[1]);
        assert_eq!(drawn.held.iter().map(|p| p.1).fold(0.0, f64::max), 6.0);
        assert!(TargetConnections::of(&run.targets[0]).held.is_empty());
        let chart = connections(&run).unwrap();
        fixtures::assert_chart(&chart, &[HELD]);
    }

    #[test]
    fn awkward_runs_draw_without_panicking() {
        for (name, run) in fixtures::awkward() {
            let chart = connections(&run).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let expected: &[&str] = match name {
                "empty" => &["no data: no target recorded a second"],
                "zero latency" => &["no data: not sampled for any target"],
                _ => &["database connections"],
            };
            fixtures::assert_chart(&chart, expected);
        }
    }
}
