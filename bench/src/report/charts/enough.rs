//! How many requests a percentile needs before a chart draws it: at least [`AT_LEAST`], and
//! for a tail percentile q at least 1 / (1 − q), so that one request lies beyond it (a p99
//! needs 100). A "p99" of fewer is only the slowest request, and a p50 of one late request is
//! that request: charts leave such percentiles out and say so.

/// No percentile is drawn from fewer requests than this.
pub(super) const AT_LEAST: u64 = 10;

/// The fewest requests percentile `q` (0–1) is drawn from.
pub(super) fn requests_for(q: f64) -> u64 {
    let tail = (1.0 / (1.0 - q).max(1e-9)).round() as u64;
    tail.max(AT_LEAST)
}

/// Whether `n` requests are enough for percentile `q`.
pub(super) fn enough(q: f64, n: u64) -> bool {
    n >= requests_for(q)
}

/// `q` as a percentile's name: `p50`, `p99`, `p99.9`.
pub(super) fn name(q: f64) -> String {
    format!("p{}", super::style::number(q * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percentile_needs_ten_requests_and_one_beyond_it() {
        assert_eq!(requests_for(0.5), 10);
        assert_eq!(requests_for(0.25), 10);
        assert_eq!(requests_for(0.9), 10);
        assert_eq!(requests_for(0.95), 20);
        assert_eq!(requests_for(0.99), 100);
        assert_eq!(requests_for(0.999), 1000);
        assert!(!enough(0.99, 99) && enough(0.99, 100));
        assert!(!enough(0.5, 1) && enough(0.5, 10));
        assert_eq!(name(0.99), "p99");
        assert_eq!(name(0.5), "p50");
    }
}
