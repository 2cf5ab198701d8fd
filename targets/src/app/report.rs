//! `POST /api/report?work_ms=N[&async=1]`: a long CPU-bound job. N ms means N ms of this
//! thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), so the work is the same under contention and
//! only its wall time grows. Inline it runs on the blocking pool; with `async=1` it becomes a
//! background job (persistent only).

use std::time::{Duration, Instant};

use http::{header, HeaderValue, Request, Response, StatusCode};
use serde::Serialize;
use serde_json::json;

use super::request::{bounded_u64, flag};
use super::{response, Body, Services};

/// The longest job accepted (10 minutes of CPU).
pub const MAX_WORK_MS: u64 = 600_000;

/// How many candidates are tested between two reads of the CPU clock (tens of microseconds).
const CHECK_EVERY: u32 = 256;

/// What a finished piece of work reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Work {
    /// Primes found while the CPU budget lasted: the "report" the work computes.
    pub result: u64,
    /// CPU time actually used, in ms (at least the budget).
    pub cpu_ms: u64,
    /// Wall time taken, in ms (more than `cpu_ms` when the CPU is contended).
    pub wall_ms: u64,
}

pub async fn handle<B>(services: &Services, request: &Request<B>) -> Response<Body> {
    let work_ms = match bounded_u64(request.uri(), "work_ms", None, MAX_WORK_MS) {
        Ok(work_ms) => work_ms,
        Err(bad) => return bad.into_response(),
    };
    if flag(request.uri(), "async") {
        return submit(services, work_ms);
    }
    match tokio::task::spawn_blocking(move || burn_cpu(Duration::from_millis(work_ms))).await {
        Ok(work) => response::json(StatusCode::OK, &report(work_ms, work)),
        Err(error) => response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the work did not finish: {error}"),
        ),
    }
}

/// The JSON for a finished piece of work of `work_ms`.
pub fn report(work_ms: u64, work: Work) -> serde_json::Value {
    json!({
        "work_ms": work_ms,
        "result": work.result,
        "cpu_ms": work.cpu_ms,
        "wall_ms": work.wall_ms,
    })
}

fn submit(services: &Services, work_ms: u64) -> Response<Body> {
    let Some(jobs) = &services.jobs else {
        return response::error(
            StatusCode::NOT_IMPLEMENTED,
            "background jobs need a persistent process",
        );
    };
    let id = jobs.submit(work_ms);
    let mut response = response::json(StatusCode::ACCEPTED, &json!({ "job": id }));
    if let Ok(location) = HeaderValue::from_str(&format!("/api/jobs/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Tests odd numbers for primality until `budget` of this thread's CPU time is spent. Blocks:
/// run it on a blocking thread.
pub fn burn_cpu(budget: Duration) -> Work {
    let started_cpu = thread_cpu_time();
    let started = Instant::now();
    let mut primes = 1; // 2
    let mut candidate = 3u64;
    loop {
        for _ in 0..CHECK_EVERY {
            primes += u64::from(is_prime(std::hint::black_box(candidate)));
            candidate += 2;
        }
        let used = thread_cpu_time().saturating_sub(started_cpu);
        if used >= budget {
            return Work {
                result: primes,
                cpu_ms: used.as_millis() as u64,
                wall_ms: started.elapsed().as_millis() as u64,
            };
        }
    }
}

fn is_prime(n: u64) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

/// CPU time consumed by the calling thread.
pub fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer; the clock id is a
    // constant every Linux kernel supports.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "CLOCK_THREAD_CPUTIME_ID is unavailable");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_spends_its_cpu_budget() {
        let work = burn_cpu(Duration::from_millis(30));
        assert!(work.cpu_ms >= 30, "{work:?}");
        assert!(work.wall_ms >= work.cpu_ms, "{work:?}");
        assert!(work.result > 100, "{work:?}");
    }

    #[test]
    fn a_sleeping_thread_uses_no_cpu() {
        let before = thread_cpu_time();
        std::thread::sleep(Duration::from_millis(30));
        assert!(thread_cpu_time() - before < Duration::from_millis(10));
    }

    #[test]
    fn primes() {
        let found: Vec<u64> = (0..30).filter(|&n| is_prime(n)).collect();
        assert_eq!(found, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
    }
}
