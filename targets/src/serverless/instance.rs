//! The instance process: reads its settings, starts up (the modelled `init`, then the
//! database connection when per-instance), reports ready (or why not) to the gateway, then
//! serves the application over its socket, one request at a time, until the gateway closes
//! the connection. It has its own memory: its own rate limiter, no background jobs, no
//! WebSockets. It never outlives the gateway: SIGKILL on the death of the thread that forked
//! it, a parent check at start, and the end of its connection all end it.

use std::convert::Infallible;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use super::protocol::{
    monotonic_ns, write_report, InitReport, InstanceSettings, SETTINGS_ENV, SOCKET_FD,
};
use crate::app::{self, AppConfig, RateLimiter, Services};
use crate::db::{DbAccess, DbError};
use crate::settings::DbConnect;

/// The application as one instance hosts it.
struct Hosted {
    app: AppConfig,
    services: Services,
}

/// Entry point of an instance process (`coldfront __instance`): returns when the gateway
/// closes the connection. Fails at once when not started by a gateway.
pub fn instance_main() -> anyhow::Result<()> {
    let entered_ns = monotonic_ns();
    let settings = InstanceSettings::from_env()?;
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    anyhow::ensure!(
        parent as u32 == settings.gateway_pid,
        "the gateway (pid {}) is gone; parent is pid {parent}",
        settings.gateway_pid
    );
    let socket = take_socket()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the instance's runtime")?;
    let spawn = Duration::from_nanos(entered_ns.saturating_sub(settings.spawned_at_ns));
    let result = runtime.block_on(run(settings, socket, spawn));
    // A request's CPU work may still be running on a blocking thread: do not wait for it.
    runtime.shutdown_background();
    result
}

/// The socketpair end the gateway left at [`SOCKET_FD`].
fn take_socket() -> anyhow::Result<UnixStream> {
    // SAFETY: fcntl(F_GETFD) only inspects the descriptor.
    let open = unsafe { libc::fcntl(SOCKET_FD, libc::F_GETFD) } != -1;
    anyhow::ensure!(
        open,
        "fd {SOCKET_FD} is not open: {SETTINGS_ENV} is set but the gateway's socket is missing"
    );
    // SAFETY: the descriptor is open, was handed to this process for this purpose, and
    // nothing else in the process owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(SOCKET_FD) };
    let socket = UnixStream::from(fd);
    socket.set_nonblocking(true)?;
    Ok(socket)
}

async fn run(
    settings: InstanceSettings,
    socket: UnixStream,
    spawn: Duration,
) -> anyhow::Result<()> {
    let mut stream = tokio::net::UnixStream::from_std(socket)?;
    let (report, hosted) = start_up(&settings, spawn).await;
    write_report(&mut stream, &report)
        .await
        .context("reporting to the gateway")?;
    let Some(hosted) = hosted else {
        return Ok(());
    };
    serve(stream, Arc::new(hosted)).await;
    Ok(())
}

/// The modelled start-up, then the database access: the report to send, and the application
/// when ready.
async fn start_up(settings: &InstanceSettings, spawn: Duration) -> (InitReport, Option<Hosted>) {
    let slept = Instant::now();
    if settings.init_us > 0 {
        // Even a zero sleep waits for the next timer tick (1 ms): skip it.
        tokio::time::sleep(Duration::from_micros(settings.init_us)).await;
    }
    let runtime_init = slept.elapsed();
    let connecting = Instant::now();
    let db = match db_access(settings).await {
        Ok(db) => db,
        Err(error) => return (failed(&error), None),
    };
    let db_connect = (settings.db_connect == DbConnect::PerInstance).then(|| connecting.elapsed());
    let report = InitReport::Ready {
        spawn_us: micros(spawn),
        runtime_init_us: micros(runtime_init),
        db_connect_us: db_connect.map(micros),
    };
    (report, Some(hosted(settings, db)))
}

async fn db_access(settings: &InstanceSettings) -> Result<DbAccess, DbError> {
    match settings.db_connect {
        DbConnect::PerInstance => DbAccess::per_instance(&settings.database_url).await,
        DbConnect::PerRequest => DbAccess::per_request(&settings.database_url),
    }
}

fn failed(error: &DbError) -> InitReport {
    InitReport::Failed {
        kind: error.kind().to_string(),
        sqlstate: error.sqlstate().map(str::to_string),
        message: error.to_string(),
    }
}

fn hosted(settings: &InstanceSettings, db: DbAccess) -> Hosted {
    let app = AppConfig {
        auth_token: settings.auth_token.clone(),
        rate_limit: settings.rate_limit,
        rate_window: Duration::from_micros(settings.rate_window_us),
    };
    let services = Services {
        db: Arc::new(db),
        limiter: Arc::new(RateLimiter::new(app.rate_limit, app.rate_window)),
        jobs: None,
        websockets: false,
    };
    Hosted { app, services }
}

/// Serves the application on the gateway's connection until it closes. Without half-close,
/// the end of the connection ends a request in progress too.
async fn serve(stream: tokio::net::UnixStream, hosted: Arc<Hosted>) {
    let service = service_fn(move |request| {
        let hosted = Arc::clone(&hosted);
        async move {
            let response = app::handle(&hosted.app, &hosted.services, request).await;
            Ok::<_, Infallible>(response)
        }
    });
    let _ = http1::Builder::new()
        .keep_alive(true)
        .half_close(false)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

fn micros(duration: Duration) -> u64 {
    duration.as_micros() as u64
}
