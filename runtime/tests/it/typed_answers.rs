//! Answers the server writes as JSON while checking them against the schema: a typed
//! answer ([`Message::typed`]) and the same answer given as JSON values are sent alike,
//! valid or not, selected or not; and what is sent is the answer itself exactly when
//! the public validator ([`ValueValidator`]) accepts it. Values are the protocol's
//! random values of the conformance example's `struct.Value` (every type permutation),
//! some with one place changed to a value of another type.

use std::sync::{Arc, Mutex, OnceLock};

use proptest::prelude::*;
use serde_json::{Value, json};
use telepact::binary::BinaryEncoding;
use telepact::random::{GenerateOptions, RandomGenerator};
use telepact::schema::{Schema, TypeExpr, TypeKind, TypeName};
use telepact::{FunctionRouter, HandlerError, Headers, Message, Server, ValueValidator};

use crate::vectors::conformance_dir;

/// Values put in place of another: of every JSON type, and the numbers at the edges of
/// the protocol's range.
pub(crate) const LEAVES: [&str; 12] = [
    "null",
    "true",
    "7",
    "-2.5",
    "9223372036854775808",
    "-9223372036854775808.0",
    "1e20",
    "\"text\"",
    "\"YWJj\"",
    "[]",
    "{}",
    "{\"One\": {}}",
];

/// The answer both servers give next, as JSON values.
type Answer = Arc<Mutex<Value>>;

struct Servers {
    schema: Schema,
    validator: ValueValidator,
    answer: Answer,
    typed: Server,
    values: Server,
}

/// The example schema's servers (once per test binary), or `None` after a skip.
fn servers() -> Option<&'static Servers> {
    static SERVERS: OnceLock<Option<Servers>> = OnceLock::new();
    SERVERS
        .get_or_init(|| {
            let dir = conformance_dir()?;
            Some(Servers::new(|| {
                Schema::from_dir(dir.join("schemas/example")).expect("loads")
            }))
        })
        .as_ref()
}

/// Servers of the example schema without its `bytes` fields, whose `Ok_` answers a
/// typed handler's server writes straight to MessagePack for a binary client.
fn servers_without_bytes() -> Option<&'static Servers> {
    static SERVERS: OnceLock<Option<Servers>> = OnceLock::new();
    SERVERS
        .get_or_init(|| {
            let text = example_schema_without(&["bytes"])?;
            Some(Servers::new(|| Schema::from_text(&text).expect("loads")))
        })
        .as_ref()
}

/// The conformance example schema's text without the fields of `struct.Value` whose
/// type mentions one of `types`, or `None` after a skip.
pub(crate) fn example_schema_without(types: &[&str]) -> Option<String> {
    let file = conformance_dir()?.join("schemas/example/example.telepact.json");
    let text = std::fs::read_to_string(file).expect("the example schema reads");
    let mut definitions: Value = serde_json::from_str(&text).expect("JSON");
    for definition in definitions.as_array_mut().expect("a list") {
        if let Some(Value::Object(fields)) = definition.get_mut("struct.Value") {
            fields.retain(|_, ty| {
                let ty = ty.to_string();
                !types.iter().any(|left_out| ty.contains(left_out))
            });
        }
    }
    Some(definitions.to_string())
}

impl Servers {
    fn new(load: impl Fn() -> Schema) -> Self {
        let answer = Answer::default();
        Servers {
            schema: load(),
            validator: ValueValidator::new(load()),
            typed: server(load(), Arc::clone(&answer), true),
            values: server(load(), Arc::clone(&answer), false),
            answer,
        }
    }
}

fn server(schema: Schema, answer: Answer, typed: bool) -> Server {
    let router = FunctionRouter::new().route("fn.test", move |request: Message| {
        let body = answer.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mark = request.headers.contains_key("@mark");
        async move {
            let mut message = match body {
                Value::Object(body) if !typed => Message::from_body(Headers::new(), body),
                body => Message::typed(Headers::new(), body),
            };
            if mark {
                message.mark_bytes();
            }
            Ok::<_, HandlerError>(message)
        }
    });
    Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("the example server builds")
}

/// A random `struct.Value` from `seed`.
fn random_value(schema: &Schema, seed: i32) -> Value {
    let Some(TypeName::Struct(id)) = schema.names().get("struct.Value") else {
        panic!("the example schema has struct.Value");
    };
    let ty = TypeExpr {
        kind: TypeKind::Struct(*id),
        nullable: false,
    };
    let mut random = RandomGenerator::new(0, 3);
    random.set_seed(seed.into());
    let mut value = random.generate(schema, &ty, &GenerateOptions::default());
    // Random `_ext.Select_` values are drawn for another function than `fn.test`,
    // so they would make every answer invalid.
    if let Value::Object(fields) = &mut value {
        fields.retain(|key, _| !key.to_lowercase().contains("sel"));
    }
    value
}

/// A random `struct.Value` from `seed` with `changes`: at each place (an index into
/// the value's places at that point), the `LEAVES` entry of that index.
pub(crate) fn changed_random_value(
    schema: &Schema,
    seed: i32,
    changes: &[(prop::sample::Index, usize)],
) -> Value {
    let mut value = random_value(schema, seed);
    for (place, leaf) in changes {
        let mut all = Vec::new();
        places(&value, &mut Vec::new(), &mut all);
        if !all.is_empty() {
            let leaf = serde_json::from_str(LEAVES[*leaf]).expect("a JSON leaf");
            replace(&mut value, &all[place.index(all.len())], leaf);
        }
    }
    value
}

/// Every place in `value`: object entries and array items, depth first.
pub(crate) fn places(value: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    let children: Vec<(Step, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (Step::Key(k.clone()), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Step::Index(i), v))
            .collect(),
        _ => Vec::new(),
    };
    for (step, child) in children {
        path.push(step);
        out.push(path.clone());
        places(child, path, out);
        path.pop();
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

fn replace(value: &mut Value, path: &[Step], leaf: Value) {
    let mut at = value;
    for step in path {
        at = match step {
            Step::Key(key) => &mut at[key.as_str()],
            Step::Index(i) => &mut at[*i],
        };
    }
    *at = leaf;
}

fn request(select: bool, mark: bool, unsafe_: bool) -> Vec<u8> {
    request_with(select, mark, unsafe_, Headers::new())
}

fn request_with(select: bool, mark: bool, unsafe_: bool, mut headers: Headers) -> Vec<u8> {
    if select {
        headers.insert(
            "@select_",
            json!({"struct.Value": ["bool!", "str!", "arrInt!", "struct!", "union!"]}),
        );
    }
    if mark {
        headers.insert("@mark", json!(true));
    }
    if unsafe_ {
        headers.insert("@unsafe_", json!(true));
    }
    serde_json::to_vec(&json!([headers, {"fn.test": {}}])).expect("a request")
}

fn answers(servers: &Servers, body: Value, request: &[u8]) -> (Vec<u8>, Vec<u8>) {
    *servers.answer.lock().unwrap_or_else(|e| e.into_inner()) = body;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let typed = servers.typed.process(request).await.bytes;
        let values = servers.values.process(request).await.bytes;
        (typed, values)
    })
}

impl Servers {
    /// The answer body for `seed` with `changes` (places and `LEAVES` indexes): an
    /// `Ok_` holding the value, or an error tag's; and whether the validator accepts it.
    fn answer_body(
        &self,
        seed: i32,
        changes: &[(prop::sample::Index, usize)],
        tag_error: bool,
    ) -> (Value, bool) {
        let value = changed_random_value(&self.schema, seed, changes);
        let body = if tag_error {
            json!({"ErrorExample": {"property": value}})
        } else {
            json!({"Ok_": {"value!": value}})
        };
        let valid = self
            .validator
            .validate("fn.test.->", &body)
            .expect("fn.test has a result")
            .is_empty();
        (body, valid)
    }
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_typed_answer_is_sent_as_its_values_would_be(
        seed in any::<i32>(),
        changes in prop::collection::vec((any::<prop::sample::Index>(), 0..LEAVES.len()), 0..4),
        tag_error in any::<bool>(),
        select in any::<bool>(),
        mark in any::<bool>(),
        unsafe_ in any::<bool>(),
    ) {
        let Some(servers) = servers() else { return Ok(()) };
        let (body, valid) = servers.answer_body(seed, &changes, tag_error);
        let sent = text(&serde_json::to_vec(&json!([{}, body])).expect("JSON"));
        let (typed, values) = answers(servers, body, &request(select, mark, unsafe_));
        prop_assert_eq!(text(&typed), text(&values));
        if !select && !mark {
            if valid || unsafe_ {
                prop_assert_eq!(text(&typed), sent);
            } else {
                prop_assert!(text(&typed).contains("ErrorInvalidResponseBody_"));
            }
        }
        if changes.is_empty() && !tag_error {
            prop_assert!(text(&typed).contains(r#"{"Ok_":"#), "{}", text(&typed));
        }
    }

    #[test]
    fn a_typed_binary_answer_is_sent_as_its_values_would_be(
        seed in any::<i32>(),
        changes in prop::collection::vec((any::<prop::sample::Index>(), 0..LEAVES.len()), 0..3),
        tag_error in any::<bool>(),
        select in any::<bool>(),
        packed in any::<bool>(),
        knows_encoding in any::<bool>(),
        unsafe_ in any::<bool>(),
    ) {
        let Some(servers) = servers_without_bytes() else { return Ok(()) };
        let (body, valid) = servers.answer_body(seed, &changes, tag_error);
        let mut headers = Headers::new();
        let checksum = BinaryEncoding::new(&servers.schema).checksum();
        let known = if knows_encoding { json!([checksum]) } else { json!([]) };
        headers.insert("@bin_", known);
        if packed {
            headers.insert("@pac_", json!(true));
        }
        let request = request_with(select, false, unsafe_, headers);
        let (typed, values) = answers(servers, body, &request);
        prop_assert_eq!(&typed, &values, "{} / {}", text(&typed), text(&values));
        let binary = typed.first() == Some(&0x92);
        prop_assert_eq!(binary, !tag_error && (valid || unsafe_), "{}", text(&typed));
    }
}

/// A typed answer holding NaN or an infinity is the handler's failure (`ErrorUnknown_`),
/// in JSON and in binary: `serde_json` would write the float as `null`, which a
/// nullable field would take as the answer.
#[test]
fn a_typed_answer_holding_nan_or_an_infinity_is_an_unknown_error() {
    #[derive(serde::Serialize)]
    enum Answer {
        #[serde(rename = "Ok_")]
        Ok { price: Option<f64> },
    }
    const SCHEMA: &str = r#"[{"fn.price": {}, "->": [{"Ok_": {"price": "number?"}}]}]"#;
    let schema = || Schema::from_text(SCHEMA).expect("schema loads");
    for price in [Some(f64::NAN), Some(f64::INFINITY), None, Some(2.5)] {
        let router = FunctionRouter::new().route("fn.price", move |_: Message| async move {
            Ok::<_, HandlerError>(Message::typed(Headers::new(), Answer::Ok { price }))
        });
        let server = Server::builder(schema(), router)
            .auth_required(false)
            .build()
            .expect("builds");
        let binary = telepact::binary::ServerBinary::new(schema());
        let checksum = binary.checksum();
        let requests = [
            json!([{}, {"fn.price": {}}]),
            json!([{"@bin_": [checksum]}, {"fn.price": {}}]),
        ];
        let rt = crate::robustness::runtime();
        for request in requests {
            let request = serde_json::to_vec(&request).expect("JSON");
            let answer = rt.block_on(server.process(&request)).bytes;
            let answer = match telepact::binary::is_msgpack(&answer) {
                true => binary.decode_request(&answer).expect("reads").to_json(),
                false => serde_json::from_slice::<Value>(&answer).expect("JSON"),
            };
            let answer = &answer[1];
            let tag = answer.as_object().and_then(|a| a.keys().next()).cloned();
            match price {
                Some(price) if !price.is_finite() => {
                    assert_eq!(tag.as_deref(), Some("ErrorUnknown_"), "{answer}")
                }
                _ => assert_eq!(answer, &json!({"Ok_": {"price": price}})),
            }
        }
    }
}
