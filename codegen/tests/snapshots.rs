//! Snapshots of the generated code, reviewed with `cargo insta review`.
//!
//! The same code is kept in `tests/generated/`, where the compile, drift and round-trip
//! tests include it; a test here fails (after rewriting the file) when it is stale.

mod common;

use std::path::Path;

/// Keeps `tests/generated/<name>.rs` equal to `code`.
fn assert_generated_file_current(name: &str, code: &str) {
    let path = common::manifest_dir().join(format!("tests/generated/{name}.rs"));
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != code {
        telepact_codegen::write_if_changed(&path, code).unwrap();
        panic!(
            "{} was stale and has been regenerated; run the tests again",
            path.display()
        );
    }
}

fn check(name: &str, dir: &Path) {
    let code = common::generate(dir);
    insta::assert_snapshot!(name, code);
    assert_generated_file_current(name, &code);
}

#[test]
fn bakery_schema() {
    check("bakery", &common::bakery_dir());
}

#[test]
fn feature_schema() {
    check("features", &common::features_dir());
}

#[test]
fn options_select_what_is_generated() {
    let code = telepact_codegen::configure()
        .build_server(false)
        .build_client(false)
        .type_attribute("struct.Point", "#[derive(PartialOrd)]")
        .runtime_path("crate::rt")
        .generate_dir(common::features_dir())
        .unwrap();
    assert!(!code.contains("trait Handler"));
    assert!(!code.contains("pub struct Client"));
    assert!(code.contains("crate::rt::typed::Bytes"));
    assert!(
        code.contains("#[derive(PartialOrd)]\npub struct Point"),
        "{code}"
    );
    assert_eq!(code.matches("#[derive(PartialOrd)]").count(), 1);
}

#[test]
fn server_only_leaves_out_the_client() {
    let code = telepact_codegen::configure()
        .build_client(false)
        .generate_dir(common::bakery_dir())
        .unwrap();
    assert!(code.contains("pub trait Handler"));
    assert!(!code.contains("pub struct Client"));
}
