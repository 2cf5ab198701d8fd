//! The serverless runtime end to end: the gateway on 127.0.0.1:0 inside each test's runtime,
//! instances as real `coldfront __instance` processes, real PostgreSQL where a test needs it.
//! Tests whose routes never touch the database point it at a closed port: per-request access
//! connects only when a handler asks for a connection.
//!
//! `measure_cold_start_breakdown` is ignored: it prints the cold-start breakdown and the
//! gateway's warm-path overhead (`cargo test -p coldfront --test e2e measure_cold_start
//! -- --ignored --nocapture`).

use super::http_client::*;
use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use coldfront::orchestrate::postgres::PgCluster;
use coldfront_targets::app::{self, AppConfig, RateLimiter, Services};
use coldfront_targets::db::{self, DbAccess};
use coldfront_targets::serverless::{self, DbConnect, ServerlessConfig};
use http::{header, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const TOKEN: &str = "coldfront-dev-token";

// --- cold starts, reuse, reaping -------------------------------------------------------------

#[test]
fn without_keep_warm_every_request_is_a_cold_start_in_a_new_process() {
    runtime().block_on(async {
        let gateway = Gateway::start(config(&no_database())).await;
        let mut ids = HashSet::new();
        let mut pids = Vec::new();
        for _ in 0..5 {
            let reply = get(gateway.addr, "/api/health").await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
            assert_eq!(reply.json(), json!({"status": "ok"}));
            assert!(reply.cold(), "{:?}", reply.headers);
            let init = reply.millis("x-coldfront-init-ms");
            let spawn = reply.millis("x-coldfront-spawn-ms");
            assert!(
                spawn > 0.0 && init >= spawn,
                "init {init} ms, spawn {spawn} ms"
            );
            assert_eq!(reply.millis("x-coldfront-runtime-init-ms").round(), 0.0);
            assert!(!reply.headers.contains_key("x-coldfront-db-connect-ms"));
            ids.insert(reply.instance());
            pids.push(reply.pid());
        }
        assert_eq!(ids.len(), 5, "a new instance every time: {ids:?}");
        wait_gone(&pids, Duration::from_secs(3)).await;
        let metrics = gateway.wait_alive(0).await;
        assert_eq!(metrics["cold_starts"], 5, "{metrics}");
        assert_eq!(metrics["requests"], 5, "{metrics}");
        assert_eq!(metrics["instances"]["idle"], 0, "{metrics}");
        gateway.stop().await;
    });
}

#[test]
fn warm_instances_are_reused_then_reaped_after_keep_warm() {
    runtime().block_on(async {
        let keep_warm = Duration::from_millis(500);
        let gateway = Gateway::start(ServerlessConfig {
            keep_warm,
            ..config(&no_database())
        })
        .await;
        let first = get(gateway.addr, "/api/health").await;
        let second = get(gateway.addr, "/api/health").await;
        let idle_from = Instant::now();
        assert!(first.cold());
        assert!(!second.cold(), "{:?}", second.headers);
        assert_eq!(second.instance(), first.instance());
        assert!(!second.headers.contains_key("x-coldfront-init-ms"));
        let metrics = gateway.metrics().await;
        assert_eq!(metrics["instances"]["alive"], 1, "{metrics}");
        assert_eq!(metrics["instances"]["idle"], 1, "{metrics}");

        let metrics = gateway.wait_alive(0).await;
        let reaped_after = idle_from.elapsed();
        assert!(reaped_after >= keep_warm, "reaped after {reaped_after:?}");
        assert_eq!(metrics["instances"]["idle"], 0, "{metrics}");
        wait_gone(&[first.pid()], Duration::from_secs(1)).await;
        let third = get(gateway.addr, "/api/health").await;
        assert!(third.cold());
        assert_ne!(third.instance(), first.instance());
        gateway.stop().await;
    });
}

#[test]
fn concurrent_requests_need_their_own_instances_and_the_latest_idle_is_reused() {
    runtime().block_on(async {
        let gateway = Gateway::start(ServerlessConfig {
            keep_warm: Duration::from_secs(30),
            ..config(&no_database())
        })
        .await;
        let replies = concurrently(
            gateway.addr,
            &[
                "POST /api/report?work_ms=100",
                "POST /api/report?work_ms=500",
            ],
        )
        .await;
        let (short, long) = (&replies[0], &replies[1]);
        for reply in &replies {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
            assert!(reply.cold());
        }
        assert_ne!(short.instance(), long.instance());
        // The long request's instance went idle last: it is on top.
        let next = get(gateway.addr, "/api/health").await;
        assert_eq!(next.instance(), long.instance());
        assert!(!next.cold());
        let metrics = gateway.metrics().await;
        assert_eq!(metrics["instances"]["alive"], 2, "{metrics}");
        assert_eq!(metrics["instances"]["idle"], 2, "{metrics}");
        assert_eq!(metrics["cold_starts"], 2, "{metrics}");
        gateway.stop().await;
        assert_gone(&[short.pid(), long.pid()]);
    });
}

// --- limits ----------------------------------------------------------------------------------

#[test]
fn past_max_instances_requests_queue_then_get_429() {
    runtime().block_on(async {
        let gateway = Gateway::start(ServerlessConfig {
            max_instances: 1,
            queue_timeout: Duration::from_millis(100),
            ..config(&no_database())
        })
        .await;
        let slow = "POST /api/report?work_ms=600";
        let replies = concurrently(gateway.addr, &[slow, slow, slow]).await;
        let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
        assert_eq!(
            count(&statuses, StatusCode::OK),
            1,
            "one instance, so one request runs: {statuses:?}"
        );
        for throttled in replies.iter().filter(|r| r.status.as_u16() == 429) {
            assert_eq!(throttled.json(), json!({"error": "TOO_MANY_REQUESTS"}));
            assert_eq!(throttled.headers["x-coldfront-error"], "throttled");
            assert!(
                throttled.took >= Duration::from_millis(100),
                "429 after {:?}, before the queue timeout",
                throttled.took
            );
        }
        let metrics = gateway.metrics().await;
        assert_eq!(metrics["throttles"], 2, "{metrics}");
        assert_eq!(metrics["queued"], 0, "{metrics}");
        gateway.stop().await;
    });
}

#[test]
fn a_queued_request_gets_the_instance_that_frees_up() {
    runtime().block_on(async {
        let gateway = Gateway::start(ServerlessConfig {
            max_instances: 1,
            queue_timeout: Duration::from_secs(10),
            keep_warm: Duration::from_secs(30),
            ..config(&no_database())
        })
        .await;
        let work = "POST /api/report?work_ms=200";
        let replies = concurrently(gateway.addr, &[work, work]).await;
        assert!(replies.iter().all(|r| r.status == StatusCode::OK));
        assert_eq!(replies[0].instance(), replies[1].instance());
        let cold: Vec<bool> = replies.iter().map(Reply::cold).collect();
        assert_eq!(
            count(&cold, true),
            1,
            "one cold start, then reuse: {cold:?}"
        );
        let metrics = gateway.metrics().await;
        assert_eq!(metrics["cold_starts"], 1, "{metrics}");
        assert_eq!(metrics["throttles"], 0, "{metrics}");
        gateway.stop().await;
    });
}

#[test]
fn past_max_duration_the_instance_is_killed_and_the_client_gets_504() {
    runtime().block_on(async {
        let gateway = Gateway::start(ServerlessConfig {
            max_duration: Duration::from_millis(300),
            keep_warm: Duration::from_secs(30),
            ..config(&no_database())
        })
        .await;
        let reply = send(gateway.addr, "POST", "/api/report?work_ms=3000", &[]).await;
        assert_eq!(
            reply.status,
            StatusCode::GATEWAY_TIMEOUT,
            "{}",
            reply.text()
        );
        assert_eq!(
            reply.json(),
            json!({"error": "FUNCTION_INVOCATION_TIMEOUT"})
        );
        assert_eq!(reply.headers["x-coldfront-error"], "function_timeout");
        assert!(
            (Duration::from_millis(300)..Duration::from_secs(2)).contains(&reply.took),
            "504 after {:?}",
            reply.took
        );
        wait_gone(&[reply.pid()], Duration::from_secs(2)).await;
        let metrics = gateway.wait_alive(0).await;
        assert_eq!(metrics["kills"], 1, "{metrics}");
        let next = get(gateway.addr, "/api/health").await;
        assert_eq!(next.status, StatusCode::OK);
        assert!(next.cold(), "the killed instance is not reused");
        gateway.stop().await;
    });
}

#[test]
fn sse_streams_end_normally_within_max_duration_and_are_cut_past_it() {
    runtime().block_on(async {
        let max_duration = Duration::from_millis(500);
        let gateway = Gateway::start(ServerlessConfig {
            max_duration,
            keep_warm: Duration::from_secs(30),
            ..config(&no_database())
        })
        .await;
        let short = get(gateway.addr, "/api/events?count=3&interval_ms=10").await;
        assert_eq!(short.status, StatusCode::OK);
        assert_eq!(short.headers[header::CONTENT_TYPE], "text/event-stream");
        assert_eq!(short.text().matches("data: ").count(), 3);
        gateway.wait_idle(1).await;

        let started = Instant::now();
        let response = open(
            gateway.addr,
            "GET",
            "/api/events?count=50&interval_ms=100",
            &[],
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["x-coldfront-instance"],
            short.headers["x-coldfront-instance"],
            "the stream runs on the warm instance"
        );
        let (text, error) = read_until_end(response).await;
        let cut_after = started.elapsed();
        let events = text.matches("data: ").count();
        assert!(error.is_some(), "a cut stream must not look complete");
        assert!((2..=10).contains(&events), "{events} events before the cut");
        assert!(
            (max_duration..Duration::from_secs(3)).contains(&cut_after),
            "cut after {cut_after:?}"
        );
        wait_gone(&[short.pid()], Duration::from_secs(2)).await;
        let metrics = gateway.wait_alive(0).await;
        assert_eq!(metrics["kills"], 1, "{metrics}");
        gateway.stop().await;
    });
}

// --- what a serverless instance cannot do, and its own memory --------------------------------

#[test]
fn websocket_upgrades_are_refused_by_the_gateway_and_app_errors_pass_through() {
    runtime().block_on(async {
        let gateway = Gateway::start(config(&no_database())).await;
        let upgrade = [
            ("connection", "upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        let refused = send(gateway.addr, "GET", "/api/chat", &upgrade).await;
        assert_eq!(refused.status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(refused.json(), json!({"error": "WEBSOCKETS_UNSUPPORTED"}));
        assert_eq!(
            refused.headers["x-coldfront-error"],
            "websockets_unsupported"
        );
        assert!(!refused.headers.contains_key("x-coldfront-instance"));
        assert_eq!(gateway.metrics().await["cold_starts"], 0);

        let plain = get(gateway.addr, "/api/chat").await;
        assert_eq!(
            plain.status,
            StatusCode::NOT_IMPLEMENTED,
            "the app says so too"
        );
        assert!(plain.cold());
        let post = r#"{"title":"t","category":"rust","body":"b"}"#;
        let anonymous = send_body(gateway.addr, "POST", "/api/blogs", &[], post).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert_eq!(anonymous.json(), json!({"error": "unauthorized"}));
        assert!(anonymous.headers.contains_key("x-coldfront-instance"));
        assert_eq!(
            get(gateway.addr, "/nope").await.status,
            StatusCode::NOT_FOUND
        );
        gateway.stop().await;
    });
}

#[test]
fn an_instance_that_dies_during_init_gives_503_not_a_hang() {
    runtime().block_on(async {
        let gateway = Gateway::start(ServerlessConfig {
            instance_command: vec!["/bin/sh".into(), "-c".into(), "exit 3".into()],
            ..config(&no_database())
        })
        .await;
        let reply = get(gateway.addr, "/api/health").await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.headers["x-coldfront-error"], "instance_crashed");
        let body = reply.json();
        assert_eq!(body["error"], "INSTANCE_CRASHED");
        assert!(
            body["message"].as_str().unwrap().contains("exit status: 3"),
            "{body}"
        );
        assert!(reply.took < Duration::from_secs(2), "took {:?}", reply.took);
        let metrics = gateway.wait_alive(0).await;
        assert_eq!(metrics["init_failures"], 1, "{metrics}");
        gateway.stop().await;
    });
}

#[test]
fn in_memory_rate_limits_are_per_instance() {
    runtime().block_on(async {
        let limit = 2;
        let app = AppConfig {
            rate_limit: limit,
            rate_window: Duration::from_secs(60),
            ..AppConfig::default()
        };
        // Every cold instance starts with empty counters.
        let cgi = Gateway::start(ServerlessConfig {
            app: app.clone(),
            ..config(&no_database())
        })
        .await;
        for _ in 0..5 {
            assert_eq!(get(cgi.addr, "/api/limited").await.status, StatusCode::OK);
        }
        cgi.stop().await;

        let gateway = Gateway::start(ServerlessConfig {
            app,
            keep_warm: Duration::from_secs(30),
            max_instances: 3,
            ..config(&no_database())
        })
        .await;
        let warm_up = "POST /api/report?work_ms=300";
        concurrently(gateway.addr, &[warm_up, warm_up, warm_up]).await;
        let replies = concurrently(gateway.addr, &["GET /api/limited"; 30]).await;
        let mut per_instance: BTreeMap<u64, (u32, u32)> = BTreeMap::new();
        for reply in &replies {
            assert!(
                !reply.headers.contains_key("x-coldfront-error"),
                "not throttled"
            );
            let (served, allowed) = per_instance.entry(reply.instance()).or_default();
            *served += 1;
            *allowed += u32::from(reply.status == StatusCode::OK);
        }
        for (instance, (served, allowed)) in &per_instance {
            assert_eq!(*allowed, (*served).min(limit), "instance {instance}");
        }
        let allowed: u32 = per_instance.values().map(|(_, allowed)| allowed).sum();
        assert!(
            per_instance.len() >= 2 && (limit + 1..=limit * 3).contains(&allowed),
            "{allowed} allowed over {per_instance:?}"
        );
        gateway.stop().await;
    });
}

#[test]
fn stopping_the_gateway_stops_every_instance() {
    runtime().block_on(async {
        let gateway = Gateway::start(ServerlessConfig {
            keep_warm: Duration::from_secs(60),
            ..config(&no_database())
        })
        .await;
        let work = "POST /api/report?work_ms=200";
        let replies = concurrently(gateway.addr, &[work, work]).await;
        let pids: Vec<u32> = replies.iter().map(Reply::pid).collect();
        assert_eq!(gateway.metrics().await["instances"]["idle"], 2);
        gateway.stop().await;
        assert_gone(&pids);
    });
}

// --- the database ----------------------------------------------------------------------------

#[test]
fn per_request_connects_for_every_request_and_per_instance_once_per_instance() {
    let cluster = start_cluster(100);
    runtime().block_on(async {
        cluster.bootstrap().await.unwrap();
        db::setup(&cluster.admin_url()).await.unwrap();
        let admin = db::connect(&cluster.admin_url()).await.unwrap();
        let warm_up = ["POST /api/report?work_ms=300"; 3];
        let burst = ["GET /api/blogs?category=rust"; 30];

        let per_request = Gateway::start(ServerlessConfig {
            db_connect: DbConnect::PerRequest,
            keep_warm: Duration::from_secs(30),
            max_instances: 3,
            ..config(&cluster.app_url())
        })
        .await;
        concurrently(per_request.addr, &warm_up).await;
        assert_eq!(app_connections(&admin).await, 0, "idle instances hold none");
        let sampler = db::connect(&cluster.admin_url()).await.unwrap();
        let before = sessions(&admin).await;
        let (replies, sampled) = burst_sampled(sampler, per_request.addr, &burst).await;
        check_blogs(&replies);
        wait_app_connections(&admin, 0).await;
        assert_eq!(
            sessions(&admin).await - before,
            30,
            "one connection per request"
        );
        // A backend whose client has just closed stays listed until it exits, so a sample can
        // catch one ending connection beside the three in use.
        assert!(sampled.most <= 4, "{sampled:?} with 3 instances");
        per_request.stop().await;

        let per_instance = Gateway::start(ServerlessConfig {
            db_connect: DbConnect::PerInstance,
            keep_warm: Duration::from_secs(30),
            max_instances: 3,
            ..config(&cluster.app_url())
        })
        .await;
        let cold = concurrently(per_instance.addr, &warm_up).await;
        for reply in &cold {
            assert!(reply.millis("x-coldfront-db-connect-ms") > 0.0);
        }
        assert_eq!(app_connections(&admin).await, 3, "one per instance");
        let sampler = db::connect(&cluster.admin_url()).await.unwrap();
        let before = sessions(&admin).await;
        let (replies, sampled) = burst_sampled(sampler, per_instance.addr, &burst).await;
        check_blogs(&replies);
        assert_eq!(sessions(&admin).await - before, 0, "no new connection");
        let bearer = format!("Bearer {TOKEN}");
        let post = r#"{"title":"Cold","category":"serverless","body":"Measured."}"#;
        let created = send_body(
            per_instance.addr,
            "POST",
            "/api/blogs",
            &[("authorization", &bearer)],
            post,
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        assert_eq!((sampled.least, sampled.most), (3, 3), "{sampled:?}");
        per_instance.stop().await;
        wait_app_connections(&admin, 0).await;
    });
}

#[test]
fn refused_database_connections_fail_cold_starts_with_a_classified_503() {
    // 10 slots, 3 kept for superusers: 7 for the application role.
    let cluster = start_cluster(10);
    runtime().block_on(async {
        cluster.bootstrap().await.unwrap();
        db::setup(&cluster.admin_url()).await.unwrap();
        wait_until_no_client_backends(&cluster).await;
        let gateway = Gateway::start(ServerlessConfig {
            db_connect: DbConnect::PerInstance,
            keep_warm: Duration::from_secs(30),
            max_instances: 20,
            ..config(&cluster.app_url())
        })
        .await;
        let replies = concurrently(gateway.addr, &["POST /api/report?work_ms=500"; 12]).await;
        let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
        assert_eq!(count(&statuses, StatusCode::OK), 7, "{statuses:?}");
        assert_eq!(count(&statuses, StatusCode::SERVICE_UNAVAILABLE), 5);
        for refused in replies.iter().filter(|r| r.status.as_u16() == 503) {
            assert_eq!(refused.headers["x-coldfront-error"], "too_many_connections");
            let body = refused.json();
            assert_eq!(body["kind"], "too_many_connections", "{body}");
            assert_eq!(body["sqlstate"], "53300", "{body}");
            assert!(refused.took < Duration::from_secs(5), "{:?}", refused.took);
        }
        let metrics = gateway.wait_alive(7).await;
        assert_eq!(metrics["init_failures"], 5, "{metrics}");
        let blogs = get(gateway.addr, "/api/blogs?category=go").await;
        assert_eq!(blogs.status, StatusCode::OK, "{}", blogs.text());
        assert!(
            !blogs.cold(),
            "served by an instance that holds a connection"
        );
        gateway.stop().await;
    });
}

// --- the gateway as a process ----------------------------------------------------------------

/// `coldfront serve serverless` as a real process, killed with SIGKILL while one instance is
/// busy and another idle: the kernel must take both down with it.
#[test]
fn sigkill_of_the_gateway_process_leaves_no_instance() {
    let cluster = start_cluster(100);
    let runtime = runtime();
    runtime.block_on(cluster.bootstrap()).unwrap();
    let gateway = ServeProcess::start(&[
        "serverless".as_ref(),
        "--port".as_ref(),
        "0".as_ref(),
        "--database-url".as_ref(),
        cluster.app_url().as_ref(),
        "--keep-warm".as_ref(),
        "60s".as_ref(),
        "--db-connect".as_ref(),
        "per-instance".as_ref(),
    ]);
    runtime.block_on(async {
        let work = "POST /api/report?work_ms=200";
        let idle = concurrently(gateway.addr, &[work, work]).await;
        let addr = gateway.addr;
        let busy =
            tokio::spawn(async move { send(addr, "POST", "/api/report?work_ms=20000", &[]).await });
        let metrics = wait_metrics_at(addr, |m| m["instances"]["busy"] == 1).await;
        assert_eq!(metrics["instances"]["alive"], 2, "{metrics}");
        let pids = instance_children(gateway.pid());
        let mut expected: Vec<u32> = idle.iter().map(Reply::pid).collect();
        expected.sort_unstable();
        assert_eq!(sorted(pids), expected);

        gateway.kill();
        wait_gone(&expected, Duration::from_secs(3)).await;
        busy.abort();
    });
}

// --- measurements ----------------------------------------------------------------------------

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

// --- fixtures --------------------------------------------------------------------------------

fn instance_command() -> Vec<OsString> {
    vec![
        assert_cmd::cargo::cargo_bin("coldfront").into_os_string(),
        "__instance".into(),
    ]
}

/// A database URL on which nothing listens.
fn no_database() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    format!("postgres://app@127.0.0.1:{port}/coldfront")
}

/// Keep-warm 0, no modelled init, 8 instances, generous duration and queue, per-request.
fn config(database_url: &str) -> ServerlessConfig {
    ServerlessConfig {
        database_url: database_url.to_string(),
        keep_warm: Duration::ZERO,
        init: Duration::ZERO,
        max_instances: 8,
        max_duration: Duration::from_secs(30),
        queue_timeout: Duration::from_secs(10),
        db_connect: DbConnect::PerRequest,
        app: AppConfig::default(),
        instance_command: instance_command(),
    }
}

/// A gateway serving in the test's runtime.
struct Gateway {
    served: ServedInTask,
    addr: SocketAddr,
}

impl Gateway {
    async fn start(config: ServerlessConfig) -> Gateway {
        let served =
            ServedInTask::start(|listener, shutdown| serverless::serve(config, listener, shutdown))
                .await;
        let addr = served.addr;
        Gateway { served, addr }
    }

    async fn stop(self) {
        self.served.stop(Duration::from_secs(15)).await;
    }

    async fn metrics(&self) -> Value {
        let reply = get(self.addr, serverless::METRICS_PATH).await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.json()
    }

    /// Polls the metrics until `instances.alive` is `alive` (5 s at most).
    async fn wait_alive(&self, alive: u64) -> Value {
        self.wait_metrics(|m| m["instances"]["alive"] == alive)
            .await
    }

    async fn wait_idle(&self, idle: u64) -> Value {
        self.wait_metrics(|m| m["instances"]["idle"] == idle).await
    }

    async fn wait_metrics(&self, done: impl Fn(&Value) -> bool) -> Value {
        wait_metrics_at(self.addr, done).await
    }
}

/// Polls the gateway's metrics at `addr` until `done` (5 s at most).
async fn wait_metrics_at(addr: SocketAddr, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = get(addr, serverless::METRICS_PATH).await;
        assert_eq!(reply.status, StatusCode::OK);
        let metrics = reply.json();
        if done(&metrics) {
            return metrics;
        }
        assert!(
            Instant::now() < deadline,
            "metrics never got there: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// --- instance processes ----------------------------------------------------------------------

/// Whether `pid` is a live (not zombie) `__instance` process.
fn instance_running(pid: u32) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let is_instance = cmdline.split(|b| *b == 0).any(|arg| arg == b"__instance");
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next());
    is_instance && !matches!(state, None | Some('Z') | Some('X'))
}

fn assert_gone(pids: &[u32]) {
    let running: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|p| instance_running(*p))
        .collect();
    assert!(running.is_empty(), "instances still running: {running:?}");
}

async fn wait_gone(pids: &[u32], within: Duration) {
    let deadline = Instant::now() + within;
    while pids.iter().any(|pid| instance_running(*pid)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_gone(pids);
}

fn instance_children(parent: u32) -> Vec<u32> {
    let entries = std::fs::read_dir("/proc").unwrap();
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat
                .rsplit_once(") ")
                .and_then(|(_, rest)| rest.split(' ').nth(1)?.parse::<u32>().ok());
            ppid == Some(parent) && instance_running(*pid)
        })
        .collect()
}

fn sorted(mut pids: Vec<u32>) -> Vec<u32> {
    pids.sort_unstable();
    pids
}

/// A `coldfront serve …` process, SIGKILLed when dropped (a failing test leaves nothing).
struct ServeProcess {
    child: std::process::Child,
    addr: SocketAddr,
}

impl ServeProcess {
    /// Starts `coldfront serve ARGS` and reads `listening on http://ADDR` (60 s at most).
    fn start(args: &[&std::ffi::OsStr]) -> ServeProcess {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("coldfront"))
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (found, address) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = found.send(addr.parse::<SocketAddr>());
                }
            }
        });
        let mut process = ServeProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        process.addr = address
            .recv_timeout(Duration::from_secs(60))
            .expect("`coldfront serve` printed its address")
            .unwrap();
        process
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and reap it.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- the database ----------------------------------------------------------------------------

async fn wait_app_connections(admin: &tokio_postgres::Client, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while app_connections(admin).await != n {
        assert!(
            Instant::now() < deadline,
            "app connections never reached {n}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sessions ever established to the application's database.
async fn sessions(admin: &tokio_postgres::Client) -> i64 {
    admin
        .query_one(
            "SELECT sessions FROM pg_stat_database WHERE datname = 'coldfront'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// Waits until the only client backend is the one asking, then closes it: every slot free.
async fn wait_until_no_client_backends(cluster: &PgCluster) {
    let admin = db::connect(&cluster.admin_url()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let others: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if others == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{others} client backends linger");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(admin);
    // Its own backend exits asynchronously.
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[derive(Debug, Default)]
struct Sampled {
    least: i64,
    most: i64,
}

/// Sends `requests` three at a time while `sampler_client` (a superuser connection) counts the
/// application's backends every 2 ms.
async fn burst_sampled(
    sampler_client: tokio_postgres::Client,
    addr: SocketAddr,
    requests: &[&str],
) -> (Vec<Reply>, Sampled) {
    let (stop, mut stopped) = oneshot::channel::<()>();
    let sampler = tokio::spawn(async move {
        let mut sampled = Sampled {
            least: i64::MAX,
            most: 0,
        };
        loop {
            let count = app_connections(&sampler_client).await;
            sampled.least = sampled.least.min(count);
            sampled.most = sampled.most.max(count);
            tokio::select! {
                _ = &mut stopped => return sampled,
                () = tokio::time::sleep(Duration::from_millis(2)) => {}
            }
        }
    });
    let mut replies = Vec::new();
    for batch in requests.chunks(3) {
        replies.extend(concurrently(addr, batch).await);
    }
    let _ = stop.send(());
    (replies, sampler.await.unwrap())
}

fn check_blogs(replies: &[Reply]) {
    for reply in replies {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(reply.json().as_array().unwrap().len(), 10);
    }
}

/// `"METHOD /path"` requests at once, each on its own connection; replies in the same order.
async fn concurrently(addr: SocketAddr, requests: &[&str]) -> Vec<Reply> {
    let tasks: Vec<JoinHandle<Reply>> = requests
        .iter()
        .map(|line| {
            let (method, path) = line.split_once(' ').unwrap();
            let (method, path) = (method.to_string(), path.to_string());
            tokio::spawn(async move { send(addr, &method, &path, &[]).await })
        })
        .collect();
    let mut replies = Vec::with_capacity(tasks.len());
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

/// The body as text up to its end or its first error.
async fn read_until_end(
    response: http::Response<hyper::body::Incoming>,
) -> (String, Option<hyper::Error>) {
    let mut body = response.into_body();
    let mut text = String::new();
    loop {
        match within_20s(body.frame()).await {
            None => return (text, None),
            Some(Err(error)) => return (text, Some(error)),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    text.push_str(&String::from_utf8_lossy(&data));
                }
            }
        }
    }
}

/// One keep-alive connection for sequential requests (measurements).
struct KeepAlive {
    addr: SocketAddr,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl KeepAlive {
    async fn open(addr: SocketAddr) -> KeepAlive {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        KeepAlive { addr, sender }
    }

    async fn get(&mut self, path: &str) -> Reply {
        self.sender.ready().await.unwrap();
        let started = Instant::now();
        let request = request(self.addr, "GET", path, &[], "");
        let response = within_20s(self.sender.send_request(request)).await.unwrap();
        collect(response, started).await
    }
}

fn count<T: PartialEq>(values: &[T], wanted: T) -> usize {
    values.iter().filter(|value| **value == wanted).count()
}
