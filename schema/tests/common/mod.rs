//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

/// The conformance vectors' folder (`TELEPACT_CONFORMANCE_DIR`, or `shared/` beside
/// the workspace); `None`, after printing a SKIP line, when it is absent.
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TELEPACT_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/telepact-conformance")
        });
    if dir.join("parse.json").is_file() {
        Some(dir)
    } else {
        println!("SKIP: conformance vectors not found at {}", dir.display());
        None
    }
}

/// The benchmark data folder beside the conformance vectors.
pub fn bench_data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("SKIP: benchmark data not found at {}", dir.display());
        None
    }
}
