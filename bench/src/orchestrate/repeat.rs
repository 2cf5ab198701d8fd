//! `run --repeat N`: a scenario run N times into one result set. Each repetition runs every
//! target in turn into its own result set `rep-<k>/` (so the targets interleave, A B A B …, and
//! a drift of the machine spreads over both sides), then the set's own `summary.json` pools the
//! repetitions: counts added, statistics of the added whole-run histograms
//! (`<target>.totals.hlog`, so no percentile is averaged), throughput over the repetitions'
//! load time together, and each repetition's own figures. Thresholds are judged on the pooled
//! figures. The set's manifest lists the repetitions and is kept current after each one, so an
//! interrupted run leaves a readable, marked set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::scenario_run::{self, ScenarioOutcome};
use super::RunOptions;
use crate::model::RunStatus;
use crate::progress;
use crate::record::connections::ConnectionCounts;
use crate::record::generator::CpuUse;
use crate::record::summary::{self, RunFacts};
use crate::record::totals_log;
use crate::resultset::{
    self, Manifest, RepetitionFigures, RepetitionRecord, RepetitionsRecord, Summary, TargetSummary,
    ThresholdVerdict, SCHEMA_VERSION,
};
use crate::scenario::Plan;
use crate::thresholds;

/// Runs `plan` `options.repeat` times into `<out>/<scenario>/rep-<k>/` and pools them.
pub(super) async fn run_repeated(
    plan: &Plan,
    options: &RunOptions,
    cancel: &CancellationToken,
) -> anyhow::Result<ScenarioOutcome> {
    let started = Instant::now();
    let count = options.repeat;
    let dir = options.out.join(&plan.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut manifest = scenario_run::new_manifest(plan, options);
    manifest.repetitions = Some(RepetitionsRecord {
        count,
        completed: 0,
        dirs: Vec::new(),
    });
    let manifest_path = dir.join(resultset::MANIFEST_FILE);
    resultset::write_json(&manifest_path, &manifest)?;
    let mut interrupted = false;
    for k in 1..=count {
        if cancel.is_cancelled() {
            interrupted = true;
            break;
        }
        if options.progress != progress::Mode::Quiet {
            println!("\n{}: repetition {k} of {count}", plan.name);
        }
        let name = resultset::repetition_dir(k);
        let repetition = Some(RepetitionRecord { index: k, count });
        let outcome =
            scenario_run::run_scenario(plan, options, cancel, dir.join(&name), repetition).await;
        let record = manifest.repetitions.as_mut().expect("set above");
        record.dirs.push(name);
        match outcome {
            Ok(outcome) if outcome.interrupted => interrupted = true,
            Ok(_) => record.completed += 1,
            Err(error) => {
                manifest.status = RunStatus::Failed;
                manifest.error = Some(format!("repetition {k}: {error:#}"));
                manifest.ended_at = Some(resultset::rfc3339(SystemTime::now()));
                let _ = resultset::write_json(&manifest_path, &manifest);
                return Err(error);
            }
        }
        resultset::write_json(&manifest_path, &manifest)?;
        if interrupted {
            break;
        }
    }
    let status = if interrupted {
        RunStatus::Interrupted
    } else {
        RunStatus::Complete
    };
    let summary = pooled_summary(&dir, &manifest, status, plan)?;
    resultset::write_json(&dir.join(resultset::SUMMARY_FILE), &summary)?;
    manifest.status = status;
    manifest.ended_at = Some(resultset::rfc3339(SystemTime::now()));
    resultset::write_json(&manifest_path, &manifest)?;
    let owned = dir.clone();
    tokio::task::spawn_blocking(move || crate::report::write_in_place(&owned))
        .await
        .context("drawing the report")?
        .with_context(|| format!("writing the report of {}", dir.display()))?;
    if options.progress != progress::Mode::Quiet {
        announce(&plan.name, &dir, &manifest, &summary);
    }
    let verdicts = || summary.targets.values().flat_map(|t| &t.thresholds);
    Ok(ScenarioOutcome {
        thresholds_failed: verdicts().any(ThresholdVerdict::failed),
        thresholds_inconclusive: verdicts().any(|v| v.inconclusive),
        junit: crate::junit::threshold_suite(&summary, Some(started.elapsed().as_secs_f64())),
        dir,
        interrupted,
    })
}

/// The pooled summary table.
fn announce(name: &str, dir: &Path, manifest: &Manifest, summary: &Summary) {
    let pooled = completed(manifest);
    println!(
        "\n{name} pooled over {pooled} repetitions → {}",
        dir.display()
    );
    let order = manifest.scenario.targets.iter().map(|t| t.name.as_str());
    print!("{}", progress::summary_table(summary, order));
}

fn completed(manifest: &Manifest) -> u32 {
    manifest.repetitions.as_ref().map_or(0, |r| r.completed)
}

/// The completed repetitions of the set in `dir`, pooled per target, with thresholds judged.
fn pooled_summary(
    dir: &Path,
    manifest: &Manifest,
    status: RunStatus,
    plan: &Plan,
) -> anyhow::Result<Summary> {
    let record = manifest.repetitions.as_ref().expect("a repeated set");
    let mut repetitions: Vec<(u32, PathBuf, Summary)> = Vec::new();
    for (k, name) in (1..).zip(&record.dirs) {
        let rep_dir = dir.join(name);
        let path = rep_dir.join(resultset::SUMMARY_FILE);
        let Ok(summary) = resultset::read_json::<Summary>(&path, "summary") else {
            continue; // an interrupted repetition that wrote no summary
        };
        if summary.status == RunStatus::Complete {
            repetitions.push((k, rep_dir, summary));
        }
    }
    let mut targets = BTreeMap::new();
    let names: Vec<String> = manifest
        .scenario
        .targets
        .iter()
        .map(|t| t.name.clone())
        .collect();
    for name in names {
        let runs: Vec<(u32, &Path, &TargetSummary)> = repetitions
            .iter()
            .filter_map(|(k, d, s)| s.targets.get(&name).map(|t| (*k, d.as_path(), t)))
            .collect();
        if runs.is_empty() {
            continue;
        }
        let mut pooled = pool_target(&name, &runs)?;
        pooled.thresholds = thresholds::evaluate(&plan.thresholds, &name, &pooled);
        targets.insert(name, pooled);
    }
    Ok(Summary {
        schema_version: SCHEMA_VERSION,
        scenario: manifest.scenario.name.clone(),
        status,
        targets,
    })
}

/// One target's repetitions `(k, set directory, summary)` pooled: their whole-run histograms
/// and counters added, their load time added (throughput is over all of it), the largest
/// connection and database counts any reached.
pub(crate) fn pool_target(
    name: &str,
    runs: &[(u32, &Path, &TargetSummary)],
) -> anyhow::Result<TargetSummary> {
    let mut totals = totals_log::empty(runs.iter().any(|(_, _, s)| s.held.is_some()));
    for &(k, dir, s) in runs {
        let path = totals_log::path(dir, name);
        totals_log::add_into(&path, &mut totals)
            .with_context(|| format!("repetition {k}: the whole-run histograms of `{name}`"))?;
        summary::add_counters(&mut totals, s);
    }
    let mut pooled = summary::target_summary(&totals, &facts(runs));
    let limited: Vec<String> = runs
        .iter()
        .filter(|(_, _, s)| s.generator.as_ref().is_some_and(|g| g.limited))
        .map(|(k, _, _)| k.to_string())
        .collect();
    let said = (!limited.is_empty()).then(|| {
        format!(
            "limited in repetition {} (each one's set says why)",
            limited.join(", ")
        )
    });
    summary::carry_generator_limits(&mut pooled, said);
    pooled.repetitions = runs
        .iter()
        .map(|&(k, _, s)| RepetitionFigures {
            repetition: k,
            requests: s.requests,
            throughput_rps: s.throughput_rps,
            error_rate: s.error_rate,
            timeout_rate: s.timeout_rate,
            latency_ms: s.latency_ms,
        })
        .collect();
    Ok(pooled)
}

/// The repetitions ran one after another: their load time added, counts added, and of the
/// counts at one moment (connections open, database connections) the largest.
fn facts(runs: &[(u32, &Path, &TargetSummary)]) -> RunFacts {
    let summaries: Vec<&TargetSummary> = runs.iter().map(|&(_, _, s)| s).collect();
    let mut connections = ConnectionCounts::default();
    for s in &summaries {
        summary::add_connections(&mut connections, &s.connections);
    }
    connections.max_open = summaries
        .iter()
        .map(|s| s.connections.max_open)
        .max()
        .unwrap_or(0);
    let duration_s: f64 = summaries.iter().map(|s| s.duration_s).sum();
    let generators: Vec<_> = summaries
        .iter()
        .filter_map(|s| s.generator.as_ref())
        .collect();
    let busy_time: f64 = summaries
        .iter()
        .filter_map(|s| s.generator.as_ref().map(|g| g.cpu_busy * s.duration_s))
        .sum();
    RunFacts {
        duration: Duration::from_secs_f64(duration_s),
        connections,
        db_connections_max: summary::db_connections_max(&summaries),
        db_max_connections: summary::db_max_connections(&summaries),
        cpu: CpuUse {
            // Each repetition judged whether its busy CPUs could hide its delay; a limited one
            // marks the pool (see `pool_target`).
            may_hide_delay: false,
            cpus: generators.first().map_or(0, |g| g.cpus as usize),
            busy: if duration_s > 0.0 {
                busy_time / duration_s
            } else {
                0.0
            },
            busiest_second: generators
                .iter()
                .map(|g| g.cpu_busy_max)
                .fold(0.0, f64::max),
        },
    }
}
