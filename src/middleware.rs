//! Middleware around every function: logs the caller.

use telepact::{BoxFuture, FunctionRouter, HandlerError, Message, Middleware};

use crate::identity_log::IdentityLine;
use crate::staff::Identity;

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

/// The caller as the auth hook identified it: the typed [`Identity`] it attached with
/// the `@employeeId` and `@station` headers (which no caller can set), read without
/// looking the headers up.
fn identity_line(request: &Message) -> IdentityLine<'_> {
    let identity = request.extensions.get::<Identity>();
    IdentityLine::new(
        request.target(),
        identity.map(|identity| identity.employee_id),
        identity.map(|identity| identity.station),
    )
}
