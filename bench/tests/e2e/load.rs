//! End-to-end tests of `coldfront run` against real sockets: rates, ramps, coordinated-omission
//! correction, outcome classification, connection policies, the `.hlog` file and Ctrl-C.

use std::time::Duration;

use super::support::*;

pub(super) fn open_scenario(name: &str, url: &str, load: &str, path: &str) -> ScenarioText {
    ScenarioText::new(name)
        .target_url("t", url)
        .load(load)
        .request(&format!("path = \"{path}\""))
}

#[test]
fn open_rate_sends_rate_times_duration() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "rate",
        &open_scenario(
            "rate",
            &server.url(),
            "[[load.phases]]\nduration = \"4s\"\nrate = 500",
            "/ok",
        ),
    );
    let out = dir.path().join("out");
    let output = run_coldfront(&out, &[&scenario]);
    assert_exit(&output, 0);
    let summary = read_summary(&out.join("rate"));
    let t = &summary.targets["t"];
    assert!(
        (t.requests as f64 - 2000.0).abs() <= 20.0,
        "requests {}",
        t.requests
    );
    assert_eq!(t.ok, t.requests);
    assert_eq!(server.requests(), t.requests);
    // Keep-alive: few connections carry almost everything (a hiccup on a busy machine may
    // open a few more, since the open model does not wait).
    assert!(
        t.connections.reused * 10 >= t.requests * 9,
        "opened {}",
        t.connections.opened
    );
    assert_eq!(t.connections.reused + t.connections.opened, t.requests);
    let series = read_series(&out.join("rate"));
    let sent: u64 = series.iter().map(|r| r.sent).sum();
    assert_eq!(sent, t.sent);
    for row in series.iter().filter(|r| r.second <= 4) {
        assert!(
            (row.sent as f64 - 500.0).abs() <= 25.0,
            "second {}: {}",
            row.second,
            row.sent
        );
        assert_eq!(row.cold_starts, None, "no cold header: unknown, not zero");
    }
}

#[test]
fn ramp_per_second_counts_follow_the_ramp() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "ramp",
        &open_scenario(
            "ramp",
            &server.url(),
            "[[load.phases]]\nduration = \"5s\"\nrate = { from = 0, to = 400 }",
            "/ok",
        ),
    );
    let out = dir.path().join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let series = read_series(&out.join("ramp"));
    for row in series.iter().filter(|r| r.second <= 5) {
        let expected = 80.0 * (row.second as f64 - 1.0) + 40.0;
        assert!(
            (row.sent as f64 - expected).abs() <= 0.05 * expected + 3.0,
            "second {}: sent {} expected {expected}",
            row.second,
            row.sent
        );
    }
    let summary = read_summary(&out.join("ramp"));
    assert_eq!(summary.targets["t"].requests, 1000);
}

/// A server that stops answering for S = 200 ms of every P = 1 s, one connection, 200 req/s.
/// Corrected latency: 20% of requests arrive inside a stall and wait for its end, a uniform
/// 0..S, so p90 ≈ S/2 and p99 ≈ 0.95·S, while p50 is unaffected. Service time, measured from
/// the actual send, sees the stall only on the one request in flight when it began (0.5%),
/// so its p99 stays small: exactly the coordinated omission the correction removes.
#[test]
fn stalls_show_in_corrected_latency_not_in_service_time() {
    let server = TestServer::start(Some(Stall {
        period: Duration::from_secs(1),
        pause: Duration::from_millis(200),
    }));
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "stall",
        &open_scenario(
            "stall",
            &server.url(),
            "max_connections = 1\n[[load.phases]]\nduration = \"10s\"\nrate = 200",
            "/ok",
        ),
    );
    let out = dir.path().join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let t = &read_summary(&out.join("stall")).targets["t"];
    assert_eq!(t.connections.opened, 1);
    let latency = &t.latency_ms;
    assert!(latency.p50 < 10.0, "p50 {}", latency.p50);
    // Theory: p90 = 100 ms, p99 = 190 ms, max = 200 ms. A busy machine (other tests run at
    // the same time) adds the time to drain the backlog after each stall: the upper bounds
    // allow up to twice the pause, which a correction counting from anywhere but each request's
    // intended time (the start of the second: up to 1,000 ms) would still break.
    assert!((80.0..=200.0).contains(&latency.p90), "p90 {}", latency.p90);
    assert!(
        (175.0..=400.0).contains(&latency.p99),
        "p99 {}",
        latency.p99
    );
    assert!(
        latency.max > 180.0 && latency.max < 400.0,
        "max {}",
        latency.max
    );
    let service = &t.service_time_ms;
    assert!(service.p90 < 10.0, "service p90 {}", service.p90);
    assert!(service.p99 < 20.0, "service p99 {}", service.p99);
    assert!(
        service.max > 150.0,
        "the stalled request itself: {}",
        service.max
    );
}

fn outcome_of(index: usize, url: &str, path: &str, timeout: &str) -> (String, String) {
    let name = format!("outcome-{index}");
    let text = ScenarioText::new(&name)
        .target_url("t", url)
        .load(&format!("timeout = \"{timeout}\""))
        .phase("duration = \"1s\"\nrate = 20")
        .request(&format!("path = \"{path}\""))
        .to_string();
    (name, text)
}

#[test]
fn every_outcome_kind_is_produced_and_classified() {
    let server = TestServer::start(None);
    let reset = ResetServer::start();
    let refused = closed_port_url();
    let cases = [
        (server.url(), "/ok", "ok"),
        (server.url(), "/status/404", "http_4xx"),
        (server.url(), "/status/500", "http_5xx"),
        (server.url(), "/status/503", "http_5xx"),
        (server.url(), "/status/429", "throttled"),
        (server.url(), "/status/504", "function_timeout"),
        (server.url(), "/sleep/2000", "client_timeout"),
        (refused.clone(), "/ok", "connect_error"),
        (reset.url(), "/reset", "io_error"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut expected = Vec::new();
    for (index, (url, path, kind)) in cases.iter().enumerate() {
        let (name, text) = outcome_of(index, url, path, "300ms");
        files.push(write_scenario(dir.path(), &name, &text));
        expected.push((name, *kind));
    }
    let out = dir.path().join("out");
    let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    // The refused target is the point here: no preflight.
    assert_exit(&run_coldfront_with(&out, &paths, &["--no-preflight"]), 0);
    for (name, kind) in expected {
        let t = &read_summary(&out.join(&name)).targets["t"];
        assert_eq!(t.requests, 20, "{name}");
        let outcome: coldfront::model::Outcome = serde_json::from_value(kind.into()).unwrap();
        let counted = if kind == "ok" {
            t.ok
        } else {
            t.errors[&outcome]
        };
        assert_eq!(counted, 20, "{name}: {kind} in {:?} ok {}", t.errors, t.ok);
        let total: u64 = t.ok + t.errors.values().sum::<u64>();
        assert_eq!(
            total, t.requests,
            "{name}: each request has exactly one outcome"
        );
        // A failure before an answer keeps its cause.
        use coldfront::model::FailureCause;
        let causes: Vec<FailureCause> = t.failures.keys().copied().collect();
        match kind {
            "connect_error" => assert_eq!(t.failures[&FailureCause::Refused], 20, "{name}"),
            "io_error" => {
                assert_eq!(t.failures.values().sum::<u64>(), 20, "{name}: {causes:?}");
                assert!(
                    causes
                        .iter()
                        .all(|c| matches!(c, FailureCause::Reset | FailureCause::ClosedEarly)),
                    "{name}: {causes:?}"
                );
            }
            _ => assert!(
                causes.is_empty(),
                "{name}: no failure before an answer: {causes:?}"
            ),
        }
        if kind == "client_timeout" {
            assert!(
                t.latency_ms.min >= 295.0,
                "gave up at the deadline: {}",
                t.latency_ms.min
            );
            assert_eq!(t.timeouts, 20);
        }
    }
}

#[test]
fn per_request_opens_a_connection_per_request_and_keep_alive_reuses() {
    let per_request = TestServer::start(None);
    let keep_alive = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let load = |policy| {
        format!("connections = \"{policy}\"\n[[load.phases]]\nduration = \"2s\"\nrate = 100")
    };
    let a = write_scenario(
        dir.path(),
        "per-request",
        &open_scenario(
            "per-request",
            &per_request.url(),
            &load("per-request"),
            "/ok",
        ),
    );
    let b = write_scenario(
        dir.path(),
        "keep-alive",
        &open_scenario("keep-alive", &keep_alive.url(), &load("keep-alive"), "/ok"),
    );
    let out = dir.path().join("out");
    assert_exit(&run_coldfront(&out, &[&a, &b]), 0);
    let pr = &read_summary(&out.join("per-request")).targets["t"];
    assert_eq!(pr.requests, 200);
    assert_eq!(pr.connections.opened, 200);
    assert_eq!(pr.connections.reused, 0);
    assert_eq!(per_request.connections(), 200 + PREFLIGHT_CONNECTIONS);
    assert_eq!(pr.connect_time_ms.count, 200);
    let ka = &read_summary(&out.join("keep-alive")).targets["t"];
    assert_eq!(ka.requests, 200);
    assert!(
        ka.connections.opened <= 5,
        "opened {}",
        ka.connections.opened
    );
    assert_eq!(
        keep_alive.connections(),
        ka.connections.opened + PREFLIGHT_CONNECTIONS
    );
    assert_eq!(ka.connections.reused, 200 - ka.connections.opened);
}

/// A server that ends every keep-alive connection after its response: the client must notice
/// before reusing it, so every request is ok and each one opens a connection.
#[test]
fn connections_the_server_closes_are_not_reused() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "server-closes",
        &open_scenario(
            "server-closes",
            &server.url(),
            "max_connections = 4\n[[load.phases]]\nduration = \"2s\"\nrate = 100",
            "/close",
        ),
    );
    let out = dir.path().join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let t = &read_summary(&out.join("server-closes")).targets["t"];
    assert_eq!(t.ok, 200, "{:?}", t.errors);
    assert_eq!(t.connections.opened, 200);
    assert_eq!(t.connections.reused, 0);
    assert_eq!(server.connections(), 200 + PREFLIGHT_CONNECTIONS);
}

#[test]
fn hlog_reads_back_to_the_summary_percentiles() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "hlog",
        &open_scenario(
            "hlog",
            &server.url(),
            "[[load.phases]]\nduration = \"3s\"\nrate = 300",
            "/sleep/2",
        ),
    );
    let out = dir.path().join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let set = out.join("hlog");
    use coldfront::resultset::hlog;
    let all = hlog::read(&set.join("t.hlog")).unwrap();
    let intervals: Vec<_> = hlog::with_tag(&all, None).cloned().collect();
    let service: Vec<_> = hlog::with_tag(&all, Some(hlog::TAG_SERVICE_TIME)).collect();
    assert_eq!(
        service.len(),
        intervals.len(),
        "one service-time interval a second"
    );
    assert_eq!(
        hlog::merged(service).len(),
        read_summary(&set).targets["t"].service_time_ms.count
    );
    assert!(
        intervals.len() >= 3 && intervals.len() <= 5,
        "{} intervals",
        intervals.len()
    );
    assert!(intervals.windows(2).all(|w| w[0].start < w[1].start));
    assert_eq!(intervals[0].length, Duration::from_secs(1));
    let merged = coldfront::resultset::hlog::merged(&intervals);
    let from_log = coldfront::resultset::LatencyStats::from_histogram(&merged);
    let summary = read_summary(&set);
    let in_summary = summary.targets["t"].latency_ms;
    // The mean is a float sum over buckets in another order: equal to rounding.
    assert!((from_log.mean - in_summary.mean).abs() < 1e-9);
    assert_eq!(
        coldfront::resultset::LatencyStats {
            mean: 0.0,
            ..from_log
        },
        coldfront::resultset::LatencyStats {
            mean: 0.0,
            ..in_summary
        }
    );
    let text = std::fs::read_to_string(set.join("t.hlog")).unwrap();
    assert!(text.contains("#[StartTime: "), "{text}");
    assert!(text.contains("\"StartTimestamp\",\"Interval_Length\""));
}

#[test]
fn cold_header_splits_cold_and_warm() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "cold",
        &open_scenario(
            "cold",
            &server.url(),
            "connections = \"per-request\"\n[[load.phases]]\nduration = \"1s\"\nrate = 50\n[[load.phases]]\nduration = \"1s\"\nrate = 0",
            "/cold",
        ),
    );
    let out = dir.path().join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let t = &read_summary(&out.join("cold")).targets["t"];
    // Every per-request connection is the first request on it: all cold.
    assert_eq!(t.cold_starts, Some(50));
    assert_eq!(t.cold_latency_ms.unwrap().count, 50);
    assert_eq!(t.warm_latency_ms.unwrap().count, 0);
    let series = read_series(&out.join("cold"));
    assert_eq!(series.iter().filter_map(|r| r.cold_starts).sum::<u64>(), 50);
}

#[test]
fn thresholds_fail_with_exit_1_and_verdicts_in_the_summary() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = open_scenario(
        "thr",
        &server.url(),
        "[[load.phases]]\nduration = \"1s\"\nrate = 50",
        "/sleep/5",
    )
    .threshold("t.latency.p99", "< 1ms")
    .threshold("*.error_rate", "< 1%");
    let scenario = write_scenario(dir.path(), "thr", &text);
    let out = dir.path().join("out");
    let output = run_coldfront(&out, &[&scenario]);
    assert_exit(&output, 1);
    let t = &read_summary(&out.join("thr")).targets["t"];
    assert_eq!(t.thresholds.len(), 2);
    let p99 = t
        .thresholds
        .iter()
        .find(|v| v.key == "t.latency.p99")
        .unwrap();
    assert!(!p99.passed);
    assert!(p99.actual.unwrap() >= 5.0);
    let errors = t
        .thresholds
        .iter()
        .find(|v| v.key == "*.error_rate")
        .unwrap();
    assert!(errors.passed);
    assert_eq!(errors.actual, Some(0.0));
}

#[test]
fn closed_model_keeps_concurrency_requests_in_flight() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = open_scenario(
        "closed",
        &server.url(),
        "model = \"closed\"\n[[load.phases]]\nduration = \"2s\"\nconcurrency = 4",
        "/sleep/20",
    );
    let scenario = write_scenario(dir.path(), "closed", &text);
    let out = dir.path().join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let t = &read_summary(&out.join("closed")).targets["t"];
    // 4 workers × 2 s / ~20 ms each ≈ 400; each worker holds one connection.
    assert!(
        t.requests > 300 && t.requests <= 404,
        "requests {}",
        t.requests
    );
    assert_eq!(t.connections.opened, 4);
    assert!(t.latency_ms.p50 >= 20.0 && t.latency_ms.p50 < 30.0);
}

/// The client keeps why a request failed: the refused connect and the reset exchange are both
/// failures before a status, with their socket-level cause.
#[test]
fn a_failed_request_keeps_its_cause() {
    use coldfront::load::client::Failure;
    use coldfront::load::{Client, Endpoint, PreparedRequest};
    use coldfront::model::{ConnectionPolicy, Outcome};
    use coldfront::scenario::{RequestTemplate, Wire};

    let request = RequestTemplate {
        name: "GET /".into(),
        weight: 1,
        method: http::Method::GET,
        path_and_query: "/".into(),
        headers: Vec::new(),
        body: bytes::Bytes::new(),
        wire: Wire::Http,
        placeholders: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let send = |url: String| {
        let base_url: http::Uri = url.parse().unwrap();
        let addr = base_url.authority().unwrap().as_str().parse().unwrap();
        let endpoint = Endpoint {
            base_url,
            addrs: vec![addr],
            tls: None,
        };
        let prepared = PreparedRequest::new(&request, &endpoint).unwrap();
        let client = Client::new(endpoint, ConnectionPolicy::KeepAlive, 1);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        runtime.block_on(client.execute(&prepared, deadline))
    };

    let refused = send(closed_port_url());
    assert_eq!(refused.outcome, Outcome::ConnectError);
    match &refused.failure {
        Some(Failure::Tcp(cause)) => {
            assert_eq!(cause.kind(), std::io::ErrorKind::ConnectionRefused)
        }
        other => panic!("expected a refused TCP connect, got {other:?}"),
    }
    assert!(refused
        .failure
        .unwrap()
        .to_string()
        .starts_with("TCP connect: "));

    let reset = ResetServer::start();
    let exchange = send(reset.url());
    assert_eq!(exchange.outcome, Outcome::IoError);
    match &exchange.failure {
        Some(failure @ Failure::Exchange(_)) => {
            let source = std::error::Error::source(failure).expect("the hyper error");
            assert!(!source.to_string().is_empty());
        }
        other => panic!("expected a failed exchange, got {other:?}"),
    }
}

/// A closed-model think time longer than its phase ends with the phase: each worker sends once,
/// thinks, and the run stops at the phase's end rather than the think time's.
#[test]
fn a_think_time_longer_than_the_phase_ends_with_the_phase() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "thinking",
        &open_scenario(
            "thinking",
            &server.url(),
            "model = \"closed\"\n[[load.phases]]\nduration = \"1s\"\nconcurrency = 2\n\
             think_time = \"10s\"",
            "/ok",
        ),
    );
    let out = dir.path().join("out");
    let started = std::time::Instant::now();
    let output = run_coldfront(&out, &[&scenario]);
    let took = started.elapsed();
    assert_exit(&output, 0);
    assert!(took < std::time::Duration::from_secs(8), "ran {took:?}");
    let summary = read_summary(&out.join("thinking"));
    assert_eq!(summary.targets["t"].requests, 2, "one request per worker");
}
