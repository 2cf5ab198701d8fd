//! The arrival schedule of the open model: when each request is intended to be sent.
//! Pure and clock-free: it yields offsets from the start of the run, so it is tested without
//! timers and benchmarked as the "schedule tick" of the hot path.
//!
//! Each phase has a rate function r(t) (constant or linear). Its integral N(t) counts the
//! requests due by time t. Arrival k is placed where N(t) reaches u_k: u_k = k for uniform
//! arrivals (the first at the phase start), and a sum of unit exponentials for Poisson arrivals
//! (time-rescaling), so ramps work the same way for both.

use std::time::Duration;

use crate::model::Arrivals;
use crate::rng::SplitMix64;
use crate::scenario::{Phase, PhaseLoad, Rate};

/// One scheduled request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    /// Intended send time, from the start of the run.
    pub at: Duration,
    /// Index of the phase it belongs to.
    pub phase: usize,
    /// Sequence number over the whole run (0, 1, 2, ...), which picks the request.
    pub seq: u64,
}

/// A phase reduced to what the schedule needs.
#[derive(Debug, Clone, Copy)]
struct PhaseRate {
    start_s: f64,
    duration_s: f64,
    from: f64,
    to: f64,
}

impl PhaseRate {
    /// Time in the phase (seconds) at which the cumulative count N(t) reaches `u`.
    /// Uses the cancellation-free root of (to-from)/(2D)·t² + from·t − u = 0.
    fn time_of(&self, u: f64) -> f64 {
        let a = self.from;
        let slope = (self.to - self.from) / self.duration_s;
        if u <= 0.0 {
            return 0.0;
        }
        let disc = a * a + 2.0 * slope * u;
        if disc < 0.0 {
            return f64::INFINITY; // a falling ramp that never reaches u
        }
        let denom = a + disc.sqrt();
        if denom <= 0.0 {
            return f64::INFINITY;
        }
        2.0 * u / denom
    }

    /// Expected number of arrivals in the whole phase, N(D).
    fn total(&self) -> f64 {
        (self.from + self.to) * 0.5 * self.duration_s
    }
}

/// Iterator over every arrival of the open-model phases, in time order.
#[derive(Debug, Clone)]
pub struct ArrivalSchedule {
    phases: Vec<PhaseRate>,
    arrivals: Arrivals,
    phase: usize,
    /// Position in the current phase's cumulative count.
    u: f64,
    seq: u64,
    rng: SplitMix64,
}

impl ArrivalSchedule {
    /// Phases with a concurrency (closed model) are treated as idle.
    pub fn new(phases: &[Phase], arrivals: Arrivals, seed: u64) -> Self {
        let mut start_s = 0.0;
        let phases = phases
            .iter()
            .map(|phase| {
                let (from, to) = match phase.load {
                    PhaseLoad::Rate(Rate::Constant(r)) => (r, r),
                    PhaseLoad::Rate(Rate::Ramp { from, to }) => (from, to),
                    PhaseLoad::Concurrency { .. } => (0.0, 0.0),
                };
                let rate = PhaseRate {
                    start_s,
                    duration_s: phase.duration.as_secs_f64(),
                    from,
                    to,
                };
                start_s += rate.duration_s;
                rate
            })
            .collect();
        let mut schedule = ArrivalSchedule {
            phases,
            arrivals,
            phase: 0,
            u: 0.0,
            seq: 0,
            rng: SplitMix64::new(seed ^ 0x5ca1_ab1e_0000_0001),
        };
        schedule.u = schedule.first_u();
        schedule
    }

    fn first_u(&mut self) -> f64 {
        match self.arrivals {
            Arrivals::Uniform => 0.0,
            Arrivals::Poisson => self.rng.next_exp(),
        }
    }

    fn step_u(&mut self) -> f64 {
        match self.arrivals {
            Arrivals::Uniform => 1.0,
            Arrivals::Poisson => self.rng.next_exp(),
        }
    }
}

impl Iterator for ArrivalSchedule {
    type Item = Arrival;

    fn next(&mut self) -> Option<Arrival> {
        loop {
            let phase = *self.phases.get(self.phase)?;
            let t = if self.u < phase.total() {
                phase.time_of(self.u)
            } else {
                f64::INFINITY
            };
            if t < phase.duration_s {
                let arrival = Arrival {
                    at: Duration::from_secs_f64(phase.start_s + t),
                    phase: self.phase,
                    seq: self.seq,
                };
                self.seq += 1;
                self.u += self.step_u();
                return Some(arrival);
            }
            self.phase += 1;
            self.u = self.first_u();
        }
    }
}

/// A segment of a schedule: the requests whose `seq mod count == index`, at their original
/// intended times. Segments `0..count` of one schedule are disjoint and together are exactly
/// the schedule, so N workers (or N machines) each sending one segment send what one would.
/// A segment splits again into finer segments of itself ([`Segment::split`]), so a machine's
/// segment can be shared among its cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segment {
    pub index: u64,
    pub count: u64,
}

impl Segment {
    /// The whole schedule.
    pub const WHOLE: Segment = Segment { index: 0, count: 1 };

    /// Segment `index` of `count`; `None` unless `index < count`.
    pub fn new(index: u64, count: u64) -> Option<Segment> {
        (index < count).then_some(Segment { index, count })
    }

    /// Whether request `seq` belongs to this segment.
    pub fn contains(self, seq: u64) -> bool {
        seq % self.count == self.index
    }

    /// This segment cut into `parts` finer segments (`index + count·j` of `count·parts`),
    /// which together are exactly this one.
    pub fn split(self, parts: u64) -> impl Iterator<Item = Segment> {
        let parts = parts.max(1);
        (0..parts).map(move |j| Segment {
            index: self.index + self.count * j,
            count: self.count * parts,
        })
    }

    /// This segment's whole-number share of `total` things dealt out in turn (workers,
    /// connections): the shares of segments `0..count` differ by at most one and add up to
    /// `total`.
    pub fn share(self, total: u64) -> u64 {
        total / self.count + u64::from(self.index < total % self.count)
    }

    /// The `k`th request of this segment's own numbering (0, 1, …) in the schedule's
    /// numbering: how a closed-model worker of a segment numbers what it sends.
    pub fn seq(self, k: u64) -> u64 {
        self.index + self.count * k
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The arrivals of one [`Segment`] of a schedule. The whole schedule is still computed (a
/// Poisson schedule's random stream is one sequence), and only this segment's arrivals are
/// yielded.
#[derive(Debug, Clone)]
pub struct SegmentSchedule {
    whole: ArrivalSchedule,
    segment: Segment,
}

impl SegmentSchedule {
    pub fn new(whole: ArrivalSchedule, segment: Segment) -> Self {
        SegmentSchedule { whole, segment }
    }
}

impl Iterator for SegmentSchedule {
    type Item = Arrival;

    fn next(&mut self) -> Option<Arrival> {
        let segment = self.segment;
        self.whole.find(|arrival| segment.contains(arrival.seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(secs: u64, rate: Rate) -> Phase {
        Phase {
            name: None,
            duration: Duration::from_secs(secs),
            load: PhaseLoad::Rate(rate),
        }
    }

    fn per_second(schedule: ArrivalSchedule, seconds: usize) -> Vec<usize> {
        let mut counts = vec![0; seconds];
        for arrival in schedule {
            counts[arrival.at.as_secs() as usize] += 1;
        }
        counts
    }

    #[test]
    fn constant_rate_gives_rate_times_duration_evenly_spaced() {
        let schedule =
            ArrivalSchedule::new(&[phase(10, Rate::Constant(100.0))], Arrivals::Uniform, 1);
        let arrivals: Vec<_> = schedule.collect();
        assert_eq!(arrivals.len(), 1000);
        assert_eq!(arrivals[0].at, Duration::ZERO);
        assert_eq!(arrivals[1].at, Duration::from_millis(10));
        assert_eq!(arrivals[999].seq, 999);
    }

    #[test]
    fn idle_phase_shifts_the_next_phase() {
        let phases = [
            phase(1, Rate::Constant(10.0)),
            phase(5, Rate::Constant(0.0)),
            phase(1, Rate::Constant(10.0)),
        ];
        let counts = per_second(ArrivalSchedule::new(&phases, Arrivals::Uniform, 1), 7);
        assert_eq!(counts, vec![10, 0, 0, 0, 0, 0, 10]);
    }

    #[test]
    fn ramp_counts_follow_the_line() {
        let schedule = ArrivalSchedule::new(
            &[phase(
                10,
                Rate::Ramp {
                    from: 0.0,
                    to: 200.0,
                },
            )],
            Arrivals::Uniform,
            1,
        );
        let counts = per_second(schedule, 10);
        for (second, count) in counts.iter().enumerate() {
            let expected = 20.0 * second as f64 + 10.0; // mean rate over that second
            assert!(
                (*count as f64 - expected).abs() <= 1.0,
                "second {second}: {count} vs {expected}"
            );
        }
        assert_eq!(counts.iter().sum::<usize>(), 1000);
    }

    #[test]
    fn falling_ramp_counts_follow_the_line() {
        let schedule = ArrivalSchedule::new(
            &[phase(
                4,
                Rate::Ramp {
                    from: 400.0,
                    to: 0.0,
                },
            )],
            Arrivals::Uniform,
            1,
        );
        let counts = per_second(schedule, 4);
        assert_eq!(counts.iter().sum::<usize>(), 800);
        for (second, count) in counts.iter().enumerate() {
            let expected = 350.0 - 100.0 * second as f64;
            assert!(
                (*count as f64 - expected).abs() <= 1.0,
                "second {second}: {count}"
            );
        }
    }

    #[test]
    fn poisson_is_reproducible_and_has_the_right_mean() {
        let phases = [phase(100, Rate::Constant(100.0))];
        let a: Vec<_> = ArrivalSchedule::new(&phases, Arrivals::Poisson, 7).collect();
        let b: Vec<_> = ArrivalSchedule::new(&phases, Arrivals::Poisson, 7).collect();
        assert_eq!(a, b);
        // 10,000 expected; the standard deviation is 100.
        assert!((a.len() as f64 - 10_000.0).abs() < 400.0, "{}", a.len());
        let c: Vec<_> = ArrivalSchedule::new(&phases, Arrivals::Poisson, 8).collect();
        assert_ne!(a, c);
        // Inter-arrival gaps are exponential: coefficient of variation near 1.
        let gaps: Vec<f64> = a
            .windows(2)
            .map(|w| (w[1].at - w[0].at).as_secs_f64())
            .collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        assert!((var.sqrt() / mean - 1.0).abs() < 0.05);
    }

    #[test]
    fn arrivals_are_in_time_order_across_phases() {
        let phases = [
            phase(
                2,
                Rate::Ramp {
                    from: 50.0,
                    to: 5.0,
                },
            ),
            phase(2, Rate::Constant(33.3)),
        ];
        let arrivals: Vec<_> = ArrivalSchedule::new(&phases, Arrivals::Poisson, 3).collect();
        assert!(arrivals.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(arrivals.iter().all(|a| a.at < Duration::from_secs(4)));
    }

    /// N segments together are exactly the whole schedule, at the same intended times, for
    /// uniform, Poisson and ramp schedules; and a segment split again is exactly itself.
    #[test]
    fn segments_together_are_exactly_the_whole_schedule() {
        let ramp = Rate::Ramp {
            from: 10.0,
            to: 900.0,
        };
        let phases = [phase(3, Rate::Constant(250.0)), phase(2, ramp)];
        for arrivals in [Arrivals::Uniform, Arrivals::Poisson] {
            let whole: Vec<Arrival> = ArrivalSchedule::new(&phases, arrivals, 9).collect();
            for n in [1, 2, 3, 7] {
                let mut merged: Vec<Arrival> = Segment::WHOLE
                    .split(n)
                    .flat_map(|segment| {
                        let parts = SegmentSchedule::new(
                            ArrivalSchedule::new(&phases, arrivals, 9),
                            segment,
                        );
                        parts.inspect(move |a| assert!(segment.contains(a.seq)))
                    })
                    .collect();
                merged.sort_by_key(|a| a.seq);
                assert_eq!(merged, whole, "{arrivals:?} in {n} segments");
            }
            // Segment 1/2 shared by three cores: 1/6, 3/6, 5/6.
            let half = Segment::new(1, 2).unwrap();
            let mut cores: Vec<Arrival> = half
                .split(3)
                .flat_map(|s| SegmentSchedule::new(ArrivalSchedule::new(&phases, arrivals, 9), s))
                .collect();
            cores.sort_by_key(|a| a.seq);
            let direct: Vec<Arrival> =
                SegmentSchedule::new(ArrivalSchedule::new(&phases, arrivals, 9), half).collect();
            assert_eq!(cores, direct);
        }
    }

    #[test]
    fn shares_are_whole_numbers_that_add_up() {
        for count in 1..9u64 {
            for total in [0u64, 1, 5, 32, 1001] {
                let shares: Vec<u64> = Segment::WHOLE
                    .split(count)
                    .map(|s| s.share(total))
                    .collect();
                assert_eq!(shares.iter().sum::<u64>(), total, "{total} over {count}");
                let (lo, hi) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
                assert!(hi - lo <= 1, "{shares:?}");
            }
        }
        assert_eq!(Segment::new(3, 3), None);
        assert_eq!(Segment::new(0, 0), None);
        let s = Segment::new(2, 3).unwrap();
        assert_eq!((s.seq(0), s.seq(1), s.seq(4)), (2, 5, 14));
        assert_eq!(s.to_string(), "2/3");
    }
}
