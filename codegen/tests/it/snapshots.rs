//! The golden copies of the generated code and a test that fails, after rewriting them,
//! when one is stale (review the change with `git diff`):
//! - `tests/generated/<module>.rs` and `tests/generated/<module>.parts/`, the module a
//!   build script's `compile_dir` writes for each test schema (a skeleton, and one file
//!   per type it includes), which the compile, drift and round-trip tests include;
//! - the runtime's `typed::standard`.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use telepact_codegen::Builder;

/// Where the golden modules are kept.
fn golden_dir() -> PathBuf {
    common::manifest_dir().join("tests/generated")
}

/// The split module `module` in `dir`: its skeleton's and its parts' contents by path.
fn module_files(dir: &Path, module: &str) -> BTreeMap<PathBuf, String> {
    let skeleton = dir.join(format!("{module}.rs"));
    let parts = dir.join(format!("{module}.parts"));
    let part_paths = std::fs::read_dir(&parts)
        .into_iter()
        .flatten()
        .map(|entry| entry.unwrap().path());
    std::iter::once(skeleton)
        .chain(part_paths)
        .filter_map(|path| Some((path.clone(), std::fs::read_to_string(path).ok()?)))
        .collect()
}

/// Keeps the golden copy of the module `builder` compiles from `dir` current: the
/// build script's own output, written where the tests include it.
fn check_compiled(builder: Builder, dir: &Path) {
    let module = dir.file_name().unwrap().to_string_lossy().into_owned();
    let before = module_files(&golden_dir(), &module);
    builder
        .out_dir(golden_dir())
        .emit_rerun_if_changed(false)
        .compile_dir(dir)
        .unwrap();
    assert!(
        before == module_files(&golden_dir(), &module),
        "tests/generated/{module}.rs or its parts were stale and have been regenerated; \
         run the tests again"
    );
}

fn check(dir: &Path) {
    check_compiled(telepact_codegen::configure(), dir);
}

#[test]
fn bakery_schema() {
    check(&common::bakery_dir());
}

#[test]
fn feature_schema() {
    check(&common::features_dir());
}

#[test]
fn collision_schema() {
    check(&common::collisions_dir());
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

/// Doc links name the runtime by its path, which resolves where the code is included
/// and which readers can write, never through the hidden `rt` alias.
#[test]
fn doc_links_to_the_runtime_follow_the_runtime_path() {
    let code = telepact_codegen::configure()
        .runtime_path("crate::rt")
        .generate_dir(common::bakery_dir())
        .unwrap();
    assert!(
        code.contains("[`crate::rt::typed::MockControl::stub`]"),
        "{code}"
    );
    assert!(code.contains("[`crate::rt::typed::Selection`]"), "{code}");
    assert!(
        !code.contains("[`rt::") && !code.contains("](rt::"),
        "{code}"
    );
}

/// The `_with` method's docs link to the method by its Rust name: rustdoc finds no
/// `Client::self`, and `cargo doc` warned of the link.
#[test]
fn doc_links_to_client_methods_name_them_as_rust_does() {
    let code = common::generate(&common::collisions_dir());
    assert!(code.contains("[`Client::self_`]"), "{code}");
    assert!(!code.contains("[`Client::self`]"), "{code}");
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
    let builder = telepact_codegen::configure()
        .extern_path("struct.Money", "crate::extern_paths::Money")
        .extern_traits("struct.Money", ["Eq", "Hash", "Default"])
        .extern_path("union.Shape", "crate::extern_paths::Shape")
        .extern_path("struct.Route", "crate::extern_paths::Route")
        // What the generated code already says is left out, so the golden copy shows
        // these attributes as they would be without it, and compiles.
        .type_attribute("struct.Price", "#[derive(Clone, Hash)]")
        .field_attribute("struct.Price.note", "#[serde(alias = \"remark\", default)]")
        .field_attribute("fn.quote.->.Ok_.outline", "#[serde(alias = \"sketch\")]");
    check_compiled(builder, &common::till_dir());
}

/// The runtime's `typed::standard` module is what the generator makes of the standard
/// definitions; the test rewrites it when stale.
#[test]
fn runtime_standard_types_are_current() {
    let dir = common::manifest_dir().join("../runtime/src/typed");
    let before = module_files(&dir, "standard");
    telepact_codegen::compile_standard(&dir).unwrap();
    assert!(
        before == module_files(&dir, "standard"),
        "runtime/src/typed/standard.rs or its parts were stale and have been regenerated; \
         run the tests again"
    );
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
        "invalid option type_attribute(\"struct.Pont\", ..): \
         the schema defines no `struct.Pont`; did you mean `struct.Point`?"
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
         no generated type has the field `struct.Point.w`; did you mean `struct.Point.x`?"
    );
}

/// The code `builder` generates for the feature schema, or its error's message.
fn features_with(builder: Builder) -> Result<String, String> {
    builder
        .generate_dir(common::features_dir())
        .map_err(|e| e.to_string())
}

#[test]
fn a_derive_the_type_has_is_left_out_and_one_it_cannot_have_is_refused() {
    let generate = |selector: &str, attribute: &str| {
        features_with(telepact_codegen::configure().type_attribute(selector, attribute))
    };
    let code = generate("struct.Point", "#[derive(Clone, PartialOrd, Debug)]").unwrap();
    assert!(
        code.contains(
            "#[derive(Debug, Clone, PartialEq, Default)]\n    #[derive(PartialOrd)]\n    pub struct Point"
        ),
        "{code}"
    );
    assert_eq!(
        generate("struct.Point", "#[derive(Hash)]").unwrap_err(),
        "invalid option type_attribute(\"struct.Point\", ..): `struct.Point` (`Point`) cannot \
         derive `Hash`: it holds a `number`, a map or a selection, or a mapped type \
         declared without `Hash`; the generator derives `Hash` wherever it can"
    );
    // A selector that takes in other types: left out of those that cannot have it.
    let every_type = generate(".", "#[derive(std::hash::Hash, PartialOrd)]").unwrap();
    assert!(
        !every_type.contains("derive(std::hash::Hash"),
        "{every_type}"
    );
    assert!(
        every_type.contains("#[derive(PartialOrd)]\n    pub struct Point"),
        "{every_type}"
    );
}

#[test]
fn a_serde_key_the_field_has_is_left_out_and_one_that_says_otherwise_is_refused() {
    let generate = |path: &str, attribute: &str| {
        features_with(telepact_codegen::configure().field_attribute(path, attribute))
    };
    let code = generate(
        "struct.Scalars.optFlag",
        "#[serde(default, alias = \"flagged\")]",
    )
    .unwrap();
    assert!(
        code.contains(
            "#[serde(\n            rename = \"optFlag!\",\n            default,\n            \
             skip_serializing_if = \"Option::is_none\",\n            \
             deserialize_with = \"rt::deserialize_present\"\n        )]\n        \
             #[serde(alias = \"flagged\")]\n        pub opt_flag: Option<bool>,"
        ),
        "{code}"
    );
    assert_eq!(
        generate("struct.Scalars.maybeFlag", "#[serde(rename = \"flag2\")]").unwrap_err(),
        "invalid option field_attribute(\"struct.Scalars.maybeFlag\", ..): \
         `#[serde(rename = \"flag2\")]` would not write the field as the schema's `maybeFlag`"
    );
    let reader = generate(
        "struct.Scalars.optMaybeLabel!",
        "#[serde(with = \"my::label\")]",
    );
    assert!(
        reader
            .as_ref()
            .unwrap_err()
            .contains("clashes with `#[serde(deserialize_with"),
        "{reader:?}"
    );
}

/// A `#[serde(default)]` on a required field, or on a type with one, would read the
/// field as its default when an answer leaves it out, which the validator refuses; on
/// an optional field it says what the generated one does.
#[test]
fn a_serde_default_that_would_let_a_required_field_go_missing_is_refused() {
    let field = |path: &str, attribute: &str| {
        features_with(telepact_codegen::configure().field_attribute(path, attribute))
    };
    for attribute in ["#[serde(default)]", "#[serde(default = \"my::zero\")]"] {
        let refused = field("struct.Point.x", attribute).unwrap_err();
        assert!(
            refused.ends_with("would read the required field `x` when it is missing"),
            "{attribute}: {refused}"
        );
    }
    assert!(field("struct.Scalars.optFlag", "#[serde(default)]").is_ok());

    let types = |selector: &str, attribute: &str| {
        features_with(telepact_codegen::configure().type_attribute(selector, attribute))
    };
    assert_eq!(
        types("struct.Point", "#[serde(default)]").unwrap_err(),
        "invalid option type_attribute(\"struct.Point\", ..): `#[serde(default)]` \
         would read `struct.Point` (`Point`) with a required field missing"
    );
}

/// A serde key that would write a field under another key, or not at all, is refused
/// whether or not the generated field renames it (`x` is written as its Rust name); so
/// is a type's key that changes how its fields or tags are written, for any type a
/// selector takes in. Keys that leave the wire form alone pass.
#[test]
fn a_serde_key_that_changes_the_wire_form_is_refused() {
    let field = |path: &str, attribute: &str| {
        features_with(telepact_codegen::configure().field_attribute(path, attribute))
    };
    for attribute in [
        "#[serde(rename = \"z\")]",
        "#[serde(rename(serialize = \"z\"))]",
        "#[serde(skip)]",
        "#[serde(skip_serializing_if = \"is_zero\")]",
        "#[serde(flatten)]",
    ] {
        let refused = field("struct.Point.x", attribute).unwrap_err();
        assert!(
            refused.ends_with("would not write the field as the schema's `x`"),
            "{attribute}: {refused}"
        );
    }
    for attribute in [
        "#[serde(rename = \"x\")]",
        "#[serde(alias = \"across\")]",
        "#[serde(serialize_with = \"my::write\")]",
    ] {
        assert!(field("struct.Point.x", attribute).is_ok(), "{attribute}");
    }

    let types = |selector: &str, attribute: &str| {
        features_with(telepact_codegen::configure().type_attribute(selector, attribute))
    };
    assert_eq!(
        types(".", "#[serde(rename_all = \"UPPERCASE\")]").unwrap_err(),
        "invalid option type_attribute(\".\", ..): `#[serde(rename_all = \"UPPERCASE\")]` \
         would write `struct.Collections` (`Collections`) in another form than the schema's"
    );
    let untagged = types("union.Shape", "#[serde(untagged)]").unwrap_err();
    assert!(untagged.contains("`union.Shape` (`Shape`)"), "{untagged}");
    assert!(types("struct.Point", "#[serde(deny_unknown_fields)]").is_ok());
}
