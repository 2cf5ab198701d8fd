//! The server and PostgreSQL: the pool bounds the connections, and refused connections and pool
//! timeouts are 503s, not hangs.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use coldfront_targets::db;
use coldfront_targets::persistent::PersistentConfig;
use http::StatusCode;
use tokio::sync::oneshot;

use super::*;

#[test]
fn pool_bounds_database_connections() {
    let cluster = start_cluster(100);
    runtime().block_on(async {
        cluster.bootstrap().await.unwrap();
        // As the owner this time (what `coldfront serve` does): no grants needed.
        db::setup(&cluster.app_url()).await.unwrap();
        let target = start_target(PersistentConfig {
            pool: 3,
            ..PersistentConfig::new(cluster.app_url())
        })
        .await;
        let admin = db::connect(&cluster.admin_url()).await.unwrap();
        let (stop_sampling, stop) = oneshot::channel();
        let sampler = tokio::spawn(sample_app_connections(admin, stop));
        let statuses = burst(target.addr, 10, 20).await;
        let _ = stop_sampling.send(());
        let Sampled { samples, most } = sampler.await.unwrap();
        assert!(
            statuses.iter().all(|s| *s == StatusCode::OK),
            "{statuses:?}"
        );
        assert!(samples >= 3, "only {samples} pg_stat_activity samples");
        assert!(most <= 3, "{most} app connections with a pool of 3");
        let admin = db::connect(&cluster.admin_url()).await.unwrap();
        assert_eq!(
            app_connections(&admin).await,
            3,
            "the pool grew to its size"
        );
        let metrics = get(target.addr, "/__coldfront/metrics").await.json();
        assert_eq!(metrics["pool"]["max"], 3, "{metrics}");
        assert_eq!(metrics["pool"]["size"], 3, "{metrics}");
        assert_eq!(metrics["pool"]["in_use"], 0, "{metrics}");
        target.stop(STOP_WITHIN).await;
    });
}

#[test]
fn refused_database_connections_are_503_not_hangs() {
    // 3 of the slots are reserved for superusers: the application role gets the rest.
    let cluster = start_cluster(8);
    runtime().block_on(async {
        cluster.bootstrap().await.unwrap();
        db::setup(&cluster.admin_url()).await.unwrap();
        let target = start_target(PersistentConfig {
            pool: 3,
            ..PersistentConfig::new(cluster.app_url())
        })
        .await;
        let blogs = "/api/blogs?category=rust";
        assert_eq!(get(target.addr, blogs).await.status, StatusCode::OK);
        // Take the pool's connection away and every application slot with it.
        let admin = db::connect(&cluster.admin_url()).await.unwrap();
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app'",
                &[],
            )
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while app_connections(&admin).await > 0 {
            assert!(Instant::now() < deadline, "the pool's backend did not exit");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let blockers = occupy_app_slots(&cluster.app_url()).await;
        // 8 slots, 3 kept free for superusers, 1 taken by `admin`.
        assert_eq!(blockers.len(), 4, "application slots left");

        let started = Instant::now();
        let refused = get(target.addr, blogs).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        assert_eq!(
            refused.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            refused.text()
        );
        assert_eq!(refused.headers["x-coldfront-error"], "too_many_connections");
        let body = refused.json();
        assert_eq!(body["error"], "database");
        assert_eq!(body["kind"], "too_many_connections");
        assert_eq!(body["sqlstate"], "53300");
        assert!(
            body["message"].as_str().unwrap().contains("slots"),
            "{body}"
        );

        drop(blockers);
        let recovered = retry_until_ok(target.addr, blogs, Duration::from_secs(5)).await;
        assert_eq!(recovered.json().as_array().unwrap().len(), 10);
        target.stop(STOP_WITHIN).await;
    });
}

#[test]
fn pool_waiters_give_up_with_503_after_pool_timeout() {
    let cluster = start_cluster(100);
    runtime().block_on(async {
        cluster.bootstrap().await.unwrap();
        db::setup(&cluster.admin_url()).await.unwrap();
        let target = start_target(PersistentConfig {
            pool: 1,
            pool_timeout: Duration::from_millis(300),
            ..PersistentConfig::new(cluster.app_url())
        })
        .await;
        let addr = target.addr;
        // The pool's only connection waits on a lock held by the superuser. (Watched from
        // another connection: a transaction sees one snapshot of pg_stat_activity.)
        let admin = db::connect(&cluster.admin_url()).await.unwrap();
        let locker = db::connect(&cluster.admin_url()).await.unwrap();
        locker
            .batch_execute("BEGIN; LOCK TABLE blogs IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        let blocked = tokio::spawn(async move { get(addr, "/api/blogs?category=go").await });
        let deadline = Instant::now() + Duration::from_secs(5);
        while lock_waiters(&admin).await == 0 {
            assert!(
                Instant::now() < deadline,
                "the request never reached the lock"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        let started = Instant::now();
        let waiter = get(addr, "/api/blogs?category=rust").await;
        let waited = started.elapsed();
        assert_eq!(
            waiter.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            waiter.text()
        );
        assert_eq!(waiter.headers["x-coldfront-error"], "pool_timeout");
        assert_eq!(waiter.json()["kind"], "pool_timeout");
        assert!(
            waited >= Duration::from_millis(300),
            "gave up after {waited:?}"
        );
        assert!(waited < Duration::from_secs(3), "gave up after {waited:?}");

        locker.batch_execute("ROLLBACK").await.unwrap();
        assert_eq!(blocked.await.unwrap().status, StatusCode::OK);
        target.stop(STOP_WITHIN).await;
    });
}

async fn lock_waiters(admin: &tokio_postgres::Client) -> i64 {
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE usename = 'app' AND wait_event_type = 'Lock'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// `rounds` rounds of `concurrency` simultaneous `GET /api/blogs`, each on its own connection.
async fn burst(addr: SocketAddr, rounds: usize, concurrency: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for _ in 0..rounds {
        let requests: Vec<_> = (0..concurrency)
            .map(|_| {
                tokio::spawn(async move { get(addr, "/api/blogs?category=rust").await.status })
            })
            .collect();
        for request in requests {
            statuses.push(request.await.unwrap());
        }
    }
    statuses
}

/// What the sampler saw: how many samples, and the most application backends at once.
#[derive(Debug, Default)]
struct Sampled {
    samples: usize,
    most: i64,
}

/// Counts the application role's backends every 2 ms until `stop`.
async fn sample_app_connections(
    admin: tokio_postgres::Client,
    mut stop: oneshot::Receiver<()>,
) -> Sampled {
    let mut sampled = Sampled::default();
    loop {
        let count = app_connections(&admin).await;
        sampled.samples += 1;
        sampled.most = sampled.most.max(count);
        tokio::select! {
            _ = &mut stop => return sampled,
            _ = tokio::time::sleep(Duration::from_millis(2)) => {}
        }
    }
}

/// Opens application-role connections until PostgreSQL refuses one with SQLSTATE 53300.
async fn occupy_app_slots(app_url: &str) -> Vec<tokio_postgres::Client> {
    let mut held = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match db::connect(app_url).await {
            Ok(client) => held.push(client),
            Err(db::DbError::TooManyConnections { .. }) => return held,
            Err(error) => panic!("unexpected {error}"),
        }
        assert!(Instant::now() < deadline, "never refused");
    }
}

/// GETs `path` until it answers 200 (a terminated backend takes a moment to free its slot).
async fn retry_until_ok(addr: SocketAddr, path: &str, within: Duration) -> Reply {
    let deadline = Instant::now() + within;
    loop {
        let reply = get(addr, path).await;
        if reply.status == StatusCode::OK || Instant::now() > deadline {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
