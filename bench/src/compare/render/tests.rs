//! Snapshots of the renderers on a constructed comparison with fixed values.

use std::path::PathBuf;

use super::*;
use crate::compare::model::{Method, RunCounts, RunToRunNoise};
use crate::compare::stats::{Better, Bootstrap, ConfidenceInterval, Estimate};

fn metric(
    name: &str,
    unit: Unit,
    better: Better,
    a: f64,
    b: f64,
    interval: Option<(f64, f64)>,
) -> MetricComparison {
    let estimate = Estimate {
        a,
        b,
        interval: interval.map(|(low, high)| ConfidenceInterval { low, high }),
        per_run: Default::default(),
        spread: None,
    };
    MetricComparison::new(name.into(), unit, better, &estimate, 0.05, None)
}

fn run(dir: &str, started_at: &str, revision: Option<&str>, status: RunStatus) -> RunInfo {
    RunInfo {
        dir: PathBuf::from(dir),
        status,
        started_at: started_at.into(),
        git_revision: revision.map(String::from),
        coldfront_version: "0.1.0".into(),
    }
}

fn comparison() -> Comparison {
    use Better::{Higher, Lower};
    use Unit::*;
    Comparison {
        scenario: "quickstart".into(),
        a: run(
            "results/main/quickstart",
            "2025-11-24T19:00:00Z",
            Some("597acea0123456789abcdef"),
            RunStatus::Complete,
        ),
        b: run(
            "results/branch/quickstart",
            "2025-11-24T19:30:00Z",
            None,
            RunStatus::Interrupted,
        ),
        a_runs: Vec::new(),
        b_runs: Vec::new(),
        runs: RunCounts { a: 1, b: 1 },
        run_to_run_noise: RunToRunNoise::NotMeasured,
        method: Method::of(&Bootstrap::default(), RunToRunNoise::NotMeasured),
        tolerance: 0.05,
        metrics_judged: 0,
        targets: vec![
            TargetComparison {
                name: "serverless".into(),
                kind: crate::model::TargetKind::Serverless,
                metrics: vec![
                    metric(
                        "latency.p50",
                        Milliseconds,
                        Lower,
                        1.209,
                        1.155,
                        Some((-0.08, -0.02)),
                    ),
                    metric(
                        "latency.p99",
                        Milliseconds,
                        Lower,
                        112.5,
                        140.25,
                        Some((12.0, 40.5)),
                    ),
                    metric(
                        "latency.p999",
                        Milliseconds,
                        Lower,
                        250.0,
                        251.0,
                        Some((-9.5, 11.0)),
                    ),
                    metric(
                        "service_time.p90",
                        Milliseconds,
                        Lower,
                        1.5,
                        1.52,
                        Some((0.005, 0.03)),
                    ),
                    metric("cold_latency.p50", Milliseconds, Lower, 105.0, 98.0, None),
                    metric(
                        "throughput_rps",
                        RequestsPerSecond,
                        Higher,
                        44.36,
                        46.1,
                        Some((0.4, 3.1)),
                    ),
                    metric(
                        "timeout_rate",
                        Ratio,
                        Lower,
                        0.0,
                        0.004,
                        Some((0.001, 0.008)),
                    ),
                    metric(
                        "error_rate",
                        Ratio,
                        Lower,
                        0.01,
                        0.01,
                        Some((-0.002, 0.002)),
                    ),
                    metric(
                        "connections_open.mean",
                        Count,
                        Lower,
                        8.0,
                        7.5,
                        Some((-1.0, 0.25)),
                    ),
                    metric(
                        "db_connections.mean",
                        Count,
                        Lower,
                        8.0,
                        8.0,
                        Some((0.0, 0.0)),
                    ),
                ],
            },
            TargetComparison {
                name: "persistent".into(),
                kind: crate::model::TargetKind::Persistent,
                metrics: vec![metric(
                    "latency.p50",
                    Milliseconds,
                    Lower,
                    0.95,
                    0.951,
                    Some((-0.01, 0.012)),
                )],
            },
        ],
        only_in_a: vec!["external".into()],
        only_in_b: vec![],
    }
}

#[test]
fn text_table() {
    insta::assert_snapshot!(text(&comparison()));
}

#[test]
fn markdown_comment() {
    insta::assert_snapshot!(markdown(&comparison()));
}

#[test]
fn json_round_trips_with_stable_names() {
    let comparison = comparison();
    let text = json(&comparison);
    let back: Comparison = serde_json::from_str(&text).unwrap();
    // Floats read back to the last bit or one off: compare the rest exactly.
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * x.abs().max(1.0);
    for ((_, m), (_, n)) in back.metrics().zip(comparison.metrics()) {
        assert!(
            close(m.change, n.change) && close(m.a, n.a) && close(m.b, n.b),
            "{m:?}"
        );
        let (rm, rn) = (m.relative_change, n.relative_change);
        assert!(rm.zip(rn).is_none_or(|(x, y)| close(x, y)) && rm.is_some() == rn.is_some());
        let same = MetricComparison {
            change: 0.0,
            relative_change: None,
            ..m.clone()
        };
        assert_eq!(
            same,
            MetricComparison {
                change: 0.0,
                relative_change: None,
                ..n.clone()
            }
        );
    }
    let without_targets = |c: &Comparison| Comparison {
        targets: vec![],
        ..c.clone()
    };
    assert_eq!(without_targets(&back), without_targets(&comparison));
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let first = &value["targets"][0]["metrics"][1];
    assert_eq!(first["metric"], "latency.p99");
    assert_eq!(first["unit"], "ms");
    assert_eq!(first["better"], "lower");
    assert_eq!(first["verdict"], "regressed");
    assert_eq!(first["beyond_tolerance"], true);
    assert_eq!(first["interval"]["low"], 12.0);
    assert_eq!(
        value["targets"][0]["metrics"][6]["relative_change"],
        serde_json::Value::Null
    );
    assert_eq!(value["method"]["resamples"], 1000);
    assert_eq!(value["only_in_a"][0], "external");
}

#[test]
fn failures_name_target_metric_and_change() {
    let comparison = comparison();
    let failures: Vec<String> = comparison
        .failures()
        .map(|(t, m)| failure_line(t, m))
        .collect();
    assert_eq!(
        failures,
        [
            "serverless latency.p99 +24.7% (112.5 ms → 140.2 ms, CI of change [+12.0, +40.5] ms)",
            "serverless timeout_rate from 0 (0.00% → 0.40%, CI of change [+0.10, +0.80] pp)",
        ]
    );
}

#[test]
fn percent_drops_trailing_zeros() {
    assert_eq!(crate::model::percent(0.05), "5%");
    assert_eq!(crate::model::percent(0.125), "12.5%");
    assert_eq!(crate::model::percent(0.95), "95%");
}

/// Three runs a side: the run lists, the noise measured, each run's value and the method.
fn repeated() -> Comparison {
    let runs = |side: &str| {
        (1..=3)
            .map(|k| {
                let dir = format!("results/{side}/quickstart/rep-{k}");
                run(&dir, "2025-11-24T19:00:00Z", None, RunStatus::Complete)
            })
            .collect::<Vec<_>>()
    };
    let estimate = Estimate {
        a: 1.2,
        b: 1.5,
        interval: Some(ConfidenceInterval {
            low: 0.1,
            high: 0.5,
        }),
        per_run: [vec![1.1, 1.2, 1.3], vec![1.4, 1.5, 1.6]],
        spread: None,
    };
    let p50 = MetricComparison::new(
        "latency.p50".into(),
        Unit::Milliseconds,
        Better::Lower,
        &estimate,
        0.05,
        None,
    );
    Comparison {
        a_runs: runs("main"),
        b_runs: runs("branch"),
        runs: RunCounts { a: 3, b: 3 },
        run_to_run_noise: RunToRunNoise::Measured,
        method: Method::of(&Bootstrap::default(), RunToRunNoise::Measured),
        metrics_judged: 1,
        targets: vec![TargetComparison {
            name: "persistent".into(),
            kind: crate::model::TargetKind::Persistent,
            metrics: vec![p50],
        }],
        only_in_a: vec![],
        ..comparison()
    }
}

#[test]
fn several_runs_a_side_show_the_runs_and_the_method_between_them() {
    let text = text(&repeated());
    for expected in [
        "run-to-run noise: measured (3 runs of A, 3 of B)",
        "results/main/quickstart/rep-3",
        "results/branch/quickstart/rep-1",
        "Student t between runs (Welch)",
        "regressed",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    let markdown = markdown(&repeated());
    assert!(
        markdown.contains("run-to-run noise: measured (3 runs of A, 3 of B)"),
        "{markdown}"
    );
}

#[test]
fn a_significant_change_within_the_allowance_reads_within_run_to_run_noise() {
    let estimate = Estimate {
        a: 1.0,
        b: 1.08,
        interval: Some(ConfidenceInterval {
            low: 0.05,
            high: 0.11,
        }),
        per_run: Default::default(),
        spread: None,
    };
    let metric = MetricComparison::new(
        "latency.p50".into(),
        Unit::Milliseconds,
        Better::Lower,
        &estimate,
        0.05,
        Some(0.18),
    );
    let comparison = Comparison {
        targets: vec![TargetComparison {
            name: "persistent".into(),
            kind: crate::model::TargetKind::Persistent,
            metrics: vec![metric],
        }],
        ..comparison()
    };
    let text = text(&comparison);
    assert!(text.contains("within run-to-run noise"), "{text}");
    assert!(
        text.contains("1 within run-to-run noise"),
        "the tally counts it: {text}"
    );
    assert!(
        text.contains("run-to-run noise: not measured (one run a side)"),
        "{text}"
    );
    assert_eq!(comparison.failures().count(), 0);
}
