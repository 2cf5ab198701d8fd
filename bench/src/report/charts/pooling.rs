//! Percentiles over time from enough requests: a target's interval log is read window by
//! window (one second, or several on a long run), and for each percentile neighbouring windows
//! of one phase are pooled (their histograms merged, never averaged) until the pool holds the
//! requests [`super::enough`] asks for, over at most [`MAX_POOL_S`] seconds. A pool that falls
//! short at a phase's end joins the pool before it when that one is adjacent and in the same
//! phase; otherwise its windows are left out and counted. One pool per percentile is open at
//! a time: memory does not grow with the run's length.

use hdrhistogram::Histogram;

use super::enough;
use super::spectrum::FLOOR_MS;
use super::timeline::Timeline;
use crate::resultset::hlog::{new_histogram, HlogInterval};

/// The longest stretch pooled for one point, in seconds (at least one window).
pub(super) const MAX_POOL_S: u64 = 10;

/// A percentile of the requests completed in `[start, end)` seconds since the start of load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Point {
    pub start: f64,
    pub end: f64,
    pub ms: f64,
    pub requests: u64,
}

impl Point {
    /// Where the point is drawn: the middle of its stretch.
    pub(super) fn at(&self) -> (f64, f64) {
        ((self.start + self.end) / 2.0, self.ms)
    }
}

/// A percentile's points, and the windows with requests that no point stands for.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Pooled {
    pub points: Vec<Point>,
    pub left_out_s: f64,
}

impl Pooled {
    /// The points as line segments, broken where one stretch does not follow the last.
    pub(super) fn segments(&self) -> Vec<Vec<(f64, f64)>> {
        let mut segments: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut previous_end = None;
        for point in &self.points {
            match segments.last_mut() {
                Some(segment) if previous_end == Some(point.start) => segment.push(point.at()),
                _ => segments.push(vec![point.at()]),
            }
            previous_end = Some(point.end);
        }
        segments
    }
}

/// Windows `first..=last` merged, all in one phase.
struct Pool {
    first: u64,
    last: u64,
    phase: Option<usize>,
    /// Windows with requests in it.
    windows: u64,
    histogram: Histogram<u64>,
}

struct Pooler {
    q: f64,
    window_s: u64,
    max_windows: u64,
    open: Option<Pool>,
    /// The pool of the last point, while it may still take a short remainder.
    last: Option<Pool>,
    out: Pooled,
}

impl Pooler {
    fn new(q: f64, window_s: u64) -> Pooler {
        Pooler {
            q,
            window_s,
            max_windows: (MAX_POOL_S / window_s).max(1),
            open: None,
            last: None,
            out: Pooled::default(),
        }
    }

    fn push(&mut self, k: u64, phase: Option<usize>, histogram: &Histogram<u64>) {
        let ends_open = self
            .open
            .as_ref()
            .is_some_and(|p| p.phase != phase || k - p.first >= self.max_windows);
        if ends_open {
            self.close_short();
        }
        let pool = self.open.get_or_insert_with(|| Pool {
            first: k,
            last: k,
            phase,
            windows: 0,
            histogram: new_histogram(),
        });
        // Intervals share coldfront's bounds; one that does not is left out, not fatal.
        let _ = pool.histogram.add(histogram);
        pool.last = k;
        pool.windows += 1;
        if enough::enough(self.q, pool.histogram.len()) {
            let pool = self.open.take().expect("just filled");
            self.out.points.push(self.point(&pool));
            self.last = Some(pool);
        }
    }

    /// Ends the open pool, which is short: into the last point's pool when that one is
    /// adjacent and in the same phase, else left out.
    fn close_short(&mut self) {
        let Some(short) = self.open.take() else {
            return;
        };
        let joins = self.last.as_ref().is_some_and(|last| {
            last.phase == short.phase
                && last.last + 1 == short.first
                && short.last - last.first < 2 * self.max_windows
        });
        if joins {
            let last = self.last.as_mut().expect("joins the last pool");
            let _ = last.histogram.add(&short.histogram);
            last.last = short.last;
            last.windows += short.windows;
            let point = self.point(self.last.as_ref().expect("joined"));
            *self
                .out
                .points
                .last_mut()
                .expect("the last pool has a point") = point;
        } else {
            self.out.left_out_s += (short.windows * self.window_s) as f64;
            self.last = None;
        }
    }

    fn point(&self, pool: &Pool) -> Point {
        let w = self.window_s as f64;
        Point {
            start: pool.first as f64 * w,
            end: (pool.last + 1) as f64 * w,
            ms: (pool.histogram.value_at_quantile(self.q) as f64 / 1000.0).max(FLOOR_MS),
            requests: pool.histogram.len(),
        }
    }

    fn finish(mut self) -> Pooled {
        self.close_short();
        self.out
    }
}

/// For each of `quantiles`, its points over `intervals` (in time order, as a log holds them)
/// read in windows of `window_s` seconds.
pub(super) fn pooled(
    intervals: &[HlogInterval],
    window_s: u64,
    timeline: &Timeline,
    quantiles: &[f64],
) -> Vec<Pooled> {
    let mut poolers: Vec<Pooler> = quantiles
        .iter()
        .map(|&q| Pooler::new(q, window_s))
        .collect();
    let mut push = |k: u64, histogram: &Histogram<u64>| {
        // Nothing, or only zeros, which cannot sit on a log axis (said if that is all).
        if histogram.max() == 0 {
            return;
        }
        let w = window_s as f64;
        let phase = timeline.phase_of((k as f64 * w, w));
        for pooler in &mut poolers {
            pooler.push(k, phase, histogram);
        }
    };
    let mut current: Option<(u64, Histogram<u64>)> = None;
    for interval in intervals {
        let k = (interval.start.as_secs_f64() / window_s as f64 + 1e-6).floor() as u64;
        match current.as_mut() {
            Some((open, merged)) if *open == k => {
                let _ = merged.add(interval.histogram());
            }
            _ => {
                if let Some((done, merged)) = current.take() {
                    push(done, &merged);
                }
                current = Some((k, interval.histogram()));
            }
        }
    }
    if let Some((done, merged)) = current {
        push(done, &merged);
    }
    poolers.into_iter().map(Pooler::finish).collect()
}
