//! What a mock keeps between calls, against its memory limit.

use serde_json::{Value, json};
use telepact::mock::{MockOptions, MockServer};
use telepact::schema::Schema;

const SCHEMA: &str = r#"[
    {"fn.find": {"id": "integer"}, "->": [{"Ok_": {"name": "string"}}]}
]"#;

async fn ask(mock: &MockServer, request: Value) -> Value {
    let bytes = mock.process(request.to_string().as_bytes()).await.bytes;
    serde_json::from_slice(&bytes).expect("answer is JSON")
}

/// A stub for `fn.find` answering `count` calls.
fn counted_stub(count: i64) -> Value {
    let stub = json!({"fn.find": {"id": 1}, "->": {"Ok_": {"name": "one"}}});
    json!([{}, {"fn.createStub_": {"stub": stub, "count!": count}}])
}

/// A stub that has answered its calls, or was given none, takes no room: a suite that
/// stubs one answer at a time never fills the mock.
#[tokio::test]
async fn a_used_up_stub_takes_no_room() {
    let schema = Schema::from_text(SCHEMA).expect("schema loads");
    let options = MockOptions::default()
        .generate_responses(false)
        .memory_limit(16 * 1024);
    let mock = MockServer::with_options(schema, options).expect("mock builds");
    let ok = json!([{}, {"Ok_": {}}]);
    let call = json!([{}, {"fn.find": {"id": 1}}]);
    let clear_calls = json!([{}, {"fn.clearCalls_": {}}]);
    for round in 0..200 {
        assert_eq!(ask(&mock, counted_stub(0)).await, ok, "round {round}");
        assert_eq!(ask(&mock, counted_stub(1)).await, ok, "round {round}");
        let answered = json!([{}, {"Ok_": {"name": "one"}}]);
        assert_eq!(ask(&mock, call.clone()).await, answered, "round {round}");
        let unmatched = json!([{}, {"ErrorNoMatchingStub_": {}}]);
        assert_eq!(ask(&mock, call.clone()).await, unmatched, "round {round}");
        assert_eq!(ask(&mock, clear_calls.clone()).await, ok, "round {round}");
    }
}
