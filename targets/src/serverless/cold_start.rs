//! A cold start: spawn a process, wait for its init report (bounded by the modelled `init`
//! plus [`INIT_LIMIT`]), open the HTTP/1.1 connection over its socket. The result is a ready
//! [`Instance`] carrying its [`ColdStart`] breakdown, or an [`InitFailure`] that becomes a 503
//! naming its kind, never a hang.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;

use super::launcher::Launcher;
use super::metrics::Stats;
use super::pool::{Instance, Slot};
use super::process::Process;
use super::protocol::{read_report, InitReport, InstanceSettings};
use crate::app::response::{self, ERROR_HEADER};
use crate::app::Body;

/// How long start-up may take beyond the modelled `init`: Lambda limits its Init phase to
/// 10 s (AWS Lambda documentation, "Understanding the Lambda execution environment
/// lifecycle").
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

/// Where a cold start's time went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColdStart {
    /// From asking for a process to the ready report, as the gateway saw it.
    pub init: Duration,
    /// From just before the fork to `instance_main`.
    pub spawn: Duration,
    /// The modelled runtime start-up as slept.
    pub runtime_init: Duration,
    /// The per-instance database connection.
    pub db_connect: Option<Duration>,
}

impl ColdStart {
    /// Adds the `x-coldfront-*-ms` breakdown headers.
    pub fn add_headers(&self, headers: &mut HeaderMap) {
        headers.insert("x-coldfront-init-ms", millis(self.init));
        headers.insert("x-coldfront-spawn-ms", millis(self.spawn));
        headers.insert("x-coldfront-runtime-init-ms", millis(self.runtime_init));
        if let Some(db_connect) = self.db_connect {
            headers.insert("x-coldfront-db-connect-ms", millis(db_connect));
        }
    }
}

/// Milliseconds with microsecond precision: `12.345`.
fn millis(duration: Duration) -> HeaderValue {
    let text = format!("{:.3}", duration.as_secs_f64() * 1000.0);
    HeaderValue::from_str(&text).expect("a number is a valid header value")
}

/// Why a cold start produced no instance.
#[derive(Debug)]
pub enum InitFailure {
    /// The process could not be started.
    Spawn(io::Error),
    /// The instance reported that it cannot serve (the database refused, …).
    Reported {
        kind: String,
        sqlstate: Option<String>,
        message: String,
    },
    /// The instance died or broke the protocol before it was ready.
    Crashed(String),
    /// No ready report within the limit; the instance was killed.
    Timeout(Duration),
}

impl InitFailure {
    /// The `x-coldfront-error` value.
    pub fn kind(&self) -> &str {
        match self {
            InitFailure::Spawn(_) => "spawn_failed",
            InitFailure::Reported { kind, .. } => kind,
            InitFailure::Crashed(_) => "instance_crashed",
            InitFailure::Timeout(_) => "init_timeout",
        }
    }

    /// 503 with a JSON body; a database failure has the runtime-wide database error shape
    /// (`{"error":"database","kind","sqlstate","message"}`).
    pub fn response(&self, instance_id: u64) -> Response<Body> {
        let body = match self {
            InitFailure::Spawn(error) => json!({
                "error": "SPAWN_FAILED",
                "message": format!("starting instance {instance_id}: {error}"),
            }),
            InitFailure::Reported {
                kind,
                sqlstate,
                message,
            } => json!({
                "error": "database",
                "kind": kind,
                "sqlstate": sqlstate,
                "message": message,
                "phase": "init",
            }),
            InitFailure::Crashed(message) => json!({
                "error": "INSTANCE_CRASHED",
                "message": message,
            }),
            InitFailure::Timeout(limit) => json!({
                "error": "INIT_TIMEOUT",
                "message": format!("instance {instance_id} was not ready within {limit:?}"),
            }),
        };
        let mut response = response::json(StatusCode::SERVICE_UNAVAILABLE, &body);
        let headers = response.headers_mut();
        if let Ok(kind) = HeaderValue::from_str(self.kind()) {
            headers.insert(ERROR_HEADER, kind);
        }
        headers.insert("x-coldfront-instance", HeaderValue::from(instance_id));
        headers.insert("x-coldfront-cold", HeaderValue::from_static("1"));
        response
    }
}

/// What every cold start of one gateway shares.
pub struct Starter {
    pub launcher: Launcher,
    /// The settings of every instance but its `id` and `spawned_at_ns`.
    pub template: InstanceSettings,
    /// The modelled `init` plus [`INIT_LIMIT`].
    pub ready_within: Duration,
    pub stats: Arc<Stats>,
}

impl Starter {
    /// Starts instance `id` on `slot` (freed again if the start fails).
    pub async fn start(&self, id: u64, slot: Slot) -> Result<Instance, InitFailure> {
        self.stats.cold_start();
        let started = self.start_process(id, slot).await;
        if started.is_err() {
            self.stats.init_failed();
        }
        started
    }

    async fn start_process(&self, id: u64, slot: Slot) -> Result<Instance, InitFailure> {
        let began = Instant::now();
        let settings = InstanceSettings {
            id,
            ..self.template.clone()
        };
        let spawned = self
            .launcher
            .spawn(settings)
            .await
            .map_err(InitFailure::Spawn)?;
        let pid = spawned.pid;
        let mut process = Process::supervise(spawned.child, Arc::clone(&self.stats));
        spawned
            .socket
            .set_nonblocking(true)
            .map_err(InitFailure::Spawn)?;
        let mut stream =
            tokio::net::UnixStream::from_std(spawned.socket).map_err(InitFailure::Spawn)?;
        let report = match tokio::time::timeout(self.ready_within, read_report(&mut stream)).await {
            Ok(Ok(report)) => report,
            Ok(Err(error)) => return Err(crashed(id, &mut process, &error).await),
            Err(_) => {
                process.kill();
                return Err(InitFailure::Timeout(self.ready_within));
            }
        };
        let cold_start = ready(report, began)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| InitFailure::Crashed(format!("instance {id}: HTTP handshake: {e}")))?;
        tokio::spawn(async move {
            // Ends when the gateway drops the sender or the instance closes its end.
            let _ = connection.await;
        });
        Ok(Instance {
            id,
            pid,
            sender,
            cold_start: Some(cold_start),
            process,
            _slot: slot,
        })
    }
}

/// The breakdown of a `ready` report, or the reported failure.
fn ready(report: InitReport, began: Instant) -> Result<ColdStart, InitFailure> {
    match report {
        InitReport::Ready {
            spawn_us,
            runtime_init_us,
            db_connect_us,
        } => Ok(ColdStart {
            init: began.elapsed(),
            spawn: Duration::from_micros(spawn_us),
            runtime_init: Duration::from_micros(runtime_init_us),
            db_connect: db_connect_us.map(Duration::from_micros),
        }),
        InitReport::Failed {
            kind,
            sqlstate,
            message,
        } => Err(InitFailure::Reported {
            kind,
            sqlstate,
            message,
        }),
    }
}

/// The instance closed its socket (or sent garbage) before it was ready: how it ended.
async fn crashed(id: u64, process: &mut Process, error: &io::Error) -> InitFailure {
    let status = process.exit_status(Duration::from_millis(500)).await;
    let how = match status {
        Some(status) => status.to_string(),
        None => format!("socket error: {error}"),
    };
    InitFailure::Crashed(format!("instance {id} failed before it was ready ({how})"))
}
