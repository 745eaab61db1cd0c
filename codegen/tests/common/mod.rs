//! Paths and generation shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bakery's schema (`api/` at the workspace root).
pub fn bakery_dir() -> PathBuf {
    manifest_dir().join("../api")
}

/// The feature schema that uses every feature of the language.
pub fn features_dir() -> PathBuf {
    manifest_dir().join("tests/schemas/features")
}

/// The conformance `example` schema, when the vectors are present.
pub fn conformance_example_dir() -> Option<PathBuf> {
    let root = std::env::var_os("TELEPACT_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../shared/telepact-conformance"));
    let dir = root.join("schemas/example");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("SKIP: conformance vectors not found at {}", root.display());
        None
    }
}

/// Generated code for a schema directory with the default options.
pub fn generate(dir: &Path) -> String {
    match telepact_codegen::configure().generate_dir(dir) {
        Ok(code) => code,
        Err(error) => panic!("generating {}: {error}", dir.display()),
    }
}
