//! The generator measuring itself: how late it sent requests, whether this machine ran out of
//! something a connection needed, and how busy its CPUs were. From these it decides whether a
//! target's numbers include the generator's own delay (`generator.limited` in `summary.json`):
//!
//! - more than [`LATE_SHARE_LIMIT`] of the requests left more than [`LATE_AFTER`] after their
//!   intended time (send lag counts the generator's delay only: not a wait for a free
//!   connection under `max_connections`, nor the connect);
//! - a connection failed for lack of local resources (open files, ports, memory);
//! - its CPUs were at least [`CPU_SATURATED`] busy over the run, where that could hide its
//!   delay (see [`CpuUse::may_hide_delay`]): then throughput is a lower bound, and latency
//!   includes time responses waited to be read.
//!
//! Verdicts on latency and throughput of a limited target are inconclusive (see
//! the thresholds module).

use std::time::Duration;

use super::recorder::{Totals, LATE_AFTER};
use crate::model::{percent, FailureCause};
use crate::resultset::{GeneratorSummary, LatencyStats};

/// More than this share of late requests marks the target generator-limited.
pub(crate) const LATE_SHARE_LIMIT: f64 = 0.01;
/// A mean busy share of the generator's CPUs at least this high marks it saturated.
pub(crate) const CPU_SATURATED: f64 = 0.9;

/// CPU time this process has used, user plus system.
fn process_cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct it is given and has no other effect.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return Duration::ZERO;
        }
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// The generator's CPU use, second by second and over the run. The generator is this process:
/// its load, its ticker and samplers (the built-in targets and the database run in processes
/// of their own).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuMeter {
    /// CPUs the process may run on.
    cpus: usize,
    last: Duration,
    busy: Duration,
    wall: Duration,
    busiest: f64,
}

impl CpuMeter {
    /// Starts measuring now, on `cpus` CPUs.
    pub(crate) fn start(cpus: usize) -> Self {
        CpuMeter {
            cpus: cpus.max(1),
            last: process_cpu_time(),
            busy: Duration::ZERO,
            wall: Duration::ZERO,
            busiest: 0.0,
        }
    }

    /// The share of the CPUs kept busy since the last call, `wall` ago (0–1), less `idle`:
    /// the loop's turns that found nothing to do (see `Recorder::record_idle_turn`).
    pub(crate) fn lap(&mut self, wall: Duration, idle: Duration) -> f64 {
        let now = process_cpu_time();
        let used = now.saturating_sub(self.last).saturating_sub(idle);
        self.last = now;
        self.busy += used;
        self.wall += wall;
        let share = busy_share(used, wall, self.cpus);
        self.busiest = self.busiest.max(share);
        share
    }

    /// What was measured over the whole run.
    pub(crate) fn total(&self) -> CpuUse {
        CpuUse {
            may_hide_delay: true,
            cpus: self.cpus,
            busy: busy_share(self.busy, self.wall, self.cpus),
            busiest_second: self.busiest,
        }
    }
}

fn busy_share(used: Duration, wall: Duration, cpus: usize) -> f64 {
    if wall.is_zero() {
        return 0.0;
    }
    (used.as_secs_f64() / (wall.as_secs_f64() * cpus as f64)).min(1.0)
}

/// The generator's CPU use over one target's run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct CpuUse {
    /// Whether busy CPUs could hide the generator's delay: always in the closed model (its
    /// pace is the generator's), in the open model only when every connection the cap allows
    /// was in use (a request waiting for one is counted as the target's wait, which a slow
    /// generator also makes). Otherwise every delay is in the send lag, and a busy CPU may be
    /// the open model turning its loop for a request due in microseconds.
    pub may_hide_delay: bool,
    pub cpus: usize,
    /// Mean share of the CPUs kept busy (0–1).
    pub busy: f64,
    /// The busiest second's share.
    pub busiest_second: f64,
}

/// The `generator` entry of a target's summary: what the generator measured of itself and
/// whether the target's numbers include its delay.
pub(crate) fn assess(totals: &Totals, cpu: CpuUse) -> GeneratorSummary {
    let cpu_counts = cpu.may_hide_delay;
    let completed = totals.outcomes.total();
    let late_share = if completed == 0 {
        0.0
    } else {
        totals.late as f64 / completed as f64
    };
    let local_failures = totals
        .failures
        .get(&FailureCause::LocalResources)
        .copied()
        .unwrap_or(0);
    let d = &totals.distributions;
    let send_lag = LatencyStats::from_histogram(&d.send_lag);
    let cold_split = |h| totals.cold_starts.map(|_| LatencyStats::from_histogram(h));
    let mut reasons = Vec::new();
    if late_share > LATE_SHARE_LIMIT {
        reasons.push(format!(
            "{} of requests were sent more than {} ms late (send lag p99 {:.1} ms, max {:.1} ms)",
            percent(late_share),
            LATE_AFTER.as_millis(),
            send_lag.p99,
            send_lag.max
        ));
    }
    if local_failures > 0 {
        reasons.push(format!(
            "{local_failures} connection{} failed for lack of local resources (open files, \
             ports or memory)",
            if local_failures == 1 { "" } else { "s" }
        ));
    }
    if cpu_counts && cpu.busy >= CPU_SATURATED {
        reasons.push(format!(
            "its {} CPU{} were {} busy (throughput is a lower bound)",
            cpu.cpus,
            if cpu.cpus == 1 { "" } else { "s" },
            percent(cpu.busy)
        ));
    }
    GeneratorSummary {
        limited: !reasons.is_empty(),
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        late: totals.late,
        late_share,
        late_timeouts: totals.late_timeouts,
        local_failures,
        send_lag_p50_ms: send_lag.p50,
        send_lag_p99_ms: send_lag.p99,
        send_lag_max_ms: send_lag.max,
        cpus: cpu.cpus as u64,
        cpu_busy: cpu.busy,
        cpu_busy_max: cpu.busiest_second,
        latency_net_ms: Some(LatencyStats::from_histogram(&d.latency_net)),
        cold_latency_net_ms: cold_split(&d.cold_latency_net),
        warm_latency_net_ms: cold_split(&d.warm_latency_net),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Outcome, Sample};
    use crate::record::Recorder;

    fn sample(send_lag_us: u64, failure: Option<FailureCause>) -> Sample {
        Sample {
            outcome: if failure.is_some() {
                Outcome::ConnectError
            } else {
                Outcome::Ok
            },
            latency: Duration::from_millis(2),
            service_time: Some(Duration::from_millis(1)),
            connect_time: None,
            send_lag: Duration::from_micros(send_lag_us),
            cold: None,
            request_index: 0,
            failure,
        }
    }

    fn idle() -> CpuUse {
        CpuUse {
            may_hide_delay: true,
            cpus: 2,
            busy: 0.2,
            busiest_second: 0.3,
        }
    }

    #[test]
    fn an_easy_run_is_not_limited() {
        let recorder = Recorder::new();
        for i in 0..1000 {
            recorder.record(&sample(if i < 10 { 5_000 } else { 40 }, None));
        }
        let generator = assess(&recorder.totals(), idle());
        assert!(!generator.limited, "{generator:?}");
        assert_eq!(generator.late, 10);
        assert_eq!(generator.late_share, 0.01, "exactly 1% is still on time");
        assert_eq!(generator.reason, None);
    }

    #[test]
    fn more_than_one_percent_late_is_limited_and_says_how_late() {
        let recorder = Recorder::new();
        for i in 0..1000 {
            recorder.record(&sample(if i < 11 { 80_000 } else { 40 }, None));
        }
        let generator = assess(&recorder.totals(), idle());
        assert!(generator.limited);
        let reason = generator.reason.unwrap();
        assert!(
            reason.contains("1.1% of requests were sent more than 1 ms late"),
            "{reason}"
        );
        assert!(
            generator.send_lag_max_ms > 79.0,
            "{}",
            generator.send_lag_max_ms
        );
    }

    #[test]
    fn a_local_resource_failure_or_saturated_cpus_are_limited() {
        let recorder = Recorder::new();
        recorder.record(&sample(0, Some(FailureCause::LocalResources)));
        recorder.record(&sample(0, None));
        let generator = assess(&recorder.totals(), idle());
        assert_eq!(generator.local_failures, 1);
        assert!(generator
            .reason
            .unwrap()
            .contains("1 connection failed for lack"));

        let recorder = Recorder::new();
        recorder.record(&sample(0, None));
        let busy = CpuUse {
            may_hide_delay: true,
            cpus: 1,
            busy: 0.95,
            busiest_second: 1.0,
        };
        let generator = assess(&recorder.totals(), busy);
        assert!(generator.limited);
        assert!(generator
            .reason
            .unwrap()
            .contains("its 1 CPU were 95% busy"));
    }

    #[test]
    fn the_cpu_meter_counts_this_process() {
        let mut meter = CpuMeter::start(1);
        let began = std::time::Instant::now();
        let mut spin = 0u64;
        while began.elapsed() < Duration::from_millis(50) {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        let share = meter.lap(began.elapsed(), Duration::ZERO);
        assert!(share > 0.1, "a spinning thread shows as busy: {share}");
        assert_eq!(meter.total().busiest_second, share);
        // The loop's idle turns are left out of the busy share (here more than the CPU time
        // used since the last lap, however busy the other tests keep this process).
        let idle = meter.lap(Duration::from_millis(50), Duration::from_secs(3600));
        assert_eq!(idle, 0.0, "idle turns are not busy");
        assert_eq!(
            busy_share(Duration::from_secs(3), Duration::from_secs(2), 1),
            1.0
        );
    }
}
