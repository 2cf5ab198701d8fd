//! Connection accounting: counters the load path's client bumps as connections open, get
//! reused, close and fail, read by the per-second ticker and the run's summary.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Counters of everything that happened to connections. Shared with the per-second sampler.
#[derive(Debug, Default)]
pub(crate) struct ConnectionStats {
    pub opened: AtomicU64,
    pub closed: AtomicU64,
    pub failed: AtomicU64,
    pub reused: AtomicU64,
    open: AtomicI64,
    max_open: AtomicI64,
}

/// A consistent-enough copy of [`ConnectionStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ConnectionCounts {
    pub opened: u64,
    pub closed: u64,
    pub failed: u64,
    pub reused: u64,
    pub open: u64,
    pub max_open: u64,
}

impl ConnectionStats {
    pub(crate) fn snapshot(&self) -> ConnectionCounts {
        ConnectionCounts {
            opened: self.opened.load(Ordering::Relaxed),
            closed: self.closed.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            reused: self.reused.load(Ordering::Relaxed),
            open: self.open.load(Ordering::Relaxed).max(0) as u64,
            max_open: self.max_open.load(Ordering::Relaxed).max(0) as u64,
        }
    }

    pub(crate) fn on_open(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
        let now_open = self.open.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_open.fetch_max(now_open, Ordering::Relaxed);
    }

    pub(crate) fn on_close(&self) {
        self.closed.fetch_add(1, Ordering::Relaxed);
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}
