//! The latency-over-time chart: its lines, the requests behind each point, and the seconds
//! it leaves out.

use super::super::fixtures;
use super::*;

fn pooled_of(run: &ResultSet, name: &str) -> Vec<Pooled> {
    let target = run.target(name).unwrap();
    percentiles(target, window_seconds(run.seconds()), &Timeline::of(run))
}

#[test]
fn draws_each_targets_p50_and_p99_over_phases_shaded_by_their_load() {
    let chart = latency_over_time(&fixtures::sample()).unwrap();
    fixtures::assert_chart(
        &chart,
        &[
            Y_DESC,
            timeline::X_DESC,
            COUNT_CAPTION,
            "serverless p99",
            "persistent p50",
            "steady",
            "idle",
            "burst",
            "idle phase (no load)",
            "p50 needs 10",
            "p99 needs 100",
            "a p50 is drawn from ≥10 requests, a p99 from ≥100",
        ],
    );
}

#[test]
fn no_percentile_is_drawn_from_fewer_requests_than_it_needs() {
    let run = fixtures::lone_late_request();
    let [p99, p50] = <[Pooled; 2]>::try_from(pooled_of(&run, "persistent")).unwrap();
    for (q, pooled) in [(0.99, &p99), (0.5, &p50)] {
        assert!(!pooled.points.is_empty(), "{q}: some points");
        for point in &pooled.points {
            assert!(
                point.requests >= enough::requests_for(q),
                "{q}: a point from {} requests: {point:?}",
                point.requests
            );
            let (x, _) = point.at();
            assert!(
                !(10.0..18.0).contains(&x),
                "{q}: nothing is drawn in the idle gap, which held one request: {point:?}"
            );
        }
    }
    // The late request's second is the only one too thin for a p50 …
    assert_eq!(p50.left_out_s, 1.0);
    assert!(p50.points.iter().all(|p| p.end - p.start == 1.0));
    // … and at 50 requests a second, a p99 takes two seconds or more.
    let steady: Vec<&Point> = p99.points.iter().filter(|p| p.end <= 10.0).collect();
    assert!(!steady.is_empty() && steady.iter().all(|p| p.end - p.start >= 2.0));
    let chart = latency_over_time(&run).unwrap();
    fixtures::assert_chart(
        &chart,
        &["not drawn, too few requests: persistent p99 for 1 s, persistent p50 for 1 s"],
    );
    let drawn = p50.points.iter().chain(&p99.points);
    assert!(
        drawn.map(|p| p.ms).all(|ms| ms < 50.0),
        "no point stands for the 50 ms request"
    );
}

#[test]
fn a_long_run_is_read_per_window() {
    assert_eq!(window_seconds(23), 1);
    assert_eq!(window_seconds(200), 1);
    assert_eq!(window_seconds(201), 2);
    assert_eq!(window_seconds(600), 3);
    let long = fixtures::target("persistent", 1, &fixtures::Shape::persistent(400, |_| 5));
    let mut run = fixtures::sample();
    run.targets = vec![long];
    let [p99, p50] = <[Pooled; 2]>::try_from(pooled_of(&run, "persistent")).unwrap();
    // 10 requests per 2 s window: a p50 per window, and no p99 within 10 s (50 requests).
    assert!(p50
        .points
        .iter()
        .all(|p| p.end - p.start == 2.0 && p.requests == 10));
    assert!(p99.points.is_empty() && p99.left_out_s > 0.0);
    let chart = latency_over_time(&run).unwrap();
    fixtures::assert_chart(&chart, &["latency per 2 s window or more (ms, log scale)"]);
}

#[test]
fn awkward_runs_draw_without_panicking() {
    for (name, run) in fixtures::awkward() {
        let chart = latency_over_time(&run).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let expected: &[&str] = match name {
            "empty" => &["no data: no request completed"],
            "zero latency" => &["no data: every request measured 0 ms"],
            "single sample" => &["no data: too few requests for any percentile"],
            _ => &[Y_DESC],
        };
        fixtures::assert_chart(&chart, expected);
    }
}
