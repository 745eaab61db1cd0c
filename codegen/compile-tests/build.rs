//! Generates the code of a schema of long chains of types into `OUT_DIR`, and the
//! conformance `example` schema's when the vectors are present (setting
//! `cfg(conformance_vectors)` for the compile test).

use std::path::{Path, PathBuf};

const CONFORMANCE_DIR_VAR: &str = "TELEPACT_CONFORMANCE_DIR";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    generate_chains(&out_dir)?;
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

/// Links in the chain of structs, each holding the next: past rustc's recursion limit
/// (128) of the types one type owns.
const CHAIN: usize = 150;
/// Structs in the ring, each holding the next and the last the first: one large cycle.
const RING: usize = 40;

/// `OUT_DIR/chains.rs`, generated from a schema written to `OUT_DIR/schema/chains/` (the
/// module is named after the folder; its per-type files go to `OUT_DIR/chains.parts/`): a chain of
/// [`CHAIN`] structs, a ring of [`RING`] whose members also hold one of the chain's last
/// eight links, a union over the ring and the chain's tail, and functions taking and
/// returning the ring's and the chain's heads.
fn generate_chains(out_dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut definitions = Vec::new();
    for i in 0..CHAIN {
        let next = if i + 1 < CHAIN {
            format!(
                r#", "next!": "struct.C{0}", "more": ["struct.C{0}"]"#,
                i + 1
            )
        } else {
            String::new()
        };
        definitions.push(format!(r#"{{"struct.C{i}": {{"label": "string"{next}}}}}"#));
    }
    for i in 0..RING {
        let (next, link) = ((i + 1) % RING, CHAIN - 1 - i % 8);
        definitions.push(format!(
            r#"{{"struct.R{i}": {{"next!": "struct.R{next}", "link!": "struct.C{link}", "either!": "union.Either"}}}}"#
        ));
    }
    definitions.push(format!(
        r#"{{"union.Either": [{{"Chain": {{"tail": "struct.C{}"}}}}, {{"Ring": {{"start": "struct.R0"}}}}]}}"#,
        CHAIN - 1
    ));
    definitions.push(
        r#"{"fn.chain": {"head": "struct.C0"}, "->": [{"Ok_": {"head": "struct.C0"}}]}"#.into(),
    );
    definitions.push(
        r#"{"fn.ring": {"start!": "struct.R0"}, "->": [{"Ok_": {"either": "union.Either"}}]}"#
            .into(),
    );
    let schema_dir = out_dir.join("schema/chains");
    std::fs::create_dir_all(&schema_dir)?;
    let schema = format!("[\n{}\n]\n", definitions.join(",\n"));
    telepact_codegen::write_if_changed(&schema_dir.join("chains.telepact.json"), &schema)?;
    // The schema is this script's own output: nothing outside it changes the code.
    telepact_codegen::configure()
        .out_dir(out_dir)
        .emit_rerun_if_changed(false)
        .compile_dir(&schema_dir)?;
    Ok(())
}
