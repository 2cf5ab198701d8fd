//! The serverless runtime end to end: the gateway on 127.0.0.1:0 inside each test's runtime,
//! instances as real `coldfront __instance` processes, real PostgreSQL where a test needs it.
//! Tests whose routes never touch the database point it at a closed port: per-request access
//! connects only when a handler asks for a connection.
//!
//! `measure_cold_start_breakdown` is ignored: it prints the cold-start breakdown and the
//! gateway's warm-path overhead (`cargo test -p coldfront --test e2e measure_cold_start
//! -- --ignored --nocapture`).
//!
//! One file per concern; the gateway fixture and the instance-process checks they share are
//! here.

use super::http_client::*;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use coldfront_targets::app::AppConfig;
use coldfront_targets::serverless::{self, DbConnect, InstanceCommand, ServerlessConfig};
use http::StatusCode;
use serde_json::Value;
use tokio::task::JoinHandle;

pub mod command;
mod database;
mod instance;
mod lifecycle;
mod limits;
mod measurements;

const TOKEN: &str = "coldfront-dev-token";

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
        concurrency: 1,
        app: AppConfig::default(),
        instances: InstanceCommand::BuiltIn(instance_command()),
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

fn count<T: PartialEq>(values: &[T], wanted: T) -> usize {
    values.iter().filter(|value| **value == wanted).count()
}
