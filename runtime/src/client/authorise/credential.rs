//! What an authoriser hands the client for one call.

use std::fmt;

use http::HeaderMap;
use serde_json::Value;
use zeroize::Zeroize;

/// The credential for one call.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Credential {
    /// Send the call without credentials.
    None,
    /// Send this `union.Auth_` value as the `@auth_` header.
    Auth(AuthValue),
    /// Add these headers to the transport's request (HTTP `Authorization`, ...).
    /// Needs a transport that carries headers, such as `HttpTransport`.
    Transport(HeaderMap),
}

impl fmt::Debug for Credential {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::None => formatter.write_str("None"),
            Credential::Auth(value) => formatter.debug_tuple("Auth").field(value).finish(),
            // Header names only: the values are the secret part.
            Credential::Transport(headers) => formatter
                .debug_tuple("Transport")
                .field(&headers.keys().collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// A `union.Auth_` value such as `{"Bearer": {"token": "…"}}`. `Debug` shows only the
/// variant; every string in it is wiped on drop.
#[derive(Clone, PartialEq)]
pub struct AuthValue(Value);

impl AuthValue {
    /// Wraps a whole `@auth_` value.
    pub fn new(value: Value) -> Self {
        AuthValue(value)
    }

    /// `{variant: {field: value, ...}}`.
    pub fn variant<'a>(
        variant: &str,
        fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let fields = fields
            .into_iter()
            .map(|(name, value)| (name.to_string(), Value::from(value)))
            .collect();
        let mut union = serde_json::Map::new();
        union.insert(variant.to_string(), Value::Object(fields));
        AuthValue(Value::Object(union))
    }

    /// The value itself, for the wire.
    pub fn expose(&self) -> &Value {
        &self.0
    }

    /// The union's variant (`Bearer`, `Password`, ...), when the value is a union.
    pub fn variant_name(&self) -> Option<&str> {
        self.0.as_object()?.keys().next().map(String::as_str)
    }
}

impl fmt::Debug for AuthValue {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.variant_name() {
            Some(variant) => write!(formatter, "AuthValue({variant}: ***)"),
            None => formatter.write_str("AuthValue(***)"),
        }
    }
}

impl Drop for AuthValue {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

fn wipe(value: &mut Value) {
    match value {
        Value::String(text) => text.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(fields) => fields.values_mut().for_each(wipe),
        _ => {}
    }
}
