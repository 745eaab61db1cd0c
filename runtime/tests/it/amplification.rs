//! A request cannot make its answer, or the work and memory behind it, grow far past
//! its own size: failures are reported up to a limit, the mock's matching has a budget
//! and a failed verification lists only some of the calls. Nor can an answer make a
//! client's reading of it cost far more than its size.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::time::{Duration, Instant};

use rmpv::Value as Pack;
use serde_json::{Map, Value, json};
use telepact::binary::DecodeError;
use telepact::binary::pack::PACKED_LIST_EXT;
use telepact::client::{ClientOptions, InvalidResponse, TransportError};
use telepact::mock::{MockOptions, MockServer};
use telepact::schema::Schema;
use telepact::{
    Client, ClientError, FunctionRouter, HandlerError, MAX_VALIDATION_FAILURES, Message, Server,
};

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

/// How long a client may take to read any answer below: a debug build reads each in
/// well under a tenth of it, and the costs these tests guard against took 8 to 18 s.
const CLIENT_READS_WITHIN: Duration = Duration::from_secs(2);

/// A client that gets `answer` for every request, in JSON or binary (`binary` asks for
/// binary; the answer is what it is).
fn client_answered(answer: Vec<u8>, binary: bool) -> Client {
    Client::with_options(
        move |_request: Vec<u8>| {
            let answer = answer.clone();
            async move { Ok::<_, TransportError>(answer) }
        },
        ClientOptions::default().binary(binary),
    )
}

/// A call of `fn.x` and how long its answer took to read.
async fn read_timed(client: &Client) -> (Result<Message, ClientError>, Duration) {
    let started = Instant::now();
    let response = client
        .request(Message::new(Default::default(), "fn.x", Default::default()))
        .await;
    (response, started.elapsed())
}

/// A hostile server's JSON answer whose `@base64_` tree names one list by `"*"` and by
/// its key at each of ten levels, 1,024 ways in all: the client walked the list once per
/// way, base64-decoding each item each time (a 171 KB answer took 18 s). Each item is
/// now checked once; the answer reads as fast as one naming the list one way.
#[tokio::test]
async fn a_base64_header_naming_one_list_many_ways_is_checked_once_per_item() {
    let (depth, count) = (10, 50_000);
    let mut body = Value::Array(vec![json!(""); count]);
    let mut many_ways = json!({"*": true});
    for _ in 0..depth {
        body = json!({ "a": body });
        many_ways = json!({"*": many_ways.clone(), "a": many_ways});
    }
    let answer = json!([{"@base64_": {"Ok_": many_ways}}, {"Ok_": body}]);
    let size = answer.to_string().len();
    let client = client_answered(answer.to_string().into_bytes(), false);
    let (response, took) = read_timed(&client).await;
    let response = response.expect("the header fits the body");
    assert_eq!(response.target(), "Ok_");
    assert!(took < CLIENT_READS_WITHIN, "{size} bytes read in {took:?}");
}

/// A hostile server's JSON answer whose `@base64_` names 8,000 keys under a `"*"` and
/// 8,000 keys of its own, each beside the `"*"` (276 KB): the places under each own key
/// gathered every key of the `"*"`, 64 million in all, which held a client 100 s. The
/// keys a place names are looked up as its entries are met.
#[tokio::test]
async fn a_wide_wildcard_beside_many_keys_is_read_in_time() {
    let count = 8_000;
    let (mut every, mut header, mut body) = (Map::new(), Map::new(), Map::new());
    for index in 0..count {
        every.insert(format!("c{index}"), json!(true));
        header.insert(format!("k{index}"), json!({}));
        body.insert(format!("k{index}"), json!({}));
    }
    header.insert("*".into(), Value::Object(every));
    let answer = json!([{"@base64_": {"Ok_": header}}, {"Ok_": body}]);
    let size = answer.to_string().len();
    let client = client_answered(answer.to_string().into_bytes(), false);
    let (response, took) = read_timed(&client).await;
    assert_eq!(response.expect("the header fits the body").target(), "Ok_");
    assert!(took < CLIENT_READS_WITHIN, "{size} bytes read in {took:?}");
}

/// A header naming one place 1,024 ways, whose body holds 40,000 keys there: each key
/// is looked up in every naming, 40 million lookups. A header a server writes names a
/// place once; past 16 namings followed for each list item and object entry the answer
/// is refused.
#[tokio::test]
async fn a_place_named_many_ways_with_many_keys_is_refused() {
    let mut body = Value::Object((0..40_000).map(|i| (format!("k{i}"), json!({}))).collect());
    let mut header = json!({});
    for _ in 0..10 {
        body = json!({ "a": body });
        header = json!({"*": header.clone(), "a": header});
    }
    let answer = json!([{"@base64_": {"Ok_": header}}, {"Ok_": body}]);
    let client = client_answered(answer.to_string().into_bytes(), false);
    let (response, took) = read_timed(&client).await;
    let Err(ClientError::InvalidResponse(InvalidResponse::Base64Header(refused))) = response else {
        panic!("not refused: {response:?}");
    };
    assert_eq!(
        refused.problem,
        "the header names the body's places too many ways"
    );
    assert!(took < CLIENT_READS_WITHIN, "refused in {took:?}");
}

fn write_pack(value: &Pack) -> Vec<u8> {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, value).expect("writes into memory");
    bytes
}

/// A binary answer `[{"@bin_": [1], "@enc_": enc}, body]`, as a hostile server sends it.
fn binary_answer(enc: Vec<(Pack, Pack)>, body: Pack) -> Vec<u8> {
    binary_answer_with(enc, body, false)
}

/// [`binary_answer`], its body packed (`@pac_`) when `packed`.
fn binary_answer_with(enc: Vec<(Pack, Pack)>, body: Pack, packed: bool) -> Vec<u8> {
    let mut headers = vec![
        (Pack::from("@bin_"), Pack::Array(vec![Pack::from(1)])),
        (Pack::from("@enc_"), Pack::Map(enc)),
    ];
    if packed {
        headers.push((Pack::from("@pac_"), Pack::from(true)));
    }
    write_pack(&Pack::Array(vec![Pack::Map(headers), body]))
}

/// A hostile server's binary answer of 200,000 empty binaries in a list 110 maps deep
/// (400 KB): the client named each binary's place in `@base64_` by copying its whole
/// path and walking the tree from the root, key by key, which took 8 s. Each place is
/// now named once, a list's items together.
#[tokio::test]
async fn a_deep_list_of_binaries_is_named_once_for_all_its_items() {
    let (depth, count) = (110, 200_000);
    let mut list = Pack::Array(vec![Pack::Binary(Vec::new()); count]);
    let mut named = json!({"*": true});
    for _ in 0..depth {
        list = Pack::Map(vec![(Pack::from("a"), list)]);
        named = json!({ "a": named });
    }
    let body = Pack::Map(vec![(Pack::from(0), list)]);
    let answer = binary_answer(vec![(Pack::from("Ok_"), Pack::from(0))], body);
    let size = answer.len();
    let (response, took) = read_timed(&client_answered(answer, true)).await;
    let response = response.expect("the answer decodes");
    assert_eq!(
        response.headers.get("@base64_"),
        Some(&json!({ "Ok_": named }))
    );
    assert!(took < CLIENT_READS_WITHIN, "{size} bytes read in {took:?}");
}

/// A binary answer whose `@enc_` names one field with a 32 KiB name (id 1), which the
/// body refers to `references` times: `{"Ok_": {name: [{name: null}, ...]}}`. Packed,
/// the list is a table whose header names the field once and whose rows hold its value.
fn long_name_answer(references: usize, packed: bool) -> Vec<u8> {
    let name = "n".repeat(32 * 1024);
    let list = if packed {
        let header = Pack::Array(vec![Pack::Nil, Pack::from(1)]);
        let rows = std::iter::repeat_n(Pack::Array(vec![Pack::Nil]), references);
        let table = [Pack::Ext(PACKED_LIST_EXT, Vec::new()), header];
        Pack::Array(table.into_iter().chain(rows).collect())
    } else {
        let item = Pack::Map(vec![(Pack::from(1), Pack::Nil)]);
        Pack::Array(vec![item; references])
    };
    let body = Pack::Map(vec![(
        Pack::from(0),
        Pack::Map(vec![(Pack::from(1), list)]),
    )]);
    let enc = vec![
        (Pack::from("Ok_"), Pack::from(0)),
        (Pack::from(name.as_str()), Pack::from(1)),
    ];
    binary_answer_with(enc, body, packed)
}

/// A hostile server's 63 KB binary answer referring 10,000 times by id to a 32 KiB
/// field name: each reference became its own copy of the name, 280 MB in all. The
/// names an answer's keys stand for may take 128 times its length and 1 MiB; past
/// that the answer is refused as undecodable, while a hundred references read. A
/// packed answer (30 KB: a row a reference) is held to the same budget.
#[tokio::test]
async fn field_names_referred_to_by_id_past_the_budget_are_refused() {
    for packed in [false, true] {
        let answer = long_name_answer(10_000, packed);
        let size = answer.len();
        let (response, _) = read_timed(&client_answered(answer, true)).await;
        let Err(ClientError::InvalidResponse(InvalidResponse::Body(refused))) = response else {
            panic!("{size} bytes (packed: {packed}) not refused: {response:?}");
        };
        assert!(
            matches!(refused, DecodeError::NamesPastBudget(limit) if limit == 128 * size + (1 << 20)),
            "packed: {packed}: {refused}"
        );
        let within = client_answered(long_name_answer(100, packed), true);
        let (response, _) = read_timed(&within).await;
        assert_eq!(response.expect("within the budget").target(), "Ok_");
    }
}
