//! Reading and writing the MessagePack `[headers, body]` frame.

use rmpv::Value as Pack;
use serde_json::{Map, Value};

use super::convert::{DecodeError, Encoder, map_to_json};
use super::encoding::BinaryEncoding;
use super::pack::unpack;
use super::shape::Shape;
use crate::message::{Headers, Message};

/// The first byte of every binary message: a MessagePack array of two elements. A JSON
/// message never starts with it.
pub const MSGPACK_MESSAGE_MARKER: u8 = 0x92;

/// Whether `bytes` is a MessagePack message rather than JSON.
pub fn is_msgpack(bytes: &[u8]) -> bool {
    bytes.first() == Some(&MSGPACK_MESSAGE_MARKER)
}

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrameError {
    /// Not MessagePack, trailing bytes, or not an array of two maps.
    #[error("not a MessagePack array of two maps: {0}")]
    NotTwoMaps(String),
    /// The headers map has no JSON form.
    #[error("headers: {0}")]
    Headers(#[source] DecodeError),
}

/// A binary message with its headers decoded and its body still in MessagePack form.
pub(crate) struct Frame {
    pub(crate) headers: Headers,
    pub(crate) body: Vec<(Pack, Pack)>,
}

pub(crate) fn read_frame(bytes: &[u8]) -> Result<Frame, FrameError> {
    let mut rest = bytes;
    let value = rmpv::decode::read_value(&mut rest)
        .map_err(|error| FrameError::NotTwoMaps(error.to_string()))?;
    if !rest.is_empty() {
        return Err(FrameError::NotTwoMaps(format!(
            "{} bytes after the message",
            rest.len()
        )));
    }
    let Pack::Array(mut parts) = value else {
        return Err(FrameError::NotTwoMaps("not an array".into()));
    };
    let (Some(Pack::Map(body)), Some(Pack::Map(headers)), None) =
        (parts.pop(), parts.pop(), parts.pop())
    else {
        return Err(FrameError::NotTwoMaps("not two maps".into()));
    };
    let headers = map_to_json(headers, None).map_err(FrameError::Headers)?;
    Ok(Frame { headers, body })
}

/// Decodes a body with `encoding`, unpacking it first when `packed`.
pub(crate) fn decode_body(
    body: Vec<(Pack, Pack)>,
    encoding: &BinaryEncoding,
    packed: bool,
) -> Result<Map<String, Value>, DecodeError> {
    let body = if packed {
        match unpack(Pack::Map(body))? {
            Pack::Map(entries) => entries,
            _ => return Err(DecodeError::MalformedPackedList("the body is not a map")),
        }
    } else {
        body
    };
    map_to_json(body, Some(encoding))
}

/// Whether the headers say `@pac_: true`.
pub(crate) fn says_packed(headers: &Headers) -> bool {
    headers.get("@pac_") == Some(&Value::Bool(true))
}

/// Writes `[headers, body]`: headers as they are, the body through `body_encoder` with
/// `body_shape`, packed when asked.
pub(crate) fn write_message(
    headers: &Headers,
    body: &Map<String, Value>,
    body_encoder: &Encoder<'_>,
    body_shape: Shape<'_>,
    packed: bool,
) -> Result<Vec<u8>, std::io::Error> {
    let mut bytes = Vec::with_capacity(256);
    rmp::encode::write_array_len(&mut bytes, 2)?;
    Encoder::plain().write_object(&mut bytes, headers, Shape::Unknown)?;
    if packed {
        body_encoder.write_packed_object(&mut bytes, body, body_shape)?;
    } else {
        body_encoder.write_object(&mut bytes, body, body_shape)?;
    }
    Ok(bytes)
}

/// Writes a whole message as MessagePack, its body's keys encoded with `encoding` (no
/// schema: strings stay strings) and packed when asked. This is how a client sends a
/// binary request; the message's `@bin_` header should name `encoding.checksum()`.
pub fn encode_request(
    message: &Message,
    encoding: &BinaryEncoding,
    packed: bool,
) -> Result<Vec<u8>, std::io::Error> {
    let encoder = Encoder {
        encoding: Some(encoding),
        schema: None,
    };
    write_message(
        &message.headers,
        &message.body,
        &encoder,
        Shape::Unknown,
        packed,
    )
}
