//! The serialization seam: bytes → [`Message`] on the way in, [`Message`] → bytes on the
//! way out. Everything the server knows about wire formats lives here: JSON, and
//! MessagePack through [`crate::binary`] (a request whose first byte is `0x92`; an `Ok_`
//! response to a request that sent `@bin_`).

use serde_json::{Map, Value};

use crate::binary::{self, BinaryRequest, ServerBinary};
use crate::message::Message;

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
pub(crate) fn decode_request(bytes: &[u8], binary: &ServerBinary) -> Result<Message, ParseFailure> {
    if binary::is_msgpack(bytes) {
        return binary.decode_request(bytes);
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|_| ParseFailure::ExpectedJsonArrayOfTwoObjects)?;
    message_from_json(value)
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
    Ok(Message::from_body(headers, body))
}

fn has_one_object_entry(body: &Map<String, Value>) -> bool {
    body.len() == 1 && body.values().all(Value::is_object)
}

/// Serializes a response message: in binary when the request asked for it with `@bin_`
/// and the result is `Ok_`, as JSON otherwise.
pub(crate) fn encode_response(
    message: &Message,
    binary: Option<(&ServerBinary, &str, &BinaryRequest)>,
) -> (Vec<u8>, Encoding) {
    if let Some((server_binary, function, request)) = binary {
        if let Some(bytes) = server_binary.encode_response(function, message, request) {
            return (bytes, Encoding::Binary);
        }
    }
    (to_json(message), Encoding::Json)
}

/// The message as JSON text `[headers, body]`, with a body written already taken as is.
pub(crate) fn to_json(message: &Message) -> Vec<u8> {
    // Serializing maps of JSON values cannot fail: every key is a string.
    let Some(body) = message.written_json() else {
        return serde_json::to_vec(&(&message.headers, message.body())).unwrap_or_default();
    };
    let mut bytes = Vec::with_capacity(body.len() + 128);
    bytes.push(b'[');
    let _ = serde_json::to_writer(&mut bytes, &message.headers);
    bytes.push(b',');
    bytes.extend_from_slice(body);
    bytes.push(b']');
    bytes
}
