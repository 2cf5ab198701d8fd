//! `coldfront run` with built-in targets: the harness starts a throwaway PostgreSQL and the
//! target process itself, samples them, and leaves nothing running afterwards — also after
//! Ctrl-C.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::support::*;

fn persistent_scenario(name: &str, seconds: u32) -> String {
    ScenarioText::new(name)
        .target("server", "kind = \"persistent\"\npool = 3")
        .phase(&format!("duration = \"{seconds}s\"\nrate = 100"))
        .request("path = \"/api/blogs?category=rust\"")
        .database("max_connections = 20")
        .to_string()
}

/// The ports of the target and of its database, from the manifest.
fn target_ports(set: &Path) -> (u16, u16) {
    let manifest: coldfront::resultset::Manifest =
        coldfront::resultset::read_json(&set.join("manifest.json"), "manifest").unwrap();
    let target = &manifest.scenario.targets[0];
    let port_of = |url: &str| -> u16 {
        let authority = url.split("://").nth(1).unwrap().split('/').next().unwrap();
        authority.rsplit(':').next().unwrap().parse().unwrap()
    };
    (
        port_of(target.url.as_deref().expect("target url")),
        port_of(target.database_url.as_deref().expect("database url")),
    )
}

fn assert_nothing_listens(port: u16) {
    let refused = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_err();
    assert!(refused, "something still listens on port {port}");
}

#[test]
fn persistent_target_is_started_sampled_and_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "builtin", &persistent_scenario("builtin", 2));
    let out = dir.path().join("out");
    let output = run_coldfront(&out, &[&scenario]);
    assert_exit(&output, 0);
    let set = out.join("builtin");
    let t = &read_summary(&set).targets["server"];
    assert_eq!(t.requests, 200);
    assert_eq!(t.ok, 200, "{:?}", t.errors);
    let db = t.db_connections.expect("database connections sampled");
    assert!(db.max >= 1 && db.max <= 3, "pool of 3, saw {}", db.max);
    let metrics = t.target_metrics.as_ref().expect("metrics endpoint sampled");
    assert_eq!(metrics["runtime"], "persistent");
    assert_eq!(metrics["pool"]["max"], 3);
    assert_eq!(
        t.cold_starts,
        Some(0),
        "a persistent process has no cold starts"
    );
    let series = read_series(&set);
    assert!(series
        .iter()
        .any(|r| r.db_connections.is_some_and(|n| n >= 1)));
    assert!(set.join("server.log").exists());
    let (target_port, database_port) = target_ports(&set);
    assert_nothing_listens(target_port);
    assert_nothing_listens(database_port);
}

#[test]
fn ctrl_c_stops_the_target_and_removes_its_database() {
    signal_stops_the_target_and_removes_its_database(libc::SIGINT);
}

/// SIGTERM (what `kill`, `timeout` and CI cancellation send) is Ctrl-C: an interrupted result
/// set, the target and its database stopped, and the throwaway cluster's directory removed.
#[test]
fn sigterm_stops_the_target_and_removes_its_database() {
    signal_stops_the_target_and_removes_its_database(libc::SIGTERM);
}

/// A minute-long persistent run in the background with its own `TMPDIR`, once its load has
/// begun: the run, the test's directory, the output and the `TMPDIR`.
fn long_run_with_own_tmpdir() -> (BackgroundRun, tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let scenario = write_scenario(dir.path(), "long", &persistent_scenario("long", 60));
    let out = dir.path().join("out");
    let run = BackgroundRun::start_in(&out, &scenario, &[], Some(&tmp));
    run.wait_for(
        &out.join("long/server.hlog.partial"),
        Duration::from_secs(60),
    );
    (run, dir, out, tmp)
}

fn signal_stops_the_target_and_removes_its_database(signal: libc::c_int) {
    let (run, _dir, out, tmp) = long_run_with_own_tmpdir();
    let set = out.join("long");
    assert_eq!(
        cluster_dirs(&tmp).len(),
        1,
        "the run's cluster lives in its TMPDIR"
    );
    std::thread::sleep(Duration::from_millis(1200));
    let (status, _) = run.signal(signal, Duration::from_secs(15));
    assert_eq!(status.code(), Some(130), "after signal {signal}");
    let summary = read_summary(&set);
    assert_eq!(summary.status, coldfront::model::RunStatus::Interrupted);
    assert!(summary.targets["server"].requests > 0);
    let (target_port, database_port) = target_ports(&set);
    assert_nothing_listens(target_port);
    assert_nothing_listens(database_port);
    assert!(cluster_dirs(&tmp).is_empty(), "no cluster directory left");
}

/// The throwaway cluster directories under `tmp` (a run's `TMPDIR`).
fn cluster_dirs(tmp: &Path) -> Vec<PathBuf> {
    // SAFETY: getuid has no preconditions.
    let root = tmp.join(format!("coldfront-{}", unsafe { libc::getuid() }));
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with("coldfront-pg-")
        })
        .collect()
}

/// A run killed with SIGKILL cannot clean up: its server dies with it (parent-death signal),
/// its cluster directory stays, and the next run's cluster start removes it.
#[test]
fn the_next_run_removes_the_cluster_of_a_killed_run() {
    let (run, dir, out, tmp) = long_run_with_own_tmpdir();
    let leaked = cluster_dirs(&tmp);
    assert_eq!(leaked.len(), 1);
    let postmaster = std::fs::read_to_string(leaked[0].join("data/postmaster.pid")).unwrap();
    let server: u32 = postmaster.lines().next().unwrap().trim().parse().unwrap();
    let (status, _) = run.signal(libc::SIGKILL, Duration::from_secs(5));
    assert_eq!(status.code(), None, "killed");
    let gone = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| stat.contains(") Z "))
            .unwrap_or(true)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !gone(server) {
        assert!(
            std::time::Instant::now() < deadline,
            "the server outlived its run"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(leaked[0].exists(), "SIGKILL leaves the directory");

    let next = write_scenario(dir.path(), "short", &persistent_scenario("short", 1));
    let run = BackgroundRun::start_in(&out, &next, &[], Some(&tmp));
    assert_eq!(run.wait(Duration::from_secs(90)).code(), Some(0));
    assert!(!leaked[0].exists(), "the next run removed it");
    assert_eq!(cluster_dirs(&tmp), Vec::<PathBuf>::new());
}

/// Serverless instance processes whose gateway is gone (re-parented to init). Instances of
/// other tests running at the same time still have their gateway as parent.
fn orphaned_instances() -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| {
            let is_instance = std::fs::read(entry.path().join("cmdline"))
                .map(|cmdline| cmdline.split(|&b| b == 0).any(|arg| arg == b"__instance"))
                .unwrap_or(false);
            let orphaned = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|stat| {
                    let after_name = stat.rsplit_once(')')?.1;
                    after_name.split_whitespace().nth(1).map(|ppid| ppid == "1")
                })
                .unwrap_or(false);
            is_instance && orphaned
        })
        .count()
}

#[test]
fn serverless_target_reports_cold_starts_after_an_idle_gap() {
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("cold-after-idle")
        .target(
            "fn",
            "kind = \"serverless\"\nkeep_warm = \"1s\"\ninit = \"20ms\"\nmax_instances = 7",
        )
        .phase("duration = \"2s\"\nrate = 20")
        .phase("duration = \"2s\"\nrate = 0")
        .phase("duration = \"1s\"\nrate = 20")
        .request("path = \"/api/health\"");
    let scenario = write_scenario(dir.path(), "cold-after-idle", &text);
    let out = dir.path().join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let set = out.join("cold-after-idle");
    let t = &read_summary(&set).targets["fn"];
    assert_eq!(t.ok, 60, "{:?}", t.errors);
    let cold = t.cold_starts.expect("the emulator reports cold starts");
    // At least one at the start and one after the idle gap (longer than keep_warm).
    assert!((2..60).contains(&cold), "cold starts {cold}");
    let cold_p50 = t.cold_latency_ms.unwrap().p50;
    let warm_p50 = t.warm_latency_ms.unwrap().p50;
    assert!(
        cold_p50 >= 20.0 && cold_p50 > warm_p50,
        "cold {cold_p50} warm {warm_p50}"
    );
    let series = read_series(&set);
    let after_gap: u64 = series
        .iter()
        .filter(|r| r.second == 5)
        .filter_map(|r| r.cold_starts)
        .sum();
    assert!(
        after_gap >= 1,
        "a cold start after the idle gap: {series:?}"
    );
    assert!(series.iter().any(|r| r.instances.is_some_and(|n| n >= 1)));
    let metrics = t.target_metrics.as_ref().unwrap();
    assert_eq!(metrics["runtime"], "serverless");
    // The scenario's settings reached `serve` (as COLDFRONT_TARGET_SETTINGS JSON).
    assert_eq!(metrics["instances"]["max"], 7, "{metrics}");
    let (target_port, database_port) = target_ports(&set);
    assert_nothing_listens(target_port);
    assert_nothing_listens(database_port);
    assert_eq!(orphaned_instances(), 0, "instances outlived their gateway");
}

/// `Cpus_allowed_list` of a process.
fn allowed_cpus(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .unwrap()
        .trim()
        .to_string()
}

/// Children of `parent` (from /proc).
fn children(parent: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let ppid: u32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

#[test]
fn pin_puts_the_generator_on_cpu_0_and_the_target_on_cpu_1() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "pinned", &persistent_scenario("pinned", 60));
    let out = dir.path().join("out");
    let run = BackgroundRun::start_with(&out, &scenario, &["--pin"]);
    run.wait_for(
        &out.join("pinned/server.hlog.partial"),
        Duration::from_secs(60),
    );
    assert_eq!(allowed_cpus(run.pid()), "0", "the generator");
    let targets: Vec<u32> = children(run.pid())
        .into_iter()
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|cmdline| cmdline.split(|&b| b == 0).any(|arg| arg == b"serve"))
                .unwrap_or(false)
        })
        .collect();
    assert_eq!(targets.len(), 1, "one target process");
    assert_eq!(allowed_cpus(targets[0]), "1", "the target");
    let (status, _) = run.interrupt(Duration::from_secs(15));
    assert_eq!(status.code(), Some(130));
}

#[test]
fn a_target_that_cannot_start_leaves_a_failed_result_set() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "no-db", &persistent_scenario("no-db", 2));
    let out = dir.path().join("out");
    let unreachable = format!(
        "postgres://app@{}/coldfront",
        closed_port_url().trim_start_matches("http://")
    );
    let output = assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .args(["run", "--quiet", "--database-url", &unreachable, "--out"])
        .arg(&out)
        .arg(&scenario)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("target `server`"), "{stderr}");
    let manifest: coldfront::resultset::Manifest =
        coldfront::resultset::read_json(&out.join("no-db/manifest.json"), "manifest").unwrap();
    assert_eq!(manifest.status, coldfront::model::RunStatus::Failed);
    assert!(manifest.error.unwrap().contains("target `server`"));
    assert!(manifest.ended_at.is_some());
}
