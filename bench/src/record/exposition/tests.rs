use super::*;
use crate::record::live::LatencyBuckets;
use crate::resultset::hlog::new_histogram;

/// One target: 7 ok, 2 http_5xx, 1 client timeout; latencies 20 µs (twice), 300 µs, 1.5 ms
/// and 1 s (HdrHistogram's bin of 1 s starts at 999 936 µs, its median is 1 000 192 µs).
fn snapshot() -> TargetSnapshot {
    let mut histogram = new_histogram();
    for us in [20, 20, 300, 1500, 1_000_000] {
        histogram.record(us).unwrap();
    }
    let mut latency = LatencyBuckets::default();
    latency.add(&histogram);
    let mut snapshot = TargetSnapshot {
        in_flight: 3,
        connections_open: 4,
        connections_opened: 5,
        cold_starts: Some(1),
        db_connections: Some(2),
        latency,
        ..TargetSnapshot::default()
    };
    snapshot.outcomes.0[Outcome::Ok.index()] = 7;
    snapshot.outcomes.0[Outcome::Http5xx.index()] = 2;
    snapshot.outcomes.0[Outcome::ClientTimeout.index()] = 1;
    snapshot
}

const PROMETHEUS_TEXT: &str = r#"# HELP coldfront_requests_total Requests finished, by outcome.
# TYPE coldfront_requests_total counter
coldfront_requests_total{target="api",outcome="ok"} 7
coldfront_requests_total{target="api",outcome="http_4xx"} 0
coldfront_requests_total{target="api",outcome="http_5xx"} 2
coldfront_requests_total{target="api",outcome="throttled"} 0
coldfront_requests_total{target="api",outcome="function_timeout"} 0
coldfront_requests_total{target="api",outcome="client_timeout"} 1
coldfront_requests_total{target="api",outcome="connect_error"} 0
coldfront_requests_total{target="api",outcome="io_error"} 0
# HELP coldfront_requests_in_flight Requests sent and not yet finished, as of the last per-second tick.
# TYPE coldfront_requests_in_flight gauge
coldfront_requests_in_flight{target="api"} 3
# HELP coldfront_connections_open Connections open to the target.
# TYPE coldfront_connections_open gauge
coldfront_connections_open{target="api"} 4
# HELP coldfront_connections_opened_total Connections opened to the target.
# TYPE coldfront_connections_opened_total counter
coldfront_connections_opened_total{target="api"} 5
# HELP coldfront_cold_starts_total Responses that reported a cold start (x-coldfront-cold).
# TYPE coldfront_cold_starts_total counter
coldfront_cold_starts_total{target="api"} 1
# HELP coldfront_db_connections Database connections open by the target's role (latest reading).
# TYPE coldfront_db_connections gauge
coldfront_db_connections{target="api"} 2
# HELP coldfront_latency_seconds Corrected latency: from each request's intended send time to its end.
# TYPE coldfront_latency_seconds histogram
coldfront_latency_seconds_bucket{target="api",le="1e-05"} 0
coldfront_latency_seconds_bucket{target="api",le="2.5e-05"} 2
coldfront_latency_seconds_bucket{target="api",le="5e-05"} 2
coldfront_latency_seconds_bucket{target="api",le="0.0001"} 2
coldfront_latency_seconds_bucket{target="api",le="0.00025"} 2
coldfront_latency_seconds_bucket{target="api",le="0.0005"} 3
coldfront_latency_seconds_bucket{target="api",le="0.001"} 3
coldfront_latency_seconds_bucket{target="api",le="0.0025"} 4
coldfront_latency_seconds_bucket{target="api",le="0.005"} 4
coldfront_latency_seconds_bucket{target="api",le="0.01"} 4
coldfront_latency_seconds_bucket{target="api",le="0.025"} 4
coldfront_latency_seconds_bucket{target="api",le="0.05"} 4
coldfront_latency_seconds_bucket{target="api",le="0.1"} 4
coldfront_latency_seconds_bucket{target="api",le="0.25"} 4
coldfront_latency_seconds_bucket{target="api",le="0.5"} 4
coldfront_latency_seconds_bucket{target="api",le="1"} 5
coldfront_latency_seconds_bucket{target="api",le="2.5"} 5
coldfront_latency_seconds_bucket{target="api",le="5"} 5
coldfront_latency_seconds_bucket{target="api",le="10"} 5
coldfront_latency_seconds_bucket{target="api",le="25"} 5
coldfront_latency_seconds_bucket{target="api",le="50"} 5
coldfront_latency_seconds_bucket{target="api",le="100"} 5
coldfront_latency_seconds_bucket{target="api",le="250"} 5
coldfront_latency_seconds_bucket{target="api",le="500"} 5
coldfront_latency_seconds_bucket{target="api",le="1000"} 5
coldfront_latency_seconds_bucket{target="api",le="2500"} 5
coldfront_latency_seconds_bucket{target="api",le="+Inf"} 5
coldfront_latency_seconds_sum{target="api"} 1.002032
coldfront_latency_seconds_count{target="api"} 5
"#;

const OPENMETRICS_TEXT: &str = r#"# TYPE coldfront_requests counter
# HELP coldfront_requests Requests finished, by outcome.
coldfront_requests_total{target="api",outcome="ok"} 7
coldfront_requests_total{target="api",outcome="http_4xx"} 0
coldfront_requests_total{target="api",outcome="http_5xx"} 2
coldfront_requests_total{target="api",outcome="throttled"} 0
coldfront_requests_total{target="api",outcome="function_timeout"} 0
coldfront_requests_total{target="api",outcome="client_timeout"} 1
coldfront_requests_total{target="api",outcome="connect_error"} 0
coldfront_requests_total{target="api",outcome="io_error"} 0
# TYPE coldfront_requests_in_flight gauge
# HELP coldfront_requests_in_flight Requests sent and not yet finished, as of the last per-second tick.
coldfront_requests_in_flight{target="api"} 3
# TYPE coldfront_connections_open gauge
# HELP coldfront_connections_open Connections open to the target.
coldfront_connections_open{target="api"} 4
# TYPE coldfront_connections_opened counter
# HELP coldfront_connections_opened Connections opened to the target.
coldfront_connections_opened_total{target="api"} 5
# TYPE coldfront_cold_starts counter
# HELP coldfront_cold_starts Responses that reported a cold start (x-coldfront-cold).
coldfront_cold_starts_total{target="api"} 1
# TYPE coldfront_db_connections gauge
# HELP coldfront_db_connections Database connections open by the target's role (latest reading).
coldfront_db_connections{target="api"} 2
# TYPE coldfront_latency_seconds histogram
# UNIT coldfront_latency_seconds seconds
# HELP coldfront_latency_seconds Corrected latency: from each request's intended send time to its end.
coldfront_latency_seconds_bucket{target="api",le="1e-05"} 0
coldfront_latency_seconds_bucket{target="api",le="2.5e-05"} 2
coldfront_latency_seconds_bucket{target="api",le="5e-05"} 2
coldfront_latency_seconds_bucket{target="api",le="0.0001"} 2
coldfront_latency_seconds_bucket{target="api",le="0.00025"} 2
coldfront_latency_seconds_bucket{target="api",le="0.0005"} 3
coldfront_latency_seconds_bucket{target="api",le="0.001"} 3
coldfront_latency_seconds_bucket{target="api",le="0.0025"} 4
coldfront_latency_seconds_bucket{target="api",le="0.005"} 4
coldfront_latency_seconds_bucket{target="api",le="0.01"} 4
coldfront_latency_seconds_bucket{target="api",le="0.025"} 4
coldfront_latency_seconds_bucket{target="api",le="0.05"} 4
coldfront_latency_seconds_bucket{target="api",le="0.1"} 4
coldfront_latency_seconds_bucket{target="api",le="0.25"} 4
coldfront_latency_seconds_bucket{target="api",le="0.5"} 4
coldfront_latency_seconds_bucket{target="api",le="1.0"} 5
coldfront_latency_seconds_bucket{target="api",le="2.5"} 5
coldfront_latency_seconds_bucket{target="api",le="5.0"} 5
coldfront_latency_seconds_bucket{target="api",le="10.0"} 5
coldfront_latency_seconds_bucket{target="api",le="25.0"} 5
coldfront_latency_seconds_bucket{target="api",le="50.0"} 5
coldfront_latency_seconds_bucket{target="api",le="100.0"} 5
coldfront_latency_seconds_bucket{target="api",le="250.0"} 5
coldfront_latency_seconds_bucket{target="api",le="500.0"} 5
coldfront_latency_seconds_bucket{target="api",le="1000.0"} 5
coldfront_latency_seconds_bucket{target="api",le="2500.0"} 5
coldfront_latency_seconds_bucket{target="api",le="+Inf"} 5
coldfront_latency_seconds_sum{target="api"} 1.002032
coldfront_latency_seconds_count{target="api"} 5
# EOF
"#;

#[test]
fn prometheus_text_of_a_known_snapshot() {
    let targets = [("api".to_string(), snapshot())];
    assert_eq!(render(&targets, Format::Prometheus), PROMETHEUS_TEXT);
}

#[test]
fn openmetrics_text_of_a_known_snapshot() {
    let targets = [("api".to_string(), snapshot())];
    assert_eq!(render(&targets, Format::OpenMetrics), OPENMETRICS_TEXT);
}

/// The `le` buckets of every target are cumulative and end with `+Inf` equal to `_count`.
#[test]
fn buckets_are_cumulative_and_inf_is_the_count() {
    let targets = [("api".to_string(), snapshot())];
    for format in [Format::Prometheus, Format::OpenMetrics] {
        let text = render(&targets, format);
        let buckets: Vec<u64> = text
            .lines()
            .filter(|l| l.starts_with("coldfront_latency_seconds_bucket"))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(buckets.len(), BOUNDS_US_LEN + 1);
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
        let count = text
            .lines()
            .find_map(|l| l.strip_prefix("coldfront_latency_seconds_count{target=\"api\"} "))
            .unwrap();
        assert_eq!(buckets.last().unwrap().to_string(), count);
    }
}

const BOUNDS_US_LEN: usize = crate::record::live::BOUNDS_US.len();

/// Several targets: each family's samples together, targets in the board's order; unknown
/// cold starts and database connections leave no sample; label values are escaped.
#[test]
fn families_group_targets_and_unknowns_are_left_out() {
    let first = TargetSnapshot {
        cold_starts: None,
        db_connections: None,
        ..snapshot()
    };
    let targets = [
        ("z \"quoted\"\\".to_string(), first),
        ("a".to_string(), snapshot()),
    ];
    let text = render(&targets, Format::OpenMetrics);
    let in_flight: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("coldfront_requests_in_flight{"))
        .collect();
    assert_eq!(
        in_flight,
        [
            r#"coldfront_requests_in_flight{target="z \"quoted\"\\"} 3"#,
            r#"coldfront_requests_in_flight{target="a"} 3"#,
        ]
    );
    let cold: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("coldfront_cold_starts"))
        .collect();
    assert_eq!(cold, [r#"coldfront_cold_starts_total{target="a"} 1"#]);
    assert!(text.contains("# TYPE coldfront_db_connections gauge\n"));
    assert!(text.ends_with("\n# EOF\n"));
    assert_eq!(text.matches("# EOF").count(), 1);
}

#[test]
fn an_empty_board_is_metadata_only() {
    let text = render(&[], Format::Prometheus);
    assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 0);
    assert_eq!(text.matches("# TYPE ").count(), 7);
    assert_eq!(
        render(&[], Format::OpenMetrics).lines().last(),
        Some("# EOF")
    );
}

#[test]
fn negotiation_follows_the_accept_header() {
    // Prometheus 2.x's own scrape header.
    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                      version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let cases = [
        (Some(prometheus), Format::OpenMetrics),
        (None, Format::Prometheus),
        (Some("*/*"), Format::Prometheus),
        (Some("text/plain;version=0.0.4"), Format::Prometheus),
        (Some("application/openmetrics-text"), Format::OpenMetrics),
        (
            Some("Application/OpenMetrics-Text; version=\"1.0.0\""),
            Format::OpenMetrics,
        ),
        (
            Some("application/openmetrics-text;version=0.0.1"),
            Format::Prometheus,
        ),
        (
            Some("application/openmetrics-text;q=0.3,text/plain;q=0.5"),
            Format::Prometheus,
        ),
        (Some("application/openmetrics-text;q=0"), Format::Prometheus),
    ];
    for (accept, format) in cases {
        assert_eq!(Format::negotiate(accept), format, "{accept:?}");
    }
}

#[test]
fn floats_are_written_as_go_writes_them() {
    let cases = [
        (0.0, "0"),
        (1.0, "1"),
        (2.5, "2.5"),
        (0.0001, "0.0001"),
        (0.00005, "5e-05"),
        (0.000025, "2.5e-05"),
        (2500.0, "2500"),
        (123456.5, "123456.5"),
        (1e6, "1e+06"),
        (2.5e9, "2.5e+09"),
    ];
    for (x, text) in cases {
        assert_eq!(go_float(x), text, "{x}");
    }
    assert_eq!(le_label(10.0, Format::OpenMetrics), "10.0");
    assert_eq!(le_label(1e-5, Format::OpenMetrics), "1e-05");
    assert_eq!(le_label(10.0, Format::Prometheus), "10");
}
