//! Helpers shared by the integration tests.

#![allow(dead_code, unused_imports)]

pub(crate) use telepact_test_support::{bench_data_dir, conformance_dir};
