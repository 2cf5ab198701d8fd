//! Charts of a result set, as SVG and PNG.
