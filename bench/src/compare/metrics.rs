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
pub(crate) struct Recorded<'a> {
    pub target: &'a TargetData,
    pub phases: &'a [PhaseRecord],
}

impl Recorded<'_> {
    /// The phase of each per-second interval of a log.
    fn interval_phases(&self, intervals: &[HlogInterval]) -> Vec<usize> {
        intervals
            .iter()
            .map(|interval| PhaseRecord::index_of(self.phases, interval.span_s()))
            .collect()
    }

    /// The phase of each row of the series (`second` 1 covers the first second of load).
    fn row_phases(&self) -> Vec<usize> {
        self.target
            .series
            .iter()
            .map(|row| PhaseRecord::index_of(self.phases, row.span_s()))
            .collect()
    }
}

/// Every metric both `a` and `b` measured, in a fixed order: latency percentiles, throughput,
/// rates, gauges.
pub(crate) fn compare_target(
    a: Recorded,
    b: Recorded,
    bootstrap: &Bootstrap,
    tolerance: f64,
) -> Vec<MetricComparison> {
    let mut found = Found {
        target: &b.target.name,
        bootstrap,
        tolerance,
        metrics: Vec::new(),
    };
    found.latencies(a, b);
    let phases = [a.row_phases(), b.row_phases()];
    let series = [&a.target.series, &b.target.series];
    found.throughput(series, &phases, [a.phases.len(), b.phases.len()]);
    found.rates(series, &phases);
    found.gauges(series, &phases);
    found.metrics
}

/// The metrics of one target found so far.
struct Found<'a> {
    target: &'a str,
    bootstrap: &'a Bootstrap,
    tolerance: f64,
    metrics: Vec<MetricComparison>,
}

/// Both sides' series.
type BothSeries<'a> = [&'a Vec<SeriesRow>; 2];

impl Found<'_> {
    /// The bootstrap of one metric family: its own seed, so the result is the same whatever
    /// else is compared.
    fn keyed(&self, family: &str) -> Bootstrap {
        self.bootstrap.keyed(&format!("{}.{family}", self.target))
    }

    fn push(&mut self, metric: String, unit: Unit, better: Better, estimate: Option<Estimate>) {
        if let Some(estimate) = estimate {
            let comparison = MetricComparison::new(metric, unit, better, &estimate, self.tolerance);
            self.metrics.push(comparison);
        }
    }

    /// Percentiles of each latency distribution, from the per-second `.hlog` intervals.
    fn latencies(&mut self, a: Recorded, b: Recorded) {
        for (family, percentiles) in distributions(a.target, b.target) {
            let (a_intervals, b_intervals) = (log(a.target, family), log(b.target, family));
            let (a_phases, b_phases) = (
                a.interval_phases(a_intervals),
                b.interval_phases(b_intervals),
            );
            let quantiles: Vec<f64> = percentiles.iter().map(|p| p.1).collect();
            let (a_histograms, b_histograms) = (histograms(a_intervals), histograms(b_intervals));
            let estimates = stats::quantiles(
                Side::phased(&a_histograms.iter().collect::<Vec<_>>(), &a_phases),
                Side::phased(&b_histograms.iter().collect::<Vec<_>>(), &b_phases),
                &quantiles,
                &self.keyed(family),
            );
            for (k, (name, _)) in percentiles.iter().enumerate() {
                let estimate = estimates.as_ref().map(|e| milliseconds(e[k]));
                let metric = format!("{family}.{name}");
                self.push(metric, Unit::Milliseconds, Better::Lower, estimate);
            }
        }
    }

    /// Requests completed per second, over the seconds of the schedule: a row past its end
    /// holds the last answers of a sliver of a second, and would count as a whole second with
    /// next to nothing done (`past_end`: each side's number of phases, the tail's index).
    fn throughput(&mut self, series: BothSeries, phases: &[Vec<usize>; 2], past_end: [usize; 2]) {
        let mut completed: [Vec<f64>; 2] = Default::default();
        let mut strata: [Vec<usize>; 2] = Default::default();
        for side in 0..2 {
            for (row, &phase) in series[side].iter().zip(&phases[side]) {
                if phase != past_end[side] {
                    completed[side].push(row.completed as f64);
                    strata[side].push(phase);
                }
            }
        }
        let estimate = stats::mean(
            Side::phased(&completed[0], &strata[0]),
            Side::phased(&completed[1], &strata[1]),
            &self.keyed("throughput_rps"),
        );
        let metric = "throughput_rps".to_string();
        self.push(metric, Unit::RequestsPerSecond, Better::Higher, estimate);
    }

    /// Timeout, error and throttle rates over the requests completed.
    fn rates(&mut self, series: BothSeries, phases: &[Vec<usize>; 2]) {
        for (metric, numerator) in RATES {
            let rows: Vec<Vec<(u64, u64)>> = series
                .iter()
                .map(|rows| rows.iter().map(|r| (numerator(r), r.completed)).collect())
                .collect();
            let estimate = stats::ratio(
                Side::phased(&rows[0], &phases[0]),
                Side::phased(&rows[1], &phases[1]),
                &self.keyed(metric),
            );
            self.push(metric.into(), Unit::Ratio, Better::Lower, estimate);
        }
    }

    /// Gauges by their mean over the seconds sampled.
    fn gauges(&mut self, series: BothSeries, phases: &[Vec<usize>; 2]) {
        for (metric, sample) in GAUGES {
            // The seconds with a sample, and their phases.
            let sampled: Vec<(Vec<f64>, Vec<usize>)> = series
                .iter()
                .zip(phases)
                .map(|(rows, phases)| {
                    rows.iter()
                        .zip(phases)
                        .filter_map(|(r, &phase)| sample(r).map(|v| (v as f64, phase)))
                        .unzip()
                })
                .collect();
            let estimate = stats::mean(
                Side::phased(&sampled[0].0, &sampled[0].1),
                Side::phased(&sampled[1].0, &sampled[1].1),
                &self.keyed(metric),
            );
            self.push(metric.into(), Unit::Count, Better::Lower, estimate);
        }
    }
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

fn histograms(intervals: &[HlogInterval]) -> Vec<Histogram<u64>> {
    intervals.iter().map(HlogInterval::histogram).collect()
}

/// Microseconds (as recorded) to milliseconds.
fn milliseconds(estimate: Estimate) -> Estimate {
    let ms = |us: f64| us / 1000.0;
    Estimate {
        a: ms(estimate.a),
        b: ms(estimate.b),
        interval: estimate.interval.map(|i| stats::ConfidenceInterval {
            low: ms(i.low),
            high: ms(i.high),
        }),
    }
}
