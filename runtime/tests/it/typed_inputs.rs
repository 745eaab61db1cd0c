//! Requests to a typed route, whose input the server reads straight from the request's
//! MessagePack or JSON text while checking it against the schema: a typed route's
//! server answers every request, valid or not, exactly as a server of JSON values does;
//! and it reads the input that way exactly when the request is valid. Requests hold the
//! protocol's random values of the conformance example's `struct.Value`, some with a
//! place changed to a value of another type or an unknown key added.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};
use telepact::binary::{BinaryEncoding, encode_request};
use telepact::schema::Schema;
use telepact::typed::__codegen::{Context, Route, route};
use telepact::typed::FunctionInput;
use telepact::{FunctionRouter, HandlerError, Headers, Message, Server};

use crate::typed_answers::{
    LEAVES, Step, changed_random_value, example_schema_without, places, text,
};

thread_local! {
    /// How the last `TestInput` was read: checked as it was read from the request, or
    /// from values.
    static READ_CHECKED: Cell<Option<bool>> = const { Cell::new(None) };
    /// How the input the handler was last given had been read.
    static SERVED_CHECKED: Cell<Option<bool>> = const { Cell::new(None) };
    /// The headers and body the last request hook saw, as JSON text (key order and
    /// number forms included).
    static OBSERVED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Notes the headers and body a request hook sees.
fn observe(request: &Message) -> Result<(), HandlerError> {
    let body = serde_json::to_string(&(&request.headers, request.body()))?;
    OBSERVED.with(|observed| *observed.borrow_mut() = Some(body));
    Ok(())
}

fn observed() -> Option<String> {
    OBSERVED.with(|observed| observed.borrow_mut().take())
}

/// The arguments of `fn.test` as JSON values, read the way a typed route reads its
/// input; it notes whether it was read by the checking reader.
#[derive(Serialize)]
struct TestInput(Map<String, Value>);

impl<'de> Deserialize<'de> for TestInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The checking readers: around `serde_json`'s deserializer, and MessagePack's.
        let name = std::any::type_name::<D>();
        let checked = name.contains("CheckedDe") || name.contains("CheckedPack");
        let input = Map::deserialize(deserializer)?;
        READ_CHECKED.with(|read| read.set(Some(checked)));
        Ok(TestInput(input))
    }
}

impl FunctionInput for TestInput {
    const NAME: &'static str = "fn.test";
    const RESULT_TAGS: &'static [&'static str] = &["Ok_", "ErrorExample"];
    type Output = Value;
}

impl Route<(), IgnoredAny, ()> for TestInput {
    async fn serve(
        _handler: &(),
        input: Self,
        _context: &mut Context<IgnoredAny, ()>,
    ) -> Result<Value, HandlerError> {
        SERVED_CHECKED.with(|served| served.set(READ_CHECKED.with(Cell::get)));
        Ok(json!({"Ok_": input.0}))
    }
}

struct Servers {
    schema: Schema,
    typed: Server,
    values: Server,
}

/// Servers of the example schema without its `bytes` and `any` fields, which the
/// typed reader leaves to the value path.
fn servers() -> Option<&'static Servers> {
    static SERVERS: OnceLock<Option<Servers>> = OnceLock::new();
    SERVERS
        .get_or_init(|| Some(Servers::new(&example_schema_without(&["bytes", "any"])?)))
        .as_ref()
}

impl Servers {
    fn new(schema: &str) -> Self {
        let load = || Schema::from_text(schema).expect("loads");
        let mut typed = FunctionRouter::new();
        route::<(), TestInput, IgnoredAny, ()>(&mut typed, &Arc::new(()));
        let values = FunctionRouter::new().route("fn.test", |request: Message| async move {
            let payload = request.into_body().into_iter().next().map(|(_, p)| p);
            let payload = match payload {
                Some(Value::Object(payload)) => payload,
                _ => Map::new(),
            };
            Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
        });
        let server = |router| {
            Server::builder(load(), router)
                .auth_required(false)
                .on_request(observe)
                .build()
                .expect("the example server builds")
        };
        Servers {
            schema: load(),
            typed: server(typed),
            values: server(values),
        }
    }

    /// Both servers' answers to `request`, and whether the typed route's input was read
    /// checked from the request (`None`: the typed route was not called). Checks that
    /// both servers' request hooks saw the same body.
    fn answers(&self, request: &[u8]) -> (Vec<u8>, Vec<u8>, Option<bool>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        READ_CHECKED.with(|read| read.set(None));
        SERVED_CHECKED.with(|served| served.set(None));
        runtime.block_on(async {
            observed();
            let typed = self.typed.process(request).await.bytes;
            let read = SERVED_CHECKED.with(Cell::get);
            let typed_saw = observed();
            let values = self.values.process(request).await.bytes;
            // A request hook sees the request's own values, however it was read.
            assert_eq!(typed_saw, observed(), "what a request hook sees");
            (typed, values, read)
        })
    }

    /// A request to `fn.test` with `payload`: binary, in the server's encoding, or
    /// JSON.
    fn request(&self, payload: Value, encoding: Encoding, extra_headers: bool) -> Vec<u8> {
        let mut headers = Headers::new();
        if extra_headers {
            headers.insert("@id_", json!("call-1"));
        }
        let packed = match encoding {
            Encoding::Json => {
                let request = json!([headers, {"fn.test": payload}]);
                return serde_json::to_vec(&request).expect("JSON");
            }
            Encoding::Binary => false,
            Encoding::Packed => true,
        };
        let encoding = BinaryEncoding::new(&self.schema);
        headers.insert("@bin_", json!([encoding.checksum()]));
        if packed {
            headers.insert("@pac_", json!(true));
        }
        let Value::Object(payload) = payload else {
            panic!("a payload is an object");
        };
        let message = Message::new(headers, "fn.test", payload);
        encode_request(&message, &encoding, packed).expect("the request encodes")
    }
}

#[derive(Debug, Clone, Copy)]
enum Encoding {
    Json,
    Binary,
    Packed,
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        4 => Just(Encoding::Json),
        4 => Just(Encoding::Binary),
        1 => Just(Encoding::Packed),
    ]
}

/// A random `fn.test` payload from `seed` with `changes` (places and `LEAVES` indexes),
/// and with an unknown key added to it when `unknown_key`.
fn payload(
    schema: &Schema,
    seed: i32,
    changes: &[(prop::sample::Index, usize)],
    unknown_key: Option<prop::sample::Index>,
) -> Value {
    let value = changed_random_value(schema, seed, changes);
    let mut payload = json!({"value!": value});
    if let Some(place) = unknown_key {
        let mut objects = vec![Vec::new()];
        places(&payload, &mut Vec::new(), &mut objects);
        objects.retain(|path| at(&payload, path).is_some_and(Value::is_object));
        let path = &objects[place.index(objects.len())];
        let mut target = &mut payload;
        for step in path {
            target = match step {
                Step::Key(key) => &mut target[key.as_str()],
                Step::Index(i) => &mut target[*i],
            };
        }
        if let Value::Object(map) = target {
            map.insert("unknown!".to_string(), json!(1));
        }
    }
    payload
}

fn at<'v>(value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(value, |at, step| match step {
        Step::Key(key) => at.get(key.as_str()),
        Step::Index(i) => at.get(*i),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_typed_route_answers_requests_as_a_values_server_does(
        seed in any::<i32>(),
        changes in prop::collection::vec((any::<prop::sample::Index>(), 0..LEAVES.len()), 0..3),
        unknown_key in prop::option::weighted(0.2, any::<prop::sample::Index>()),
        encoding in encoding(),
        extra_headers in any::<bool>(),
    ) {
        let Some(servers) = servers() else { return Ok(()) };
        let payload = payload(&servers.schema, seed, &changes, unknown_key);
        let request = servers.request(payload, encoding, extra_headers);
        let (typed, values, read) = servers.answers(&request);
        prop_assert_eq!(&typed, &values, "{} / {}", text(&typed), text(&values));
        let valid = match encoding {
            Encoding::Json => typed.starts_with(br#"[{"#) && text(&typed).contains(r#"{"Ok_":"#),
            Encoding::Binary | Encoding::Packed => typed.first() == Some(&0x92),
        };
        // Read checked exactly when valid (an invalid request never reaches the typed
        // route), except a packed body, which is unpacked as values first.
        let checked = !matches!(encoding, Encoding::Packed);
        prop_assert_eq!(read, valid.then_some(checked), "{}", text(&typed));
        if changes.is_empty() && unknown_key.is_none() {
            prop_assert!(valid, "{}", text(&typed));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A binary request cut short, or with one byte changed (a marker, a length, a key's
    /// id, a character), is answered by the typed route as the values server answers
    /// it: whatever the MessagePack reader of typed inputs cannot read is read again as
    /// values.
    #[test]
    fn damaged_binary_requests_are_answered_as_a_values_server_does(
        seed in any::<i32>(),
        at in any::<prop::sample::Index>(),
        byte in prop::option::weighted(0.7, any::<u8>()),
    ) {
        let Some(servers) = servers() else { return Ok(()) };
        let payload = payload(&servers.schema, seed, &[], None);
        let mut request = servers.request(payload, Encoding::Binary, false);
        let at = at.index(request.len());
        match byte {
            Some(byte) => request[at] = byte,
            None => request.truncate(at),
        }
        let (typed, values, _) = servers.answers(&request);
        prop_assert_eq!(&typed, &values, "{} / {}", text(&typed), text(&values));
    }

    /// A JSON request with one byte changed, added or taken out, or cut short, is
    /// answered by the typed route as the values server answers it: the frame around
    /// the payload is stepped over by hand before `serde_json` reads the parts, and
    /// whatever that cannot place is read again as values.
    #[test]
    fn damaged_json_requests_are_answered_as_a_values_server_does(
        seed in any::<i32>(),
        extra_headers in any::<bool>(),
        damage in json_damage(),
    ) {
        let Some(servers) = servers() else { return Ok(()) };
        let payload = payload(&servers.schema, seed, &[], None);
        let mut request = servers.request(payload, Encoding::Json, extra_headers);
        damage.apply(&mut request);
        let (typed, values, _) = servers.answers(&request);
        prop_assert_eq!(&typed, &values, "{} / {}", text(&typed), text(&values));
    }
}

/// One change to a request's bytes.
#[derive(Debug, Clone)]
pub(crate) enum Damage {
    Replace(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Remove(prop::sample::Index),
    Truncate(prop::sample::Index),
}

impl Damage {
    pub(crate) fn apply(&self, bytes: &mut Vec<u8>) {
        match *self {
            Damage::Replace(at, byte) => {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            Damage::Insert(at, byte) => bytes.insert(at.index(bytes.len() + 1), byte),
            Damage::Remove(at) => {
                bytes.remove(at.index(bytes.len()));
            }
            Damage::Truncate(at) => bytes.truncate(at.index(bytes.len())),
        }
    }
}

/// Changes to JSON text, the new bytes mostly ones JSON gives a meaning to.
pub(crate) fn json_damage() -> impl Strategy<Value = Damage> {
    let byte = prop_oneof![
        3 => prop::sample::select(br#"{}[],:" \0123456789.-+eEtrufalsn"#.to_vec()),
        1 => any::<u8>(),
    ];
    let at = any::<prop::sample::Index>;
    prop_oneof![
        3 => (at(), byte.clone()).prop_map(|(at, byte)| Damage::Replace(at, byte)),
        2 => (at(), byte).prop_map(|(at, byte)| Damage::Insert(at, byte)),
        2 => at().prop_map(Damage::Remove),
        1 => at().prop_map(Damage::Truncate),
    ]
}

/// JSON the checking reader leaves to the value path: a repeated key (whose last value
/// the value path keeps), a body of two entries. Both servers answer alike.
#[test]
fn json_a_value_would_read_differently_is_read_as_values() {
    let Some(servers) = servers() else { return };
    let base = servers.request(json!({"value!": {"bool!": true}}), Encoding::Json, false);
    let base = String::from_utf8(base).expect("UTF-8");
    let (typed, _, read) = servers.answers(base.as_bytes());
    assert_eq!(read, Some(true), "{}", text(&typed));
    let repeated = base.replace(r#"{"bool!":true}"#, r#"{"bool!":1,"bool!":true}"#);
    let repeated_valid = base.replace(r#"{"bool!":true}"#, r#"{"bool!":false,"bool!":true}"#);
    let two_entries = base.replace(r#"}}]"#, r#"},"fn.test":{}}]"#);
    for request in [repeated, repeated_valid, two_entries] {
        let (typed, values, read) = servers.answers(request.as_bytes());
        assert_eq!(text(&typed), text(&values), "{request}");
        assert_ne!(read, Some(true), "{request}: {}", text(&typed));
    }
    // A key with an escape is the key it spells.
    let escaped = base.replace(r#""bool!""#, r#""bo\u006fl!""#);
    let (typed, values, read) = servers.answers(escaped.as_bytes());
    assert_eq!(text(&typed), text(&values));
    assert_eq!(read, Some(true), "{}", text(&typed));
}

/// The JSON frame around a typed route's payload: whitespace anywhere JSON allows it is
/// read as usual; a frame that is not `[headers, {function: payload}]` is answered as
/// the values server answers it, without the typed reader.
#[test]
fn the_json_frame_around_a_checked_payload_is_json() {
    let Some(servers) = servers() else { return };
    let payload = r#"{"value!":{"bool!":true,"arrInt!":[1, 2]}}"#;
    let spaced = format!(" \n[ {{ }} ,\t{{ \"fn.test\" :\r{payload} }} ]\n ");
    let (typed, values, read) = servers.answers(spaced.as_bytes());
    assert_eq!(text(&typed), text(&values));
    assert_eq!(read, Some(true), "{}", text(&typed));
    let framed = |frame: &str| frame.replace("P", payload);

    for frame in [
        "[{},{\"fn.test\":P}]x",
        "[{},{\"fn.test\":P}",
        "[{},{\"fn.test\":P}]]",
        "[{},{\"fn.test\":P},{}]",
        "[{},{\"fn.test\":P,\"x\":1}]",
        "[{},{\"fn.test\":P P}]",
        "[{},{\"fn.test\"P}]",
        "[{}{\"fn.test\":P}]",
        "{\"fn.test\":P}",
        "[{},{\"fn.te\\u0073t\":P}]",
        "[{},{\"fn.test\":}]",
    ] {
        let request = framed(frame);
        let (typed, values, read) = servers.answers(request.as_bytes());
        assert_eq!(text(&typed), text(&values), "{request}");
        assert_ne!(read, Some(true), "{request}: {}", text(&typed));
    }
    // Headers nesting as deep as the parser reads inside the message, and one deeper
    // (read on their own, they would parse).
    for (depth, parses) in [(125, true), (126, false)] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let request = framed(&format!("[{{\"@deep\":{deep}}},{{\"fn.test\":P}}]"));
        let (typed, values, read) = servers.answers(request.as_bytes());
        assert_eq!(text(&typed), text(&values), "depth {depth}");
        assert_eq!(
            text(&typed).contains("ErrorParseFailure_"),
            !parses,
            "depth {depth}"
        );
        assert_eq!(
            read == Some(true),
            parses,
            "depth {depth}: {}",
            text(&typed)
        );
    }
}

/// A JSON value for a header: any form, strings with the characters a scanner of JSON
/// text must step over (quotes, escapes, brackets, commas), nested a little.
fn header_value() -> impl Strategy<Value = Value> {
    let text = prop::collection::vec(
        prop::sample::select(vec![
            'a', '"', '\\', '}', ']', '{', '[', ',', ':', ' ', '\u{1}', 'é', '𝄞',
        ]),
        0..6,
    )
    .prop_map(|chars| Value::String(chars.into_iter().collect()));
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        text,
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec(("[a-z\"]{0,3}", inner), 0..3)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Header names: declared ones the checked reader reads (`@in`, `@unsafe_`, `@pac_`,
/// `@bin_`), one it leaves to values (`@id_`), an undeclared one, one without the `@`.
fn header_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["@in", "@unsafe_", "@pac_", "@bin_", "@id_", "@x", "x"])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A JSON request's headers, of any names and values (a declared header's value of
    /// its type or not, names written with escapes, repeated names), are read by a typed
    /// route's server as by a values server: same answer, same headers for the hooks.
    #[test]
    fn json_headers_of_any_form_are_read_as_a_values_server_reads_them(
        headers in prop::collection::vec(
            (header_name(), prop_oneof![
                2 => header_value(),
                1 => any::<bool>().prop_map(Value::Bool),
                1 => prop::collection::vec(any::<i32>(), 0..3).prop_map(|v| json!(v)),
            ], prop::bool::weighted(0.1)),
            0..5,
        ),
    ) {
        let Some(servers) = servers() else { return Ok(()) };
        let payload = serde_json::to_string(&payload(&servers.schema, 7, &[], None))
            .expect("JSON");
        let entries: Vec<String> = headers
            .iter()
            .map(|(name, value, escaped)| {
                let name = match (*escaped, name.strip_prefix('@')) {
                    (true, Some(rest)) => format!("\"\\u0040{rest}\""),
                    _ => format!("{name:?}"),
                };
                format!("{name} : {}", serde_json::to_string(value).expect("JSON"))
            })
            .collect();
        let request = format!("[{{{}}},{{\"fn.test\":{payload}}}]", entries.join(", "));
        let (typed, values, read) = servers.answers(request.as_bytes());
        prop_assert_eq!(&typed, &values, "{} / {}", request, text(&typed));
        // A valid request is answered from the checked fast path, unless a name has an
        // escape or repeats (its earlier value, overwritten, may not have fit).
        let escaped = headers.iter().any(|(name, _, escaped)| *escaped && name.starts_with('@'));
        let names: std::collections::HashSet<_> = headers.iter().map(|(name, ..)| name).collect();
        let repeated = names.len() < headers.len();
        if text(&typed).contains(r#"{"Ok_":"#) && !escaped && !repeated {
            prop_assert_eq!(read, Some(true), "{}", request);
        }
    }

    /// A JSON request with headers, cut short or with one byte changed, is answered by
    /// a typed route's server as by a values server.
    #[test]
    fn damaged_json_headers_are_answered_as_a_values_server_does(
        at in any::<prop::sample::Index>(),
        byte in prop::option::weighted(0.7, prop::sample::select(
            b"{}[],:\"\\ 0aeE-+.nt\x01\xff".to_vec(),
        )),
    ) {
        let Some(servers) = servers() else { return Ok(()) };
        let headers = r#"{"@in": true, "@bin_": [1, -2], "@x": {"k\"}": ["a,]", 1.5e3]}, "@id_": "\u00e9"}"#;
        let mut request = format!(r#"[{headers},{{"fn.test":{{"value!":{{"bool!":true}}}}}}]"#)
            .into_bytes();
        let at = at.index(headers.len() + 1);
        match byte {
            Some(byte) => request[at] = byte,
            None => request.truncate(at),
        }
        let (typed, values, _) = servers.answers(&request);
        prop_assert_eq!(&typed, &values, "{}", String::from_utf8_lossy(&request));
    }
}

/// More headers than the header list keeps before indexing them, declared ones among
/// them, are read by the typed route's server as by a values server.
#[test]
fn many_headers_are_read_as_a_values_server_reads_them() {
    let Some(servers) = servers() else { return };
    let base = servers.request(json!({"value!": {"bool!": true}}), Encoding::Json, false);
    let base = String::from_utf8(base).expect("UTF-8");
    let mut headers: Vec<String> = (0..40).map(|i| format!(r#""@h{i}": [{i}, "x"]"#)).collect();
    headers.insert(3, r#""@in": true"#.to_string());
    headers.push(r#""@unsafe_": false"#.to_string());
    let request = base.replacen("[{}", &format!("[{{{}}}", headers.join(",")), 1);
    assert!(request.contains("@h39"), "{request}");
    let (typed, values, read) = servers.answers(request.as_bytes());
    assert_eq!(text(&typed), text(&values));
    assert_eq!(read, Some(true), "{}", text(&typed));
}
