//! Shared by the binary and client tests: the conformance vectors' marked JSON, and a
//! small in-process server that speaks the binary protocol like the conformance fixture.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rmpv::Value as Pack;
use serde_json::{Map, Value, json};
use telepact::Message;
use telepact::binary::{BinaryRequest, ServerBinary, is_msgpack};

#[path = "../../../src/binary/test_schema.rs"]
pub(crate) mod test_schema;

/// Where the conformance vectors live, or `None` after a skip (a failure under
/// `TELEPACT_REQUIRE_ALL=1`).
pub(crate) fn conformance_dir() -> Option<PathBuf> {
    telepact_test_support::conformance_dir()
}

/// Reads one vectors file as its list of cases.
pub(crate) fn read_cases(dir: &std::path::Path, file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|error| panic!("reading {file}: {error}"));
    match serde_json::from_str(&text) {
        Ok(Value::Array(cases)) => cases,
        other => panic!("{file} is not a list of cases: {other:?}"),
    }
}

/// Marked JSON (`"$int:5"` keys, `$bytes_base64`, `$msgpack_ext`) → MessagePack.
pub(crate) fn marked_to_pack(value: &Value) -> Pack {
    match value {
        Value::Null => Pack::Nil,
        Value::Bool(flag) => Pack::Boolean(*flag),
        Value::Number(number) => match (number.as_i64(), number.as_u64(), number.as_f64()) {
            (Some(int), _, _) => Pack::from(int),
            (None, Some(int), _) => Pack::from(int),
            (None, None, float) => Pack::F64(float.unwrap_or(f64::NAN)),
        },
        Value::String(text) => Pack::from(text.as_str()),
        Value::Array(items) => Pack::Array(items.iter().map(marked_to_pack).collect()),
        Value::Object(entries) => marked_object_to_pack(entries),
    }
}

fn marked_object_to_pack(entries: &Map<String, Value>) -> Pack {
    if let Some(Value::String(data)) = entries.get("$bytes_base64") {
        return Pack::Binary(BASE64.decode(data).expect("valid base64 in the vectors"));
    }
    if let Some(ext) = entries.get("$msgpack_ext") {
        let code = ext["code"].as_i64().expect("ext code") as i8;
        let data = BASE64
            .decode(ext["data_base64"].as_str().unwrap_or(""))
            .expect("valid base64");
        return Pack::Ext(code, data);
    }
    Pack::Map(
        entries
            .iter()
            .map(|(key, item)| {
                let key = match key.strip_prefix("$int:") {
                    Some(id) => Pack::from(id.parse::<i64>().expect("integer key")),
                    None => Pack::from(key.as_str()),
                };
                (key, marked_to_pack(item))
            })
            .collect(),
    )
}

/// MessagePack → marked JSON, the inverse of [`marked_to_pack`].
pub(crate) fn pack_to_marked(value: &Pack) -> Value {
    match value {
        Pack::Nil => Value::Null,
        Pack::Boolean(flag) => Value::Bool(*flag),
        Pack::Integer(int) => int
            .as_i64()
            .map(Value::from)
            .or_else(|| int.as_u64().map(Value::from))
            .unwrap_or(Value::Null),
        Pack::F32(float) => json!(f64::from(*float)),
        Pack::F64(float) => json!(float),
        Pack::String(text) => Value::from(text.as_str().unwrap_or_default()),
        Pack::Binary(bytes) => json!({"$bytes_base64": BASE64.encode(bytes)}),
        Pack::Array(items) => Value::Array(items.iter().map(pack_to_marked).collect()),
        Pack::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, item)| {
                    let key = match key {
                        Pack::Integer(int) => format!("$int:{int}"),
                        other => other
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| other.to_string()),
                    };
                    (key, pack_to_marked(item))
                })
                .collect(),
        ),
        Pack::Ext(code, data) => {
            json!({"$msgpack_ext": {"code": code, "data_base64": BASE64.encode(data)}})
        }
    }
}

pub(crate) fn write_pack(value: &Pack) -> Vec<u8> {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, value).expect("writing to a Vec");
    bytes
}

pub(crate) fn read_pack(bytes: &[u8]) -> Pack {
    rmpv::decode::read_value(&mut &bytes[..]).expect("valid MessagePack")
}

/// A message from its JSON form `[headers, body]`.
pub(crate) fn message(value: Value) -> Message {
    let Value::Array(parts) = value else {
        panic!("a message is an array: {value}");
    };
    let Ok([Value::Object(headers), Value::Object(body)]) = <[Value; 2]>::try_from(parts) else {
        panic!("a message is two objects");
    };
    Message::from_body(headers.into(), body)
}

/// The conformance fixture's function handler, as far as binary cases need it: `@ok_`
/// answers `Ok_` with that payload; `fn.ping_` and everything else answer `Ok_ {}`.
pub(crate) fn fixture_result(request: &Message) -> Message {
    let payload = request
        .headers
        .get("@ok_")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut headers = Map::new();
    if let Some(id) = request.headers.get("@id_") {
        headers.insert("@id_".into(), id.clone());
    }
    message(json!([headers, {"Ok_": payload}]))
}

/// A server that answers like the conformance fixture, switching between a main and an
/// alternate schema on `@toggleAlternateServer_`, and counting requests.
pub(crate) struct FakeServer {
    pub main: ServerBinary,
    pub alternate: ServerBinary,
    on_alternate: AtomicBool,
    pub requests: AtomicUsize,
    pub binary_requests: AtomicUsize,
    pub last_request: Mutex<Vec<u8>>,
}

impl FakeServer {
    pub(crate) fn new(main: ServerBinary, alternate: ServerBinary) -> Self {
        FakeServer {
            main,
            alternate,
            on_alternate: AtomicBool::new(false),
            requests: AtomicUsize::new(0),
            binary_requests: AtomicUsize::new(0),
            last_request: Mutex::new(Vec::new()),
        }
    }

    fn current(&self) -> &ServerBinary {
        if self.on_alternate.load(Ordering::SeqCst) {
            &self.alternate
        } else {
            &self.main
        }
    }

    pub(crate) fn process(&self, bytes: &[u8]) -> Vec<u8> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        *self.last_request.lock().expect("lock") = bytes.to_vec();
        let server = self.current();
        let request = if is_msgpack(bytes) {
            self.binary_requests.fetch_add(1, Ordering::SeqCst);
            match server.decode_request(bytes) {
                Ok(request) => request,
                Err(failure) => return json_bytes(&parse_failure_response(failure)),
            }
        } else {
            message(serde_json::from_slice(bytes).expect("the client sends JSON"))
        };
        let response = fixture_result(&request);
        if request.headers.get("@toggleAlternateServer_") == Some(&Value::Bool(true)) {
            self.on_alternate.fetch_xor(true, Ordering::SeqCst);
        }
        if let Some(binary) = BinaryRequest::from_headers(&request.headers)
            && let Some(bytes) = server.encode_response(request.target(), &response, &binary)
        {
            return bytes;
        }
        json_bytes(&response.to_json())
    }
}

/// The answer to a request that could not be parsed.
pub(crate) fn parse_failure_response(failure: telepact::ParseFailure) -> Value {
    json!([{}, {"ErrorParseFailure_": {"reasons": [{failure.tag(): {}}]}}])
}

pub(crate) fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON values serialize")
}

/// Two servers with different encodings: the conformance `binary` schema, and the same
/// plus one function.
pub(crate) fn rotating_servers() -> FakeServer {
    let main = test_schema::binary_conformance_schema();
    let alternate = with_function(&main, "fn.backwardsCompatibleChange");
    FakeServer::new(ServerBinary::new(main), ServerBinary::new(alternate))
}

/// `schema` plus the function `name` (no arguments, no result fields): another version
/// with another encoding.
pub(crate) fn with_function(
    schema: &telepact_schema::Schema,
    name: &str,
) -> telepact_schema::Schema {
    use test_schema::fields;
    let mut extended = schema.clone();
    let mut extra = test_schema::SchemaBuilder::new();
    extra.function(name, fields(vec![]), fields(vec![]));
    let (_, _, functions, _) = telepact_schema::__unchecked::definitions_mut(&mut extended);
    functions.extend(extra.build().functions().iter().cloned());
    extended
}
