//! Hostile input never panics and always yields a well-formed response message.

use proptest::prelude::*;
use serde_json::{Value, json};
use telepact::schema::Schema;
use telepact::{FunctionRouter, HandlerError, Message, Server};

const SCHEMA: &str = r#"[
  {"struct.Item": {"id": "integer", "name!": "string", "tags!": ["string"], "next!": "struct.Item?", "price!": "number"}},
  {"union.Shape": [{"Circle": {"r": "number"}}, {"Square": {"side": "number"}}]},
  {"fn.echo": {"items": ["struct.Item"], "shape!": "union.Shape", "blob!": "bytes", "any!": "any"},
   "->": [{"Ok_": {"items": ["struct.Item"]}}]}
]"#;

fn server() -> Server {
    let schema = Schema::from_text(SCHEMA).expect("schema loads");
    let router = FunctionRouter::new().route("fn.echo", |request: Message| async move {
        let items = request
            .payload()
            .and_then(|p| p.get("items"))
            .cloned()
            .unwrap_or(json!([]));
        let mut payload = serde_json::Map::new();
        payload.insert("items".to_string(), items);
        Ok::<_, HandlerError>(Message::new(Default::default(), "Ok_", payload))
    });
    Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime starts")
}

/// Processes `bytes` and returns the response's result tag.
fn result_tag(server: &Server, runtime: &tokio::runtime::Runtime, bytes: &[u8]) -> String {
    let response = runtime.block_on(server.process(bytes));
    let value: Value = serde_json::from_slice(&response.bytes).expect("response is JSON");
    let body = value
        .get(1)
        .and_then(Value::as_object)
        .expect("response has a body");
    assert_eq!(body.len(), 1, "response body has one entry: {value}");
    body.keys().next().cloned().unwrap_or_default()
}

#[test]
fn empty_body_is_a_parse_failure() {
    let (server, rt) = (server(), runtime());
    assert_eq!(result_tag(&server, &rt, b""), "ErrorParseFailure_");
}

#[test]
fn invalid_utf8_is_a_parse_failure() {
    let (server, rt) = (server(), runtime());
    let bytes = b"[{}, {\"fn.echo\": {\"items\": [{\"id\": 1, \"name!\": \"\xff\xfe\"}]}}]";
    assert_eq!(result_tag(&server, &rt, bytes), "ErrorParseFailure_");
}

#[test]
fn deep_nesting_is_a_parse_failure_not_a_stack_overflow() {
    let (server, rt) = (server(), runtime());
    let depth = 100_000;
    let mut bytes = b"[{}, {\"fn.echo\": {\"any!\": ".to_vec();
    bytes.extend(std::iter::repeat_n(b'[', depth));
    bytes.extend(std::iter::repeat_n(b']', depth));
    bytes.extend(b", \"items\": []}}]");
    assert_eq!(result_tag(&server, &rt, &bytes), "ErrorParseFailure_");
}

#[test]
fn deep_recursive_struct_validates() {
    let (server, rt) = (server(), runtime());
    let mut item = json!({"id": 0});
    for id in 1..100 {
        item = json!({"id": id, "next!": item});
    }
    let bytes = serde_json::to_vec(&json!([{}, {"fn.echo": {"items": [item]}}])).unwrap();
    assert_eq!(result_tag(&server, &rt, &bytes), "Ok_");
}

#[test]
fn huge_numbers_are_out_of_range_not_panics() {
    let (server, rt) = (server(), runtime());
    for number in [
        "1e400",
        "-1e400",
        "123456789012345678901234567890",
        "-123456789012345678901234567890",
        "18446744073709551616",
        "9223372036854775808",
    ] {
        let text = format!(r#"[{{}}, {{"fn.echo": {{"items": [{{"id": {number}}}]}}}}]"#);
        let tag = result_tag(&server, &rt, text.as_bytes());
        assert!(
            tag == "ErrorInvalidRequestBody_" || tag == "ErrorParseFailure_",
            "{number}: {tag}"
        );
    }
}

#[test]
fn integer_literals_past_64_bits_are_out_of_range_for_an_integer_field() {
    let (server, rt) = (server(), runtime());
    for number in [
        "123456789012345678901234567890",
        "-123456789012345678901234567890",
        "18446744073709551616",
        "9223372036854775808",
        "-9223372036854775809",
    ] {
        let text = format!(r#"[{{}}, {{"fn.echo": {{"items": [{{"id": {number}}}]}}}}]"#);
        let response = rt.block_on(server.process(text.as_bytes()));
        let value: Value = serde_json::from_slice(&response.bytes).expect("response is JSON");
        assert_eq!(
            value[1]["ErrorInvalidRequestBody_"]["cases"],
            json!([{"path": ["fn.echo", "items", 0, "id"], "reason": {"NumberOutOfRange": {}}}]),
            "{number}"
        );
    }
}

#[test]
fn oversized_body_is_processed_without_panic() {
    let (server, rt) = (server(), runtime());
    let items: Vec<Value> = (0..50_000)
        .map(|id| json!({"id": id, "name!": "x"}))
        .collect();
    let bytes = serde_json::to_vec(&json!([{}, {"fn.echo": {"items": items}}])).unwrap();
    assert!(bytes.len() > 1024 * 1024);
    assert_eq!(result_tag(&server, &rt, &bytes), "Ok_");
}

#[test]
fn panicking_handler_answers_error_unknown() {
    let schema = Schema::from_text(SCHEMA).expect("schema loads");
    let router = FunctionRouter::new().route("fn.echo", |_request: Message| async move {
        if true {
            panic!("handler bug");
        }
        Ok::<_, HandlerError>(Message::default())
    });
    let server = Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds");
    let rt = runtime();
    let tag = result_tag(&server, &rt, br#"[{}, {"fn.echo": {"items": []}}]"#);
    assert_eq!(tag, "ErrorUnknown_");
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z@!._]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z@!._]{0,8}|items|id|fn.echo|@select_", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn floats_round_trip_exactly(price in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let (server, rt) = (server(), runtime());
        let request = json!([{}, {"fn.echo": {"items": [{"id": 1, "price!": price}]}}]);
        let response = rt.block_on(server.process(&serde_json::to_vec(&request).unwrap()));
        let value: Value = serde_json::from_slice(&response.bytes).unwrap();
        let echoed = value.pointer("/1/Ok_/items/0/price!").and_then(Value::as_f64);
        prop_assert_eq!(echoed.map(f64::to_bits), Some(price.to_bits()));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let (server, rt) = (server(), runtime());
        result_tag(&server, &rt, &bytes);
    }

    #[test]
    fn random_messages_never_panic(headers in arbitrary_json(), payload in arbitrary_json()) {
        let (server, rt) = (server(), runtime());
        let headers = match headers { Value::Object(map) => Value::Object(map), _ => json!({}) };
        let message = json!([headers, {"fn.echo": payload}]);
        result_tag(&server, &rt, &serde_json::to_vec(&message).unwrap());
    }
}
