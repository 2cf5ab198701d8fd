//! Reports of result sets: charts (one file per chart kind), the self-contained
//! `report.html` of one result set, and the static site of several.

pub mod charts;
pub mod html;
pub(crate) mod phases;
pub(crate) mod site;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::resultset::ResultSet;

/// File name of a result set's page.
pub(crate) const REPORT_FILE: &str = "report.html";
/// Directory of a result set's chart files.
pub(crate) const CHARTS_DIR: &str = "charts";

/// Draws `run`'s charts into `dir/charts/` and writes `dir/report.html`; returns the page's path.
pub(crate) fn write_page(
    run: &ResultSet,
    dir: &Path,
    index_href: Option<&str>,
) -> anyhow::Result<PathBuf> {
    let charts = charts::render_all(run)
        .with_context(|| format!("drawing the charts of {}", run.dir.display()))?;
    let chart_dir = dir.join(CHARTS_DIR);
    charts::write(&charts, &chart_dir)
        .with_context(|| format!("writing charts into {}", chart_dir.display()))?;
    let page = html::result_page(run, &charts, index_href);
    let path = dir.join(REPORT_FILE);
    crate::resultset::io::write_atomic(&path, page.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Loads the result set in `dir` and writes its charts and `report.html` into it.
pub(crate) fn write_in_place(dir: &Path) -> anyhow::Result<PathBuf> {
    let run = ResultSet::read(dir)?;
    write_page(&run, dir, None)
}
