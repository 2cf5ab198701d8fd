//! Connection accounting: counters the load path's client bumps as connections open, get
//! reused, close and fail, and what their TLS handshakes negotiated; read by the per-second
//! ticker (which also takes each second's range of connections open) and the run's summary.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Counters of everything that happened to connections. Shared with the per-second sampler.
#[derive(Debug, Default)]
pub(crate) struct ConnectionStats {
    pub opened: AtomicU64,
    pub closed: AtomicU64,
    pub failed: AtomicU64,
    pub reused: AtomicU64,
    /// Reused keep-alive connections found closed by the server before any answer, whose
    /// request was retried on a new connection.
    pub stale: AtomicU64,
    open: AtomicI64,
    max_open: AtomicI64,
    /// The most and fewest open since the ticker last took them
    /// ([`ConnectionStats::take_open_range`]); both start at what was open then.
    range_max: AtomicI64,
    range_min: AtomicI64,
    tls: [AtomicU64; 6],
}

/// What one TLS handshake negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Negotiated {
    /// TLS 1.3 (else 1.2).
    pub tls13: bool,
    /// ALPN chose h2 (else http/1.1 or nothing).
    pub h2: bool,
    /// The session was resumed (an abbreviated handshake).
    pub resumed: bool,
}

/// Counts of TLS handshakes and what they negotiated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TlsCounts {
    pub handshakes: u64,
    pub tls13: u64,
    pub tls12: u64,
    pub h2: u64,
    pub http1: u64,
    pub resumed: u64,
}

/// A consistent-enough copy of [`ConnectionStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ConnectionCounts {
    pub opened: u64,
    pub closed: u64,
    pub failed: u64,
    pub reused: u64,
    pub stale: u64,
    pub open: u64,
    pub max_open: u64,
    pub tls: TlsCounts,
}

impl ConnectionStats {
    pub(crate) fn snapshot(&self) -> ConnectionCounts {
        ConnectionCounts {
            opened: self.opened.load(Ordering::Relaxed),
            closed: self.closed.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            reused: self.reused.load(Ordering::Relaxed),
            stale: self.stale.load(Ordering::Relaxed),
            open: self.open.load(Ordering::Relaxed).max(0) as u64,
            max_open: self.max_open.load(Ordering::Relaxed).max(0) as u64,
            tls: {
                let [handshakes, tls13, tls12, h2, http1, resumed] =
                    self.tls.each_ref().map(|n| n.load(Ordering::Relaxed));
                TlsCounts {
                    handshakes,
                    tls13,
                    tls12,
                    h2,
                    http1,
                    resumed,
                }
            },
        }
    }

    /// A TLS handshake completed.
    pub(crate) fn on_tls(&self, negotiated: Negotiated) {
        let add = |slot: usize| {
            self.tls[slot].fetch_add(1, Ordering::Relaxed);
        };
        add(0);
        add(if negotiated.tls13 { 1 } else { 2 });
        add(if negotiated.h2 { 3 } else { 4 });
        if negotiated.resumed {
            add(5);
        }
    }

    pub(crate) fn on_open(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
        let now_open = self.open.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_open.fetch_max(now_open, Ordering::Relaxed);
        self.range_max.fetch_max(now_open, Ordering::Relaxed);
    }

    pub(crate) fn on_close(&self) {
        self.closed.fetch_add(1, Ordering::Relaxed);
        let now_open = self.open.fetch_sub(1, Ordering::Relaxed) - 1;
        self.range_min.fetch_min(now_open, Ordering::Relaxed);
    }

    /// The most and fewest connections open at any moment since the previous take (or since
    /// the start), as `(most, fewest)`; the next range starts at what is open now. Taken after
    /// a [`ConnectionStats::snapshot`], the range holds the snapshot's `open`.
    pub(crate) fn take_open_range(&self) -> (u64, u64) {
        let most = self.range_max.swap(i64::MIN, Ordering::Relaxed);
        let fewest = self.range_min.swap(i64::MAX, Ordering::Relaxed);
        let now = self.open.load(Ordering::Relaxed);
        self.range_max.fetch_max(now, Ordering::Relaxed);
        self.range_min.fetch_min(now, Ordering::Relaxed);
        // A sentinel only shows if two takes overlap; what is open now is then the range.
        let most = if most == i64::MIN { now } else { most.max(now) };
        let fewest = if fewest == i64::MAX {
            now
        } else {
            fewest.min(now)
        };
        (most.max(0) as u64, fewest.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_take_gives_the_most_and_fewest_open_since_the_last() {
        let stats = ConnectionStats::default();
        assert_eq!(stats.take_open_range(), (0, 0));
        // One second: 13 open at once, then all but one closed again.
        (0..13).for_each(|_| stats.on_open());
        (0..12).for_each(|_| stats.on_close());
        assert_eq!(stats.snapshot().open, 1);
        assert_eq!(stats.take_open_range(), (13, 0));
        // A quiet second: the one still open is both its most and its fewest.
        assert_eq!(stats.take_open_range(), (1, 1));
        // Down to none and up to three: neither end is the end-of-second count (2).
        stats.on_close();
        (0..3).for_each(|_| stats.on_open());
        stats.on_close();
        assert_eq!(stats.take_open_range(), (3, 0));
        assert_eq!(stats.snapshot().open, 2);
        assert_eq!(stats.snapshot().max_open, 13);
    }
}
