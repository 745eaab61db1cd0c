//! Each error that has a cause says only what failed at its own layer, and a person
//! reads the cause once, through `source()`.

use std::fs;

use telepact_schema::{ErrorChain, LoadError, Schema};

fn scratch(name: &str) -> std::path::PathBuf {
    telepact_test_support::scratch_dir(
        env!("CARGO_TARGET_TMPDIR"),
        format!("schema-error-causes/{name}"),
    )
}

/// The loader's errors that have a cause: a directory that is not there, and a file
/// past the size limit.
fn errors_with_causes() -> Vec<(&'static str, LoadError)> {
    let too_large = scratch("too-large");
    let file = fs::File::create(too_large.join("big.telepact.json")).expect("creates");
    file.set_len(telepact_schema::MAX_SCHEMA_FILE_BYTES + 1)
        .expect("a sparse file");
    vec![
        (
            "a missing directory",
            Schema::from_dir("/nonexistent/api").expect_err("no directory"),
        ),
        (
            "a file past the size limit",
            Schema::from_dir(&too_large).expect_err("too large"),
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
fn a_person_reads_the_unreadable_path_with_its_cause_once() {
    let error = Schema::from_dir("/nonexistent/api").expect_err("no directory");
    assert_eq!(error.to_string(), "cannot read /nonexistent/api");
    let chain = ErrorChain(&error).to_string();
    assert_eq!(
        chain,
        "cannot read /nonexistent/api: No such file or directory (os error 2)"
    );
    assert_eq!(
        format!("{error:?}"),
        chain,
        "what a `main` returning it prints"
    );
    assert_eq!(error.render(false), format!("error: {chain}"));
}
