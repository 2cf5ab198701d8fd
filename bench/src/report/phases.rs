//! Figures per scenario phase: what each target did during "steady", "idle", "burst"…
//!
//! A second of the series and an interval of the `.hlog` belong to the phase in which they
//! start, so requests count in the phase in which they *completed*; a slow request that
//! straddles a boundary counts in the later phase. Percentiles are exact over the phase (its
//! per-second histograms merged), not averages of per-second percentiles.

use hdrhistogram::Histogram;

use super::data::{RunData, TargetData};
use crate::record::hlog::{self, HlogInterval};
use crate::record::resultset::{LatencyStats, PhaseRecord};

/// One target during one phase.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseFigures {
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
    pub fn cold_share(&self) -> Option<f64> {
        let cold = self.cold_starts?;
        (self.completed > 0).then(|| cold as f64 / self.completed as f64)
    }
}

/// The figures of every phase of the scenario for `target`, in phase order.
pub fn by_phase(run: &RunData, target: &TargetData) -> Vec<PhaseFigures> {
    let cold_known = target.reports_cold_starts();
    run.manifest
        .scenario
        .phases
        .iter()
        .map(|phase| figures(phase, target, cold_known))
        .collect()
}

/// Whether a second or interval starting `start_s` into the load belongs to `phase`.
pub(crate) fn in_phase(phase: &PhaseRecord, start_s: f64) -> bool {
    // A millisecond of slack absorbs the log's three decimals.
    let from = phase.start_s - 0.001;
    let to = phase.start_s + phase.duration_s - 0.001;
    start_s >= from && start_s < to
}

fn merged_in(phase: &PhaseRecord, intervals: &[HlogInterval]) -> Histogram<u64> {
    hlog::merged(
        intervals
            .iter()
            .filter(|i| in_phase(phase, i.start.as_secs_f64())),
    )
}

fn figures(phase: &PhaseRecord, target: &TargetData, cold_known: bool) -> PhaseFigures {
    let rows: Vec<_> = target
        .series
        .iter()
        .filter(|row| in_phase(phase, row.second.saturating_sub(1) as f64))
        .collect();
    let sum =
        |pick: fn(&crate::record::series::SeriesRow) -> u64| rows.iter().map(|r| pick(r)).sum();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(start_s: f64, duration_s: f64) -> PhaseRecord {
        PhaseRecord {
            name: "p".into(),
            start_s,
            duration_s,
            rate_from: Some(1.0),
            rate_to: Some(1.0),
            concurrency: None,
            think_time_ms: None,
        }
    }

    #[test]
    fn an_interval_belongs_to_the_phase_it_starts_in() {
        let steady = phase(0.0, 10.0);
        let idle = phase(10.0, 5.0);
        assert!(in_phase(&steady, 0.0));
        assert!(in_phase(&steady, 9.0));
        assert!(!in_phase(&steady, 10.0));
        assert!(in_phase(&idle, 10.0));
        // The log writes three decimals: 9.9996 is written 10.000.
        assert!(in_phase(&idle, 9.9995));
        assert!(!in_phase(&idle, 15.0));
    }
}
