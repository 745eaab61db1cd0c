//! The crate's integration tests, one module per area, linked into one binary.

mod support;

mod mocking;
mod monitoring;
mod operator_flags;
mod publishing;
mod readme_parity;
mod readme_walkthrough;
mod rust_version;
mod schema_drift;
mod shift_board;
mod transports;
