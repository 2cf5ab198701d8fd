//! The one reader: a result set loaded whole for reporting and comparing (manifest, summary,
//! the per-second series and every target's interval log, grouped by target in the scenario's
//! order).
//!
//! A complete result set must have every file; an interrupted or failed one is loaded with
//! whatever it kept (a missing summary, series or log reads as empty), so its report can say
//! honestly what there is. A result set is input like any other: names read back must be
//! names coldfront writes (so none can become a path outside the set), every file must be a
//! regular file of bounded size, and what the files say must agree (rows and summaries of
//! targets the manifest lists, seconds within the run, a complete run's measured targets with
//! their intervals and rows); anything else is refused, naming the file and the problem.

use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;

use super::hlog::{self, HlogInterval};
use super::series::{self, SeriesRow};
use super::{
    hlog_file, read_json, Manifest, ReadError, Summary, TargetRecord, TargetSummary, MANIFEST_FILE,
    PARTIAL_SUFFIX, SCHEMA_VERSION, SUMMARY_FILE, TIMESERIES_FILE,
};
use crate::model::names::{is_name, SCENARIO_NAME_EXTRA, TARGET_NAME_EXTRA};
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
    /// Reads the result set in `dir`; the set of a `run --repeat` is refused (its repetitions
    /// are result sets: see [`ResultSet::read_runs`]).
    pub fn read(dir: &Path) -> Result<ResultSet, ReadError> {
        let manifest: Manifest = read_json(&dir.join(MANIFEST_FILE), "manifest")?;
        if let Some(repetitions) = &manifest.repetitions {
            return Err(ReadError::Repeated {
                path: dir.to_path_buf(),
                count: repetitions.count,
            });
        }
        ResultSet::read_with(dir, manifest)
    }

    /// The result set in `dir` whose manifest (of a run that was not repeated) was read.
    fn read_with(dir: &Path, manifest: Manifest) -> Result<ResultSet, ReadError> {
        let complete = manifest.status == RunStatus::Complete;
        let summary_path = dir.join(SUMMARY_FILE);
        let summary = if complete || summary_path.exists() {
            read_json(&summary_path, "summary")?
        } else {
            no_summary(&manifest)
        };
        if summary.scenario != manifest.scenario.name {
            return Err(ReadError::ScenarioMismatch {
                path: summary_path,
                found: summary.scenario,
                expected: manifest.scenario.name,
            });
        }
        check_names(dir, &manifest, &summary)?;
        let (series_path, rows) = read_series(dir, complete)?;
        check_rows(&series_path, &manifest, &rows)?;
        let files = Files {
            dir,
            complete,
            series_path: &series_path,
            rows: &rows,
            summary: &summary,
        };
        let mut targets = Vec::new();
        for (index, record) in manifest.scenario.targets.iter().enumerate() {
            targets.extend(files.target(index, record)?);
        }
        Ok(ResultSet {
            dir: dir.to_path_buf(),
            manifest,
            summary,
            targets,
        })
    }

    /// The runs `dir` stands for: the repetitions that completed when it is the set of a
    /// `run --repeat`, in order; else the result set itself.
    pub fn read_runs(dir: &Path) -> Result<Vec<ResultSet>, ReadError> {
        let manifest: Manifest = read_json(&dir.join(MANIFEST_FILE), "manifest")?;
        if manifest.repetitions.is_none() {
            return Ok(vec![ResultSet::read_with(dir, manifest)?]);
        }
        let mut runs = Vec::new();
        for rep in repetition_dirs(dir, &manifest)? {
            let run = ResultSet::read(&rep)?;
            if run.manifest.status == RunStatus::Complete {
                runs.push(run);
            }
        }
        if runs.is_empty() {
            let problem = "no repetition completed".to_string();
            return Err(inconsistent(&dir.join(MANIFEST_FILE), problem));
        }
        Ok(runs)
    }

    /// The pooled view of the set of a `run --repeat` in `dir`: its manifest, its summary
    /// (empty when the run stopped before pooling) and per target only that summary: no
    /// per-second data, which lives in each repetition's set.
    pub fn read_pooled(dir: &Path) -> Result<ResultSet, ReadError> {
        let manifest: Manifest = read_json(&dir.join(MANIFEST_FILE), "manifest")?;
        repetition_dirs(dir, &manifest)?;
        let summary_path = dir.join(SUMMARY_FILE);
        let summary: Summary = if summary_path.exists() {
            read_json(&summary_path, "summary")?
        } else {
            no_summary(&manifest)
        };
        check_names(dir, &manifest, &summary)?;
        let targets = (manifest.scenario.targets.iter().enumerate())
            .filter_map(|(index, record)| {
                let summary = summary.targets.get(&record.name)?.clone();
                Some(TargetData {
                    name: record.name.clone(),
                    kind: record.kind,
                    index,
                    summary: Some(summary),
                    series: Vec::new(),
                    latency: Vec::new(),
                    service_time: Vec::new(),
                    cold_latency: Vec::new(),
                    warm_latency: Vec::new(),
                })
            })
            .collect();
        Ok(ResultSet {
            dir: dir.to_path_buf(),
            manifest,
            summary,
            targets,
        })
    }

    /// The repetitions' directories, in order, when `dir` holds the set of a `run --repeat`;
    /// `None` for any other result set.
    pub fn repetitions(dir: &Path) -> Result<Option<Vec<PathBuf>>, ReadError> {
        let manifest: Manifest = read_json(&dir.join(MANIFEST_FILE), "manifest")?;
        match manifest.repetitions {
            None => Ok(None),
            Some(_) => repetition_dirs(dir, &manifest).map(Some),
        }
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

/// The summary of a run that stopped before writing one: no target.
fn no_summary(manifest: &Manifest) -> Summary {
    Summary {
        schema_version: SCHEMA_VERSION,
        scenario: manifest.scenario.name.clone(),
        status: manifest.status,
        targets: Default::default(),
    }
}

/// The repetitions' directories of the set of a `run --repeat` in `dir`, each checked to be
/// named `rep-<number>`; an error when `manifest` is not such a set's.
fn repetition_dirs(dir: &Path, manifest: &Manifest) -> Result<Vec<PathBuf>, ReadError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let Some(record) = &manifest.repetitions else {
        let problem = "not the set of a `run --repeat`".to_string();
        return Err(inconsistent(&manifest_path, problem));
    };
    let mut dirs = Vec::new();
    for name in &record.dirs {
        if super::repetition_index(name).is_none() {
            let problem = format!("repetition directory {name:?} is not rep-<number>");
            return Err(inconsistent(&manifest_path, problem));
        }
        dirs.push(dir.join(name));
    }
    Ok(dirs)
}

/// What was read of a result set before its targets: where, and how complete.
struct Files<'a> {
    dir: &'a Path,
    complete: bool,
    series_path: &'a Path,
    rows: &'a [SeriesRow],
    summary: &'a Summary,
}

impl Files<'_> {
    /// Everything recorded for the manifest's target `record` (its summary, rows and interval
    /// logs); `None` when it never ran.
    fn target(&self, index: usize, record: &TargetRecord) -> Result<Option<TargetData>, ReadError> {
        let name = &record.name;
        let summary = self.summary.targets.get(name).cloned();
        let rows: Vec<SeriesRow> = self
            .rows
            .iter()
            .filter(|row| &row.target == name)
            .cloned()
            .collect();
        let hlog_path = self.dir.join(hlog_file(name));
        let must_exist = summary.is_some() && self.complete;
        let intervals = if must_exist || hlog_path.exists() {
            hlog::read(&hlog_path)?
        } else {
            Vec::new()
        };
        if summary.is_none() && rows.is_empty() && intervals.is_empty() {
            return Ok(None); // never ran
        }
        if let Some(measured) = summary.as_ref().map(|s| s.requests) {
            let latency_logged = intervals.iter().any(|i| i.tag.is_none());
            if self.complete && measured > 0 && !latency_logged {
                let problem = format!(
                    "no latency intervals, but the summary counts {measured} requests of {name:?}"
                );
                return Err(inconsistent(&hlog_path, problem));
            }
            if self.complete && measured > 0 && rows.is_empty() {
                let problem = format!(
                    "no row of target {name:?}, but the summary counts {measured} requests"
                );
                return Err(inconsistent(self.series_path, problem));
            }
        }
        let mut target = TargetData {
            name: name.clone(),
            kind: record.kind,
            index,
            summary,
            series: rows,
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
        Ok(Some(target))
    }
}

/// `timeseries.csv`, or what an unfinished run streamed into `timeseries.csv.partial`, with
/// the path read (or that would have been).
fn read_series(dir: &Path, complete: bool) -> Result<(PathBuf, Vec<SeriesRow>), ReadError> {
    let path = dir.join(TIMESERIES_FILE);
    let partial = dir.join(format!("{TIMESERIES_FILE}{PARTIAL_SUFFIX}"));
    let path = if !complete && !path.exists() && partial.exists() {
        partial
    } else if !complete && !path.exists() {
        return Ok((path, Vec::new()));
    } else {
        path
    };
    let bytes = super::read_file(&path)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut rows = series::parse_csv(&text).map_err(|cause| ReadError::Series {
        path: path.clone(),
        cause,
    })?;
    rows.sort_by(|a, b| (&a.target, a.second).cmp(&(&b.target, b.second)));
    Ok((path, rows))
}

fn inconsistent(path: &Path, problem: String) -> ReadError {
    ReadError::Inconsistent {
        path: path.to_path_buf(),
        problem,
    }
}

/// Names read back are names coldfront writes; the summary speaks of the manifest's targets,
/// and a complete run summarized at least one of them.
fn check_names(dir: &Path, manifest: &Manifest, summary: &Summary) -> Result<(), ReadError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let bad_name = |what, name: &str| ReadError::BadName {
        path: manifest_path.clone(),
        what,
        name: name.to_string(),
    };
    if !is_name(&manifest.scenario.name, SCENARIO_NAME_EXTRA) {
        return Err(bad_name("scenario", &manifest.scenario.name));
    }
    if let Some(bad) = manifest
        .scenario
        .targets
        .iter()
        .find(|t| !is_name(&t.name, TARGET_NAME_EXTRA))
    {
        return Err(bad_name("target", &bad.name));
    }
    let summary_path = dir.join(SUMMARY_FILE);
    let listed = |name: &str| manifest.scenario.targets.iter().any(|t| t.name == name);
    if let Some(unknown) = summary.targets.keys().find(|name| !listed(name)) {
        return Err(inconsistent(
            &summary_path,
            format!("a summary of target {unknown:?}, which the manifest does not list"),
        ));
    }
    let complete = manifest.status == RunStatus::Complete;
    if complete && summary.targets.is_empty() && !manifest.scenario.targets.is_empty() {
        return Err(inconsistent(
            &summary_path,
            "a complete run with no target's summary".into(),
        ));
    }
    Ok(())
}

/// Every row is of a target the manifest lists, at a second within the run (its phases, the
/// client timeout and a minute's grace for requests still finishing).
fn check_rows(path: &Path, manifest: &Manifest, rows: &[SeriesRow]) -> Result<(), ReadError> {
    let scenario = &manifest.scenario;
    let phases_s: f64 = scenario.phases.iter().map(|p| p.duration_s).sum();
    let last_second = (phases_s + scenario.timeout_ms / 1000.0 + 60.0).ceil() as u64;
    for row in rows {
        if !scenario.targets.iter().any(|t| t.name == row.target) {
            return Err(inconsistent(
                path,
                format!(
                    "a row of target {:?}, which the manifest does not list",
                    row.target
                ),
            ));
        }
        if row.second == 0 || row.second > last_second {
            return Err(inconsistent(
                path,
                format!(
                    "second {} of target {:?}: the run lasted at most {last_second} s",
                    row.second, row.target
                ),
            ));
        }
    }
    Ok(())
}
