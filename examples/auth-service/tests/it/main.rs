//! The crate's integration tests, one module per area, linked into one binary.

mod support;

mod error_causes;
mod flows;
mod http_adapter;
mod login_authoriser;
mod logs;
mod monitoring;
mod one_command;
mod shared_store;
mod throttle;
mod tokens;
