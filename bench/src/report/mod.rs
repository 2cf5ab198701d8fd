//! Reports of result sets: charts (one file per chart kind), the self-contained
//! `report.html` of one result set, and the static site of several.

pub mod charts;
pub mod data;

pub use data::{LoadError, RunData, TargetData};
