//! The persistent runtime: one long-lived process serving the [`app`](crate::app) over
//! HTTP/1.1 (keep-alive, upgrades), with a PostgreSQL pool, one shared rate limiter,
//! background jobs, SSE and WebSockets, and `GET /__coldfront/metrics`. It stops accepting on
//! shutdown and lets in-flight requests finish for up to [`SHUTDOWN_GRACE`].
//!
//! Every application response carries `x-coldfront-cold: 0`: the process has no cold starts,
//! and saying so lets the harness report zero cold starts (rather than "not reported") and a
//! warm latency to compare with a serverless target's. Idle keep-alive connections are never
//! timed out, as behind a load balancer's connection pool.

mod connection;
mod metrics;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::{AppConfig, Jobs, RateLimiter, Services};
use crate::db::{self, DbAccess};
use metrics::Stats;

pub use metrics::METRICS_PATH;

/// How long in-flight requests may run on after shutdown is asked for.
pub use crate::listen::SHUTDOWN_GRACE;

/// Names this server in messages.
const WHO: &str = "persistent";

/// How the persistent server is set up. [`PersistentSettings::resolve`] makes one from
/// settings.
///
/// [`PersistentSettings::resolve`]: crate::settings::PersistentSettings::resolve
#[derive(Debug, Clone)]
pub struct PersistentConfig {
    /// The application role's database URL.
    pub database_url: String,
    /// Most connections the pool opens.
    pub pool: usize,
    /// How long a request waits for a free pooled connection before a 503 `pool_timeout`.
    pub pool_timeout: Duration,
    pub app: AppConfig,
}

impl PersistentConfig {
    /// Pool of 10, waiting up to 5 s, default application settings.
    pub fn new(database_url: impl Into<String>) -> PersistentConfig {
        PersistentConfig {
            database_url: database_url.into(),
            pool: 10,
            pool_timeout: Duration::from_secs(5),
            app: AppConfig::default(),
        }
    }
}

/// What every connection task shares.
struct Server {
    app: AppConfig,
    services: Services,
    pool: deadpool_postgres::Pool,
    jobs: Arc<Jobs>,
    stats: Stats,
}

/// Serves on `listener` until `shutdown` resolves, then drains (see the module doc). Fails
/// before serving if the database cannot be reached.
pub async fn serve(
    config: PersistentConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let server = Arc::new(Server::start(config).await?);
    let (stop, stopping) = watch::channel(false);
    let connections = crate::listen::accept_until(WHO, &listener, shutdown, |stream| {
        connection::serve(Arc::clone(&server), stream, stopping.clone())
    })
    .await;
    drop(listener);
    let _ = stop.send(true);
    crate::listen::drain(WHO, connections).await;
    server.pool.close();
    Ok(())
}

impl Server {
    async fn start(config: PersistentConfig) -> anyhow::Result<Server> {
        let pool = db::pool(&config.database_url, config.pool, config.pool_timeout)?;
        // One connection up front: a wrong URL fails here, not on the first request.
        let probe = pool.get().await.map_err(|e| anyhow::anyhow!("{e}"));
        drop(probe.with_context(|| format!("connecting to {}", config.database_url))?);
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        let jobs = Arc::new(Jobs::new(workers));
        let services = Services {
            db: Arc::new(DbAccess::Pool(pool.clone())),
            limiter: Arc::new(RateLimiter::new(
                config.app.rate_limit,
                config.app.rate_window,
            )),
            jobs: Some(Arc::clone(&jobs)),
            websockets: true,
        };
        Ok(Server {
            app: config.app,
            services,
            pool,
            jobs,
            stats: Stats::default(),
        })
    }
}
