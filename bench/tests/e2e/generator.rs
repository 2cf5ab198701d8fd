//! The generator measuring itself: a generator starved of CPU on purpose is marked
//! `generator.limited`, says so, and a verdict its delay could have decided is inconclusive
//! (exit 3); an easy run is not marked.

use std::os::unix::process::CommandExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::support::*;

/// Restricts the calling thread (or, before `exec`, the process) to CPU 0.
fn pin_to_cpu0() -> std::io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET and sched_setaffinity only
    // read and write it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Threads that keep CPU 0 busy until dropped (at most `limit`), so a generator pinned there
/// gets a fraction of it.
struct CpuHogs {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl CpuHogs {
    fn start(count: usize, limit: Duration) -> CpuHogs {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..count)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    pin_to_cpu0().unwrap();
                    let began = Instant::now();
                    while !stop.load(Ordering::Relaxed) && began.elapsed() < limit {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        CpuHogs { stop, threads }
    }
}

impl Drop for CpuHogs {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[test]
fn a_generator_starved_of_cpu_is_limited_and_a_verdict_its_delay_could_decide_is_inconclusive() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("starved")
        .target_url("t", &server.url())
        .load("model = \"open\"\ntimeout = \"5s\"")
        .phase("duration = \"3s\"\nrate = 4000")
        .request("path = \"/ok\"")
        // Failed as measured, perhaps only by the generator's delay: inconclusive.
        .threshold("t.latency.p99", "< 200us")
        // Held however late the generator was: the target's own p99 is lower still.
        .threshold("t.latency.max", "< 30s");
    let scenario = write_scenario(dir.path(), "starved", &text);
    let out = dir.path().join("out");
    let hogs = CpuHogs::start(3, Duration::from_secs(60));
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("coldfront"));
    command.arg("run").arg("--out").arg(&out).arg(&scenario);
    // SAFETY: the closure only calls sched_setaffinity, which is async-signal-safe.
    unsafe {
        command.pre_exec(pin_to_cpu0);
    }
    let output = command.output().unwrap();
    drop(hogs);

    assert_exit(&output, 3);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("warning: t: the generator was the bottleneck, not the target")
            && stdout.contains("INCONCLUSIVE t: t.latency.p99 < 200us")
            && stdout.contains("PASS t: t.latency.max < 30s"),
        "{stdout}"
    );
    let run = out.join("starved");
    let summary = &read_summary(&run).targets["t"];
    let generator = summary.generator.as_ref().expect("the generator's entry");
    assert!(generator.limited, "{generator:?}");
    assert!(generator.late_share > 0.01 || generator.cpu_busy >= 0.9);
    assert_eq!(generator.cpus, 1, "pinned to one CPU");
    let verdicts: Vec<_> = summary.thresholds.iter().map(|v| v.word()).collect();
    assert_eq!(verdicts, ["INCONCLUSIVE", "PASS"]);
    let series = read_series(&run);
    assert!(series.iter().all(|r| r.generator_cpu.is_some()));
    assert_eq!(series.iter().map(|r| r.late).sum::<u64>(), generator.late);
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(page.contains("Generator-limited:"), "the report's banner");
    assert!(run.join("charts/send-lag.svg").exists());
}

/// One worker waiting for a slow answer is no work for a generator: nothing late (the closed
/// model has no intended times to be late for), its CPUs nearly idle, and a verdict stands.
#[test]
fn an_easy_run_is_not_generator_limited() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("easy")
        .target_url("t", &server.url())
        .load("model = \"closed\"")
        .phase("duration = \"2s\"\nconcurrency = 1")
        .request("path = \"/sleep/5\"")
        .threshold("t.latency.p50", ">= 5ms");
    let scenario = write_scenario(dir.path(), "easy", &text);
    let out = dir.path().join("out");
    let output = run_coldfront(&out, &[&scenario]);
    assert_exit(&output, 0);
    let summary = &read_summary(&out.join("easy")).targets["t"];
    let generator = summary.generator.as_ref().unwrap();
    assert!(!generator.limited, "{generator:?}");
    assert_eq!((generator.late, generator.local_failures), (0, 0));
    assert!(generator.cpu_busy < 0.5, "{generator:?}");
    assert_eq!(summary.thresholds[0].word(), "PASS");
}
