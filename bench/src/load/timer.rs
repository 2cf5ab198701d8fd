//! Waking on time for the open model.
//!
//! [`PreciseTimer`]: a Linux `timerfd` (nanosecond resolution) registered with tokio's
//! reactor, where tokio's own timers round to the millisecond. The open model's worker sleeps
//! on it until the next intended send time, so a request due in 0.3 ms is released then, not
//! at the next millisecond tick.
//!
//! [`WakeMargin`]: a timer fires on time, but the thread runs only once the CPU has woken from
//! idle, which takes a few microseconds on bare metal and, in a virtual machine whose host
//! parks an idle vCPU, up to milliseconds. The margin learns this machine's oversleep from the
//! worker's own sleeps; the worker wakes that much early and turns its loop for the rest.

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

/// How early to wake before an intended time: the 99th percentile of this thread's recent
/// oversleeps (how late a sleep returned), so 99 in 100 sends leave on time. The rest of the
/// wait is spent turning the loop, which is waiting and counted idle, not busy.
///
/// Oversleeps fall into buckets of about half an octave from 1 µs up to [`WakeMargin::MAX`];
/// the counts are halved every [`WakeMargin::WINDOW`] sleeps, so the margin follows a machine
/// that becomes busier or quieter. Until [`WakeMargin::LEARN`] sleeps are seen, the margin is
/// [`WakeMargin::FIRST`].
///
/// Spinning pays only on a CPU nobody else wants: a thread that spins (and yields) gives way
/// to any other runnable thread for a whole time slice, while one that sleeps is woken ahead
/// of it. So two spin turns within [`WakeMargin::CONTENDED`] of each other that each took
/// longer than [`WakeMargin::PREEMPTED`] (another thread ran: a CPU shared with a busy
/// thread, not the odd kernel or ticker thread) turn the margin off for
/// [`WakeMargin::BACK_OFF`]: the worker sleeps to the intended time.
#[derive(Debug, Clone)]
pub(crate) struct WakeMargin {
    counts: [u32; MARGIN_BOUNDS_US.len() + 1],
    seen: u32,
    margin: Duration,
    preempted_at: Option<Instant>,
    off_until: Option<Instant>,
}

/// The upper bounds of the oversleep buckets, in microseconds; the last bucket is open-ended.
const MARGIN_BOUNDS_US: [u64; 22] = [
    1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512, 724, 1024, 1448, 2048,
];

impl WakeMargin {
    /// The largest margin: longer wakes are this machine's stalls, not its wake-up latency,
    /// and spinning that long before each send of a slow schedule would cost a core.
    pub(crate) const MAX: Duration = Duration::from_micros(2048);
    /// The margin before enough sleeps are seen.
    pub(crate) const FIRST: Duration = Duration::from_micros(50);
    /// Sleeps seen before the margin is learnt from them.
    pub(crate) const LEARN: u32 = 32;
    /// Sleeps after which the counts are halved.
    pub(crate) const WINDOW: u32 = 1024;
    /// A spin turn longer than this was another thread's time on the CPU.
    pub(crate) const PREEMPTED: Duration = Duration::from_micros(200);
    /// Two preempted spin turns this close mean a CPU shared with a busy thread.
    pub(crate) const CONTENDED: Duration = Duration::from_millis(50);
    /// How long the margin stays off on a contended CPU.
    pub(crate) const BACK_OFF: Duration = Duration::from_secs(1);

    pub(crate) fn new() -> Self {
        WakeMargin {
            counts: [0; MARGIN_BOUNDS_US.len() + 1],
            seen: 0,
            margin: Self::FIRST,
            preempted_at: None,
            off_until: None,
        }
    }

    /// How early to wake before an intended time, at `now`: zero while backing off.
    pub(crate) fn get(&self, now: Instant) -> Duration {
        match self.off_until {
            Some(until) if now < until => Duration::ZERO,
            _ => self.margin,
        }
    }

    /// A turn of spinning through the margin took `turn`, ending at `now`.
    pub(crate) fn spun(&mut self, turn: Duration, now: Instant) {
        if turn <= Self::PREEMPTED {
            return;
        }
        if let Some(before) = self.preempted_at.replace(now) {
            if now.saturating_duration_since(before) < Self::CONTENDED {
                self.off_until = Some(now + Self::BACK_OFF);
            }
        }
    }

    /// A sleep asked to end at some time returned `oversleep` after it.
    pub(crate) fn record(&mut self, oversleep: Duration) {
        let micros = oversleep.as_micros();
        let bucket = MARGIN_BOUNDS_US.partition_point(|&bound| u128::from(bound) < micros);
        self.counts[bucket] += 1;
        self.seen += 1;
        if self.seen >= Self::WINDOW {
            for count in &mut self.counts {
                *count /= 2;
            }
            self.seen = self.counts.iter().sum();
        }
        if self.seen >= Self::LEARN {
            self.margin = self.percentile_99();
        }
    }

    fn percentile_99(&self) -> Duration {
        let wanted = (u64::from(self.seen) * 99).div_ceil(100);
        let mut below = 0u64;
        for (bound, &count) in MARGIN_BOUNDS_US.iter().zip(&self.counts) {
            below += u64::from(count);
            if below >= wanted {
                return Duration::from_micros(*bound);
            }
        }
        Self::MAX
    }
}

impl Default for WakeMargin {
    fn default() -> Self {
        Self::new()
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

    fn learnt(oversleeps_us: impl IntoIterator<Item = u64>) -> WakeMargin {
        let mut margin = WakeMargin::new();
        for us in oversleeps_us {
            margin.record(Duration::from_micros(us));
        }
        margin
    }

    fn margin(margin: &WakeMargin) -> Duration {
        margin.get(Instant::now())
    }

    #[test]
    fn the_margin_is_the_first_guess_until_enough_sleeps_are_seen() {
        assert_eq!(margin(&WakeMargin::new()), WakeMargin::FIRST);
        let few = learnt(std::iter::repeat_n(900, WakeMargin::LEARN as usize - 1));
        assert_eq!(margin(&few), WakeMargin::FIRST);
        let enough = learnt(std::iter::repeat_n(900, WakeMargin::LEARN as usize));
        assert_eq!(margin(&enough), Duration::from_micros(1024));
    }

    #[test]
    fn a_contended_cpu_turns_the_margin_off_for_a_while() {
        let mut learnt = learnt(std::iter::repeat_n(300, 100));
        let start = Instant::now();
        learnt.spun(Duration::from_micros(3), start);
        let unchanged = Duration::from_micros(362);
        assert_eq!(learnt.get(start), unchanged, "a quick turn changes nothing");
        // The ticker or a kernel thread taking the CPU once a second is no contention.
        for second in 0..3 {
            learnt.spun(
                Duration::from_millis(2),
                start + Duration::from_secs(second),
            );
        }
        assert_eq!(learnt.get(start + Duration::from_secs(2)), unchanged);
        // A busy thread takes it on every yield.
        let now = start + Duration::from_secs(2) + Duration::from_millis(4);
        learnt.spun(Duration::from_millis(3), now);
        assert_eq!(learnt.get(now), Duration::ZERO);
        let later = now + WakeMargin::BACK_OFF - Duration::from_millis(1);
        assert_eq!(learnt.get(later), Duration::ZERO);
        assert_eq!(
            learnt.get(now + WakeMargin::BACK_OFF),
            Duration::from_micros(362)
        );
    }

    #[test]
    fn the_margin_covers_99_in_100_oversleeps_rounded_up_to_a_bucket() {
        // 990 wake-ups within 10 µs and 10 of 700 µs: the 99th percentile is the 10 µs bucket's
        // bound (11 µs); one more slow one moves it to the 724 µs bucket.
        let mut learnt = learnt((0..1000).map(|i| if i % 100 == 0 { 700 } else { 10 }));
        assert_eq!(margin(&learnt), Duration::from_micros(11));
        learnt.record(Duration::from_micros(700));
        assert_eq!(margin(&learnt), Duration::from_micros(724));
    }

    #[test]
    fn the_margin_is_capped_and_follows_a_machine_that_quietens() {
        let mut learnt = learnt(std::iter::repeat_n(50_000, 100));
        assert_eq!(
            margin(&learnt),
            WakeMargin::MAX,
            "a 50 ms stall is not a margin"
        );
        // The counts halve every WINDOW sleeps: a few windows of quick wake-ups wash it out.
        for _ in 0..3 * WakeMargin::WINDOW {
            learnt.record(Duration::from_micros(5));
        }
        assert_eq!(margin(&learnt), Duration::from_micros(6));
    }

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
