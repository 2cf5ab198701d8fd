//! The open model: a dedicated dispatcher thread sleeps until each intended send time and hands
//! the request to the tokio runtime. It never waits for answers, so a stalled target cannot
//! hold the schedule back; when the client is behind, due requests are released at once and
//! their lateness is part of their latency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::Notify;

use super::schedule::ArrivalSchedule;
use super::{DriveReport, LoadContext, INTERRUPT_GRACE};
use crate::scenario::{Arrivals, LoadPlan};

/// Requests dispatched but not finished.
#[derive(Default)]
struct InFlight {
    count: AtomicU64,
    idle: Notify,
}

impl InFlight {
    fn start(&self) {
        self.count.fetch_add(1, Ordering::AcqRel);
    }

    fn finish(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.count.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

pub(super) async fn drive(
    plan: &LoadPlan,
    arrivals: Arrivals,
    seed: u64,
    ctx: Arc<LoadContext>,
    start: Instant,
) -> DriveReport {
    let schedule = ArrivalSchedule::new(&plan.phases, arrivals, seed);
    let in_flight = Arc::new(InFlight::default());
    let handle = Handle::current();
    let dispatcher = {
        let ctx = ctx.clone();
        let in_flight = in_flight.clone();
        std::thread::Builder::new()
            .name("coldfront-dispatch".into())
            .spawn(move || dispatch(schedule, start, handle, ctx, in_flight))
            .expect("spawn dispatcher thread")
    };
    let _ = tokio::task::spawn_blocking(move || dispatcher.join()).await;
    let interrupted = ctx.cancel.is_cancelled();
    let drained = if interrupted {
        tokio::time::timeout(INTERRUPT_GRACE, in_flight.wait_idle()).await
    } else {
        // Every request has a deadline, so this ends; the cancel arm covers a Ctrl-C now.
        tokio::select! {
            _ = in_flight.wait_idle() => Ok(()),
            _ = ctx.cancel.cancelled() => {
                tokio::time::timeout(INTERRUPT_GRACE, in_flight.wait_idle()).await
            }
        }
    };
    DriveReport {
        interrupted: ctx.cancel.is_cancelled(),
        abandoned: if drained.is_ok() {
            0
        } else {
            in_flight.count.load(Ordering::Acquire)
        },
    }
}

fn dispatch(
    schedule: ArrivalSchedule,
    start: Instant,
    handle: Handle,
    ctx: Arc<LoadContext>,
    in_flight: Arc<InFlight>,
) {
    precise_timer_slack();
    for arrival in schedule {
        let intended_at = start + arrival.at;
        if !sleep_until(intended_at, &ctx) {
            return;
        }
        ctx.recorder.record_sent(arrival.at.as_secs());
        in_flight.start();
        let ctx = ctx.clone();
        let in_flight = in_flight.clone();
        handle.spawn(async move {
            let deadline = intended_at + ctx.timeout;
            ctx.send_and_record(arrival.seq, intended_at, deadline)
                .await;
            in_flight.finish();
        });
    }
}

/// Sleeps until `deadline` with the thread's own timer (tokio's has 1 ms granularity), waking
/// at least every 50 ms to notice a cancellation. Returns false when cancelled.
fn sleep_until(deadline: Instant, ctx: &LoadContext) -> bool {
    const CHECK_EVERY: Duration = Duration::from_millis(50);
    loop {
        if ctx.cancel.is_cancelled() {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        std::thread::sleep((deadline - now).min(CHECK_EVERY));
    }
}

/// Asks the kernel for exact wake-ups on this thread (the default slack is 50 µs).
fn precise_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and only affects this thread.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}
