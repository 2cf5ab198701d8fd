//! Command instances: the gateway running a user's HTTP server (here `apps/app.js`, Node's own
//! `http`, and `apps/app.py`) with every platform rule: cold starts split into spawn →
//! listening → ready → first response, keep-warm reuse, concurrency 1 against N, 429 past
//! `max_instances`, 504 past `max_duration`, readiness by HTTP and by TCP, socket activation,
//! failures at start and mid-request, and no process of the app left behind.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use coldfront_targets::command::AppCommand;
use coldfront_targets::serverless::{InstanceCommand, ServerlessConfig};
use coldfront_targets::settings::Listen;
use http::StatusCode;

use super::*;

/// The small servers of the command-target tests (`apps/`).
pub fn apps_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/apps")
}

/// A mark no other process has: in the app's argv and in `TEST_MARK` (the argv of what it
/// forks), so its processes can be found.
pub fn unique_mark(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("coldfront-test-{what}-{}-{nanos}", std::process::id())
}

/// `node app.js MARK` with `env`, ready on `/health`.
fn node_app(mark: &str, env: &[(&str, &str)]) -> AppCommand {
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.push(("TEST_MARK".into(), mark.into()));
    AppCommand {
        program: "node".into(),
        args: vec!["app.js".into(), mark.into()],
        cwd: Some(apps_dir()),
        env,
        ready: Some("/health".into()),
        init_timeout: Duration::from_secs(10),
        listen: Listen::Port,
    }
}

fn app_config(app: AppCommand) -> ServerlessConfig {
    ServerlessConfig {
        keep_warm: Duration::from_secs(30),
        instances: InstanceCommand::App(app),
        ..config(&no_database())
    }
}

/// Live (not zombie) processes whose command line holds `mark`.
pub fn marked_processes(mark: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if !cmdline.split(|b| *b == 0).any(|arg| arg == mark.as_bytes()) {
            continue;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        if !matches!(state, None | Some('Z') | Some('X')) {
            found.push(pid);
        }
    }
    found
}

/// Waits (up to `within`) until no live process holds `mark`.
pub fn assert_no_process_left(mark: &str, within: Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = marked_processes(mark);
        if left.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "processes of the app left after {within:?}: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_command_instance_cold_starts_once_then_serves_warm() {
    let mark = unique_mark("warm");
    runtime().block_on(async {
        let gateway = Gateway::start(app_config(node_app(&mark, &[("CUSTOM", "hi")]))).await;
        let cold = get(gateway.addr, "/info").await;
        assert_eq!(cold.status, StatusCode::OK, "{}", cold.text());
        assert!(cold.cold());
        for part in [
            "x-coldfront-init-ms",
            "x-coldfront-spawn-ms",
            "x-coldfront-listening-ms",
            "x-coldfront-ready-ms",
            "x-coldfront-first-response-ms",
        ] {
            assert!(cold.millis(part) >= 0.0, "{part}");
        }
        // The breakdown adds up to what the gateway saw (init = spawn + listening + ready +
        // the first connection).
        let parts = cold.millis("x-coldfront-spawn-ms")
            + cold.millis("x-coldfront-listening-ms")
            + cold.millis("x-coldfront-ready-ms");
        assert!(parts <= cold.millis("x-coldfront-init-ms") + 0.01);
        let info = cold.json();
        assert_eq!(info["pid"], cold.pid());
        assert_eq!(info["port"], info["aws_lwa_port"]);
        assert_eq!(info["hostname"], "127.0.0.1");
        assert!(info["database_url"]
            .as_str()
            .unwrap()
            .starts_with("postgres://"));
        assert_eq!(info["custom"], "hi");
        let warm = get(gateway.addr, "/info").await;
        assert!(!warm.cold());
        assert_eq!(warm.pid(), cold.pid(), "the same instance, kept warm");
        assert!(!warm.headers.contains_key("x-coldfront-init-ms"));
        let metrics = gateway.metrics().await;
        assert_eq!(metrics["cold_starts"], 1, "{metrics}");
        gateway.stop().await;
    });
    assert_no_process_left(&mark, Duration::from_secs(5));
}

/// Concurrency 1 (Lambda) gives each concurrent request its own instance; concurrency 4
/// (Fluid compute, Cloud Run) packs four onto one warm instance and starts a second only for
/// the fifth.
#[test]
fn concurrency_n_serves_n_requests_on_one_instance() {
    let mark = unique_mark("concurrency");
    runtime().block_on(async {
        for (concurrency, expected_instances) in [(1, 4), (4, 1)] {
            let gateway = Gateway::start(ServerlessConfig {
                concurrency,
                ..app_config(node_app(&mark, &[]))
            })
            .await;
            let first = get(gateway.addr, "/info").await;
            assert_eq!(first.status, StatusCode::OK);
            // Its other lanes join the pool once it is ready.
            gateway.wait_metrics(|m| m["instances"]["idle"] == 1).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            let replies =
                futures_util::future::join_all((0..4).map(|_| get(gateway.addr, "/sleep?ms=400")))
                    .await;
            let mut pids: Vec<u32> = replies.iter().map(|r| r.pid()).collect();
            pids.sort_unstable();
            pids.dedup();
            assert_eq!(
                pids.len(),
                expected_instances,
                "concurrency {concurrency}: {pids:?}"
            );
            if concurrency == 4 {
                let five = futures_util::future::join_all(
                    (0..5).map(|_| get(gateway.addr, "/sleep?ms=400")),
                )
                .await;
                let cold = five.iter().filter(|r| r.cold()).count();
                assert_eq!(cold, 1, "the fifth starts a second instance");
            }
            gateway.stop().await;
        }
    });
    assert_no_process_left(&mark, Duration::from_secs(5));
}

#[test]
fn past_max_instances_a_request_gets_429_and_past_max_duration_504() {
    let mark = unique_mark("limits");
    runtime().block_on(async {
        let gateway = Gateway::start(ServerlessConfig {
            max_instances: 1,
            queue_timeout: Duration::ZERO,
            max_duration: Duration::from_millis(700),
            ..app_config(node_app(&mark, &[("FORK_CHILD", "1")]))
        })
        .await;
        assert_eq!(get(gateway.addr, "/health").await.status, StatusCode::OK);
        let (slow, throttled) = tokio::join!(get(gateway.addr, "/sleep?ms=5000"), async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            get(gateway.addr, "/health").await
        });
        assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throttled.header("x-coldfront-error"), "throttled");
        assert_eq!(slow.status, StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(slow.header("x-coldfront-error"), "function_timeout");
        // Killed with its whole group: the child it forked is gone too.
        let metrics = gateway.wait_alive(0).await;
        assert_eq!(metrics["kills"], 1, "{metrics}");
        assert_no_process_left(&mark, Duration::from_secs(3));
        let again = get(gateway.addr, "/health").await;
        assert_eq!(again.status, StatusCode::OK);
        assert!(again.cold(), "a new instance after the kill");
        gateway.stop().await;
    });
    assert_no_process_left(&mark, Duration::from_secs(5));
}

/// With a `ready` path the gateway waits for a 100–499 answer (the app listens 300 ms before
/// its handlers are ready, as Next.js does); without one, a TCP accept is ready.
#[test]
fn readiness_by_http_waits_for_the_path_and_by_tcp_for_the_accept() {
    let mark = unique_mark("ready");
    runtime().block_on(async {
        let warming = node_app(&mark, &[("WARMUP_MS", "300")]);
        let gateway = Gateway::start(app_config(warming.clone())).await;
        let reply = get(gateway.addr, "/health").await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "never sees the 503 of warm-up"
        );
        assert!(
            reply.millis("x-coldfront-ready-ms") >= 200.0,
            "ready {} ms after listening",
            reply.millis("x-coldfront-ready-ms")
        );
        gateway.stop().await;
        let tcp = AppCommand {
            ready: None,
            ..warming
        };
        let gateway = Gateway::start(app_config(tcp)).await;
        let reply = get(gateway.addr, "/health").await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "the app's own 503"
        );
        assert!(reply.millis("x-coldfront-ready-ms") < 50.0);
        gateway.stop().await;
    });
    assert_no_process_left(&mark, Duration::from_secs(5));
}

/// `listen = "fd"`: the gateway binds the socket and passes it as fd 3 with `LISTEN_FDS=1` and
/// `LISTEN_PID` = the app's own PID; the kernel queues the first request while the app starts.
#[test]
fn socket_activation_hands_the_app_a_listening_socket() {
    let mark = unique_mark("fd");
    runtime().block_on(async {
        let app = AppCommand {
            ready: None,
            listen: Listen::Fd,
            ..node_app(&mark, &[("STARTUP_MS", "200")])
        };
        let gateway = Gateway::start(app_config(app)).await;
        let reply = get(gateway.addr, "/info").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let info = reply.json();
        assert_eq!(info["listen_fds"], "1");
        assert_eq!(info["listen_pid"], reply.pid().to_string());
        assert!(
            reply.millis("x-coldfront-listening-ms") < 50.0,
            "listening from the start"
        );
        assert!(
            reply.millis("x-coldfront-first-response-ms") >= 150.0,
            "the request waited in the kernel's queue while the app started"
        );
        gateway.stop().await;
    });
    assert_no_process_left(&mark, Duration::from_secs(5));
}

#[test]
fn an_app_that_fails_to_start_or_crashes_is_counted_and_the_gateway_keeps_serving() {
    let mark = unique_mark("failures");
    runtime().block_on(async {
        let wrong_port = AppCommand {
            init_timeout: Duration::from_millis(800),
            ..node_app(&mark, &[("WRONG_PORT", "1")])
        };
        let gateway = Gateway::start(app_config(wrong_port)).await;
        let reply = get(gateway.addr, "/health").await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.header("x-coldfront-error"), "init_timeout");
        let message = reply.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains("$PORT"), "{message}");
        gateway.stop().await;

        let gateway = Gateway::start(app_config(node_app(&mark, &[("CRASH_AT_START", "1")]))).await;
        let reply = get(gateway.addr, "/health").await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.header("x-coldfront-error"), "instance_crashed");
        let message = reply.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains("exit status: 3"), "{message}");
        let metrics = gateway.metrics().await;
        assert_eq!(metrics["init_failures"], 1, "{metrics}");
        gateway.stop().await;

        let gateway = Gateway::start(app_config(node_app(&mark, &[]))).await;
        let crash = get(gateway.addr, "/crash").await;
        assert_eq!(crash.status, StatusCode::BAD_GATEWAY);
        assert_eq!(crash.header("x-coldfront-error"), "instance_crashed");
        let next = get(gateway.addr, "/health").await;
        assert_eq!(next.status, StatusCode::OK);
        assert!(next.cold(), "a fresh instance replaces the crashed one");
        gateway.stop().await;
    });
    assert_no_process_left(&mark, Duration::from_secs(5));
}

/// A Python app that forks a child (same process group): retiring the instance (keep-warm
/// 0) ends both, and an app that ignores SIGTERM is killed after the grace period.
#[test]
fn retiring_an_instance_ends_its_whole_process_group() {
    let mark = unique_mark("group");
    runtime().block_on(async {
        let python = AppCommand {
            program: "python3".into(),
            args: vec!["app.py".into(), mark.clone().into()],
            env: vec![("FORK_CHILD".into(), "1".into())],
            ..node_app(&mark, &[])
        };
        let gateway = Gateway::start(ServerlessConfig {
            keep_warm: Duration::ZERO,
            ..app_config(python)
        })
        .await;
        let reply = get(gateway.addr, "/info").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        gateway.wait_alive(0).await;
        assert_no_process_left(&mark, Duration::from_secs(3));
        gateway.stop().await;

        let stubborn = node_app(&mark, &[("IGNORE_TERM", "1"), ("FORK_CHILD", "1")]);
        let gateway = Gateway::start(app_config(stubborn)).await;
        assert_eq!(get(gateway.addr, "/health").await.status, StatusCode::OK);
        assert_eq!(marked_processes(&mark).len(), 2, "the app and its child");
        gateway.stop().await;
    });
    assert_no_process_left(&mark, Duration::from_secs(1));
}

/// The benchmark of issue 10: what the gateway adds to a command instance. Warm path: `GET
/// /health` on one keep-alive connection, the app served directly against through a warm
/// instance. Cold start: the app's own spawn-to-first-200 (spawned directly, polled every
/// 1 ms) against a cold request through the gateway, with readiness by TCP polling (every
/// [`READY_POLL`](coldfront_targets::command::READY_POLL)) and with socket activation.
#[test]
#[ignore = "a measurement: prints the gateway's warm-path and cold-start overhead for a command instance"]
fn measure_command_instance_overhead() {
    let mark = unique_mark("measure");
    let (warm_n, cold_n) = (2000, 30);
    runtime().block_on(async {
        let app = AppCommand {
            ready: None,
            ..node_app(&mark, &[])
        };
        let direct_warm = {
            let app = app.clone();
            let (_, addr, mut child) = tokio::task::spawn_blocking(move || spawn_until_ok(&app))
                .await
                .unwrap();
            let warm = time_requests(addr, warm_n).await;
            child.kill().unwrap();
            child.wait().unwrap();
            warm
        };
        let gateway = Gateway::start(app_config(app.clone())).await;
        let through_warm = time_requests(gateway.addr, warm_n).await;
        gateway.stop().await;
        println!("\nwarm path, {warm_n} sequential GET /health on one keep-alive connection (ms)");
        println!("{:<28} {:>8} {:>8}", "served", "p50", "p99");
        println!(
            "{:<28} {:>8.3} {:>8.3}",
            "node app.js directly", direct_warm.0, direct_warm.1
        );
        println!(
            "{:<28} {:>8.3} {:>8.3}",
            "through the gateway", through_warm.0, through_warm.1
        );
        println!(
            "gateway overhead p50: {:.3} ms",
            through_warm.0 - direct_warm.0
        );
        // Cold starts interleaved (direct, then each gateway, round after round), so the
        // machine's drift falls on every column alike; the overhead is the median of each
        // round's difference.
        let variants = [
            ("gateway, TCP readiness (port)", &[][..]),
            (
                "gateway, HTTP readiness (port)",
                &["--ready", "/health"][..],
            ),
            ("gateway, socket activation (fd)", &["--listen", "fd"][..]),
        ];
        let mut serves: Vec<ServeChild> = variants
            .iter()
            .map(|(_, flags)| ServeChild::start(&mark, flags))
            .collect();
        let mut direct = Vec::new();
        let mut totals = vec![Vec::new(); variants.len()];
        let mut differences = vec![Vec::new(); variants.len()];
        for _ in 0..cold_n {
            let app = app.clone();
            let (took, _, mut child) = tokio::task::spawn_blocking(move || spawn_until_ok(&app))
                .await
                .unwrap();
            child.kill().unwrap();
            child.wait().unwrap();
            direct.push(took);
            for (n, serve) in serves.iter().enumerate() {
                let reply = get(serve.addr, "/health").await;
                assert!(reply.cold() && reply.status == StatusCode::OK);
                let total = reply.took.as_secs_f64() * 1000.0;
                totals[n].push(total);
                differences[n].push(total - took);
                wait_metrics_at(serve.addr, |m| m["instances"]["alive"] == 0).await;
            }
        }
        for serve in &mut serves {
            serve.stop();
        }
        println!("\ncold starts, {cold_n} interleaved rounds, node app.js (ms, medians)");
        println!(
            "{:<40} {:>8.3}",
            "spawn to first 200, directly (1 ms poll)",
            median(&mut direct)
        );
        for (n, (name, _)) in variants.iter().enumerate() {
            println!(
                "{name:<40} {:>8.3}  (overhead {:.3})",
                median(&mut totals[n]),
                median(&mut differences[n])
            );
        }
    });
    assert_no_process_left(&mark, Duration::from_secs(5));
}

/// `coldfront serve serverless --keep-warm 0s … -- node app.js MARK`, as a user runs it: the
/// gateway in a process of its own (a small one: forking it is cheap, unlike forking a test
/// binary).
struct ServeChild {
    child: std::process::Child,
    addr: SocketAddr,
}

impl ServeChild {
    fn start(mark: &str, flags: &[&str]) -> ServeChild {
        use std::io::BufRead;
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("coldfront"))
            .args(["serve", "serverless", "--port", "0", "--keep-warm", "0s"])
            .args(["--database-url", &no_database(), "--cwd"])
            .arg(apps_dir())
            .args(flags)
            .args(["--", "node", "app.js", mark])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let line = std::io::BufReader::new(stdout)
            .lines()
            .next()
            .unwrap()
            .unwrap();
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap()
            .parse()
            .unwrap();
        ServeChild { child, addr }
    }

    fn stop(&mut self) {
        // SAFETY: signalling our own child by its PID.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        self.child.wait().unwrap();
    }
}

/// Spawns `app` on a free port and polls (1 ms) until `GET /health` answers 200: the time that
/// took in ms, the address, and the child (the caller kills and waits for it).
#[allow(clippy::zombie_processes)]
fn spawn_until_ok(app: &AppCommand) -> (f64, SocketAddr, std::process::Child) {
    use std::io::{Read, Write};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let started = Instant::now();
    let child = std::process::Command::new(&app.program)
        .args(&app.args)
        .current_dir(app.cwd.as_ref().unwrap())
        .env("PORT", port.to_string())
        .env("HOSTNAME", "127.0.0.1")
        .spawn()
        .unwrap();
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(addr) {
            let _ = stream.set_nodelay(true);
            let request = b"GET /health HTTP/1.1\r\nhost: app\r\nconnection: close\r\n\r\n";
            let mut answer = Vec::new();
            if stream.write_all(request).is_ok()
                && stream.read_to_end(&mut answer).is_ok()
                && answer.starts_with(b"HTTP/1.1 200")
            {
                return (started.elapsed().as_secs_f64() * 1000.0, addr, child);
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

async fn time_requests(addr: SocketAddr, n: usize) -> (f64, f64) {
    let mut client = super::measurements::KeepAlive::open(addr).await;
    for _ in 0..100 {
        client.get("/health").await;
    }
    let mut times: Vec<f64> = Vec::with_capacity(n);
    for _ in 0..n {
        let reply = client.get("/health").await;
        assert_eq!(reply.status, StatusCode::OK);
        times.push(reply.took.as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[n / 2], times[n * 99 / 100])
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
