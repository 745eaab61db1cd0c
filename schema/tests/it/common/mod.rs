//! Helpers shared by the integration tests.

#![allow(dead_code, unused_imports)]

pub use telepact_test_support::{bench_data_dir, conformance_dir};
