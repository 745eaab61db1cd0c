use super::*;

fn write_schema(dir: &Path, definitions: &Value) {
    std::fs::create_dir_all(dir).unwrap();
    let text = pseudo_json_text(definitions);
    std::fs::write(dir.join("api.telepact.json"), text).unwrap();
}

/// `telepact compare` of the schemas in `old` and `new`.
fn compared(old: &str, new: &str) -> Output {
    telepact(&["compare", "--old-schema-dir", old, "--new-schema-dir", new])
}

/// `telepact compare` of the schema in `old` with the bakery's.
fn compared_with_the_bakery(old: &Path) -> Output {
    compared(path_text(old), BAKERY_API)
}

#[test]
fn every_compare_case_prints_its_lines_and_exit_code() {
    let Some(conformance) = conformance_dir() else {
        return;
    };
    let text = std::fs::read_to_string(conformance.join("compare.json")).unwrap();
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let dir = scratch_dir(&format!("compare-{}", case["index"]));
        write_schema(&dir.join("old"), &case["old"]);
        write_schema(&dir.join("new"), &case["new"]);
        let output = compared(path_text(&dir.join("old")), path_text(&dir.join("new")));
        let lines: Vec<String> = stdout(&output)
            .lines()
            .map(|line| line.trim().to_string())
            .collect();
        let expected: Vec<String> = serde_json::from_value(case["output"].clone()).unwrap();
        let code = output.status.code().map(i64::from);
        if lines != expected || code != case["exit_code"].as_i64() {
            failures.push(format!("{}: {lines:?} {code:?}", case["name"]));
        }
    }
    record_vectors(
        "compare.json",
        "telepact compare",
        cases.len(),
        cases.len() - failures.len(),
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_unreadable_directory_is_one_error_naming_its_flag() {
    let missing = scratch_dir("compare-missing").join("nope");
    let missing = path_text(&missing);
    for (old, new, flag) in [
        (missing, BAKERY_API, "--old-schema-dir"),
        (BAKERY_API, missing, "--new-schema-dir"),
    ] {
        let output = compared(old, new);
        assert_fails_with(&output, &format!("cannot read {flag} {missing}: "));
        assert_eq!(stderr(&output).lines().count(), 1);
    }
}

#[test]
fn wrong_arguments_are_one_error_line() {
    let misspelt = telepact(&["compare", "--old", "a", "--new-schema-dir", "b"]);
    assert_fails_with(&misspelt, "unexpected argument '--old' found");
    let line = stderr(&misspelt);
    assert!(
        line.contains("a similar argument exists: '--old-schema-dir'"),
        "{line}"
    );
    assert!(line.contains("(see `telepact compare --help`)"), "{line}");
    assert_eq!(line.lines().count(), 1, "{line}");

    let missing = telepact(&["compare"]);
    assert_fails_with(
        &missing,
        "the following required arguments were not provided: ",
    );
    assert_eq!(stderr(&missing).lines().count(), 1, "{}", stderr(&missing));

    let help = telepact(&["compare", "--help"]);
    assert!(help.status.success());
    assert!(stdout(&help).contains("Usage: telepact compare"));
}

#[test]
fn an_invalid_schema_is_reported_with_located_lines() {
    let dir = scratch_dir("compare-invalid");
    std::fs::write(dir.join("bad.telepact.yaml"), "- struct.X:\n    a: nope\n").unwrap();
    let output = compared_with_the_bakery(&dir);
    assert_fails_with(
        &output,
        "field `a` of `struct.X` has an unknown type `nope`\n",
    );
    let expected = format!(" --> {}:2:8\n", dir.join("bad.telepact.yaml").display());
    assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
}

#[test]
fn schema_failures_render_with_excerpt_caret_and_help() {
    let dir = scratch_dir("compare-rendered");
    std::fs::write(
        dir.join("orchard.telepact.yaml"),
        "- struct.Tree:\n    id: \"integr\"\n- fn.plant:\n    tree: struct.Tree\n",
    )
    .unwrap();
    let output = compared_with_the_bakery(&dir);
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
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).replace(path_text(&dir), "DIR"), expected);
}

#[test]
fn credentials_needing_more_than_old_clients_send_are_incompatible() {
    let dir = scratch_dir("compare-credentials");
    let schema = std::fs::read_to_string(Path::new(BAKERY_API).join("auth.telepact.yaml")).unwrap();
    let with_code = schema.replace(
        "        password: \"string\"\n",
        "        password: \"string\"\n        code: \"string\"\n",
    );
    assert_ne!(with_code, schema, "the bakery's Password credentials moved");
    std::fs::create_dir_all(dir.join("new")).unwrap();
    std::fs::write(dir.join("new/auth.telepact.yaml"), with_code).unwrap();
    let output = compared(BAKERY_API, path_text(&dir.join("new")));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "Backwards incompatible change(s) found:\n - New required field 'code' has been added to \
         struct 'union.Auth_.Password' on argument path\n"
    );
}

/// A schema with `count` functions, each of which a new schema without them breaks.
fn many_functions(count: usize) -> Value {
    let definitions: Vec<Value> = (0..count)
        .map(|i| serde_json::json!({format!("fn.f{i}"): {}, "->": [{"Ok_": {}}]}))
        .collect();
    Value::Array(definitions)
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    let dir = scratch_dir("compare-closed-pipe");
    write_schema(&dir.join("old"), &many_functions(5_000));
    write_schema(&dir.join("new"), &many_functions(1));
    let mut child = telepact_command()
        .args(["compare", "--old-schema-dir"])
        .arg(dir.join("old"))
        .arg("--new-schema-dir")
        .arg(dir.join("new"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // `| head -0`: the reader closes the pipe before anything is written.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("it ends");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
}

#[cfg(target_os = "linux")]
#[test]
fn a_stdout_that_cannot_be_written_is_one_error() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(full) = full else {
        println!("SKIP: /dev/full cannot be opened");
        return;
    };
    let output = telepact_command()
        .args([
            "compare",
            "--old-schema-dir",
            BAKERY_API,
            "--new-schema-dir",
            BAKERY_API,
        ])
        .stdout(full)
        .output()
        .expect("the binary runs");
    assert_fails_with(&output, "cannot write <stdout>: ");
    assert_eq!(stderr(&output).lines().count(), 1);
}

#[test]
fn an_empty_directory_is_one_error() {
    let empty = scratch_dir("compare-empty");
    let output = compared_with_the_bakery(&empty);
    assert_fails_with(
        &output,
        &format!("--old-schema-dir {} holds no schema file", empty.display()),
    );
    for command in [
        vec!["codegen", "--schema-dir", path_text(&empty), "--out", "-"],
        vec!["mock", "--dir", path_text(&empty), "--port", "0"],
    ] {
        let output = telepact(&command);
        let flag = command[1];
        assert_fails_with(
            &output,
            &format!("{flag} {} holds no schema file", empty.display()),
        );
    }
}

/// Two schema files whose names are not UTF-8 and differ only where they are not: each
/// was read under the same shown name, so one file's failure was shown in the other's
/// text. A name that is not text is refused, naming the file.
#[cfg(unix)]
#[test]
fn a_schema_file_name_that_is_not_utf8_is_one_error() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch_dir("compare-non-utf8-names");
    let name = |byte: u8| std::ffi::OsStr::from_bytes(&[b'a', byte]).to_os_string();
    let file = |byte: u8| {
        let mut file = name(byte);
        file.push(".telepact.json");
        dir.join(file)
    };
    let valid = r#"[{"fn.a": {}, "->": [{"Ok_": {}}]}]"#;
    let invalid = r#"[{"fn.b": {"x": "nope"}, "->": [{"Ok_": {}}]}]"#;
    std::fs::write(file(0xff), valid).expect("written");
    std::fs::write(file(0xfe), invalid).expect("written");
    let output = compared_with_the_bakery(&dir);
    assert_fails_with(&output, &format!("cannot read {}/a", dir.display()));
    let said = stderr(&output);
    assert!(said.contains("not UTF-8"), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
}

/// A misspelt `$authenticated` changes what the check compares, so it is named on
/// stderr, with the directory it is in, as `codegen` and `mock` name it.
#[test]
fn misspelt_dollar_keys_are_warned_of_naming_their_directory() {
    let dir = scratch_dir("compare-dollar-keys");
    let schema = "- $authenticate: false\n  fn.open: {}\n  ->:\n    - Ok_: {}\n";
    for side in ["old", "new"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
        std::fs::write(dir.join(side).join("shop.telepact.yaml"), schema).unwrap();
    }
    let output = compared(path_text(&dir.join("old")), path_text(&dir.join("new")));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "Schemas are backwards compatible.\n");
    let misspelt = "`fn.open`: `$authenticate` is not a key this library reads; did you mean `$authenticated`?";
    assert_eq!(
        stderr(&output),
        format!("warning: --old-schema-dir: {misspelt}\nwarning: --new-schema-dir: {misspelt}\n")
    );
}
