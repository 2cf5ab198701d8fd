//! The generator measuring itself and its fast path: a generator made late on purpose is
//! marked `generator.limited`, says so, and a verdict its delay decided is inconclusive (exit
//! 3); an easy run is not marked. Then the fast path's own rules: stale keep-alive retries,
//! exact connection counts, bulk-expired requests, connections dropped at a deadline, a run a
//! whole timeout behind, a run far beyond capacity.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::support::*;

/// A generator stopped for 300 ms in every second of its run (SIGSTOP, SIGCONT) sends a third
/// of its requests up to 300 ms late: it is marked limited and says so. A latency verdict the
/// delay decided (measured p99 near 300 ms, the target's own well under 100 ms) is
/// inconclusive and the run exits 3; one the delay could not have decided stands.
#[test]
fn a_generator_made_late_on_purpose_is_limited_and_a_verdict_its_delay_decided_is_inconclusive() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("late")
        .target_url("t", &server.url())
        .load("model = \"open\"\ntimeout = \"5s\"")
        .phase("duration = \"3s\"\nrate = 200")
        .request("path = \"/ok\"")
        // Failed as measured, held by the target's own latency: inconclusive.
        .threshold("t.latency.p99", "< 100ms")
        // Held however late the generator was: the target's own p99 is lower still.
        .threshold("t.latency.max", "< 30s");
    let scenario = write_scenario(dir.path(), "late", &text);
    let out = dir.path().join("out");
    let run = BackgroundRun::start(&out, &scenario);
    run.wait_for(
        &out.join("late").join("timeseries.csv.partial"),
        Duration::from_secs(20),
    );
    let pid = run.pid() as libc::pid_t;
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(700));
        // SAFETY: signalling our own child by its PID.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGCONT) };
    }
    let status = run.wait(Duration::from_secs(30));
    let seen = std::fs::read_to_string(out.join("late/summary.json")).unwrap_or_default();
    assert_eq!(
        status.code(),
        Some(3),
        "only an inconclusive verdict: {seen}"
    );

    let dir = out.join("late");
    let summary = &read_summary(&dir).targets["t"];
    let generator = summary.generator.as_ref().expect("the generator's entry");
    assert!(generator.limited, "{generator:?}");
    assert!(generator.late_share > 0.1, "{generator:?}");
    assert!(generator.send_lag_max_ms > 200.0, "{generator:?}");
    assert!(generator
        .reason
        .as_deref()
        .unwrap()
        .contains("sent more than 1 ms late"));
    let net_p99 = generator.latency_net_ms.unwrap().p99;
    assert!(net_p99 < summary.latency_ms.p99 / 2.0, "{net_p99} ms net");
    let verdicts: Vec<_> = summary.thresholds.iter().map(|v| v.word()).collect();
    assert_eq!(
        verdicts,
        ["INCONCLUSIVE", "PASS"],
        "{:?}",
        summary.thresholds
    );
    let series = read_series(&dir);
    assert!(series.iter().all(|r| r.generator_cpu.is_some()));
    assert_eq!(series.iter().map(|r| r.late).sum::<u64>(), generator.late);
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(page.contains("Generator-limited:"), "the report's banner");
    assert!(dir.join("charts/send-lag.svg").exists());
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

/// CPU seconds (user and system) process `pid` has used so far, from `/proc/PID/stat`.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command's closing parenthesis; utime and stime are the 12th and
    // 13th of them, in clock ticks.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // SAFETY: sysconf reads a configuration value and has no other effect.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// `--busy-poll`: an open-model run at 200 req/s keeps its worker's CPU turning the loop
/// between requests (the process uses most of a CPU, where sleeping it would use a few
/// percent), yet the generator's busy share leaves those idle turns out: not limited for CPU.
#[test]
fn a_busy_polling_generator_spins_yet_its_idle_turns_are_not_counted_busy() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("spin")
        .target_url("t", &server.url())
        .load("model = \"open\"")
        .phase("duration = \"3s\"\nrate = 200")
        .request("path = \"/ok\"");
    let scenario = write_scenario(dir.path(), "spin", &text);
    let out = dir.path().join("out");
    let run = BackgroundRun::start_with(&out, &scenario, &["--busy-poll"]);
    run.wait_for(
        &out.join("spin").join("timeseries.csv.partial"),
        Duration::from_secs(20),
    );
    let before = cpu_seconds(run.pid());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_seconds(run.pid()) - before;
    let status = run.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0));
    assert!(
        used > 0.3,
        "a busy-polling worker keeps its CPU busy: {used:.2} s in 2 s"
    );

    let summary = &read_summary(&out.join("spin")).targets["t"];
    assert_eq!(summary.ok, 600);
    let generator = summary.generator.as_ref().unwrap();
    assert!(
        generator.cpu_busy < 0.5,
        "idle turns are not busy: {generator:?}"
    );
    // (Sends may still be late here: the tests running beside this one share its CPUs.)
    let reason = generator.reason.as_deref().unwrap_or("");
    assert!(!reason.contains("% busy"), "{generator:?}");
}

/// A raw HTTP/1.1 server that answers each connection's first request with 200 and then
/// closes it, without `Connection: close`: every kept-alive connection a client reuses is
/// already closed (the keep-alive race, every time).
fn close_after_one_answer() -> (String, Arc<std::sync::atomic::AtomicU64>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            count.fetch_add(1, Ordering::Relaxed);
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                // Give the client time to read the answer and pool the connection.
                std::thread::sleep(Duration::from_millis(5));
            });
        }
    });
    (url, accepted)
}

/// A GET on a kept-alive connection the server had just closed is retried once on a new
/// connection and succeeds, counted as stale; a POST is not repeated: it fails with the cause.
#[test]
fn a_stale_kept_alive_connection_retries_an_idempotent_request_once() {
    let (url, accepted) = close_after_one_answer();
    let dir = tempfile::tempdir().unwrap();
    let scenario = |name: &str, method: &str| {
        let text = ScenarioText::new(name)
            .target_url("t", &url)
            .load("model = \"closed\"\nmax_connections = 1")
            .phase("duration = \"1s\"\nconcurrency = 1\nthink_time = \"50ms\"")
            .request(&format!("method = \"{method}\"\npath = \"/\""));
        write_scenario(dir.path(), name, &text)
    };
    let out = dir.path().join("out");
    let get = scenario("get", "GET");
    assert_exit(&run_coldfront(&out, &[&get]), 0);
    let summary = &read_summary(&out.join("get")).targets["t"];
    assert!(summary.requests >= 10, "{}", summary.requests);
    assert_eq!(
        summary.ok, summary.requests,
        "every GET answered: {summary:?}"
    );
    assert_eq!(summary.connections.stale, summary.requests - 1);
    assert_eq!(summary.connections.opened, summary.requests);
    assert!(accepted.load(Ordering::Relaxed) > summary.requests);

    let post = scenario("post", "POST");
    assert_exit(&run_coldfront(&out, &[&post]), 0);
    let summary = &read_summary(&out.join("post")).targets["t"];
    assert_eq!(summary.connections.stale, 0, "a POST is never repeated");
    assert_eq!(summary.ok, summary.requests.div_ceil(2), "{summary:?}");
    let io_errors = summary.errors[&coldfront::model::Outcome::IoError];
    assert_eq!(io_errors, summary.requests / 2);
    let causes: u64 = summary.failures.values().sum();
    assert_eq!(
        causes, io_errors,
        "each with its cause: {:?}",
        summary.failures
    );
}

/// Connections open at once never exceed `max_connections`, counted exactly, in both
/// connection policies, with requests queueing for them.
#[test]
fn connections_open_at_once_are_counted_exactly_up_to_the_cap() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for policy in ["keep-alive", "per-request"] {
        let name = format!("cap-{policy}");
        let text = ScenarioText::new(&name)
            .target_url("t", &server.url())
            .load(&format!(
                "model = \"open\"\nconnections = \"{policy}\"\nmax_connections = 8\ntimeout = \"2s\""
            ))
            .phase("duration = \"1s\"\nrate = 800")
            .request("path = \"/sleep/20\"");
        let scenario = write_scenario(dir.path(), &name, &text);
        assert_exit(&run_coldfront(&out, &[&scenario]), 0);
        let connections = read_summary(&out.join(&name)).targets["t"].connections;
        assert_eq!(connections.max_open, 8, "{policy}: {connections:?}");
        assert_eq!(connections.opened, connections.closed, "{policy}");
    }
}

/// Far beyond what the target can answer on its connections, requests whose deadline passes
/// before a connection frees are client timeouts, counted in bulk, every one accounted for;
/// the wait is the target's, so the generator is not marked limited.
#[test]
fn requests_expired_before_a_connection_freed_are_client_timeouts_counted_in_bulk() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("expired")
        .target_url("t", &server.url())
        .load("model = \"open\"\nmax_connections = 1\ntimeout = \"300ms\"")
        .phase("duration = \"2s\"\nrate = 500")
        .request("path = \"/sleep/100\"");
    let scenario = write_scenario(dir.path(), "expired", &text);
    let out = dir.path().join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let summary = &read_summary(&out.join("expired")).targets["t"];
    assert_eq!((summary.sent, summary.requests), (1000, 1000));
    let timeouts = summary.errors[&coldfront::model::Outcome::ClientTimeout];
    assert_eq!(summary.ok + timeouts, 1000, "{summary:?}");
    assert!(summary.ok >= 1, "{summary:?}");
    // Most never reached the wire: given up in bulk, without a connection or a timer each
    // (a request timed out on the wire costs its connection, which is then opened anew), and
    // one with less time left than the fastest answer lately (100 ms) is not sent.
    let on_the_wire = summary.connections.opened;
    assert!(
        on_the_wire * 10 < timeouts,
        "{on_the_wire} opened, {timeouts} timeouts"
    );
    assert!(!summary.generator.as_ref().unwrap().limited);
    assert_eq!(summary.connections.max_open, 1);
}

/// The highest rate a scenario may ask, far beyond what one machine sends: memory stays flat
/// (requests past their deadline are counted, never queued one by one), Ctrl-C still stops
/// the run within a second, and the result set is written.
#[test]
fn a_run_far_beyond_the_generators_capacity_stays_small_and_stops_on_ctrl_c() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("flood")
        .target_url("t", &server.url())
        .load("model = \"open\"\nmax_connections = 4\ntimeout = \"200ms\"")
        .phase("duration = \"30s\"\nrate = 1000000")
        .request("path = \"/ok\"");
    let scenario = write_scenario(dir.path(), "flood", &text);
    let out = dir.path().join("out");
    let run = BackgroundRun::start(&out, &scenario);
    let series = out.join("flood").join("timeseries.csv.partial");
    run.wait_for(&series, Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(3));
    let status = std::fs::read_to_string(format!("/proc/{}/status", run.pid())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap();
    let (exit, took) = run.interrupt(Duration::from_secs(10));
    assert_eq!(exit.code(), Some(130));
    assert!(took < Duration::from_secs(2), "stopped in {took:?}");
    assert!(peak_kib < 100 * 1024, "peak resident memory {peak_kib} KiB");
    let summary = &read_summary(&out.join("flood")).targets["t"];
    assert!(
        summary.sent > 500_000,
        "three seconds at a million a second: {}",
        summary.sent
    );
    assert_eq!(
        summary.sent, summary.requests,
        "every request accounted for"
    );
}

/// A schedule far beyond what the target answers: the backlog reaches the timeout within a
/// second, and from then on the oldest due request is always about to expire. A lane must not
/// take one with next to no time left (it would hold the lane until its deadline, and every
/// request after it would be as doomed: nothing but timeouts, with the generator idle). Every
/// second keeps answering requests, and every request is accounted for.
#[test]
fn a_generator_a_whole_timeout_behind_keeps_answering_requests() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("behind")
        .target_url("t", &server.url())
        .load("model = \"open\"\nmax_connections = 8\ntimeout = \"300ms\"")
        .phase("duration = \"4s\"\nrate = 300000")
        .request("path = \"/ok\"");
    let scenario = write_scenario(dir.path(), "behind", &text);
    let out = dir.path().join("out");
    let run = run_coldfront_with(&out, &[&scenario], &["--generator-cpus", "0"]);
    assert!(
        matches!(run.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let dir = out.join("behind");
    let summary = &read_summary(&dir).targets["t"];
    assert_eq!((summary.sent, summary.requests), (1_200_000, 1_200_000));
    let rows = read_series(&dir);
    let answered: Vec<u64> = rows.iter().map(|row| row.ok).collect();
    assert!(answered.len() >= 4, "{answered:?}");
    assert!(
        answered[..4].iter().all(|&ok| ok > 100),
        "requests answered per second: {answered:?}"
    );
}

/// Requests that time out on the wire cost their connections, not the room for them: with
/// `max_connections = 2` and one request in ten outlasting the timeout, the closed model goes
/// on sending after the first two timeouts. Before, each dropped connection kept its place
/// under the cap; after two, every request waited for a connection until its deadline (23
/// answered and 40 timeouts in the 2 s, against about 300 answered now).
#[test]
fn connections_dropped_at_a_deadline_give_their_room_back() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("dropped")
        .target_url("t", &server.url())
        .load("model = \"closed\"\nmax_connections = 2\ntimeout = \"100ms\"")
        .phase("duration = \"2s\"\nconcurrency = 2")
        .request("path = \"/sleep/300\"\nweight = 1")
        .request("path = \"/ok\"\nweight = 9");
    let scenario = write_scenario(dir.path(), "dropped", &text);
    let out = dir.path().join("out");
    let run = run_coldfront_with(&out, &[&scenario], &["--generator-cpus", "0"]);
    assert_exit(&run, 0);
    let summary = &read_summary(&out.join("dropped")).targets["t"];
    let timeouts = summary.errors[&coldfront::model::Outcome::ClientTimeout];
    assert!(timeouts >= 4, "{summary:?}");
    assert!(summary.ok > 5 * timeouts, "{summary:?}");
    assert_eq!(summary.connections.max_open, 2);
}

/// Two workers (`--generator-cpus 0,1`) send what one (`--generator-cpus 0`) sends: request
/// `seq` goes to worker `seq mod 2` at its own intended time, so the run's sends are the same
/// and every second holds the same number, give or take a late request at a boundary, for
/// uniform and Poisson arrivals, at a constant rate and on a ramp. (The split itself is exact
/// request by request: `load::schedule`'s unit tests.)
#[test]
fn two_workers_send_exactly_the_per_second_counts_of_one() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    for arrivals in ["uniform", "poisson"] {
        let name = format!("split-{arrivals}");
        let scenario = write_scenario(
            dir.path(),
            &name,
            &ScenarioText::new(&name)
                .target_url("t", &server.url())
                .load(&format!(
                    "model = \"open\"\narrivals = \"{arrivals}\"\nmax_connections = 8"
                ))
                .phase("duration = \"2s\"\nrate = 150")
                .phase("duration = \"2s\"\nrate = { from = 50, to = 350 }")
                .request("path = \"/ok\""),
        );
        let mut sent_by = Vec::new();
        for cpus in ["0", "0,1"] {
            let out = dir.path().join(format!("out-{arrivals}-{}", cpus.len()));
            let output = run_coldfront_with(&out, &[&scenario], &["--generator-cpus", cpus]);
            assert_exit(&output, 0);
            let set = out.join(&name);
            let manifest: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(set.join("manifest.json")).unwrap())
                    .unwrap();
            assert_eq!(
                manifest["host"]["generator_cpus"],
                cpus.split(',').count(),
                "{cpus}"
            );
            let summary = read_summary(&set);
            assert_eq!(summary.targets["t"].ok, summary.targets["t"].requests);
            let sent: Vec<(u64, u64)> = read_series(&set)
                .iter()
                .map(|row| (row.second, row.sent))
                .filter(|&(_, sent)| sent > 0)
                .collect();
            sent_by.push(sent);
        }
        // A request is counted in the second it was due in, unless it left after the ticker
        // had taken that second (a late one on a busy machine): then in the next. So seconds
        // may trade a request or two at their boundaries, and the totals are exact.
        let totals: Vec<u64> = sent_by
            .iter()
            .map(|s| s.iter().map(|&(_, n)| n).sum())
            .collect();
        assert_eq!(totals[0], totals[1], "{arrivals}: {sent_by:?}");
        if arrivals == "uniform" {
            assert_eq!(
                totals[0],
                300 + 400,
                "150/s for 2 s, then 50 to 350/s for 2 s"
            );
        }
        let seconds = |s: &[(u64, u64)]| s.iter().map(|&(second, _)| second).collect::<Vec<_>>();
        assert_eq!(seconds(&sent_by[0]), seconds(&sent_by[1]), "{arrivals}");
        for (one, two) in sent_by[0].iter().zip(&sent_by[1]) {
            assert!(
                one.1.abs_diff(two.1) <= 2,
                "{arrivals}: one worker, then two: {sent_by:?}"
            );
        }
    }
}
