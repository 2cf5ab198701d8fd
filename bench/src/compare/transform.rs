//! What `compare` does to a result set before comparing it: keep one target under a new name
//! (`--between A_TARGET B_TARGET`), or only the seconds of one phase (`--phase NAME`).

use crate::resultset::ResultSet;

use super::CompareError;

/// `run` reduced to one target, renamed `as_name`: how `compare --between` pits two targets of
/// one run against each other.
pub(crate) fn only_target(
    run: &ResultSet,
    name: &str,
    as_name: &str,
) -> Result<ResultSet, CompareError> {
    let Some(target) = run.target(name) else {
        return Err(CompareError::NoSuchTarget {
            dir: run.dir.clone(),
            target: name.to_string(),
            measured: run.targets.iter().map(|t| t.name.clone()).collect(),
        });
    };
    let mut target = target.clone();
    target.name = as_name.to_string();
    for row in &mut target.series {
        row.target = as_name.to_string();
    }
    let mut reduced = run.clone();
    reduced.summary.targets = reduced
        .summary
        .targets
        .remove(name)
        .map(|summary| (as_name.to_string(), summary))
        .into_iter()
        .collect();
    reduced.targets = vec![target];
    Ok(reduced)
}

/// `run` reduced to the seconds of one phase (by the phase's name), for figures "once warm"
/// or "during the burst". Whole-run summaries are kept as they are; per-second series and
/// interval logs are cut to the phase
/// ([`PhaseRecord::contains`](crate::resultset::PhaseRecord::contains)).
pub(crate) fn only_phase(run: &ResultSet, phase: &str) -> Result<ResultSet, CompareError> {
    let phases = &run.manifest.scenario.phases;
    let Some(chosen) = phases.iter().find(|p| p.name == phase).cloned() else {
        return Err(CompareError::NoSuchPhase {
            dir: run.dir.clone(),
            scenario: run.manifest.scenario.name.clone(),
            phase: phase.to_string(),
            phases: phases.iter().map(|p| p.name.clone()).collect(),
        });
    };
    let mut reduced = run.clone();
    for target in &mut reduced.targets {
        target.series.retain(|row| chosen.contains(row.span_s()));
        for log in [
            &mut target.latency,
            &mut target.service_time,
            &mut target.cold_latency,
            &mut target.warm_latency,
        ] {
            log.retain(|interval| chosen.contains(interval.span_s()));
        }
    }
    reduced.manifest.scenario.phases = vec![chosen];
    Ok(reduced)
}
