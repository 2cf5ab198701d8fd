//! The words every layer shares: how a request ended ([`Outcome`], [`HeldEnd`]), what one
//! request produced ([`Sample`]), what a target, a load model and a run are ([`TargetKind`],
//! [`LoadModel`], [`Arrivals`], [`ConnectionPolicy`], [`RequestKind`], [`RunStatus`]), and what
//! a threshold or a comparison measures ([`Metric`], [`Stat`], [`Unit`]).
//!
//! This module depends on nothing else in the crate, so every layer imports downward only:
//! `scenario`, `load`, `record`, `resultset`, `report` and `compare` → `model`. Each word has
//! one definition here, serde derives whose strings are the result set's (a documented
//! contract), and a `Display` that prints the same string. The database-connect mode of a
//! serverless target is a setting the `serve` child receives too, so it is defined once with
//! the other target settings, in `coldfront_targets::settings` (`DbConnect`).

mod metric;
pub mod names;
mod outcome;
mod sample;
mod words;

pub use metric::{percent, Metric, Stat, Unit};
pub use outcome::{FailureCause, HeldEnd, Outcome};
pub use sample::{HeldSample, Sample};
pub use words::{Arrivals, ConnectionPolicy, LoadModel, RequestKind, RunStatus, TargetKind};

/// Implements `Display` (and `as_str`) from a `match` of every variant to its serde string, so
/// the two cannot disagree (a unit test per enum round-trips each variant through serde).
macro_rules! words_with_names {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The stable name used in scenario files, result sets and reports.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(<$ty>::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use words_with_names;

#[cfg(test)]
mod tests;
