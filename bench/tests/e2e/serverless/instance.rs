//! What a serverless instance cannot do (hold a WebSocket, survive a failed init) and its own
//! memory (in-memory rate limits are per instance).

use std::collections::BTreeMap;
use std::time::Duration;

use coldfront_targets::app::AppConfig;
use coldfront_targets::serverless::{InstanceCommand, ServerlessConfig};
use http::StatusCode;
use serde_json::json;

use super::*;

#[test]
fn websocket_upgrades_are_refused_by_the_gateway_and_app_errors_pass_through() {
    runtime().block_on(async {
        let gateway = Gateway::start(config(&no_database())).await;
        let upgrade = [
            ("connection", "upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        let refused = send(gateway.addr, "GET", "/api/chat", &upgrade).await;
        assert_eq!(refused.status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(refused.json(), json!({"error": "WEBSOCKETS_UNSUPPORTED"}));
        assert_eq!(
            refused.headers["x-coldfront-error"],
            "websockets_unsupported"
        );
        assert!(!refused.headers.contains_key("x-coldfront-instance"));
        assert_eq!(gateway.metrics().await["cold_starts"], 0);

        let plain = get(gateway.addr, "/api/chat").await;
        assert_eq!(
            plain.status,
            StatusCode::NOT_IMPLEMENTED,
            "the app says so too"
        );
        assert!(plain.cold());
        let post = r#"{"title":"t","category":"rust","body":"b"}"#;
        let anonymous = send_body(gateway.addr, "POST", "/api/blogs", &[], post).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert_eq!(anonymous.json(), json!({"error": "unauthorized"}));
        assert!(anonymous.headers.contains_key("x-coldfront-instance"));
        assert_eq!(
            get(gateway.addr, "/nope").await.status,
            StatusCode::NOT_FOUND
        );
        gateway.stop().await;
    });
}

#[test]
fn an_instance_that_dies_during_init_gives_503_not_a_hang() {
    runtime().block_on(async {
        let gateway = Gateway::start(ServerlessConfig {
            instances: InstanceCommand::BuiltIn(vec![
                "/bin/sh".into(),
                "-c".into(),
                "exit 3".into(),
            ]),
            ..config(&no_database())
        })
        .await;
        let reply = get(gateway.addr, "/api/health").await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.headers["x-coldfront-error"], "instance_crashed");
        let body = reply.json();
        assert_eq!(body["error"], "INSTANCE_CRASHED");
        assert!(
            body["message"].as_str().unwrap().contains("exit status: 3"),
            "{body}"
        );
        assert!(reply.took < Duration::from_secs(2), "took {:?}", reply.took);
        let metrics = gateway.wait_alive(0).await;
        assert_eq!(metrics["init_failures"], 1, "{metrics}");
        gateway.stop().await;
    });
}

#[test]
fn in_memory_rate_limits_are_per_instance() {
    runtime().block_on(async {
        let limit = 2;
        let app = AppConfig {
            rate_limit: limit,
            rate_window: Duration::from_secs(60),
            ..AppConfig::default()
        };
        // Every cold instance starts with empty counters.
        let cgi = Gateway::start(ServerlessConfig {
            app: app.clone(),
            ..config(&no_database())
        })
        .await;
        for _ in 0..5 {
            assert_eq!(get(cgi.addr, "/api/limited").await.status, StatusCode::OK);
        }
        cgi.stop().await;

        let gateway = Gateway::start(ServerlessConfig {
            app,
            keep_warm: Duration::from_secs(30),
            max_instances: 3,
            ..config(&no_database())
        })
        .await;
        let warm_up = "POST /api/report?work_ms=300";
        concurrently(gateway.addr, &[warm_up, warm_up, warm_up]).await;
        let replies = concurrently(gateway.addr, &["GET /api/limited"; 30]).await;
        let mut per_instance: BTreeMap<u64, (u32, u32)> = BTreeMap::new();
        for reply in &replies {
            assert!(
                !reply.headers.contains_key("x-coldfront-error"),
                "not throttled"
            );
            let (served, allowed) = per_instance.entry(reply.instance()).or_default();
            *served += 1;
            *allowed += u32::from(reply.status == StatusCode::OK);
        }
        for (instance, (served, allowed)) in &per_instance {
            assert_eq!(*allowed, (*served).min(limit), "instance {instance}");
        }
        let allowed: u32 = per_instance.values().map(|(_, allowed)| allowed).sum();
        assert!(
            per_instance.len() >= 2 && (limit + 1..=limit * 3).contains(&allowed),
            "{allowed} allowed over {per_instance:?}"
        );
        gateway.stop().await;
    });
}
