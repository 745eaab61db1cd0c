//! Reading and writing the MessagePack `[headers, body]` frame.

use std::sync::Arc;

use rmpv::Value as Pack;
use serde_json::{Map, Value};

use super::convert::{DecodeError, Encoder, NameBudget, entries_bytes_paths, map_to_json};
use super::deserialize::read_call;
use super::encoding::BinaryEncoding;
use super::pack::unpack;
use super::read::{Reader, SyntaxError};
use super::shape::Shape;
use crate::base64_paths::Base64Paths;
use crate::message::{Headers, Message};
use crate::router::TypedInputs;

/// The first byte of every binary message: a MessagePack array of two elements. A JSON
/// message never starts with it.
pub const MSGPACK_MESSAGE_MARKER: u8 = 0x92;

/// Whether `bytes` is a MessagePack message rather than JSON.
pub fn is_msgpack(bytes: &[u8]) -> bool {
    bytes.first() == Some(&MSGPACK_MESSAGE_MARKER)
}

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Not MessagePack, trailing bytes, or not an array of two maps.
    #[error("not a MessagePack array of two maps: {0}")]
    NotTwoMaps(String),
    /// The headers map has no JSON form; `source()` says why.
    #[error("the headers have no JSON form")]
    Headers(#[source] DecodeError),
}

/// A binary message with its headers decoded and its body still MessagePack.
pub(crate) struct Frame<'a> {
    pub(crate) headers: Headers,
    pub(crate) body: &'a [u8],
}

/// Checks that `bytes` are one MessagePack array of two maps and decodes the first,
/// the headers; the body is decoded once the headers have said how.
pub(crate) fn read_frame(bytes: &[u8]) -> Result<Frame<'_>, FrameError> {
    // Every way the frame can be wrong is the same failure, so one walk checks them
    // all, in any order, before the headers are decoded.
    let not_two_maps = |error: SyntaxError| FrameError::NotTwoMaps(error.to_string());
    let mut reader = Reader::new(bytes);
    match reader.array_len().map_err(not_two_maps)? {
        None => return Err(FrameError::NotTwoMaps("not an array".into())),
        Some(2) => {}
        Some(_) => return Err(FrameError::NotTwoMaps("not two maps".into())),
    }
    let mut map = || -> Result<&[u8], FrameError> {
        if !reader.at_map().map_err(not_two_maps)? {
            return Err(FrameError::NotTwoMaps("not two maps".into()));
        }
        reader.skip_item().map_err(not_two_maps)
    };
    let (headers, body) = (map()?, map()?);
    if !reader.rest().is_empty() {
        return Err(FrameError::NotTwoMaps(format!(
            "{} bytes after the message",
            reader.rest().len()
        )));
    }
    let headers = Reader::new(headers)
        .headers()
        .map_err(FrameError::Headers)?;
    Ok(Frame { headers, body })
}

/// A well-formed request read in one walk: its headers, then its body with the
/// encoding `choose` picks from them (`None`: the body needs more than this, such as
/// unpacking). A typed route's call is read straight into its input, checked against
/// the schema (see [`read_call`]); any other body as values. Anything else, a malformed
/// frame, a checksum or a body that fails, gives `None`, and [`read_frame`] then
/// [`decode_body`] read the request again to say which failure it is, in their order;
/// so this path only saves the separate syntax walk over a body that was fine.
pub(crate) fn read_in_one_walk<'e>(
    bytes: &[u8],
    choose: impl FnOnce(&Headers) -> Option<&'e Arc<BinaryEncoding>>,
    inputs: Option<TypedInputs<'_>>,
) -> Option<Walked> {
    let mut reader = Reader::new(bytes);
    if reader.array_len().ok()? != Some(2) || !reader.at_map().ok()? {
        return None;
    }
    // Read in place, with the nesting a reader of the headers alone has (as
    // `read_frame` reads them).
    let headers = reader.headers().ok()?;
    let encoding = choose(&headers)?;
    if let Some(inputs) = inputs {
        let mut typed = reader;
        if let Some(call) = read_call(&mut typed, encoding, inputs)
            && typed.rest().is_empty()
        {
            return Some(Walked::Checked(Message::checked_call(headers, call)));
        }
    }
    let body = reader.json_object(Some(&**encoding)).ok()?;
    reader
        .rest()
        .is_empty()
        .then_some(Walked::Values(headers, body))
}

/// A request [`read_in_one_walk`].
pub(crate) enum Walked {
    /// Headers and body as values.
    Values(Headers, Map<String, Value>),
    /// A typed route's call, its input checked against the schema as it was read.
    Checked(Message),
}

/// Decodes a body (a MessagePack map) with `encoding`, unpacking it first when `packed`.
pub(crate) fn decode_body(
    body: &[u8],
    encoding: &BinaryEncoding,
    packed: bool,
) -> Result<Map<String, Value>, DecodeError> {
    if !packed {
        return Reader::new(body).json_object(Some(encoding));
    }
    let entries = unpacked_entries(body)?;
    map_to_json(entries, Some(encoding), &mut NameBudget::unlimited())
}

/// [`decode_body`], and where the body held MessagePack binaries: the places a JSON
/// answer's `@base64_` header would name, so that a client reads a binary answer's
/// bytes as it reads a JSON one's. Each of the two reads may produce at most `names`
/// of field-name text.
pub(crate) fn decode_body_naming_bytes(
    body: &[u8],
    encoding: &BinaryEncoding,
    packed: bool,
    names: NameBudget,
) -> Result<(Map<String, Value>, Base64Paths), DecodeError> {
    if !packed {
        let paths = Reader::with_names(body, names).bytes_paths(encoding)?;
        let body = Reader::with_names(body, names).json_object(Some(encoding))?;
        return Ok((body, paths));
    }
    let entries = unpacked_entries(body)?;
    let paths = entries_bytes_paths(&entries, encoding, names)?;
    let mut names = names;
    Ok((map_to_json(entries, Some(encoding), &mut names)?, paths))
}

/// The entries of a packed body, unpacked.
fn unpacked_entries(body: &[u8]) -> Result<Vec<(Pack, Pack)>, DecodeError> {
    let tree = rmpv::decode::read_value(&mut &body[..])
        .map_err(|error| DecodeError::Malformed(error.to_string()))?;
    match unpack(tree)? {
        Pack::Map(entries) => Ok(entries),
        _ => Err(DecodeError::MalformedPackedList("the body is not a map")),
    }
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
    write_message_head(&mut bytes, headers)?;
    write_body(&mut bytes, body, body_encoder, body_shape, packed)?;
    Ok(bytes)
}

/// Writes a message's body through `encoder` with `shape`, packed when asked, at the
/// end of `out`.
pub(crate) fn write_body(
    out: &mut Vec<u8>,
    body: &Map<String, Value>,
    encoder: &Encoder<'_>,
    shape: Shape<'_>,
    packed: bool,
) -> std::io::Result<()> {
    if packed {
        encoder.write_packed_object(out, body, shape)
    } else {
        encoder.write_object(out, body, shape)
    }
}

/// Writes the start of a message, `[headers, ` (its headers as they are), at the end
/// of `out`; the body goes next.
pub(crate) fn write_message_head(out: &mut Vec<u8>, headers: &Headers) -> std::io::Result<()> {
    rmp::encode::write_array_len(&mut *out, 2)?;
    write_headers(out, headers)
}

/// Writes `headers` as a MessagePack map, names as text.
pub(crate) fn write_headers(out: &mut Vec<u8>, headers: &Headers) -> std::io::Result<()> {
    let plain = Encoder::plain();
    let len =
        u32::try_from(headers.len()).map_err(|_| std::io::Error::other("too many headers"))?;
    rmp::encode::write_map_len(&mut *out, len)?;
    for (name, value) in headers {
        rmp::encode::write_str(&mut *out, name)?;
        plain.write_value(out, value, Shape::Unknown)?;
    }
    Ok(())
}

/// Writes a whole message as MessagePack, its body's keys encoded with `encoding` (no
/// schema: strings stay strings) and packed when asked. This is how a client sends a
/// binary request; the message's `@bin_` header should name `encoding.checksum()`.
///
/// # Errors
///
/// An [`std::io::Error`] when a map or list has more than 2^32 entries, which
/// MessagePack cannot hold. Writing into memory fails no other way.
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
        message.body(),
        &encoder,
        Shape::Unknown,
        packed,
    )
}
