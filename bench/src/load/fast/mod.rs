//! The fast path of a worker: plain-HTTP/1.1 requests (no TLS, no held streams) driven by the
//! worker's own event loop, with no dispatcher thread, no channel and no task per request.
//!
//! - **Lanes.** A lane is a local task that sends one request at a time over a connection
//!   from the worker's [`Pool`]. The open model starts lanes as due requests find none free
//!   (up to the worker's share of `max_connections`); the closed model has one per worker of
//!   its concurrency.
//! - **The open model's schedule is pulled.** A free lane takes the next request whose
//!   intended time has come. One idle lane sleeps on a [`PreciseTimer`] until a margin before
//!   the next intended time ([`WakeMargin`](super::timer::WakeMargin), what this machine's
//!   wake-ups need), then turns the loop until it comes; when it is only microseconds away it
//!   just turns the loop, so at high rates the schedule is checked on every turn. The other
//!   idle lanes wait their turn. A request no lane was free for is taken the moment one frees.
//!   When every connection the cap allows was busy, that wait is the target's and the send
//!   lag runs from when the lane freed; otherwise the generator could have used another
//!   connection, and the send lag runs from the intended time.
//! - **Far behind, in bulk.** Requests whose deadline passed before any lane could take them
//!   are counted as client timeouts in bulk, one histogram update per run of them, so memory
//!   stays constant however far behind the generator is.
//! - **Deadlines without a timer per request.** Each lane keeps one tokio timer and re-arms it
//!   only when it fires before the current request's deadline.
//! - **Connections counted exactly.** A connection is counted open from its connect to its
//!   drop, and the pool never holds more than its cap. A request on a reused connection that
//!   the server had closed before any byte of the answer (the keep-alive race) is retried once

mod open;
mod pool;
#[cfg(test)]
mod tests;
mod worker;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use self::open::{open_lane, OpenSchedule};
use self::worker::{Alarm, Worker};
use super::schedule::{ArrivalSchedule, Segment, SegmentSchedule};
use super::timer::PreciseTimer;
use super::{DriveReport, LoadContext, INTERRUPT_GRACE};
use crate::scenario::{LoadPlan, PhaseLoad};

/// Whether this target's requests can all take the fast path.
pub(super) fn applies(ctx: &LoadContext) -> bool {
    ctx.client.endpoint().tls.is_none() && ctx.requests.iter().all(|r| r.wire().held().is_none())
}

/// The worker's lanes, as local tasks, and how many are alive.
struct LaneSet {
    live: Cell<usize>,
    all_done: Notify,
    handles: RefCell<Vec<tokio::task::AbortHandle>>,
    open: RefCell<Option<Rc<OpenSchedule>>>,
}

/// Counts a lane alive until its task ends, however it ends.
struct Alive(Rc<LaneSet>);

impl Drop for Alive {
    fn drop(&mut self) {
        let live = self.0.live.get() - 1;
        self.0.live.set(live);
        if live == 0 {
            self.0.all_done.notify_waiters();
        }
    }
}

impl LaneSet {
    fn new() -> Rc<Self> {
        Rc::new(LaneSet {
            live: Cell::new(0),
            all_done: Notify::new(),
            handles: RefCell::new(Vec::new()),
            open: RefCell::new(None),
        })
    }

    fn spawn(self: &Rc<Self>, lane: impl std::future::Future<Output = ()> + 'static) {
        self.live.set(self.live.get() + 1);
        let alive = Alive(self.clone());
        let task = tokio::task::spawn_local(async move {
            let _alive = alive;
            lane.await;
        });
        self.handles.borrow_mut().push(task.abort_handle());
    }

    fn spawn_open(self: &Rc<Self>, worker: Rc<Worker>) {
        let Some(schedule) = self.open.borrow().clone() else {
            return;
        };
        self.spawn(open_lane(worker, schedule, self.clone()));
    }

    /// Until no lane is alive.
    async fn all_ended(&self) {
        loop {
            let ended = self.all_done.notified();
            if self.live.get() == 0 {
                return;
            }
            ended.await;
        }
    }
}

/// One closed-model worker of a phase: send, wait, think, until the phase ends.
async fn closed_lane(
    worker: Rc<Worker>,
    segment: Segment,
    next: Rc<Cell<u64>>,
    phase_end: Instant,
    think_time: Duration,
) {
    let mut alarm = Alarm::new();
    let ctx = &worker.ctx;
    while Instant::now() < phase_end && !ctx.cancel.is_cancelled() {
        let k = next.get();
        next.set(k + 1);
        let started = Instant::now();
        ctx.recorder.record_sent((started - worker.start).as_secs());
        worker
            .send(segment.seq(k), started, Duration::ZERO, &mut alarm)
            .await;
        if !think_time.is_zero() {
            let wake = (Instant::now() + think_time).min(phase_end);
            tokio::select! {
                () = tokio::time::sleep_until(wake.into()) => {}
                () = ctx.cancel.cancelled() => break,
            }
        }
    }
}

/// Runs this worker's segment of `plan` on the fast path (inside a `LocalSet`).
pub(super) async fn drive(
    plan: &LoadPlan,
    seed: u64,
    segment: Segment,
    ctx: Arc<LoadContext>,
    start: Instant,
) -> DriveReport {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(drive_local(plan, seed, segment, ctx, start))
        .await
}

async fn drive_local(
    plan: &LoadPlan,
    seed: u64,
    segment: Segment,
    ctx: Arc<LoadContext>,
    start: Instant,
) -> DriveReport {
    let worker = Worker::new(ctx.clone(), start);
    let lanes = LaneSet::new();
    match plan.model {
        crate::model::LoadModel::Open => {
            let whole = ArrivalSchedule::new(&plan.phases, plan.arrivals, seed);
            let timer = match PreciseTimer::new() {
                Ok(timer) => timer,
                Err(error) => {
                    eprintln!("error: generator timer: {error}");
                    return DriveReport::default();
                }
            };
            let schedule = Rc::new(OpenSchedule {
                schedule: RefCell::new(SegmentSchedule::new(whole, segment).peekable()),
                timer,
                margin: RefCell::default(),
                sleeping: Cell::new(false),
                waiting: Cell::new(0),
                turn: Notify::new(),
                lanes: Cell::new(1),
            });
            *lanes.open.borrow_mut() = Some(schedule);
            lanes.spawn_open(worker.clone());
        }
        crate::model::LoadModel::Closed => spawn_closed(plan, segment, &worker, &lanes).await,
    }
    let report = finish(&lanes, &ctx).await;
    // The lanes hold the schedule and the set holds the lanes: break the cycle.
    *lanes.open.borrow_mut() = None;
    report
}

/// Starts each closed-model phase's lanes at the phase's start.
async fn spawn_closed(plan: &LoadPlan, segment: Segment, worker: &Rc<Worker>, lanes: &Rc<LaneSet>) {
    let next = Rc::new(Cell::new(0u64));
    let mut phase_start = worker.start;
    for phase in &plan.phases {
        let phase_end = phase_start + phase.duration;
        if let PhaseLoad::Concurrency {
            workers,
            think_time,
        } = phase.load
        {
            tokio::select! {
                () = tokio::time::sleep_until(phase_start.into()) => {}
                () = worker.ctx.cancel.cancelled() => return,
            }
            for _ in 0..segment.share(workers as u64) {
                lanes.spawn(closed_lane(
                    worker.clone(),
                    segment,
                    next.clone(),
                    phase_end,
                    think_time,
                ));
            }
        }
        phase_start = phase_end;
    }
}

/// Waits for every lane; after a cancellation, for at most the interrupt grace.
async fn finish(lanes: &LaneSet, ctx: &LoadContext) -> DriveReport {
    let finished = tokio::select! {
        () = lanes.all_ended() => true,
        () = ctx.cancel.cancelled() => {
            tokio::time::timeout(INTERRUPT_GRACE, lanes.all_ended()).await.is_ok()
        }
    };
    let abandoned = lanes.live.get() as u64;
    for handle in lanes.handles.borrow_mut().drain(..) {
        handle.abort();
    }
    DriveReport {
        interrupted: ctx.cancel.is_cancelled(),
        abandoned: if finished { 0 } else { abandoned },
    }
}
