//! A Telepact message: `[headers, body]`.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::base64_paths::{Base64HeaderError, MarkedBytes};

/// Message headers: `@`-prefixed keys to JSON values.
pub type Headers = Map<String, Value>;

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
    /// there by the auth hook) for middleware and handlers. Never sent on the wire.
    pub extensions: http::Extensions,
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
        }
    }

    /// A message whose body is a typed value that serializes as the body's one-entry
    /// object (`{"Ok_": {..}}`), such as a generated result enum.
    ///
    /// A server writes such an answer straight to JSON, checking it against the schema
    /// as it goes, rather than first building a map of JSON values, validating that and
    /// writing it: the same bytes and the same checks for less work. Whatever asks for
    /// [`body`](Self::body) gets the value as JSON values, converted once.
    pub fn typed<T>(headers: Headers, body: T) -> Self
    where
        T: Serialize + Send + Sync + 'static,
    {
        Message {
            headers,
            body: Body::Typed(TypedBody::new(body)),
            extensions: http::Extensions::new(),
        }
    }

    /// The body: `{target: payload}`.
    ///
    /// For a [typed](Self::typed) body, the value converted to JSON values (once; an
    /// empty map if the value cannot be converted, which the server then answers as the
    /// handler's failure).
    pub fn body(&self) -> &Map<String, Value> {
        match &self.body {
            Body::Values(body) => body,
            Body::Typed(typed) | Body::Written { typed, .. } => typed.values(),
        }
    }

    /// The body, to change: a [typed](Self::typed) body is converted to JSON values for
    /// good.
    pub fn body_mut(&mut self) -> &mut Map<String, Value> {
        if !matches!(self.body, Body::Values(_)) {
            let values = self.body().clone();
            self.body = Body::Values(values);
        }
        match &mut self.body {
            Body::Values(body) => body,
            // Made `Values` just above.
            Body::Typed(_) | Body::Written { .. } => unreachable!("the body was converted"),
        }
    }

    /// The body, as JSON values.
    pub fn into_body(self) -> Map<String, Value> {
        self.into_parts().1
    }

    /// Headers, body (as JSON values) and extensions.
    pub fn into_parts(self) -> (Headers, Map<String, Value>, http::Extensions) {
        let body = match self.body {
            Body::Values(body) => body,
            Body::Typed(typed) | Body::Written { typed, .. } => TypedBody::into_values(typed),
        };
        (self.headers, body, self.extensions)
    }

    /// The body's only key: the function of a request, the result tag of a response.
    pub fn target(&self) -> &str {
        if let Body::Written { tag: Some(tag), .. } = &self.body {
            return tag;
        }
        self.body().keys().next().map(String::as_str).unwrap_or("")
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
        self.extensions.insert(BytesMarked);
    }

    /// Whether [`mark_bytes`](Self::mark_bytes) was called.
    pub fn bytes_marked(&self) -> bool {
        self.extensions.get::<BytesMarked>().is_some()
    }

    /// The bytes values this message's `@base64_` header names, decoded (none without
    /// the header). A [`Client`](crate::Client) has checked the header fits the body
    /// of every JSON response it returns.
    pub fn marked_bytes(&self) -> Result<Vec<MarkedBytes>, Base64HeaderError> {
        crate::base64_paths::marked_bytes(&self.headers, self.body())
    }

    /// The message as the JSON array `[headers, body]`.
    pub fn to_json(&self) -> Value {
        Value::Array(vec![
            Value::Object(self.headers.clone()),
            Value::Object(self.body().clone()),
        ])
    }

    /// The typed value of a [typed](Self::typed) body the server has not written yet.
    pub(crate) fn unwritten_typed(&self) -> Option<&TypedBody> {
        match &self.body {
            Body::Typed(typed) => Some(typed),
            Body::Values(_) | Body::Written { .. } => None,
        }
    }

    /// Records the JSON a typed body was written and checked as, with its result tag.
    pub(crate) fn set_written(&mut self, json: Vec<u8>, tag: Option<&'static str>) {
        if let Body::Typed(typed) = &self.body {
            let typed = Arc::clone(typed);
            self.body = Body::Written { typed, json, tag };
        }
    }

    /// The body as JSON text, when a typed body was written and checked.
    pub(crate) fn written_json(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Written { json, .. } => Some(json),
            Body::Values(_) | Body::Typed(_) => None,
        }
    }

    /// Turns a typed body into JSON values for good; the error when its value does not
    /// convert.
    pub(crate) fn convert_typed(&mut self) -> Result<(), String> {
        let error = match &self.body {
            Body::Values(_) => return Ok(()),
            Body::Typed(typed) | Body::Written { typed, .. } => typed.conversion_error(),
        };
        match error {
            Some(error) => Err(error.to_string()),
            None => {
                self.body_mut();
                Ok(())
            }
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("headers", &self.headers)
            .field("body", self.body())
            .field("extensions", &self.extensions)
            .finish()
    }
}

/// A message body: JSON values, or a typed value (and, once the server wrote it, its
/// JSON text).
#[derive(Clone)]
enum Body {
    Values(Map<String, Value>),
    Typed(Arc<TypedBody>),
    /// Written as JSON and checked against the schema by the server.
    Written {
        typed: Arc<TypedBody>,
        json: Vec<u8>,
        /// The result tag, when the value named it as it was written.
        tag: Option<&'static str>,
    },
}

impl Default for Body {
    fn default() -> Self {
        Body::Values(Map::new())
    }
}

/// A typed body and, once asked for, its value as JSON values: one allocation, shared
/// by the message's clones.
pub(crate) struct TypedBody<T: ?Sized = dyn ErasedBody> {
    values: OnceLock<Result<Map<String, Value>, String>>,
    value: T,
}

impl TypedBody {
    fn new<T: Serialize + Send + Sync + 'static>(value: T) -> Arc<Self> {
        Arc::new(TypedBody {
            values: OnceLock::new(),
            value,
        })
    }

    fn converted(&self) -> &Result<Map<String, Value>, String> {
        self.values.get_or_init(|| self.value.to_values())
    }

    fn values(&self) -> &Map<String, Value> {
        static EMPTY: OnceLock<Map<String, Value>> = OnceLock::new();
        match self.converted() {
            Ok(values) => values,
            Err(_) => EMPTY.get_or_init(Map::new),
        }
    }

    /// The values, taken out when no clone of the message shares them.
    fn into_values(mut shared: Arc<Self>) -> Map<String, Value> {
        shared.converted();
        match Arc::get_mut(&mut shared).and_then(|typed| typed.values.take()) {
            Some(Ok(values)) => values,
            Some(Err(_)) => Map::new(),
            None => shared.values().clone(),
        }
    }

    fn conversion_error(&self) -> Option<&str> {
        self.converted().as_ref().err().map(String::as_str)
    }

    /// The value, as a `Serialize` trait object's stand-in.
    pub(crate) fn value(&self) -> &dyn ErasedBody {
        &self.value
    }
}

/// What the server does with a typed body without knowing its type.
pub(crate) trait ErasedBody: Send + Sync {
    /// The value as a body of JSON values, or why it is not one.
    fn to_values(&self) -> Result<Map<String, Value>, String>;

    /// Writes the value as JSON into `out`, checking it against a function's result
    /// (see [`crate::validate::write_result`]).
    fn write_result(
        &self,
        compiled: &crate::validate::Compiled,
        result: &crate::validate::TagSet,
        out: &mut Vec<u8>,
    ) -> Result<Option<&'static str>, crate::validate::NotWritten>;
}

impl<T: Serialize + Send + Sync> ErasedBody for T {
    fn to_values(&self) -> Result<Map<String, Value>, String> {
        match serde_json::to_value(self) {
            Ok(Value::Object(body)) => Ok(body),
            Ok(other) => Err(format!("a result must serialize to an object, not {other}")),
            Err(e) => Err(e.to_string()),
        }
    }

    fn write_result(
        &self,
        compiled: &crate::validate::Compiled,
        result: &crate::validate::TagSet,
        out: &mut Vec<u8>,
    ) -> Result<Option<&'static str>, crate::validate::NotWritten> {
        crate::validate::write_result(self, compiled, result, out)
    }
}

/// The extension [`Message::mark_bytes`] sets.
#[derive(Debug, Clone, Copy)]
struct BytesMarked;
