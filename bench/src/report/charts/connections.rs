//! Connections per second: the client's connections open and opened to each target (left),
//! and each target's database connections under PostgreSQL's `max_connections` ceiling
//! (right), drawn as a labelled horizontal line.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{self, DrawResult, Figure};
use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::scales;
use super::timeline::{self, Timeline};
use super::{style, Chart};
use crate::resultset::ResultSet;

const TITLE: &str = "Connections";
/// The top left panel, which names the phases.
const OPEN: &str = "client connections open";

struct TargetConnections {
    color: RGBColor,
    open: Vec<(f64, f64)>,
    opened: Vec<(f64, f64)>,
    /// Empty when not sampled.
    database: Vec<(f64, f64)>,
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
}

pub(super) fn connections(run: &ResultSet) -> anyhow::Result<Chart> {
    let mut ceilings: Vec<Ceiling> = Vec::new();
    let mut facts = Vec::new();
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
        let max_open = target.series.iter().map(|r| r.connections_open).max();
        let max_db = target.series.iter().filter_map(|r| r.db_connections).max();
        facts.push(format!(
            "{} at most {} client and {} database connections",
            target.name,
            max_open.unwrap_or(0),
            max_db.map_or("unsampled".into(), |n| n.to_string())
        ));
    }
    let targets: Vec<TargetConnections> = run
        .targets
        .iter()
        .map(|t| TargetConnections {
            color: style::target_color(t.index),
            open: timeline::stairs(&t.series, |r| r.connections_open as f64),
            opened: timeline::stairs(&t.series, |r| r.connections_opened as f64),
            database: if t.series.iter().any(|r| r.db_connections.is_some()) {
                timeline::stairs(&t.series, |r| r.db_connections.unwrap_or(0) as f64)
            } else {
                Vec::new()
            },
        })
        .collect();
    let alt = if facts.is_empty() {
        format!(
            "Connections for {}: no target recorded a second.",
            run.manifest.scenario.name
        )
    } else {
        let ceiling = match ceilings.as_slice() {
            [one] => format!(", under max_connections = {}", one.value),
            _ => String::new(),
        };
        format!(
            "Client connections open and opened per second, and database connections, for {}: \
             {}{ceiling}.",
            run.manifest.scenario.name,
            facts.join("; ")
        )
    };
    let figure = Connections {
        context: super::run_context(run),
        timeline: Timeline::of(run),
        legend: run
            .targets
            .iter()
            .map(|t| LegendItem::new(t.name.clone(), style::target_color(t.index), Mark::Line))
            .collect(),
        targets,
        ceilings,
    };
    canvas::render("connections", TITLE.into(), alt, &figure)
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
        self.draw_lines(&top, OPEN, "", &[], |t| &t.open)?;
        self.draw_lines(
            &bottom,
            "client connections opened per second",
            timeline::X_DESC,
            &[],
            |t| &t.opened,
        )?;
        self.draw_lines(
            &right,
            "database connections",
            timeline::X_DESC,
            &self.ceilings,
            |t| &t.database,
        )
    }
}

impl Connections {
    /// One staircase per target of what `points` picks, and `ceilings` as labelled lines.
    fn draw_lines<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        x_desc: &str,
        ceilings: &[Ceiling],
        points: impl Fn(&TargetConnections) -> &Vec<(f64, f64)>,
    ) -> DrawResult<(), DB> {
        let panel = Panel {
            caption: Some(caption),
            x_desc,
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
        let max = drawn
            .iter()
            .flat_map(|t| points(t))
            .map(|p| p.1)
            .chain(ceilings.iter().map(|c| c.value))
            .fold(0.0, f64::max);
        let phase_names = caption == OPEN;
        let y = scales::zero_range(max * if phase_names { 1.3 } else { 1.1 }, 4.0);
        let x = self.timeline.x_range();
        let mut chart = frame::axes(
            area,
            &panel,
            x.clone(),
            y.clone(),
            &|v| style::number(*v),
            &|v| style::number(*v),
        )?;
        self.timeline.draw_phases(&mut chart, &y, phase_names)?;
        for ceiling in ceilings {
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
        }
        for target in drawn {
            frame::draw_line(&mut chart, points(target), target.color, Mark::Line)?;
        }
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
                "client connections open",
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
