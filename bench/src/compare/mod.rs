//! `coldfront compare A B`: two result sets of one scenario, metric by metric, with a verdict
//! from a bootstrap over their per-second intervals.
//!
//! [`load`] reads and checks the pair, [`compare`] builds the [`Comparison`] (pure),
//! [`render`] turns it into text, Markdown or JSON, and [`command`] ties them to the CLI and
//! its exit code.

pub mod metrics;
pub mod model;
pub mod render;
pub mod stats;

use std::path::{Path, PathBuf};

pub use model::{Comparison, MetricComparison, RunInfo, TargetComparison, Unit};
pub use stats::{Better, Bootstrap, Verdict};

use crate::cli::{CompareArgs, CompareFormat};
use crate::report::{LoadError, RunData};
use crate::Exit;

/// Why two result sets cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The loader's message names the file and what is wrong; it already carries its cause's
    /// text, so it is not chained again as a source (which would print it twice).
    #[error("result set {side} ({}): {problem}", dir.display())]
    Load {
        side: &'static str,
        dir: PathBuf,
        problem: LoadError,
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
}

/// Loads both result sets and checks that they can be compared.
pub fn load(a_dir: &Path, b_dir: &Path) -> Result<(RunData, RunData), CompareError> {
    let load_side = |side, dir: &Path| {
        RunData::load(dir).map_err(|problem| CompareError::Load {
            side,
            dir: dir.to_path_buf(),
            problem,
        })
    };
    let (a, b) = (load_side("A", a_dir)?, load_side("B", b_dir)?);
    check_comparable(&a, &b)?;
    Ok((a, b))
}

fn check_comparable(a: &RunData, b: &RunData) -> Result<(), CompareError> {
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
pub fn compare(
    a: &RunData,
    b: &RunData,
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
            kind: tb.kind.clone(),
            metrics,
        })
        .collect();
    let only_in = |one: &RunData, other: &RunData| -> Vec<String> {
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
    a: &RunData,
    a_target: &str,
    b: &RunData,
    b_target: &str,
) -> anyhow::Result<(RunData, RunData)> {
    let label = format!("{a_target} → {b_target}");
    let pick = |run: &RunData, target: &str| {
        run.only_target(target, &label).ok_or_else(|| {
            let names: Vec<&str> = run.targets.iter().map(|t| t.name.as_str()).collect();
            anyhow::anyhow!(
                "{}: no measured target {target:?}; it has {}",
                run.dir.display(),
                names.join(", ")
            )
        })
    };
    Ok((pick(a, a_target)?, pick(b, b_target)?))
}

fn run_info(run: &RunData) -> RunInfo {
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
pub fn command(args: &CompareArgs) -> anyhow::Result<Exit> {
    let b_dir = args.b.as_deref().unwrap_or(&args.a);
    let (mut a, mut b) = load(&args.a, b_dir)?;
    if let Some(phase) = &args.phase {
        a = a.only_phase(phase).map_err(anyhow::Error::msg)?;
        b = b.only_phase(phase).map_err(anyhow::Error::msg)?;
    }
    if let Some([a_target, b_target]) = args.between.as_deref() {
        (a, b) = between(&a, a_target, &b, b_target)?;
    }
    let comparison = compare(&a, &b, &Bootstrap::default(), args.tolerance)?;
    let output = match args.format {
        CompareFormat::Text => render::text(&comparison),
        CompareFormat::Markdown => render::markdown(&comparison),
        CompareFormat::Json => render::json(&comparison),
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
    if args.fail_on_regression && !failures.is_empty() {
        eprintln!(
            "regressed beyond the {} tolerance:",
            render::percent(comparison.tolerance)
        );
        for failure in &failures {
            eprintln!("  {failure}");
        }
        return Ok(Exit::ThresholdFailed);
    }
    Ok(Exit::Success)
}

/// Draws A's and B's latency spectra overlaid into `path`, SVG or PNG by its extension.
fn write_chart(a: &RunData, b: &RunData, path: &Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let label = |side: &str, run: &RunData| {
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
    crate::record::io::write_atomic(path, bytes)
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
pub fn parse_chart_path(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    match chart_format(&path) {
        Some(_) => Ok(path),
        None => Err(format!("{text:?} must end in .svg or .png")),
    }
}

/// `--tolerance`: `5%` or `0.05`, from 0 to 100%.
pub fn parse_tolerance(text: &str) -> Result<f64, String> {
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
