//! The persistent server's counters and `GET /__coldfront/metrics`, a
//! [`PersistentMetrics`](crate::metrics::PersistentMetrics) document:
//! `{"runtime":"persistent","pool":{"max","size","in_use","available","waiting"},
//! "connections_open","connections_accepted","requests","jobs":{"queued","running","done","failed"},
//! "uptime_ms"}`. `requests` counts application requests (metrics reads excluded).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use http::{Response, StatusCode};

use super::Server;
use crate::app::{response, Body};
use crate::metrics::{PersistentMetrics, PoolMetrics, TargetMetrics};

pub use crate::metrics::METRICS_PATH;

pub(super) struct Stats {
    started: Instant,
    requests: AtomicU64,
    accepted: AtomicU64,
    open: Arc<AtomicUsize>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            started: Instant::now(),
            requests: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            open: Arc::default(),
        }
    }
}

impl Stats {
    /// Counts a newly accepted connection as open until the guard drops.
    pub(super) fn connection_opened(&self) -> ConnectionGuard {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        self.open.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard(Arc::clone(&self.open))
    }

    pub(super) fn request_started(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
}

/// One open client connection; dropping it closes the count.
pub(super) struct ConnectionGuard(Arc<AtomicUsize>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(super) fn respond(server: &Server) -> Response<Body> {
    response::json(StatusCode::OK, &document(server))
}

fn document(server: &Server) -> TargetMetrics {
    let pool = server.pool.status();
    let stats = &server.stats;
    let count = |n: usize| n as u64;
    TargetMetrics::Persistent(PersistentMetrics {
        pool: PoolMetrics {
            max: count(pool.max_size),
            size: count(pool.size),
            in_use: count(pool.size.saturating_sub(pool.available)),
            available: count(pool.available),
            waiting: count(pool.waiting),
        },
        connections_open: count(stats.open.load(Ordering::Relaxed)),
        connections_accepted: stats.accepted.load(Ordering::Relaxed),
        requests: stats.requests.load(Ordering::Relaxed),
        jobs: server.jobs.counts(),
        uptime_ms: stats.started.elapsed().as_millis() as u64,
    })
}
