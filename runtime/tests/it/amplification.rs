//! A request cannot make its answer, or the work and memory behind it, grow far past
//! its own size: failures are reported up to a limit, the mock's matching has a budget
//! and a failed verification lists only some of the calls. `hostile_answers.rs` holds
//! the client's side.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use telepact::mock::{MockOptions, MockServer};
use telepact::schema::Schema;
use telepact::{FunctionRouter, HandlerError, MAX_VALIDATION_FAILURES, Message, Server};

use crate::robustness::runtime;

const SCHEMA: &str = r#"[
  {"struct.Item": {"id": "integer", "name!": "string"}},
  {"fn.echo": {"items": ["struct.Item"]}, "->": [{"Ok_": {"items": ["struct.Item"]}}]},
  {"fn.put": {"xs": ["integer"], "note!": "string"}, "->": [{"Ok_": {}}]}
]"#;

fn schema() -> Schema {
    Schema::from_text(SCHEMA).expect("schema loads")
}

fn server() -> Server {
    echo_server(schema(), "fn.echo")
}

/// A server of `schema` whose `function` answers `Ok_` with its argument.
fn echo_server(schema: Schema, function: &str) -> Server {
    let router = FunctionRouter::new().route(function, |request: Message| async move {
        let payload = request.payload().cloned().unwrap_or_default();
        Ok::<_, HandlerError>(Message::new(Default::default(), "Ok_", payload))
    });
    Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds")
}

/// `[{"@select_": select}, {function: argument}]`, encoded.
fn selecting(select: Value, function: &str, argument: Value) -> Vec<u8> {
    serde_json::to_vec(&json!([{"@select_": select}, {function: argument}])).expect("JSON")
}

/// The answer's body entry `(tag, payload)`, and the answer's size.
fn answer(
    rt: &tokio::runtime::Runtime,
    process: impl Future<Output = Vec<u8>>,
) -> (String, Value, usize) {
    let bytes = rt.block_on(process);
    let message: Value = serde_json::from_slice(&bytes).expect("the answer is JSON");
    let (tag, payload) = message[1]
        .as_object()
        .and_then(|body| body.iter().next())
        .expect("the answer has a body entry");
    (tag.clone(), payload.clone(), bytes.len())
}

fn paths(payload: &Value) -> Vec<Value> {
    payload["cases"]
        .as_array()
        .expect("a list of cases")
        .iter()
        .map(|case| case["path"].clone())
        .collect()
}

#[test]
fn a_body_of_many_failures_reports_the_first_hundred() {
    let (server, rt) = (server(), runtime());
    // Every item lacks its required `id`: one failure for each 3 bytes of request.
    let items = vec![json!({}); 300_000];
    let request = serde_json::to_vec(&json!([{}, {"fn.echo": {"items": items}}])).expect("JSON");
    let (tag, payload, size) = answer(&rt, async { server.process(&request).await.bytes });
    assert_eq!(tag, "ErrorInvalidRequestBody_");
    let expected: Vec<Value> = (0..MAX_VALIDATION_FAILURES)
        .map(|index| json!(["fn.echo", "items", index]))
        .collect();
    assert_eq!(paths(&payload), expected, "the first failures, in order");
    assert!(
        size < request.len() / 10,
        "{size} bytes answer {} bytes",
        request.len()
    );
}

#[test]
fn a_selection_of_many_failures_reports_the_first_hundred() {
    let (server, rt) = (server(), runtime());
    // `fn.ping_` selects nothing, so each `0,` of the list is a failure.
    let zeros = vec![0; 400_000];
    let request = selecting(json!({"->": {"Ok_": zeros}}), "fn.ping_", json!({}));
    let (tag, payload, size) = answer(&rt, async { server.process(&request).await.bytes });
    assert_eq!(tag, "ErrorInvalidRequestHeaders_");
    assert_eq!(paths(&payload).len(), MAX_VALIDATION_FAILURES);
    assert_eq!(paths(&payload)[99], json!(["@select_", "->", "Ok_", 99]));
    assert!(
        size < request.len() / 10,
        "{size} bytes answer {} bytes",
        request.len()
    );
}

#[test]
fn missing_fields_come_first_and_the_list_keeps_its_limit() {
    let (server, rt) = (server(), runtime());
    // The struct's own failure (the missing `id`) goes before those of its fields.
    let items: Vec<Value> = (0..200).map(|_| json!({"name!": 1})).collect();
    let request = serde_json::to_vec(&json!([{}, {"fn.echo": {"items": items}}])).expect("JSON");
    let (_, payload, _) = answer(&rt, async { server.process(&request).await.bytes });
    let found = paths(&payload);
    assert_eq!(found.len(), MAX_VALIDATION_FAILURES);
    assert_eq!(found[0], json!(["fn.echo", "items", 0]));
    assert_eq!(found[1], json!(["fn.echo", "items", 0, "name!"]));
    assert_eq!(found[99], json!(["fn.echo", "items", 49, "name!"]));
}

/// A long key is the client's text, and each failure below it repeats it in its path:
/// the failures' paths share a budget past the first, so a megabyte key over a hundred
/// invalid items no longer answers a hundred megabytes.
#[test]
fn failures_under_a_long_key_share_a_budget() {
    let schema = Schema::from_text(
        r#"[{"fn.m": {"m": {"string": ["integer"]}, "s": {"string": "struct.P"}}, "->": [{"Ok_": {}}]},
            {"struct.P": {"a": "integer", "b": "integer", "c": "integer"}}]"#,
    )
    .expect("schema loads");
    let (server, rt) = (echo_server(schema, "fn.m"), runtime());
    let key = "k".repeat(200_000);
    let bad = vec![json!("x"); 100];
    for argument in [
        json!({"m": {key.as_str(): bad}, "s": {}}),
        json!({"m": {}, "s": {key.as_str(): {}}}),
    ] {
        let request = serde_json::to_vec(&json!([{}, {"fn.m": argument}])).expect("JSON");
        let (tag, payload, size) = answer(&rt, async { server.process(&request).await.bytes });
        assert_eq!(tag, "ErrorInvalidRequestBody_");
        let found = paths(&payload);
        assert_eq!(found.len(), 1, "the first failure only: {}", found.len());
        assert!(
            size < request.len() * 2,
            "{size} bytes answer {} bytes",
            request.len()
        );
    }
    // Short keys leave room for every failure, up to the count's limit.
    let short: Value = (0..50)
        .map(|i| (format!("key{i}"), json!(["x", "y"])))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let request = serde_json::to_vec(&json!([{}, {"fn.m": {"m": short, "s": {}}}])).expect("JSON");
    let (_, payload, _) = answer(&rt, async { server.process(&request).await.bytes });
    assert_eq!(paths(&payload).len(), 100);
}

#[test]
fn repeated_names_in_a_selection_select_as_one() {
    let (server, rt) = (server(), runtime());
    let names = vec!["name!"; 1000];
    let items = json!([{"id": 1, "name!": "a"}, {"id": 2}]);
    let request = selecting(
        json!({"struct.Item": names}),
        "fn.echo",
        json!({"items": items}),
    );
    let (tag, payload, _) = answer(&rt, async { server.process(&request).await.bytes });
    assert_eq!(tag, "Ok_");
    assert_eq!(payload, json!({"items": [{"name!": "a"}, {}]}));
}

fn mock() -> MockServer {
    MockServer::new(schema()).expect("the mock builds")
}

async fn call(mock: &MockServer, message: Value) -> Vec<u8> {
    let bytes = serde_json::to_vec(&message).expect("JSON");
    mock.process(&bytes).await.bytes
}

#[test]
fn the_mock_gives_up_on_a_match_past_its_budget_and_answers_the_next_call() {
    let (mock, rt) = (mock(), runtime());
    // Every element of the stub's list is compared with all the call's before its
    // match, the last: 12,000 squared comparisons, past the budget of 50 million.
    let size = 12_000;
    let stub_items = vec![0; size];
    let mut call_items = vec![1; size];
    call_items[size - 1] = 0;
    let stub = json!([{}, {"fn.createStub_": {"stub": {"fn.put": {"xs": stub_items}, "->": {"Ok_": {}}}}}]);
    let (tag, _, _) = answer(&rt, call(&mock, stub));
    assert_eq!(tag, "Ok_");
    let (tag, _, _) = answer(
        &rt,
        call(&mock, json!([{}, {"fn.put": {"xs": call_items}}])),
    );
    assert_eq!(tag, "ErrorUnknown_");
    // A smaller call is matched as before, and the mock answers by the stub.
    let (tag, payload, _) = answer(&rt, call(&mock, json!([{}, {"fn.put": {"xs": [1, 0]}}])));
    assert_eq!((tag.as_str(), payload), ("Ok_", json!({})));
}

/// A call that takes the mock's whole match budget works on a blocking thread, and calls
/// waiting behind it wait without a thread: the async workers go on answering. Until 6
/// December the mock's lock held a worker for each such call and each call behind it,
/// so that two stopped a two-worker server (`telepact mock`'s `fn.ping_` waited 840 ms
/// beside three, in a debug build).
#[test]
fn calls_at_the_match_budget_hold_up_no_async_worker() {
    let mock = mock();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let size = 12_000;
    let stub = json!([{}, {"fn.createStub_": {"stub": {"fn.put": {"xs": vec![0; size]}, "->": {"Ok_": {}}}}}]);
    let mut items = vec![1; size];
    items[size - 1] = 0;
    let heavy = json!([{}, {"fn.put": {"xs": items}}]);
    let matched = Arc::new(AtomicUsize::new(0));
    let matched_before_the_ping = rt.block_on(async {
        call(&mock, stub).await;
        let calls: Vec<_> = (0..3)
            .map(|_| {
                let (mock, heavy, matched) = (mock.clone(), heavy.clone(), Arc::clone(&matched));
                tokio::spawn(async move {
                    call(&mock, heavy).await;
                    matched.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let pinging = mock.clone();
        let ping = json!([{}, {"fn.ping_": {}}]);
        let answered = tokio::spawn(async move { call(&pinging, ping).await.len() }).await;
        let matched_before = matched.load(Ordering::SeqCst);
        assert!(answered.is_ok_and(|length| length > 0));
        for call in calls {
            call.await.expect("the call ends");
        }
        matched_before
    });
    assert_eq!(matched_before_the_ping, 0, "the ping waited for a match");
}

/// Calls `fn.put` once per note, each call recorded.
fn put_notes<'n>(
    mock: &MockServer,
    rt: &tokio::runtime::Runtime,
    notes: impl IntoIterator<Item = &'n str>,
) {
    for note in notes {
        let (tag, _, _) = answer(
            rt,
            call(mock, json!([{}, {"fn.put": {"xs": [], "note!": note}}])),
        );
        assert_eq!(tag, "Ok_");
    }
}

/// Verifies that `fn.put` was never called, which fails: the failure and its size.
fn verify_no_puts(mock: &MockServer, rt: &tokio::runtime::Runtime) -> (Value, usize) {
    let verify =
        json!([{}, {"fn.verify_": {"call": {"fn.put": {}}, "count!": {"Exact": {"times": 0}}}}]);
    let (tag, payload, size) = answer(rt, call(mock, verify));
    assert_eq!(tag, "ErrorVerificationFailure");
    (payload["reason"]["TooManyMatchingCalls"].clone(), size)
}

#[test]
fn a_failed_verification_lists_the_first_calls_up_to_four_mebibytes() {
    let (mock, rt) = (mock(), runtime());
    let note = "x".repeat(100_000);
    put_notes(&mock, &rt, std::iter::repeat_n(note.as_str(), 60));
    let (failure, size) = verify_no_puts(&mock, &rt);
    assert_eq!(failure["found"], json!(60), "every call is counted");
    let listed = failure["allCalls"].as_array().expect("a list").len();
    assert!((30..60).contains(&listed), "{listed} calls listed");
    assert!(size <= 4 * 1024 * 1024, "{size} bytes");

    let unverified = json!([{}, {"fn.verifyNoMoreInteractions_": {}}]);
    let (tag, _, _) = answer(&rt, call(&mock, unverified));
    assert_eq!(
        tag, "Ok_",
        "the failed verification marked the calls it found"
    );
}

#[test]
fn a_failed_verification_lists_a_first_call_past_four_mebibytes() {
    let (mock, rt) = (mock(), runtime());
    let note = "x".repeat(5 * 1024 * 1024);
    put_notes(&mock, &rt, [note.as_str(), "small"]);
    let (failure, _) = verify_no_puts(&mock, &rt);
    let listed = failure["allCalls"].as_array().expect("a list");
    assert_eq!(listed.len(), 1, "the first call alone");
    assert_eq!(
        listed[0]["fn.put"]["note!"].as_str().map(str::len),
        Some(note.len())
    );
}

#[test]
fn a_generated_list_ends_at_the_value_budget_whatever_length_is_asked() {
    let options = MockOptions::default()
        .collection_length_min(50_000_000)
        .collection_length_max(50_000_000);
    let mock = MockServer::with_options(schema(), options).expect("the mock builds");
    let rt = runtime();
    let (tag, payload, _) = answer(&rt, call(&mock, json!([{}, {"fn.echo": {"items": []}}])));
    assert_eq!(tag, "Ok_");
    let items = payload["items"].as_array().expect("a list").len();
    let most = telepact::GenerationLimits::default().max_values + 1;
    assert!((1..=most).contains(&items), "{items} items");
}

/// A struct whose two required fields are the next struct, `levels` deep: its smallest
/// value has 2^`levels` leaves, though the schema is a few hundred bytes per level.
fn diamond_schema(levels: usize) -> Schema {
    let mut definitions: Vec<Value> = (0..levels)
        .map(|i| json!({format!("struct.S{i}"): {"a": format!("struct.S{}", i + 1), "b": format!("struct.S{}", i + 1)}}))
        .collect();
    definitions.push(json!({format!("struct.S{levels}"): {"x": "integer"}}));
    definitions.push(json!({"fn.f": {}, "->": [{"Ok_": {"s": "struct.S0"}}]}));
    Schema::from_text(&Value::Array(definitions).to_string()).expect("schema loads")
}

#[test]
fn a_value_too_large_to_generate_is_cut_short_not_built() {
    let rt = runtime();
    // 2^30 leaves: built whole, far more than any memory holds.
    let schema = diamond_schema(30);
    let mock = MockServer::new(schema).expect("the mock builds");
    let (tag, _, size) = answer(&rt, call(&mock, json!([{}, {"fn.f": {}}])));
    assert_eq!(
        tag, "ErrorInvalidResponseBody_",
        "the cut value fails validation"
    );
    assert!(size < 1 << 20, "{size} bytes");

    let examples = json!([{}, {"fn.api_": {"includeExamples!": true}}]);
    let (tag, _, size) = answer(&rt, call(&mock, examples));
    assert_eq!(tag, "Ok_");
    assert!(size < 4 << 20, "{size} bytes");
}

#[test]
fn examples_of_a_wide_struct_in_every_function_stay_in_proportion() {
    let rt = runtime();
    let fields: serde_json::Map<String, Value> = (0..1_000)
        .map(|i| (format!("field{i}"), json!("integer")))
        .collect();
    let mut definitions = vec![json!({"struct.W": fields})];
    definitions.extend((0..1_000).map(
        |i| json!({format!("fn.f{i}"): {"w": "struct.W"}, "->": [{"Ok_": {"w": "struct.W"}}]}),
    ));
    let text = Value::Array(definitions).to_string();
    let schema = Schema::from_text(&text).expect("schema loads");
    let mock = MockServer::new(schema).expect("the mock builds");
    let examples = json!([{}, {"fn.api_": {"includeExamples!": true}}]);
    let (tag, payload, size) = answer(&rt, call(&mock, examples));
    assert_eq!(tag, "Ok_");
    // Every field of every function's examples would be 2,000,000 values, 30 MB.
    assert!(
        size < 20 * text.len(),
        "{size} bytes for a {} byte schema",
        text.len()
    );
    let api = payload["api"].as_array().expect("the definitions");
    assert!(
        api.iter().any(|d| d.get("inputExample").is_some()),
        "the first have examples"
    );
}

#[test]
fn a_selection_naming_every_field_of_a_wide_struct_is_checked_and_applied_by_lookup() {
    const FIELDS: usize = 20_000;
    let rt = runtime();
    let fields: serde_json::Map<String, Value> = (0..FIELDS)
        .map(|i| (format!("field{i}!"), json!("integer")))
        .collect();
    let text = json!([
        {"struct.W": fields},
        {"fn.f": {"w": "struct.W"}, "->": [{"Ok_": {"w": "struct.W"}}]}
    ])
    .to_string();
    let server = echo_server(Schema::from_text(&text).expect("schema loads"), "fn.f");
    // Every field given; every other one selected, the list written back to front.
    let w: serde_json::Map<String, Value> = (0..FIELDS)
        .map(|i| (format!("field{i}!"), json!(i)))
        .collect();
    let selected: Vec<String> = (0..FIELDS)
        .rev()
        .step_by(2)
        .map(|i| format!("field{i}!"))
        .collect();
    let request = selecting(json!({"struct.W": selected}), "fn.f", json!({"w": w}));
    let (tag, payload, _) = answer(&rt, async { server.process(&request).await.bytes });
    assert_eq!(tag, "Ok_");
    let kept = payload["w"].as_object().expect("the struct");
    assert_eq!(kept.len(), FIELDS / 2);
    assert_eq!(kept.get("field19999!"), Some(&json!(19_999)));
    assert_eq!(kept.get("field0!"), None);
}
