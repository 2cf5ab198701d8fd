//! The gateway's serving loop: accepts client connections (HTTP/1.1, keep-alive), serves each
//! on its own task through [`forward`](super::forward), and on shutdown stops accepting, lets
//! in-flight requests finish for up to [`SHUTDOWN_GRACE`], then retires every instance and
//! waits until they are reaped.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::cold_start::{Instances, Starter, INIT_LIMIT};
use super::launcher::Launcher;
use super::metrics::Stats;
use super::pool::Pool;
use super::process::RETIRE_GRACE;
use super::protocol::InstanceSettings;
use super::{InstanceCommand, ServerlessConfig};

/// How long in-flight requests may run on after shutdown is asked for.
pub use crate::listen::SHUTDOWN_GRACE;

/// Names this server in messages.
const WHO: &str = "serverless gateway";

/// Everything the request path shares.
pub struct Gateway {
    pub max_duration: Duration,
    pub queue_timeout: Duration,
    pub pool: Arc<Pool>,
    pub starter: Starter,
    pub stats: Arc<Stats>,
    pub next_id: AtomicU64,
}

impl Gateway {
    fn new(config: ServerlessConfig) -> anyhow::Result<Gateway> {
        let stats = Arc::new(Stats::default());
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let launcher = Launcher::start(threads.min(4), tokio::runtime::Handle::current())?;
        let instances = match &config.instances {
            InstanceCommand::BuiltIn(command) => Instances::BuiltIn {
                command: Arc::new(command.clone()),
                template: settings_template(&config),
                ready_within: config.init.saturating_add(INIT_LIMIT),
            },
            InstanceCommand::App(app) => Instances::App {
                app: Arc::new(app.clone()),
                database_url: config.database_url.clone(),
                concurrency: config.concurrency,
            },
        };
        Ok(Gateway {
            max_duration: config.max_duration,
            queue_timeout: config.queue_timeout,
            pool: Pool::new(config.max_instances, config.keep_warm, Arc::clone(&stats)),
            starter: Starter {
                launcher,
                instances,
                stats: Arc::clone(&stats),
                ports: Default::default(),
            },
            stats,
            next_id: AtomicU64::new(1),
        })
    }

    /// Retires every instance and waits (bounded) until all are reaped.
    async fn stop(&self) {
        self.pool.close();
        let deadline = Instant::now() + RETIRE_GRACE + Duration::from_secs(1);
        while self.stats.alive() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Every instance's settings but its id and spawn time.
fn settings_template(config: &ServerlessConfig) -> InstanceSettings {
    InstanceSettings {
        id: 0,
        gateway_pid: std::process::id(),
        spawned_at_ns: 0,
        init_us: config.init.as_micros() as u64,
        database_url: config.database_url.clone(),
        db_connect: config.db_connect,
        auth_token: config.app.auth_token.clone(),
        rate_limit: config.app.rate_limit,
        rate_window_us: config.app.rate_window.as_micros() as u64,
    }
}

/// See [`super::serve`].
pub async fn serve(
    config: ServerlessConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let gateway = Arc::new(Gateway::new(config)?);
    let (stop, stopping) = watch::channel(false);
    let connections = crate::listen::accept_until(WHO, &listener, shutdown, |stream| {
        serve_connection(Arc::clone(&gateway), stream, stopping.clone())
    })
    .await;
    drop(listener);
    let _ = stop.send(true);
    crate::listen::drain(WHO, connections).await;
    gateway.stop().await;
    Ok(())
}

/// Serves one client connection until it closes or, once `stopping`, until its in-flight
/// request is answered.
async fn serve_connection(
    gateway: Arc<Gateway>,
    stream: TcpStream,
    mut stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| {
        let gateway = Arc::clone(&gateway);
        async move { Ok::<_, Infallible>(gateway.respond(request).await) }
    });
    let connection = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = stopping.wait_for(|stop| *stop) => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}
