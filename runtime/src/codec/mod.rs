//! The serialization seam: bytes → [`Message`] on the way in, [`Message`] → bytes on the
//! way out. Everything the server knows about wire formats lives here: JSON, and
//! MessagePack through [`crate::binary`] (a request whose first byte is `0x92`; an `Ok_`
//! response to a request that sent `@bin_`).

use serde::de::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::binary::{self, BinaryRequest, ServerBinary};
use crate::message::{HEADER_ROOM, Headers, HeadersVisitor, Message};
use crate::router::TypedInputs;

mod typed_call;

use typed_call::read_typed_call;
pub(crate) use typed_call::read_typed_header;

/// Why a request's bytes are not a Telepact message: the protocol's `union.ParseFailure_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseFailure {
    /// Not JSON, or not a JSON array of two objects.
    #[error("expected a JSON array of two objects")]
    ExpectedJsonArrayOfTwoObjects,
    /// Two objects, but the body does not hold exactly one entry whose value is an object.
    #[error("expected a JSON array of an object and an object of one object")]
    ExpectedJsonArrayOfAnObjectAndAnObjectOfOneObject,
    /// A binary message the server has no encoding for.
    #[error("incompatible binary encoding")]
    IncompatibleBinaryEncoding,
    /// A binary message with a field id the encoding cannot map.
    #[error("binary decode failure")]
    BinaryDecodeFailure,
}

impl ParseFailure {
    /// The tag of this failure in `union.ParseFailure_`.
    pub fn tag(self) -> &'static str {
        match self {
            ParseFailure::ExpectedJsonArrayOfTwoObjects => "ExpectedJsonArrayOfTwoObjects",
            ParseFailure::ExpectedJsonArrayOfAnObjectAndAnObjectOfOneObject => {
                "ExpectedJsonArrayOfAnObjectAndAnObjectOfOneObject"
            }
            ParseFailure::IncompatibleBinaryEncoding => "IncompatibleBinaryEncoding",
            ParseFailure::BinaryDecodeFailure => "BinaryDecodeFailure",
        }
    }
}

/// Response bytes and how they are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// A JSON text.
    Json,
    /// Telepact's binary (MessagePack) encoding.
    Binary,
}

impl Encoding {
    /// The HTTP content type of a body in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Binary => "application/octet-stream",
        }
    }
}

/// Parses request bytes (JSON, or MessagePack in the server's binary encoding).
pub(crate) fn decode_request(
    bytes: &[u8],
    binary: &ServerBinary,
    inputs: Option<TypedInputs<'_>>,
) -> Result<Message, ParseFailure> {
    if binary::is_msgpack(bytes) {
        return binary.decode_request_for(bytes, inputs);
    }
    // JSON text is UTF-8 throughout (bytes that are not would fail inside a string or
    // between tokens alike): checked once as a whole here, ASCII a word at a time, the
    // text is read as `str`, which `serde_json` does not check again string by string.
    let text =
        std::str::from_utf8(bytes).map_err(|_| ParseFailure::ExpectedJsonArrayOfTwoObjects)?;
    if let Some(inputs) = inputs.filter(|inputs| inputs.router.has_typed_routes())
        && let Some(call) = read_typed_call(text, inputs)
    {
        return Ok(call);
    }
    decode_values(text)
}

/// Reads a JSON request as values. Out of line: a well-formed call to a typed route
/// never comes here, and its path stays shorter for it.
#[inline(never)]
fn decode_values(text: &str) -> Result<Message, ParseFailure> {
    // A well-formed message reads straight into its two maps; anything else is read
    // again as one value, to tell which shape it failed.
    if let Ok((RoomyHeaders(headers), body)) =
        serde_json::from_str::<(RoomyHeaders, Map<String, Value>)>(text)
        && has_one_object_entry(&body)
    {
        return Ok(Message::from_body(headers, body));
    }
    let value: Value =
        serde_json::from_str(text).map_err(|_| ParseFailure::ExpectedJsonArrayOfTwoObjects)?;
    message_from_json(value)
}

/// A request's headers, read into a map with [`HEADER_ROOM`] to spare.
struct RoomyHeaders(Headers);

impl<'de> Deserialize<'de> for RoomyHeaders {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let room = HEADER_ROOM;
        deserializer
            .deserialize_map(HeadersVisitor { room })
            .map(RoomyHeaders)
    }
}

/// Checks a parsed value has the message shape `[{headers}, {"target": {payload}}]`.
pub(crate) fn message_from_json(value: Value) -> Result<Message, ParseFailure> {
    let Value::Array(parts) = value else {
        return Err(ParseFailure::ExpectedJsonArrayOfTwoObjects);
    };
    let [headers, body]: [Value; 2] = parts
        .try_into()
        .map_err(|_| ParseFailure::ExpectedJsonArrayOfTwoObjects)?;
    let (Value::Object(headers), Value::Object(body)) = (headers, body) else {
        return Err(ParseFailure::ExpectedJsonArrayOfTwoObjects);
    };
    if !has_one_object_entry(&body) {
        return Err(ParseFailure::ExpectedJsonArrayOfAnObjectAndAnObjectOfOneObject);
    }
    Ok(Message::from_body(headers.into(), body))
}

fn has_one_object_entry(body: &Map<String, Value>) -> bool {
    body.len() == 1 && body.values().all(Value::is_object)
}

/// Serializes a response message: in binary when the request asked for it with `@bin_`
/// and the result is `Ok_`, as JSON otherwise.
pub(crate) fn encode_response(
    message: &mut Message,
    binary: Option<(&ServerBinary, &str, &BinaryRequest)>,
) -> (Vec<u8>, Encoding) {
    if let Some((server_binary, function, request)) = binary
        && let Some(bytes) = server_binary.encode_answer(function, message, request)
    {
        return (bytes, Encoding::Binary);
    }
    (to_json(message), Encoding::Json)
}

/// The message as JSON text `[headers, body]`, with a body written already taken as is
/// (out of the message).
pub(crate) fn to_json(message: &mut Message) -> Vec<u8> {
    // Serializing maps of JSON values cannot fail: every key is a string.
    let Some(mut bytes) = message.take_written(Encoding::Json) else {
        return serde_json::to_vec(&(&message.headers, message.body())).unwrap_or_default();
    };
    let _ = write_in_front(&mut bytes, |head| {
        head.push(b'[');
        serde_json::to_writer(&mut *head, &message.headers)?;
        head.push(b',');
        Ok::<_, serde_json::Error>(())
    });
    bytes.push(b']');
    bytes
}

/// Puts what `write_head` writes in front of `bytes`: it writes behind them, in the
/// same buffer, and the two then swap places; no second buffer and no copy of the body
/// into one. On an error `bytes` are left as they were.
pub(crate) fn write_in_front<E>(
    bytes: &mut Vec<u8>,
    write_head: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    let body_len = bytes.len();
    if let Err(error) = write_head(bytes) {
        bytes.truncate(body_len);
        return Err(error);
    }
    let head_len = bytes.len() - body_len;
    bytes.rotate_right(head_len);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::validate::Compiled;

    fn written(headers: Value, result: Value) -> Message {
        let schema = telepact_schema::Schema::from_text(
            r#"[{"fn.f": {}, "->": [{"Ok_": {"text": "string"}}]}]"#,
        )
        .expect("the schema loads");
        let compiled = Compiled::new(&schema);
        let id = compiled.function_id("fn.f").expect("fn.f");
        let Value::Object(headers) = headers else {
            panic!("headers are an object");
        };
        let mut message = Message::typed(headers.into(), result);
        assert!(message.write_checked(&compiled, &compiled.function(id).result));
        message
    }

    #[test]
    fn requests_of_every_shape_read_as_one_value_would() {
        let binary = ServerBinary::new(telepact_schema::Schema::from_text("[]").expect("loads"));
        let two = Err(ParseFailure::ExpectedJsonArrayOfTwoObjects);
        let one = Err(ParseFailure::ExpectedJsonArrayOfAnObjectAndAnObjectOfOneObject);
        for (text, expected) in [
            (r#"[{"@id_": 1}, {"fn.a": {"x": [1]}}]"#, Ok(())),
            (r#"[{}, {"fn.a": {}, "fn.a": {"x": 2}}]"#, Ok(())),
            (r#"[{}, {"fn.a": {}}, 3]"#, two),
            (r#"[{}, {"fn.a": {}}] x"#, two),
            (r#"[{}]"#, two),
            (r#"[1, {"fn.a": {}}]"#, two),
            (r#"{"fn.a": {}}"#, two),
            (r#"[{}, {"fn.a": {}, "fn.b": {}}]"#, one),
            (r#"[{}, {"fn.a": 1}]"#, one),
            (r#"[{}, {}]"#, one),
        ] {
            let decoded = decode_request(text.as_bytes(), &binary, None);
            let as_value = serde_json::from_str::<Value>(text)
                .map_err(|_| ParseFailure::ExpectedJsonArrayOfTwoObjects)
                .and_then(message_from_json);
            assert_eq!(
                decoded.as_ref().map(|_| ()).map_err(|e| *e),
                expected,
                "{text}"
            );
            assert_eq!(
                as_value.as_ref().map(|_| ()).map_err(|e| *e),
                expected,
                "{text}"
            );
            if let (Ok(decoded), Ok(as_value)) = (decoded, as_value) {
                assert_eq!(decoded.headers, as_value.headers, "{text}");
                assert_eq!(decoded.body(), as_value.body(), "{text}");
            }
        }
    }

    #[test]
    fn a_written_body_goes_behind_its_headers_exactly() {
        let long = "x".repeat(600);
        for (headers, text) in [
            (json!({}), "short"),
            (json!({"@id_": "a\"b"}), "with \u{e9}scapes \" \\"),
            // Headers longer than the room left after the body's text.
            (json!({"@id_": long}), "short"),
            (json!({"@id_": 1}), long.as_str()),
        ] {
            let result = json!({"Ok_": {"text": text}});
            let mut message = written(headers.clone(), result.clone());
            let bytes = to_json(&mut message);
            let expected = serde_json::to_vec(&json!([headers, result])).expect("JSON");
            assert_eq!(
                String::from_utf8_lossy(&bytes),
                String::from_utf8_lossy(&expected)
            );
        }
    }
}
