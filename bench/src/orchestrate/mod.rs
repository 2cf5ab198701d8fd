//! `coldfront run`: checks every scenario and target before any load, then runs each scenario
//! (each target in turn, under the same schedule) into its result set, handling Ctrl-C.

mod environment;
mod leftovers;
pub mod postgres;
mod repeat;
mod sampler;
mod scenario_run;
pub(crate) mod serve;
pub(crate) mod targets;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use crate::cli::RunArgs;
use crate::load::workers::GeneratorCpus;
use crate::progress;
use crate::record::live::LiveBoard;
use crate::record::metrics_endpoint::{MetricsEndpoint, METRICS_PATH};
use crate::scenario::{self, Plan};
use crate::Exit;

use targets::LaunchOptions;

/// Everything about a run that is not in the scenario file.
#[derive(Debug, Clone)]
pub(crate) struct RunOptions {
    pub out: PathBuf,
    pub targets: Vec<String>,
    pub launch: LaunchOptions,
    pub duration_scale: f64,
    pub progress: progress::Mode,
    pub command: Vec<String>,
    /// Where the generator's workers run.
    pub generator: GeneratorCpus,
    /// The part of every schedule this process sends, and when (`--shard`, `--start-at`).
    pub sharding: crate::shard::Sharding,
    /// `--junit FILE`: the threshold verdicts as JUnit XML, rewritten after each scenario.
    pub junit: Option<PathBuf>,
    /// `--metrics-addr`: where each target's ticker publishes the live metrics.
    pub live: Option<std::sync::Arc<LiveBoard>>,
    /// `--repeat N`: each scenario run N times into one result set (1: once).
    pub repeat: u32,
}

pub(crate) fn run_command(args: &RunArgs) -> anyhow::Result<Exit> {
    let plans = match read_plans(args)? {
        Ok(plans) => plans,
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {error}");
            }
            return Ok(Exit::UsageOrInput);
        }
    };
    if plans.is_empty() {
        anyhow::bail!("no scenario files (*.toml) found in the given paths");
    }
    if !(args.duration_scale > 0.0 && args.duration_scale.is_finite()) {
        anyhow::bail!(
            "--duration-scale must be a positive number, got {}",
            args.duration_scale
        );
    }
    if let Some(path) = &args.junit {
        crate::junit::check_path(path)?;
    }
    let ca_pem = match &args.ca_cert {
        Some(path) => Some(
            std::fs::read(path).with_context(|| format!("reading --ca-cert {}", path.display()))?,
        ),
        None => None,
    };
    let mut options = RunOptions {
        out: args.out.clone(),
        targets: args.targets.clone(),
        launch: LaunchOptions {
            allow_remote: args.allow_remote,
            no_preflight: args.no_preflight,
            verification: if args.insecure {
                targets::Verification::Skip
            } else {
                targets::Verification::Verify
            },
            ca_pem,
            database_url: args.database_url.clone(),
            pin: args.pin,
        },
        duration_scale: args.duration_scale,
        progress: progress::Mode::detect(args.quiet),
        command: std::env::args().collect(),
        generator: GeneratorCpus {
            cpus: Vec::new(),
            pinned: false,
            busy_poll: false,
        },
        sharding: crate::shard::Sharding {
            segment: args.shard.unwrap_or(crate::load::Segment::WHOLE),
            start_at: args.start_at,
        },
        junit: args.junit.clone(),
        repeat: args.repeat,
        live: None,
    };
    let plans: Vec<Plan> = plans
        .into_iter()
        .map(|plan| scale_durations(plan, args.duration_scale))
        .collect();
    check_target_filter(&plans, &options.targets)?;
    if args.pin {
        if environment::generator_cpus() < 2 {
            anyhow::bail!("--pin needs 2 CPUs (generator on CPU 0, target on CPU 1)");
        }
        crate::load::workers::pin_current_thread(0)
            .context("--pin: pinning the generator to CPU 0")?;
    }
    options.generator = generator_cpus(args.generator_cpus.as_deref())?;
    options.generator.busy_poll = args.busy_poll;

    run_in_runtime(&plans, options, args.metrics_addr)
}

/// The scenarios to run: the files given, or the one-line run's flags as a scenario (written
/// to `--save-scenario` when asked); else every problem found, in words.
fn read_plans(args: &RunArgs) -> anyhow::Result<Result<Vec<Plan>, Vec<String>>> {
    if args.one_line.url.is_none() {
        let (plans, errors) = scenario::load_paths(&args.scenarios);
        if errors.is_empty() {
            return Ok(Ok(plans));
        }
        return Ok(Err(errors.iter().map(ToString::to_string).collect()));
    }
    let (plan, text) = match args.one_line.plan() {
        Ok(read) => read,
        Err(errors) => return Ok(Err(errors)),
    };
    if let Some(path) = &args.one_line.save_scenario {
        std::fs::write(path, &text)
            .with_context(|| format!("--save-scenario: writing {}", path.display()))?;
    }
    Ok(Ok(vec![plan]))
}

/// Runs `plans` on the generator's runtime, serving the live metrics at `metrics_addr`
/// (`--metrics-addr`, listened on before any load) until they end.
fn run_in_runtime(
    plans: &[Plan],
    mut options: RunOptions,
    metrics_addr: Option<std::net::SocketAddr>,
) -> anyhow::Result<Exit> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(environment::generator_cpus())
        .thread_name("coldfront-load")
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let metrics = runtime.block_on(start_metrics(metrics_addr, options.progress))?;
    options.live = metrics.as_ref().map(MetricsEndpoint::board);
    let exit = runtime.block_on(run_plans(plans, &options));
    if let Some(metrics) = metrics {
        runtime.block_on(metrics.stop());
    }
    runtime.shutdown_timeout(Duration::from_millis(200));
    exit
}

/// `--metrics-addr`: the live metrics endpoint, listening before any load (an address that
/// cannot be listened on fails the run here).
async fn start_metrics(
    addr: Option<std::net::SocketAddr>,
    progress: progress::Mode,
) -> anyhow::Result<Option<MetricsEndpoint>> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let endpoint = MetricsEndpoint::start(addr).await?;
    if progress != progress::Mode::Quiet {
        eprintln!("live metrics: http://{}{METRICS_PATH}", endpoint.addr());
    }
    Ok(Some(endpoint))
}

async fn run_plans(plans: &[Plan], options: &RunOptions) -> anyhow::Result<Exit> {
    // More connections than this process may open would fail as the target's connect errors.
    let files = environment::raise_file_limit();
    for plan in plans {
        let needed = plan.load.max_connections as u64 + environment::RESERVED_FILES;
        if needed > files {
            eprintln!(
                "error: {}: load.max_connections = {} needs about {needed} open files with \
                 coldfront's own, and this process may open {files} (`ulimit -Hn`); lower \
                 max_connections or raise the limit",
                plan.source.display(),
                plan.load.max_connections
            );
            return Ok(Exit::UsageOrInput);
        }
    }
    if let Some(problem) = sharding_problem(plans, options) {
        eprintln!("error: {problem}");
        return Ok(Exit::UsageOrInput);
    }
    // A scenario that cannot start (remote target, unresolvable host) fails before any load.
    for plan in plans {
        for target in selected_targets(plan, &options.targets) {
            if let Err(error) = targets::preflight(target, &options.launch).await {
                eprintln!("error: {}: {error}", plan.source.display());
                return Ok(Exit::UsageOrInput);
            }
        }
    }
    let cancel = CancellationToken::new();
    spawn_interrupt_handler(cancel.clone());
    let mut exit = Exit::Success;
    let mut suites = Vec::new();
    for plan in plans {
        let outcome = if options.repeat > 1 {
            repeat::run_repeated(plan, options, &cancel).await?
        } else {
            let dir = options.out.join(&plan.name);
            scenario_run::run_scenario(plan, options, &cancel, dir, None).await?
        };
        if let Some(path) = &options.junit {
            suites.push(outcome.junit);
            crate::junit::write(path, &suites)?;
        }
        if outcome.interrupted {
            eprintln!(
                "interrupted: result set marked `interrupted` in {}",
                outcome.dir.display()
            );
            return Ok(Exit::Interrupted);
        }
        if outcome.thresholds_failed {
            exit = Exit::ThresholdFailed;
        } else if outcome.thresholds_inconclusive && exit == Exit::Success {
            exit = Exit::Inconclusive;
        }
    }
    Ok(exit)
}

/// Why `run` would refuse one of `plan`'s external targets before any load (an address that
/// does not resolve, or one off this machine without `allow_remote`); nothing is connected to.
pub(crate) fn address_problem(plan: &Plan, allow_remote: bool) -> Option<String> {
    let options = LaunchOptions {
        allow_remote,
        no_preflight: true,
        ..LaunchOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        for target in &plan.targets {
            if matches!(target.setup, scenario::TargetSetup::External { .. }) {
                if let Err(error) = targets::preflight(target, &options).await {
                    return Some(error.to_string());
                }
            }
        }
        None
    })
}

/// The signals that stop a run: Ctrl-C (SIGINT), and what `kill`, `timeout`, CI cancellation
/// (SIGTERM) and a closed terminal (SIGHUP) send. The first stops the load and writes what was
/// measured, marked `interrupted`, and stops the targets and their databases; a second one
/// leaves at once.
fn spawn_interrupt_handler(cancel: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let kinds = [
        ("SIGINT", SignalKind::interrupt()),
        ("SIGTERM", SignalKind::terminate()),
        ("SIGHUP", SignalKind::hangup()),
    ];
    // Installed before the task runs, so a signal from the first instant is not the default
    // action (which would end the process without writing anything).
    let mut streams: Vec<_> = kinds
        .iter()
        .filter_map(|&(name, kind)| signal(kind).ok().map(|stream| (name, stream)))
        .collect();
    tokio::spawn(async move {
        let name = next_signal(&mut streams).await;
        eprintln!("\n{name}: stopping load (again to quit without saving)…");
        cancel.cancel();
        next_signal(&mut streams).await;
        std::process::exit(Exit::Interrupted as i32);
    });
}

/// The name of the next of `streams`' signals to arrive.
async fn next_signal(streams: &mut [(&'static str, tokio::signal::unix::Signal)]) -> &'static str {
    let waits = streams.iter_mut().map(|(name, stream)| {
        Box::pin(async move {
            stream.recv().await;
            *name
        })
    });
    futures_util::future::select_all(waits).await.0
}

pub(crate) fn selected_targets<'a>(
    plan: &'a Plan,
    filter: &'a [String],
) -> impl Iterator<Item = &'a scenario::TargetPlan> + 'a {
    plan.targets
        .iter()
        .filter(move |t| filter.is_empty() || filter.contains(&t.name))
}

/// Where the generator's workers run: `--generator-cpus LIST`, pinned, or every CPU this
/// process may use (after `--pin`, CPU 0 only), unpinned.
fn generator_cpus(list: Option<&str>) -> anyhow::Result<GeneratorCpus> {
    let allowed = environment::affinity_cpus();
    Ok(match list {
        Some(list) => GeneratorCpus {
            cpus: environment::parse_cpu_list(list, &allowed)
                .map_err(|problem| anyhow::anyhow!("--generator-cpus {list}: {problem}"))?,
            pinned: true,
            busy_poll: false,
        },
        None => GeneratorCpus {
            cpus: allowed,
            pinned: false,
            busy_poll: false,
        },
    })
}

/// Why `--shard` or `--start-at` cannot be kept for `plans`, before any load.
fn sharding_problem(plans: &[Plan], options: &RunOptions) -> Option<String> {
    let sharding = &options.sharding;
    if let Some(start_at) = sharding.start_at {
        if let Some(missed) = crate::shard::missed(start_at, std::time::SystemTime::now()) {
            return Some(missed);
        }
        if plans.len() > 1 {
            return Some(format!(
                "--start-at: give one scenario per run ({} given), so every shard computes the \
                 same start for each target",
                plans.len()
            ));
        }
    }
    plans.iter().find_map(|plan| {
        let selected: Vec<&str> = selected_targets(plan, &options.targets)
            .map(|t| t.name.as_str())
            .collect();
        let problem = sharding.problem(plan, &selected)?;
        Some(format!("{}: {problem}", plan.source.display()))
    })
}

fn check_target_filter(plans: &[Plan], filter: &[String]) -> anyhow::Result<()> {
    for name in filter {
        if !plans
            .iter()
            .any(|p| p.targets.iter().any(|t| &t.name == name))
        {
            anyhow::bail!("--target {name}: no scenario defines a target of that name");
        }
    }
    Ok(())
}

/// Multiplies every phase duration by `factor`, keeping each phase's shape (rates unchanged).
fn scale_durations(mut plan: Plan, factor: f64) -> Plan {
    if factor != 1.0 {
        for phase in &mut plan.load.phases {
            phase.duration = phase.duration.mul_f64(factor).max(Duration::from_millis(1));
        }
    }
    plan
}
