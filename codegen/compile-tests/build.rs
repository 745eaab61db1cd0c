//! Generates the conformance `example` schema's code into `OUT_DIR` when the vectors are
//! present, and sets `cfg(conformance_vectors)` for the compile test.

use std::path::PathBuf;

const CONFORMANCE_DIR_VAR: &str = "TELEPACT_CONFORMANCE_DIR";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rustc-check-cfg=cfg(conformance_vectors)");
    println!("cargo::rerun-if-env-changed={CONFORMANCE_DIR_VAR}");
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = std::env::var_os(CONFORMANCE_DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir.join("../../../shared/telepact-conformance"));
    println!("cargo::rustc-env=CONFORMANCE_ROOT={}", root.display());
    let schema_dir = root.join("schemas/example");
    println!("cargo::rerun-if-changed={}", schema_dir.display());
    if !schema_dir.is_dir() {
        return Ok(());
    }
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    telepact_codegen::configure()
        .out_dir(&out_dir)
        .compile_dir(&schema_dir)?;
    let vectors = root.join("server.json");
    let constant = format!(
        "pub(crate) const SERVER_VECTORS: &str = {:?};\n",
        vectors.display().to_string()
    );
    telepact_codegen::write_if_changed(&out_dir.join("vectors.rs"), &constant)?;
    println!("cargo::rustc-cfg=conformance_vectors");
    Ok(())
}
