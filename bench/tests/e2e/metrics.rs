//! `run --metrics-addr`: the live metrics endpoint scraped by hand during a run (both formats,
//! counters moving, the endpoint gone with the run), refused addresses before any load, and a
//! real Prometheus (Debian's `prometheus`) scraping a run and answering queries about it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::load::open_scenario;
use super::support::*;

/// A loopback address nothing listens on (bound, then released).
fn free_loopback_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A `GET` of `path` on `addr` (HTTP/1.0: the answer ends with the connection): status line
/// and headers, and body.
fn http_get(
    addr: SocketAddr,
    path: &str,
    accept: Option<&str>,
) -> std::io::Result<(String, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\n{accept}\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no head in {response:?}")))?;
    Ok((head.to_string(), body.to_string()))
}

/// The value of the sample `series` (name and labels exactly as written) in an exposition.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap())
}

const OK_REQUESTS: &str = r#"coldfront_requests_total{target="t",outcome="ok"}"#;
const OPENMETRICS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,\
                                  text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Scrapes `addr` (Prometheus text format) until the `ok` counter is above zero.
fn first_counted_scrape(addr: SocketAddr, within: Duration) -> String {
    let started = Instant::now();
    loop {
        if let Ok((_, body)) = http_get(addr, "/metrics", None) {
            if sample(&body, OK_REQUESTS).is_some_and(|n| n > 0.0) {
                return body;
            }
        }
        assert!(
            started.elapsed() < within,
            "no request counted within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// During a run: the plain and the OpenMetrics exposition, the counter growing between two
/// scrapes, gauges and a consistent histogram; an idle keep-alive connection does not keep
/// the process alive, and the endpoint is gone once the run has ended normally.
#[test]
fn live_metrics_move_during_a_run_and_stop_with_it() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let load = "[[load.phases]]\nduration = \"6s\"\nrate = 200";
    let scenario = write_scenario(
        dir.path(),
        "live",
        &open_scenario("live", &server.url(), load, "/ok"),
    );
    let out = dir.path().join("out");
    let addr = free_loopback_addr();
    let flag = addr.to_string();
    let run = BackgroundRun::start_with(&out, &scenario, &["--metrics-addr", &flag]);

    let first = first_counted_scrape(addr, Duration::from_secs(20));
    let (head, _) = http_get(addr, "/metrics", None).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    assert!(!first.contains("# EOF"));
    assert!(sample(&first, r#"coldfront_requests_in_flight{target="t"}"#).is_some());
    assert!(sample(&first, r#"coldfront_connections_open{target="t"}"#).unwrap() >= 1.0);
    let count = sample(&first, r#"coldfront_latency_seconds_count{target="t"}"#).unwrap();
    let inf = sample(
        &first,
        r#"coldfront_latency_seconds_bucket{target="t",le="+Inf"}"#,
    );
    assert_eq!(inf, Some(count));
    let finished: f64 = first
        .lines()
        .filter(|l| l.starts_with("coldfront_requests_total{target=\"t\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(finished, count, "every finished request has a latency");

    // An idle keep-alive connection, left open across the end of the run.
    let mut idle = TcpStream::connect(addr).unwrap();
    write!(idle, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut first_bytes = [0u8; 16];
    idle.read_exact(&mut first_bytes).unwrap();
    assert_eq!(&first_bytes[..15], b"HTTP/1.1 200 OK");

    std::thread::sleep(Duration::from_millis(1500));
    let (head, later) = http_get(addr, "/metrics", Some(OPENMETRICS_ACCEPT)).unwrap();
    assert!(
        head.contains("Content-Type: application/openmetrics-text; version=1.0.0"),
        "{head}"
    );
    assert!(later.ends_with("# EOF\n"), "{later}");
    assert!(later.contains("# TYPE coldfront_requests counter\n"));
    let (before, after) = (
        sample(&first, OK_REQUESTS).unwrap(),
        sample(&later, OK_REQUESTS).unwrap(),
    );
    assert!(
        after >= before + 100.0,
        "the counter moved: {before} → {after}"
    );

    let status = run.wait(Duration::from_secs(60));
    assert!(status.success(), "{status:?}");
    let t = &read_summary(&out.join("live")).targets["t"];
    assert!(after <= t.ok as f64, "{after} of {}", t.ok);
    let mut rest = Vec::new();
    let closed = idle.read_to_end(&mut rest);
    assert!(closed.is_ok(), "the idle connection was closed: {closed:?}");
    assert!(
        TcpStream::connect(addr).is_err(),
        "nothing listens after the run"
    );
}

/// An address that cannot be listened on fails the run before any load: no request reaches
/// the target and no result set is written.
#[test]
fn a_metrics_address_in_use_or_malformed_fails_before_any_load() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let load = "[[load.phases]]\nduration = \"2s\"\nrate = 50";
    let scenario = write_scenario(
        dir.path(),
        "taken",
        &open_scenario("taken", &server.url(), load, "/ok"),
    );
    let out = dir.path().join("out");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = run_coldfront_with(&out, &[&scenario], &["--metrics-addr", &addr]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("--metrics-addr {addr}: cannot listen there: ")),
        "{stderr}"
    );
    assert!(!out.join("taken").exists(), "no result set");
    let output = run_coldfront_with(&out, &[&scenario], &["--metrics-addr", "localhost"]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--metrics-addr"), "{stderr}");
    assert_eq!(server.requests(), 0, "no load was sent");
}

/// A `prometheus` process of the test's own, killed (by its PID) when dropped.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Prometheus {
    /// Starts Debian's `prometheus` scraping `target` every second, with its storage in `dir`.
    fn start(dir: &Path, target: SocketAddr) -> Prometheus {
        let binary = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| {
                panic!(
                    "prometheus is not installed: this test needs a real Prometheus \
                     (`apt-get install prometheus`, as .ci/run does)"
                )
            });
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  \
                 - job_name: coldfront\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let addr = free_loopback_addr();
        let log = dir.join("prometheus.log");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("prometheus.out")).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let prometheus = Prometheus { child, addr, log };
        prometheus.wait_ready(Duration::from_secs(60));
        prometheus
    }

    fn wait_ready(&self, within: Duration) {
        let started = Instant::now();
        while !http_get(self.addr, "/-/ready", None).is_ok_and(|(head, _)| head.contains(" 200 ")) {
            assert!(
                started.elapsed() < within,
                "prometheus not ready: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// An instant query's result vector (`data.result`).
    fn query(&self, query: &str) -> Vec<serde_json::Value> {
        let (_, body) = http_get(
            self.addr,
            &format!("/api/v1/query?query={}", percent_encode(query)),
            None,
        )
        .unwrap();
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["status"], "success", "{query}: {body}");
        answer["data"]["result"].as_array().unwrap().clone()
    }

    /// The value of a query whose result is one series.
    fn single_value(&self, query: &str) -> f64 {
        let result = self.query(query);
        assert_eq!(result.len(), 1, "{query}: {result:?}");
        result[0]["value"][1].as_str().unwrap().parse().unwrap()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A real Prometheus scrapes a run of about 8 s: while it runs, the request counter is there
/// and growing, and the scrapes are healthy (the exposition parsed); after it, the counter's
/// highest value is plausible against the summary and the histogram's `+Inf` bucket is its
/// count.
#[test]
fn prometheus_scrapes_the_live_metrics_of_a_run() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let load = "[[load.phases]]\nduration = \"8s\"\nrate = 200";
    let scenario = write_scenario(
        dir.path(),
        "soak",
        &open_scenario("soak", &server.url(), load, "/ok"),
    );
    let out = dir.path().join("out");
    let metrics = free_loopback_addr();
    let prometheus = Prometheus::start(dir.path(), metrics);
    let flag = metrics.to_string();
    let run = BackgroundRun::start_with(&out, &scenario, &["--metrics-addr", &flag]);

    let started = Instant::now();
    let during = loop {
        let result = prometheus.query("coldfront_requests_total");
        let ok = result
            .iter()
            .find(|s| s["metric"]["outcome"] == "ok" && s["metric"]["target"] == "t");
        let value = ok.map(|s| s["value"][1].as_str().unwrap().parse::<f64>().unwrap());
        if value.is_some_and(|v| v > 0.0) {
            assert_eq!(result.len(), 8, "one series per outcome: {result:?}");
            break value.unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never scraped: {result:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let targets = prometheus.query("up");
    assert_eq!(targets.len(), 1, "{targets:?}");
    assert_eq!(
        targets[0]["value"][1], "1",
        "the scrape succeeds: {targets:?}"
    );

    let status = run.wait(Duration::from_secs(60));
    assert!(status.success(), "{status:?}");
    let t = &read_summary(&out.join("soak")).targets["t"];
    let highest = prometheus
        .single_value(r#"max_over_time(coldfront_requests_total{target="t",outcome="ok"}[5m])"#);
    assert!(highest >= during, "{highest} < {during}");
    assert!(
        highest <= t.sent as f64,
        "{highest} above the {} sent",
        t.sent
    );
    assert!(
        highest >= t.sent as f64 / 2.0,
        "{highest} of the {} sent",
        t.sent
    );
    let count = prometheus.single_value("max_over_time(coldfront_latency_seconds_count[5m])");
    let inf = prometheus
        .single_value(r#"max_over_time(coldfront_latency_seconds_bucket{le="+Inf"}[5m])"#);
    assert_eq!(inf, count);
    assert!(
        count >= highest,
        "every ok request has a latency: {count} < {highest}"
    );
    drop(prometheus);
}
