//! The metrics `compare` compares, and where each comes from in a target's recording: the
//! per-second `.hlog` intervals for latencies, the per-second series for throughput, rates and
//! connections. A metric is compared when both sides measured it. Every second is labelled
//! with the scenario phase it fell in, so that resamples keep each phase's seconds. A side is
//! one run or several (repetitions, several result sets); each run is kept apart, since the
//! run is the unit the interval is built on when there are several.

use hdrhistogram::Histogram;

use super::model::MetricComparison;
use super::noise::Judge;
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

/// Every metric both sides measured, in a fixed order: latency percentiles, throughput, rates,
/// gauges. `a` and `b` hold one recording of the target per run of that side.
pub(crate) fn compare_target(
    a: &[Recorded],
    b: &[Recorded],
    bootstrap: &Bootstrap,
    judge: &Judge,
) -> Vec<MetricComparison> {
    let mut found = Found {
        target: &b[0].target.name,
        bootstrap,
        judge,
        metrics: Vec::new(),
    };
    found.latencies(a, b);
    let runs: Vec<Recorded> = a.iter().chain(b).copied().collect();
    let both = Both {
        split: a.len(),
        phases: runs.iter().map(Recorded::row_phases).collect(),
        runs,
    };
    found.throughput(&both);
    found.rates(&both);
    found.gauges(&both);
    found.metrics
}

/// The metrics of one target found so far.
struct Found<'a> {
    target: &'a str,
    bootstrap: &'a Bootstrap,
    judge: &'a Judge,
    metrics: Vec<MetricComparison>,
}

/// Every run of both sides (A's first, `split` of them), with the phase of each series row.
struct Both<'a> {
    split: usize,
    runs: Vec<Recorded<'a>>,
    phases: Vec<Vec<usize>>,
}

impl Both<'_> {
    /// Per-run values of each series row kept by `keep` (with the row's phase), as one side's
    /// and the other's [`Side`]s, then the statistic on them.
    fn sides<T, R>(
        &self,
        keep: impl Fn(&Recorded, &SeriesRow, usize) -> Option<T>,
        statistic: impl FnOnce(&[Side<T>], &[Side<T>]) -> R,
    ) -> R {
        let kept: Vec<(Vec<T>, Vec<usize>)> = self
            .runs
            .iter()
            .zip(&self.phases)
            .map(|(run, phases)| {
                run.target
                    .series
                    .iter()
                    .zip(phases)
                    .filter_map(|(row, &phase)| keep(run, row, phase).map(|v| (v, phase)))
                    .unzip()
            })
            .collect();
        let sides: Vec<Side<T>> = kept.iter().map(|(v, p)| Side::phased(v, p)).collect();
        let (a, b) = sides.split_at(self.split);
        statistic(a, b)
    }
}

impl Found<'_> {
    /// The bootstrap of one metric family: its own seed, so the result is the same whatever
    /// else is compared.
    fn keyed(&self, family: &str) -> Bootstrap {
        self.bootstrap.keyed(&format!("{}.{family}", self.target))
    }

    fn push(&mut self, metric: String, unit: Unit, better: Better, estimate: Option<Estimate>) {
        if let Some(estimate) = estimate {
            let comparison = self.judge.judge(metric, unit, better, &estimate);
            self.metrics.push(comparison);
        }
    }

    /// Percentiles of each latency distribution, from the per-second `.hlog` intervals.
    fn latencies(&mut self, a: &[Recorded], b: &[Recorded]) {
        let reports_cold = |runs: &[Recorded]| runs.iter().all(|r| r.target.reports_cold_starts());
        for (family, percentiles) in distributions(reports_cold(a) && reports_cold(b)) {
            let runs: Vec<&Recorded> = a.iter().chain(b).collect();
            let histograms: Vec<Vec<Histogram<u64>>> = runs
                .iter()
                .map(|run| histograms(log(run.target, family)))
                .collect();
            let refs: Vec<Vec<&Histogram<u64>>> =
                histograms.iter().map(|h| h.iter().collect()).collect();
            let phases: Vec<Vec<usize>> = runs
                .iter()
                .map(|run| run.interval_phases(log(run.target, family)))
                .collect();
            let sides: Vec<Side<&Histogram<u64>>> = refs
                .iter()
                .zip(&phases)
                .map(|(h, p)| Side::phased(h, p))
                .collect();
            let (a_sides, b_sides) = sides.split_at(a.len());
            let quantiles: Vec<f64> = percentiles.iter().map(|p| p.1).collect();
            let estimates = stats::quantiles(a_sides, b_sides, &quantiles, &self.keyed(family));
            for (k, (name, _)) in percentiles.iter().enumerate() {
                let estimate = estimates.as_ref().map(|e| milliseconds(&e[k]));
                let metric = format!("{family}.{name}");
                self.push(metric, Unit::Milliseconds, Better::Lower, estimate);
            }
        }
    }

    /// Requests completed per second, over the seconds of the schedule: a row past its end
    /// holds the last answers of a sliver of a second, and would count as a whole second with
    /// next to nothing done (the tail's phase index is the number of phases).
    fn throughput(&mut self, both: &Both) {
        let bootstrap = self.keyed("throughput_rps");
        let estimate = both.sides(
            |run, row, phase| (phase != run.phases.len()).then_some(row.completed as f64),
            |a, b| stats::mean(a, b, &bootstrap),
        );
        let metric = "throughput_rps".to_string();
        self.push(metric, Unit::RequestsPerSecond, Better::Higher, estimate);
    }

    /// Timeout, error and throttle rates over the requests completed.
    fn rates(&mut self, both: &Both) {
        for (metric, numerator) in RATES {
            let bootstrap = self.keyed(metric);
            let estimate = both.sides(
                |_, row, _| Some((numerator(row), row.completed)),
                |a, b| stats::ratio(a, b, &bootstrap),
            );
            self.push(metric.into(), Unit::Ratio, Better::Lower, estimate);
        }
    }

    /// Gauges by their mean over the seconds sampled.
    fn gauges(&mut self, both: &Both) {
        for (metric, sample) in GAUGES {
            let bootstrap = self.keyed(metric);
            let estimate = both.sides(
                |_, row, _| sample(row).map(|v| v as f64),
                |a, b| stats::mean(a, b, &bootstrap),
            );
            self.push(metric.into(), Unit::Count, Better::Lower, estimate);
        }
    }
}

/// The latency distributions compared, with their percentiles: cold-start latency only when
/// every run of both sides reports cold starts.
fn distributions(cold: bool) -> Vec<(&'static str, &'static [(&'static str, f64)])> {
    let mut families: Vec<(&str, &[(&str, f64)])> =
        vec![("latency", &PERCENTILES), ("service_time", &PERCENTILES)];
    if cold {
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
fn milliseconds(estimate: &Estimate) -> Estimate {
    let ms = |us: f64| us / 1000.0;
    Estimate {
        a: ms(estimate.a),
        b: ms(estimate.b),
        interval: estimate.interval.map(|i| stats::ConfidenceInterval {
            low: ms(i.low),
            high: ms(i.high),
        }),
        per_run: estimate
            .per_run
            .clone()
            .map(|run| run.into_iter().map(ms).collect()),
        spread: estimate.spread.map(|s| stats::Spread {
            difference: ms(s.difference),
            standard_error: ms(s.standard_error),
            df: s.df,
        }),
    }
}
