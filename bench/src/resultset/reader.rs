//! The one reader: a result set loaded whole for reporting and comparing (manifest, summary,
//! the per-second series and every target's interval log, grouped by target in the scenario's
//! order).
//!
//! A complete result set must have every file; an interrupted or failed one is loaded with
//! whatever it kept (a missing summary, series or log reads as empty), so its report can say
//! honestly what there is.

use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;

use super::hlog::{self, HlogInterval};
use super::series::{self, SeriesRow};
use super::{
    hlog_file, read_json, Manifest, ReadError, Summary, TargetSummary, MANIFEST_FILE,
    PARTIAL_SUFFIX, SCHEMA_VERSION, SUMMARY_FILE, TIMESERIES_FILE,
};
use crate::model::{RunStatus, TargetKind};

/// One result set, ready to draw and compare.
#[derive(Debug, Clone)]
pub struct ResultSet {
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
    pub kind: TargetKind,
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

impl ResultSet {
    /// Reads the result set in `dir`.
    pub fn read(dir: &Path) -> Result<ResultSet, ReadError> {
        let manifest: Manifest = read_json(&dir.join(MANIFEST_FILE), "manifest")?;
        let complete = manifest.status == RunStatus::Complete;
        let summary_path = dir.join(SUMMARY_FILE);
        let summary = if complete || summary_path.exists() {
            read_json(&summary_path, "summary")?
        } else {
            Summary {
                schema_version: SCHEMA_VERSION,
                scenario: manifest.scenario.name.clone(),
                status: manifest.status,
                targets: Default::default(),
            }
        };
        if summary.scenario != manifest.scenario.name {
            return Err(ReadError::ScenarioMismatch {
                path: summary_path,
                found: summary.scenario,
                expected: manifest.scenario.name,
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
            let hlog_path = dir.join(hlog_file(name));
            let must_exist = target_summary.is_some() && complete;
            let intervals = if must_exist || hlog_path.exists() {
                hlog::read(&hlog_path)?
            } else {
                Vec::new()
            };
            if target_summary.is_none() && target_rows.is_empty() && intervals.is_empty() {
                continue; // never ran
            }
            let mut target = TargetData {
                name: name.clone(),
                kind: record.kind,
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
        Ok(ResultSet {
            dir: dir.to_path_buf(),
            manifest,
            summary,
            targets,
        })
    }

    pub fn target(&self, name: &str) -> Option<&TargetData> {
        self.targets.iter().find(|t| t.name == name)
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
fn read_series(dir: &Path, complete: bool) -> Result<Vec<SeriesRow>, ReadError> {
    let path = dir.join(TIMESERIES_FILE);
    let partial = dir.join(format!("{TIMESERIES_FILE}{PARTIAL_SUFFIX}"));
    let path = if !complete && !path.exists() && partial.exists() {
        partial
    } else if !complete && !path.exists() {
        return Ok(Vec::new());
    } else {
        path
    };
    let text = std::fs::read_to_string(&path).map_err(|cause| ReadError::Io {
        path: path.clone(),
        cause,
    })?;
    let mut rows = series::parse_csv(&text).map_err(|cause| ReadError::Series {
        path: path.clone(),
        cause,
    })?;
    rows.sort_by(|a, b| (&a.target, a.second).cmp(&(&b.target, b.second)));
    Ok(rows)
}
