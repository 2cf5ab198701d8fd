//! The open model on the fast path: a worker's segment of the schedule, pulled by free lanes;
//! one idle lane watches for the next intended time, requests past their deadline are counted
//! in bulk.

use std::cell::{Cell, RefCell};
use std::iter::Peekable;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::worker::{Alarm, Worker};
use super::LaneSet;
use crate::load::schedule::{Arrival, SegmentSchedule};
use crate::load::timer::{PreciseTimer, WakeMargin};
use crate::load::LoadContext;

/// The open model's side of a worker: its segment of the schedule, pulled by free lanes.
pub(super) struct OpenSchedule {
    pub(super) schedule: RefCell<Peekable<SegmentSchedule>>,
    pub(super) timer: PreciseTimer,
    /// How early the sleeping lane wakes before an intended time, learnt from its sleeps.
    pub(super) margin: RefCell<WakeMargin>,
    /// An idle lane is sleeping on the timer for the next intended time.
    pub(super) sleeping: Cell<bool>,
    /// Idle lanes waiting their turn, and their wake-up.
    pub(super) waiting: Cell<usize>,
    pub(super) turn: Notify,
    pub(super) lanes: Cell<usize>,
}

/// A request whose intended time has come, as a lane takes it.
pub(super) struct Due {
    pub(super) arrival: Arrival,
    /// Every connection the worker's cap allows was open and busy when it was taken.
    pub(super) every_connection_busy: bool,
}

/// A next intended time closer than this is waited for by turning the loop, not the timer.
pub(super) const YIELD_BELOW: Duration = Duration::from_micros(50);

/// A turn of the loop shorter than this, taken while waiting for a request due within
/// [`YIELD_BELOW`], found nothing to do (a turn with nothing ready, an `epoll_wait` that
/// returns at once, takes about a microsecond; reading one answer takes several).
pub(super) const IDLE_TURN: Duration = Duration::from_micros(4);

/// A due request with less time than this left before its deadline is not sent but expired
/// with the others: less than the fastest answer lately (see
/// [`FastestAnswer`](super::worker::FastestAnswer)), and never less than 1 ms (or a tenth of
/// the timeout if that is shorter). Sent, it could only race its deadline (a lane's deadline
/// timer has tokio's 1 ms granularity), holding its lane and, when the deadline passed on the
/// wire, costing its connection: once the generator was a timeout behind, every request a lane
/// took was that close to its deadline.
pub(super) fn too_late_to_send(timeout: Duration, fastest: Option<Duration>) -> Duration {
    let floor = (timeout / 10).min(Duration::from_millis(1));
    fastest.map_or(floor, |fastest| fastest.max(floor))
}

/// How many requests the bulk expiry handles between looks at Ctrl-C.
pub(super) const EXPIRE_BATCH: u64 = 65_536;

impl OpenSchedule {
    /// The next request for a free lane, once its intended time has come; `None` when the
    /// schedule is done or the run is cancelled. Spawns another lane when more are due and
    /// none is free.
    pub(super) async fn next_due(&self, worker: &Rc<Worker>, lanes: &Rc<LaneSet>) -> Option<Due> {
        let ctx = &worker.ctx;
        loop {
            if ctx.cancel.is_cancelled() {
                return None;
            }
            let Some(&next) = self.schedule.borrow_mut().peek() else {
                // Done: the lanes waiting their turn would otherwise wait for ever.
                self.turn.notify_waiters();
                return None;
            };
            let due_at = worker.start + next.at;
            let now = Instant::now();
            if due_at > now {
                self.wait_for(due_at, ctx).await;
                continue;
            }
            let too_late = too_late_to_send(ctx.timeout, worker.fastest.get(now));
            if due_at + ctx.timeout <= now + too_late {
                self.expire(worker, now + too_late);
                continue;
            }
            self.schedule.borrow_mut().next();
            ctx.recorder.record_sent(next.at.as_secs());
            let every_connection_busy = self.lanes.get() >= worker.pool.cap;
            self.after_taking(worker, lanes);
            return Some(Due {
                arrival: next,
                every_connection_busy,
            });
        }
    }

    /// Waits for `due_at` as the sleeping lane, or for a turn if another lane sleeps.
    pub(super) async fn wait_for(&self, due_at: Instant, ctx: &LoadContext) {
        if self.sleeping.replace(true) {
            self.waiting.set(self.waiting.get() + 1);
            tokio::select! {
                () = self.turn.notified() => {}
                () = ctx.cancel.cancelled() => {}
            }
            self.waiting.set(self.waiting.get() - 1);
            return;
        }
        let now = Instant::now();
        let left = due_at.saturating_duration_since(now);
        let margin = self.margin.borrow().get(now);
        if ctx.busy_poll || left < YIELD_BELOW.max(margin) {
            // Due within a few microseconds (a high rate), within the margin this machine's
            // wake-ups need, or `--busy-poll`: one more turn of the loop, which also reads
            // what arrived, is as exact as the timer and needs no wake-up. A turn this short
            // found nothing else to do: it is counted idle, not busy.
            let through_margin = left >= YIELD_BELOW && !ctx.busy_poll;
            if through_margin {
                // Any other thread that wants this CPU goes first.
                std::thread::yield_now();
            }
            tokio::task::yield_now().await;
            let turn = now.elapsed();
            if turn < IDLE_TURN {
                ctx.recorder.record_idle_turn(turn);
            } else if through_margin {
                self.margin.borrow_mut().spun(turn, now + turn);
            }
        } else {
            let wake_at = due_at - margin;
            tokio::select! {
                _ = self.timer.sleep_until(wake_at) => {
                    self.margin.borrow_mut().record(wake_at.elapsed());
                }
                () = ctx.cancel.cancelled() => {}
            }
        }
        self.sleeping.set(false);
    }

    /// After a lane took a request: hand the timer to a waiting lane (the one that freed
    /// last, so the fewest connections carry the load and the rest stay idle), or, when no
    /// lane is left idle, start one (while the cap allows), so there is always a lane
    /// watching for the next intended time while the others wait for answers.
    pub(super) fn after_taking(&self, worker: &Rc<Worker>, lanes: &Rc<LaneSet>) {
        if self.waiting.get() > 0 {
            self.turn.notify_last();
        } else if !self.sleeping.get() && self.lanes.get() < worker.pool.cap {
            self.lanes.set(self.lanes.get() + 1);
            lanes.spawn_open(worker.clone());
        }
    }

    /// Requests whose deadline passes before `by` (see [`too_late_to_send`]), not taken by a
    /// lane: client timeouts counted in bulk. They are the generator's lateness when it had
    /// lanes to spare, else the target's (every connection was busy).
    pub(super) fn expire(&self, worker: &Worker, by: Instant) {
        let ctx = &worker.ctx;
        let late = self.lanes.get() < worker.pool.cap;
        let mut schedule = self.schedule.borrow_mut();
        let (mut second, mut in_second, mut total) = (None, 0u64, 0u64);
        while let Some(next) = schedule.next_if(|a| worker.start + a.at + ctx.timeout <= by) {
            let this_second = next.at.as_secs();
            if second != Some(this_second) {
                if let Some(s) = second {
                    ctx.recorder.record_sent_n(s, in_second);
                }
                (second, in_second) = (Some(this_second), 0);
            }
            in_second += 1;
            total += 1;
            if total % EXPIRE_BATCH == 0 && ctx.cancel.is_cancelled() {
                break;
            }
        }
        if let Some(s) = second {
            ctx.recorder.record_sent_n(s, in_second);
        }
        ctx.recorder.record_expired(total, ctx.timeout, late);
    }
}

/// One open-model lane: takes due requests until the schedule ends or the run is cancelled.
pub(super) async fn open_lane(worker: Rc<Worker>, schedule: Rc<OpenSchedule>, lanes: Rc<LaneSet>) {
    // A new lane is started when due requests found no lane free; that may be because
    // answers are waiting unread while the loop was busy (or descheduled), not because the
    // target holds every lane. One turn of the loop reads them first, so the lanes they free
    // take those requests and a new connection is opened only if they could not: without
    // this, each short stall of the generator opened a connection per late request, and the
    // connects (the target accepting them) made it later still, up to the cap.
    tokio::task::yield_now().await;
    let mut alarm = Alarm::new();
    let mut free_since = Instant::now();
    while let Some(due) = schedule.next_due(&worker, &lanes).await {
        let arrival = due.arrival;
        let intended_at = worker.start + arrival.at;
        // Waiting for this lane to free is the target's share only when the cap allowed no
        // other connection; with room for one, any wait was the generator's own.
        let waited_from = if due.every_connection_busy {
            intended_at.max(free_since)
        } else {
            intended_at
        };
        let send_lag = Instant::now().saturating_duration_since(waited_from);
        worker
            .send(arrival.seq, intended_at, send_lag, &mut alarm)
            .await;
        free_since = Instant::now();
    }
}
