//! The mock's own behaviour beyond the conformance vectors: bad input, limits,
//! concurrency and the binary encodings.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use telepact_schema::Schema;

use super::{MockOptions, MockServer};
use crate::binary::is_msgpack;
use crate::client::{Client, ClientOptions, TransportError};
use crate::message::{Headers, Message};

const SCHEMA: &str = r#"[
    {"struct.Item": {"name": "string", "tags!": ["string"], "blob!": "bytes"}},
    {"fn.find": {"id": "integer"}, "->": [{"Ok_": {"item": "struct.Item", "items!": ["struct.Item"]}}]}
]"#;

fn mock(generate_responses: bool) -> MockServer {
    let schema = Schema::from_text(SCHEMA).expect("schema loads");
    let options = MockOptions {
        generate_responses,
        ..MockOptions::default()
    };
    MockServer::with_options(schema, options).expect("mock builds")
}

async fn ask(mock: &MockServer, request: Value) -> Value {
    let bytes = mock.process(request.to_string().as_bytes()).await.bytes;
    serde_json::from_slice(&bytes).expect("answer is JSON")
}

fn stub(extra: Value) -> Value {
    let mut argument = json!({
        "stub": {"fn.find": {"id": 1}, "->": {"Ok_": {"item": {"name": "one"}}}}
    });
    if let (Some(argument), Some(extra)) = (argument.as_object_mut(), extra.as_object()) {
        argument.extend(extra.clone());
    }
    json!([{}, {"fn.createStub_": argument}])
}

fn find(id: i64) -> Value {
    json!([{}, {"fn.find": {"id": id}}])
}

fn body_cases(answer: &Value) -> Value {
    answer
        .pointer("/1/ErrorInvalidRequestBody_/cases")
        .cloned()
        .unwrap_or_else(|| panic!("not a validation error: {answer}"))
}

#[tokio::test]
async fn a_stub_that_does_not_validate_is_refused_and_not_kept() {
    let mock = mock(false);
    let bad =
        json!([{}, {"fn.createStub_": {"stub": {"fn.find": {"id": "one"}, "->": {"Ok_": {}}}}}]);
    let cases = body_cases(&ask(&mock, bad).await);
    assert_eq!(
        cases,
        json!([{"path": ["fn.createStub_", "stub", "fn.find", "id"],
                "reason": {"TypeUnexpected": {"actual": {"String": {}}, "expected": {"Integer": {}}}}}])
    );
    assert_eq!(
        ask(&mock, find(1)).await,
        json!([{}, {"ErrorNoMatchingStub_": {}}])
    );
}

#[tokio::test]
async fn a_negative_count_is_a_validation_error() {
    let mock = mock(false);
    let cases = body_cases(&ask(&mock, stub(json!({"count!": -1}))).await);
    assert_eq!(
        cases,
        json!([{"path": ["fn.createStub_", "count!"], "reason": {"NumberOutOfRange": {}}}])
    );
    for tag in ["Exact", "AtMost", "AtLeast"] {
        let verify =
            json!([{}, {"fn.verify_": {"call": {"fn.find": {}}, "count!": {tag: {"times": -1}}}}]);
        let cases = body_cases(&ask(&mock, verify).await);
        assert_eq!(
            cases,
            json!([{"path": ["fn.verify_", "count!", tag, "times"], "reason": {"NumberOutOfRange": {}}}])
        );
    }
}

#[tokio::test]
async fn stubs_and_calls_of_unknown_functions_are_validation_errors() {
    let mock = mock(false);
    let stub = json!([{}, {"fn.createStub_": {"stub": {"fn.nope": {}, "->": {"Ok_": {}}}}}]);
    assert_eq!(
        body_cases(&ask(&mock, stub).await),
        json!([{"path": ["fn.createStub_", "stub", "fn.nope"], "reason": {"FunctionUnknown": {}}}])
    );
    let verify = json!([{}, {"fn.verify_": {"call": {"fn.nope": {}}}}]);
    assert_eq!(
        body_cases(&ask(&mock, verify).await),
        json!([{"path": ["fn.verify_", "call", "fn.nope"], "reason": {"FunctionUnknown": {}}}])
    );
}

/// The protocol's own functions are answered before stubs are looked at and are never
/// recorded: a stub or verification of one is refused rather than kept to no effect.
#[tokio::test]
async fn stubs_and_verifications_of_the_protocols_own_functions_are_refused() {
    let mock = mock(false);
    let stubbed = json!([{}, {"fn.createStub_": {"stub": {"fn.ping_": {}, "->": {"Ok_": {}}}}}]);
    assert_eq!(
        body_cases(&ask(&mock, stubbed).await),
        json!([{"path": ["fn.createStub_", "stub", "fn.ping_"], "reason": {"FunctionUnknown": {}}}])
    );
    let verified = json!([{}, {"fn.verify_": {"call": {"fn.api_": {}}}}]);
    assert_eq!(
        body_cases(&ask(&mock, verified).await),
        json!([{"path": ["fn.verify_", "call", "fn.api_"], "reason": {"FunctionUnknown": {}}}])
    );
}

#[tokio::test]
async fn a_counted_stub_answers_that_many_calls() {
    let mock = mock(false);
    let ok = json!([{}, {"Ok_": {}}]);
    assert_eq!(ask(&mock, stub(json!({"count!": 2}))).await, ok);
    let answered = json!([{}, {"Ok_": {"item": {"name": "one"}}}]);
    assert_eq!(ask(&mock, find(1)).await, answered);
    assert_eq!(ask(&mock, find(1)).await, answered);
    assert_eq!(
        ask(&mock, find(1)).await,
        json!([{}, {"ErrorNoMatchingStub_": {}}])
    );
}

#[tokio::test]
async fn generated_results_validate_and_name_their_bytes() {
    let mock = mock(true);
    let seed = json!([{}, {"fn.setRandomSeed_": {"seed": 7}}]);
    ask(&mock, seed).await;
    for _ in 0..20 {
        let answer = ask(&mock, find(2)).await;
        assert!(answer.pointer("/1/Ok_/item/name").is_some(), "{answer}");
        let blob = answer.pointer("/1/Ok_/item/blob!");
        let marked = answer.pointer("/0/@base64_/Ok_/item/blob!");
        assert_eq!(blob.is_some(), marked == Some(&json!(true)), "{answer}");
    }
}

/// A stub's own bytes are named as generated ones are: a client in any language reads
/// them as bytes, not as text.
#[tokio::test]
async fn a_stubs_bytes_are_named_in_its_answer() {
    let mock = mock(false);
    let stubbed = json!([{}, {"fn.createStub_": {"stub": {
        "fn.find": {"id": 1},
        "->": {"Ok_": {"item": {"name": "one", "blob!": "AAEC"}, "items!": [{"name": "two", "blob!": "AwQ="}]}}
    }}}]);
    assert_eq!(ask(&mock, stubbed).await, json!([{}, {"Ok_": {}}]));
    let answer = ask(&mock, find(1)).await;
    assert_eq!(
        answer[0]["@base64_"],
        json!({"Ok_": {"item": {"blob!": true}, "items!": {"*": {"blob!": true}}}}),
        "{answer}"
    );
}

/// `@select_` takes fields away after the bytes were named: the header names only what
/// is sent, or a client following it finds a key missing.
#[tokio::test]
async fn a_selection_leaves_no_bytes_named_that_it_took_away() {
    let mock = mock(true);
    let seed = json!([{}, {"fn.setRandomSeed_": {"seed": 7}}]);
    ask(&mock, seed).await;
    let mut kept = 0;
    for _ in 0..40 {
        let selected = json!([
            {"@select_": {"struct.Item": ["name"]}},
            {"fn.find": {"id": 2}}
        ]);
        let answer = ask(&mock, selected).await;
        assert!(answer.pointer("/1/Ok_/item/blob!").is_none(), "{answer}");
        assert!(answer.pointer("/0/@base64_").is_none(), "{answer}");

        let whole = ask(
            &mock,
            json!([{"@select_": {"->": {"Ok_": ["item"]}}}, find(2)[1]]),
        )
        .await;
        let blob = whole.pointer("/1/Ok_/item/blob!");
        let marked = whole.pointer("/0/@base64_/Ok_/item/blob!");
        assert_eq!(blob.is_some(), marked == Some(&json!(true)), "{whole}");
        assert!(whole.pointer("/0/@base64_/Ok_/items!").is_none(), "{whole}");
        kept += usize::from(blob.is_some());
    }
    assert!(kept > 0, "no answer held bytes to name");
    // What the client reads back fits: no header naming a key the body lacks.
    let answer = ask(
        &mock,
        json!([{"@select_": {"->": {"Ok_": []}}}, find(2)[1]]),
    )
    .await;
    assert_eq!(answer, json!([{}, {"Ok_": {}}]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_are_all_recorded() {
    let mock = mock(false);
    ask(&mock, stub(json!({}))).await;
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let mock = mock.clone();
            tokio::spawn(async move { ask(&mock, find(1)).await })
        })
        .collect();
    for task in tasks {
        let answer = task.await.expect("task ran");
        assert_eq!(answer, json!([{}, {"Ok_": {"item": {"name": "one"}}}]));
    }
    let verify = json!([{}, {"fn.verify_": {"call": {"fn.find": {"id": 1}}, "count!": {"Exact": {"times": 64}}}}]);
    assert_eq!(ask(&mock, verify).await, json!([{}, {"Ok_": {}}]));
    let none_left = json!([{}, {"fn.verifyNoMoreInteractions_": {}}]);
    assert_eq!(ask(&mock, none_left).await, json!([{}, {"Ok_": {}}]));
}

#[tokio::test]
async fn binary_and_packed_clients_get_what_a_json_client_gets() {
    let mock = mock(false);
    let blob = json!({"item": {"name": "one", "blob!": "AAEC"}});
    let stub = json!([{}, {"fn.createStub_": {"stub": {"fn.find": {}, "->": {"Ok_": blob}}}}]);
    ask(&mock, stub).await;
    for packed in [false, true] {
        let binary_requests = Arc::new(AtomicUsize::new(0));
        let (counter, server) = (Arc::clone(&binary_requests), mock.clone());
        let client = Client::with_options(
            move |bytes: Vec<u8>| {
                if is_msgpack(&bytes) {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                let server = server.clone();
                async move { Ok::<_, TransportError>(server.process(&bytes).await.bytes) }
            },
            ClientOptions::default().binary(true).packed(packed),
        );
        for _ in 0..3 {
            let payload = json!({"id": 3}).as_object().cloned().unwrap_or_default();
            let request = Message::new(Headers::new(), "fn.find", payload);
            let response = client.request(request).await.expect("answered");
            assert_eq!(Value::Object(response.into_body()), json!({"Ok_": blob}));
        }
        assert_eq!(
            binary_requests.load(Ordering::SeqCst),
            2,
            "packed: {packed}"
        );
    }
}

/// A schema that already holds the mock definitions is kept, not copied: a mock of a
/// large API holds one model of it.
#[test]
fn a_mock_keeps_the_schema_it_is_given() {
    let schema = Arc::new(
        Schema::mock_from_documents([("mock.telepact.json", SCHEMA)]).expect("schema loads"),
    );
    let mock = MockServer::new(Arc::clone(&schema)).expect("mock builds");
    assert!(Arc::strong_count(&schema) > 1, "the mock holds a copy");
    drop(mock);
    assert_eq!(Arc::strong_count(&schema), 1, "the mock let go of it");
}

#[tokio::test]
async fn a_mock_of_an_auth_schema_takes_any_credentials() {
    let text = r#"[
        {"union.Auth_": [{"Token": {"token": "string"}}]},
        {"fn.me": {}, "->": [{"Ok_": {"name": "string"}}]}
    ]"#;
    let schema = Schema::from_text(text).expect("schema loads");
    let mock = MockServer::new(schema).expect("mock builds");
    let anyone = json!([{"@auth_": {"Token": {"token": "anyone"}}}, {"fn.me": {}}]);
    let answer = ask(&mock, anyone).await;
    assert!(answer.pointer("/1/Ok_/name").is_some(), "{answer}");
    // As on any server of such a schema, a call must carry credentials.
    let answer = ask(&mock, json!([{}, {"fn.me": {}}])).await;
    assert!(
        answer.pointer("/1/ErrorUnauthenticated_").is_some(),
        "{answer}"
    );
}

/// A stub's result may leave required fields out (the mock fills them) and give `null`
/// where the schema allows it: the null is the answer, whatever the type. (The reference
/// libraries draw a value afresh for a null `any` or select and fail on a null struct.)
#[tokio::test]
async fn a_stubbed_null_is_kept_where_the_schema_allows_it() {
    let schema = Schema::from_text(
        r#"[
            {"struct.Item": {"name": "string"}},
            {"fn.look": {}, "->": [{"Ok_": {
                "item": "struct.Item?", "items": ["struct.Item?"], "extra": "any?",
                "count": "integer"
            }}]}
        ]"#,
    )
    .expect("schema loads");
    let mock = MockServer::new(schema).expect("mock builds");
    let nulls = json!({"item": null, "items": [null], "extra": null});
    let created = ask(
        &mock,
        json!([{}, {"fn.createStub_": {"stub": {"fn.look": {}, "->": {"Ok_": nulls}}}}]),
    )
    .await;
    assert_eq!(created, json!([{}, {"Ok_": {}}]));
    let answer = ask(&mock, json!([{}, {"fn.look": {}}])).await;
    let ok = answer.pointer("/1/Ok_").expect("an Ok_ answer");
    assert_eq!(ok["item"], Value::Null, "{answer}");
    assert_eq!(ok["items"], json!([null]), "{answer}");
    assert_eq!(ok["extra"], Value::Null, "{answer}");
    assert!(
        ok["count"].is_i64(),
        "the missing required field is filled: {answer}"
    );
}

/// Calls past the memory limit are answered `ErrorUnknown_` and not recorded, stubs past
/// it are not kept, and clearing the calls makes room again.
#[tokio::test]
async fn past_its_memory_limit_the_mock_records_nothing_more() {
    let schema = Schema::from_text(SCHEMA).expect("schema loads");
    let options = MockOptions::default()
        .generate_responses(false)
        .memory_limit(4096);
    let mock = MockServer::with_options(schema, options).expect("mock builds");
    let unknown = |answer: &Value| answer.pointer("/1/ErrorUnknown_/caseId").is_some();
    let mut recorded = 0;
    loop {
        let answer = ask(&mock, find(recorded)).await;
        if unknown(&answer) {
            break;
        }
        assert_eq!(answer, json!([{}, {"ErrorNoMatchingStub_": {}}]));
        recorded += 1;
        assert!(recorded < 1000, "the limit was never reached");
    }
    assert!(recorded > 5, "only {recorded} calls fit in 4 KiB");
    // Refused calls are not recorded: exactly the answered ones are there.
    let count = |times: i64| json!([{}, {"fn.verify_": {"call": {"fn.find": {}}, "count!": {"Exact": {"times": times}}}}]);
    assert_eq!(ask(&mock, count(recorded)).await, json!([{}, {"Ok_": {}}]));
    assert!(unknown(&ask(&mock, stub(json!({}))).await));
    assert!(unknown(&ask(&mock, find(1)).await));

    assert_eq!(
        ask(&mock, json!([{}, {"fn.clearCalls_": {}}])).await,
        json!([{}, {"Ok_": {}}])
    );
    assert_eq!(ask(&mock, stub(json!({}))).await, json!([{}, {"Ok_": {}}]));
    let answered = json!([{}, {"Ok_": {"item": {"name": "one"}}}]);
    assert_eq!(ask(&mock, find(1)).await, answered);
    assert_eq!(ask(&mock, count(1)).await, json!([{}, {"Ok_": {}}]));
}

/// A stub larger than the whole limit is refused outright, and the mock goes on.
#[tokio::test]
async fn a_stub_larger_than_the_limit_is_refused() {
    let schema = Schema::from_text(SCHEMA).expect("schema loads");
    let options = MockOptions::default().memory_limit(4096);
    let mock = MockServer::with_options(schema, options).expect("mock builds");
    let name = "x".repeat(5000);
    let big = json!([{}, {"fn.createStub_": {"stub": {"fn.find": {}, "->": {"Ok_": {"item": {"name": name}}}}}}]);
    let answer = ask(&mock, big).await;
    assert!(answer.pointer("/1/ErrorUnknown_").is_some(), "{answer}");
    assert_eq!(ask(&mock, stub(json!({}))).await, json!([{}, {"Ok_": {}}]));
}

/// A schema of `links` structs, each requiring the next, the last an integer.
fn chain_of_required_structs(links: usize) -> Schema {
    let mut definitions: Vec<Value> = (0..links)
        .map(|n| {
            let fields = if n + 1 < links {
                json!({"next": format!("struct.S{}", n + 1)})
            } else {
                json!({"leaf": "integer"})
            };
            json!({format!("struct.S{n}"): fields})
        })
        .collect();
    definitions.push(json!({"fn.deep": {}, "->": [{"Ok_": {"s": "struct.S0"}}]}));
    Schema::from_text(&Value::Array(definitions).to_string()).expect("schema loads")
}

/// Required fields are generated however deep the schema chains them, up to where an
/// answer is still readable by any client: a long chain answers in full, not with a
/// value the mock's own check refuses.
#[tokio::test]
async fn a_long_chain_of_required_structs_is_generated_whole() {
    let links = crate::budget::MAX_NESTING - 2;
    let mock = MockServer::new(chain_of_required_structs(links)).expect("mock builds");
    let answer = ask(&mock, json!([{}, {"fn.deep": {}}])).await;
    let mut value = answer
        .pointer("/1/Ok_/s")
        .unwrap_or_else(|| panic!("{answer}"));
    for _ in 1..links {
        value = &value["next"];
    }
    assert!(value["leaf"].is_i64(), "{answer}");
    // The examples of `fn.api_`, written deeper in their answer, whole and readable
    // (`ask` reads the answer with serde_json's limit).
    let api = ask(&mock, json!([{}, {"fn.api_": {"includeExamples!": true}}])).await;
    let definitions = api.pointer("/1/Ok_/api").and_then(Value::as_array);
    let deep = definitions
        .into_iter()
        .flatten()
        .find(|definition| definition.get("struct.S0").is_some())
        .unwrap_or_else(|| panic!("{api}"));
    let mut example = &deep["example"];
    for _ in 1..links {
        example = &example["next"];
    }
    assert!(example["leaf"].is_i64(), "{deep}");
}

/// `struct.Wide` of `width` optional fields, each a `struct.Inner` of ten required
/// integers, as `fn.wide`'s result.
fn wide_of_structs(width: usize) -> Schema {
    let inner: serde_json::Map<String, Value> = (0..10)
        .map(|i| (format!("i{i}"), json!("integer")))
        .collect();
    let wide: serde_json::Map<String, Value> = (0..width)
        .map(|i| (format!("f{i:05}!"), json!("struct.Inner")))
        .collect();
    let schema = json!([
        {"struct.Inner": inner},
        {"struct.Wide": wide},
        {"fn.wide": {}, "->": [{"Ok_": {"w": "struct.Wide"}}]}
    ]);
    Schema::from_text(&schema.to_string()).expect("schema loads")
}

/// Past the value limit a struct's optional fields are left out, the rest of the
/// struct's too: each kept one would take its required fields past the ceiling, and
/// the answer, cut short with nulls, would not validate.
#[tokio::test]
async fn optional_fields_past_the_value_limit_are_left_out() {
    let mock = MockServer::new(wide_of_structs(5_000)).expect("mock builds");
    for seed in 1..4 {
        ask(&mock, json!([{}, {"fn.setRandomSeed_": {"seed": seed}}])).await;
        let answer = ask(&mock, json!([{}, {"fn.wide": {}}])).await;
        let wide = answer.pointer("/1/Ok_/w").and_then(Value::as_object);
        let Some(wide) = wide else {
            panic!("seed {seed}: {answer:.300}");
        };
        assert!(wide.len() < 400, "seed {seed}: {} fields", wide.len());
    }
}

/// A stub's own values are not generated: however many it gives, the required fields
/// it leaves out are still filled in, as with a small stub.
#[tokio::test]
async fn a_large_stub_still_has_its_missing_fields_generated() {
    let schema = Schema::from_text(
        r#"[{"fn.list": {}, "->": [{"Ok_": {"ids": ["integer"], "name": "string"}}]}]"#,
    )
    .expect("schema loads");
    let mock = MockServer::new(schema).expect("mock builds");
    let ids: Vec<u32> = (0..25_000).collect();
    let stub =
        json!([{}, {"fn.createStub_": {"stub": {"fn.list": {}, "->": {"Ok_": {"ids": ids}}}}}]);
    assert_eq!(ask(&mock, stub).await, json!([{}, {"Ok_": {}}]));
    let answer = ask(&mock, json!([{}, {"fn.list": {}}])).await;
    let name = answer.pointer("/1/Ok_/name");
    assert!(name.is_some_and(Value::is_string), "{answer:.300}");
    assert_eq!(answer.pointer("/1/Ok_/ids"), Some(&json!(ids)));
}

/// Each item a stub gives has the required fields it leaves out filled in, however many
/// items: 6,000 of four missing fields each are more values than one generation may
/// make from nothing, but they are in proportion to the stub.
#[tokio::test]
async fn every_item_of_a_large_stub_has_its_missing_fields_generated() {
    let schema = Schema::from_text(
        r#"[{"struct.Big": {"a": "boolean", "b": "boolean", "c": "boolean", "d": "boolean"}},
            {"fn.list": {}, "->": [{"Ok_": {"items": ["struct.Big"]}}]}]"#,
    )
    .expect("schema loads");
    let mock = MockServer::new(schema).expect("mock builds");
    let items = vec![json!({}); 6_000];
    let stub =
        json!([{}, {"fn.createStub_": {"stub": {"fn.list": {}, "->": {"Ok_": {"items": items}}}}}]);
    assert_eq!(ask(&mock, stub).await, json!([{}, {"Ok_": {}}]));
    let answer = ask(&mock, json!([{}, {"fn.list": {}}])).await;
    let items = answer.pointer("/1/Ok_/items").and_then(Value::as_array);
    let items = items.unwrap_or_else(|| panic!("not answered: {answer:.300}"));
    assert_eq!(items.len(), 6_000);
    assert!(
        items
            .iter()
            .all(|item| item.as_object().is_some_and(|m| m.len() == 4))
    );
}

/// A stubbed `_ext.Select_` is drawn afresh, as the reference draws it: counted as a
/// generated value, so a stub of many empty selections (three bytes each) is answered
/// in proportion, not with a selection of every field drawn for each.
#[tokio::test]
async fn a_stub_of_many_selections_is_answered_in_proportion() {
    let fields: serde_json::Map<String, Value> = (0..50)
        .map(|i| (format!("field{i:02}"), json!("boolean")))
        .collect();
    let text = json!([{"struct.Wide": fields},
        {"fn.pick": {}, "->": [{"Ok_": {"sels": ["_ext.Select_"], "wide!": "struct.Wide"}}]}]);
    let schema = Schema::from_text(&text.to_string()).expect("schema loads");
    let mock = MockServer::new(schema).expect("mock builds");
    let sels = vec![json!({}); 100_000];
    let stub =
        json!([{}, {"fn.createStub_": {"stub": {"fn.pick": {}, "->": {"Ok_": {"sels": sels}}}}}]);
    assert_eq!(ask(&mock, stub).await, json!([{}, {"Ok_": {}}]));
    let bytes = mock.process(br#"[{}, {"fn.pick": {}}]"#).await.bytes;
    let answer: Value = serde_json::from_slice(&bytes).expect("answer is JSON");
    let sels = answer.pointer("/1/Ok_/sels").and_then(Value::as_array);
    assert_eq!(sels.map(Vec::len), Some(100_000), "{answer:.300}");
    assert!(bytes.len() < 4 << 20, "{} bytes", bytes.len());
}

/// The room a stub's items make for their missing fields is bounded: 100,000 empty
/// items of a struct of 50 required fields are cut short, not answered with 5,000,000.
#[tokio::test]
async fn the_room_a_stub_makes_for_missing_fields_is_bounded() {
    let fields: serde_json::Map<String, Value> = (0..50)
        .map(|i| (format!("field{i:02}"), json!("boolean")))
        .collect();
    let text = json!([{"struct.Wide": fields},
        {"fn.list": {}, "->": [{"Ok_": {"items": ["struct.Wide"]}}]}]);
    let schema = Schema::from_text(&text.to_string()).expect("schema loads");
    let mock = MockServer::new(schema).expect("mock builds");
    let items = vec![json!({}); 100_000];
    let stub =
        json!([{}, {"fn.createStub_": {"stub": {"fn.list": {}, "->": {"Ok_": {"items": items}}}}}]);
    assert_eq!(ask(&mock, stub).await, json!([{}, {"Ok_": {}}]));
    let bytes = mock.process(br#"[{}, {"fn.list": {}}]"#).await.bytes;
    assert!(bytes.len() < 1 << 20, "{} bytes", bytes.len());
}

/// A selection inside a stub or a verified call selects from the function stubbed or
/// called, as it does in that function's own call, not from `fn.createStub_`'s or
/// `fn.verify_`'s empty result.
#[tokio::test]
async fn a_selection_in_a_stub_or_verified_call_selects_from_that_function() {
    let text = r#"[{"struct.Point": {"x": "integer", "y": "integer"}},
        {"fn.echo": {"sel!": "_ext.Select_"},
         "->": [{"Ok_": {"point!": "struct.Point", "echoed!": "_ext.Select_"}}]}]"#;
    let mock =
        MockServer::new(Schema::from_text(text).expect("schema loads")).expect("mock builds");
    let sel = json!({"->": {"Ok_": ["point!"]}, "struct.Point": ["x"]});
    let stub = json!([{}, {"fn.createStub_": {"stub": {
        "fn.echo": {"sel!": sel}, "->": {"Ok_": {"point!": {"x": 1, "y": 2}, "echoed!": sel}}}}}]);
    assert_eq!(ask(&mock, stub).await, json!([{}, {"Ok_": {}}]));
    let call = json!([{}, {"fn.echo": {"sel!": sel}}]);
    let answer = ask(&mock, call).await;
    assert_eq!(
        answer.pointer("/1/Ok_/point!"),
        Some(&json!({"x": 1, "y": 2})),
        "{answer}"
    );
    let verify = json!([{}, {"fn.verify_": {"call": {"fn.echo": {"sel!": sel}}}}]);
    assert_eq!(ask(&mock, verify).await, json!([{}, {"Ok_": {}}]));
    // A failed verification lists the recorded call, selection and all.
    let twice =
        json!([{}, {"fn.verify_": {"call": {"fn.echo": {}}, "count!": {"Exact": {"times": 2}}}}]);
    let answer = ask(&mock, twice).await;
    let listed = answer.pointer("/1/ErrorVerificationFailure/reason/TooFewMatchingCalls/allCalls");
    assert_eq!(
        listed,
        Some(&json!([{"fn.echo": {"sel!": sel}}])),
        "{answer}"
    );

    let foreign = json!({"->": {"Ok_": ["nope!"]}});
    let stub = json!([{}, {"fn.createStub_": {"stub": {"fn.echo": {"sel!": foreign}, "->": {"Ok_": {}}}}}]);
    assert_eq!(
        body_cases(&ask(&mock, stub).await),
        json!([{"path": ["fn.createStub_", "stub", "fn.echo", "sel!", "->", "Ok_", 0],
                "reason": {"ArrayElementDisallowed": {}}}])
    );
}

/// A stub or call the mock generates selects from its own function, so the mock's
/// answer holding one for a function other than the one called is valid.
#[tokio::test]
async fn a_generated_stub_selects_from_its_own_function() {
    let text = r#"[{"struct.Point": {"x": "integer", "y": "integer"}},
        {"fn.echo": {"sel": "_ext.Select_"}, "->": [{"Ok_": {"point": "struct.Point"}}]},
        {"fn.make": {}, "->": [{"Ok_": {"stub": "_ext.Stub_", "call": "_ext.Call_"}}]}]"#;
    let mock =
        MockServer::new(Schema::mock_from_text(text).expect("schema loads")).expect("mock builds");
    for seed in 1..40 {
        let reseed = json!([{}, {"fn.setRandomSeed_": {"seed": seed}}]);
        assert_eq!(ask(&mock, reseed).await, json!([{}, {"Ok_": {}}]));
        let answer = ask(&mock, json!([{}, {"fn.make": {}}])).await;
        assert!(answer.pointer("/1/Ok_").is_some(), "seed {seed}: {answer}");
    }
}
