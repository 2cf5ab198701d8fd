//! Figures per scenario phase: what each target did during "steady", "idle", "burst"…
//!
//! A second of the series and an interval of the `.hlog` belong to the phase that holds their
//! midpoint ([`PhaseRecord::contains`]), so requests count in the phase in which they
//! *completed*; a slow request that straddles a boundary counts in the later phase. Percentiles are exact over the phase (its
//! per-second histograms merged), not averages of per-second percentiles.

use hdrhistogram::Histogram;

use crate::resultset::hlog::{self, HlogInterval};
use crate::resultset::series::SeriesRow;
use crate::resultset::{LatencyStats, PhaseRecord, ResultSet, TargetData};

/// One target during one phase.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PhaseFigures {
    pub phase: String,
    pub start_s: f64,
    pub duration_s: f64,
    pub completed: u64,
    pub ok: u64,
    pub errors: u64,
    /// `None` when the target does not report cold starts.
    pub cold_starts: Option<u64>,
    pub latency_ms: LatencyStats,
    /// Latency of the phase's cold responses (`None` without cold-start reporting).
    pub cold_latency_ms: Option<LatencyStats>,
}

impl PhaseFigures {
    /// Cold starts as a share of completed requests.
    pub(crate) fn cold_share(&self) -> Option<f64> {
        let cold = self.cold_starts?;
        (self.completed > 0).then(|| cold as f64 / self.completed as f64)
    }
}

/// The figures of every phase of the scenario for `target`, in phase order.
pub(crate) fn by_phase(run: &ResultSet, target: &TargetData) -> Vec<PhaseFigures> {
    let cold_known = target.reports_cold_starts();
    run.manifest
        .scenario
        .phases
        .iter()
        .map(|phase| figures(phase, target, cold_known))
        .collect()
}

fn merged_in(phase: &PhaseRecord, intervals: &[HlogInterval]) -> Histogram<u64> {
    hlog::merged(
        intervals
            .iter()
            .filter(|interval| phase.contains(interval.span_s())),
    )
}

fn figures(phase: &PhaseRecord, target: &TargetData, cold_known: bool) -> PhaseFigures {
    let rows: Vec<_> = target
        .series
        .iter()
        .filter(|row| phase.contains(row.span_s()))
        .collect();
    let sum = |pick: fn(&SeriesRow) -> u64| rows.iter().map(|r| pick(r)).sum();
    let cold_latency = merged_in(phase, &target.cold_latency);
    PhaseFigures {
        phase: phase.name.clone(),
        start_s: phase.start_s,
        duration_s: phase.duration_s,
        completed: sum(|r| r.completed),
        ok: sum(|r| r.ok),
        errors: sum(|r| r.errors),
        cold_starts: cold_known.then(|| rows.iter().filter_map(|r| r.cold_starts).sum()),
        latency_ms: LatencyStats::from_histogram(&merged_in(phase, &target.latency)),
        cold_latency_ms: cold_known.then(|| LatencyStats::from_histogram(&cold_latency)),
    }
}
