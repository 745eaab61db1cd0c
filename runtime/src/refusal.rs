//! Refusals: the auth errors a handler, middleware or policy answers with, typed.

use serde_json::{Map, Value};

use crate::message::{Headers, Message};

/// The message of `ErrorUnauthenticated_` when no one says more.
pub(crate) const UNAUTHENTICATED_MESSAGE: &str = "Valid authentication is required.";

/// A call refused for who the caller is. Return it (boxed, as any
/// [`HandlerError`](crate::HandlerError)) from a handler, middleware or policy and the
/// server answers `ErrorUnauthenticated_` or `ErrorUnauthorized_` with its message, as
/// the schema's auth errors (`union.Auth_` brings them) describe; it is not logged as a
/// failure.
///
/// ```
/// use telepact::{HandlerError, Refusal};
///
/// fn approve(station: &str) -> Result<(), HandlerError> {
///     if station != "oven" {
///         return Err(Refusal::unauthorized("oven station required").into());
///     }
///     Ok(())
/// }
/// # assert!(approve("counter").unwrap_err().downcast::<Refusal>().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The caller is not known: credentials are missing or were not accepted.
    #[error("authentication required")]
    Unauthenticated,
    /// The caller is known but may not do this; the message says why.
    #[error("{0}")]
    Unauthorized(String),
}

impl Refusal {
    /// [`Refusal::Unauthorized`] with `message`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Refusal::Unauthorized(message.into())
    }

    /// The result tag the client receives.
    pub fn tag(&self) -> &'static str {
        match self {
            Refusal::Unauthenticated => "ErrorUnauthenticated_",
            Refusal::Unauthorized(_) => "ErrorUnauthorized_",
        }
    }

    /// The `message!` the client receives.
    pub fn message(&self) -> &str {
        match self {
            Refusal::Unauthenticated => UNAUTHENTICATED_MESSAGE,
            Refusal::Unauthorized(message) => message,
        }
    }

    /// The result message: `{"ErrorUnauthorized_": {"message!": ..}}`.
    pub fn to_message(&self) -> Message {
        let mut payload = Map::new();
        payload.insert(
            "message!".to_string(),
            Value::String(self.message().to_string()),
        );
        Message::new(Headers::new(), self.tag(), payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refusals_are_the_auth_errors() {
        let message = Refusal::unauthorized("oven only").to_message();
        assert_eq!(message.target(), "ErrorUnauthorized_");
        assert_eq!(
            Value::Object(message.into_body()),
            json!({"ErrorUnauthorized_": {"message!": "oven only"}})
        );
        let message = Refusal::Unauthenticated.to_message();
        assert_eq!(
            Value::Object(message.into_body()),
            json!({"ErrorUnauthenticated_": {"message!": UNAUTHENTICATED_MESSAGE}})
        );
    }
}
