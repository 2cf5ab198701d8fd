//! `<target>.totals.hlog`: a target's whole-run histograms, one interval each spanning the run,
//! in the HdrHistogram interval-log format of the per-second log (corrected latency untagged,
//! every other distribution under its own tag). The per-second log holds the distributions a
//! chart draws; this one holds every distribution the summary is computed from, so `merge`
//! can add shards' histograms without loss and compute the merged summary with the very
//! function a run uses ([`super::summary::target_summary`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use super::recorder::{Distributions, HeldTotals, Totals};
use crate::resultset::hlog::{self, HlogWriter};
use crate::resultset::ReadError;

pub(crate) fn path(dir: &Path, target: &str) -> PathBuf {
    dir.join(crate::resultset::totals_hlog_file(target))
}

/// A distribution's tag, and where it lives in [`Totals`]; `None`: untagged.
type Slot = (
    Option<&'static str>,
    fn(&mut Totals) -> Option<&mut Histogram<u64>>,
);

const SLOTS: [Slot; 13] = [
    (None, |t| Some(&mut t.distributions.latency)),
    (Some(hlog::TAG_SERVICE_TIME), |t| {
        Some(&mut t.distributions.service_time)
    }),
    (Some("connect_time"), |t| {
        Some(&mut t.distributions.connect_time)
    }),
    (Some(hlog::TAG_SEND_LAG), |t| {
        Some(&mut t.distributions.send_lag)
    }),
    (Some(hlog::TAG_COLD_LATENCY), |t| {
        Some(&mut t.distributions.cold_latency)
    }),
    (Some(hlog::TAG_WARM_LATENCY), |t| {
        Some(&mut t.distributions.warm_latency)
    }),
    (Some("cold_service_time"), |t| {
        Some(&mut t.distributions.cold_service_time)
    }),
    (Some("warm_service_time"), |t| {
        Some(&mut t.distributions.warm_service_time)
    }),
    (Some("latency_net"), |t| {
        Some(&mut t.distributions.latency_net)
    }),
    (Some("cold_latency_net"), |t| {
        Some(&mut t.distributions.cold_latency_net)
    }),
    (Some("warm_latency_net"), |t| {
        Some(&mut t.distributions.warm_latency_net)
    }),
    (Some("held_first_message"), |t| {
        t.held.as_mut().map(|h| &mut h.time_to_first_message)
    }),
    (Some("held_for"), |t| {
        t.held.as_mut().map(|h| &mut h.held_for)
    }),
];

/// Writes `totals`' histograms, each as one interval of `length` from `start`.
pub(crate) fn write(
    path: &Path,
    totals: &Totals,
    start: SystemTime,
    length: Duration,
) -> std::io::Result<()> {
    let mut totals = totals.clone();
    let mut out = Vec::new();
    let mut writer = HlogWriter::begin(&mut out, start)?;
    for (tag, slot) in SLOTS {
        if let Some(histogram) = slot(&mut totals) {
            writer.write_interval(&mut out, tag, histogram, Duration::ZERO, length)?;
        }
    }
    crate::resultset::io::write_atomic(path, &out)
}

/// Adds the histograms of the file at `path` into `into` (whose held totals, when the run has
/// held requests, must exist); a tag this coldfront does not know is left out.
pub(crate) fn add_into(path: &Path, into: &mut Totals) -> Result<(), ReadError> {
    for interval in hlog::read(path)? {
        let slot = SLOTS
            .iter()
            .find(|(tag, _)| *tag == interval.tag.as_deref());
        if let Some(histogram) = slot.and_then(|(_, slot)| slot(into)) {
            histogram
                .add(interval.histogram())
                .expect("histograms with coldfront's bounds add");
        }
    }
    Ok(())
}

/// Empty totals to add shards into; with held totals when `held`.
pub(crate) fn empty(held: bool) -> Totals {
    Totals {
        distributions: Distributions::new(),
        outcomes: Default::default(),
        failures: Default::default(),
        cold_starts: None,
        late: 0,
        late_timeouts: 0,
        sent: 0,
        held: held.then(HeldTotals::new),
    }
}
