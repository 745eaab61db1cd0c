//! Compile tests in one trybuild run: schema drift breaks the build of code written
//! against the old schema, and the conformance `example` schema's code compiles.

mod common;

#[test]
fn generated_code_compiles_and_drift_breaks_the_build() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    if let Some(dir) = common::conformance_example_dir() {
        let generated = common::manifest_dir().join("tests/ui/generated");
        telepact_codegen::write_if_changed(&generated.join("example.rs"), &common::generate(&dir))
            .unwrap();
        // The pass case round-trips the vectors' payloads; it finds them through this.
        let vectors = dir.join("../../server.json");
        let constant = format!(
            "pub const SERVER_VECTORS: &str = {:?};\n",
            vectors.display().to_string()
        );
        telepact_codegen::write_if_changed(&generated.join("vectors.rs"), &constant).unwrap();
        cases.pass("tests/ui/pass/example.rs");
    }
}
