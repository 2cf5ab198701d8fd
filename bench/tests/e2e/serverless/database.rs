//! Instances and PostgreSQL: connections per request or per instance, and refused connections
//! failing cold starts with a classified 503.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use coldfront::orchestrate::postgres::PgCluster;
use coldfront_targets::db;
use coldfront_targets::serverless::{DbConnect, ServerlessConfig};
use http::StatusCode;
use tokio::sync::oneshot;

use super::*;

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
