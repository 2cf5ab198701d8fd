//! How a run ends early: SIGINT (Ctrl-C), SIGTERM and SIGHUP each leave an interrupted result
//! set; a file the result set promises that cannot be written fails the run, naming it.

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

/// A file the result set promises that cannot be written (here `report.html`, taken by a
/// directory; a full disk does the same) fails the run: non-zero exit, the manifest `failed`
/// with the error naming the file, and what was measured kept.
#[test]
fn a_promised_file_that_cannot_be_written_fails_the_run_naming_it() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "blocked",
        &open_scenario(
            "blocked",
            &server.url(),
            "[[load.phases]]\nduration = \"1s\"\nrate = 10",
            "/ok",
        ),
    );
    let out = dir.path().join("out");
    let blocker = out.join("blocked/report.html");
    std::fs::create_dir_all(blocker.join("taken")).unwrap();
    let output = run_coldfront(&out, &[&scenario]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&blocker.display().to_string()), "{stderr}");
    let set = out.join("blocked");
    let manifest: coldfront::resultset::Manifest =
        coldfront::resultset::read_json(&set.join("manifest.json"), "manifest").unwrap();
    assert_eq!(manifest.status, coldfront::model::RunStatus::Failed);
    let error = manifest.error.unwrap();
    assert!(error.contains(&blocker.display().to_string()), "{error}");
    assert_eq!(
        read_summary(&set).targets["t"].requests,
        10,
        "the measurements are kept"
    );
}
