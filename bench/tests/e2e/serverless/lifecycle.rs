//! Instances' lives: cold starts, reuse, reaping after keep-warm, and no instance outliving its
//! gateway (stopped, or the `coldfront serve` process killed).

use std::collections::HashSet;
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use coldfront_targets::serverless::ServerlessConfig;
use http::StatusCode;
use serde_json::json;

use super::*;

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
