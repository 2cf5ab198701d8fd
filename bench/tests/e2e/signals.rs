//! Stopping a run: SIGINT (Ctrl-C), SIGTERM and SIGHUP each leave an interrupted result set.

use std::time::Duration;

use super::load::open_scenario;
use super::support::*;

#[test]
fn sigint_leaves_an_interrupted_result_set() {
    signal_leaves_an_interrupted_result_set(libc::SIGINT);
}

/// What `kill`, `timeout` and CI cancellation send, and a closed terminal: like Ctrl-C.
#[test]
fn sigterm_and_sighup_leave_an_interrupted_result_set() {
    signal_leaves_an_interrupted_result_set(libc::SIGTERM);
    signal_leaves_an_interrupted_result_set(libc::SIGHUP);
}

fn signal_leaves_an_interrupted_result_set(signal: libc::c_int) {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "long",
        &open_scenario(
            "long",
            &server.url(),
            "[[load.phases]]\nduration = \"60s\"\nrate = 100",
            "/ok",
        ),
    );
    let out = dir.path().join("out");
    let run = BackgroundRun::start(&out, &scenario);
    let set = out.join("long");
    run.wait_for(&set.join("t.hlog.partial"), Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(1500));
    let (status, took) = run.signal(signal, Duration::from_secs(5));
    assert!(took < Duration::from_millis(2500), "stopped in {took:?}");
    assert_eq!(status.code(), Some(130), "after signal {signal}");
    assert!(
        !set.join("t.hlog.partial").exists(),
        "the streamed files were finished"
    );
    let manifest: coldfront::resultset::Manifest =
        coldfront::resultset::read_json(&set.join("manifest.json"), "manifest").unwrap();
    assert_eq!(manifest.status, coldfront::model::RunStatus::Interrupted);
    assert!(manifest.ended_at.is_some());
    let summary = read_summary(&set);
    assert_eq!(summary.status, coldfront::model::RunStatus::Interrupted);
    let t = &summary.targets["t"];
    assert!(
        t.requests >= 100 && t.requests < 1000,
        "requests {}",
        t.requests
    );
    assert!(!read_series(&set).is_empty());
    assert!(set.join("t.hlog").exists());
}
