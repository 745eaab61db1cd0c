//! Middleware around every function: logs the caller.

use serde_json::Value;
use telepact::{BoxFuture, FunctionRouter, HandlerError, Message, Middleware};

use crate::auth::{EMPLOYEE_ID, STATION};
use crate::identity_log::IdentityLine;

/// Prints one identity line per call, then routes. (A handler's
/// [`telepact::Refusal`] reaches the server, which answers `ErrorUnauthorized_`.)
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityMiddleware;

impl Middleware for IdentityMiddleware {
    fn call<'a>(
        &'a self,
        request: Message,
        router: &'a FunctionRouter,
    ) -> BoxFuture<'a, Result<Message, HandlerError>> {
        identity_line(&request).print();
        // The function's future as the router gives it: nothing to wrap it in.
        router.call(request)
    }
}

fn identity_line(request: &Message) -> IdentityLine<'_> {
    let header = |name: &str| request.header(name).and_then(Value::as_str);
    IdentityLine::new(request.target(), header(EMPLOYEE_ID), header(STATION))
}
