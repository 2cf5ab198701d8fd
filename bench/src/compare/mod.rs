//! `coldfront compare A B`: two result sets of one scenario, metric by metric, with a verdict
//! from a bootstrap over their per-second intervals.
