//! Axis scales: numeric axes with the tick marks chosen here (plotters' own would land on
//! 0.3, 7.5 …), log ticks that suit the span, and ranges that never collapse or touch zero on
//! a log axis.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::{IntoLogRange, LogCoord};

/// A numeric axis whose tick marks are exactly `ticks` (plotters picks its own otherwise).
pub(super) struct Ticked<R> {
    inner: R,
    ticks: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> Ranged for Ticked<R> {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

/// A linear axis over `range` with tick marks at `ticks`.
pub(super) fn linear_axis(range: Range<f64>, ticks: Vec<f64>) -> Ticked<RangedCoordf64> {
    Ticked {
        inner: range.into(),
        ticks,
    }
}

/// A log axis over `range` (positive) with ticks from [`log_ticks`].
pub(super) fn log_axis(range: Range<f64>) -> Ticked<LogCoord<f64>> {
    let ticks = log_ticks(&range);
    Ticked {
        inner: range.log_scale().into(),
        ticks,
    }
}

/// Tick values for a log axis over `range` (positive): decades, with 2 and 5 between them
/// when the range spans few decades, and 1.5, 3 and 7 when it spans less than one.
pub(super) fn log_ticks(range: &Range<f64>) -> Vec<f64> {
    let (lo, hi) = (
        range.start.max(f64::MIN_POSITIVE),
        range.end.max(range.start),
    );
    let span = (hi / lo).log10();
    let steps: &[f64] = if span <= 1.0 {
        &[1.0, 1.5, 2.0, 3.0, 5.0, 7.0]
    } else if span <= 4.2 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let mut ticks = Vec::new();
    for exponent in (lo.log10().floor() as i32)..=(hi.log10().ceil() as i32) {
        let decade = 10f64.powi(exponent);
        for step in steps {
            let tick = step * decade;
            if tick >= lo * 0.999_999 && tick <= hi * 1.000_001 {
                ticks.push(tick);
            }
        }
    }
    ticks
}

/// A log range around values from `min` to `max` (milliseconds), with a little room at both
/// ends; never below `floor`, never empty.
pub(super) fn log_range(min: f64, max: f64, floor: f64) -> Range<f64> {
    let min = if min.is_finite() {
        min.max(floor)
    } else {
        floor
    };
    let max = if max.is_finite() { max.max(min) } else { min };
    let lo = (min / 1.4).max(floor);
    let hi = (max * 1.4).max(lo * 10.0);
    lo..hi
}

/// A linear range from zero to a bit above `max`, at least `at_least`.
pub(super) fn zero_range(max: f64, at_least: f64) -> Range<f64> {
    let max = if max.is_finite() { max } else { 0.0 };
    0.0..(max * 1.12).max(at_least)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_fit_the_span() {
        assert_eq!(
            log_ticks(&(0.5..200.0)),
            vec![0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0]
        );
        assert_eq!(
            log_ticks(&(0.01..5000.0)),
            vec![0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]
        );
        assert_eq!(log_ticks(&(1.0..5.0)), vec![1.0, 1.5, 2.0, 3.0, 5.0]);
    }

    #[test]
    fn ranges_never_collapse_or_go_non_positive() {
        let r = log_range(0.0, 0.0, 0.001);
        assert!(r.start >= 0.001 && r.end > r.start);
        let r = log_range(f64::NAN, f64::INFINITY, 0.001);
        assert!(r.start.is_finite() && r.end.is_finite() && r.end > r.start);
        let r = zero_range(0.0, 1.0);
        assert_eq!(r, 0.0..1.0);
    }
}
