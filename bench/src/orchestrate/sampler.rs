//! Samples a target every 250 ms while load runs: its metrics endpoint
//! (`/__coldfront/metrics`, a [`TargetMetrics`] document: instances alive) and PostgreSQL's
//! `pg_stat_activity` (connections open to the target's database), into the target's gauges.
//! It keeps the last metrics document for the summary.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use coldfront_targets::metrics::{TargetMetrics, METRICS_PATH};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio_util::sync::CancellationToken;

use crate::record::gauges::TargetGauges;

pub(crate) const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// What to sample.
#[derive(Debug, Clone, Default)]
pub(crate) struct SamplerSources {
    /// The built-in target's address (it serves the metrics endpoint).
    pub metrics: Option<SocketAddr>,
    /// A PostgreSQL URL able to read `pg_stat_activity`, and the database to count.
    pub database: Option<(String, String)>,
}

/// Runs until `stop`; returns the last metrics document read (as JSON, for the summary).
pub(crate) async fn run(
    sources: SamplerSources,
    gauges: Arc<TargetGauges>,
    stop: CancellationToken,
) -> Option<serde_json::Value> {
    let mut metrics = sources.metrics.map(MetricsClient::new);
    let database = match &sources.database {
        Some((url, name)) => DbProbe::connect(url, name).await,
        None => None,
    };
    if let Some(ceiling) = match &database {
        Some(probe) => probe.max_connections().await,
        None => None,
    } {
        let _ = gauges.db_max_connections.set(ceiling);
    }
    let mut last = None;
    let mut ticks = tokio::time::interval(SAMPLE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.cancelled() => break,
        }
        if let Some(client) = metrics.as_mut() {
            if let Some(document) = client.get().await {
                if let Some(alive) = document.instances_alive() {
                    gauges.instances.observe(alive);
                }
                last = Some(document);
            }
        }
        if let Some(probe) = &database {
            if let Some(count) = probe.count().await {
                gauges.db_connections.observe(count);
            }
        }
    }
    // One last read, so the summary has the target's final counters.
    if let Some(client) = metrics.as_mut() {
        last = client.get().await.or(last);
    }
    last.map(|document| serde_json::to_value(document).expect("metrics always serialize"))
}

/// GETs the metrics document over one kept-alive connection, reconnecting when needed.
struct MetricsClient {
    addr: SocketAddr,
    sender: Option<http1::SendRequest<Empty<Bytes>>>,
}

impl MetricsClient {
    fn new(addr: SocketAddr) -> Self {
        MetricsClient { addr, sender: None }
    }

    async fn get(&mut self) -> Option<TargetMetrics> {
        let result = tokio::time::timeout(Duration::from_secs(1), self.try_get()).await;
        match result {
            Ok(Some(document)) => Some(document),
            _ => {
                self.sender = None;
                None
            }
        }
    }

    async fn try_get(&mut self) -> Option<TargetMetrics> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = tokio::net::TcpStream::connect(self.addr).await.ok()?;
            let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.ok()?;
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut()?;
        sender.ready().await.ok()?;
        let request = http::Request::get(METRICS_PATH)
            .header(http::header::HOST, self.addr.to_string())
            .body(Empty::new())
            .ok()?;
        let response = sender.send_request(request).await.ok()?;
        let body = response.into_body().collect().await.ok()?.to_bytes();
        serde_json::from_slice(&body).ok()
    }
}

/// Counts client connections to one database.
struct DbProbe {
    client: tokio_postgres::Client,
    database: String,
}

impl DbProbe {
    async fn connect(url: &str, database: &str) -> Option<DbProbe> {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .ok()?;
        tokio::spawn(connection);
        Some(DbProbe {
            client,
            database: database.to_string(),
        })
    }

    /// The server's `max_connections` setting.
    async fn max_connections(&self) -> Option<u64> {
        let row = self
            .client
            .query_one("SHOW max_connections", &[])
            .await
            .ok()?;
        row.get::<_, String>(0).parse().ok()
    }

    async fn count(&self) -> Option<u64> {
        let row = self
            .client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                &[&self.database],
            )
            .await
            .ok()?;
        u64::try_from(row.get::<_, i64>(0)).ok()
    }
}
