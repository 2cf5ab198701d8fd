//! `coldfront compare A B`: two result sets of one scenario, metric by metric, with a verdict
//! from a bootstrap over their per-second intervals.
//!
//! [`load`] reads and checks the pair, [`compare`] builds the [`Comparison`] (pure),
//! [`render`] turns it into text, Markdown or JSON, and [`command`] ties them to the CLI and
//! its exit code.

pub(crate) mod metrics;
pub(crate) mod model;
pub(crate) mod render;
pub(crate) mod stats;
pub(crate) mod transform;

use std::path::{Path, PathBuf};

pub(crate) use model::{Comparison, MetricComparison, RunInfo, TargetComparison};
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
    /// The baseline result set.
    pub a: PathBuf,
    /// The result set compared with it; `None` = A again (with `between`).
    pub b: Option<PathBuf>,
    /// `--between A_TARGET B_TARGET`.
    pub between: Option<(String, String)>,
    /// `--phase NAME`.
    pub phase: Option<String>,
    pub format: Format,
    pub fail_on_regression: bool,
    /// Relative change (0.05 = 5%) a significant regression may have and still pass.
    pub tolerance: f64,
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

/// Loads both result sets and checks that they can be compared.
pub(crate) fn load(a_dir: &Path, b_dir: &Path) -> Result<(ResultSet, ResultSet), CompareError> {
    let load_side = |side, dir: &Path| {
        ResultSet::read(dir).map_err(|problem| CompareError::Load {
            side,
            dir: dir.to_path_buf(),
            problem,
        })
    };
    let (a, b) = (load_side("A", a_dir)?, load_side("B", b_dir)?);
    check_comparable(&a, &b)?;
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

/// Compares every target both result sets measured (A is the baseline).
pub(crate) fn compare(
    a: &ResultSet,
    b: &ResultSet,
    bootstrap: &Bootstrap,
    tolerance: f64,
) -> Result<Comparison, CompareError> {
    check_comparable(a, b)?;
    let pairs: Vec<_> = b
        .targets
        .iter()
        .filter_map(|tb| a.target(&tb.name).map(|ta| (ta, tb)))
        .collect();
    // One thread per target: every statistic has its own seed, so the result is the same.
    let metrics: Vec<Vec<MetricComparison>> = std::thread::scope(|scope| {
        let running: Vec<_> = pairs
            .iter()
            .map(|&(ta, tb)| {
                scope.spawn(move || {
                    metrics::compare_target(
                        metrics::Recorded {
                            target: ta,
                            phases: &a.manifest.scenario.phases,
                        },
                        metrics::Recorded {
                            target: tb,
                            phases: &b.manifest.scenario.phases,
                        },
                        bootstrap,
                        tolerance,
                    )
                })
            })
            .collect();
        running
            .into_iter()
            .map(|thread| thread.join().expect("a target's comparison panicked"))
            .collect()
    });
    let targets = pairs
        .iter()
        .zip(metrics)
        .map(|(&(_, tb), metrics)| TargetComparison {
            name: tb.name.clone(),
            kind: tb.kind,
            metrics,
        })
        .collect();
    let only_in = |one: &ResultSet, other: &ResultSet| -> Vec<String> {
        one.targets
            .iter()
            .filter(|t| other.target(&t.name).is_none())
            .map(|t| t.name.clone())
            .collect()
    };
    Ok(Comparison {
        scenario: b.manifest.scenario.name.clone(),
        a: run_info(a),
        b: run_info(b),
        method: bootstrap.into(),
        tolerance,
        targets,
        only_in_a: only_in(a, b),
        only_in_b: only_in(b, a),
    })
}

/// Each side reduced to one target, both renamed `A_TARGET → B_TARGET`, so the pair is
/// compared like one target measured twice.
fn between(
    a: &ResultSet,
    a_target: &str,
    b: &ResultSet,
    b_target: &str,
) -> Result<(ResultSet, ResultSet), CompareError> {
    let label = format!("{a_target} → {b_target}");
    Ok((
        transform::only_target(a, a_target, &label)?,
        transform::only_target(b, b_target, &label)?,
    ))
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
    let b_dir = args.b.as_deref().unwrap_or(&args.a);
    let (mut a, mut b) = load(&args.a, b_dir)?;
    if let Some(phase) = &args.phase {
        a = transform::only_phase(&a, phase)?;
        b = transform::only_phase(&b, phase)?;
    }
    if let Some((a_target, b_target)) = &args.between {
        (a, b) = between(&a, a_target, &b, b_target)?;
    }
    let comparison = compare(&a, &b, &Bootstrap::default(), args.tolerance)?;
    let output = match args.format {
        Format::Text => render::text(&comparison),
        Format::Markdown => render::markdown(&comparison),
        Format::Json => render::json(&comparison),
    };
    print!("{output}");
    if let Some(path) = &args.chart {
        write_chart(&a, &b, path)?;
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
