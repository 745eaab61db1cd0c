//! The crate's integration tests, one module per area, linked into one binary.

mod common;

mod amplification;
mod compare;
mod conformance_parse;
mod directory;
mod error_causes;
mod features;
mod never_panics;
mod reference_schemas;
mod rendering;
mod standard_definitions;
