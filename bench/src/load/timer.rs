//! A precise one-shot timer for an event loop: a Linux `timerfd` (nanosecond resolution)
//! registered with tokio's reactor, where tokio's own timers round to the millisecond. The
//! open model's worker sleeps on it until the next intended send time, so a request due in
//! 0.3 ms is released then, not at the next millisecond tick.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// One `timerfd`, armed by each [`PreciseTimer::sleep_until`].
pub(crate) struct PreciseTimer {
    fd: AsyncFd<OwnedFd>,
}

impl PreciseTimer {
    /// A timer on the monotonic clock (the clock of [`Instant`]). Also asks the kernel for
    /// exact wake-ups on this thread (the default timer slack is 50 µs).
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: timerfd_create takes two integer flags and returns a new descriptor or -1.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a descriptor we just created and own.
        let owned = unsafe { OwnedFd::from_raw_fd(raw) };
        precise_timer_slack();
        // SAFETY: an OwnedFd's descriptor stays open and the same for as long as it is owned,
        // here by the AsyncFd.
        let fd = unsafe { AsyncFd::register_with_interest(owned, Interest::READABLE) }
            .map_err(|error| io::Error::other(error.to_string()))?;
        Ok(PreciseTimer { fd })
    }

    /// Returns at `at` (at once if it has passed).
    pub(crate) async fn sleep_until(&self, at: Instant) -> io::Result<()> {
        let left = at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        self.arm(left)?;
        loop {
            let mut ready = self.fd.readable().await?;
            let mut expirations = [0u8; 8];
            // SAFETY: reads at most 8 bytes into the 8-byte buffer from our own descriptor.
            let read = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    expirations.as_mut_ptr().cast(),
                    expirations.len(),
                )
            };
            if read == 8 {
                return Ok(());
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::WouldBlock {
                return Err(error);
            }
            ready.clear_ready();
        }
    }

    /// Sets the timer to expire once, `after` from now (replacing any earlier setting).
    fn arm(&self, after: Duration) -> io::Result<()> {
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: after.as_secs() as libc::time_t,
                // A zero value would disarm the timer: at least one nanosecond.
                tv_nsec: (after.subsec_nanos().max(1)) as libc::c_long,
            },
        };
        // SAFETY: settime reads `spec` and writes nothing back (null old value).
        let set =
            unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if set != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// Asks the kernel for exact wake-ups on this thread (the default slack is 50 µs).
pub(crate) fn precise_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and only affects this thread.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn wakes_at_sub_millisecond_times_and_at_once_for_the_past() {
        let timer = PreciseTimer::new().unwrap();
        let began = Instant::now();
        timer
            .sleep_until(began - Duration::from_millis(1))
            .await
            .unwrap();
        assert!(
            began.elapsed() < Duration::from_millis(1),
            "a past time returns at once"
        );
        for micros in [300u64, 1_700, 50] {
            let at = Instant::now() + Duration::from_micros(micros);
            timer.sleep_until(at).await.unwrap();
            assert!(Instant::now() >= at, "never early ({micros} µs)");
        }
    }
}
