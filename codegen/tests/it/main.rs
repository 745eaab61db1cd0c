//! The crate's integration tests, one module per area, linked into one binary.

mod common;

mod bakery;
mod builder;
mod features;
mod snapshots;
mod validator_round_trip;
