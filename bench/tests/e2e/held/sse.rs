//! SSE streams against the in-test server: streams that end, are held past their hold, are cut
//! or refused; a held request in the closed model; Ctrl-C during long holds.

use std::time::Duration;

use super::*;

#[test]
fn sse_streams_that_end_count_every_event_and_time_the_first() {
    let server = SseServer::start();
    let dir = tempfile::tempdir().unwrap();
    let request = "kind = \"sse\"\npath = \"/events?count=3&interval_ms=100&first_ms=200\"\n\
                   hold = \"5s\"";
    let t = &run(
        dir.path(),
        &[(
            "sse-ends",
            scenario("sse-ends", &server.url(), FIVE_IN_ONE_SECOND, request),
        )],
    )[0];
    let h = held(t);
    assert_eq!(t.requests, 5);
    assert_eq!(t.ok, 5, "{:?}", t.errors);
    assert_eq!(
        (
            h.requests,
            h.opened,
            h.completed,
            h.held,
            h.cut,
            h.refused,
            h.failed
        ),
        (5, 5, 5, 0, 0, 0, 0)
    );
    assert_eq!(h.messages, 15, "three events per stream");
    assert_eq!(h.messages_sent, 0);
    // The first event comes 200 ms after the answer; on loopback, not much later. (Histogram
    // values are exact to 3 significant digits, so 200 may read 199.9.)
    let first = &h.time_to_first_message_ms;
    assert_eq!(first.count, 5);
    assert!(
        first.min >= 199.0 && first.max < 400.0,
        "time to first message {first:?}"
    );
    // The sample's latency is the time to the first message too.
    assert!(t.latency_ms.min >= 199.0 && t.latency_ms.max < 400.0);
    // Open from the answer to the end of the body: 200 + 2 × 100 ms.
    assert!(
        h.held_for_ms.min >= 300.0 && h.held_for_ms.max < 600.0,
        "held for {:?}",
        h.held_for_ms
    );
    // 400 ms streams started 200 ms apart: two or three at once.
    assert!((2..=3).contains(&h.max_open), "max open {}", h.max_open);
    assert_own_connections_all_closed(t);
    assert_nothing_open_at_the_end(&dir.path().join("out/sse-ends"));
}

#[test]
fn sse_streams_open_past_their_hold_are_held_then_closed_by_the_generator() {
    let server = SseServer::start();
    let dir = tempfile::tempdir().unwrap();
    let request = "kind = \"sse\"\npath = \"/events?interval_ms=100\"\nhold = \"1s\"";
    let load = "[[load.phases]]\nduration = \"1s\"\nrate = 4";
    let t = &run(
        dir.path(),
        &[(
            "sse-held",
            scenario("sse-held", &server.url(), load, request),
        )],
    )[0];
    let h = held(t);
    assert_eq!((t.requests, t.ok), (4, 4), "{:?}", t.errors);
    assert_eq!((h.opened, h.held, h.completed, h.cut), (4, 4, 0, 0));
    // An event at once and every 100 ms: ten in a one-second hold (an eleventh may race it).
    assert!(
        (40..=44).contains(&h.messages),
        "messages {} for 4 streams",
        h.messages
    );
    assert!(
        h.held_for_ms.min >= 995.0 && h.held_for_ms.max < 1200.0,
        "held for {:?}",
        h.held_for_ms
    );
    assert!(h.time_to_first_message_ms.max < 200.0);
    assert_own_connections_all_closed(t);
    let set = dir.path().join("out/sse-held");
    let series = read_series(&set);
    assert!(
        series.iter().any(|r| r.held_open.is_some_and(|n| n >= 3)),
        "streams overlap: {series:?}"
    );
    assert_nothing_open_at_the_end(&set);
}

#[test]
fn cut_and_refused_streams_are_errors_of_their_kind() {
    let server = SseServer::start();
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let sse = |path: &str| format!("kind = \"sse\"\npath = \"{path}\"\nhold = \"3s\"");
    let summaries = run(
        dir.path(),
        &[
            (
                "cut",
                scenario(
                    "cut",
                    &url,
                    FIVE_IN_ONE_SECOND,
                    &sse("/events?count=2&interval_ms=50&end=cut"),
                ),
            ),
            (
                "refused",
                scenario("refused", &url, FIVE_IN_ONE_SECOND, &sse("/status/503")),
            ),
            (
                "throttled",
                scenario("throttled", &url, FIVE_IN_ONE_SECOND, &sse("/status/429")),
            ),
        ],
    );
    let (cut, refused, throttled) = (&summaries[0], &summaries[1], &summaries[2]);

    let h = held(cut);
    assert_eq!((h.opened, h.cut, h.held, h.completed), (5, 5, 0, 0));
    assert_eq!(h.messages, 10, "the events before the cut count");
    assert_eq!(cut.errors[&coldfront::model::Outcome::IoError], 5);
    assert_eq!(cut.ok, 0);
    assert_own_connections_all_closed(cut);

    let h = held(refused);
    assert_eq!((h.refused, h.opened, h.messages), (5, 0, 0));
    assert_eq!(h.refused_by_status.get("503"), Some(&5));
    assert_eq!(refused.errors[&coldfront::model::Outcome::Http5xx], 5);
    assert_eq!(h.held_for_ms.count, 0, "never opened");
    assert_eq!(h.time_to_first_message_ms.count, 0);
    assert_eq!(
        refused.latency_ms.count, 5,
        "still recorded: time to the answer"
    );
    assert_own_connections_all_closed(refused);

    let h = held(throttled);
    assert_eq!(h.refused_by_status.get("429"), Some(&5));
    assert_eq!(
        (
            throttled.throttled,
            throttled.errors[&coldfront::model::Outcome::Throttled]
        ),
        (5, 5)
    );
}

#[test]
fn a_held_request_occupies_its_closed_model_worker_for_the_hold() {
    let server = SseServer::start();
    let dir = tempfile::tempdir().unwrap();
    let load = "model = \"closed\"\n[[load.phases]]\nduration = \"1s\"\nconcurrency = 2";
    let request = "kind = \"sse\"\npath = \"/events?interval_ms=100\"\nhold = \"600ms\"";
    let t = &run(
        dir.path(),
        &[(
            "closed-held",
            scenario("closed-held", &server.url(), load, request),
        )],
    )[0];
    // Each worker: one hold from 0 to 0.6 s, a second from 0.6 to 1.2 s, then the phase is over.
    assert_eq!(t.requests, 4, "{t:?}");
    assert_eq!(held(t).held, 4);
    assert_eq!(held(t).max_open, 2);
    assert_own_connections_all_closed(t);
}

#[test]
fn ctrl_c_closes_held_connections_promptly() {
    let server = SseServer::start();
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(
        "long-hold",
        &server.url(),
        "[[load.phases]]\nduration = \"30s\"\nrate = 4",
        "kind = \"sse\"\npath = \"/events?interval_ms=100\"\nhold = \"60s\"",
    );
    let path = write_scenario(dir.path(), "long-hold", &text);
    let out = dir.path().join("out");
    let run = BackgroundRun::start(&out, &path);
    let set = out.join("long-hold");
    run.wait_for(&set.join("t.hlog.partial"), Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(1500));
    // Without the interruption the 60 s holds would keep the run going for a minute; the exit
    // also waits for the report, so the holds' own ends are checked below.
    let (status, _) = run.interrupt(Duration::from_secs(20));
    assert_eq!(status.code(), Some(130));
    let summary = read_summary(&set);
    assert_eq!(summary.status, coldfront::model::RunStatus::Interrupted);
    let t = &summary.targets["t"];
    let h = held(t);
    assert!(h.held >= 4, "{h:?}");
    assert_eq!(h.held, h.requests, "closed by the generator: held");
    assert!(
        h.held_for_ms.max < 4000.0,
        "60 s holds ended at once: {:?}",
        h.held_for_ms
    );
    assert_eq!(t.connections.opened, t.connections.closed);
}
