//! The generator measuring itself: a generator starved of CPU on purpose is marked
//! `generator.limited`, says so, and a verdict its delay could have decided is inconclusive
//! (exit 3); an easy run is not marked.

use std::os::unix::process::CommandExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::support::*;

/// Restricts the calling thread (or, before `exec`, the process) to CPU 0.
fn pin_to_cpu0() -> std::io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET and sched_setaffinity only
    // read and write it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Threads that keep CPU 0 busy until dropped (at most `limit`), so a generator pinned there
/// gets a fraction of it.
struct CpuHogs {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl CpuHogs {
    fn start(count: usize, limit: Duration) -> CpuHogs {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..count)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    pin_to_cpu0().unwrap();
                    let began = Instant::now();
                    while !stop.load(Ordering::Relaxed) && began.elapsed() < limit {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        CpuHogs { stop, threads }
    }
}

impl Drop for CpuHogs {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[test]
fn a_generator_starved_of_cpu_is_limited_and_a_verdict_its_delay_could_decide_is_inconclusive() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("starved")
        .target_url("t", &server.url())
        .load("model = \"open\"\ntimeout = \"5s\"")
        .phase("duration = \"3s\"\nrate = 4000")
        .request("path = \"/ok\"")
        // Failed as measured, perhaps only by the generator's delay: inconclusive.
        .threshold("t.latency.p99", "< 200us")
        // Held however late the generator was: the target's own p99 is lower still.
        .threshold("t.latency.max", "< 30s");
    let scenario = write_scenario(dir.path(), "starved", &text);
    let out = dir.path().join("out");
    let hogs = CpuHogs::start(3, Duration::from_secs(60));
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("coldfront"));
    command.arg("run").arg("--out").arg(&out).arg(&scenario);
    // SAFETY: the closure only calls sched_setaffinity, which is async-signal-safe.
    unsafe {
        command.pre_exec(pin_to_cpu0);
    }
    let output = command.output().unwrap();
    drop(hogs);

    assert_exit(&output, 3);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("warning: t: the generator was the bottleneck, not the target")
            && stdout.contains("INCONCLUSIVE t: t.latency.p99 < 200us")
            && stdout.contains("PASS t: t.latency.max < 30s"),
        "{stdout}"
    );
    let run = out.join("starved");
    let summary = &read_summary(&run).targets["t"];
    let generator = summary.generator.as_ref().expect("the generator's entry");
    assert!(generator.limited, "{generator:?}");
    assert!(generator.late_share > 0.01 || generator.cpu_busy >= 0.9);
    assert_eq!(generator.cpus, 1, "pinned to one CPU");
    let verdicts: Vec<_> = summary.thresholds.iter().map(|v| v.word()).collect();
    assert_eq!(verdicts, ["INCONCLUSIVE", "PASS"]);
    let series = read_series(&run);
    assert!(series.iter().all(|r| r.generator_cpu.is_some()));
    assert_eq!(series.iter().map(|r| r.late).sum::<u64>(), generator.late);
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(page.contains("Generator-limited:"), "the report's banner");
    assert!(run.join("charts/send-lag.svg").exists());
}

/// One worker waiting for a slow answer is no work for a generator: nothing late (the closed
/// model has no intended times to be late for), its CPUs nearly idle, and a verdict stands.
#[test]
fn an_easy_run_is_not_generator_limited() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("easy")
        .target_url("t", &server.url())
        .load("model = \"closed\"")
        .phase("duration = \"2s\"\nconcurrency = 1")
        .request("path = \"/sleep/5\"")
        .threshold("t.latency.p50", ">= 5ms");
    let scenario = write_scenario(dir.path(), "easy", &text);
    let out = dir.path().join("out");
    let output = run_coldfront(&out, &[&scenario]);
    assert_exit(&output, 0);
    let summary = &read_summary(&out.join("easy")).targets["t"];
    let generator = summary.generator.as_ref().unwrap();
    assert!(!generator.limited, "{generator:?}");
    assert_eq!((generator.late, generator.local_failures), (0, 0));
    assert!(generator.cpu_busy < 0.5, "{generator:?}");
    assert_eq!(summary.thresholds[0].word(), "PASS");
}

/// A raw HTTP/1.1 server that answers each connection's first request with 200 and then
/// closes it, without `Connection: close`: every kept-alive connection a client reuses is
/// already closed (the keep-alive race, every time).
fn close_after_one_answer() -> (String, Arc<std::sync::atomic::AtomicU64>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            count.fetch_add(1, Ordering::Relaxed);
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                // Give the client time to read the answer and pool the connection.
                std::thread::sleep(Duration::from_millis(5));
            });
        }
    });
    (url, accepted)
}

/// A GET on a kept-alive connection the server had just closed is retried once on a new
/// connection and succeeds, counted as stale; a POST is not repeated: it fails with the cause.
#[test]
fn a_stale_kept_alive_connection_retries_an_idempotent_request_once() {
    let (url, accepted) = close_after_one_answer();
    let dir = tempfile::tempdir().unwrap();
    let scenario = |name: &str, method: &str| {
        let text = ScenarioText::new(name)
            .target_url("t", &url)
            .load("model = \"closed\"\nmax_connections = 1")
            .phase("duration = \"1s\"\nconcurrency = 1\nthink_time = \"50ms\"")
            .request(&format!("method = \"{method}\"\npath = \"/\""));
        write_scenario(dir.path(), name, &text)
    };
    let out = dir.path().join("out");
    let get = scenario("get", "GET");
    assert_exit(&run_coldfront(&out, &[&get]), 0);
    let summary = &read_summary(&out.join("get")).targets["t"];
    assert!(summary.requests >= 10, "{}", summary.requests);
    assert_eq!(
        summary.ok, summary.requests,
        "every GET answered: {summary:?}"
    );
    assert_eq!(summary.connections.stale, summary.requests - 1);
    assert_eq!(summary.connections.opened, summary.requests);
    assert!(accepted.load(Ordering::Relaxed) > summary.requests);

    let post = scenario("post", "POST");
    assert_exit(&run_coldfront(&out, &[&post]), 0);
    let summary = &read_summary(&out.join("post")).targets["t"];
    assert_eq!(summary.connections.stale, 0, "a POST is never repeated");
    assert_eq!(summary.ok, summary.requests.div_ceil(2), "{summary:?}");
    let io_errors = summary.errors[&coldfront::model::Outcome::IoError];
    assert_eq!(io_errors, summary.requests / 2);
    let causes: u64 = summary.failures.values().sum();
    assert_eq!(
        causes, io_errors,
        "each with its cause: {:?}",
        summary.failures
    );
}

/// Connections open at once never exceed `max_connections`, counted exactly, in both
/// connection policies, with requests queueing for them.
#[test]
fn connections_open_at_once_are_counted_exactly_up_to_the_cap() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for policy in ["keep-alive", "per-request"] {
        let name = format!("cap-{policy}");
        let text = ScenarioText::new(&name)
            .target_url("t", &server.url())
            .load(&format!(
                "model = \"open\"\nconnections = \"{policy}\"\nmax_connections = 8\ntimeout = \"2s\""
            ))
            .phase("duration = \"1s\"\nrate = 800")
            .request("path = \"/sleep/20\"");
        let scenario = write_scenario(dir.path(), &name, &text);
        assert_exit(&run_coldfront(&out, &[&scenario]), 0);
        let connections = read_summary(&out.join(&name)).targets["t"].connections;
        assert_eq!(connections.max_open, 8, "{policy}: {connections:?}");
        assert_eq!(connections.opened, connections.closed, "{policy}");
    }
}

/// Far beyond what the target can answer on its connections, requests whose deadline passes
/// before a connection frees are client timeouts, counted in bulk, every one accounted for;
/// the wait is the target's, so the generator is not marked limited.
#[test]
fn requests_expired_before_a_connection_freed_are_client_timeouts_counted_in_bulk() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("expired")
        .target_url("t", &server.url())
        .load("model = \"open\"\nmax_connections = 1\ntimeout = \"300ms\"")
        .phase("duration = \"2s\"\nrate = 500")
        .request("path = \"/sleep/100\"");
    let scenario = write_scenario(dir.path(), "expired", &text);
    let out = dir.path().join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let summary = &read_summary(&out.join("expired")).targets["t"];
    assert_eq!((summary.sent, summary.requests), (1000, 1000));
    let timeouts = summary.errors[&coldfront::model::Outcome::ClientTimeout];
    assert_eq!(summary.ok + timeouts, 1000, "{summary:?}");
    assert!(summary.ok >= 1, "{summary:?}");
    // Most never reached the wire: given up in bulk, without a connection or a timer each
    // (a request timed out on the wire costs its connection, which is then opened anew).
    let on_the_wire = summary.connections.opened;
    assert!(
        on_the_wire * 10 < timeouts,
        "{on_the_wire} opened, {timeouts} timeouts"
    );
    assert!(!summary.generator.as_ref().unwrap().limited);
    assert_eq!(summary.connections.max_open, 1);
}

/// The highest rate a scenario may ask, far beyond what one machine sends: memory stays flat
/// (requests past their deadline are counted, never queued one by one), Ctrl-C still stops
/// the run within a second, and the result set is written.
#[test]
fn a_run_far_beyond_the_generators_capacity_stays_small_and_stops_on_ctrl_c() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("flood")
        .target_url("t", &server.url())
        .load("model = \"open\"\nmax_connections = 4\ntimeout = \"200ms\"")
        .phase("duration = \"30s\"\nrate = 1000000")
        .request("path = \"/ok\"");
    let scenario = write_scenario(dir.path(), "flood", &text);
    let out = dir.path().join("out");
    let run = BackgroundRun::start(&out, &scenario);
    let series = out.join("flood").join("timeseries.csv.partial");
    run.wait_for(&series, Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(3));
    let status = std::fs::read_to_string(format!("/proc/{}/status", run.pid())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap();
    let (exit, took) = run.interrupt(Duration::from_secs(10));
    assert_eq!(exit.code(), Some(130));
    assert!(took < Duration::from_secs(2), "stopped in {took:?}");
    assert!(peak_kib < 100 * 1024, "peak resident memory {peak_kib} KiB");
    let summary = &read_summary(&out.join("flood")).targets["t"];
    assert!(
        summary.sent > 500_000,
        "three seconds at a million a second: {}",
        summary.sent
    );
    assert_eq!(
        summary.sent, summary.requests,
        "every request accounted for"
    );
}
