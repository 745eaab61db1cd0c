//! A Telepact message: `[headers, body]`.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};
use telepact_schema::FunctionId;

use crate::base64_paths::{Base64HeaderError, MarkedBytes};
use crate::binary::BinaryEncoding;
use crate::codec::Encoding;
use crate::non_finite::NonFinite;
use crate::validate::{Compiled, NotWritten, TagSet};
pub(crate) use typed_body::Payload;
use typed_body::{ErasedBody, TypedBody};

mod headers;
mod typed_body;

pub(crate) use headers::HeadersVisitor;
pub use headers::{HeaderName, Headers, HeadersIntoIter, HeadersIter};

/// Room kept in a decoded message's header map, when it has any header, for headers
/// added to it later (the auth hook's identity, say), so that adding them does not grow
/// the map.
pub(crate) const HEADER_ROOM: usize = 4;

/// The network address a request came from. A transport that knows it puts it in the
/// request's extensions, where the auth hook ([`AuthHook::authenticate_request`]) and
/// handlers ([`Message::extensions`]) read it; unlike a header, a caller cannot forge it.
///
/// [`AuthHook::authenticate_request`]: crate::AuthHook::authenticate_request
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerAddress(pub std::net::SocketAddr);

/// One Telepact message. The body holds exactly one entry: the function name
/// (`fn.myShift`) on a request, the result tag (`Ok_`, `ErrorUnknown_`) on a response.
///
/// The body is read through [`body`](Self::body) and [`body_mut`](Self::body_mut): a
/// typed handler's answer ([`Message::typed`]) keeps its typed value, which the server
/// checks against the schema while writing it as JSON, and becomes a map of JSON values
/// only when something asks to see it that way.
#[derive(Clone, Default)]
pub struct Message {
    /// Header names (each starting with `@`) and their values.
    pub headers: Headers,
    body: Body,
    /// Typed values attached on the way in (for example the caller's identity, put
    /// there by the auth hook, and over HTTP what tower layers in front of the router
    /// attached to the request) for middleware and handlers. Never sent on the wire.
    pub extensions: http::Extensions,
    /// Set by [`mark_bytes`](Self::mark_bytes).
    bytes_marked: bool,
}

impl Message {
    /// A message with the given headers and a one-entry body `{target: payload}`.
    pub fn new(headers: Headers, target: impl Into<String>, payload: Map<String, Value>) -> Self {
        let mut body = Map::new();
        body.insert(target.into(), Value::Object(payload));
        Message::from_body(headers, body)
    }

    /// A message with the given headers and body, taken as they are (a body of other
    /// than one entry is the server's or the client's to refuse).
    pub fn from_body(headers: Headers, body: Map<String, Value>) -> Self {
        Message {
            headers,
            body: Body::Values(body),
            extensions: http::Extensions::new(),
            bytes_marked: false,
        }
    }

    /// A message whose body is a typed value that serializes as the body's one-entry
    /// object (`{"Ok_": {..}}`), such as a generated result enum.
    ///
    /// A server writes such an answer straight to JSON (or, for a binary client, to
    /// MessagePack), checking it against the schema as it goes, rather than first
    /// building a map of JSON values, validating that and writing it: the same bytes and
    /// the same checks for less work. Whatever asks for
    /// [`body`](Self::body) gets the value as JSON values, converted once.
    pub fn typed<T>(headers: Headers, body: T) -> Self
    where
        T: Serialize + Send + Sync + 'static,
    {
        Message {
            headers,
            body: Body::Typed(TypedBody::new(body)),
            extensions: http::Extensions::new(),
            bytes_marked: false,
        }
    }

    /// `function`'s answer with a typed body the server wrote before the call, in each
    /// form a client may ask for (`ahead`): tagged `tag`, known to fit the function's
    /// result and to nest no deeper than a message carries (the caller's to ensure, as
    /// `fn.api_`'s listing does). A JSON or binary answer sends those bytes as they are,
    /// unchecked again; a call that needs the body otherwise (`@select_`, a hook that
    /// changes it) takes it from `body`, which is checked as any typed answer is.
    pub(crate) fn written_before<T>(
        headers: Headers,
        function: FunctionId,
        tag: &'static str,
        body: T,
        ahead: Arc<dyn WrittenAhead>,
    ) -> Self
    where
        T: Serialize + Send + Sync + 'static,
    {
        let mut typed = TypedBody::new(body);
        TypedBody::remember_tag(&mut typed, tag);
        Message {
            headers,
            body: Body::Ahead {
                typed,
                function,
                ahead,
            },
            extensions: http::Extensions::new(),
            bytes_marked: false,
        }
    }

    /// Whether the body is still the one written for `function`'s answer before the
    /// call ([`written_before`](Self::written_before)).
    pub(crate) fn written_before_for(&self, function: FunctionId) -> bool {
        matches!(self.body, Body::Ahead { function: f, .. } if f == function)
    }

    /// A request whose call was read as a typed input, checked against the schema as it
    /// was read: the server does not check it again, and the typed route takes the input
    /// as it is ([`take_input`](Self::take_input)). Whatever asks for
    /// [`body`](Self::body) gets it as JSON values, converted once.
    pub(crate) fn checked_call(headers: Headers, call: CheckedCall) -> Self {
        Message {
            headers,
            body: Body::Typed(call.0),
            extensions: http::Extensions::new(),
            bytes_marked: false,
        }
    }

    /// Whether the body was checked against the schema as it was read
    /// ([`checked_call`](Self::checked_call)) and has not been changed since.
    pub(crate) fn body_checked(&self) -> bool {
        matches!(&self.body, Body::Typed(typed) if typed.is_checked())
    }

    /// The id of the function a [`checked_call`](Self::checked_call) was read for, while
    /// its body has not changed.
    pub(crate) fn checked_function(&self) -> Option<FunctionId> {
        match &self.body {
            Body::Typed(typed) if typed.is_checked() => typed.function(),
            _ => None,
        }
    }

    /// Takes the function name and input of a [`checked_call`](Self::checked_call) when
    /// the input is an `I` and no clone of the message shares it, leaving an empty body.
    pub(crate) fn take_input<I: 'static>(&mut self) -> Option<(&'static str, I)> {
        let Body::Typed(typed) = &mut self.body else {
            return None;
        };
        let call = TypedBody::take_input(typed)?;
        self.body = Body::Values(Map::new());
        Some(call)
    }

    /// The body: `{target: payload}`.
    ///
    /// For a [typed](Self::typed) body, the value converted to JSON values (once; an
    /// empty map if the value cannot be converted, which the server then answers as the
    /// handler's failure).
    #[inline]
    pub fn body(&self) -> &Map<String, Value> {
        match &self.body {
            Body::Values(body) => body,
            Body::Typed(typed) | Body::Written { typed, .. } | Body::Ahead { typed, .. } => {
                typed.values()
            }
        }
    }

    /// The body, to change: a [typed](Self::typed) body is converted to JSON values for
    /// good.
    pub fn body_mut(&mut self) -> &mut Map<String, Value> {
        if !matches!(self.body, Body::Values(_)) {
            let values = std::mem::take(&mut self.body).into_values();
            self.body = Body::Values(values);
        }
        match &mut self.body {
            Body::Values(body) => body,
            // Made `Values` just above.
            Body::Typed(_) | Body::Written { .. } | Body::Ahead { .. } => {
                unreachable!("the body was converted")
            }
        }
    }

    /// The body, as JSON values.
    #[inline]
    pub fn into_body(self) -> Map<String, Value> {
        self.into_parts().1
    }

    /// Headers, body (as JSON values) and extensions.
    #[inline]
    pub fn into_parts(self) -> (Headers, Map<String, Value>, http::Extensions) {
        (self.headers, self.body.into_values(), self.extensions)
    }

    /// The header `name`, if present. Cheaper than `headers.get(name)` for the few headers
    /// a message usually carries: a short scan compares names instead of hashing one.
    #[inline]
    pub fn header(&self, name: &str) -> Option<&Value> {
        self.headers.get(name)
    }

    /// The body's only key: the function of a request, the result tag of a response.
    /// A [typed](Self::typed) body names it without being converted to values when it is
    /// an enum (as generated result enums are) or a map.
    #[inline]
    pub fn target(&self) -> &str {
        match &self.body {
            Body::Values(body) => body.keys().next().map(String::as_str).unwrap_or(""),
            Body::Typed(typed) | Body::Written { typed, .. } | Body::Ahead { typed, .. } => {
                typed.tag()
            }
        }
    }

    /// The body's only value, when it is an object.
    pub fn payload(&self) -> Option<&Map<String, Value>> {
        self.body().values().next().and_then(Value::as_object)
    }

    /// Says that the base64 strings at the `bytes` places of this response are bytes
    /// (as a typed handler's [`Bytes`](crate::typed::Bytes) values are), so that the
    /// server names them in the `@base64_` header of a JSON answer. A handler that
    /// answers with plain JSON values leaves it unset: its strings stay strings.
    pub fn mark_bytes(&mut self) {
        self.bytes_marked = true;
    }

    /// Whether [`mark_bytes`](Self::mark_bytes) was called.
    #[inline]
    pub fn bytes_marked(&self) -> bool {
        self.bytes_marked
    }

    /// The bytes values this message's `@base64_` header names, decoded (none without
    /// the header). A [`Client`](crate::Client) has checked the header fits the body
    /// of every JSON response it returns, and writes it for a binary one from the bytes
    /// it read (any the server sent with it is dropped).
    ///
    /// # Errors
    ///
    /// [`Base64HeaderError`] when the header does not fit the body: it is not an object,
    /// it names a key the body lacks or a list by a key other than `"*"`, or the value at
    /// a named place is not a string or not base64.
    pub fn marked_bytes(&self) -> Result<Vec<MarkedBytes>, Base64HeaderError> {
        crate::base64_paths::marked_bytes(&self.headers, self.body())
    }

    /// The message as the JSON array `[headers, body]`.
    pub fn to_json(&self) -> Value {
        Value::Array(vec![
            Value::from(self.headers.clone()),
            Value::Object(self.body().clone()),
        ])
    }

    /// Writes a [typed](Self::typed) body as JSON, checked against a function's `result`
    /// (see [`write_result`](crate::validate::write_result)); `false`, with nothing kept,
    /// when the writer leaves it to the values' path, or the body is values already:
    /// those are validated as they are and serialized, which costs less than writing
    /// them through the checking serializer.
    pub(crate) fn write_checked(&mut self, compiled: &Compiled, result: &TagSet) -> bool {
        self.write_typed(Encoding::Json, |typed, out| {
            typed.write_result(compiled, result, out)
        })
    }

    /// Like [`write_checked`](Self::write_checked), as the MessagePack body of a binary
    /// answer, keys through `encoding` (see
    /// [`write_result_binary`](crate::validate::write_result_binary)).
    pub(crate) fn write_checked_binary(
        &mut self,
        compiled: &Compiled,
        result: &TagSet,
        encoding: &BinaryEncoding,
    ) -> bool {
        self.write_typed(Encoding::Binary, |typed, out| {
            typed.write_result_binary(compiled, result, encoding, out)
        })
    }

    fn write_typed(
        &mut self,
        encoding: Encoding,
        write: impl FnOnce(&dyn ErasedBody, &mut Vec<u8>) -> Result<Option<&'static str>, NotWritten>,
    ) -> bool {
        let Body::Typed(typed) = &mut self.body else {
            return false;
        };
        // Room for a small answer in one allocation.
        let mut bytes = Vec::with_capacity(256);
        let Ok(tag) = write(typed.value(), &mut bytes) else {
            return false;
        };
        if let Some(tag) = tag {
            TypedBody::remember_tag(typed, tag);
        }
        let typed = Arc::clone(typed);
        self.body = Body::Written {
            typed,
            bytes,
            encoding,
        };
        true
    }

    /// Writes a [typed](Self::typed) body as JSON at the end of `out`, unchecked (a
    /// client's request: the server checks it); `false`, with `out` as it was, when the
    /// body is values or does not serialize.
    pub(crate) fn write_typed_json(&self, out: &mut Vec<u8>) -> bool {
        self.write_typed_unchecked(out, |typed, out| typed.write_json(out).is_ok())
    }

    /// Like [`write_typed_json`](Self::write_typed_json), as a MessagePack body with
    /// keys through `encoding`.
    pub(crate) fn write_typed_binary(&self, encoding: &BinaryEncoding, out: &mut Vec<u8>) -> bool {
        self.write_typed_unchecked(out, |typed, out| typed.write_pack(encoding, out).is_ok())
    }

    fn write_typed_unchecked(
        &self,
        out: &mut Vec<u8>,
        write: impl FnOnce(&dyn ErasedBody, &mut Vec<u8>) -> bool,
    ) -> bool {
        let Body::Typed(typed) = &self.body else {
            return false;
        };
        let start = out.len();
        let written = write(typed.value(), out);
        if !written {
            out.truncate(start);
        }
        written
    }

    /// Takes the body the server wrote in `wanted`, leaving the body typed.
    pub(crate) fn take_written(&mut self, wanted: Encoding) -> Option<Vec<u8>> {
        self.take_written_as(wanted, false)
    }

    /// Like [`take_written`](Self::take_written); a binary body `packed` when asked,
    /// which only a body written before the call has.
    pub(crate) fn take_written_as(&mut self, wanted: Encoding, packed: bool) -> Option<Vec<u8>> {
        let copied = match &self.body {
            Body::Written { encoding, .. } if *encoding == wanted && !packed => None,
            Body::Ahead { ahead, .. } => Some(ahead.written(wanted, packed)?.to_vec()),
            _ => return None,
        };
        match std::mem::take(&mut self.body) {
            Body::Written { typed, bytes, .. } => {
                self.body = Body::Typed(typed);
                Some(bytes)
            }
            Body::Ahead { typed, .. } => {
                self.body = Body::Typed(typed);
                copied
            }
            other => {
                self.body = other;
                None
            }
        }
    }

    /// Why a typed body does not convert to JSON values (it is no object, or holds a
    /// float JSON cannot carry); `None` for values.
    pub(crate) fn conversion_error(&self) -> Option<&str> {
        match &self.body {
            Body::Values(_) => None,
            Body::Typed(typed) | Body::Written { typed, .. } | Body::Ahead { typed, .. } => {
                typed.conversion_error()
            }
        }
    }

    /// The first NaN or infinity in a [typed](Self::typed) body, which `serde_json`
    /// would have written as `null`.
    pub(crate) fn typed_non_finite(&self) -> Option<NonFinite> {
        match &self.body {
            Body::Typed(typed) => typed.value().non_finite(),
            _ => None,
        }
    }

    /// Turns a typed body into JSON values for good; the error when its value does not
    /// convert.
    pub(crate) fn convert_typed(&mut self) -> Result<(), String> {
        match self.conversion_error() {
            Some(error) => Err(error.to_string()),
            None => {
                self.body_mut();
                Ok(())
            }
        }
    }
}

/// A request's call `{tag: input}` whose input was read and checked against the schema
/// in one pass (see [`Message::checked_call`]).
pub(crate) struct CheckedCall(Arc<TypedBody>);

impl CheckedCall {
    pub(crate) fn new<I>(tag: &'static str, input: I) -> Self
    where
        I: Serialize + Send + Sync + 'static,
    {
        CheckedCall(TypedBody::checked_call(tag, input))
    }

    /// Keeps the payload the input was read from (what asks for the body's JSON values
    /// gets the request's own, not the input's serialization, which may order keys or
    /// write numbers otherwise) and the id of the function called, which the server
    /// then need not look up again.
    pub(crate) fn read_from(mut self, payload: Payload, function: FunctionId) -> Self {
        TypedBody::keep_origin(&mut self.0, payload, function);
        self
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("headers", &self.headers)
            .field("body", self.body())
            .field("extensions", &self.extensions)
            .field("bytes_marked", &self.bytes_marked)
            .finish()
    }
}

/// A message body: JSON values, or a typed value (and, once the server wrote it, its
/// JSON text).
#[derive(Clone)]
enum Body {
    Values(Map<String, Value>),
    Typed(Arc<TypedBody>),
    /// Written as JSON, or as the MessagePack body of a binary answer, and checked
    /// against the schema by the server as it answered.
    Written {
        typed: Arc<TypedBody>,
        bytes: Vec<u8>,
        encoding: Encoding,
    },
    /// Written before the call, as `function`'s answer (see [`Message::written_before`]).
    Ahead {
        typed: Arc<TypedBody>,
        function: FunctionId,
        ahead: Arc<dyn WrittenAhead>,
    },
}

/// A body written before its call, in each form a client may ask for it in, by the
/// server that answers with it (the keys of a binary body are that server's).
pub(crate) trait WrittenAhead: Send + Sync {
    /// The body in `encoding`: JSON, or the MessagePack body of a binary answer, packed
    /// when `packed`. `None`: it cannot be written so, and is written from the typed
    /// body instead, as any answer is.
    fn written(&self, encoding: Encoding, packed: bool) -> Option<&[u8]>;
}

impl Body {
    /// The body as JSON values, taken out of a typed body no clone shares.
    #[inline]
    fn into_values(self) -> Map<String, Value> {
        match self {
            Body::Values(body) => body,
            Body::Typed(typed) | Body::Written { typed, .. } | Body::Ahead { typed, .. } => {
                TypedBody::into_values(typed)
            }
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::Values(Map::new())
    }
}

#[cfg(test)]
mod tests;
