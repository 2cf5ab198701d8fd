//! A result set loaded whole for reporting and comparing: manifest, summary, the per-second
//! series and every target's interval log, grouped by target in the scenario's order.
//!
//! A complete result set must have every file; an interrupted or failed one is loaded with
//! whatever it kept (a missing summary, series or log reads as empty), so its report can say
//! honestly what there is.

use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;

use crate::record::hlog::{self, HlogInterval};
use crate::record::resultset::{self, ReadError, RunStatus, SCHEMA_VERSION};
use crate::record::series::{self, SeriesRow};
use crate::record::{Manifest, Summary, TargetSummary};

/// Why a result set could not be loaded: the file, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{path}: {problem}")]
    File { path: PathBuf, problem: String },
}

/// One result set, ready to draw and compare.
#[derive(Debug, Clone)]
pub struct RunData {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub summary: Summary,
    /// Targets that have a summary or any recorded second, in the scenario's order.
    pub targets: Vec<TargetData>,
}

/// Everything recorded for one target.
#[derive(Debug, Clone)]
pub struct TargetData {
    pub name: String,
    /// `serverless`, `persistent` or `external`.
    pub kind: String,
    /// Position in the scenario's target list: the key to its colour in every chart.
    pub index: usize,
    /// `None` when the run stopped before the target's summary was written.
    pub summary: Option<TargetSummary>,
    /// One row per second, in order (`second` 1 = the first second of its load).
    pub series: Vec<SeriesRow>,
    /// Per-second corrected latency (the untagged `.hlog` intervals).
    pub latency: Vec<HlogInterval>,
    /// Per-second service time (`Tag=service_time`).
    pub service_time: Vec<HlogInterval>,
    /// Per-second latency of cold and warm responses; empty when the target does not report
    /// cold starts.
    pub cold_latency: Vec<HlogInterval>,
    pub warm_latency: Vec<HlogInterval>,
}

impl TargetData {
    /// Whether the target reported cold starts (`x-coldfront-cold`).
    pub fn reports_cold_starts(&self) -> bool {
        self.summary
            .as_ref()
            .map(|s| s.cold_starts.is_some())
            .unwrap_or(false)
            || self.series.iter().any(|row| row.cold_starts.is_some())
    }

    /// The whole-run histogram of a per-second log (microseconds).
    pub fn merged(intervals: &[HlogInterval]) -> Histogram<u64> {
        hlog::merged(intervals)
    }
}

impl RunData {
    pub fn load(dir: &Path) -> Result<RunData, LoadError> {
        let manifest: Manifest =
            resultset::read_json(&dir.join(resultset::MANIFEST_FILE), "manifest")?;
        let complete = manifest.status == RunStatus::Complete;
        let summary_path = dir.join(resultset::SUMMARY_FILE);
        let summary = if complete || summary_path.exists() {
            resultset::read_json(&summary_path, "summary")?
        } else {
            Summary {
                schema_version: SCHEMA_VERSION,
                scenario: manifest.scenario.name.clone(),
                status: manifest.status,
                targets: Default::default(),
            }
        };
        if summary.scenario != manifest.scenario.name {
            return Err(LoadError::File {
                path: summary_path,
                problem: format!(
                    "summary of scenario {:?}, but the manifest is of {:?}",
                    summary.scenario, manifest.scenario.name
                ),
            });
        }
        let rows = read_series(dir, complete)?;
        let mut targets = Vec::new();
        for (index, record) in manifest.scenario.targets.iter().enumerate() {
            let name = &record.name;
            let target_summary = summary.targets.get(name).cloned();
            let target_rows: Vec<SeriesRow> = rows
                .iter()
                .filter(|row| &row.target == name)
                .cloned()
                .collect();
            let hlog_path = dir.join(resultset::hlog_file(name));
            let must_exist = target_summary.is_some() && complete;
            let intervals = if must_exist || hlog_path.exists() {
                hlog::read(&hlog_path).map_err(|problem| LoadError::File {
                    path: hlog_path.clone(),
                    problem: strip_path(&problem, &hlog_path),
                })?
            } else {
                Vec::new()
            };
            if target_summary.is_none() && target_rows.is_empty() && intervals.is_empty() {
                continue; // never ran
            }
            let mut target = TargetData {
                name: name.clone(),
                kind: record.kind.clone(),
                index,
                summary: target_summary,
                series: target_rows,
                latency: Vec::new(),
                service_time: Vec::new(),
                cold_latency: Vec::new(),
                warm_latency: Vec::new(),
            };
            for interval in intervals {
                let log = match interval.tag.as_deref() {
                    None => &mut target.latency,
                    Some(hlog::TAG_SERVICE_TIME) => &mut target.service_time,
                    Some(hlog::TAG_COLD_LATENCY) => &mut target.cold_latency,
                    Some(hlog::TAG_WARM_LATENCY) => &mut target.warm_latency,
                    Some(_) => continue, // a tag of a later coldfront: not read here
                };
                log.push(interval);
            }
            targets.push(target);
        }
        Ok(RunData {
            dir: dir.to_path_buf(),
            manifest,
            summary,
            targets,
        })
    }

    pub fn target(&self, name: &str) -> Option<&TargetData> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// This result set reduced to one target, renamed `as_name`: how `compare --between` pits
    /// two targets of one run against each other. `None` when the target was not measured.
    pub fn only_target(&self, name: &str, as_name: &str) -> Option<RunData> {
        let mut target = self.target(name)?.clone();
        target.name = as_name.to_string();
        for row in &mut target.series {
            row.target = as_name.to_string();
        }
        let mut run = self.clone();
        run.summary.targets = run
            .summary
            .targets
            .remove(name)
            .map(|summary| (as_name.to_string(), summary))
            .into_iter()
            .collect();
        run.targets = vec![target];
        Some(run)
    }

    /// This result set reduced to the seconds of one phase (by the phase's name), for figures
    /// "once warm" or "during the burst". Whole-run summaries are kept as they are; per-second
    /// series and interval logs are cut to the phase.
    pub fn only_phase(&self, phase: &str) -> Result<RunData, String> {
        let phases = &self.manifest.scenario.phases;
        let Some(chosen) = phases.iter().find(|p| p.name == phase).cloned() else {
            let names: Vec<&str> = phases.iter().map(|p| p.name.as_str()).collect();
            return Err(format!(
                "{}: scenario {:?} has no phase {phase:?}; its phases are {}",
                self.dir.display(),
                self.manifest.scenario.name,
                names.join(", ")
            ));
        };
        let inside = |start_s: f64| super::phases::in_phase(&chosen, start_s);
        let mut run = self.clone();
        run.manifest.scenario.phases = vec![chosen.clone()];
        for target in &mut run.targets {
            target
                .series
                .retain(|row| inside(row.second.saturating_sub(1) as f64));
            for log in [
                &mut target.latency,
                &mut target.service_time,
                &mut target.cold_latency,
                &mut target.warm_latency,
            ] {
                log.retain(|interval| inside(interval.start.as_secs_f64()));
            }
        }
        Ok(run)
    }

    /// Seconds covered by the longest target's series (0 when nothing was recorded).
    pub fn seconds(&self) -> u64 {
        self.targets
            .iter()
            .flat_map(|t| t.series.last())
            .map(|row| row.second)
            .max()
            .unwrap_or(0)
    }
}

/// `timeseries.csv`, or what an unfinished run streamed into `timeseries.csv.partial`.
fn read_series(dir: &Path, complete: bool) -> Result<Vec<SeriesRow>, LoadError> {
    let path = dir.join(resultset::TIMESERIES_FILE);
    let partial = dir.join(format!("{}.partial", resultset::TIMESERIES_FILE));
    let path = if !complete && !path.exists() && partial.exists() {
        partial
    } else if !complete && !path.exists() {
        return Ok(Vec::new());
    } else {
        path
    };
    let text = std::fs::read_to_string(&path).map_err(|e| LoadError::File {
        path: path.clone(),
        problem: format!("cannot read: {e}"),
    })?;
    let mut rows = series::parse_csv(&text).map_err(|problem| LoadError::File {
        path: path.clone(),
        problem: format!("not a coldfront time series: {problem}"),
    })?;
    rows.sort_by(|a, b| (&a.target, a.second).cmp(&(&b.target, b.second)));
    Ok(rows)
}

/// `hlog::read` names the file itself; the error here names it once.
fn strip_path(problem: &str, path: &Path) -> String {
    problem
        .strip_prefix(&format!("{}: ", path.display()))
        .unwrap_or(problem)
        .to_string()
}
