//! A Telepact message: `[headers, body]`.

use serde_json::{Map, Value};

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
    pub headers: Headers,
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

    /// The message as the JSON array `[headers, body]`.
    pub fn to_json(&self) -> Value {
        Value::Array(vec![
            Value::Object(self.headers.clone()),
            Value::Object(self.body.clone()),
        ])
    }
}
