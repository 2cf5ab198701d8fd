//! `coldfront serve persistent` as a process: SIGTERM ends it within the grace period even
//! while a long request's work is still running, and its throwaway cluster goes with it.

use std::io::{BufRead as _, Write as _};
use std::time::{Duration, Instant};

/// A client asks for 30 s of work and leaves after one; SIGTERM then stops the server within
/// the grace period (5 s) and a little, not when the work would have ended.
#[test]
fn sigterm_ends_serve_within_the_grace_period_despite_a_long_request() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("coldfront"))
        .args(["serve", "persistent", "--port", "0"])
        .env_remove("DATABASE_URL")
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(addr) = line.strip_prefix("listening on http://") {
            break addr.to_string();
        }
    };
    let mut client = std::net::TcpStream::connect(&addr).unwrap();
    client
        .write_all(
            b"POST /api/report?work_ms=30000 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    drop(client);
    // SAFETY: signalling the child this test started, by its PID.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("serve still running 20 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(9), "stopped after {took:?}");
    // SAFETY: getuid has no preconditions.
    let clusters = tmp
        .path()
        .join(format!("coldfront-{}", unsafe { libc::getuid() }));
    let left: Vec<_> = std::fs::read_dir(clusters).unwrap().collect();
    assert!(left.is_empty(), "its cluster was removed: {left:?}");
}
