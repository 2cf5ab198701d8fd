//! The metrics `compare` compares, and where each comes from in a target's recording: the
//! per-second `.hlog` intervals for latencies, the per-second series for throughput, rates and
//! connections. A metric is compared when both sides measured it. Every second is labelled
//! with the scenario phase it fell in, so that resamples keep each phase's seconds.

use hdrhistogram::Histogram;

use super::model::MetricComparison;
use super::stats::{self, Better, Bootstrap, Estimate, Side};
use crate::model::Unit;
use crate::resultset::hlog::HlogInterval;
use crate::resultset::series::SeriesRow;
use crate::resultset::PhaseRecord;
use crate::resultset::TargetData;

/// Percentiles of the latency and service-time distributions: (name, quantile).
const PERCENTILES: [(&str, f64); 4] =
    [("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p999", 0.999)];
/// Percentiles of cold-start latency (few samples: the far tail is not estimable).
const COLD_PERCENTILES: [(&str, f64); 2] = [("p50", 0.50), ("p99", 0.99)];

/// A per-second count of the series.
type Count = fn(&SeriesRow) -> u64;
/// Rates: the metric and its numerator; the denominator is the requests completed.
const RATES: [(&str, Count); 3] = [
    ("timeout_rate", |r| r.timeouts),
    ("error_rate", |r| r.errors),
    ("throttle_rate", |r| r.throttled),
];

/// A per-second sample of a gauge, when taken.
type Gauge = fn(&SeriesRow) -> Option<u64>;
/// Gauges compared by their mean over the seconds sampled.
const GAUGES: [(&str, Gauge); 2] = [
    ("connections_open.mean", |r| Some(r.connections_open)),
    ("db_connections.mean", |r| r.db_connections),
];

/// A target's recording and the phases of the run it was recorded in.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    pub target: &'a TargetData,
    pub phases: &'a [PhaseRecord],
}

impl Recorded<'_> {
    /// The phase of each per-second interval of a log.
    fn interval_phases(&self, intervals: &[HlogInterval]) -> Vec<usize> {
        intervals
            .iter()
            .map(|i| phase_at(self.phases, (i.start + i.length / 2).as_secs_f64()))
            .collect()
    }

    /// The phase of each row of the series (`second` 1 covers the first second of load).
    fn row_phases(&self) -> Vec<usize> {
        self.target
            .series
            .iter()
            .map(|r| phase_at(self.phases, r.second as f64 - 0.5))
            .collect()
    }
}

/// The index of the phase running `offset_s` into the load; past the last phase (requests
/// still completing), one more.
pub fn phase_at(phases: &[PhaseRecord], offset_s: f64) -> usize {
    phases
        .iter()
        .position(|p| offset_s < p.start_s + p.duration_s)
        .unwrap_or(phases.len())
}

/// Every metric both `a` and `b` measured, in a fixed order.
pub fn compare_target(
    a: Recorded,
    b: Recorded,
    bootstrap: &Bootstrap,
    tolerance: f64,
) -> Vec<MetricComparison> {
    let mut out = Vec::new();
    let target = &b.target.name;
    let keyed = |family: &str| bootstrap.keyed(&format!("{target}.{family}"));
    let mut push = |metric: String, unit, better, estimate: Option<Estimate>| {
        if let Some(estimate) = estimate {
            out.push(MetricComparison::new(
                metric, unit, better, &estimate, tolerance,
            ));
        }
    };

    for (family, percentiles) in distributions(a.target, b.target) {
        let (a_intervals, b_intervals) = (log(a.target, family), log(b.target, family));
        let (a_phases, b_phases) = (
            a.interval_phases(a_intervals),
            b.interval_phases(b_intervals),
        );
        let quantiles: Vec<f64> = percentiles.iter().map(|p| p.1).collect();
        let estimates = stats::quantiles(
            Side::phased(&histograms(a_intervals), &a_phases),
            Side::phased(&histograms(b_intervals), &b_phases),
            &quantiles,
            &keyed(family),
        );
        for (k, (name, _)) in percentiles.iter().enumerate() {
            let estimate = estimates.as_ref().map(|e| milliseconds(e[k]));
            push(
                format!("{family}.{name}"),
                Unit::Milliseconds,
                Better::Lower,
                estimate,
            );
        }
    }

    let phases = [a.row_phases(), b.row_phases()];
    let series = [&a.target.series, &b.target.series];
    let completed: Vec<Vec<f64>> = series
        .iter()
        .map(|rows| rows.iter().map(|r| r.completed as f64).collect())
        .collect();
    push(
        "throughput_rps".into(),
        Unit::RequestsPerSecond,
        Better::Higher,
        stats::mean(
            Side::phased(&completed[0], &phases[0]),
            Side::phased(&completed[1], &phases[1]),
            &keyed("throughput_rps"),
        ),
    );

    for (metric, numerator) in RATES {
        let rows: Vec<Vec<(u64, u64)>> = series
            .iter()
            .map(|rows| rows.iter().map(|r| (numerator(r), r.completed)).collect())
            .collect();
        push(
            metric.into(),
            Unit::Ratio,
            Better::Lower,
            stats::ratio(
                Side::phased(&rows[0], &phases[0]),
                Side::phased(&rows[1], &phases[1]),
                &keyed(metric),
            ),
        );
    }

    for (metric, sample) in GAUGES {
        // The seconds with a sample, and their phases.
        let sampled: Vec<(Vec<f64>, Vec<usize>)> = series
            .iter()
            .zip(&phases)
            .map(|(rows, phases)| {
                rows.iter()
                    .zip(phases)
                    .filter_map(|(r, &phase)| sample(r).map(|v| (v as f64, phase)))
                    .unzip()
            })
            .collect();
        push(
            metric.into(),
            Unit::Count,
            Better::Lower,
            stats::mean(
                Side::phased(&sampled[0].0, &sampled[0].1),
                Side::phased(&sampled[1].0, &sampled[1].1),
                &keyed(metric),
            ),
        );
    }
    out
}

/// The latency distributions compared, with their percentiles: cold-start latency only when
/// both sides report cold starts.
fn distributions(
    a: &TargetData,
    b: &TargetData,
) -> Vec<(&'static str, &'static [(&'static str, f64)])> {
    let mut families: Vec<(&str, &[(&str, f64)])> =
        vec![("latency", &PERCENTILES), ("service_time", &PERCENTILES)];
    if a.reports_cold_starts() && b.reports_cold_starts() {
        families.push(("cold_latency", &COLD_PERCENTILES));
    }
    families
}

/// A target's per-second log of a distribution.
fn log<'t>(target: &'t TargetData, family: &str) -> &'t [HlogInterval] {
    match family {
        "latency" => &target.latency,
        "service_time" => &target.service_time,
        "cold_latency" => &target.cold_latency,
        other => unreachable!("no log of {other}"),
    }
}

fn histograms(intervals: &[HlogInterval]) -> Vec<&Histogram<u64>> {
    intervals.iter().map(|i| &i.histogram).collect()
}

/// Microseconds (as recorded) to milliseconds.
fn milliseconds(estimate: Estimate) -> Estimate {
    let ms = |us: f64| us / 1000.0;
    Estimate {
        a: ms(estimate.a),
        b: ms(estimate.b),
        interval: estimate.interval.map(|i| stats::Interval {
            low: ms(i.low),
            high: ms(i.high),
        }),
    }
}
