//! One-line runs as scenarios: the flags' plan and the text that reads back to it, and
//! problems reported against the flag that wrote them.

use std::time::Duration;

use clap::Parser;

use super::*;
use crate::cli::{Cli, Command};
use crate::model::{ConnectionPolicy, LoadModel};
use crate::scenario::{PhaseLoad, Rate, TargetSetup};

/// The one-line flags of `coldfront run ARGS…`.
fn flags(args: &[&str]) -> OneLine {
    let cli = Cli::try_parse_from(["coldfront", "run"].iter().chain(args))
        .unwrap_or_else(|e| panic!("{e}"));
    match cli.command {
        Command::Run(run) => run.one_line.clone(),
        _ => unreachable!(),
    }
}

fn plan(args: &[&str]) -> Plan {
    flags(args).plan().unwrap_or_else(|e| panic!("{e:?}")).0
}

fn errors(args: &[&str]) -> Vec<String> {
    flags(args).plan().map(|_| ()).unwrap_err()
}

#[test]
fn open_model_one_liner_is_the_scenario_it_writes() {
    let args = [
        "--url",
        "http://127.0.0.1:8080/api/health?deep=1",
        "--rate",
        "500",
        "--duration",
        "30s",
    ];
    let (plan, text) = flags(&args).plan().unwrap();
    assert_eq!(plan.name, DEFAULT_NAME);
    assert_eq!(plan.source, Path::new(SOURCE));
    assert_eq!(plan.source_text, text, "the manifest keeps the text");
    assert_eq!(plan.targets.len(), 1);
    assert_eq!(plan.targets[0].name, TARGET);
    match &plan.targets[0].setup {
        TargetSetup::External { base_url, .. } => {
            assert_eq!(base_url.to_string(), "http://127.0.0.1:8080/")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(plan.load.model, LoadModel::Open);
    assert_eq!(plan.load.phases.len(), 1);
    assert_eq!(plan.load.phases[0].duration, Duration::from_secs(30));
    assert_eq!(
        plan.load.phases[0].load,
        PhaseLoad::Rate(Rate::Constant(500.0))
    );
    assert_eq!(plan.requests.len(), 1);
    assert_eq!(plan.requests[0].method, http::Method::GET);
    assert_eq!(plan.requests[0].path_and_query, "/api/health?deep=1");
    // Saved to a file, the text reads back to the same plan (but for where it came from).
    let saved = parse_str(&text, Path::new("saved.toml")).unwrap();
    assert_eq!(
        Plan {
            source: plan.source.clone(),
            ..saved
        },
        plan
    );
}

#[test]
fn closed_model_request_and_thresholds_come_from_their_flags() {
    let plan = plan(&[
        "--url",
        "https://api.example.test",
        "--concurrency",
        "32",
        "--think-time",
        "10ms",
        "--duration",
        "1m",
        "--method",
        "POST",
        "--header",
        "content-type: application/json",
        "--header",
        "x-run:{{seq}}",
        "--body",
        r#"{"title": "a \"quoted\" one"}"#,
        "--timeout",
        "2s",
        "--connections",
        "per-request",
        "--max-connections",
        "64",
        "--name",
        "post-blogs",
        "--threshold",
        "latency.p99<50ms",
        "--threshold",
        "*.error_rate <= 1%",
    ]);
    assert_eq!(plan.name, "post-blogs");
    assert_eq!(plan.load.model, LoadModel::Closed);
    assert_eq!(
        plan.load.phases[0].load,
        PhaseLoad::Concurrency {
            workers: 32,
            think_time: Duration::from_millis(10)
        }
    );
    assert_eq!(plan.load.phases[0].duration, Duration::from_secs(60));
    assert_eq!(plan.load.timeout, Duration::from_secs(2));
    assert_eq!(plan.load.connections, ConnectionPolicy::PerRequest);
    assert_eq!(plan.load.max_connections, 64);
    let request = &plan.requests[0];
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.path_and_query, "/");
    assert_eq!(&request.body[..], br#"{"title": "a \"quoted\" one"}"#);
    assert_eq!(request.headers[0].0.as_str(), "content-type");
    assert_eq!(request.headers[0].1, "application/json");
    assert!(
        request.placeholders.is_some(),
        "{{seq}} in a header is a placeholder"
    );
    let thresholds: Vec<&str> = plan.thresholds.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(thresholds, ["target.latency.p99", "*.error_rate"]);
}

#[test]
fn problems_name_the_flag_and_the_value_given() {
    let url = ["--url", "http://127.0.0.1:8080/x"];
    let with = |more: &[&'static str]| -> Vec<String> {
        errors(&url.iter().chain(more).copied().collect::<Vec<_>>())
    };
    assert_eq!(
        with(&["--rate", "fast"]),
        ["--rate fast: expected a number of requests per second"]
    );
    let too_fast = with(&["--rate", "1e9"]);
    assert_eq!(too_fast.len(), 1);
    assert!(too_fast[0].starts_with("--rate 1e9: "), "{too_fast:?}");
    assert!(too_fast[0].contains("1000000"), "{too_fast:?}");
    let duration = with(&["--rate", "5", "--duration", "5 minutes"]);
    assert!(
        duration[0].starts_with("--duration '5 minutes': expected "),
        "{duration:?}"
    );
    assert_eq!(
        with(&["--rate", "5", "--header", "x-no-colon"]),
        ["--header x-no-colon: expected NAME:VALUE, such as `authorization: Bearer t0ken`"]
    );
    let unit = with(&["--rate", "5", "--threshold", "latency.p99<50xs"]);
    assert!(
        unit[0].starts_with("--threshold 'latency.p99<50xs': "),
        "{unit:?}"
    );
    let metric = with(&["--rate", "5", "--threshold", "latncy.p99<50ms"]);
    assert!(
        metric[0].starts_with("--threshold 'latncy.p99<50ms': "),
        "{metric:?}"
    );
    assert!(metric[0].contains("latency"), "a suggestion: {metric:?}");
    let method = with(&["--rate", "5", "--method", "GE T"]);
    assert!(method[0].starts_with("--method 'GE T': "), "{method:?}");
    let placeholder = with(&["--rate", "5", "--body", "{{sq}}"]);
    assert!(
        placeholder[0].starts_with("--body '{{sq}}': "),
        "{placeholder:?}"
    );
    assert!(
        placeholder[0].contains("did you mean `seq`?"),
        "{placeholder:?}"
    );
    assert_eq!(
        with(&[]),
        [
            "--url: give --rate (requests per second, open model) or --concurrency (workers, \
          closed model)"
        ]
    );
    assert_eq!(
        errors(&["--url", "localhost:8080", "--rate", "5"]),
        [
            "--url localhost:8080: expected an http:// or https:// URL such as \
          http://127.0.0.1:8080/api/health"
        ]
    );
    // Every problem at once.
    assert_eq!(with(&["--rate", "x", "--header", "y"]).len(), 2);
}

#[test]
fn urls_split_into_the_target_and_the_request_path() {
    let cases = [
        ("http://h:1", Some(("http://h:1", "/"))),
        ("http://h:1/", Some(("http://h:1", "/"))),
        ("https://h/a/b?c=d", Some(("https://h", "/a/b?c=d"))),
        ("http://h?q=1", Some(("http://h", "/?q=1"))),
        ("http://[::1]:8080/x", Some(("http://[::1]:8080", "/x"))),
        ("ftp://h/x", None),
        ("http:///x", None),
        ("h/x", None),
    ];
    for (url, split) in cases {
        let split = split.map(|(a, b)| (a.to_string(), b.to_string()));
        assert_eq!(split_url(url), split, "{url}");
    }
}

#[test]
fn flags_that_belong_to_a_one_liner_need_url_and_files_exclude_it() {
    let parse =
        |args: &[&str]| Cli::try_parse_from(["coldfront", "run"].iter().chain(args)).map(|_| ());
    assert!(parse(&["--rate", "5", "scenarios/x.toml"]).is_err());
    assert!(parse(&["--url", "http://h", "scenarios/x.toml"]).is_err());
    assert!(parse(&["--url", "http://h", "--rate", "5", "--concurrency", "2"]).is_err());
    assert!(parse(&[]).is_err());
    assert!(parse(&["scenarios/x.toml"]).is_ok());
}
