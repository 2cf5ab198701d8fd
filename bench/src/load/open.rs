//! The open model: a dedicated dispatcher thread sleeps until each intended send time and hands
//! the request to the tokio runtime. It never waits for answers, so a stalled target cannot
//! hold the schedule back; when the client is behind, due requests are released at once and
//! their lateness is part of their latency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Notify};

use super::schedule::{ArrivalSchedule, Segment, SegmentSchedule};
use super::timer::{precise_timer_slack, WakeMargin};
use super::{DriveReport, LoadContext, INTERRUPT_GRACE};
use crate::scenario::LoadPlan;

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
    seed: u64,
    segment: Segment,
    ctx: Arc<LoadContext>,
    start: Instant,
) -> DriveReport {
    let whole = ArrivalSchedule::new(&plan.phases, plan.arrivals, seed);
    let schedule = SegmentSchedule::new(whole, segment);
    let in_flight = Arc::new(InFlight::default());
    let (due, released) = mpsc::unbounded_channel();
    let dispatcher = {
        let ctx = ctx.clone();
        let in_flight = in_flight.clone();
        std::thread::Builder::new()
            .name("coldfront-dispatch".into())
            .spawn(move || dispatch(schedule, start, &ctx, &in_flight, due))
            .expect("spawn dispatcher thread")
    };
    spawn_released(released, ctx.clone(), in_flight.clone()).await;
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

/// A request whose intended send time has come.
struct Due {
    seq: u64,
    intended_at: Instant,
}

/// The dispatcher thread: releases each request at its intended time. It only hands the
/// request over; the runtime side spawns it, so one wake-up of the runtime can carry many.
fn dispatch(
    schedule: SegmentSchedule,
    start: Instant,
    ctx: &LoadContext,
    in_flight: &InFlight,
    due: mpsc::UnboundedSender<Due>,
) {
    precise_timer_slack();
    let mut margin = WakeMargin::new();
    for arrival in schedule {
        let intended_at = start + arrival.at;
        if !sleep_until(intended_at, ctx, &mut margin) {
            return;
        }
        ctx.recorder.record_sent(arrival.at.as_secs());
        in_flight.start();
        let sent = due.send(Due {
            seq: arrival.seq,
            intended_at,
        });
        if sent.is_err() {
            in_flight.finish();
            return;
        }
    }
}

/// Runs on the runtime: spawns each released request locally (cheaper than a spawn from the
/// dispatcher thread, which would wake a worker for every request). Ends when the dispatcher
/// is done.
async fn spawn_released(
    mut released: mpsc::UnboundedReceiver<Due>,
    ctx: Arc<LoadContext>,
    in_flight: Arc<InFlight>,
) {
    while let Some(Due { seq, intended_at }) = released.recv().await {
        let ctx = ctx.clone();
        let in_flight = in_flight.clone();
        tokio::spawn(async move {
            let deadline = intended_at + ctx.timeout;
            ctx.send_and_record(seq, intended_at, deadline).await;
            in_flight.finish();
        });
    }
}

/// Sleeps until `deadline` with the thread's own timer (tokio's has 1 ms granularity), waking
/// at least every 50 ms to notice a cancellation. The last stretch, the `margin` this
/// machine's wake-ups need (at least 20 µs, a sleep's own overhead), is spun, yielding the CPU
/// to any other thread that wants it (and, when one took it, sleeping to the deadline for a
/// while); all of it with `--busy-poll`. The spin is waiting, and
/// is recorded as idle turns so the CPU meter does not count it busy. Returns false when
/// cancelled.
fn sleep_until(deadline: Instant, ctx: &LoadContext, margin: &mut WakeMargin) -> bool {
    const CHECK_EVERY: Duration = Duration::from_millis(50);
    const SPIN_BELOW: Duration = Duration::from_micros(20);
    let mut spinning_since = None;
    loop {
        let now = Instant::now();
        let cancelled = ctx.cancel.is_cancelled();
        if cancelled || now >= deadline {
            if let Some(since) = spinning_since {
                ctx.recorder.record_idle_turn(now - since);
            }
            return !cancelled;
        }
        let left = deadline - now;
        let spin_below = margin.get(now).max(SPIN_BELOW);
        if left < spin_below || ctx.busy_poll {
            spinning_since.get_or_insert(now);
            if left >= SPIN_BELOW && !ctx.busy_poll {
                std::thread::yield_now();
                margin.spun(now.elapsed(), Instant::now());
            } else {
                std::hint::spin_loop();
            }
        } else {
            let nap = (left - spin_below).min(CHECK_EVERY);
            std::thread::sleep(nap);
            margin.record(now.elapsed().saturating_sub(nap));
        }
    }
}
