//! One scenario into one result set: manifest first (status `running`), then each target in
//! turn (launch → load with the per-second ticker → summary), then summary, series and the
//! final manifest, written even when the run is interrupted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::environment;
use super::sampler;
use super::targets::{self, RunningTarget};
use super::RunOptions;
use crate::load::workers::{self, WorkerPart};
use crate::load::{Client, LoadContext, PreparedRequest, RequestMix, Segment};
use crate::model::{LoadModel, RunStatus};
use crate::progress::{self, TargetProgress};
use crate::record::gauges::TargetGauges;
use crate::record::generator::CpuUse;
use crate::record::live::LiveTarget;
use crate::record::summary::{self, RunFacts};
use crate::record::ticker::{self, TickerInputs, TickerOutputs};
use crate::record::totals_log;
use crate::record::{ConnectionStats, Recorder, Recorders};
use crate::resultset::hgrm;
use crate::resultset::io::StreamedFile;
use crate::resultset::series;
use crate::resultset::{
    self, HostInfo, Manifest, PhaseRecord, RepetitionRecord, RequestRecord, ScenarioRecord,
    Summary, TargetRecord, TargetSummary, ThresholdVerdict, SCHEMA_VERSION,
};
use crate::scenario::{Phase, PhaseLoad, Plan, Rate};
use crate::shard;
use crate::thresholds;

/// Time between setting up a target's load and its first intended send.
const START_LEAD: Duration = Duration::from_millis(20);

pub(crate) struct ScenarioOutcome {
    pub dir: PathBuf,
    pub interrupted: bool,
    pub thresholds_failed: bool,
    /// Some verdict was inconclusive (a generator-limited target).
    pub thresholds_inconclusive: bool,
    /// The verdicts as a JUnit test suite (`--junit`).
    pub junit: crate::junit::Suite,
}

/// Runs `plan` into the result set `dir` (`<out>/<scenario>`, or a repetition's `rep-<k>`).
pub(crate) async fn run_scenario(
    plan: &Plan,
    options: &RunOptions,
    cancel: &CancellationToken,
    dir: PathBuf,
    repetition: Option<RepetitionRecord>,
) -> anyhow::Result<ScenarioOutcome> {
    let started = Instant::now();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut manifest = Manifest {
        repetition,
        ..new_manifest(plan, options)
    };
    resultset::write_json(&dir.join(resultset::MANIFEST_FILE), &manifest)?;

    let mut targets = match run_targets(plan, options, cancel, &dir, &mut manifest).await {
        Ok(targets) => targets,
        Err(error) => {
            // Keep what the run knew: the manifest says it failed and why.
            manifest.status = RunStatus::Failed;
            manifest.error = Some(format!("{error:#}"));
            manifest.ended_at = Some(environment::rfc3339(SystemTime::now()));
            let _ = resultset::write_json(&dir.join(resultset::MANIFEST_FILE), &manifest);
            write_report(&dir).await;
            return Err(error);
        }
    };

    let interrupted = cancel.is_cancelled();
    let status = if interrupted {
        RunStatus::Interrupted
    } else {
        RunStatus::Complete
    };
    // A shard's numbers are a part of the run's: its thresholds are judged on the merged set.
    if !options.sharding.is_sharded() {
        for (name, target_summary) in &mut targets {
            target_summary.thresholds =
                thresholds::evaluate(&plan.thresholds, name, target_summary);
        }
    } else if !plan.thresholds.is_empty() && options.progress != progress::Mode::Quiet {
        println!("thresholds: judged by `coldfront merge` on the merged shards, not per shard");
    }
    let verdicts = || targets.values().flat_map(|t| &t.thresholds);
    let thresholds_failed = verdicts().any(ThresholdVerdict::failed);
    let thresholds_inconclusive = verdicts().any(|v| v.inconclusive);
    let summary = Summary {
        schema_version: SCHEMA_VERSION,
        scenario: plan.name.clone(),
        status,
        targets,
    };
    // What a result set promises (its summary, its manifest's end, its report): a file that
    // cannot be written (a full disk) marks the run failed, naming the file, and the run
    // exits non-zero.
    let finished = finish(&dir, &summary, &mut manifest, status).await;
    if let Err(error) = finished {
        manifest.status = RunStatus::Failed;
        manifest.error = Some(format!("{error:#}"));
        let _ = resultset::write_json(&dir.join(resultset::MANIFEST_FILE), &manifest);
        return Err(error);
    }
    announce(&plan.name, options.progress, &dir, &summary, &manifest);
    let junit = crate::junit::threshold_suite(&summary, Some(started.elapsed().as_secs_f64()));
    Ok(ScenarioOutcome {
        dir,
        interrupted,
        thresholds_failed,
        thresholds_inconclusive,
        junit,
    })
}

/// The summary table of a finished scenario; quiet, only the generator's warnings.
fn announce(name: &str, mode: progress::Mode, dir: &Path, summary: &Summary, manifest: &Manifest) {
    if mode != progress::Mode::Quiet {
        println!("\n{name} → {}", dir.display());
        let order = manifest.scenario.targets.iter().map(|t| t.name.as_str());
        print!("{}", progress::summary_table(summary, order));
        return;
    }
    // Quiet runs print no table, but a number that is the generator's must still be said.
    for (name, target) in &summary.targets {
        let warning = target.generator.as_ref();
        if let Some(warning) = warning.and_then(|g| progress::generator_warning(name, g)) {
            eprintln!("{warning}");
        }
    }
}

/// The summary, the manifest's end and the report, each named in its error.
async fn finish(
    dir: &Path,
    summary: &Summary,
    manifest: &mut Manifest,
    status: RunStatus,
) -> anyhow::Result<()> {
    let summary_path = dir.join(resultset::SUMMARY_FILE);
    resultset::write_json(&summary_path, summary)
        .with_context(|| format!("writing {}", summary_path.display()))?;
    manifest.status = status;
    manifest.ended_at = Some(environment::rfc3339(SystemTime::now()));
    let manifest_path = dir.join(resultset::MANIFEST_FILE);
    resultset::write_json(&manifest_path, manifest)
        .with_context(|| format!("writing {}", manifest_path.display()))?;
    let owned = dir.to_path_buf();
    tokio::task::spawn_blocking(move || crate::report::write_in_place(&owned))
        .await
        .context("drawing the report")?
        .with_context(|| format!("writing the report of {}", dir.display()))?;
    Ok(())
}

/// Charts and `report.html` into the result set of a run that already failed: a report that
/// cannot be drawn then is a warning (the run's own error is what matters).
async fn write_report(dir: &Path) {
    let owned = dir.to_path_buf();
    let result = tokio::task::spawn_blocking(move || crate::report::write_in_place(&owned)).await;
    match result {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => eprintln!("warning: no report for {}: {error:#}", dir.display()),
        Err(error) => eprintln!("warning: no report for {}: {error}", dir.display()),
    }
}

/// Each selected target in turn, its rows streamed into one `timeseries.csv`.
async fn run_targets(
    plan: &Plan,
    options: &RunOptions,
    cancel: &CancellationToken,
    dir: &Path,
    manifest: &mut Manifest,
) -> anyhow::Result<BTreeMap<String, TargetSummary>> {
    let mut series = StreamedFile::create(&dir.join(resultset::TIMESERIES_FILE))?;
    {
        use std::io::Write;
        writeln!(series.writer(), "{}", series::HEADER)?;
    }
    let mut targets = BTreeMap::new();
    if let Some(board) = &options.live {
        board.begin_scenario();
    }
    for (position, target) in super::selected_targets(plan, &options.targets).enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        let log = dir.join(format!("{}.log", target.name));
        let running = targets::start(target, &options.launch, &plan.database, &log).await?;
        record_target_url(manifest, dir, &target.name, &running);
        if let Some(common) = options.sharding.target_start(plan, position) {
            let late = wait_for_common_start(common, cancel).await;
            let late_ms = late.context("--start-at")?.as_secs_f64() * 1000.0;
            if let Some(shard) = manifest.shard.as_mut() {
                shard.start_late_ms.insert(target.name.clone(), late_ms);
            }
        }
        let result = run_target(plan, &target.name, &running, series, dir, options, cancel).await;
        running.stop().await;
        let (summary, returned) = result?;
        series = returned;
        targets.insert(target.name.clone(), summary);
    }
    series.finish()?;
    Ok(targets)
}

/// Sleeps until `START_LEAD` before `common`, the moment this process would have started its
/// load on its own, and returns how late it woke; an error when `common` passed more than
/// [`shard::MISSED_BY_AT_MOST`] ago (an earlier target overran), or on an interruption.
async fn wait_for_common_start(
    common: SystemTime,
    cancel: &CancellationToken,
) -> anyhow::Result<Duration> {
    if let Some(missed) = shard::missed(common, SystemTime::now()) {
        anyhow::bail!("{missed}");
    }
    let wake = common - START_LEAD;
    if let Ok(ahead) = wake.duration_since(SystemTime::now()) {
        tokio::select! {
            () = tokio::time::sleep(ahead) => {}
            () = cancel.cancelled() => anyhow::bail!("interrupted while waiting for the start"),
        }
    }
    Ok(SystemTime::now()
        .duration_since(wake)
        .unwrap_or(Duration::ZERO))
}

/// What every request of one target's run shares: the prepared requests, the mix, the
/// timeout; and per generator worker, its segment, a client for the target (its share of
/// `max_connections`, counted with the others') and its recorder (with held-request accounting
/// when the scenario has any); `busy_poll` is `--busy-poll`.
fn worker_parts(
    plan: &Plan,
    running: &RunningTarget,
    (shard, workers, busy_poll): (Segment, usize, bool),
    cancel: &CancellationToken,
) -> anyhow::Result<(Vec<WorkerPart>, Recorders, Arc<ConnectionStats>)> {
    let requests = plan
        .requests
        .iter()
        .map(|t| PreparedRequest::new(t, &running.endpoint))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let has_held = plan.requests.iter().any(|r| r.wire.held().is_some());
    let first = if has_held {
        Recorder::with_held_requests()
    } else {
        Recorder::new()
    };
    let recorders = Recorders::new(first, workers);
    let stats = Arc::new(ConnectionStats::default());
    let parts = shard
        .split(workers as u64)
        .enumerate()
        .map(|(index, segment)| WorkerPart {
            segment,
            ctx: Arc::new(LoadContext {
                client: Client::counting_into(
                    running.endpoint.clone(),
                    plan.load.connections,
                    segment.share(plan.load.max_connections as u64) as usize,
                    stats.clone(),
                ),
                requests: requests.clone(),
                mix: RequestMix::new(plan.requests.iter().map(|r| r.weight), plan.seed),
                recorder: recorders.part(index).clone(),
                timeout: plan.load.timeout,
                cancel: cancel.clone(),
                busy_poll,
            }),
        })
        .collect();
    Ok((parts, recorders, stats))
}

async fn run_target(
    plan: &Plan,
    name: &str,
    running: &RunningTarget,
    series: StreamedFile,
    dir: &Path,
    options: &RunOptions,
    cancel: &CancellationToken,
) -> anyhow::Result<(TargetSummary, StreamedFile)> {
    let shard = options.sharding.segment;
    let workers = options.generator.workers_for(&plan.load, shard);
    let split = (shard, workers, options.generator.busy_poll);
    let (parts, recorders, connections) = worker_parts(plan, running, split, cancel)?;
    let clients: Vec<Arc<LoadContext>> = parts.iter().map(|p| p.ctx.clone()).collect();
    let start = Instant::now() + START_LEAD;
    let start_wall = SystemTime::now() + START_LEAD;
    let hlog = StreamedFile::create(&dir.join(resultset::hlog_file(name)))?;
    let gauges = Arc::new(TargetGauges::default());
    let stop_sampler = CancellationToken::new();
    let sampler = tokio::spawn(sampler::run(
        running.sampler_sources(),
        gauges.clone(),
        stop_sampler.clone(),
    ));
    let (stop_ticker, stop) = tokio::sync::oneshot::channel();
    let mut view = TargetProgress::new(options.progress, name, &phase_records(&plan.load.phases));
    let ticker = tokio::spawn(ticker::run(
        ticker_inputs(
            name,
            (&recorders, &connections, &gauges),
            (start, start_wall),
            options,
        ),
        TickerOutputs {
            series,
            hlog,
            cpu: Default::default(),
        },
        move |tick| view.on_tick(tick),
        stop,
    ));
    let report = workers::drive(&plan.load, plan.seed, parts, &options.generator, start).await;
    let elapsed = start.elapsed();
    for ctx in &clients {
        ctx.client.close_idle();
    }
    stop_sampler.cancel();
    let target_metrics = sampler.await.unwrap_or_default();
    let _ = stop_ticker.send(());
    let outputs = ticker.await.context("per-second ticker")??;
    outputs.hlog.finish()?;
    if report.abandoned > 0 {
        eprintln!(
            "{name}: {} requests were still in flight when the run stopped",
            report.abandoned
        );
    }
    let connections = connections.snapshot();
    let facts = RunFacts {
        duration: elapsed,
        connections,
        db_connections_max: gauges.db_connections.overall(),
        db_max_connections: gauges.db_max_connections.get().copied(),
        cpu: CpuUse {
            may_hide_delay: plan.load.model == LoadModel::Closed
                || connections.max_open >= plan.load.max_connections as u64,
            ..outputs.cpu
        },
    };
    let totals = recorders.totals();
    let whole_run = &totals.distributions;
    hgrm::write(dir, name, &whole_run.latency, &whole_run.service_time)?;
    totals_log::write(&totals_log::path(dir, name), &totals, start_wall, elapsed)?;
    let mut target_summary = summary::target_summary(&totals, &facts);
    target_summary.target_metrics = target_metrics;
    Ok((target_summary, outputs.series))
}

/// What target `name`'s per-second ticker reads, and the live metrics it publishes to (with
/// `--metrics-addr`).
fn ticker_inputs(
    name: &str,
    (recorders, connections, gauges): (&Recorders, &Arc<ConnectionStats>, &Arc<TargetGauges>),
    (start, start_wall): (Instant, SystemTime),
    options: &RunOptions,
) -> TickerInputs {
    TickerInputs {
        target: name.to_string(),
        recorders: recorders.clone(),
        connections: connections.clone(),
        gauges: gauges.clone(),
        start,
        start_wall,
        generator_cpus: options.generator.cpus.len(),
        live: options
            .live
            .as_ref()
            .map(|board| LiveTarget::start(board.clone(), name, recorders, connections, gauges)),
    }
}

fn record_target_url(manifest: &mut Manifest, dir: &Path, name: &str, running: &RunningTarget) {
    if let Some(record) = manifest
        .scenario
        .targets
        .iter_mut()
        .find(|t| t.name == name)
    {
        record.url = Some(running.url());
        record.database_url = running.database_url.clone();
        record.tls_verified = running.tls_verified;
    }
    // Written now, so a result set of a run that dies still says where its target was.
    let _ = resultset::write_json(&dir.join(resultset::MANIFEST_FILE), manifest);
}

pub(super) fn new_manifest(plan: &Plan, options: &RunOptions) -> Manifest {
    let scenario = scenario_record(plan, options.duration_scale);
    let selected: Vec<&str> = super::selected_targets(plan, &options.targets)
        .map(|t| t.name.as_str())
        .collect();
    Manifest {
        schema_version: SCHEMA_VERSION,
        status: RunStatus::Running,
        coldfront_version: env!("CARGO_PKG_VERSION").to_string(),
        git_revision: environment::git_revision(),
        host: HostInfo {
            generator_cpus: options.generator.cpus.len(),
            ..environment::host_info()
        },
        started_at: environment::rfc3339(SystemTime::now()),
        ended_at: None,
        error: None,
        command: options.command.clone(),
        shard: options.sharding.record(shard::fingerprint(
            &scenario.source_text,
            options.duration_scale,
            &selected,
            options.sharding.segment.count,
        )),
        scenario,
        merged: None,
        repetition: None,
        repetitions: None,
    }
}

fn scenario_record(plan: &Plan, duration_scale: f64) -> ScenarioRecord {
    ScenarioRecord {
        name: plan.name.clone(),
        description: plan.description.clone(),
        source: plan.source.clone(),
        source_text: plan.source_text.clone(),
        seed: plan.seed,
        model: plan.load.model,
        arrivals: (plan.load.model == LoadModel::Open).then_some(plan.load.arrivals),
        connections: plan.load.connections,
        max_connections: plan.load.max_connections,
        timeout_ms: plan.load.timeout.as_secs_f64() * 1000.0,
        duration_scale,
        phases: phase_records(&plan.load.phases),
        targets: plan
            .targets
            .iter()
            .map(|t| TargetRecord {
                name: t.name.clone(),
                kind: t.setup.kind(),
                url: None,
                database_url: None,
                tls_verified: None,
            })
            .collect(),
        requests: plan
            .requests
            .iter()
            .map(|r| {
                let held = r.wire.held();
                let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
                RequestRecord {
                    name: r.name.clone(),
                    weight: r.weight,
                    method: r.method.to_string(),
                    path: r.path_and_query.clone(),
                    kind: Some(r.wire.kind()),
                    hold_ms: held.map(|h| ms(h.hold)),
                    send_every_ms: held.and_then(|h| h.send_every).map(ms),
                }
            })
            .collect(),
    }
}

fn phase_records(phases: &[Phase]) -> Vec<PhaseRecord> {
    let mut start_s = 0.0;
    phases
        .iter()
        .enumerate()
        .map(|(index, phase)| {
            let duration_s = phase.duration.as_secs_f64();
            let (rate_from, rate_to, concurrency, think_time_ms) = match phase.load {
                PhaseLoad::Rate(Rate::Constant(r)) => (Some(r), Some(r), None, None),
                PhaseLoad::Rate(Rate::Ramp { from, to }) => (Some(from), Some(to), None, None),
                PhaseLoad::Concurrency {
                    workers,
                    think_time,
                } => (
                    None,
                    None,
                    Some(workers),
                    Some(think_time.as_secs_f64() * 1000.0),
                ),
            };
            let record = PhaseRecord {
                name: phase
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("phase {}", index + 1)),
                start_s,
                duration_s,
                rate_from,
                rate_to,
                concurrency,
                think_time_ms,
            };
            start_s += duration_s;
            record
        })
        .collect()
}
