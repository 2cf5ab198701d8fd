//! The ignored measurement `measure_cold_start_breakdown` and what it needs: the app served
//! directly (the warm-path baseline) and one keep-alive connection for sequential requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use coldfront::orchestrate::postgres::PgCluster;
use coldfront_targets::app::{self, AppConfig, RateLimiter, Services};
use coldfront_targets::db::{self, DbAccess};
use coldfront_targets::serverless::{DbConnect, ServerlessConfig};
use http::StatusCode;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::*;

#[test]
#[ignore = "a measurement: prints the cold-start breakdown and the warm-path overhead"]
fn measure_cold_start_breakdown() {
    let cluster = start_cluster(100);
    runtime().block_on(async {
        cluster.bootstrap().await.unwrap();
        db::setup(&cluster.admin_url()).await.unwrap();
        println!("\ncold starts, keep_warm 0, init 0, 200 sequential GET /api/health (ms)");
        println!(
            "{:<13} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "db_connect", "spawn", "db", "init", "first", "total"
        );
        for db_connect in [DbConnect::PerInstance, DbConnect::PerRequest] {
            let row = measure_cold_starts(&cluster, db_connect, 200).await;
            println!("{row}");
        }
        println!("\nwarm path, 2000 sequential GET /api/health on one keep-alive connection (ms)");
        println!("{:<24} {:>8} {:>8}", "served", "p50", "p99");
        let (direct, through) = measure_warm_path(&cluster, 2000).await;
        println!("{:<24} {:>8.3} {:>8.3}", "directly", direct.0, direct.1);
        println!(
            "{:<24} {:>8.3} {:>8.3}",
            "through the gateway", through.0, through.1
        );
        println!("gateway overhead p50: {:.3} ms", through.0 - direct.0);
    });
}

/// One table row of medians: spawn, db connect, init (spawn to ready), first response (the
/// rest of the client's time), total.
async fn measure_cold_starts(cluster: &PgCluster, db_connect: DbConnect, n: usize) -> String {
    let gateway = Gateway::start(ServerlessConfig {
        db_connect,
        ..config(&cluster.app_url())
    })
    .await;
    let mut client = KeepAlive::open(gateway.addr).await;
    let mut columns: [Vec<f64>; 5] = Default::default();
    for _ in 0..n {
        let reply = client.get("/api/health").await;
        assert!(reply.cold());
        let total = reply.took.as_secs_f64() * 1000.0;
        let init = reply.millis("x-coldfront-init-ms");
        let db = reply
            .headers
            .get("x-coldfront-db-connect-ms")
            .map_or(0.0, |_| reply.millis("x-coldfront-db-connect-ms"));
        let values = [
            reply.millis("x-coldfront-spawn-ms"),
            db,
            init,
            total - init,
            total,
        ];
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(value);
        }
    }
    gateway.stop().await;
    let name = format!("{db_connect:?}");
    let medians: Vec<String> = columns
        .iter_mut()
        .map(|column| format!("{:>8.3}", percentile(column, 0.5)))
        .collect();
    format!("{name:<13} {}", medians.join(" "))
}

/// p50 and p99 of `/api/health` served by the app directly and through the gateway (a warm
/// instance), each on one keep-alive connection.
async fn measure_warm_path(cluster: &PgCluster, n: usize) -> ((f64, f64), (f64, f64)) {
    let direct = DirectServer::start(&cluster.app_url()).await;
    let direct_times = time_health(direct.addr, n).await;
    let gateway = Gateway::start(ServerlessConfig {
        keep_warm: Duration::from_secs(600),
        ..config(&cluster.app_url())
    })
    .await;
    let through_times = time_health(gateway.addr, n).await;
    gateway.stop().await;
    (direct_times, through_times)
}

async fn time_health(addr: SocketAddr, n: usize) -> (f64, f64) {
    let mut client = KeepAlive::open(addr).await;
    for _ in 0..50 {
        client.get("/api/health").await;
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let reply = client.get("/api/health").await;
        assert_eq!(reply.status, StatusCode::OK);
        times.push(reply.took.as_secs_f64() * 1000.0);
    }
    (percentile(&mut times, 0.5), percentile(&mut times, 0.99))
}

fn percentile(values: &mut [f64], quantile: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let index = ((values.len() - 1) as f64 * quantile).round() as usize;
    values[index]
}

/// The application's handler on its own hyper server, no gateway: the warm-path baseline.
struct DirectServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl DirectServer {
    async fn start(database_url: &str) -> DirectServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = AppConfig::default();
        let services = Services {
            db: Arc::new(DbAccess::per_request(database_url).unwrap()),
            limiter: Arc::new(RateLimiter::new(config.rate_limit, config.rate_window)),
            jobs: None,
            websockets: false,
        };
        let hosted = Arc::new((config, services));
        let task = tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let _ = stream.set_nodelay(true);
                let hosted = Arc::clone(&hosted);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let hosted = Arc::clone(&hosted);
                        async move {
                            let response = app::handle(&hosted.0, &hosted.1, request).await;
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        DirectServer { addr, task }
    }
}

impl Drop for DirectServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One keep-alive connection for sequential requests (measurements).
pub(super) struct KeepAlive {
    addr: SocketAddr,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl KeepAlive {
    pub(super) async fn open(addr: SocketAddr) -> KeepAlive {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        KeepAlive { addr, sender }
    }

    pub(super) async fn get(&mut self, path: &str) -> Reply {
        self.sender.ready().await.unwrap();
        let started = Instant::now();
        let request = request(self.addr, "GET", path, &[], "");
        let response = within_20s(self.sender.send_request(request)).await.unwrap();
        collect(response, started).await
    }
}
