//! Feeds arbitrary bytes to `Server::process`: it must answer, never panic. A JSON
//! request that asks for a binary answer (`@bin_`, perhaps `@pac_`) and gets one is
//! asked again without those headers: the binary answer, read back through the
//! schema's ids and unpacked, must say what the JSON answer says.

#![no_main]

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Number, Value};
use telepact::binary::BinaryEncoding;
use telepact::binary::pack::unpack;
use telepact::schema::Schema;
use telepact::{Encoding, FunctionRouter, HandlerError, Message, Response, Server};

#[path = "support.rs"]
mod support;
use support::{assert_one_body_entry, run};

const SCHEMA: &str = r#"[
  {"struct.Item": {"id": "integer", "name!": "string?", "tags!": ["string"], "next!": "struct.Item?", "blob!": "bytes"}},
  {"union.Shape": [{"Circle": {"r": "number"}}, {"Square": {"side": "number"}}]},
  {"fn.echo": {"items": ["struct.Item"], "shape!": "union.Shape", "any!": "any", "link!": "fn.echo"},
   "->": [{"Ok_": {"items": ["struct.Item"], "shape!": "union.Shape"}}, {"ErrorNope": {"why": "string"}}]},
  {"headers.Trace": {"@trace": "string"}, "->": {"@spent": "integer"}}
]"#;

/// The headers that ask for, or come with, a binary answer; and the JSON answer's
/// names of its `bytes`, which a binary answer carries raw.
const ENCODING_HEADERS: [&str; 4] = ["@bin_", "@enc_", "@pac_", "@base64_"];

fn schema() -> Schema {
    Schema::from_text(SCHEMA).expect("fuzz schema loads")
}

fn encoding() -> &'static BinaryEncoding {
    static ENCODING: OnceLock<BinaryEncoding> = OnceLock::new();
    ENCODING.get_or_init(|| BinaryEncoding::new(&schema()))
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let schema = schema();
        let router = FunctionRouter::new().route("fn.echo", |request: Message| async move {
            // Echo the arguments as the result, so response validation sees fuzzed data.
            let payload = request.payload().cloned().unwrap_or_default();
            Ok::<_, HandlerError>(Message::new(request.headers, "Ok_", payload))
        });
        Server::builder(schema, router)
            .auth_required(false)
            .build()
            .expect("fuzz server builds")
    })
}

fuzz_target!(|data: &[u8]| {
    let answer = run(server().process(data));
    assert_one_body_entry(&answer);
    if answer.encoding == Encoding::Binary
        && let Some(as_json) = as_json_request(data)
    {
        let json_answer = run(server().process(as_json.as_bytes()));
        assert_eq!(
            read_binary(&answer),
            read_json(&json_answer),
            "{}",
            String::from_utf8_lossy(data)
        );
    }
});

/// The JSON request `data` without the headers that ask for a binary answer; `None`
/// when `data` is not a JSON message.
fn as_json_request(data: &[u8]) -> Option<String> {
    let message: Value = serde_json::from_slice(data).ok()?;
    message.get(0)?.as_object()?;
    Some(without_encoding_headers(message).to_string())
}

/// A JSON answer's message, without the headers only one encoding has.
fn read_json(answer: &Response) -> Value {
    assert_eq!(answer.encoding, Encoding::Json);
    let message = serde_json::from_slice(&answer.bytes).expect("a JSON answer is JSON");
    without_encoding_headers(message)
}

/// A binary answer's message as JSON: names for ids, tables unpacked, `bytes` as
/// base64; without the headers only one encoding has.
fn read_binary(answer: &Response) -> Value {
    let message = rmpv::decode::read_value(&mut &answer.bytes[..]).expect("MessagePack");
    let rmpv::Value::Array(mut parts) = message else {
        panic!("a binary answer is [headers, body]");
    };
    let body = parts.pop().expect("a body");
    let body = unpack(body).expect("a packed body unpacks");
    parts.push(body);
    let message = to_json(rmpv::Value::Array(parts)).expect("every value has JSON");
    without_encoding_headers(message)
}

/// `message` without [`ENCODING_HEADERS`] among its headers.
fn without_encoding_headers(mut message: Value) -> Value {
    if let Some(headers) = message.get_mut(0).and_then(Value::as_object_mut) {
        for name in ENCODING_HEADERS {
            headers.remove(name);
        }
    }
    message
}

/// A MessagePack value as JSON, integer keys named through the schema's encoding;
/// `None` for what JSON cannot hold (or an id the encoding lacks).
fn to_json(value: rmpv::Value) -> Option<Value> {
    Some(match value {
        rmpv::Value::Nil => Value::Null,
        rmpv::Value::Boolean(flag) => Value::Bool(flag),
        rmpv::Value::Integer(number) => match number.as_i64() {
            Some(signed) => Value::from(signed),
            None => Value::from(number.as_u64()?),
        },
        rmpv::Value::F32(float) => Value::Number(Number::from_f64(f64::from(float))?),
        rmpv::Value::F64(float) => Value::Number(Number::from_f64(float)?),
        rmpv::Value::String(text) => Value::String(text.into_str()?),
        rmpv::Value::Binary(bytes) => Value::String(STANDARD.encode(bytes)),
        rmpv::Value::Array(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Option<_>>()?)
        }
        rmpv::Value::Map(entries) => {
            let mut map = Map::new();
            for (key, item) in entries {
                let name = match key {
                    rmpv::Value::String(text) => text.into_str()?,
                    rmpv::Value::Integer(id) => encoding().name(id.as_u64()?)?.to_string(),
                    _ => return None,
                };
                map.insert(name, to_json(item)?);
            }
            Value::Object(map)
        }
        rmpv::Value::Ext(..) => return None,
    })
}
