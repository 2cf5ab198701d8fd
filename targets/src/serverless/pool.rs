//! The gateway's instances: capacity (`max_instances` slots, one per live instance), the idle
//! stack (most recently used on top, reaped from the bottom after `keep_warm`), and the FIFO
//! queue of requests waiting for capacity (up to `queue_timeout`).
//!
//! A request [`Pool::checkout`]s a [`Grant`]: a warm idle instance, or a [`Slot`] to cold-start
//! one. While it runs it holds a [`Lease`]; [`Lease::checkin`] after a complete response keeps
//! the instance warm (or retires it when `keep_warm` is zero), dropping the lease retires it, and
//! [`Lease::kill`] kills it. Freed capacity and returned instances go to the oldest waiter
//! first. Nothing is ever dropped while the state lock is held (a drop can re-enter the pool).

use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::cold_start::ColdStart;
use super::metrics::Stats;
use super::process::Process;

/// A running instance the gateway can send requests to.
pub struct Instance {
    pub id: u64,
    pub pid: u32,
    pub sender: SendRequest<Incoming>,
    /// Set until its first response has been sent, which reports it.
    pub cold_start: Option<ColdStart>,
    // Dropped in this order: the socket closes, the process retires, the capacity frees.
    pub process: Process,
    /// Held for its drop.
    pub _slot: Slot,
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
    Warm(Instance),
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
    instance: Instance,
    since: Instant,
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

    pub fn idle_count(&self) -> usize {
        self.state.lock().idle.len()
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

    /// The most recently used live idle instance, else a free slot. Also returns the dead idle
    /// instances it skipped, to be dropped once the lock is released.
    fn grant_now(self: &Arc<Self>, state: &mut State) -> (Option<Grant>, Vec<Idle>) {
        let mut dead = Vec::new();
        while let Some(idle) = state.idle.pop() {
            if idle.instance.sender.is_closed() {
                dead.push(idle);
            } else {
                return (Some(Grant::Warm(idle.instance)), dead);
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

    /// An instance finished a request: the oldest waiter gets it, else it waits on top of
    /// the idle stack; retired at once without keep-warm, when dead or when the pool is closed.
    fn checkin(self: &Arc<Self>, instance: Instance) {
        if self.keep_warm.is_zero() || instance.sender.is_closed() {
            return drop(instance);
        }
        let waiter = {
            let mut state = self.state.lock();
            if state.closed {
                None
            } else if let Some(waiter) = next_waiter(&mut state.waiters) {
                Some((waiter, instance))
            } else {
                state.idle.push(Idle {
                    instance,
                    since: Instant::now(),
                });
                return;
            }
        };
        if let Some((waiter, instance)) = waiter {
            if let Err(Grant::Warm(instance)) = waiter.send(Grant::Warm(instance)) {
                self.checkin(instance);
            }
        }
    }

    /// Takes the idle instances unused for `keep_warm` (or dead) out of the stack.
    fn take_expired(&self, now: Instant) -> Vec<Idle> {
        let mut state = self.state.lock();
        let expired = state
            .idle
            .partition_point(|idle| now.duration_since(idle.since) >= self.keep_warm);
        let mut taken: Vec<Idle> = state.idle.drain(..expired).collect();
        let (dead, live): (Vec<Idle>, Vec<Idle>) = std::mem::take(&mut state.idle)
            .into_iter()
            .partition(|idle| idle.instance.sender.is_closed());
        state.idle = live;
        taken.extend(dead);
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

/// An instance checked out for one request; see the module doc.
pub struct Lease {
    instance: Option<Instance>,
    pool: Arc<Pool>,
}

impl Lease {
    pub fn new(instance: Instance, pool: &Arc<Pool>) -> Lease {
        pool.stats.lease_started();
        Lease {
            instance: Some(instance),
            pool: Arc::clone(pool),
        }
    }

    pub fn instance(&mut self) -> &mut Instance {
        self.instance.as_mut().expect("a lease holds its instance")
    }

    /// The request completed: keep the instance warm (or retire it).
    pub fn checkin(mut self) {
        if let Some(instance) = self.instance.take() {
            self.pool.checkin(instance);
        }
    }

    /// The request ran too long: SIGKILL the instance.
    pub fn kill(mut self) {
        if let Some(instance) = self.instance.take() {
            self.pool.stats.killed();
            let Instance { process, .. } = instance;
            process.kill();
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Not checked in: the connection's state is unknown, so the instance retires.
        drop(self.instance.take());
        self.pool.stats.lease_ended();
    }
}
