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

/// The result sets `paths` name: each path that is a result set (it has a `manifest.json`),
/// and for a folder of result sets (such as `results/reference`, where `results/*` lands) the
/// result sets directly inside it, in name order. Anything else is kept, for its reader to
/// refuse with a precise message.
pub fn result_set_dirs(paths: &[PathBuf]) -> Vec<PathBuf> {
    let is_set = |dir: &Path| dir.join(crate::resultset::MANIFEST_FILE).is_file();
    let mut dirs = Vec::new();
    for path in paths {
        let inside: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(entries) if !is_set(path) => {
                let mut sets: Vec<PathBuf> = entries
                    .flatten()
                    .map(|entry| entry.path())
                    .filter(|dir| is_set(dir))
                    .collect();
                sets.sort();
                sets
            }
            _ => Vec::new(),
        };
        if inside.is_empty() {
            dirs.push(path.clone());
        } else {
            dirs.extend(inside);
        }
    }
    dirs
}

/// Loads the result set in `dir` and writes its charts and `report.html` into it. The set of a
/// `run --repeat` gets its pooled page; its repetitions keep the pages their runs drew.
pub(crate) fn write_in_place(dir: &Path) -> anyhow::Result<PathBuf> {
    if ResultSet::repetitions(dir)?.is_some() {
        return write_repeated_page(dir);
    }
    let run = ResultSet::read(dir)?;
    write_page(&run, dir, None)
}

/// `report DIR`: `DIR`'s `.hgrm` files, charts and page written anew; for the set of a
/// `run --repeat`, each repetition's and then the pooled page. Returns the pages written.
pub(crate) fn rewrite(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut pages = Vec::new();
    let repetitions = repetition_dirs(dir)?;
    for rep in &repetitions {
        pages.extend(rewrite(rep)?);
    }
    if repetitions.is_empty() {
        let run = ResultSet::read(dir)?;
        crate::resultset::hgrm::write_set(&run)?;
        pages.push(write_page(&run, dir, None)?);
    } else {
        pages.push(write_repeated_page(dir)?);
    }
    Ok(pages)
}

/// The repetitions' sets of the set of a `run --repeat` in `dir`; empty for any other set.
pub(crate) fn repetition_dirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    Ok(ResultSet::repetitions(dir)?.unwrap_or_default())
}

fn write_repeated_page(dir: &Path) -> anyhow::Result<PathBuf> {
    let run = ResultSet::read_pooled(dir)?;
    let path = dir.join(REPORT_FILE);
    crate::resultset::io::write_atomic(&path, html::repeated_page(&run).as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::synthetic;

    #[test]
    fn a_folder_of_result_sets_stands_for_the_sets_inside_it() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("reference");
        for name in ["b-set", "a-set"] {
            synthetic::write(&synthetic::sample(), &folder.join(name)).unwrap();
        }
        std::fs::write(folder.join("index.html"), "").unwrap();
        let own = root.path().join("quickstart");
        synthetic::write(&synthetic::sample(), &own).unwrap();
        let typo = root.path().join("nothing-here");
        let given = [folder.clone(), own.clone(), typo.clone()];
        assert_eq!(
            result_set_dirs(&given),
            [folder.join("a-set"), folder.join("b-set"), own, typo]
        );
    }
}
