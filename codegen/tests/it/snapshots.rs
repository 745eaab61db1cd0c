//! The golden copies of the generated code, `tests/generated/<schema>.rs` (which the
//! compile, drift and round-trip tests include) and the runtime's `typed::standard`: a
//! test here fails, after rewriting the file, when one is stale. Review the change with
//! `git diff`.

use crate::common;

use std::path::Path;

/// Keeps the file at `path` (relative to this crate) equal to `code`.
fn assert_file_current(path: &str, code: &str) {
    let path = common::manifest_dir().join(path);
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
    assert_file_current(&format!("tests/generated/{name}.rs"), &code);
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
fn collision_schema() {
    check("collisions", &common::features_dir().join("../collisions"));
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
    assert!(code.contains("use crate::rt::typed::__codegen as rt;"));
    assert!(
        code.contains("#[derive(PartialOrd)]\n    pub struct Point"),
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

/// The till schema with its types mapped to the hand-written ones of the
/// `extern_paths` tests, which include the result.
#[test]
fn extern_path_schema() {
    let code = telepact_codegen::configure()
        .extern_path("struct.Money", "crate::extern_paths::Money")
        .extern_traits("struct.Money", ["Eq", "Hash", "Default"])
        .extern_path("union.Shape", "crate::extern_paths::Shape")
        .extern_path("struct.Route", "crate::extern_paths::Route")
        .field_attribute("struct.Price.note", "#[serde(alias = \"remark\")]")
        .generate_dir(common::till_dir())
        .unwrap();
    assert_file_current("tests/generated/till.rs", &code);
}

/// The runtime's `typed::standard` module is what the generator makes of the standard
/// definitions; the test rewrites it when stale.
#[test]
fn runtime_standard_types_are_current() {
    let code = telepact_codegen::generate_standard().unwrap();
    assert_file_current("../runtime/src/typed/standard.rs", &code);
}

#[test]
fn field_handler_and_client_attributes_land_on_their_items() {
    let code = telepact_codegen::configure()
        .field_attribute("fn.myShift.->.Ok_.station", "#[serde(alias = \"post\")]")
        .field_attribute("union.Auth_.Password.password!", "#[doc(hidden)]")
        .handler_attribute("#[doc(alias = \"Service\")]")
        .client_attribute("#[doc(alias = \"Stub\")]")
        .generate_dir(common::bakery_dir())
        .unwrap();
    assert!(
        code.contains("#[serde(alias = \"post\")]\n        pub station: String,"),
        "{code}"
    );
    assert_eq!(code.matches("#[serde(alias = \"post\")]").count(), 1);
    assert!(
        code.contains("#[doc(hidden)]\n        pub password: String,"),
        "a `!` in the path is ignored: {code}"
    );
    assert!(code.contains("#[doc(alias = \"Service\")]\n    pub trait Handler"));
    assert!(code.contains("#[doc(alias = \"Stub\")]\n    pub struct Client"));
}

#[test]
fn an_attribute_that_does_not_parse_names_its_option() {
    let error = telepact_codegen::configure()
        .field_attribute("struct.Point.x", "not an attribute")
        .generate_dir(common::features_dir())
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("field_attribute(\"struct.Point.x\""),
        "{error}"
    );
}

#[test]
fn an_attribute_that_selects_nothing_names_its_option() {
    let type_error = |selector: &str| {
        telepact_codegen::configure()
            .type_attribute(selector, "#[derive(Hash)]")
            .generate_dir(common::features_dir())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        type_error("struct.Pont"),
        "invalid option type_attribute(\"struct.Pont\", ..): the schema defines no `struct.Pont`"
    );
    assert_eq!(
        type_error("union.ParseFailure_"),
        "invalid option type_attribute(\"union.ParseFailure_\", ..): \
         `union.ParseFailure_` is a standard type, defined by the runtime"
    );
    let error = telepact_codegen::configure()
        .field_attribute("struct.Point.w", "#[doc(hidden)]")
        .generate_dir(common::features_dir())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid option field_attribute(\"struct.Point.w\", ..): \
         no generated type has the field `struct.Point.w`"
    );
}
