//! Held connections (`kind = "sse" | "websocket"`) through `coldfront run`: against a small
//! in-test SSE server (exact message counts, time to the first message, every way a stream
//! ends, the closed model, Ctrl-C), and against the built-in targets (the serverless emulator
//! cuts SSE at `max_duration` and refuses WebSockets with 501; the persistent server holds
//! both).
//!
//! One file per concern; the scenario runner and the checks they share are here.

use std::path::Path;

use coldfront::resultset::{HeldSummary, TargetSummary};

use super::support::*;

mod builtin;
mod sse;
mod sse_server;
mod tls;

use sse_server::SseServer;

/// One scenario against `url`: `load` is the `[load]` body, `request` the `[[requests]]` body.
fn scenario(name: &str, url: &str, load: &str, request: &str) -> String {
    ScenarioText::new(name)
        .target_url("t", url)
        .load(load)
        .request(request)
        .to_string()
}

const FIVE_IN_ONE_SECOND: &str = "[[load.phases]]\nduration = \"1s\"\nrate = 5";

/// Runs the scenarios (one `coldfront run`) and returns the summary of target `t` of each.
fn run(dir: &Path, scenarios: &[(&str, String)]) -> Vec<TargetSummary> {
    let paths: Vec<_> = scenarios
        .iter()
        .map(|(name, text)| write_scenario(dir, name, text))
        .collect();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let out = dir.join("out");
    assert_exit(&run_coldfront(&out, &refs), 0);
    scenarios
        .iter()
        .map(|(name, _)| read_summary(&out.join(name)).targets["t"].clone())
        .collect()
}

fn held(t: &TargetSummary) -> &HeldSummary {
    t.held.as_ref().expect("a held section")
}

/// Every connection opened was closed, none failed, and each request had its own.
fn assert_own_connections_all_closed(t: &TargetSummary) {
    let c = &t.connections;
    assert_eq!((c.opened, c.closed, c.failed), (t.requests, t.requests, 0));
    assert_eq!(c.reused, 0, "a held request never reuses a connection");
}

/// The last per-second row: nothing open any more.
fn assert_nothing_open_at_the_end(set: &Path) {
    let series = read_series(set);
    let last = series.last().expect("a row");
    assert_eq!(last.connections_open, 0, "{series:?}");
    assert_eq!(last.held_open, Some(0), "{series:?}");
}
