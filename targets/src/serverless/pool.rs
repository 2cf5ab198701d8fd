//! The gateway's instances: capacity (`max_instances` slots, one per live instance), the idle
//! stack of [`Lane`]s (most recently used on top), reaping after `keep_warm`, and the FIFO
//! queue of requests waiting for capacity (up to `queue_timeout`).
//!
//! A lane is one connection to a running instance; an instance has as many lanes as requests it
//! serves at once (its concurrency: 1 for the built-in instance and by default). A request
//! [`Pool::checkout`]s a [`Grant`]: a warm idle lane, or a [`Slot`] to cold-start an instance.
//! While it runs it holds a [`Lease`]; [`Lease::checkin`] after a complete response keeps the
//! lane warm (or retires it when `keep_warm` is zero), dropping the lease retires it, and
//! [`Lease::kill`] kills its instance. An instance's idle lanes are reaped together, once none
//! of its lanes has been busy for `keep_warm`; the instance retires when its last lane goes.
//! Freed capacity and returned lanes go to the oldest waiter first. Nothing is ever dropped
//! while the state lock is held (a drop can re-enter the pool).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::cold_start::{ColdStart, PortLease};
use super::metrics::Stats;
use super::process::Process;

/// A running instance process, shared by its lanes; it retires when the last lane is dropped.
pub struct Running {
    pub id: u64,
    pub pid: u32,
    /// Where a command instance listens (further lanes connect there); `None` for a built-in
    /// instance, whose one connection is its socketpair.
    pub addr: Option<SocketAddr>,
    /// Its port, reserved while it lives.
    _port: Option<PortLease>,
    /// Lanes serving a request now.
    busy: AtomicU32,
    /// When a lane last finished a request (or the instance became ready).
    last_used: Mutex<Instant>,
    // Dropped in this order: the process retires, then the capacity frees.
    process: Mutex<Option<Process>>,
    _slot: Slot,
}

impl Running {
    pub fn new(
        id: u64,
        pid: u32,
        listening: Option<(SocketAddr, PortLease)>,
        process: Process,
        slot: Slot,
    ) -> Self {
        let (addr, port) = listening.unzip();
        Running {
            id,
            pid,
            addr,
            _port: port,
            busy: AtomicU32::new(0),
            last_used: Mutex::new(Instant::now()),
            process: Mutex::new(Some(process)),
            _slot: slot,
        }
    }

    /// SIGKILL the instance (its other lanes' connections then fail).
    pub fn kill(&self) {
        let process = self.process.lock().take();
        if let Some(process) = process {
            process.kill();
        }
    }

    /// Idle for `keep_warm` at `now`: no lane busy, none used since.
    fn expired(&self, now: Instant, keep_warm: Duration) -> bool {
        self.busy.load(Ordering::Relaxed) == 0
            && now.duration_since(*self.last_used.lock()) >= keep_warm
    }
}

/// One connection to a running instance: what one request runs on.
pub struct Lane {
    pub sender: SendRequest<Incoming>,
    /// Set on the lane of an instance's first request until that response has been sent.
    pub cold_start: Option<ColdStart>,
    pub running: Arc<Running>,
}

impl Lane {
    /// Its connection is closed and cannot be made again: a built-in instance's socketpair.
    /// (A command instance's lane reconnects when it is next used: a server may close idle
    /// connections.)
    fn is_dead(&self) -> bool {
        self.sender.is_closed() && self.running.addr.is_none()
    }
}

/// One unit of capacity; dropping it frees it (for the oldest waiter first).
pub struct Slot {
    pool: Weak<Pool>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.upgrade() {
            pool.slot_freed();
        }
    }
}

/// What a request gets to run on.
pub enum Grant {
    Warm(Lane),
    Cold(Slot),
}

/// Why a request gets no instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// At `max_instances` for the whole `queue_timeout`.
    Throttled,
    /// The gateway is shutting down.
    Closed,
}

enum Attempt {
    Granted(Grant),
    Refused(Refusal),
    Queued(oneshot::Receiver<Grant>),
}

pub struct Pool {
    max_instances: u32,
    keep_warm: Duration,
    stats: Arc<Stats>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    slots_in_use: u32,
    /// Oldest first: the most recently used instance is at the end.
    idle: Vec<Idle>,
    waiters: VecDeque<oneshot::Sender<Grant>>,
    closed: bool,
}

struct Idle {
    lane: Lane,
}

impl Pool {
    pub fn new(max_instances: u32, keep_warm: Duration, stats: Arc<Stats>) -> Arc<Pool> {
        let pool = Arc::new(Pool {
            max_instances,
            keep_warm,
            stats,
            state: Mutex::default(),
        });
        if !keep_warm.is_zero() {
            tokio::spawn(reap(Arc::downgrade(&pool)));
        }
        pool
    }

    /// Instances with every lane idle.
    pub fn idle_count(&self) -> usize {
        let state = self.state.lock();
        let mut idle: Vec<&Arc<Running>> = state
            .idle
            .iter()
            .map(|idle| &idle.lane.running)
            .filter(|running| running.busy.load(Ordering::Relaxed) == 0)
            .collect();
        idle.sort_unstable_by_key(|running| Arc::as_ptr(running));
        idle.dedup_by_key(|running| Arc::as_ptr(running));
        idle.len()
    }

    pub fn max_instances(&self) -> u32 {
        self.max_instances
    }

    /// An instance or capacity for one, waiting up to `queue_timeout` when at capacity.
    pub async fn checkout(self: &Arc<Self>, queue_timeout: Duration) -> Result<Grant, Refusal> {
        let (attempt, dead) = self.attempt(!queue_timeout.is_zero());
        drop(dead);
        let mut granted = match attempt {
            Attempt::Granted(grant) => return Ok(grant),
            Attempt::Refused(refusal) => return Err(refusal),
            Attempt::Queued(granted) => granted,
        };
        let _queued = self.stats.queued();
        let grant = tokio::select! {
            grant = &mut granted => grant.ok(),
            () = tokio::time::sleep(queue_timeout) => {
                granted.close();
                granted.try_recv().ok()
            }
        };
        grant.ok_or(Refusal::Throttled)
    }

    /// A grant now, a place in the queue (when `queue`), or a refusal; plus the dead idle
    /// instances met on the way, to be dropped once the lock is released.
    fn attempt(self: &Arc<Self>, queue: bool) -> (Attempt, Vec<Idle>) {
        let mut state = self.state.lock();
        if state.closed {
            return (Attempt::Refused(Refusal::Closed), Vec::new());
        }
        let (grant, dead) = self.grant_now(&mut state);
        let attempt = match grant {
            Some(grant) => Attempt::Granted(grant),
            None if !queue => Attempt::Refused(Refusal::Throttled),
            None => {
                let (waiter, granted) = oneshot::channel();
                state.waiters.push_back(waiter);
                Attempt::Queued(granted)
            }
        };
        (attempt, dead)
    }

    /// The most recently used live idle lane, else a free slot. Also returns the dead idle
    /// instances it skipped, to be dropped once the lock is released.
    fn grant_now(self: &Arc<Self>, state: &mut State) -> (Option<Grant>, Vec<Idle>) {
        let mut dead = Vec::new();
        while let Some(idle) = state.idle.pop() {
            if idle.lane.is_dead() {
                dead.push(idle);
            } else {
                return (Some(Grant::Warm(idle.lane)), dead);
            }
        }
        if state.slots_in_use < self.max_instances {
            state.slots_in_use += 1;
            return (Some(Grant::Cold(self.slot())), dead);
        }
        (None, dead)
    }

    fn slot(self: &Arc<Self>) -> Slot {
        Slot {
            pool: Arc::downgrade(self),
        }
    }

    /// Capacity came back: the oldest waiter gets it, else it is free.
    fn slot_freed(self: &Arc<Self>) {
        let waiter = {
            let mut state = self.state.lock();
            state.slots_in_use -= 1;
            let waiter = next_waiter(&mut state.waiters);
            if waiter.is_some() {
                state.slots_in_use += 1;
            }
            waiter
        };
        if let Some(waiter) = waiter {
            // A waiter that gave up in between drops the grant, which frees the slot again.
            let _ = waiter.send(Grant::Cold(self.slot()));
        }
    }

    /// A lane finished a request (or is new): the oldest waiter gets it, else it waits on top
    /// of the idle stack; retired at once without keep-warm, when dead or when the pool is
    /// closed.
    pub fn checkin(self: &Arc<Self>, lane: Lane) {
        if self.keep_warm.is_zero() || lane.is_dead() {
            return drop(lane);
        }
        let waiter = {
            let mut state = self.state.lock();
            if state.closed {
                None
            } else if let Some(waiter) = next_waiter(&mut state.waiters) {
                Some((waiter, lane))
            } else {
                state.idle.push(Idle { lane });
                return;
            }
        };
        if let Some((waiter, lane)) = waiter {
            if let Err(Grant::Warm(lane)) = waiter.send(Grant::Warm(lane)) {
                self.checkin(lane);
            }
        }
    }

    /// Takes the lanes of instances unused for `keep_warm` (and dead lanes) out of the stack.
    fn take_expired(&self, now: Instant) -> Vec<Idle> {
        let mut state = self.state.lock();
        let (taken, kept): (Vec<Idle>, Vec<Idle>) = std::mem::take(&mut state.idle)
            .into_iter()
            .partition(|idle| {
                idle.lane.is_dead() || idle.lane.running.expired(now, self.keep_warm)
            });
        state.idle = kept;
        taken
    }

    /// Refuses new work, retires the idle instances and lets the queued requests go
    /// (throttled). Busy instances retire when their requests end.
    pub fn close(&self) {
        let (idle, waiters) = {
            let mut state = self.state.lock();
            state.closed = true;
            (
                std::mem::take(&mut state.idle),
                std::mem::take(&mut state.waiters),
            )
        };
        drop(idle);
        drop(waiters);
    }
}

/// The oldest waiter still waiting.
fn next_waiter(waiters: &mut VecDeque<oneshot::Sender<Grant>>) -> Option<oneshot::Sender<Grant>> {
    while let Some(waiter) = waiters.pop_front() {
        if !waiter.is_closed() {
            return Some(waiter);
        }
    }
    None
}

/// Retires idle instances past `keep_warm`, checking a tenth as often (10 ms to 1 s).
async fn reap(pool: Weak<Pool>) {
    let Some(keep_warm) = pool.upgrade().map(|pool| pool.keep_warm) else {
        return;
    };
    let every = (keep_warm / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(pool) = pool.upgrade() else { return };
        if pool.state.lock().closed {
            return;
        }
        drop(pool.take_expired(Instant::now()));
    }
}

/// A lane checked out for one request; see the module doc.
pub struct Lease {
    lane: Option<Lane>,
    pool: Arc<Pool>,
}

impl Lease {
    pub fn new(lane: Lane, pool: &Arc<Pool>) -> Lease {
        pool.stats.lease_started();
        lane.running.busy.fetch_add(1, Ordering::Relaxed);
        Lease {
            lane: Some(lane),
            pool: Arc::clone(pool),
        }
    }

    pub fn lane(&mut self) -> &mut Lane {
        self.lane.as_mut().expect("a lease holds its lane")
    }

    /// The request completed: keep the lane warm (or retire it).
    pub fn checkin(mut self) {
        if let Some(lane) = self.lane.take() {
            finished(&lane.running);
            self.pool.checkin(lane);
        }
    }

    /// The request ran too long: SIGKILL the instance.
    pub fn kill(mut self) {
        if let Some(lane) = self.lane.take() {
            self.pool.stats.killed();
            finished(&lane.running);
            lane.running.kill();
        }
    }
}

/// One of `running`'s lanes finished its request.
fn finished(running: &Running) {
    *running.last_used.lock() = Instant::now();
    running.busy.fetch_sub(1, Ordering::Relaxed);
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Not checked in: the connection's state is unknown, so the lane retires (and with
        // its last lane, the instance).
        if let Some(lane) = self.lane.take() {
            finished(&lane.running);
        }
        self.pool.stats.lease_ended();
    }
}
