//! Feeds arbitrary bytes to `Server::process`: it must answer, never panic. A request
//! that uses binary is asked again in JSON without the headers that ask for it, and both
//! answers must say the same: a JSON request answered in binary (`@bin_`, perhaps
//! `@pac_`), its answer read back through the schema's ids and unpacked; and a
//! MessagePack request the server read, itself read the same way.

#![no_main]

use std::sync::OnceLock;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Number, Value};
use telepact::binary::pack::unpack;
use telepact::binary::{BinaryEncoding, is_msgpack};
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

/// The headers only a binary answer has, and a JSON answer's names of its `bytes`
/// (which a binary answer carries raw): set aside when answers are compared.
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
    if let Some(as_json) = same_request_in_json(data, &answer) {
        let json_answer = run(server().process(as_json.as_bytes()));
        assert_eq!(
            canonical_base64(read_answer(&answer)),
            canonical_base64(read_json(&json_answer)),
            "{}",
            String::from_utf8_lossy(data)
        );
    }
});

/// `data` as a JSON request without `@bin_`, when its answer is to be compared with
/// `answer`: a JSON request answered in binary, or a MessagePack request the server
/// read (not refused for its framing or its `@bin_`) that holds no raw bytes (which
/// JSON could not tell from text outside a `bytes` field). Other headers stay: in JSON
/// too they are checked, and echoed or not, as the protocol says.
fn same_request_in_json(data: &[u8], answer: &Response) -> Option<String> {
    let mut message = if is_msgpack(data) {
        if refused_as_binary(answer) {
            return None;
        }
        message_as_json(data, false)?
    } else if answer.encoding == Encoding::Binary {
        serde_json::from_slice(data).ok()?
    } else {
        return None;
    };
    message.get_mut(0)?.as_object_mut()?.remove("@bin_");
    Some(message.to_string())
}

/// Whether a binary request's answer refuses what only binary has: its framing
/// (`ErrorParseFailure_`) or its `@bin_` header.
fn refused_as_binary(answer: &Response) -> bool {
    let Some(message) = json_message(answer) else {
        return false;
    };
    let Some((tag, payload)) = message
        .get(1)
        .and_then(Value::as_object)
        .and_then(|body| body.iter().next())
    else {
        return false;
    };
    let at_bin = |case: &Value| case.pointer("/path/0") == Some(&Value::from("@bin_"));
    let cases = payload.get("cases").and_then(Value::as_array);
    tag == "ErrorParseFailure_"
        || (tag == "ErrorInvalidRequestHeaders_"
            && cases.is_some_and(|cases| cases.iter().any(at_bin)))
}

/// A JSON answer's message; `None` for a binary answer.
fn json_message(answer: &Response) -> Option<Value> {
    match answer.encoding {
        Encoding::Json => serde_json::from_slice(&answer.bytes).ok(),
        Encoding::Binary => None,
    }
}

/// A MessagePack message as JSON: its body's ids named through the schema's encoding,
/// its tables unpacked when its headers say `@pac_`, and raw bytes as base64 text when
/// `bytes_as_text`; `None` for anything else JSON cannot hold.
fn message_as_json(data: &[u8], bytes_as_text: bool) -> Option<Value> {
    let rmpv::Value::Array(parts) = rmpv::decode::read_value(&mut &data[..]).ok()? else {
        return None;
    };
    let [headers, body] = <[rmpv::Value; 2]>::try_from(parts).ok()?;
    let part = |ids| Reading {
        ids,
        bytes: bytes_as_text,
    };
    let headers = to_json(headers, part(false))?;
    let packed = headers.get("@pac_") == Some(&Value::Bool(true));
    let body = if packed { unpack(body).ok()? } else { body };
    let body = to_json(body, part(true))?;
    Some(Value::Array(vec![headers, body]))
}

/// An answer's message as JSON, in either encoding.
fn read_answer(answer: &Response) -> Value {
    match answer.encoding {
        Encoding::Json => read_json(answer),
        Encoding::Binary => read_binary(answer),
    }
}

/// A JSON answer's message, without the headers only one encoding has.
fn read_json(answer: &Response) -> Value {
    assert_eq!(answer.encoding, Encoding::Json);
    let message = serde_json::from_slice(&answer.bytes).expect("a JSON answer is JSON");
    without_encoding_headers(message)
}

/// A binary answer's message as JSON (see [`message_as_json`]), without the headers
/// only one encoding has.
fn read_binary(answer: &Response) -> Value {
    let message = message_as_json(&answer.bytes, true).expect("a binary answer reads as JSON");
    without_encoding_headers(message)
}

/// `message` with each text that is base64 with bits past its last byte (`AAG=`) in
/// its canonical form (`AAE=`): the protocol reads both as the same bytes, which a JSON
/// answer echoes as given and a binary one carries raw.
fn canonical_base64(mut message: Value) -> Value {
    let lenient = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let mut open = vec![&mut message];
    while let Some(value) = open.pop() {
        match value {
            Value::String(text) => {
                if let Ok(bytes) = lenient.decode(text.as_bytes()) {
                    *text = STANDARD.encode(bytes);
                }
            }
            Value::Array(items) => open.extend(items.iter_mut()),
            Value::Object(entries) => open.extend(entries.values_mut()),
            _ => {}
        }
    }
    message
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

/// How [`to_json`] reads one part of a message.
#[derive(Clone, Copy)]
struct Reading {
    /// Integer map keys are ids of the schema's encoding (a body's); otherwise only
    /// text keys are read.
    ids: bool,
    /// Raw bytes are read as base64 text; otherwise they leave the part unread.
    bytes: bool,
}

/// A MessagePack value as JSON, read as `reading` says; `None` for what JSON cannot
/// hold (or an id the encoding lacks).
fn to_json(value: rmpv::Value, reading: Reading) -> Option<Value> {
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
        rmpv::Value::Binary(bytes) if reading.bytes => Value::String(STANDARD.encode(bytes)),
        rmpv::Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| to_json(item, reading))
                .collect::<Option<_>>()?,
        ),
        rmpv::Value::Map(entries) => {
            let mut map = Map::new();
            for (key, item) in entries {
                let name = match key {
                    rmpv::Value::String(text) => text.into_str()?,
                    rmpv::Value::Integer(id) if reading.ids => {
                        encoding().name(id.as_u64()?)?.to_string()
                    }
                    _ => return None,
                };
                map.insert(name, to_json(item, reading)?);
            }
            Value::Object(map)
        }
        rmpv::Value::Binary(_) | rmpv::Value::Ext(..) => return None,
    })
}
