//! Held requests against the built-in targets: the serverless emulator cuts SSE at
//! `max_duration` and refuses WebSockets; the persistent server holds both.

use super::*;

// ---- built-in targets ----------------------------------------------------------------------

/// A scenario with a serverless target (`max_duration = 1s`) and a persistent one, 2 s of one
/// held request kind at 3/s.
fn realtime_scenario(name: &str, request: &str) -> String {
    ScenarioText::new(name)
        .target(
            "serverless",
            "kind = \"serverless\"\nmax_duration = \"1s\"\ninit = \"10ms\"",
        )
        .target("persistent", "kind = \"persistent\"\npool = 2")
        .phase("duration = \"2s\"\nrate = 3")
        .request(request)
        .database("max_connections = 20")
        .to_string()
}

fn run_builtin(dir: &Path, name: &str, text: &str) -> (TargetSummary, TargetSummary) {
    let scenario = write_scenario(dir, name, text);
    let out = dir.join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let set = out.join(name);
    assert_nothing_open_at_the_end(&set);
    let mut summary = read_summary(&set);
    let serverless = summary.targets.remove("serverless").unwrap();
    let persistent = summary.targets.remove("persistent").unwrap();
    (serverless, persistent)
}

#[test]
fn sse_is_cut_at_max_duration_on_serverless_and_held_on_persistent() {
    let dir = tempfile::tempdir().unwrap();
    let request = "kind = \"sse\"\npath = \"/api/events?count=100&interval_ms=200\"\nhold = \"3s\"";
    let (serverless, persistent) = run_builtin(
        dir.path(),
        "sse-realtime",
        &realtime_scenario("sse-realtime", request),
    );

    let h = held(&serverless);
    assert_eq!(serverless.requests, 6);
    assert_eq!((h.opened, h.cut, h.held), (6, 6, 0), "{h:?}");
    assert_eq!(serverless.errors[&coldfront::model::Outcome::IoError], 6);
    // Cut a second after the instance started on it, long before the 3 s hold.
    assert!(
        h.held_for_ms.max < 1500.0 && h.held_for_ms.min >= 700.0,
        "{:?}",
        h.held_for_ms
    );
    // An event at once and every 200 ms until the cut: about five each.
    assert!(
        (6 * 4..=6 * 6).contains(&h.messages),
        "messages {}",
        h.messages
    );
    assert_own_connections_all_closed(&serverless);

    let h = held(&persistent);
    assert_eq!(persistent.ok, 6, "{:?}", persistent.errors);
    assert_eq!((h.opened, h.held, h.cut), (6, 6, 0), "{h:?}");
    // An event at once and every 200 ms for 3 s: fifteen each (a sixteenth may race the end).
    assert!(
        (6 * 15..=6 * 16).contains(&h.messages),
        "messages {}",
        h.messages
    );
    assert!(h.held_for_ms.min >= 2990.0, "{:?}", h.held_for_ms);
    assert_own_connections_all_closed(&persistent);
}

#[test]
fn websockets_are_refused_by_serverless_and_held_with_echoes_on_persistent() {
    let dir = tempfile::tempdir().unwrap();
    let request =
        "kind = \"websocket\"\npath = \"/api/chat\"\nhold = \"2200ms\"\nsend_every = \"500ms\"";
    let (serverless, persistent) = run_builtin(
        dir.path(),
        "ws-realtime",
        &realtime_scenario("ws-realtime", request),
    );

    let h = held(&serverless);
    assert_eq!(serverless.requests, 6);
    assert_eq!((h.refused, h.opened, h.messages_sent), (6, 0, 0), "{h:?}");
    assert_eq!(h.refused_by_status.get("501"), Some(&6));
    assert_eq!(serverless.errors[&coldfront::model::Outcome::Http5xx], 6);
    assert_own_connections_all_closed(&serverless);

    let h = held(&persistent);
    assert_eq!(persistent.ok, 6, "{:?}", persistent.errors);
    assert_eq!((h.opened, h.held, h.cut, h.refused), (6, 6, 0, 0), "{h:?}");
    // Sent at the opening and every 500 ms of a 2.2 s hold: five each, each echoed; the other
    // chat clients open at the time also receive it (broadcast).
    assert_eq!(h.messages_sent, 6 * 5);
    assert!(
        h.messages >= h.messages_sent && h.messages <= h.messages_sent * 6,
        "messages {} for {} sent",
        h.messages,
        h.messages_sent
    );
    assert!(h.held_for_ms.min >= 2190.0, "{:?}", h.held_for_ms);
    assert!(
        h.time_to_first_message_ms.count == 6 && h.time_to_first_message_ms.max < 500.0,
        "the first echo comes right after the first send: {:?}",
        h.time_to_first_message_ms
    );
    assert_own_connections_all_closed(&persistent);
}
