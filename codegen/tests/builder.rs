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

/// The build error for a schema directory holding `text`, with the directory shown
/// as `DIR`; also checks that a build script returning it (its Debug form) prints the
/// same text.
fn build_error(name: &str, text: &str) -> String {
    let dir = scratch_dir(name);
    std::fs::write(dir.join("orchard.telepact.yaml"), text).unwrap();
    let error = telepact_codegen::configure()
        .generate_dir(&dir)
        .unwrap_err();
    let message = error.to_string();
    assert_eq!(format!("{error:?}"), message);
    assert_eq!(
        error.render(false),
        message.trim_start_matches("invalid Telepact schema:\n\n")
    );
    message.replace(&dir.display().to_string(), "DIR")
}

#[test]
fn a_typo_in_a_type_fails_with_the_line_a_caret_and_a_suggestion() {
    let message = build_error(
        "typo_schema",
        "- struct.Tree:\n    id: \"integr\"\n    name: string\n",
    );
    let expected = "\
invalid Telepact schema:

error: field `id` of `struct.Tree` has an unknown type `integr`
 --> DIR/orchard.telepact.yaml:2:9
  |
2 |     id: \"integr\"
  |         ^^^^^^^^ not a type
  |
  = help: did you mean `integer`?

error: the schema has 1 error";
    assert_eq!(message, expected);
}

#[test]
fn a_function_without_its_result_fails_saying_what_to_add() {
    let message = build_error(
        "missing_result_schema",
        "- fn.plant:\n    tree: string\n- fn.water:\n    tree: string\n  ->:\n    - Ok_: {}\n",
    );
    let expected = "\
invalid Telepact schema:

error: function `fn.plant` has no result `->`
 --> DIR/orchard.telepact.yaml:1:3
  |
1 | - fn.plant:
  |   ^^^^^^^^ `->` expected
  |
  = help: a function lists its result after `->`, such as `->: [{Ok_: {}}]`

error: the schema has 1 error";
    assert_eq!(message, expected);
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

/// The command line prints the same rendered failures, without colour when stderr is
/// not a terminal.
#[cfg(feature = "cli")]
#[test]
fn the_command_line_prints_the_rendered_failures() {
    let dir = scratch_dir("cli_typo_schema");
    let schema = dir.join("api");
    std::fs::create_dir_all(&schema).unwrap();
    std::fs::write(
        schema.join("orchard.telepact.yaml"),
        "- struct.Tree:\n    id: \"integr\"\n- fn.plant:\n    tree: struct.Tree\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_telepact-codegen"))
        .arg("--schema-dir")
        .arg(&schema)
        .arg("--out")
        .arg(dir.join("api.rs"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let expected = "\
error: field `id` of `struct.Tree` has an unknown type `integr`
 --> DIR/orchard.telepact.yaml:2:9
  |
2 |     id: \"integr\"
  |         ^^^^^^^^ not a type
  |
  = help: did you mean `integer`?

error: function `fn.plant` has no result `->`
 --> DIR/orchard.telepact.yaml:3:3
  |
3 | - fn.plant:
  |   ^^^^^^^^ `->` expected
  |
  = help: a function lists its result after `->`, such as `->: [{Ok_: {}}]`

error: the schema has 2 errors
";
    assert_eq!(
        stderr.replace(&schema.display().to_string(), "DIR"),
        expected
    );
    assert!(!dir.join("api.rs").exists());
}
