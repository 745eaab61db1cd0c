//! Reading the conformance vectors and comparing responses the way their README says.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
pub(crate) use telepact_test_support::json_eq;

/// The conformance folder, or `None` after a skip (a failure under
/// `TELEPACT_REQUIRE_ALL=1`).
pub(crate) fn conformance_dir() -> Option<PathBuf> {
    telepact_test_support::conformance_dir()
}

#[derive(Deserialize)]
struct RawCase<'a> {
    suite: String,
    index: u64,
    #[serde(borrow)]
    request: Option<&'a RawValue>,
    raw: Option<String>,
    response: Value,
    #[serde(default)]
    assert: Map<String, Value>,
}

/// One vector: the exact request bytes and the expected response.
pub(crate) struct Case {
    pub name: String,
    pub request: Vec<u8>,
    pub expected: Value,
    pub set_compare: bool,
    pub assert_case_id: bool,
    /// For `fn.api_`: the names of the standard definitions (from the vectors' `spec/`),
    /// which compare without their `///` docstrings (the README: their names and types
    /// are the protocol, their words one implementation's own). `includeInternal!` lists
    /// them all; an auth schema lists the auth ones without it. The schema's own
    /// definitions compare whole.
    pub standard_names: Option<Arc<BTreeSet<String>>>,
}

/// Reads one vector file. Requests keep their original text, so numbers outside
/// 64 bits reach the server as written.
pub(crate) fn load_cases(dir: &Path, file: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(dir.join(file)).expect("vector file is readable");
    let raw: Vec<RawCase> = serde_json::from_str(&text).expect("vector file is JSON");
    let standard_names = Arc::new(standard_names(dir));
    raw.into_iter()
        .map(|case| {
            let request = match (&case.request, &case.raw) {
                (_, Some(raw)) => raw.as_bytes().to_vec(),
                (Some(request), None) => request.get().as_bytes().to_vec(),
                (None, None) => Vec::new(),
            };
            let api = is_api_call(&request);
            Case {
                name: format!("{}[{}]", case.suite, case.index),
                request,
                expected: case.response,
                set_compare: flag(&case.assert, "setCompare"),
                assert_case_id: flag(&case.assert, "assertCaseId"),
                standard_names: api.then(|| Arc::clone(&standard_names)),
            }
        })
        .collect()
}

fn flag(assert: &Map<String, Value>, name: &str) -> bool {
    assert.get(name) == Some(&Value::Bool(true))
}

fn is_api_call(request: &[u8]) -> bool {
    serde_json::from_slice::<Value>(request)
        .is_ok_and(|value| value.pointer("/1/fn.api_").is_some())
}

/// The names the standard definitions in `spec/` declare: the non-`///` key of each
/// top-level list item of `internal.telepact.yaml`, `auth.telepact.yaml` and
/// `mock-internal.telepact.yaml` (a mock serves the last too).
fn standard_names(dir: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for file in [
        "internal.telepact.yaml",
        "auth.telepact.yaml",
        "mock-internal.telepact.yaml",
    ] {
        let text = std::fs::read_to_string(dir.join("spec").join(file))
            .unwrap_or_else(|error| panic!("reading spec/{file}: {error}"));
        for line in text.lines() {
            let item = line
                .strip_prefix("- ")
                .or_else(|| line.strip_prefix("  "))
                .filter(|rest| !rest.starts_with(' '));
            let name = item
                .and_then(|rest| rest.split_once(':'))
                .map(|(key, _)| key);
            if let Some(name) = name.filter(|name| *name != "///" && name.contains('.')) {
                names.insert(name.to_string());
            }
        }
    }
    assert!(
        names.contains("fn.api_") && names.contains("headers.Auth_"),
        "standard definition names read from spec/: {names:?}"
    );
    names
}

/// Checks a response against the case; the error says what differs.
pub(crate) fn check(case: &Case, response: &[u8]) -> Result<(), String> {
    let mut actual: Value = serde_json::from_slice(response).map_err(|e| {
        format!(
            "response is not JSON ({e}): {}",
            String::from_utf8_lossy(response)
        )
    })?;
    let mut expected = case.expected.clone();
    if case.assert_case_id {
        let case_id = actual.pointer_mut("/1/ErrorUnknown_/caseId");
        match case_id {
            Some(Value::String(id)) if !id.is_empty() => *id = "<caseId>".to_string(),
            _ => return Err(format!("no caseId in {actual}")),
        }
    }
    if let Some(names) = &case.standard_names {
        strip_standard_docs(&mut actual, names);
        strip_standard_docs(&mut expected, names);
    }
    if json_eq(&actual, &expected, case.set_compare) {
        Ok(())
    } else {
        Err(format!("expected {expected}\n     got {actual}"))
    }
}

/// Removes `///` from the definitions of an `fn.api_` answer that `names` lists.
fn strip_standard_docs(response: &mut Value, names: &BTreeSet<String>) {
    let Some(Value::Array(definitions)) = response.pointer_mut("/1/Ok_/api") else {
        return;
    };
    for definition in definitions {
        let is_standard = definition
            .as_object()
            .is_some_and(|d| d.keys().any(|key| names.contains(key)));
        if is_standard {
            strip_docs(definition);
        }
    }
}

fn strip_docs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("///");
            map.values_mut().for_each(strip_docs);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_docs),
        _ => {}
    }
}

/// Runs every case through `process`, returning the failures (name and reason).
pub(crate) async fn run_cases<F, Fut>(cases: &[Case], mut process: F) -> Vec<(String, String)>
where
    F: FnMut(Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Vec<u8>>,
{
    let mut failures = Vec::new();
    for case in cases {
        let response = process(case.request.clone()).await;
        if let Err(reason) = check(case, &response) {
            failures.push((case.name.clone(), reason));
        }
    }
    failures
}

/// Records the outcome of one vector file and fails the test on any failure, or when
/// the file did not yield its expected number of cases. `label` is
/// `"{file} ({how})"`, e.g. `"server.json (in process)"`.
pub(crate) fn report(label: &str, total: usize, failures: &[(String, String)]) {
    for (name, reason) in failures.iter().take(30) {
        println!("FAIL {name}: {reason}");
    }
    let (file, how) = label
        .split_once(" (")
        .map_or((label, ""), |(file, how)| (file, how.trim_end_matches(')')));
    telepact_test_support::record_vectors(file, how, total, total - failures.len());
    assert!(failures.is_empty(), "{label}: {} failures", failures.len());
}
