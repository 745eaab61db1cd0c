//! A Telepact message: `[headers, body]`.

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
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// Header names (each starting with `@`) and their values.
    pub headers: Headers,
    /// The one-entry body: `{target: payload}`.
    pub body: Map<String, Value>,
    /// Typed values attached on the way in (for example the caller's identity, put
    /// there by the auth hook) for middleware and handlers. Never sent on the wire.
    pub extensions: http::Extensions,
}

impl Message {
    /// A message with the given headers and a one-entry body `{target: payload}`.
    pub fn new(headers: Headers, target: impl Into<String>, payload: Map<String, Value>) -> Self {
        let mut body = Map::new();
        body.insert(target.into(), Value::Object(payload));
        Message {
            headers,
            body,
            extensions: http::Extensions::new(),
        }
    }

    /// The body's only key: the function of a request, the result tag of a response.
    pub fn target(&self) -> &str {
        self.body.keys().next().map(String::as_str).unwrap_or("")
    }

    /// The body's only value, when it is an object.
    pub fn payload(&self) -> Option<&Map<String, Value>> {
        self.body.values().next().and_then(Value::as_object)
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
        crate::base64_paths::marked_bytes(&self.headers, &self.body)
    }

    /// The message as the JSON array `[headers, body]`.
    pub fn to_json(&self) -> Value {
        Value::Array(vec![
            Value::Object(self.headers.clone()),
            Value::Object(self.body.clone()),
        ])
    }
}

/// The extension [`Message::mark_bytes`] sets.
#[derive(Debug, Clone, Copy)]
struct BytesMarked;
