//! `persistent_serves_every_route`: every route of the application on one server, checked in
//! turn (seed data, blogs, reports, async jobs, SSE, WebSocket chat, the rate limiter, metrics),
//! then a graceful shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use coldfront_targets::app::AppConfig;
use coldfront_targets::db;
use coldfront_targets::persistent::PersistentConfig;
use futures_util::{SinkExt, StreamExt};
use http::{header, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::*;

const TOKEN: &str = "coldfront-dev-token";

#[test]
fn persistent_serves_every_route() {
    let cluster = start_cluster(100);
    runtime().block_on(async {
        cluster.bootstrap().await.unwrap();
        db::setup(&cluster.admin_url()).await.unwrap();
        db::setup(&cluster.admin_url())
            .await
            .expect("setup is idempotent");
        check_seed(&cluster.admin_url()).await;
        let app = AppConfig {
            rate_limit: 5,
            // Long enough that the whole burst falls in one window on a busy machine.
            rate_window: Duration::from_secs(60),
            ..AppConfig::default()
        };
        let target = start_target(PersistentConfig {
            app,
            ..PersistentConfig::new(cluster.app_url())
        })
        .await;
        let addr = target.addr;
        check_health_and_unknown_routes(addr).await;
        check_blogs(addr).await;
        check_report(addr).await;
        check_async_job(addr).await;
        check_events(addr).await;
        check_chat(addr).await;
        check_limiter(addr).await;
        check_metrics(addr).await;
        check_graceful_shutdown(target).await;
    });
}

// --- the checks of `persistent_serves_every_route` -------------------------------------------

async fn check_seed(admin_url: &str) {
    let admin = db::connect(admin_url).await.unwrap();
    let row = admin
        .query_one(
            "SELECT count(*), count(DISTINCT category), count(*) FILTER (WHERE category = 'rust') \
             FROM blogs",
            &[],
        )
        .await
        .unwrap();
    let counts: (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(counts, (db::SEED_ROWS, 10, db::SEED_ROWS / 10));
    let index = admin
        .query_one(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'blogs' AND indexdef LIKE '%category%'",
            &[],
        )
        .await
        .unwrap();
    assert!(index.get::<_, String>(0).contains("(category, created_at)"));
}

async fn check_health_and_unknown_routes(addr: SocketAddr) {
    let health = get(addr, "/api/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json(), serde_json::json!({"status": "ok"}));
    assert_eq!(health.headers["x-coldfront-cold"], "0");
    let missing = get(addr, "/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.json()["error"].is_string());
    let wrong_method = send_body(addr, "DELETE", "/api/health", &[], "").await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
}

async fn check_blogs(addr: SocketAddr) {
    let list = get(addr, "/api/blogs?category=rust").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    let blogs = list.json();
    let blogs = blogs.as_array().unwrap();
    assert_eq!(blogs.len(), 10);
    assert!(blogs.iter().all(|b| b["category"] == "rust"), "{blogs:?}");
    let times: Vec<&str> = blogs
        .iter()
        .map(|b| b["created_at"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] > w[1]),
        "newest first: {times:?}"
    );
    assert_eq!(
        get(addr, "/api/blogs").await.status,
        StatusCode::BAD_REQUEST,
        "category is required"
    );
    for bad in ["%00", "a%0Ab", ""] {
        let refused = get(addr, &format!("/api/blogs?category={bad}")).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            refused.text()
        );
        assert_eq!(
            refused.json()["error"],
            "query parameter category must be 1 to 64 printable characters"
        );
    }

    let post = r#"{"title":"Pools beat cold starts","category":"rust","body":"Measured."}"#;
    let anonymous = send_body(addr, "POST", "/api/blogs", &[], post).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.json(),
        serde_json::json!({"error": "unauthorized"})
    );
    let wrong = send_body(
        addr,
        "POST",
        "/api/blogs",
        &[("authorization", "Bearer nope")],
        post,
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let bearer = format!("Bearer {TOKEN}");
    let created = send_body(
        addr,
        "POST",
        "/api/blogs",
        &[("authorization", &bearer)],
        post,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let created = created.json();
    assert_eq!(created["title"], "Pools beat cold starts");
    let newest = get(addr, "/api/blogs?category=rust").await.json();
    assert_eq!(newest[0]["id"], created["id"], "the new post is the newest");
    let invalid = send_body(
        addr,
        "POST",
        "/api/blogs",
        &[("authorization", &bearer)],
        "{",
    )
    .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    let big = "x".repeat(coldfront_targets::app::MAX_BODY_BYTES + 1);
    let too_large = send_body(
        addr,
        "POST",
        "/api/blogs",
        &[("authorization", &bearer)],
        &big,
    )
    .await;
    assert_eq!(
        too_large.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        too_large.text()
    );
}

async fn check_report(addr: SocketAddr) {
    let started = Instant::now();
    let report = send_body(addr, "POST", "/api/report?work_ms=50", &[], "").await;
    let took = started.elapsed();
    assert_eq!(report.status, StatusCode::OK, "{}", report.text());
    assert!(took >= Duration::from_millis(50), "took {took:?}");
    let body = report.json();
    assert_eq!(body["work_ms"], 50);
    assert!(body["result"].as_u64().unwrap() > 0, "{body}");
    assert!(body["cpu_ms"].as_u64().unwrap() >= 50, "{body}");
    let bad = send_body(addr, "POST", "/api/report?work_ms=lots", &[], "").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn check_async_job(addr: SocketAddr) {
    let started = Instant::now();
    let accepted = send_body(addr, "POST", "/api/report?work_ms=200&async=1", &[], "").await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text());
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "202 before the work is done"
    );
    let id = accepted.json()["job"].as_str().unwrap().to_string();
    let mut seen = Vec::new();
    let job = loop {
        let job = get(addr, &format!("/api/jobs/{id}")).await;
        assert_eq!(job.status, StatusCode::OK);
        let job = job.json();
        let status = job["status"].as_str().unwrap().to_string();
        assert!(
            ["queued", "running", "done"].contains(&status.as_str()),
            "{job}"
        );
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "done" {
            break job;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "job stuck: {job}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(seen.contains(&"running".to_string()), "{seen:?}");
    assert_eq!(job["id"], id.as_str());
    assert_eq!(job["work_ms"], 200);
    assert!(job["report"]["cpu_ms"].as_u64().unwrap() >= 200, "{job}");
    assert_eq!(
        get(addr, "/api/jobs/999999").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn check_events(addr: SocketAddr) {
    let (count, interval) = (4, Duration::from_millis(150));
    let started = Instant::now();
    let response = open(addr, "GET", "/api/events?count=4&interval_ms=150", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut body = response.into_body();
    let mut arrivals = Vec::new();
    let mut text = String::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            arrivals.push(started.elapsed());
            text.push_str(std::str::from_utf8(&data).unwrap());
        }
    }
    assert_eq!(text.matches("data: ").count(), count, "{text}");
    assert!(text.contains("data: {\"seq\":4,\"count\":4}"), "{text}");
    assert!(arrivals[0] < interval, "first event at {:?}", arrivals[0]);
    let last = *arrivals.last().unwrap();
    assert!(
        last >= interval * (count as u32 - 1),
        "last event at {last:?}"
    );
}

async fn check_chat(addr: SocketAddr) {
    let url = format!("ws://{addr}/api/chat");
    let (mut alice, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    let (mut bob, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    alice.send(Message::text("hello from alice")).await.unwrap();
    assert_eq!(next_text(&mut alice).await, "hello from alice", "echo");
    assert_eq!(next_text(&mut bob).await, "hello from alice", "broadcast");
    bob.send(Message::text("hi alice")).await.unwrap();
    assert_eq!(next_text(&mut bob).await, "hi alice");
    assert_eq!(next_text(&mut alice).await, "hi alice");
    let metrics = get(addr, "/__coldfront/metrics").await.json();
    assert!(
        metrics["connections_open"].as_u64().unwrap() >= 3,
        "open WebSockets are counted: {metrics}"
    );
    alice.close(None).await.unwrap();
    bob.close(None).await.unwrap();
}

async fn check_limiter(addr: SocketAddr) {
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let reply = send_body(addr, "GET", "/api/limited", &[("x-client-key", "e2e")], "").await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(reply.json(), serde_json::json!({"error": "rate limited"}));
        }
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
    let other = send_body(
        addr,
        "GET",
        "/api/limited",
        &[("x-client-key", "other")],
        "",
    )
    .await;
    assert_eq!(other.status, StatusCode::OK, "keys are counted apart");
    assert_eq!(get(addr, "/api/limited").await.status, StatusCode::OK);
}

async fn check_metrics(addr: SocketAddr) {
    let metrics = get(addr, "/__coldfront/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    let metrics = metrics.json();
    assert_eq!(metrics["runtime"], "persistent");
    assert_eq!(metrics["pool"]["max"], 10);
    for field in ["size", "in_use", "available", "waiting"] {
        assert!(metrics["pool"][field].is_u64(), "pool.{field}: {metrics}");
    }
    assert!(
        metrics["connections_open"].as_u64().unwrap() >= 1,
        "{metrics}"
    );
    assert!(metrics["requests"].as_u64().unwrap() >= 30, "{metrics}");
    assert!(metrics["jobs"]["done"].as_u64().unwrap() >= 1, "{metrics}");
    assert!(metrics["jobs"]["queued"].is_u64() && metrics["jobs"]["running"].is_u64());
}

/// Shutdown lets the in-flight request finish, closes idle keep-alive connections at once and
/// stops accepting.
async fn check_graceful_shutdown(target: Target) {
    let addr = target.addr;
    let idle = KeptAlive::open(addr).await;
    let in_flight =
        tokio::spawn(
            async move { send_body(addr, "POST", "/api/report?work_ms=300", &[], "").await },
        );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    target.stop(STOP_WITHIN).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "drained in {:?}",
        started.elapsed()
    );
    assert_eq!(in_flight.await.unwrap().status, StatusCode::OK);
    assert!(idle.closed().await, "idle keep-alive connection left open");
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}

/// A keep-alive connection that served one request and now sits idle.
struct KeptAlive {
    closed: JoinHandle<()>,
    /// Held so the client side does not close the connection itself.
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl KeptAlive {
    async fn open(addr: SocketAddr) -> KeptAlive {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        let closed = tokio::spawn(async move {
            let _ = connection.await;
        });
        let request = Request::get("/api/health")
            .header(header::HOST, addr.to_string())
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.into_body().collect().await.unwrap();
        KeptAlive { closed, sender }
    }

    /// Whether the server closed the connection within a second.
    async fn closed(self) -> bool {
        let KeptAlive { closed, sender } = self;
        let closed = tokio::time::timeout(Duration::from_secs(1), closed)
            .await
            .is_ok();
        drop(sender);
        closed
    }
}

async fn next_text<S>(socket: &mut tokio_tungstenite::WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a message within 5 s")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = message {
            return text.to_string();
        }
    }
}
