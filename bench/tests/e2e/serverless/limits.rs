//! The platform's limits: `max_instances` (queue, then 429) and `max_duration` (504, streams
//! cut).

use std::time::{Duration, Instant};

use coldfront_targets::serverless::ServerlessConfig;
use http::{header, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;

use super::*;

#[test]
fn past_max_instances_requests_queue_then_get_429() {
    runtime().block_on(async {
        let gateway = Gateway::start(ServerlessConfig {
            max_instances: 1,
            queue_timeout: Duration::from_millis(100),
            ..config(&no_database())
        })
        .await;
        let slow = "POST /api/report?work_ms=600";
        let replies = concurrently(gateway.addr, &[slow, slow, slow]).await;
        let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
        assert_eq!(
            count(&statuses, StatusCode::OK),
            1,
            "one instance, so one request runs: {statuses:?}"
        );
        for throttled in replies.iter().filter(|r| r.status.as_u16() == 429) {
            assert_eq!(throttled.json(), json!({"error": "TOO_MANY_REQUESTS"}));
            assert_eq!(throttled.headers["x-coldfront-error"], "throttled");
            assert!(
                throttled.took >= Duration::from_millis(100),
                "429 after {:?}, before the queue timeout",
                throttled.took
            );
        }
        let metrics = gateway.metrics().await;
        assert_eq!(metrics["throttles"], 2, "{metrics}");
        assert_eq!(metrics["queued"], 0, "{metrics}");
        gateway.stop().await;
    });
}

#[test]
fn a_queued_request_gets_the_instance_that_frees_up() {
    runtime().block_on(async {
        let gateway = Gateway::start(ServerlessConfig {
            max_instances: 1,
            queue_timeout: Duration::from_secs(10),
            keep_warm: Duration::from_secs(30),
            ..config(&no_database())
        })
        .await;
        let work = "POST /api/report?work_ms=200";
        let replies = concurrently(gateway.addr, &[work, work]).await;
        assert!(replies.iter().all(|r| r.status == StatusCode::OK));
        assert_eq!(replies[0].instance(), replies[1].instance());
        let cold: Vec<bool> = replies.iter().map(Reply::cold).collect();
        assert_eq!(
            count(&cold, true),
            1,
            "one cold start, then reuse: {cold:?}"
        );
        let metrics = gateway.metrics().await;
        assert_eq!(metrics["cold_starts"], 1, "{metrics}");
        assert_eq!(metrics["throttles"], 0, "{metrics}");
        gateway.stop().await;
    });
}

#[test]
fn past_max_duration_the_instance_is_killed_and_the_client_gets_504() {
    runtime().block_on(async {
        let gateway = Gateway::start(ServerlessConfig {
            max_duration: Duration::from_millis(300),
            keep_warm: Duration::from_secs(30),
            ..config(&no_database())
        })
        .await;
        let reply = send(gateway.addr, "POST", "/api/report?work_ms=3000", &[]).await;
        assert_eq!(
            reply.status,
            StatusCode::GATEWAY_TIMEOUT,
            "{}",
            reply.text()
        );
        assert_eq!(
            reply.json(),
            json!({"error": "FUNCTION_INVOCATION_TIMEOUT"})
        );
        assert_eq!(reply.headers["x-coldfront-error"], "function_timeout");
        assert!(
            (Duration::from_millis(300)..Duration::from_secs(2)).contains(&reply.took),
            "504 after {:?}",
            reply.took
        );
        wait_gone(&[reply.pid()], Duration::from_secs(2)).await;
        let metrics = gateway.wait_alive(0).await;
        assert_eq!(metrics["kills"], 1, "{metrics}");
        let next = get(gateway.addr, "/api/health").await;
        assert_eq!(next.status, StatusCode::OK);
        assert!(next.cold(), "the killed instance is not reused");
        gateway.stop().await;
    });
}

#[test]
fn sse_streams_end_normally_within_max_duration_and_are_cut_past_it() {
    runtime().block_on(async {
        let max_duration = Duration::from_millis(500);
        let gateway = Gateway::start(ServerlessConfig {
            max_duration,
            keep_warm: Duration::from_secs(30),
            ..config(&no_database())
        })
        .await;
        let short = get(gateway.addr, "/api/events?count=3&interval_ms=10").await;
        assert_eq!(short.status, StatusCode::OK);
        assert_eq!(short.headers[header::CONTENT_TYPE], "text/event-stream");
        assert_eq!(short.text().matches("data: ").count(), 3);
        gateway.wait_idle(1).await;

        let started = Instant::now();
        let response = open(
            gateway.addr,
            "GET",
            "/api/events?count=50&interval_ms=100",
            &[],
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["x-coldfront-instance"],
            short.headers["x-coldfront-instance"],
            "the stream runs on the warm instance"
        );
        let (text, error) = read_until_end(response).await;
        let cut_after = started.elapsed();
        let events = text.matches("data: ").count();
        assert!(error.is_some(), "a cut stream must not look complete");
        assert!((2..=10).contains(&events), "{events} events before the cut");
        assert!(
            (max_duration..Duration::from_secs(3)).contains(&cut_after),
            "cut after {cut_after:?}"
        );
        wait_gone(&[short.pid()], Duration::from_secs(2)).await;
        let metrics = gateway.wait_alive(0).await;
        assert_eq!(metrics["kills"], 1, "{metrics}");
        gateway.stop().await;
    });
}

/// The body as text up to its end or its first error.
async fn read_until_end(
    response: http::Response<hyper::body::Incoming>,
) -> (String, Option<hyper::Error>) {
    let mut body = response.into_body();
    let mut text = String::new();
    loop {
        match within_20s(body.frame()).await {
            None => return (text, None),
            Some(Err(error)) => return (text, Some(error)),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    text.push_str(&String::from_utf8_lossy(&data));
                }
            }
        }
    }
}

/// A body over the app's limit is refused with 413 by the gateway: no instance sees it, so
/// none is broken or discarded, and the next request is served warm by the same instance.
#[test]
fn a_body_over_the_limit_is_refused_at_the_gateway_with_413() {
    runtime().block_on(async {
        let gateway = Gateway::start(ServerlessConfig {
            keep_warm: Duration::from_secs(30),
            ..config(&no_database())
        })
        .await;
        let first = get(gateway.addr, "/api/health").await;
        assert!(first.cold());
        let big = "x".repeat(coldfront_targets::app::MAX_BODY_BYTES + 1);
        for _ in 0..20 {
            let refused = send_body(gateway.addr, "POST", "/api/blogs", &[], &big).await;
            assert_eq!(
                refused.status,
                StatusCode::PAYLOAD_TOO_LARGE,
                "{}",
                refused.text()
            );
            assert_eq!(refused.headers["x-coldfront-error"], "too_large");
            assert_eq!(
                refused.json(),
                json!({"error": "the body is larger than 64 KiB"})
            );
        }
        let next = get(gateway.addr, "/api/health").await;
        assert!(!next.cold(), "the instance was kept");
        assert_eq!(next.instance(), first.instance());
        let metrics = gateway.metrics().await;
        assert_eq!(metrics["cold_starts"], 1, "{metrics}");
        gateway.stop().await;
    });
}
