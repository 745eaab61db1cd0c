//! Each error that has a cause says only what failed at its own layer, and a person
//! (a build script's output, the command line) reads the cause once.

use std::path::PathBuf;

use telepact_codegen::Error;

fn scratch_dir(name: &str) -> PathBuf {
    telepact_test_support::scratch_dir(env!("CARGO_TARGET_TMPDIR"), format!("error-causes/{name}"))
}

const SHOP: &str = "- fn.order: {}\n  ->:\n    - Ok_: {}\n";

/// A schema directory holding `text` in `shop.telepact.yaml`.
fn schema_dir(name: &str, text: &str) -> PathBuf {
    let dir = scratch_dir(name).join("api");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shop.telepact.yaml"), text).unwrap();
    dir
}

/// Generation's errors that have a cause: an unreadable schema, an unreadable or invalid
/// released schema, and an output directory that cannot be made.
fn errors_with_causes() -> Vec<(&'static str, Error)> {
    let api = schema_dir("current", SHOP);
    let invalid_release = schema_dir("invalid-release", "- fn.order: 3\n");
    let a_file = scratch_dir("out").join("a-file");
    std::fs::write(&a_file, "").unwrap();
    let generate = |builder: telepact_codegen::Builder| builder.generate_dir(&api).unwrap_err();
    vec![
        (
            "an unreadable schema",
            telepact_codegen::configure()
                .generate_dir("/nonexistent/schema")
                .unwrap_err(),
        ),
        (
            "an unreadable released schema",
            generate(telepact_codegen::configure().compatible_with("/nonexistent/release")),
        ),
        (
            "an invalid released schema",
            generate(telepact_codegen::configure().compatible_with(&invalid_release)),
        ),
        (
            "an output directory that cannot be made",
            telepact_codegen::configure()
                .out_dir(a_file.join("out"))
                .emit_rerun_if_changed(false)
                .compile_dir(&api)
                .unwrap_err(),
        ),
    ]
}

#[test]
fn no_message_repeats_its_cause() {
    for (name, error) in errors_with_causes() {
        telepact_test_support::assert_causes_shown_once(name, &error);
    }
}

#[test]
fn a_build_script_and_the_command_line_show_each_cause_once() {
    let error = telepact_codegen::configure()
        .generate_dir("/nonexistent/schema")
        .unwrap_err();
    let whole = "cannot read /nonexistent/schema: No such file or directory (os error 2)";
    assert_eq!(format!("{error:?}"), whole);
    assert_eq!(error.render(false), format!("error: {whole}"));

    let invalid_release = schema_dir("invalid-release-shown", "- fn.order: 3\n");
    let error = telepact_codegen::configure()
        .compatible_with(&invalid_release)
        .generate_dir(schema_dir("current-shown", SHOP))
        .unwrap_err();
    let shown = format!("{error:?}");
    let said = format!(
        "the released schema compatible_with names ({}) cannot be loaded: invalid Telepact schema:\n\nerror: ",
        invalid_release.display()
    );
    assert!(shown.starts_with(&said), "{shown}");
    assert_eq!(
        shown.matches("error: the schema has 1 error").count(),
        1,
        "{shown}"
    );
    assert_eq!(error.render(false), format!("error: {shown}"));
}
