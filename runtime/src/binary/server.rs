//! The server's half: decoding binary requests and encoding binary responses.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use telepact_schema::Schema;

use super::convert::Encoder;
use super::encoding::BinaryEncoding;
use super::shape::BytesReach;
use super::shape::Shape;
use super::wire::{
    FrameError, Walked, decode_body, read_frame, read_in_one_walk, says_packed, write_body,
    write_headers, write_message,
};
use crate::codec::{Encoding, ParseFailure, write_in_front};
use crate::message::{Headers, Message};
use crate::router::TypedInputs;

/// What a request asked of the binary encoding: read from its headers once they passed
/// validation (`@bin_` is then a list of integers, `@pac_` a boolean).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BinaryRequest {
    /// The checksums in `@bin_`: the encodings the client already holds.
    pub known_checksums: Vec<i64>,
    /// The `@pac_` header as sent.
    pub pac: Option<bool>,
}

impl BinaryRequest {
    /// `Some` when the request carries `@bin_`, i.e. asks for a binary response.
    pub fn from_headers(headers: &Headers) -> Option<Self> {
        let known = headers.get("@bin_")?;
        let known_checksums = known
            .as_array()
            .map(|checksums| checksums.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        let pac = headers.get("@pac_").and_then(Value::as_bool);
        Some(BinaryRequest {
            known_checksums,
            pac,
        })
    }

    /// Whether the response should use the packed encoding.
    pub fn packed(&self) -> bool {
        self.pac == Some(true)
    }

    /// Echoes `@pac_` into the response headers, as the protocol asks.
    pub fn echo_headers(&self, response_headers: &mut Headers) {
        if let Some(pac) = self.pac {
            response_headers.insert("@pac_", Value::Bool(pac));
        }
    }

    fn knows(&self, checksum: i32) -> bool {
        self.known_checksums.contains(&i64::from(checksum))
    }
}

/// A server's binary encoding together with the schema it came from (the schema tells
/// which response strings are `bytes`, sent raw).
#[derive(Debug, Clone)]
pub struct ServerBinary {
    /// Shared with the requests read into typed inputs, which keep their payload.
    encoding: Arc<BinaryEncoding>,
    field_ids_header: Value,
    schema: Arc<Schema>,
    /// Functions whose `Ok_` payload can hold `bytes` somewhere.
    functions_with_bytes: HashSet<String>,
}

impl ServerBinary {
    /// Derives the encoding of `schema`. Build it once, next to the schema.
    pub fn new(schema: impl Into<Arc<Schema>>) -> Self {
        let schema = schema.into();
        let encoding = Arc::new(BinaryEncoding::new(&schema));
        let field_ids_header = Value::Object(encoding.field_ids());
        let bytes = BytesReach::new(&schema);
        let functions_with_bytes = schema
            .functions()
            .iter()
            .filter(|function| {
                let ok = function.result.tags.get("Ok_");
                ok.is_some_and(|ok| bytes.fields(ok.fields.values()))
            })
            .map(|function| function.name.clone())
            .collect();
        ServerBinary {
            encoding,
            field_ids_header,
            schema,
            functions_with_bytes,
        }
    }

    /// The encoding (names ⇄ ids).
    pub fn encoding(&self) -> &BinaryEncoding {
        &self.encoding
    }

    /// The checksum answered in `@bin_`.
    pub fn checksum(&self) -> i32 {
        self.encoding.checksum()
    }

    /// Decodes a MessagePack request (see [`super::is_msgpack`]) into a message whose
    /// keys are names again and whose binary values are base64 strings. A well-formed
    /// request is read in one walk; any other is read again step by step.
    ///
    /// # Errors
    ///
    /// The [`ParseFailure`] the server answers with:
    /// - [`ParseFailure::ExpectedJsonArrayOfTwoObjects`] when `bytes` are not a
    ///   MessagePack array of two maps;
    /// - [`ParseFailure::IncompatibleBinaryEncoding`] when the first checksum of `@bin_`
    ///   is not this encoding's;
    /// - [`ParseFailure::BinaryDecodeFailure`] when the headers or the body do not decode
    ///   (an unknown field id, a string that is not UTF-8, a malformed packed list, ...);
    /// - [`ParseFailure::ExpectedJsonArrayOfAnObjectAndAnObjectOfOneObject`] when the body
    ///   is not one entry whose value is a map.
    pub fn decode_request(&self, bytes: &[u8]) -> Result<Message, ParseFailure> {
        self.decode_request_for(bytes, None)
    }

    /// [`decode_request`](Self::decode_request), reading a call to a typed route of
    /// `inputs` straight into the route's input, checked against the schema.
    pub(crate) fn decode_request_for(
        &self,
        bytes: &[u8],
        inputs: Option<TypedInputs<'_>>,
    ) -> Result<Message, ParseFailure> {
        let choose = |headers: &Headers| {
            let usable = self.is_current_checksum(headers.get("@bin_")) && !says_packed(headers);
            usable.then_some(&self.encoding)
        };
        match read_in_one_walk(bytes, choose, inputs) {
            Some(Walked::Values(headers, body)) => one_object_body(headers, body),
            Some(Walked::Checked(message)) => Ok(message),
            None => self.decode_checked(bytes),
        }
    }

    /// [`ServerBinary::decode_request`] checking the whole frame's syntax first, then
    /// each step in turn, which says why a request fails.
    pub(super) fn decode_checked(&self, bytes: &[u8]) -> Result<Message, ParseFailure> {
        let frame = read_frame(bytes).map_err(|error| {
            tracing::debug!(error = %crate::ErrorChain(&error), "binary request is not a message");
            match error {
                FrameError::NotTwoMaps(_) => ParseFailure::ExpectedJsonArrayOfTwoObjects,
                FrameError::Headers(_) => ParseFailure::BinaryDecodeFailure,
            }
        })?;
        if !self.is_current_checksum(frame.headers.get("@bin_")) {
            return Err(ParseFailure::IncompatibleBinaryEncoding);
        }
        let packed = says_packed(&frame.headers);
        let body = decode_body(frame.body, &self.encoding, packed).map_err(|error| {
            tracing::debug!(error = %crate::ErrorChain(&error), "binary request body cannot be decoded");
            ParseFailure::BinaryDecodeFailure
        })?;
        one_object_body(frame.headers, body)
    }

    /// The request was encoded with the first checksum of its `@bin_`.
    fn is_current_checksum(&self, bin_header: Option<&Value>) -> bool {
        let used = bin_header
            .and_then(Value::as_array)
            .and_then(|checksums| checksums.first())
            .and_then(Value::as_i64);
        used == Some(i64::from(self.checksum()))
    }

    /// Encodes the final response of `function` for a client that sent `@bin_`.
    ///
    /// `None` when the response must go as JSON instead: only `Ok_` results travel in
    /// binary. Adds `@bin_: [checksum]`, `@enc_` (when the client's `@bin_` lacks the
    /// current checksum) and `@pac_: true` (when packing) to the encoded headers.
    pub fn encode_response(
        &self,
        function: &str,
        response: &Message,
        request: &BinaryRequest,
    ) -> Option<Vec<u8>> {
        if response.target() != "Ok_" || response.body().len() != 1 {
            return None;
        }
        let (headers, packed) = self.answer_headers(&response.headers, request);
        let shape = self.body_shape(function);
        write_message(&headers, response.body(), &self.encoder(), shape, packed)
            .inspect_err(|error| tracing::error!(error = %crate::ErrorChain(error), "binary response could not be written"))
            .ok()
    }

    /// The body of `function`'s `Ok_` answer as a binary answer carries it (packed or
    /// not), without the headers [`encode_answer`](Self::encode_answer) puts in front.
    pub(crate) fn encode_body(
        &self,
        function: &str,
        body: &Map<String, Value>,
        packed: bool,
    ) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        let shape = self.body_shape(function);
        write_body(&mut bytes, body, &self.encoder(), shape, packed)?;
        Ok(bytes)
    }

    /// The encoder of answer bodies: keys through the encoding, `bytes` sent raw.
    fn encoder(&self) -> Encoder<'_> {
        Encoder {
            encoding: Some(&self.encoding),
            schema: Some(&self.schema),
        }
    }

    /// [`encode_response`](Self::encode_response) of a response whose body the server
    /// wrote as MessagePack already (a typed `Ok_` answer, checked as it was written, or
    /// one written before the call, packed too): that body goes behind the headers as it
    /// is.
    pub(crate) fn encode_answer(
        &self,
        function: &str,
        response: &mut Message,
        request: &BinaryRequest,
    ) -> Option<Vec<u8>> {
        let packed = request.packed() || says_packed(&response.headers);
        let Some(mut bytes) = response.take_written_as(Encoding::Binary, packed) else {
            return self.encode_response(function, response, request);
        };
        let written = write_in_front(&mut bytes, |head| {
            rmp::encode::write_array_len(&mut *head, 2)?;
            self.write_answer_headers(head, &response.headers, request)
        });
        if let Err(error) = written {
            tracing::error!(error = %crate::ErrorChain(&error), "binary response could not be written");
            return None;
        }
        Some(bytes)
    }

    /// Writes the headers of an unpacked binary answer: those of
    /// [`answer_headers`](Self::answer_headers), without copying the response's.
    fn write_answer_headers(
        &self,
        out: &mut Vec<u8>,
        response: &Headers,
        request: &BinaryRequest,
    ) -> std::io::Result<()> {
        let plain = Encoder::plain();
        let ours = ["@bin_", "@enc_", "@pac_"];
        if ours.iter().any(|name| response.contains_key(name)) {
            let (headers, _) = self.answer_headers(response, request);
            return write_headers(out, &headers);
        }
        let send_ids = !request.knows(self.checksum());
        let packed = request.packed();
        let len = response.len() + 1 + usize::from(send_ids) + usize::from(packed);
        let len = u32::try_from(len).map_err(|_| std::io::Error::other("too many headers"))?;
        rmp::encode::write_map_len(out, len)?;
        for (name, value) in response {
            rmp::encode::write_str(out, name)?;
            plain.write_value(out, value, Shape::Unknown)?;
        }
        if send_ids {
            rmp::encode::write_str(out, "@enc_")?;
            plain.write_value(out, &self.field_ids_header, Shape::Unknown)?;
        }
        rmp::encode::write_str(out, "@bin_")?;
        rmp::encode::write_array_len(out, 1)?;
        rmp::encode::write_sint(out, i64::from(self.checksum()))?;
        if packed {
            rmp::encode::write_str(out, "@pac_")?;
            rmp::encode::write_bool(out, true)?;
        }
        Ok(())
    }

    /// The headers of a binary answer: the response's, with `@bin_`, `@enc_` when the
    /// client lacks the current encoding and `@pac_` when packing; and whether to pack.
    fn answer_headers(&self, response: &Headers, request: &BinaryRequest) -> (Headers, bool) {
        let mut headers = response.clone();
        if !request.knows(self.checksum()) {
            headers.insert("@enc_", self.field_ids_header.clone());
        }
        headers.insert("@bin_", json!([self.checksum()]));
        let packed = request.packed() || says_packed(&headers);
        if packed {
            headers.insert("@pac_", Value::Bool(true));
        }
        (headers, packed)
    }

    /// The result union of `function`, when its `Ok_` can hold `bytes` (the only values
    /// the schema changes); otherwise no shape, which skips the schema walk.
    fn body_shape(&self, function: &str) -> Shape<'_> {
        if !self.functions_with_bytes.contains(function) {
            return Shape::Unknown;
        }
        self.schema
            .function_by_name(function)
            .map_or(Shape::Unknown, |(_, definition)| {
                Shape::Tags(&definition.result.tags)
            })
    }
}

/// A request whose body holds exactly one object (the function and its arguments).
fn one_object_body(headers: Headers, body: Map<String, Value>) -> Result<Message, ParseFailure> {
    let one_object = body.len() == 1 && body.values().all(Value::is_object);
    if !one_object {
        return Err(ParseFailure::ExpectedJsonArrayOfAnObjectAndAnObjectOfOneObject);
    }
    Ok(Message::from_body(headers, body))
}
