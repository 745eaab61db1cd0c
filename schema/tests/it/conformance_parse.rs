//! Replays every case of the conformance vectors' `parse.json` against the loader.
//!
//! Each case is a `fn.validateSchema` request whose input is a schema value
//! (`PseudoJson`), a schema text (`Json`) or a directory; the expected answer is
//! `Ok_` or `ErrorValidationFailure` with the loader's failures in protocol shape.

use crate::common;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use telepact_schema::{LoadError, Schema, pseudo_json_text, read_schema_dir};
use telepact_test_support::{json_eq, multiset_eq};

/// The loader's answer in the shape `fn.validateSchema` returns.
fn answer(result: Result<Schema, LoadError>) -> Value {
    match result {
        Ok(_) => json!({"Ok_": {}}),
        Err(LoadError::Invalid(failures)) => {
            json!({"ErrorValidationFailure": {"cases": failures.to_json()}})
        }
        // An unreadable file, which no vector expects.
        Err(other) => json!({"NotLoaded": other.to_string()}),
    }
}

/// Loads a case's input; `None` for an input kind this harness does not know.
fn load(conformance: &Path, input: &Value) -> Option<Result<Schema, LoadError>> {
    if let Some(pseudo) = input.get("PseudoJson") {
        let schema = pseudo_json_text(&pseudo["schema"]);
        return Some(match pseudo.get("extend!") {
            Some(extend) => Schema::from_documents([
                ("default".to_string(), schema),
                ("extend".to_string(), pseudo_json_text(extend)),
            ]),
            None => Schema::from_text(&schema),
        });
    }
    if let Some(text) = input.pointer("/Json/schema").and_then(Value::as_str) {
        return Some(Schema::from_text(text));
    }
    let dir = input
        .pointer("/Directory/schemaDirectory")
        .and_then(Value::as_str)?;
    Some(Schema::from_dir(conformance.join(dir)))
}

fn run(conformance: &Path, input: &Value) -> Value {
    match load(conformance, input) {
        Some(result) => answer(result),
        None => json!({"unsupported input": input}),
    }
}

fn matches(expected: &Value, actual: &Value, set_compare: bool) -> bool {
    let cases = |v: &Value| {
        v.pointer("/ErrorValidationFailure/cases")
            .and_then(Value::as_array)
            .cloned()
    };
    match (set_compare, cases(expected), cases(actual)) {
        (true, Some(e), Some(a)) => multiset_eq(&e, &a, false),
        _ => json_eq(expected, actual, false),
    }
}

/// The cases of `parse.json`; `None` (after a SKIP line, or a panic under
/// `TELEPACT_REQUIRE_ALL=1`) when the vectors are absent.
fn parse_cases() -> Option<(PathBuf, Vec<Value>)> {
    let conformance = common::conformance_dir()?;
    let text = std::fs::read_to_string(conformance.join("parse.json")).expect("parse.json");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("parse.json is JSON");
    Some((conformance, cases))
}

#[test]
fn every_parse_case_passes() {
    let Some((conformance, cases)) = parse_cases() else {
        return;
    };
    let mut failed = Vec::new();
    for case in &cases {
        let input = &case["request"][1]["fn.validateSchema"]["input"];
        let expected = &case["response"][1];
        let set_compare = case.pointer("/assert/setCompare") == Some(&Value::Bool(true));
        let actual = run(&conformance, input);
        if !matches(expected, &actual, set_compare) {
            failed.push(format!(
                "case {}: input {}\n  expected {}\n  actual   {}",
                case["index"], input, expected, actual
            ));
        }
    }
    telepact_test_support::record_vectors(
        "parse.json",
        "schema loader",
        cases.len(),
        cases.len() - failed.len(),
    );
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The directory cases pass as well when the files are read first and loaded as
/// documents (`read_schema_dir`, the reference's `TelepactSchemaFiles`, then
/// `Schema::from_documents`), and reading alone refuses exactly the directories that
/// hold what no schema may (a subdirectory, a misnamed file).
#[test]
fn every_directory_case_passes_when_read_then_loaded() {
    let Some((conformance, cases)) = parse_cases() else {
        return;
    };
    let mut failed = Vec::new();
    let mut directories = 0;
    for case in &cases {
        let input = &case["request"][1]["fn.validateSchema"]["input"];
        let Some(dir) = input
            .pointer("/Directory/schemaDirectory")
            .and_then(Value::as_str)
        else {
            continue;
        };
        directories += 1;
        let read = read_schema_dir(conformance.join(dir));
        let refused_by_reading = read.is_err();
        let actual = answer(read.and_then(Schema::from_documents));
        let expected = &case["response"][1];
        if !matches(expected, &actual, false) {
            failed.push(format!("{dir}: expected {expected}, got {actual}"));
        }
        let entry_reason = |reason: &str| actual.to_string().contains(reason);
        let should_refuse = ["DirectoryDisallowed", "FileNamePatternInvalid"]
            .iter()
            .any(|reason| entry_reason(reason));
        if refused_by_reading != should_refuse {
            failed.push(format!(
                "{dir}: refused while reading: {refused_by_reading}"
            ));
        }
    }
    assert_eq!(directories, 18, "the directory cases of parse.json");
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The rendered form of every case, as a person sees it: compared with
/// `tests/golden/parse_diagnostics.txt` (rewritten with `UPDATE_GOLDEN=1`).
#[test]
fn every_parse_case_renders_as_the_golden_file() {
    let Some((conformance, cases)) = parse_cases() else {
        return;
    };
    let mut rendered = String::new();
    for case in &cases {
        let input = &case["request"][1]["fn.validateSchema"]["input"];
        let shown = match load(&conformance, input) {
            Some(Ok(_)) => "loads".to_string(),
            Some(Err(error)) => error.render(false),
            None => format!("unsupported input {input}"),
        };
        // Directory cases show paths under the vectors' folder: keep them relative.
        let prefix = format!("{}/", conformance.display());
        let shown = shown.replace(&prefix, "");
        rendered.push_str(&format!("=== case {} ===\n{shown}\n\n", case["index"]));
    }
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/parse_diagnostics.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().expect("golden folder")).expect("golden folder");
        std::fs::write(&golden, &rendered).expect("write the golden file");
        return;
    }
    let expected =
        std::fs::read_to_string(&golden).expect("golden file (UPDATE_GOLDEN=1 writes it)");
    if expected != rendered {
        let first_difference = expected
            .lines()
            .zip(rendered.lines())
            .position(|(e, r)| e != r)
            .unwrap_or(expected.lines().count().min(rendered.lines().count()));
        panic!(
            "rendered diagnostics differ from {} from line {}:\n{}\n(UPDATE_GOLDEN=1 rewrites it)",
            golden.display(),
            first_difference + 1,
            rendered
                .lines()
                .skip(first_difference)
                .take(15)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
