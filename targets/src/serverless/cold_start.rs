//! A cold start. A built-in instance: spawn a process, wait for its init report (bounded by
//! the modelled `init` plus [`INIT_LIMIT`]), open the HTTP/1.1 connection over its socket. A
//! command instance: spawn the user's application on a port (or socket) of its own, poll until
//! it is listening and ready (bounded by its `init_timeout`), connect to it; with concurrency
//! N, N − 1 more lanes join the pool once it is ready. The result is a ready [`Lane`] carrying
//! its [`ColdStart`] breakdown, or an [`InitFailure`] that becomes a 503 naming its kind,
//! never a hang.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue, Response, StatusCode};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use serde_json::json;

use super::launcher::Launcher;
use super::metrics::Stats;
use super::pool::{Lane, Pool, Running, Slot};
use super::process::{Process, Retire};
use super::protocol::{read_report, InitReport, InstanceSettings};
use crate::app::response::{self, ERROR_HEADER};
use crate::app::Body;
use crate::command::persistent::{not_ready_message, starting};
use crate::command::{wait_ready, AppCommand, NotReady, Socket};

/// How long start-up may take beyond the modelled `init`: Lambda limits its Init phase to
/// 10 s (AWS Lambda documentation, "Understanding the Lambda execution environment
/// lifecycle").
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

/// Where a cold start's time went. Built-in instance: spawn, runtime init, database connect;
/// command instance: spawn, listening, ready.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ColdStart {
    /// From asking for a process to the instance's first connection being ready, as the
    /// gateway saw it.
    pub init: Duration,
    /// Built-in: from just before the fork to `instance_main`. Command: from just before the
    /// fork to the return of `exec` (the program loaded).
    pub spawn: Duration,
    /// Built-in: the modelled runtime start-up as slept.
    pub runtime_init: Option<Duration>,
    /// Built-in: the per-instance database connection.
    pub db_connect: Option<Duration>,
    /// Command: from `exec` to the first accepted TCP connection.
    pub listening: Option<Duration>,
    /// Command: from listening to the first 100–499 answer on the `ready` path (zero without
    /// one).
    pub ready: Option<Duration>,
}

impl ColdStart {
    /// Each part by name (`runtime_init`, …), `None` when it does not apply.
    pub fn parts(&self) -> impl Iterator<Item = (&'static str, Option<Duration>)> {
        [
            ("init", Some(self.init)),
            ("spawn", Some(self.spawn)),
            ("runtime_init", self.runtime_init),
            ("db_connect", self.db_connect),
            ("listening", self.listening),
            ("ready", self.ready),
        ]
        .into_iter()
    }

    /// Adds the `x-coldfront-<part>-ms` breakdown headers (those that apply).
    pub fn add_headers(&self, headers: &mut HeaderMap) {
        for (part, took) in self.parts() {
            if let Some(took) = took {
                let name = format!("x-coldfront-{}-ms", part.replace('_', "-"));
                let name = http::HeaderName::try_from(name).expect("a valid header name");
                headers.insert(name, millis(took));
            }
        }
    }
}

/// Milliseconds with microsecond precision: `12.345`.
pub fn millis(duration: Duration) -> HeaderValue {
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
    /// Not ready within the limit; the instance was killed. What it did, in words.
    Timeout(String),
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
            InitFailure::Timeout(message) => json!({
                "error": "INIT_TIMEOUT",
                "message": format!("instance {instance_id}: {message}"),
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
    pub instances: Instances,
    pub stats: Arc<Stats>,
    /// The ports handed to command instances alive now.
    pub ports: Ports,
}

/// What an instance runs.
pub enum Instances {
    /// `coldfront __instance` with the built-in application.
    BuiltIn {
        command: Arc<Vec<OsString>>,
        /// The settings of every instance but its `id` and `spawned_at_ns`.
        template: InstanceSettings,
        /// The modelled `init` plus [`INIT_LIMIT`].
        ready_within: Duration,
    },
    /// The user's application.
    App {
        app: Arc<AppCommand>,
        database_url: String,
        /// Requests one instance serves at once: its lanes.
        concurrency: u32,
    },
}

impl Starter {
    /// Starts instance `id` on `slot` (freed again if the start fails): the lane of its first
    /// request (further lanes join `pool` when it is ready).
    pub async fn start(&self, id: u64, slot: Slot, pool: &Arc<Pool>) -> Result<Lane, InitFailure> {
        self.stats.cold_start();
        let started = match &self.instances {
            Instances::BuiltIn {
                command,
                template,
                ready_within,
            } => {
                let settings = InstanceSettings {
                    id,
                    ..template.clone()
                };
                self.start_builtin(Arc::clone(command), settings, *ready_within, slot)
                    .await
            }
            Instances::App {
                app,
                database_url,
                concurrency,
            } => {
                let lane = self.start_app(app, database_url, id, slot).await;
                if let (Ok(lane), Some(more)) = (&lane, concurrency.checked_sub(1)) {
                    add_lanes(&lane.running, more, pool);
                }
                lane
            }
        };
        if started.is_err() {
            self.stats.init_failed();
        }
        started
    }

    async fn start_builtin(
        &self,
        command: Arc<Vec<OsString>>,
        settings: InstanceSettings,
        ready_within: Duration,
        slot: Slot,
    ) -> Result<Lane, InitFailure> {
        let (began, id) = (Instant::now(), settings.id);
        let spawned = self
            .launcher
            .spawn_builtin(command, settings)
            .await
            .map_err(InitFailure::Spawn)?;
        let pid = spawned.pid;
        let mut process =
            Process::supervise(spawned.child, Retire::OnClose, Arc::clone(&self.stats));
        spawned
            .socket
            .set_nonblocking(true)
            .map_err(InitFailure::Spawn)?;
        let mut stream =
            tokio::net::UnixStream::from_std(spawned.socket).map_err(InitFailure::Spawn)?;
        let report = match tokio::time::timeout(ready_within, read_report(&mut stream)).await {
            Ok(Ok(report)) => report,
            Ok(Err(error)) => return Err(crashed(id, &mut process, &error).await),
            Err(_) => {
                process.kill();
                return Err(InitFailure::Timeout(format!(
                    "not ready within {ready_within:?}"
                )));
            }
        };
        let cold_start = ready(report, began)?;
        let sender = handshake(stream)
            .await
            .map_err(|e| InitFailure::Crashed(format!("instance {id}: HTTP handshake: {e}")))?;
        Ok(Lane {
            sender,
            cold_start: Some(cold_start),
            running: Arc::new(Running::new(id, pid, None, process, slot)),
        })
    }

    async fn start_app(
        &self,
        app: &AppCommand,
        database_url: &str,
        id: u64,
        slot: Slot,
    ) -> Result<Lane, InitFailure> {
        let began = Instant::now();
        let socket = Socket::avoiding(app.listen, |port| self.ports.lock().contains(&port))
            .map_err(InitFailure::Spawn)?;
        let addr = socket.addr().map_err(InitFailure::Spawn)?;
        let port = PortLease::new(&self.ports, addr.port());
        let mut command = app
            .command(&socket, database_url, std::io::stderr().as_fd())
            .map_err(InitFailure::Spawn)?;
        let spawn_context = starting(app);
        let child = self
            .launcher
            .run(move || {
                let child = command.spawn();
                // The listening socket is the child's now (fd 3), if it has one.
                drop(socket);
                child
            })
            .await
            .map_err(|e| {
                InitFailure::Spawn(io::Error::new(e.kind(), format!("{spawn_context}: {e}")))
            })?;
        let spawned = Instant::now();
        let pid = child.id().unwrap_or_default();
        let mut process = Process::supervise(child, Retire::Terminate, Arc::clone(&self.stats));
        let deadline = tokio::time::Instant::from_std(began + app.init_timeout);
        let readiness = wait_ready(addr, app.ready.as_deref(), deadline, || {
            process.exited().map(|status| status.to_string())
        })
        .await;
        let readiness = match readiness {
            Ok(readiness) => readiness,
            Err(NotReady::Exited(how)) => {
                return Err(InitFailure::Crashed(format!(
                    "instance {id}: `{}` exited ({how}) before it was ready",
                    app.display()
                )))
            }
            Err(timeout) => {
                process.kill();
                return Err(InitFailure::Timeout(not_ready_message(app, addr, &timeout)));
            }
        };
        let sender = connect(addr).await.map_err(|e| {
            InitFailure::Crashed(format!("instance {id}: connecting to {addr}: {e}"))
        })?;
        let cold_start = ColdStart {
            init: began.elapsed(),
            spawn: spawned - began,
            listening: Some(readiness.listening.saturating_duration_since(spawned)),
            ready: Some(
                readiness
                    .ready
                    .saturating_duration_since(readiness.listening),
            ),
            ..ColdStart::default()
        };
        Ok(Lane {
            sender,
            cold_start: Some(cold_start),
            running: Arc::new(Running::new(id, pid, Some((addr, port)), process, slot)),
        })
    }
}

/// The ports of a gateway's command instances, so no two are handed the same one.
pub type Ports = Arc<Mutex<HashSet<u16>>>;

/// A port of [`Ports`], given back when the instance is gone.
pub struct PortLease {
    ports: Ports,
    port: u16,
}

impl PortLease {
    fn new(ports: &Ports, port: u16) -> PortLease {
        ports.lock().insert(port);
        PortLease {
            ports: Arc::clone(ports),
            port,
        }
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        self.ports.lock().remove(&self.port);
    }
}

/// Opens `count` more lanes to a ready command instance and checks them into `pool`, in the
/// background (the first request does not wait for them).
fn add_lanes(running: &Arc<Running>, count: u32, pool: &Arc<Pool>) {
    let (running, pool) = (Arc::clone(running), Arc::clone(pool));
    let Some(addr) = running.addr else {
        return;
    };
    tokio::spawn(async move {
        for _ in 0..count {
            let Ok(sender) = connect(addr).await else {
                return;
            };
            pool.checkin(Lane {
                sender,
                cold_start: None,
                running: Arc::clone(&running),
            });
        }
    });
}

/// An HTTP/1.1 connection to a command instance.
pub async fn connect(addr: SocketAddr) -> io::Result<SendRequest<Incoming>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    handshake(stream).await.map_err(io::Error::other)
}

/// The client side of an HTTP/1.1 connection over `stream`, driven by its own task until the
/// gateway drops the sender or the instance closes its end.
async fn handshake<S>(stream: S) -> hyper::Result<SendRequest<Incoming>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
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
            runtime_init: Some(Duration::from_micros(runtime_init_us)),
            db_connect: db_connect_us.map(Duration::from_micros),
            ..ColdStart::default()
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
