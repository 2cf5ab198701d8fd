//! The serverless runtime, a platform emulator: a gateway (the address load is sent to) that
//! forwards every request to an instance, each instance a fresh OS process serving one request
//! at a time (or `concurrency` at once, for a command instance), with cold starts, keep-warm
//! reuse and reaping, `max_instances` with a queue and 429s, `max_duration` with 504s, and
//! [`presets`] of published platform limits. An instance runs the built-in application
//! ([`InstanceCommand::BuiltIn`]) or the user's own server ([`InstanceCommand::App`], see
//! [`crate::command`]).
//!
//! # Architecture
//!
//! ```text
//! client ──HTTP/1.1──▶ gateway ──HTTP/1.1 over a Unix socketpair──▶ built-in instance (1 request at a time)
//!                              ──HTTP/1.1 over TCP, one connection per lane──▶ command instance
//! ```
//!
//! - `gateway`: accepts client connections, serves each on its own task, shuts down.
//! - `forward`: the request path: what needs no instance (metrics, WebSocket refusals),
//!   getting an instance (warm, cold, queued or throttled), `max_duration`, the headers.
//! - `pool`: the instances and their lanes (one connection each, `concurrency` per instance):
//!   capacity (`max_instances`), the queue, the idle stack (most recently used first), reaping
//!   after `keep_warm`.
//! - `cold_start`: built-in: spawn → ready report → HTTP handshake; command: spawn → listening →
//!   ready → connect; and the cold-start breakdown.
//! - `launcher`: forks instances from dedicated long-lived threads (`PR_SET_PDEATHSIG`
//!   follows the forking *thread*); `process` supervises, reaps and kills them.
//! - `protocol`: what the gateway and an instance tell each other (settings, ready report).
//! - `instance`: the instance process itself ([`instance_main`]).
//! - `body`: a response body that cuts a stream at `max_duration` and hands the instance back
//!   when the body ends.
//!
//! # Response headers
//!
//! Every response served by an instance carries `x-coldfront-instance: <id>` (1, 2, … per
//! gateway), `x-coldfront-instance-pid: <pid>` and `x-coldfront-cold: 1|0`. A cold response also
//! carries the cold-start breakdown, in milliseconds with microsecond precision (`12.345`):
//!
//! | header | what |
//! |---|---|
//! | `x-coldfront-init-ms` | from the start of the cold start (asking for a process) to the instance's ready report, as the gateway sees it |
//! | `x-coldfront-spawn-ms` | from just before `fork` to the instance's first instruction in [`instance_main`] (fork, exec, loading, argument parsing); command instance: to `exec` done |
//! | `x-coldfront-runtime-init-ms` | the modelled runtime start-up (`init`) as slept |
//! | `x-coldfront-db-connect-ms` | the instance's database connection (`per-instance` only) |
//! | `x-coldfront-listening-ms` | command instance: from `exec` to the first accepted connection |
//! | `x-coldfront-ready-ms` | command instance: from listening to the first 100–499 on `ready` |
//! | `x-coldfront-first-response-ms` | the first request itself, to its response head |
//!
//! The metrics document keeps each part's count, p50, p90 and maximum over the completed cold
//! starts (`cold_start_us`).
//!
//! Gateway answers name their cause in `x-coldfront-error`: `throttled` (429
//! `TOO_MANY_REQUESTS`), `function_timeout` (504 `FUNCTION_INVOCATION_TIMEOUT`),
//! `websockets_unsupported` (501), `too_large` (413, a `Content-Length` over the app's body limit, refused
//! before any instance sees it), and for failed cold starts (503) the database error's kind
//! (`too_many_connections`, `connect`, …), `instance_crashed`, `init_timeout`, `spawn_failed`; an
//! instance that dies during a request gives 502 `instance_crashed`, and a request arriving while
//! the gateway shuts down 503 `shutting_down`.

mod body;
mod cold_start;
mod forward;
mod gateway;
mod instance;
mod launcher;
mod metrics;
mod pool;
mod preset;
mod process;
mod protocol;

use std::ffi::OsString;
use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::app::AppConfig;
use crate::command::AppCommand;

pub use crate::settings::DbConnect;
pub use gateway::SHUTDOWN_GRACE;
pub use instance::instance_main;
pub use metrics::METRICS_PATH;
pub use preset::{preset, presets, Preset, DEFAULT_PRESET};

/// How the serverless runtime is set up. [`ServerlessSettings::resolve`] makes one from a
/// preset and settings.
///
/// [`ServerlessSettings::resolve`]: crate::settings::ServerlessSettings::resolve
#[derive(Debug, Clone)]
pub struct ServerlessConfig {
    /// The application role's database URL.
    pub database_url: String,
    /// How long an idle instance is kept for reuse; zero = a cold start for every request (the
    /// instance exits after one request).
    pub keep_warm: Duration,
    /// Modelled runtime start-up, slept in the instance on top of the real spawn and database
    /// connect.
    pub init: Duration,
    /// Most instances alive at once (at least 1).
    pub max_instances: u32,
    /// Longest a request may run on its instance (from when it is handed to a ready instance);
    /// past it the instance is killed and the client gets 504, or its stream is cut.
    pub max_duration: Duration,
    /// How long a request waits for an instance past `max_instances` before 429.
    pub queue_timeout: Duration,
    pub db_connect: DbConnect,
    /// Requests one instance serves at once (more than 1 only for a command instance).
    pub concurrency: u32,
    pub app: AppConfig,
    /// What one instance runs.
    pub instances: InstanceCommand,
}

/// What one instance runs.
#[derive(Debug, Clone)]
pub enum InstanceCommand {
    /// The built-in application: program and arguments that run [`instance_main`] (the
    /// harness passes `[current_exe, "__instance"]`). The program must call it in the spawned
    /// process itself: a wrapper that forks (`sh -c …`) makes the instance's parent check fail.
    BuiltIn(Vec<OsString>),
    /// The user's application (a command target): one process of it per instance.
    App(AppCommand),
}

impl ServerlessConfig {
    fn validate(&self) -> anyhow::Result<()> {
        match &self.instances {
            InstanceCommand::BuiltIn(command) => {
                anyhow::ensure!(
                    !command.is_empty(),
                    "the instance command is empty: it needs at least the program that runs an instance"
                );
                anyhow::ensure!(
                    self.concurrency == 1,
                    "a built-in instance serves one request at a time (concurrency 1)"
                );
            }
            InstanceCommand::App(_) => {
                anyhow::ensure!(self.concurrency >= 1, "concurrency must be at least 1")
            }
        }
        anyhow::ensure!(self.max_instances >= 1, "max_instances must be at least 1");
        anyhow::ensure!(
            !self.max_duration.is_zero(),
            "max_duration must be more than zero"
        );
        Ok(())
    }
}

/// Runs the gateway on `listener` until `shutdown` resolves: in-flight requests may finish for
/// up to [`SHUTDOWN_GRACE`], then every instance is stopped. No instance outlives this
/// call (nor the process, even killed with SIGKILL).
pub async fn serve(
    config: ServerlessConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    config.validate()?;
    gateway::serve(config, listener, shutdown).await
}
