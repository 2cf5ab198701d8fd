//! coldfront: measures serverless functions against a persistent server.
//!
//! Pipeline: scenario file → [`scenario`] (validated [`scenario::Plan`]) → [`orchestrate`]
//! (targets) → [`load`] (schedule, connections, one [`model::Sample`] per request) →
//! [`record`] (histograms, per-second intervals) → [`resultset`] (the files on disk) ←
//! [`report`], [`compare`], [`merge`] (shards of a sharded run into one set), `junit`
//! (verdicts as JUnit XML for CI); [`k8s`] writes a sharded run's Kubernetes manifests. Every
//! layer speaks the words of [`model`], which depends on nothing; dependencies run one way,
//! down this list. The public surface is what the binary, the tests, the benches and the
//! examples use; everything else is `pub(crate)`.

pub mod cli;
pub mod compare;
pub(crate) mod junit;
pub mod k8s;
pub mod load;
pub mod merge;
pub mod model;
pub mod orchestrate;
pub(crate) mod progress;
pub mod record;
pub mod report;
pub mod resultset;
pub mod rng;
pub mod scenario;
pub(crate) mod shard;
// Helpers for the tests (the scenario-text builder, `assert_exit`, synthetic result sets).
// Always compiled, so the integration tests link the very library and binary the main build
// made (a feature of its own would make `cargo test --release` compile both again).
#[doc(hidden)]
pub mod testing;
pub(crate) mod thresholds;

use std::process::ExitCode;

/// Documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything ran and every threshold held.
    Success = 0,
    /// A threshold failed (or, for compare, a regression beyond tolerance).
    ThresholdFailed = 1,
    /// Bad usage or bad input (a scenario with an error, an unreadable result set).
    UsageOrInput = 2,
    /// No threshold failed, but some could not be judged: their target's numbers include the
    /// generator's own delay (`generator.limited`), so they neither pass nor fail.
    Inconclusive = 3,
    /// Stopped by Ctrl-C; the result set is marked `interrupted`.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// Runs one parsed command line.
pub fn run(cli: cli::Cli) -> anyhow::Result<Exit> {
    match cli.command {
        cli::Command::Validate(args) => Ok(validate(&args)),
        cli::Command::Report(args) => report_command(&args),
        cli::Command::Compare(args) => compare::command(&args.request()),
        cli::Command::Merge(args) => merge::command(&args.request()),
        cli::Command::K8s(args) => k8s::command(&args.request()),
        cli::Command::Run(args) => orchestrate::run_command(&args),
        cli::Command::Serve(command) => orchestrate::serve::serve_command(&command),
        cli::Command::Instance => {
            coldfront_targets::serverless::instance_main().map(|()| Exit::Success)
        }
    }
}

/// Checks scenarios as `run` would before any load, short of starting or connecting to
/// anything: the file, and that external targets' addresses resolve to this machine (unless
/// `--allow-remote`).
fn validate(args: &cli::ValidateArgs) -> Exit {
    let (plans, errors) = scenario::load_paths(&args.scenarios);
    let mut failed = !errors.is_empty();
    for plan in &plans {
        match orchestrate::address_problem(plan, args.allow_remote) {
            None => println!("ok: {} ({})", plan.source.display(), plan.name),
            Some(problem) => {
                eprintln!("error: {}: {problem}", plan.source.display());
                failed = true;
            }
        }
    }
    for error in &errors {
        eprintln!("error: {error}");
    }
    if failed {
        Exit::UsageOrInput
    } else {
        Exit::Success
    }
}

fn report_command(args: &cli::ReportArgs) -> anyhow::Result<Exit> {
    let sets = report::result_set_dirs(&args.result_sets);
    match &args.out {
        Some(out) => {
            let index = report::site::write_site(&sets, out)?;
            println!("site: {}", index.display());
        }
        None => {
            for dir in &sets {
                for page in report::rewrite(dir)? {
                    println!("report: {}", page.display());
                }
            }
        }
    }
    Ok(Exit::Success)
}
