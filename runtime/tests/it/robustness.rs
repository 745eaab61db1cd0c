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

/// A current-thread runtime for driving `process` from a plain test.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
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

/// The recursive schema of the `fn.api_` denial-of-service report: an optional
/// recursive array and an optional recursive union.
const RECURSIVE_SCHEMA: &str = r#"
- struct.Tree:
    id: "integer"
    children!: ["struct.Tree"]
- union.Harvest:
    - Empty: {}
    - Nested:
        inner!: "union.Harvest"
- fn.inspect:
    id: "integer"
  ->:
    - Ok_:
        tree!: "struct.Tree"
        harvest: "union.Harvest"
"#;

/// Answers must stay this small and parse with serde_json's default recursion limit.
const EXAMPLES_SIZE_LIMIT: usize = 64 * 1024;

fn no_handler_server(schema: Schema) -> Server {
    Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .build()
        .expect("server builds")
}

/// Asks for `fn.api_` with examples (and internal definitions) and checks the answer is
/// small, parseable with serde_json's default limits, and an `Ok_`.
fn api_examples(server: &Server, rt: &tokio::runtime::Runtime, headers: &str) -> Value {
    let request = format!(
        r#"[{headers}, {{"fn.api_": {{"includeExamples!": true, "includeInternal!": true}}}}]"#
    );
    let response = rt.block_on(server.process(request.as_bytes()));
    assert!(
        response.bytes.len() < EXAMPLES_SIZE_LIMIT,
        "answer of {} bytes",
        response.bytes.len()
    );
    let value: Value = serde_json::from_slice(&response.bytes).expect("answer parses");
    assert!(value.pointer("/1/Ok_/api").is_some(), "{value}");
    value
}

/// Every `example` of a struct or union definition is a valid value of it.
fn assert_examples_validate(schema: &Schema, answer: &Value) {
    let validator = telepact::ValueValidator::new(schema.clone());
    let definitions = answer.pointer("/1/Ok_/api").and_then(Value::as_array);
    for definition in definitions.into_iter().flatten() {
        let Some(map) = definition.as_object() else {
            continue;
        };
        let Some(name) = map
            .keys()
            .find(|k| k.starts_with("struct.") || k.starts_with("union."))
        else {
            continue;
        };
        let example = &map["example"];
        let failures = validator.validate(name, example).expect("type is known");
        assert!(failures.is_empty(), "{name}: {example} fails {failures:?}");
    }
}

#[test]
fn api_examples_of_recursive_types_end_small() {
    let rt = runtime();
    let schema = Schema::from_text(RECURSIVE_SCHEMA).expect("schema loads");
    let server = no_handler_server(schema.clone());
    let answer = api_examples(&server, &rt, "{}");
    assert_examples_validate(&schema, &answer);
    let tree = answer
        .pointer("/1/Ok_/api")
        .and_then(Value::as_array)
        .and_then(|defs| {
            defs.iter()
                .find_map(|d| d.get("struct.Tree").and(d.get("example")))
        })
        .expect("struct.Tree has an example");
    assert!(
        tree.get("children!").is_some(),
        "the first levels stay generous: {tree}"
    );
}

#[test]
fn api_examples_of_the_fuzz_schema_parse_with_default_limits() {
    // Once nested 135 levels deep, past serde_json's recursion limit of 128.
    let rt = runtime();
    let schema = Schema::from_text(SCHEMA).expect("schema loads");
    let server = no_handler_server(schema.clone());
    let answer = api_examples(&server, &rt, r#"{"@unsafe_": true, "@id#": [0]}"#);
    assert_examples_validate(&schema, &answer);
}

#[test]
fn the_value_limit_holds_across_every_example_of_an_answer() {
    // Found by the proptest below: each example within 2,000 values, all of them
    // together past 64 KB, while the limit counted per example.
    let text = json!([
        {"struct.S0": {"f2!": "struct.S1", "f3!": {"string": "struct.S0"}, "f0!": {"string": "struct.S0"}}},
        {"struct.S1": {"f0": {"string": "union.U0"}, "f1!": "struct.S1"}},
        {"union.U0": [
            {"A": {"f0": "struct.S0", "f1": ["union.U0"]}},
            {"B": {"f2": {"string": "integer"}, "f0": "union.U0"}},
            {"Leaf": {}}
        ]},
        {"fn.call": {"arg!": "struct.S0"}, "->": [{"Ok_": {"out!": "union.U0"}}]}
    ])
    .to_string();
    let schema = Schema::from_text(&text).expect("schema loads");
    let answer = api_examples(&no_handler_server(schema.clone()), &runtime(), "{}");
    assert_examples_validate(&schema, &answer);
}

#[test]
fn examples_are_computed_once_and_answered_the_same() {
    let rt = runtime();
    let server = no_handler_server(Schema::from_text(RECURSIVE_SCHEMA).expect("schema loads"));
    let first = api_examples(&server, &rt, "{}");
    let second = api_examples(&server, &rt, "{}");
    assert_eq!(first, second);
}

#[test]
fn a_tighter_budget_makes_smaller_examples() {
    let rt = runtime();
    let schema = Schema::from_text(RECURSIVE_SCHEMA).expect("schema loads");
    let size = |limits: telepact::GenerationLimits| {
        let server = Server::builder(schema.clone(), FunctionRouter::new())
            .auth_required(false)
            .generation_limits(limits)
            .build()
            .expect("server builds");
        api_examples(&server, &rt, "{}").to_string().len()
    };
    let generous = size(telepact::GenerationLimits::default());
    let tight = size(
        telepact::GenerationLimits::default()
            .max_recursion(0)
            .max_values(0),
    );
    assert!(tight < generous, "{tight} < {generous}");
}

/// A schema of `structs` structs and `unions` unions whose fields point at random
/// definitions through every kind of wrapper: optional, nullable, array, object.
fn recursive_schema() -> impl Strategy<Value = String> {
    let reference = (0..4usize, 0..6usize, 0..4usize).prop_map(|(target, wrapper, key)| {
        let name = match target {
            0 | 1 => format!("struct.S{target}"),
            2 => "union.U0".to_string(),
            _ => "integer".to_string(),
        };
        let ty = match wrapper {
            0 => json!(name),
            1 => json!(format!("{name}?")),
            2 | 3 => json!([name]),
            _ => json!({ "string": name }),
        };
        (format!("f{key}"), ty)
    });
    let fields = prop::collection::vec((reference, any::<bool>()), 0..4).prop_map(|fields| {
        let mut map = serde_json::Map::new();
        for ((key, ty), optional) in fields {
            let key = if optional { format!("{key}!") } else { key };
            map.insert(key, ty);
        }
        Value::Object(map)
    });
    (fields.clone(), fields.clone(), fields.clone(), fields).prop_map(|(s0, s1, a, b)| {
        json!([
            {"struct.S0": s0},
            {"struct.S1": s1},
            {"union.U0": [{"A": a}, {"B": b}, {"Leaf": {}}]},
            {"fn.call": {"arg!": "struct.S0"}, "->": [{"Ok_": {"out!": "union.U0"}}]}
        ])
        .to_string()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn example_generation_ends_within_budget_for_random_recursive_schemas(text in recursive_schema()) {
        // Schemas whose required fields recurse without end are refused by the loader.
        let Ok(schema) = Schema::from_text(&text) else { return Ok(()); };
        let rt = runtime();
        let answer = api_examples(&no_handler_server(schema.clone()), &rt, "{}");
        assert_examples_validate(&schema, &answer);
    }
}

/// Every kind of type a field can have, in a mock schema (which knows `_ext.Call_` and
/// `_ext.Stub_`).
const FIELD_TYPES: &[&str] = &[
    "struct.S0",
    "struct.S1",
    "union.U0",
    "fn.call",
    "boolean",
    "integer",
    "number",
    "string",
    "bytes",
    "any",
    "_ext.Select_",
    "_ext.Call_",
    "_ext.Stub_",
];

/// Like [`recursive_schema`], with fields of every type.
fn every_type_schema() -> impl Strategy<Value = String> {
    let reference =
        (0..FIELD_TYPES.len(), 0..6usize, 0..5usize).prop_map(|(target, wrapper, key)| {
            let name = FIELD_TYPES[target];
            let ty = match wrapper {
                0 | 1 => json!(name),
                2 => json!(format!("{name}?")),
                3 => json!([name]),
                4 => json!([format!("{name}?")]),
                _ => json!({ "string": name }),
            };
            (format!("f{key}"), ty)
        });
    let fields = prop::collection::vec((reference, any::<bool>()), 0..5).prop_map(|fields| {
        let mut map = serde_json::Map::new();
        for ((key, ty), optional) in fields {
            let key = if optional { format!("{key}!") } else { key };
            map.insert(key, ty);
        }
        Value::Object(map)
    });
    (
        fields.clone(),
        fields.clone(),
        fields.clone(),
        fields.clone(),
        fields,
    )
        .prop_map(|(s0, s1, a, b, args)| {
            json!([
                {"struct.S0": s0},
                {"struct.S1": s1},
                {"union.U0": [{"A": a}, {"B": b}, {"Leaf": {}}]},
                {"fn.call": args, "->": [{"Ok_": {"out!": "union.U0", "s!": "struct.S1"}}]}
            ])
            .to_string()
        })
}

/// Generation options: every field required, optional ones as drawn, limits from
/// generous to none at all.
fn generate_options() -> impl Strategy<Value = (telepact::random::GenerateOptions, u32, u32)> {
    (
        any::<bool>(),
        any::<bool>(),
        0..4usize,
        0..300usize,
        0..3u32,
        0..4u32,
    )
        .prop_map(
            |(include, randomize, max_recursion, max_values, min, spread)| {
                let options = telepact::random::GenerateOptions::default()
                    .include_optional_fields(include)
                    .randomize_optional_fields(randomize)
                    .always_include_required_fields(true)
                    .limits(
                        telepact::GenerationLimits::default()
                            .max_recursion(max_recursion)
                            .max_values(max_values),
                    );
                (options, min, min + spread)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// The validator is the judge: every generated struct, union, function argument,
    /// call and stub of a random schema is valid.
    #[test]
    fn generated_values_validate_against_their_schema(
        text in prop_oneof![every_type_schema(), recursive_schema()],
        seed in any::<i32>(),
        (options, min, max) in generate_options(),
    ) {
        use telepact::random::{PreparedSchema, RandomGenerator};
        use telepact::schema::{TypeExpr, TypeKind, TypeName};

        // Schemas whose required fields recurse without end are refused by the loader.
        let Ok(schema) = Schema::mock_from_documents([("auto_", text.as_str())]) else {
            return Ok(());
        };
        let validator = telepact::ValueValidator::new(schema.clone());
        let prepared = PreparedSchema::new(&schema);
        let mut random = RandomGenerator::new(min, max);
        random.set_seed(i64::from(seed));
        for (name, meaning) in schema.names() {
            let kind = match meaning {
                TypeName::Struct(id) => TypeKind::Struct(*id),
                TypeName::Union(id) => TypeKind::Union(*id),
                // A selection in another function's arguments is checked against
                // that function's result: only the user's function selects from its own.
                TypeName::Function(_) if name.ends_with('_') => continue,
                TypeName::Function(id) => TypeKind::FunctionLink(*id),
                TypeName::MockCall => TypeKind::MockCall,
                TypeName::MockStub => TypeKind::MockStub,
                TypeName::Select => continue,
            };
            let is_function = matches!(kind, TypeKind::FunctionLink(_));
            let ty = TypeExpr { kind, nullable: false };
            let value = random.generate_from(&prepared, &ty, &options);
            // `fn.x` names the argument object; the generated value is the `{"fn.x": ..}` link.
            let checked = if is_function { &value[name.as_str()] } else { &value };
            let failures = validator.validate(name, checked).expect("type is known");
            prop_assert!(failures.is_empty(), "{name}: {value} fails {failures:?}\nschema {text}");
        }
    }
}

/// `fn.echo`'s request with its lists and objects nested `depth` deep in all, from the
/// frame down: lists in `any!`, or items in items' `next!`, which packing turns into
/// rows.
fn nested_requests(depth: usize) -> [Value; 2] {
    let mut any = json!([]);
    for _ in 4..depth {
        any = json!([any]);
    }
    let mut item = json!({"id": 0});
    for id in 5..depth {
        item = json!({"id": id, "next!": item});
    }
    [
        json!([{}, {"fn.echo": {"items": [], "any!": any}}]),
        json!([{}, {"fn.echo": {"items": [item]}}]),
    ]
}

#[test]
fn a_message_nests_as_deep_in_binary_as_in_json() {
    use telepact::binary::{ServerBinary, encode_request, is_msgpack};
    let (server, rt) = (server(), runtime());
    let binary = ServerBinary::new(Schema::from_text(SCHEMA).expect("schema loads"));
    for depth in [100, 126, 127, 128, 129, 400, 600] {
        for request in nested_requests(depth) {
            let text = serde_json::to_vec(&request).unwrap();
            let json_answer: Value =
                serde_json::from_slice(&rt.block_on(server.process(&text)).bytes).unwrap();
            let accepted = json_answer[1].get("Ok_").is_some();
            assert_eq!(accepted, depth <= 127, "depth {depth}: {json_answer}");
            for packed in [false, true] {
                let mut headers = serde_json::Map::new();
                headers.insert("@bin_".into(), json!([binary.checksum()]));
                headers.insert("@pac_".into(), json!(packed));
                let body = request[1].as_object().unwrap().clone();
                let message = Message::from_body(headers.into(), body);
                let bytes = encode_request(&message, binary.encoding(), packed).unwrap();
                let answer = rt.block_on(server.process(&bytes)).bytes;
                // A request refused before its encoding is known is answered in JSON.
                let answer = match is_msgpack(&answer) {
                    true => binary.decode_request(&answer).unwrap().to_json(),
                    false => serde_json::from_slice(&answer).unwrap(),
                };
                assert_eq!(answer[1], json_answer[1], "depth {depth}, packed {packed}");
            }
        }
    }
}

#[test]
fn a_deeply_nested_map_key_is_a_parse_failure_not_a_stack_overflow() {
    let (server, rt) = (server(), runtime());
    for depth in [100, 1_000, 100_000] {
        // [{[[..nil..]]: nil}, {}]: a header whose key is a list, nested `depth` deep.
        let mut bytes = vec![0x92, 0x81];
        bytes.extend(std::iter::repeat_n(0x91, depth));
        bytes.extend([0xc0, 0xc0, 0x80]);
        assert_eq!(
            result_tag(&server, &rt, &bytes),
            "ErrorParseFailure_",
            "depth {depth}"
        );
    }
}
