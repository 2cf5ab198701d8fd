//! `coldfront compare A B`: two sides of one scenario, metric by metric, with a verdict that
//! allows for run-to-run noise. A side is one result set, a set run with `--repeat` (its
//! repetitions are its runs), or several result sets; with several runs on a side the interval
//! is built between runs, with one run a side a change counts only beyond the noise allowance
//! ([`noise`]).
//!
//! [`load`] reads and checks the sides, [`compare`] builds the [`Comparison`] (pure),
//! [`render`] turns it into text, Markdown or JSON, and [`command`] ties them to the CLI and
//! its exit code.

pub(crate) mod metrics;
pub(crate) mod model;
pub(crate) mod noise;
pub(crate) mod render;
pub(crate) mod stats;
pub(crate) mod transform;

use std::path::{Path, PathBuf};

pub(crate) use model::{
    Comparison, MetricComparison, RunCounts, RunInfo, RunToRunNoise, TargetComparison,
};
pub(crate) use stats::Bootstrap;

use crate::resultset::{ReadError, ResultSet};
use crate::Exit;

/// Why two result sets cannot be compared.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CompareError {
    /// The loader's message names the file and what is wrong; it already carries its cause's
    /// text, so it is not chained again as a source (which would print it twice).
    #[error("result set {side} ({}): {problem}", dir.display())]
    Load {
        side: &'static str,
        dir: PathBuf,
        problem: ReadError,
    },
    #[error(
        "cannot compare result sets of different scenarios: A ({}) is {a:?}, B ({}) is {b:?}",
        a_dir.display(),
        b_dir.display()
    )]
    Scenario {
        a: String,
        a_dir: PathBuf,
        b: String,
        b_dir: PathBuf,
    },
    #[error(
        "cannot compare result sets of different schema versions: A ({}) is version {a}, B ({}) is version {b}",
        a_dir.display(),
        b_dir.display()
    )]
    SchemaVersion {
        a: u32,
        a_dir: PathBuf,
        b: u32,
        b_dir: PathBuf,
    },
    #[error("{}: no measured target {target:?}; it has {}", dir.display(), measured.join(", "))]
    NoSuchTarget {
        dir: PathBuf,
        target: String,
        measured: Vec<String>,
    },
    #[error(
        "{}: scenario {scenario:?} has no phase {phase:?}; its phases are {}",
        dir.display(),
        phases.join(", ")
    )]
    NoSuchPhase {
        dir: PathBuf,
        scenario: String,
        phase: String,
        phases: Vec<String>,
    },
}

/// What `coldfront compare` was asked (its command line, parsed).
#[derive(Debug, Clone)]
pub(crate) struct CompareRequest {
    /// The baseline: one result set or several (each may hold repetitions).
    pub a: Vec<PathBuf>,
    /// The side compared with it; `None` = A again (with `between`).
    pub b: Option<Vec<PathBuf>>,
    /// `--between A_TARGET B_TARGET`.
    pub between: Option<(String, String)>,
    /// `--phase NAME`.
    pub phase: Option<String>,
    pub format: Format,
    pub fail_on_regression: bool,
    /// Relative change (0.05 = 5%) a significant regression may have and still pass.
    pub tolerance: f64,
    /// `--noise-allowance`: the relative change one run a side must exceed to count, for every
    /// metric (instead of the measured table).
    pub noise_allowance: Option<f64>,
    /// `--chart PATH` (.svg or .png).
    pub chart: Option<PathBuf>,
    /// `--junit FILE`: a JUnit test case per metric `--fail-on-regression` judges.
    pub junit: Option<PathBuf>,
}

/// How the comparison is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for the terminal.
    Text,
    /// A pull-request comment.
    Markdown,
    /// The comparison's fields (stable names).
    Json,
}

/// The runs of one side: each directory's repetitions when it was run with `--repeat`, else
/// the directory itself.
fn load_side(side: &'static str, dirs: &[PathBuf]) -> Result<Vec<ResultSet>, CompareError> {
    let mut runs = Vec::new();
    for dir in dirs {
        let read = ResultSet::read_runs(dir).map_err(|problem| CompareError::Load {
            side,
            dir: dir.to_path_buf(),
            problem,
        })?;
        runs.extend(read);
    }
    Ok(runs)
}

/// Loads both sides and checks that every run can be compared with every other.
pub(crate) fn load(
    a_dirs: &[PathBuf],
    b_dirs: &[PathBuf],
) -> Result<(Vec<ResultSet>, Vec<ResultSet>), CompareError> {
    let (a, b) = (load_side("A", a_dirs)?, load_side("B", b_dirs)?);
    for run in a.iter().chain(&b) {
        check_comparable(&a[0], run)?;
    }
    Ok((a, b))
}

fn check_comparable(a: &ResultSet, b: &ResultSet) -> Result<(), CompareError> {
    if a.manifest.schema_version != b.manifest.schema_version {
        return Err(CompareError::SchemaVersion {
            a: a.manifest.schema_version,
            a_dir: a.dir.clone(),
            b: b.manifest.schema_version,
            b_dir: b.dir.clone(),
        });
    }
    if a.manifest.scenario.name != b.manifest.scenario.name {
        return Err(CompareError::Scenario {
            a: a.manifest.scenario.name.clone(),
            a_dir: a.dir.clone(),
            b: b.manifest.scenario.name.clone(),
            b_dir: b.dir.clone(),
        });
    }
    Ok(())
}

/// The targets measured in every run of a side, in its first run's order.
fn measured_in_all(runs: &[ResultSet]) -> Vec<&str> {
    runs[0]
        .targets
        .iter()
        .map(|t| t.name.as_str())
        .filter(|name| runs.iter().all(|run| run.target(name).is_some()))
        .collect()
}

/// Compares every target both sides measured (A is the baseline), each side one run or more.
pub(crate) fn compare(
    a: &[ResultSet],
    b: &[ResultSet],
    bootstrap: &Bootstrap,
    tolerance: f64,
    noise_allowance: Option<f64>,
) -> Result<Comparison, CompareError> {
    for run in a.iter().chain(b) {
        check_comparable(&a[0], run)?;
    }
    let judge = noise::Judge {
        noise: noise::Noise::of([a.len(), b.len()], noise_allowance),
        tolerance,
    };
    let (in_a, in_b) = (measured_in_all(a), measured_in_all(b));
    let names: Vec<&str> = in_b.iter().copied().filter(|n| in_a.contains(n)).collect();
    let mut targets = compare_targets(&names, (a, b), bootstrap, &judge);
    let metrics_judged = judge.gate(&mut targets);
    let only_in = |one: &[&str], other: &[&str]| -> Vec<String> {
        one.iter()
            .filter(|n| !other.contains(n))
            .map(|n| n.to_string())
            .collect()
    };
    let noise = match judge.noise {
        noise::Noise::Measured => RunToRunNoise::Measured,
        _ => RunToRunNoise::NotMeasured,
    };
    let every_run = |runs: &[ResultSet]| -> Vec<RunInfo> {
        if runs.len() > 1 {
            runs.iter().map(run_info).collect()
        } else {
            Vec::new()
        }
    };
    Ok(Comparison {
        scenario: b[0].manifest.scenario.name.clone(),
        a: run_info(&a[0]),
        b: run_info(&b[0]),
        a_runs: every_run(a),
        b_runs: every_run(b),
        runs: RunCounts {
            a: a.len(),
            b: b.len(),
        },
        run_to_run_noise: noise,
        method: model::Method::of(bootstrap, noise),
        tolerance,
        metrics_judged,
        targets,
        only_in_a: only_in(&in_a, &in_b),
        only_in_b: only_in(&in_b, &in_a),
    })
}

/// The targets `names`, each compared on a thread of its own (every statistic has its own
/// seed, so the result is the same however they are scheduled).
fn compare_targets(
    names: &[&str],
    (a, b): (&[ResultSet], &[ResultSet]),
    bootstrap: &Bootstrap,
    judge: &noise::Judge,
) -> Vec<TargetComparison> {
    fn recorded<'r>(runs: &'r [ResultSet], name: &str) -> Vec<metrics::Recorded<'r>> {
        runs.iter()
            .map(|run| metrics::Recorded {
                target: run.target(name).expect("measured in every run"),
                phases: &run.manifest.scenario.phases,
            })
            .collect()
    }
    let metrics: Vec<Vec<MetricComparison>> = std::thread::scope(|scope| {
        let running: Vec<_> = names
            .iter()
            .map(|&name| {
                let (ra, rb) = (recorded(a, name), recorded(b, name));
                scope.spawn(move || metrics::compare_target(&ra, &rb, bootstrap, judge))
            })
            .collect();
        running
            .into_iter()
            .map(|thread| thread.join().expect("a target's comparison panicked"))
            .collect()
    });
    names
        .iter()
        .zip(metrics)
        .map(|(&name, metrics)| TargetComparison {
            name: name.to_string(),
            kind: b[0].target(name).expect("measured").kind,
            metrics,
        })
        .collect()
}

/// `transform` applied to every run of a side.
fn each(
    runs: &[ResultSet],
    transform: impl Fn(&ResultSet) -> Result<ResultSet, CompareError>,
) -> Result<Vec<ResultSet>, CompareError> {
    runs.iter().map(transform).collect()
}

fn run_info(run: &ResultSet) -> RunInfo {
    RunInfo {
        dir: run.dir.clone(),
        status: run.manifest.status,
        started_at: run.manifest.started_at.clone(),
        git_revision: run.manifest.git_revision.clone(),
        coldfront_version: run.manifest.coldfront_version.clone(),
    }
}

/// `coldfront compare`: prints the comparison; exit 1 only with `--fail-on-regression` and a
/// significant regression beyond the tolerance.
pub(crate) fn command(args: &CompareRequest) -> anyhow::Result<Exit> {
    let started = std::time::Instant::now();
    if let Some(path) = &args.junit {
        crate::junit::check_path(path)?;
    }
    let b_dirs = args.b.as_deref().unwrap_or(&args.a);
    let (mut a, mut b) = load(&args.a, b_dirs)?;
    if let Some(phase) = &args.phase {
        a = each(&a, |run| transform::only_phase(run, phase))?;
        b = each(&b, |run| transform::only_phase(run, phase))?;
    }
    if let Some((a_target, b_target)) = &args.between {
        let label = format!("{a_target} → {b_target}");
        a = each(&a, |run| transform::only_target(run, a_target, &label))?;
        b = each(&b, |run| transform::only_target(run, b_target, &label))?;
    }
    let bootstrap = Bootstrap::default();
    let comparison = compare(&a, &b, &bootstrap, args.tolerance, args.noise_allowance)?;
    let output = match args.format {
        Format::Text => render::text(&comparison),
        Format::Markdown => render::markdown(&comparison),
        Format::Json => render::json(&comparison),
    };
    print!("{output}");
    if let Some(path) = &args.chart {
        write_chart(&a[0], &b[0], path)?;
        eprintln!("chart: {}", path.display());
    }
    let failures: Vec<String> = comparison
        .failures()
        .map(|(t, m)| render::failure_line(t, m))
        .collect();
    if let Some(path) = &args.junit {
        let suite = junit_suite(&comparison, started.elapsed().as_secs_f64());
        crate::junit::write(path, &[suite])?;
    }
    if args.fail_on_regression && !failures.is_empty() {
        eprintln!(
            "regressed beyond the {} tolerance:",
            crate::model::percent(comparison.tolerance)
        );
        for failure in &failures {
            eprintln!("  {failure}");
        }
        return Ok(Exit::ThresholdFailed);
    }
    Ok(Exit::Success)
}

/// `--junit`: a case per compared metric (`classname` `scenario.target`), failed when it
/// regressed significantly beyond the tolerance, skipped when a side had too few seconds.
fn junit_suite(comparison: &Comparison, time_s: f64) -> crate::junit::Suite {
    use crate::junit::{Case, CaseResult};
    let tolerance = crate::model::percent(comparison.tolerance);
    let cases = comparison
        .metrics()
        .map(|(target, metric)| Case {
            classname: format!("{}.{}", comparison.scenario, target.name),
            name: format!("{} not regressed beyond {tolerance}", metric.metric),
            result: if metric.beyond_tolerance {
                CaseResult::Failed {
                    kind: "regression",
                    message: format!("regressed: {}", render::failure_line(target, metric)),
                    detail: render::failure_line(target, metric),
                }
            } else if metric.verdict == stats::Verdict::InsufficientData {
                CaseResult::Skipped {
                    message: format!(
                        "insufficient data: fewer than {} informative seconds on a side",
                        comparison.method.min_seconds
                    ),
                }
            } else {
                CaseResult::Passed
            },
        })
        .collect();
    crate::junit::Suite {
        name: format!("compare: {}", comparison.scenario),
        time_s: Some(time_s),
        cases,
    }
}

/// Draws A's and B's latency spectra overlaid into `path`, SVG or PNG by its extension.
fn write_chart(a: &ResultSet, b: &ResultSet, path: &Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let label = |side: &str, run: &ResultSet| {
        let components: Vec<_> = run.dir.components().collect();
        let tail = components[components.len().saturating_sub(2)..]
            .iter()
            .collect::<PathBuf>();
        format!("{side} ({})", tail.display())
    };
    let chart = crate::report::charts::compare_spectrum(a, b, &label("A", a), &label("B", b))
        .context("drawing the comparison chart")?;
    let bytes = match chart_format(path) {
        Some(ChartFormat::Svg) => chart.svg.as_bytes(),
        Some(ChartFormat::Png) => chart.png.as_slice(),
        None => unreachable!("checked by parse_chart_path"),
    };
    crate::resultset::io::write_atomic(path, bytes)
        .with_context(|| format!("writing {}", path.display()))
}

enum ChartFormat {
    Svg,
    Png,
}

fn chart_format(path: &Path) -> Option<ChartFormat> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "svg" => Some(ChartFormat::Svg),
        "png" => Some(ChartFormat::Png),
        _ => None,
    }
}

/// `--chart`: a path ending in `.svg` or `.png`.
pub(crate) fn parse_chart_path(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    match chart_format(&path) {
        Some(_) => Ok(path),
        None => Err(format!("{text:?} must end in .svg or .png")),
    }
}

/// The result sets of one side, as given on the command line.
#[derive(Debug, Clone)]
pub struct SidePaths(pub Vec<PathBuf>);

/// A side: one path, or several separated by commas.
pub(crate) fn parse_side(text: &str) -> Result<SidePaths, String> {
    let paths: Vec<PathBuf> = text.split(',').map(PathBuf::from).collect();
    if paths.iter().any(|p| p.as_os_str().is_empty()) {
        return Err(format!(
            "{text:?} has an empty path (expected DIR or DIR,DIR,…)"
        ));
    }
    Ok(SidePaths(paths))
}

/// `--tolerance`: `5%` or `0.05`, from 0 to 100%.
pub(crate) fn parse_tolerance(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, scale) = match trimmed.strip_suffix('%') {
        Some(percent) => (percent.trim(), 100.0),
        None => (trimmed, 1.0),
    };
    let value = number
        .parse::<f64>()
        .map(|v| v / scale)
        .map_err(|_| format!("{text:?} is not a tolerance (expected e.g. \"5%\" or \"0.05\")"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("{text:?} is out of range (0% to 100%)"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests;
