//! Loading a schema directory: mixed YAML and JSON files, and what a directory may
//! not hold.

use std::fs;
use std::path::{Path, PathBuf};

use telepact_schema::{LoadError, Schema, read_schema_dir};

/// An empty directory under cargo's scratch space for integration tests.
fn scratch(name: &str) -> PathBuf {
    telepact_test_support::scratch_dir(
        env!("CARGO_TARGET_TMPDIR"),
        format!("schema-dir-tests/{name}"),
    )
}

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).expect("write schema file");
}

fn failures(error: &LoadError) -> Vec<(String, String)> {
    error
        .failures()
        .expect("invalid schema, not an I/O error")
        .iter()
        .map(|f| (f.document.clone(), f.reason.clone()))
        .collect()
}

#[test]
fn yaml_and_json_files_form_one_schema() {
    let dir = scratch("mixed");
    write(
        &dir,
        "types.telepact.yaml",
        "- struct.Item:\n    name: string\n",
    );
    write(
        &dir,
        "functions.telepact.json",
        r#"[{"fn.get": {}, "->": [{"Ok_": {"item": "struct.Item"}}]}]"#,
    );
    let schema = Schema::from_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(schema.function_by_name("fn.get").is_some());
    assert!(schema.names().contains_key("struct.Item"));
}

#[test]
fn failures_name_the_file_and_display_its_path() {
    let dir = scratch("located");
    write(&dir, "a.telepact.json", r#"[{"struct.Same": {}}]"#);
    write(&dir, "b.telepact.yaml", "# comment\n- struct.Same: {}\n");
    let error = Schema::from_dir(&dir).expect_err("collision");
    assert_eq!(
        failures(&error),
        [("b.telepact.yaml".to_string(), "PathCollision".to_string())]
    );
    let shown = error.to_string().replace(&dir.display().to_string(), "DIR");
    let expected = "\
error: `struct.Same` is defined twice
 --> DIR/b.telepact.yaml:2:3
  |
2 | - struct.Same: {}
  |   ^^^^^^^^^^^ defined again here
  |
 ::: DIR/a.telepact.json:1:3
  |
1 | [{\"struct.Same\": {}}]
  |   ------------- first declared here

error: the schema has 1 error";
    assert_eq!(shown, expected);
    let failure = &error.failures().expect("invalid").0[0];
    let line = format!(
        "{}:2:3: `struct.Same` is defined twice",
        dir.join("b.telepact.yaml").display()
    );
    assert_eq!(failure.to_string(), line);
}

#[test]
fn subdirectories_and_other_files_are_rejected() {
    let dir = scratch("rejected");
    write(&dir, "ok.telepact.json", "[]");
    write(&dir, "notes.txt", "hello");
    fs::create_dir_all(dir.join("nested")).expect("subdirectory");
    let error = Schema::from_dir(&dir).expect_err("rejected");
    assert_eq!(
        failures(&error),
        [
            ("nested".to_string(), "DirectoryDisallowed".to_string()),
            (
                "notes.txt".to_string(),
                "FileNamePatternInvalid".to_string()
            ),
        ]
    );
}

#[test]
fn unreadable_documents_are_json_invalid() {
    let dir = scratch("invalid");
    write(&dir, "a.telepact.json", "[{");
    write(&dir, "b.telepact.yaml", "- [unclosed\n");
    let error = Schema::from_dir(&dir).expect_err("invalid");
    assert_eq!(
        failures(&error),
        [
            ("a.telepact.json".to_string(), "JsonInvalid".to_string()),
            ("b.telepact.yaml".to_string(), "JsonInvalid".to_string()),
        ]
    );
}

#[test]
fn a_missing_directory_is_an_io_error() {
    let missing = scratch("gone").join("does-not-exist");
    assert!(matches!(
        Schema::from_dir(&missing),
        Err(LoadError::Io { .. })
    ));
}

/// A device or a named pipe under a schema file's name is refused unread: one could be
/// read without end, the other would wait for a writer for ever.
#[cfg(unix)]
#[test]
fn a_schema_name_on_a_device_or_a_pipe_is_refused_unread() {
    let dir = scratch("special");
    let device = dir.join("api.telepact.json");
    std::os::unix::fs::symlink("/dev/zero", &device).expect("symlink");
    let error = Schema::from_dir(&dir).expect_err("a device");
    assert!(
        matches!(&error, LoadError::Io { path, .. } if *path == device),
        "{error}"
    );
    let shown = format!("{error:?}");
    assert!(shown.ends_with("not a regular file"), "{shown}");
    std::fs::remove_file(&device).expect("remove the link");
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("api.telepact.yaml"))
        .status();
    if !made.is_ok_and(|status| status.success()) {
        println!("SKIP the pipe case: mkfifo is not available");
        return;
    }
    let error = Schema::from_dir(&dir).expect_err("a pipe");
    let shown = format!("{error:?}");
    assert!(shown.ends_with("not a regular file"), "{shown}");
}

/// A file named to move a terminal's cursor or set its title is shown with its control
/// characters as pictures, never written to the terminal as they are.
#[cfg(unix)]
#[test]
fn control_characters_in_a_file_name_are_shown_as_pictures() {
    let dir = scratch("control-characters");
    write(
        &dir,
        "b\u{1b}]0;owned\u{7}.telepact.yaml",
        "- struct.S:\n    f: integr\n",
    );
    let error = Schema::from_dir(&dir).expect_err("an unknown type");
    let shown = error.render(false);
    assert!(!shown.contains(['\u{1b}', '\u{7}']), "{shown:?}");
    assert!(shown.contains("b␛]0;owned␇.telepact.yaml:2:8"), "{shown}");
}

/// A file past the most a schema file may have is refused by its size, unread: one of
/// a gigabyte took the loader past 4 GB.
#[test]
fn a_file_past_the_size_limit_is_refused_unread() {
    let dir = scratch("too-large");
    let file = fs::File::create(dir.join("big.telepact.json")).expect("creates");
    file.set_len(telepact_schema::MAX_SCHEMA_FILE_BYTES + 1)
        .expect("a sparse file");
    let error = Schema::from_dir(&dir).expect_err("too large");
    let shown = telepact_schema::ErrorChain(&error).to_string();
    assert!(shown.starts_with("cannot read "), "{shown}");
    assert!(
        shown.ends_with("big.telepact.json: a schema file may have at most 32 MiB"),
        "{shown}"
    );
}

/// `read_schema_dir` gives each file's text as written, YAML included, and those
/// texts load as the directory does; what no schema may hold is refused at once, with
/// the file's path, as `from_dir` refuses it.
#[test]
fn read_schema_dir_gives_the_texts_that_load_as_the_directory_does() {
    let dir = scratch("read-texts");
    let yaml = "# the items\n- struct.Item:\n    name: string\n";
    write(&dir, "types.telepact.yaml", yaml);
    write(
        &dir,
        "functions.telepact.json",
        r#"[{"fn.get": {}, "->": [{"Ok_": {}}]}]"#,
    );
    let texts = read_schema_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        texts.keys().collect::<Vec<_>>(),
        ["functions.telepact.json", "types.telepact.yaml"]
    );
    assert_eq!(texts["types.telepact.yaml"], yaml);
    let schema = Schema::from_documents(texts).unwrap_or_else(|e| panic!("{e}"));
    let loaded = Schema::from_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(schema.full(), loaded.full());

    fs::write(dir.join("binary.telepact.json"), [0xff, 0xfe]).expect("write");
    fs::create_dir_all(dir.join("nested")).expect("mkdir");
    let error = read_schema_dir(&dir).expect_err("a non-UTF-8 file and a folder");
    assert_eq!(
        failures(&error),
        [
            (
                "binary.telepact.json".to_string(),
                "JsonInvalid".to_string()
            ),
            ("nested".to_string(), "DirectoryDisallowed".to_string()),
        ]
    );
    let shown = error.to_string();
    assert!(
        shown.contains(&dir.join("nested").display().to_string()),
        "{shown}"
    );
}
