//! The crate's integration tests, one module per area, linked into one binary.

mod common;

mod bakery;
mod builder;
mod error_causes;
mod extern_paths;
// Includes the generated `features` module, named after its schema folder.
#[allow(clippy::module_inception)]
mod features;
mod output;
mod size;
mod snapshots;
mod snippets;
mod validator_round_trip;
