//! The build-script API: output files, rebuild hygiene and error messages.

mod common;

use std::path::PathBuf;

use telepact_codegen::Error;
use telepact_schema::Schema;

fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn generate_text(schema: &str) -> Result<String, Error> {
    let schema = Schema::from_text(schema).unwrap();
    telepact_codegen::configure().generate(&schema, "test")
}

#[test]
fn compile_dir_writes_one_file_named_after_the_directory_and_keeps_it_when_unchanged() {
    let out = scratch_dir("compile_dir_out");
    let builder = telepact_codegen::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false);
    let path = builder.compile_dir(common::bakery_dir()).unwrap();
    assert_eq!(path, out.join("api.rs"));
    let written = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    builder.compile_dir(common::bakery_dir()).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        written
    );
}

#[test]
fn two_schema_directories_of_one_name_never_overwrite_each_other() {
    let root = scratch_dir("same_name");
    for side in ["a", "b"] {
        let dir = root.join(side).join("api");
        std::fs::create_dir_all(&dir).unwrap();
        let schema = format!(r#"[{{"fn.{side}": {{}}, "->": [{{"Ok_": {{}}}}]}}]"#);
        std::fs::write(dir.join("api.telepact.json"), schema).unwrap();
    }
    let builder = telepact_codegen::configure()
        .out_dir(root.join("out"))
        .emit_rerun_if_changed(false);
    builder.compile_dir(root.join("a/api")).unwrap();
    let error = builder.compile_dir(root.join("b/api")).unwrap_err();
    assert!(matches!(error, Error::OutputClash { .. }), "{error}");
    let generated = std::fs::read_to_string(root.join("out/api.rs")).unwrap();
    assert!(generated.contains("\"fn.a\""), "the first output stays");
}

#[test]
fn an_invalid_schema_fails_with_the_loaders_located_messages() {
    let dir = scratch_dir("invalid_schema");
    std::fs::write(
        dir.join("bad.telepact.yaml"),
        "- struct.Bad:\n    x: \"nope\"\n",
    )
    .unwrap();
    let error = telepact_codegen::configure()
        .generate_dir(&dir)
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("invalid Telepact schema:\n"),
        "{message}"
    );
    assert!(message.contains("bad.telepact.yaml:2:"), "{message}");
    // A build script returning the error prints its Debug form: the same lines.
    assert_eq!(format!("{error:?}"), message);
}

#[test]
fn a_missing_directory_is_an_io_error() {
    let error = telepact_codegen::configure()
        .generate_dir("/nonexistent/schema")
        .unwrap_err();
    assert!(matches!(error, Error::Schema(_)));
    assert!(error.to_string().contains("/nonexistent/schema"), "{error}");
}

#[test]
fn two_definitions_with_one_rust_name_are_refused() {
    let error = generate_text(r#"[{"struct.Foo": {}}, {"struct.Foo_": {}}]"#).unwrap_err();
    assert!(
        matches!(error, Error::NameCollision { ref name, .. } if name == "Foo"),
        "{error}"
    );
    assert!(error.to_string().contains("rename one of them"), "{error}");
}

#[test]
fn the_generated_codes_own_names_are_reserved() {
    assert!(generate_text(r#"[{"struct.Client": {}}]"#).is_err());
    assert!(generate_text(r#"[{"fn.new": {}, "->": [{"Ok_": {}}]}]"#).is_err());
}

#[test]
fn fields_that_collide_in_snake_case_are_refused() {
    let error =
        generate_text(r#"[{"struct.S": {"aB": "boolean", "a_b": "boolean"}}]"#).unwrap_err();
    assert!(
        matches!(error, Error::NameCollision { ref name, .. } if name == "a_b"),
        "{error}"
    );
}

#[test]
fn options_that_are_not_rust_are_refused() {
    let schema = Schema::from_text("[]").unwrap();
    let bad_attribute = telepact_codegen::configure().type_attribute(".", "derive(Hash)");
    assert!(matches!(
        bad_attribute.generate(&schema, "x"),
        Err(Error::InvalidOption { .. })
    ));
    let bad_path = telepact_codegen::configure().runtime_path("not a path");
    assert!(matches!(
        bad_path.generate(&schema, "x"),
        Err(Error::InvalidOption { .. })
    ));
}
