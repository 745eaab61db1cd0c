//! Options and loaders that the reference libraries have, held to the reference's
//! behaviour on the conformance vectors: a mock's on-error hook, and a mock schema
//! loaded from one text.

use crate::vectors;

use std::sync::{Arc, Mutex};

use telepact::ErrorKind;
use telepact::mock::{MockOptions, MockServer};
use telepact::schema::Schema;

/// Every `garbage.json` request sent to a mock is answered as the vector says, and is
/// reported to the mock's on-error hook once, as a parse failure: the reference's
/// `MockServer.Options.on_error` hears of each one with the kind `parse`.
#[tokio::test]
async fn a_mocks_on_error_hook_hears_each_unparsable_request_once() {
    let Some(dir) = vectors::conformance_dir() else {
        return;
    };
    let heard: Arc<Mutex<Vec<ErrorKind>>> = Arc::default();
    let options = {
        let heard = Arc::clone(&heard);
        MockOptions::default().on_error(move |error| {
            heard.lock().expect("not poisoned").push(error.kind());
        })
    };
    let schema = Schema::mock_from_dir(dir.join("schemas/example")).expect("schema loads");
    let mock = MockServer::with_options(schema, options).expect("mock builds");

    let cases = vectors::load_cases(&dir, "garbage.json");
    let mut failures = Vec::new();
    for case in &cases {
        heard.lock().expect("not poisoned").clear();
        let answer = mock.process(&case.request).await.bytes;
        if let Err(reason) = vectors::check(case, &answer) {
            failures.push((case.name.clone(), reason));
        }
        let kinds = heard.lock().expect("not poisoned").clone();
        if kinds != [ErrorKind::Parse] {
            let reason = format!("the on-error hook heard {kinds:?}, not one parse failure");
            failures.push((case.name.clone(), reason));
        }
    }
    vectors::report("garbage.json (mock, on-error hook)", cases.len(), &failures);
}

/// A mock without the hook answers the same requests alike: the hook observes.
#[tokio::test]
async fn a_mock_answers_alike_with_or_without_an_on_error_hook() {
    let schema = Schema::from_text(r#"[{"fn.a": {}, "->": [{"Ok_": {}}]}]"#).expect("schema loads");
    let plain = MockServer::new(schema.clone()).expect("mock builds");
    let options = MockOptions::default().on_error(|_| {});
    let hooked = MockServer::with_options(schema, options).expect("mock builds");
    for request in [
        &b"[{}, {"[..],
        br#"[{}, {"fn.a": {}}]"#,
        br#"[{}, {"fn.b": {}}]"#,
    ] {
        let (plain, hooked) = (plain.process(request).await, hooked.process(request).await);
        assert_eq!(plain.bytes, hooked.bytes);
    }
}

/// `Schema::mock_from_text` (the reference's `MockTelepactSchema.from_json`) loads a
/// mock's schema that replays `mockgen.json` as the one loaded from its directory does.
#[tokio::test]
async fn a_mock_of_a_schema_text_replays_the_mockgen_vectors() {
    let Some(dir) = vectors::conformance_dir() else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("schemas/mockgen/mockgen.telepact.json"))
        .expect("schema file reads");
    let schema = Schema::mock_from_text(&text).expect("schema loads");
    let options = MockOptions::default().generate_responses(false);
    let mock = MockServer::with_options(schema, options).expect("mock builds");
    let cases = vectors::load_cases(&dir, "mockgen.json");
    let failures = vectors::run_cases(&cases, |request| {
        let mock = &mock;
        async move { mock.process(&request).await.bytes }
    })
    .await;
    vectors::report(
        "mockgen.json (mock of a schema text)",
        cases.len(),
        &failures,
    );
}

/// As the reference's `MockTelepactSchema.from_json` does, a text that defines one of
/// the mock's own functions is refused with a `PathCollision` at that definition.
#[test]
fn a_schema_text_defining_a_mock_function_is_refused() {
    let text = r#"[{"fn.createStub_": {}, "->": [{"Ok_": {}}]}]"#;
    let error = Schema::mock_from_text(text).expect_err("the name is the mock's");
    let failures = error.failures().expect("an invalid schema").to_json();
    let collision = failures
        .as_array()
        .into_iter()
        .flatten()
        .find(|failure| failure["reason"].get("PathCollision").is_some())
        .unwrap_or_else(|| panic!("no PathCollision among {failures}"));
    let paths = [
        &collision["path"],
        &collision["reason"]["PathCollision"]["path"],
    ];
    assert!(
        paths.iter().any(|path| path[1] == "fn.createStub_"),
        "{collision}"
    );
}
