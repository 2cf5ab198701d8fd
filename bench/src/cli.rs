//! The command line: clap derive structs for every subcommand, and how each maps onto the
//! request its module takes (so no module below imports this one).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use coldfront_targets::settings::{AppSettings, PersistentSettings, ServerlessSettings};

use crate::compare;

#[derive(Debug, Parser)]
#[command(
    name = "coldfront",
    version,
    about = "Serverless functions or a persistent server? Measured."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios (or a one-line run, `--url`) against their targets and save a result set
    /// per scenario.
    Run(Box<RunArgs>),
    /// Check scenario files without running them.
    Validate(ValidateArgs),
    /// Draw charts and report.html for result sets, or a static site of several (--out).
    Report(ReportArgs),
    /// Compare two sides of one scenario (a result set, a repeated set, or several sets each):
    /// per metric, the change and whether it is significant beyond run-to-run noise.
    Compare(CompareArgs),
    /// Merge the result sets of a sharded run (`run --shard I/N`) into one, exactly.
    Merge(MergeArgs),
    /// Write the Kubernetes manifests of a sharded run: an Indexed Job of shards, a merge Job.
    K8s(K8sArgs),
    /// Serve a built-in target (for wrk, k6, a browser), provisioning PostgreSQL if needed.
    #[command(subcommand)]
    Serve(ServeCommand),
    /// One serverless instance process (started by the serverless gateway, not by hand).
    #[command(name = "__instance", hide = true)]
    Instance,
}

#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// The serverless platform emulator: a gateway and one process per instance.
    Serverless(ServeServerlessArgs),
    /// The persistent server: one process, a connection pool, shared state.
    Persistent(ServePersistentArgs),
}

#[derive(Debug, Args)]
pub struct ServeCommon {
    /// Port on 127.0.0.1 (0 = any free port; the chosen one is printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Use this PostgreSQL instead of starting a throwaway cluster (also DATABASE_URL).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// max_connections of the throwaway cluster.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub max_connections: u32,
}

/// `serve serverless`: the settings' own flags (`--preset`, `--keep-warm`, …); without
/// them, the `COLDFRONT_TARGET_SETTINGS` JSON the harness passes.
#[derive(Debug, Args)]
pub struct ServeServerlessArgs {
    #[command(flatten)]
    pub common: ServeCommon,
    #[command(flatten)]
    pub settings: ServerlessSettings,
    #[command(flatten)]
    pub app: AppSettings,
}

/// `serve persistent`: `--pool`, or the `COLDFRONT_TARGET_SETTINGS` JSON.
#[derive(Debug, Args)]
pub struct ServePersistentArgs {
    #[command(flatten)]
    pub common: ServeCommon,
    #[command(flatten)]
    pub settings: PersistentSettings,
    #[command(flatten)]
    pub app: AppSettings,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files, or directories whose *.toml files are run in name order.
    #[arg(required_unless_present = "url")]
    pub scenarios: Vec<PathBuf>,
    /// A one-line run instead of files: `--url URL --rate R --duration D`.
    #[command(flatten)]
    pub one_line: crate::scenario::one_line::OneLine,
    /// Directory that receives one result set per scenario.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Run only this target (repeatable).
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
    /// Allow external targets that are not on loopback.
    #[arg(long)]
    pub allow_remote: bool,
    /// Do not connect to external targets before load (for targets that come up later).
    #[arg(long)]
    pub no_preflight: bool,
    /// Multiply every phase duration by this factor (keeps each phase's shape).
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub duration_scale: f64,
    /// Run each scenario N times, its targets interleaved (A B A B …), into one result set
    /// holding each repetition (`rep-1/` …) and a summary pooling them; `compare` then builds
    /// its intervals between runs, so they include run-to-run noise.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100), conflicts_with = "shard")]
    pub repeat: u32,
    /// PostgreSQL for built-in targets instead of a throwaway cluster; for external targets,
    /// the database whose connections are sampled (also DATABASE_URL).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Generator on CPU 0, built-in targets on CPU 1.
    #[arg(long)]
    pub pin: bool,
    /// The CPUs the generator runs on, one worker pinned to each (`0`, `0,2`, `1-3`); by
    /// default one worker per CPU the process may use, unpinned.
    #[arg(long, value_name = "LIST", conflicts_with = "pin")]
    pub generator_cpus: Option<String>,
    /// The open model's workers never sleep: each turns its loop until its next request is
    /// due, keeping its CPU busy, so no wake-up from idle (up to milliseconds on a virtual
    /// machine) delays a send. For CPUs given over to the generator.
    #[arg(long)]
    pub busy_poll: bool,
    /// Extra trusted CA certificates (PEM file) for https:// targets; a self-signed
    /// certificate given here is also accepted as the server's own.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Do not check https:// targets' certificates (recorded in the result set and shown on
    /// its report).
    #[arg(long)]
    pub insecure: bool,
    /// Run shard I (0-based) of N of every scenario: the requests with `seq mod N == I`, at
    /// their original intended times; N shards together send the whole schedule (external
    /// targets only).
    #[arg(long, value_name = "I/N", value_parser = crate::shard::parse_shard)]
    pub shard: Option<crate::load::Segment>,
    /// Begin the first target's load at this wall-clock time (RFC 3339 or Unix seconds), so
    /// shards on several machines start together; one missed by more than a second refuses.
    #[arg(long, value_name = "TIME", value_parser = crate::shard::parse_start_at)]
    pub start_at: Option<std::time::SystemTime>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write every scenario's threshold verdicts, per target, as JUnit XML to FILE (its
    /// directory must exist; written whatever the exit code).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Serve the run's live metrics at http://ADDR/metrics while it runs (Prometheus text
    /// format, or OpenMetrics when the scraper asks for it): requests by outcome, in flight,
    /// connections, cold starts, database connections and a corrected-latency histogram per
    /// target, updated once per second. Listened on before any load; stops when the run ends.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' result sets (each `OUT/<scenario>` of a `run --shard I/N`), every shard
    /// 0..N-1 of one run once.
    #[arg(required = true, value_name = "SHARD_SET")]
    pub sets: Vec<PathBuf>,
    /// Directory that receives the merged result set (`DIR/<scenario>`, which must not exist).
    #[arg(long)]
    pub out: PathBuf,
    /// Merge shards that did not complete (interrupted or failed); the merged set is marked
    /// `interrupted` and names them.
    #[arg(long)]
    pub allow_partial: bool,
}

impl MergeArgs {
    /// The request `merge` runs.
    pub(crate) fn request(&self) -> crate::merge::MergeRequest {
        crate::merge::MergeRequest {
            sets: self.sets.clone(),
            out: self.out.clone(),
            allow_partial: self.allow_partial,
            command: std::env::args().collect(),
        }
    }
}

#[derive(Debug, Args)]
pub struct K8sArgs {
    /// The scenario file (its targets external URLs the cluster can reach).
    pub scenario: PathBuf,
    /// Number of shards: pods of the Indexed Job, each sending every N-th request.
    #[arg(long, value_name = "N")]
    pub shards: u64,
    /// Container image with coldfront on its PATH (see the Dockerfile).
    #[arg(long)]
    pub image: String,
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Time from writing the manifests to the shards' common start.
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = parse_duration)]
    pub start_in: std::time::Duration,
    /// Size of the shared results volume (a ReadWriteMany PersistentVolumeClaim).
    #[arg(long, default_value = "1Gi")]
    pub storage: String,
    /// Storage class of the results volume (the cluster's default when left out).
    #[arg(long, value_name = "CLASS")]
    pub storage_class: Option<String>,
    /// The manifests' file.
    #[arg(long, default_value = "coldfront-k8s.yaml", value_name = "FILE")]
    pub out: PathBuf,
}

impl K8sArgs {
    /// The request `k8s` runs.
    pub(crate) fn request(&self) -> crate::k8s::K8sRequest {
        crate::k8s::K8sRequest {
            scenario: self.scenario.clone(),
            shards: self.shards,
            image: self.image.clone(),
            namespace: self.namespace.clone(),
            start_in: self.start_in,
            storage: self.storage.clone(),
            storage_class: self.storage_class.clone(),
            out: self.out.clone(),
        }
    }
}

/// A duration as scenario files write them (`60s`, `2m`).
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::scenario::parse_duration(text).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files, or directories of *.toml files.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Accept external targets that are not on this machine (as `run --allow-remote` would).
    #[arg(long)]
    pub allow_remote: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Result set directories (as written by `run`: results/<scenario>).
    #[arg(required = true, value_name = "RESULT_SET")]
    pub result_sets: Vec<PathBuf>,
    /// Write a static site here (index.html and one directory per result set); without it,
    /// each result set's own charts/ and report.html are written anew.
    #[arg(long, value_name = "SITE_DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline (A): a result set, a set run with --repeat (its repetitions are its runs),
    /// or several result sets of one side separated by commas (`results/a1,results/a2`).
    #[arg(value_name = "RESULT_SET", value_parser = compare::parse_side)]
    pub a: compare::SidePaths,
    /// The side compared with it (B), given as A is; with --between it may be left out (B = A).
    #[arg(value_name = "RESULT_SET", required_unless_present = "between", value_parser = compare::parse_side)]
    pub b: Option<compare::SidePaths>,
    /// Compare target A_TARGET of A with target B_TARGET of B (of the same result set when B
    /// is left out): e.g. `--between persistent serverless`.
    #[arg(long, num_args = 2, value_names = ["A_TARGET", "B_TARGET"])]
    pub between: Option<Vec<String>>,
    /// Only the seconds of this scenario phase (e.g. "steady", once instances are warm).
    #[arg(long, value_name = "NAME")]
    pub phase: Option<String>,
    #[arg(long, value_enum, default_value_t = compare::Format::Text)]
    pub format: compare::Format,
    /// Exit 1 when a significant regression's relative change exceeds --tolerance.
    #[arg(long)]
    pub fail_on_regression: bool,
    /// Largest relative change of a significant regression that still passes ("5%" or "0.05").
    #[arg(long, default_value = "5%", value_parser = compare::parse_tolerance)]
    pub tolerance: f64,
    /// With one run a side, count a change only beyond this relative change ("20%" or
    /// "0.2") for every metric, instead of the allowances measured between identical runs.
    #[arg(long, value_name = "FRACTION", value_parser = compare::parse_tolerance)]
    pub noise_allowance: Option<f64>,
    /// Also draw A's and B's latency spectra overlaid, per target, into this file (.svg or .png).
    #[arg(long, value_name = "PATH", value_parser = compare::parse_chart_path)]
    pub chart: Option<PathBuf>,
    /// Also write a JUnit XML test case per metric --fail-on-regression judges to FILE.
    #[arg(long, value_name = "FILE", requires = "fail_on_regression")]
    pub junit: Option<PathBuf>,
}

impl CompareArgs {
    /// The request `compare` runs.
    pub(crate) fn request(&self) -> compare::CompareRequest {
        compare::CompareRequest {
            a: self.a.0.clone(),
            b: self.b.as_ref().map(|side| side.0.clone()),
            between: self
                .between
                .as_deref()
                .map(|pair| (pair[0].clone(), pair[1].clone())),
            phase: self.phase.clone(),
            format: self.format,
            fail_on_regression: self.fail_on_regression,
            tolerance: self.tolerance,
            noise_allowance: self.noise_allowance,
            chart: self.chart.clone(),
            junit: self.junit.clone(),
        }
    }
}
