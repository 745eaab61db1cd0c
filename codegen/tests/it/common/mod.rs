//! Paths and generation shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub(crate) fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bakery's schema (`api/` at the workspace root).
pub(crate) fn bakery_dir() -> PathBuf {
    manifest_dir().join("../api")
}

/// The feature schema that uses every feature of the language.
pub(crate) fn features_dir() -> PathBuf {
    manifest_dir().join("tests/schemas/features")
}

/// The schema whose names collide with Rust's and with each other.
pub(crate) fn collisions_dir() -> PathBuf {
    manifest_dir().join("tests/schemas/collisions")
}

/// The schema whose types the `extern_paths` tests map to hand-written ones.
pub(crate) fn till_dir() -> PathBuf {
    manifest_dir().join("tests/schemas/till")
}

/// Generated code for a schema directory with the default options.
pub(crate) fn generate(dir: &Path) -> String {
    match telepact_codegen::configure().generate_dir(dir) {
        Ok(code) => code,
        Err(error) => panic!("generating {}: {error}", dir.display()),
    }
}
