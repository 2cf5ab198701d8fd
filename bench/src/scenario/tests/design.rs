//! The example of design.md becomes the exact plan; omitted keys take their defaults.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use http::{Method, Uri};

use super::*;
use crate::model::{Arrivals, ConnectionPolicy, LoadModel, Metric, Stat};
use coldfront_targets::settings::{DbConnect, PresetName};

/// The example of design.md, verbatim.
const DESIGN_EXAMPLE: &str = r#"name = "cold-start-after-idle"          # [a-z0-9-]+
description = "What this scenario shows"

[targets.serverless]                     # named targets; built-in kind or external url
kind = "serverless"                      # "serverless" | "persistent"
preset = "vercel-hobby"                  # optional; explicit keys override it
keep_warm = "5s"
init = "120ms"
max_instances = 50
max_duration = "10s"
db_connect = "per-instance"

[targets.persistent]
kind = "persistent"
pool = 10

# [targets.production] url = "https://example.com"   # external; needs --allow-remote

[load]
model = "open"                           # "open" (arrival rate) | "closed" (concurrency)
timeout = "5s"                           # client timeout per request
connections = "keep-alive"               # or "per-request"
max_connections = 256

[[load.phases]]
duration = "20s"
rate = 50                                # open: requests/s; closed: `concurrency = N`
[[load.phases]]
duration = "15s"
rate = 0                                 # idle gap
[[load.phases]]
duration = "10s"
rate = { from = 10, to = 200 }           # linear ramp

[[requests]]
weight = 8
method = "GET"
path = "/api/blogs?category=rust"

[thresholds]
"serverless.latency.p99" = "< 800ms"
"*.timeout_rate" = "< 1%"
"#;

#[test]
fn design_example_becomes_the_exact_plan() {
    let plan = parse_str(DESIGN_EXAMPLE, Path::new("scenarios/design.toml")).unwrap();
    let expected = Plan {
        name: "cold-start-after-idle".into(),
        description: "What this scenario shows".into(),
        source: PathBuf::from("scenarios/design.toml"),
        source_text: DESIGN_EXAMPLE.to_string(),
        seed: 1,
        targets: vec![
            TargetPlan {
                name: "serverless".into(),
                setup: TargetSetup::Serverless {
                    settings: ServerlessSettings {
                        preset: PresetName::new("vercel-hobby"),
                        keep_warm: Some(secs(5)),
                        init: Some(ms(120)),
                        max_instances: Some(50),
                        max_duration: Some(secs(10)),
                        db_connect: Some(DbConnect::PerInstance),
                        ..ServerlessSettings::default()
                    },
                    app: None,
                },
            },
            TargetPlan {
                name: "persistent".into(),
                setup: TargetSetup::Persistent {
                    settings: PersistentSettings { pool: Some(10) },
                    app: None,
                },
            },
        ],
        load: LoadPlan {
            model: LoadModel::Open,
            arrivals: Arrivals::Uniform,
            timeout: secs(5),
            connections: ConnectionPolicy::KeepAlive,
            max_connections: 256,
            phases: vec![
                Phase {
                    name: None,
                    duration: secs(20),
                    load: PhaseLoad::Rate(Rate::Constant(50.0)),
                },
                Phase {
                    name: None,
                    duration: secs(15),
                    load: PhaseLoad::Rate(Rate::Constant(0.0)),
                },
                Phase {
                    name: None,
                    duration: secs(10),
                    load: PhaseLoad::Rate(Rate::Ramp {
                        from: 10.0,
                        to: 200.0,
                    }),
                },
            ],
        },
        requests: vec![RequestTemplate {
            name: "GET /api/blogs?category=rust".into(),
            weight: 8,
            method: Method::GET,
            path_and_query: "/api/blogs?category=rust".into(),
            headers: vec![],
            body: Bytes::new(),
            wire: Wire::Http,
            placeholders: None,
        }],
        thresholds: vec![
            Threshold {
                key: "serverless.latency.p99".into(),
                condition: "< 800ms".into(),
                target: TargetSelector::Named("serverless".into()),
                metric: Metric::Latency(Stat::P99),
                operator: Operator::Less,
                limit: 800.0,
            },
            Threshold {
                key: "*.timeout_rate".into(),
                condition: "< 1%".into(),
                target: TargetSelector::All,
                metric: Metric::TimeoutRate,
                operator: Operator::Less,
                limit: 0.01,
            },
        ],
        database: DatabasePlan::default(),
    };
    assert_eq!(plan, expected);
    let total: Duration = plan.load.phases.iter().map(|p| p.duration).sum();
    assert_eq!(total, secs(45));
}

#[test]
fn omitted_keys_take_their_defaults() {
    let plan = parse(&minimal().to_string()).unwrap();
    assert_eq!(plan.description, "");
    assert_eq!(plan.seed, 1);
    assert_eq!(
        plan.targets,
        vec![TargetPlan {
            name: "t".into(),
            setup: TargetSetup::External {
                base_url: Uri::from_static("http://127.0.0.1:9"),
                verify_tls: true,
            },
        }]
    );
    assert_eq!(plan.load.model, LoadModel::Open);
    assert_eq!(plan.load.arrivals, Arrivals::Uniform);
    assert_eq!(plan.load.timeout, secs(10));
    assert_eq!(plan.load.connections, ConnectionPolicy::KeepAlive);
    assert_eq!(plan.load.max_connections, 256);
    let request = &plan.requests[0];
    assert_eq!((request.name.as_str(), request.weight), ("GET /", 1));
    assert_eq!(request.method, Method::GET);
    assert!(request.headers.is_empty() && request.body.is_empty());
    assert!(plan.thresholds.is_empty());
}
