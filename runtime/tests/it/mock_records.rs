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

/// `{"k!": ...}` maps `levels` deep.
fn nested(levels: usize) -> Value {
    (1..levels).fold(json!({}), |inner, _| json!({ "k!": inner }))
}

/// A call nested as deep as a request may be is recorded, but listed it would take a
/// failed verification's answer past what a client reads: the failure lists the calls
/// that fit, each to the last level, rather than the server answering `ErrorUnknown_`
/// for every failed verification.
#[tokio::test]
async fn a_failed_verification_leaves_out_calls_too_deep_to_list() {
    let schema = Schema::from_text(
        r#"[{"struct.N": {"k!": "struct.N"}}, {"fn.deep": {"n": "struct.N"}, "->": [{"Ok_": {}}]}]"#,
    )
    .expect("schema loads");
    let mock = MockServer::new(schema).expect("mock builds");
    let ok = json!([{}, {"Ok_": {}}]);
    // Arguments opening 124 levels (a request's most: 126 with its list and body), 122
    // (the most a fn.verifyNoMoreInteractions_ failure lists) and 120 (fn.verify_'s).
    let call = |levels: usize| json!({"fn.deep": {"n": nested(levels - 1)}});
    for levels in [124, 122, 120] {
        assert_eq!(ask(&mock, json!([{}, call(levels)])).await, ok);
    }

    let unverified = ask(&mock, json!([{}, {"fn.verifyNoMoreInteractions_": {}}])).await;
    let listed = json!({"additionalUnverifiedCalls": [call(122), call(120)]});
    let failure = json!([{}, {"ErrorVerificationFailure": listed}]);
    assert_eq!(unverified, failure);

    let four = json!({"Exact": {"times": 4}});
    let verify = json!([{}, {"fn.verify_": {"call": {"fn.deep": {}}, "count!": four}}]);
    let reason =
        json!({"TooFewMatchingCalls": {"wanted": four, "found": 3, "allCalls": [call(120)]}});
    let failure = json!([{}, {"ErrorVerificationFailure": {"reason": reason}}]);
    assert_eq!(ask(&mock, verify).await, failure);
}
