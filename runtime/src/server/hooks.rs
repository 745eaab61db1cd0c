//! The server's pluggable steps: authentication, middleware and observation hooks.

use std::future::Future;
use std::sync::Arc;

use crate::message::{HeaderName, Headers, Message};
use crate::router::{BoxFuture, FunctionRouter, HandlerError};

use super::error::ProcessError;

/// What a successful on-auth hook hands on: headers merged into the request, and typed
/// values (for example the caller's identity) put into [`Message::extensions`].
#[derive(Debug, Default)]
pub struct Authenticated {
    /// Headers merged into the request, in the order added. A list rather than a map:
    /// the server inserts each into the request's headers, so a map here would only be
    /// built to be taken apart.
    headers: Vec<(HeaderName, serde_json::Value)>,
    /// Typed values moved into the request's [`Message::extensions`].
    pub extensions: http::Extensions,
}

impl Authenticated {
    /// Nothing to add: the request passes unchanged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a header to merge into the request (replacing one the request has, or one
    /// added before under the same name).
    pub fn header(mut self, name: impl Into<HeaderName>, value: serde_json::Value) -> Self {
        self.headers.push((name.into(), value));
        self
    }

    /// Attaches a typed value for middleware and handlers.
    pub fn extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.extensions.insert(value);
        self
    }

    /// The headers to merge, in the order added.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &serde_json::Value)> {
        self.headers.iter().map(|(name, value)| (&**name, value))
    }

    /// The value the request's header `name` gets, if this adds one.
    pub fn header_value(&self, name: &str) -> Option<&serde_json::Value> {
        let mut added = self.headers.iter().rev();
        added
            .find(|(added, _)| added == name)
            .map(|(_, value)| value)
    }

    /// Merges the headers into `headers` and the values into `extensions`.
    pub(crate) fn merge_into(self, headers: &mut Headers, extensions: &mut http::Extensions) {
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        extensions.extend(self.extensions);
    }
}

impl From<Headers> for Authenticated {
    fn from(headers: Headers) -> Self {
        Authenticated {
            headers: headers.into_iter().collect(),
            extensions: http::Extensions::new(),
        }
    }
}

/// Checks the credentials of a request to an authenticated function. It sees the
/// request headers (with `@auth_`); an error rejects the request with
/// `ErrorUnauthenticated_`.
///
/// Any `async fn(Headers) -> Result<Authenticated, HandlerError>` (or closure of that
/// shape) is a hook; it gets its own copy of the headers, so it may hold them across
/// awaits.
pub trait AuthHook: Send + Sync + 'static {
    /// Checks `headers`; an error answers `ErrorUnauthenticated_`.
    fn authenticate(
        &self,
        headers: &Headers,
    ) -> BoxFuture<'static, Result<Authenticated, HandlerError>>;

    /// What the server calls: [`authenticate`](Self::authenticate) with what the
    /// transport attached to the request as well (a [`PeerAddress`](crate::PeerAddress),
    /// say). Override it in a hook that needs them; by default they are ignored.
    fn authenticate_request(
        &self,
        headers: &Headers,
        transport: &http::Extensions,
    ) -> BoxFuture<'static, Result<Authenticated, HandlerError>> {
        let _ = transport;
        self.authenticate(headers)
    }

    /// Request headers only this hook may set (the identity it derives, say). The
    /// server drops any a client sent, on every request and before validation, public
    /// functions included, so no caller can pose as a user.
    fn reserved_headers(&self) -> &[&'static str] {
        &[]
    }
}

impl<F, Fut> AuthHook for F
where
    F: Fn(Headers) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Authenticated, HandlerError>> + Send + 'static,
{
    fn authenticate(
        &self,
        headers: &Headers,
    ) -> BoxFuture<'static, Result<Authenticated, HandlerError>> {
        Box::pin(self(headers.clone()))
    }
}

/// Wraps the function router: receives the validated request and the router, returns
/// the result message. An error (or panic) answers `ErrorUnknown_`.
///
/// Middlewares added to one server run in the order added: the first added is the
/// outermost, and its `router.call` runs the next one, down to the functions.
pub trait Middleware: Send + Sync + 'static {
    /// Handles `request`, usually by passing it on with `router.call`.
    fn call<'a>(
        &'a self,
        request: Message,
        router: &'a FunctionRouter,
    ) -> BoxFuture<'a, Result<Message, HandlerError>>;
}

impl<F> Middleware for F
where
    F: for<'a> Fn(Message, &'a FunctionRouter) -> BoxFuture<'a, Result<Message, HandlerError>>
        + Send
        + Sync
        + 'static,
{
    fn call<'a>(
        &'a self,
        request: Message,
        router: &'a FunctionRouter,
    ) -> BoxFuture<'a, Result<Message, HandlerError>> {
        self(request, router)
    }
}

/// Makes a closure a [`Middleware`], guiding its type so it may borrow the router:
///
/// ```
/// use telepact::{Message, FunctionRouter, middleware_fn};
///
/// let logging = middleware_fn(|request: Message, router: &FunctionRouter| {
///     Box::pin(async move {
///         let function = request.target().to_string();
///         let result = router.call(request).await;
///         tracing::info!(%function, ok = result.is_ok(), "handled");
///         result
///     })
/// });
/// # let _ = logging;
/// ```
pub fn middleware_fn<F>(middleware: F) -> impl Middleware
where
    F: for<'a> Fn(Message, &'a FunctionRouter) -> BoxFuture<'a, Result<Message, HandlerError>>
        + Send
        + Sync
        + 'static,
{
    middleware
}

/// The rest of the chain, owned: what a [`middleware_from_fn`] closure calls to go on.
#[derive(Clone, Debug)]
pub struct Next {
    router: FunctionRouter,
}

impl Next {
    /// Runs the following middleware and then the function.
    pub async fn run(self, request: Message) -> Result<Message, HandlerError> {
        self.router.call(request).await
    }
}

/// A [`Middleware`] made by [`middleware_from_fn`].
#[derive(Clone)]
pub struct FromFn<F>(F);

impl<F> std::fmt::Debug for FromFn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FromFn")
    }
}

impl<F, Fut> Middleware for FromFn<F>
where
    F: Fn(Message, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Message, HandlerError>> + Send + 'static,
{
    fn call<'a>(
        &'a self,
        request: Message,
        router: &'a FunctionRouter,
    ) -> BoxFuture<'a, Result<Message, HandlerError>> {
        let next = Next {
            router: router.clone(),
        };
        Box::pin((self.0)(request, next))
    }
}

/// Makes an async closure taking the request and an owned [`Next`] a [`Middleware`]:
///
/// ```
/// use telepact::{Message, Next, middleware_from_fn};
///
/// let timing = middleware_from_fn(|request: Message, next: Next| async move {
///     let started = std::time::Instant::now();
///     let result = next.run(request).await;
///     tracing::debug!(elapsed = ?started.elapsed(), "called");
///     result
/// });
/// # let _ = timing;
/// ```
pub fn middleware_from_fn<F, Fut>(middleware: F) -> FromFn<F>
where
    F: Fn(Message, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Message, HandlerError>> + Send + 'static,
{
    FromFn(middleware)
}

/// One link of a middleware chain, as the function the link before it calls.
struct Link {
    middleware: Arc<dyn Middleware>,
    router: FunctionRouter,
}

impl crate::router::Function for Link {
    fn call(&self, request: Message) -> BoxFuture<'static, Result<Message, HandlerError>> {
        let middleware = Arc::clone(&self.middleware);
        let router = self.router.clone();
        Box::pin(async move { middleware.call(request, &router).await })
    }
}

/// Chains `middlewares` (outermost first) around `router`: returns the outermost
/// middleware and the router it is given, whose calls run the rest of the chain.
pub(crate) fn chain(
    middlewares: Vec<Arc<dyn Middleware>>,
    mut router: FunctionRouter,
) -> (Arc<dyn Middleware>, FunctionRouter) {
    let mut outer: Arc<dyn Middleware> = Arc::new(Direct);
    for (i, middleware) in middlewares.into_iter().rev().enumerate() {
        if i > 0 {
            let link = Link {
                middleware: outer,
                router: router.clone(),
            };
            router = router.through(link);
        }
        outer = middleware;
    }
    (outer, router)
}

/// The middleware used when none is given: straight to the router.
pub(crate) struct Direct;

impl Middleware for Direct {
    fn call<'a>(
        &'a self,
        request: Message,
        router: &'a FunctionRouter,
    ) -> BoxFuture<'a, Result<Message, HandlerError>> {
        router.call(request)
    }
}

/// Observes a parsed request or a finished response. Its failure is logged and
/// otherwise ignored: it never changes the answer.
pub type MessageHook = Arc<dyn Fn(&Message) -> Result<(), HandlerError> + Send + Sync>;

/// Observes every error met while processing.
pub type ErrorHook = Arc<dyn Fn(&ProcessError) + Send + Sync>;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn added_headers_replace_the_requests_and_the_last_of_a_name_wins() {
        let authenticated = Authenticated::new()
            .header("@who", json!("first"))
            .header("@station", json!("oven"))
            .header("@who", json!("second"))
            .extension(7_u8);
        assert_eq!(authenticated.header_value("@who"), Some(&json!("second")));
        assert_eq!(authenticated.header_value("@none"), None);
        assert_eq!(authenticated.headers().count(), 3);

        let mut headers = Headers::new();
        headers.insert("@who".to_string(), json!("forged"));
        headers.insert("@auth_".to_string(), json!({"Token": {"token": "t"}}));
        let mut extensions = http::Extensions::new();
        authenticated.merge_into(&mut headers, &mut extensions);
        assert_eq!(
            serde_json::Value::from(headers),
            json!({"@who": "second", "@auth_": {"Token": {"token": "t"}}, "@station": "oven"})
        );
        assert_eq!(extensions.get::<u8>(), Some(&7));
    }

    #[test]
    fn a_header_map_becomes_the_headers_to_merge() {
        let mut map = Headers::new();
        map.insert("@a".to_string(), json!(1));
        let authenticated = Authenticated::from(map);
        assert_eq!(authenticated.header_value("@a"), Some(&json!(1)));
    }
}
