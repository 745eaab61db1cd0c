//! Options and loaders that the reference libraries have, held to the reference's
//! behaviour: on the conformance vectors (a mock's on-error hook, a mock schema loaded
//! from one text), and, for options the vectors leave at their defaults, on values
//! recorded from the reference (`telepact` 1.0.0a339) for the same schema and seed.

use crate::vectors;

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use telepact::mock::{MockOptions, MockServer};
use telepact::schema::Schema;
use telepact::test_client::{Expect, TestClient, TestClientOptions};
use telepact::{Client, ErrorKind, Headers, Message};

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

/// `TestClientOptions`' collection lengths draw what the reference's
/// `TestClient.Options` draw: four stand-ins for an `Ok_` expected not to match, from
/// seed 11 with lengths of 2 to 4, are the reference's four (recorded from
/// `telepact` 1.0.0a339 with the same schema, seed and options).
#[tokio::test]
async fn a_test_clients_collection_lengths_draw_as_the_references_do() {
    let mock = MockServer::new(drawing_schema()).expect("mock builds");
    let options = TestClientOptions::default()
        .collection_length_min(2)
        .collection_length_max(5);
    let tester = TestClient::with_options(Client::new(mock), options);
    tester.set_seed(11);
    let expected = json!({"Ok_": {"extra!": {"field2": 5}}});
    let expected = expected.as_object().expect("an object");
    let mut drawn = Vec::new();
    for _ in 0..4 {
        let call = Message::new(Headers::new(), "fn.example", json_map(json!({"arg1": "x"})));
        let answer = tester
            .assert_request(call, expected, Expect::NoMatch)
            .await
            .expect("a stand-in");
        drawn.push(Value::Object(answer.into_body()));
    }
    let reference = json!([
        {"Ok_": {"extra!": {"field1": 30769614, "field2": 5, "tags": ["epsilon", "kappa", "alpha", "theta"]}, "map": {"beta": true, "mu": true, "xi": true, "zeta": false}, "result": [1993868447, 996197279, 1729843335]}},
        {"Ok_": {"extra!": {"field1": true, "field2": 5, "tags": ["chi", "theta", "beta", "psi"]}, "map": {"omicron": false, "tau": true}, "result": [1885199544, 823672931]}},
        {"Ok_": {"extra!": {"field1": "gamma", "field2": 5, "tags": ["xi", "iota", "tau", "theta"]}, "map": {"beta": true, "pi": true, "theta": true, "upsilon": false}, "result": [252664810, 1223110497, 382806820]}},
        {"Ok_": {"extra!": {"field1": 1498327845, "field2": 5, "tags": ["zeta", "pi", "lambda"]}, "map": {"delta": true, "iota": false}, "result": [496305000, 1087718856, 648096352, 354876133]}}
    ]);
    assert_eq!(Value::Array(drawn), reference);
}

fn json_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A schema whose one function answers lists, a map and an optional struct.
fn drawing_schema() -> Schema {
    Schema::from_text(
        r#"[
            {"struct.Data": {"field1": "any", "field2": "integer", "tags": ["string"]}},
            {"fn.example": {"arg1": "string"}, "->": [{"Ok_": {"result": ["integer"], "extra!": "struct.Data", "map": {"string": "boolean"}}}]}
        ]"#,
    )
    .expect("schema loads")
}

/// Two answers of a mock with `options`, seeded with 5.
async fn two_generated_answers(options: MockOptions) -> Value {
    let mock = MockServer::with_options(drawing_schema(), options).expect("mock builds");
    mock.process(br#"[{}, {"fn.setRandomSeed_": {"seed": 5}}]"#)
        .await;
    let mut answers = Vec::new();
    for _ in 0..2 {
        let answer = mock
            .process(br#"[{}, {"fn.example": {"arg1": "x"}}]"#)
            .await;
        let message: Value = serde_json::from_slice(&answer.bytes).expect("JSON");
        answers.push(message[1].clone());
    }
    Value::Array(answers)
}

/// `MockOptions`' collection lengths, `randomize_optional_fields` and
/// `include_optional_fields` generate what the reference's `MockServer.Options` of the
/// same names generate (`generated_collection_length_min` / `_max`,
/// `randomize_optional_field_generation`, `enable_optional_field_generation`).
#[tokio::test]
async fn a_mocks_generation_options_draw_as_the_references_do() {
    let every_optional_field = MockOptions::default()
        .collection_length_min(1)
        .collection_length_max(4)
        .randomize_optional_fields(false);
    assert_eq!(
        two_generated_answers(every_optional_field).await,
        json!([
            {"Ok_": {"extra!": {"field1": 15892711, "field2": 44419255, "tags": ["phi"]}, "map": {"gamma": false, "pi": true}, "result": [806647323, 117524821]}},
            {"Ok_": {"extra!": {"field1": true, "field2": 1204559603, "tags": ["mu", "theta"]}, "map": {"alpha": true}, "result": [610468659]}}
        ])
    );
    let no_optional_field = MockOptions::default().include_optional_fields(false);
    assert_eq!(
        two_generated_answers(no_optional_field).await,
        json!([
            {"Ok_": {"map": {"theta": false}, "result": []}},
            {"Ok_": {"map": {"psi": false, "alpha": false}, "result": [1750685776, 806647323]}}
        ])
    );
}
