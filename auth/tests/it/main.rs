//! The crate's integration tests, one module per area, linked into one binary.

mod authenticator;
mod churn;
mod disabled_users;
mod error_causes;
mod forgery;
mod log_lines;
mod logins;
mod races;
mod redis_store;
mod sensitive_headers;
mod sessions;
mod store_faults;
mod store_reads;
mod websocket;
