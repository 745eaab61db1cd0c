//! Middleware around every function: logs the caller, maps `Unauthorized` to the protocol.

use serde_json::{Map, Value};
use telepact::{BoxFuture, FunctionRouter, HandlerError, Headers, Message, Middleware};

use crate::identity_log::IdentityEvent;

/// The app's own refusal: the caller is known but may not do this.
/// [`IdentityMiddleware`] answers it with `ErrorUnauthorized_`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unauthorized(pub String);

impl Unauthorized {
    pub fn new(message: impl Into<String>) -> Self {
        Unauthorized(message.into())
    }
}

/// Prints one identity line per call, then routes; an [`Unauthorized`] error from a
/// handler becomes `ErrorUnauthorized_ {"message!": ..}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityMiddleware;

impl Middleware for IdentityMiddleware {
    fn call<'a>(
        &'a self,
        request: Message,
        router: &'a FunctionRouter,
    ) -> BoxFuture<'a, Result<Message, HandlerError>> {
        Box::pin(async move {
            identity_event(&request).print();
            match router.call(request).await {
                Err(error) => match error.downcast::<Unauthorized>() {
                    Ok(unauthorized) => Ok(unauthorized_response(&unauthorized)),
                    Err(other) => Err(other),
                },
                answered => answered,
            }
        })
    }
}

fn identity_event(request: &Message) -> IdentityEvent {
    let header = |name: &str| request.headers.get(name).and_then(Value::as_str);
    IdentityEvent::new(request.target(), header("@employeeId"), header("@station"))
}

fn unauthorized_response(refusal: &Unauthorized) -> Message {
    let mut payload = Map::new();
    payload.insert("message!".to_string(), Value::String(refusal.0.clone()));
    Message::new(Headers::new(), "ErrorUnauthorized_", payload)
}
