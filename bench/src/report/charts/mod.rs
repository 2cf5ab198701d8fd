//! Charts of a result set, drawn with plotters as SVG and PNG (`WIDTH`×`HEIGHT`): one function
//! per chart kind, one file each, all pure; [`write`] is the only one that touches files.
//!
//! Every chart draws each target in the same colour (by its position in the scenario, from the
//! colour-blind-safe Okabe–Ito palette) and says "no data: why" rather than drawing nothing.
//! PNG text uses the bundled DejaVu Sans, set at its real advances and kerning by [`text`], so
//! charts render the same on a machine without fonts.

use std::path::Path;

use super::ResultSet;

mod canvas;
mod cold_starts;
mod compare_spectrum;
mod connections;
mod enough;
mod frame;
mod latency_time;
mod outcomes;
mod pooling;
mod scales;
mod send_lag;
mod spectrum;
mod style;
mod summary;
mod text;
mod timeline;

pub(crate) use compare_spectrum::compare_spectrum;

pub(crate) const WIDTH: u32 = 1200;
pub(crate) const HEIGHT: u32 = 700;

/// One chart, drawn both ways.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File stem, e.g. `latency-spectrum`.
    pub id: &'static str,
    pub title: String,
    /// One sentence describing the chart, for `<img alt>`.
    pub alt: String,
    pub svg: String,
    pub png: Vec<u8>,
}

/// The seven charts of a result set, in this order: latency spectrum, latency over time,
/// outcomes, cold starts, connections, summary, the generator's send lag.
pub fn render_all(run: &ResultSet) -> anyhow::Result<Vec<Chart>> {
    Ok(vec![
        spectrum::latency_spectrum(run)?,
        latency_time::latency_over_time(run)?,
        outcomes::outcomes(run)?,
        cold_starts::cold_starts(run)?,
        connections::connections(run)?,
        summary::summary(run)?,
        send_lag::send_lag(run)?,
    ])
}

/// Writes `dir/<id>.svg` and `dir/<id>.png` for every chart, each atomically, creating `dir`.
pub fn write(charts: &[Chart], dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for chart in charts {
        let svg = dir.join(format!("{}.svg", chart.id));
        crate::resultset::io::write_atomic(&svg, chart.svg.as_bytes())?;
        let png = dir.join(format!("{}.png", chart.id));
        crate::resultset::io::write_atomic(&png, &chart.png)?;
    }
    Ok(())
}

/// What was run, for the right of a chart's title: `quickstart · 23 s · complete`, and the
/// targets of the scenario that recorded nothing (`· not measured: persistent`).
fn run_context(run: &ResultSet) -> String {
    let status = run.manifest.status;
    let missing: Vec<&str> = run
        .manifest
        .scenario
        .targets
        .iter()
        .map(|t| t.name.as_str())
        .filter(|name| run.target(name).is_none())
        .collect();
    let mut context = format!(
        "{} · {} s · {}",
        run.manifest.scenario.name,
        run.seconds(),
        status
    );
    if !missing.is_empty() {
        context.push_str(&format!(" · not measured: {}", missing.join(", ")));
    }
    context
}

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
