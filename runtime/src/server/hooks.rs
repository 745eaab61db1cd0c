//! The server's pluggable steps: authentication, middleware and observation hooks.

use std::future::Future;
use std::sync::Arc;

use crate::message::{Headers, Message};
use crate::router::{BoxFuture, FunctionRouter, HandlerError};

use super::Inner;
use super::authenticated::{AuthFuture, Authenticated};
use super::catch::caught;
use super::error::ProcessError;

/// Checks the credentials of a request to an authenticated function. It sees the
/// request headers (with `@auth_`); an error rejects the request with
/// `ErrorUnauthenticated_`, unless it is an [`AuthUnavailable`](crate::AuthUnavailable): a hook that could not
/// check the credentials (its store or directory did not answer) returns one, and the
/// server answers `ErrorUnknown_` with a case id, logging the cause under it, so that the
/// client keeps credentials that may well be good. A hook that panics or runs past the
/// call's time limit is answered the same way.
///
/// Any `async fn(Headers) -> Result<Authenticated, HandlerError>` (or closure of that
/// shape) is a hook; it gets its own copy of the headers, so it may hold them across
/// awaits.
///
/// # Example
///
/// A hook that lets in one token, refuses any other, and says when its token store is
/// down:
///
/// ```
/// use serde_json::Map;
/// use telepact::schema::Schema;
/// use telepact::{
///     AuthUnavailable, Authenticated, FunctionRouter, HandlerError, Headers, Message, Server,
/// };
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let schema = Schema::from_text(
///     r#"[{"union.Auth_": [{"Token": {"token": "string"}}]},
///         {"fn.secret": {}, "->": [{"Ok_": {}}]}]"#,
/// )?;
/// let router = FunctionRouter::new().route("fn.secret", |_request: Message| async {
///     Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Map::new()))
/// });
/// let server = Server::builder(schema, router)
///     .on_auth(|headers: Headers| async move {
///         let token = headers.get("@auth_").and_then(|auth| auth["Token"]["token"].as_str());
///         match token {
///             Some("let-me-in") => Ok(Authenticated::new()),
///             // The token store did not answer: the token may be good.
///             Some("while-the-store-is-down") => {
///                 Err(AuthUnavailable::new("the token store did not answer").into())
///             }
///             _ => Err(HandlerError::from("unknown token")),
///         }
///     })
///     .build()?;
/// let refused = server
///     .process(br#"[{"@auth_": {"Token": {"token": "guess"}}}, {"fn.secret": {}}]"#)
///     .await;
/// assert!(refused.bytes.starts_with(br#"[{},{"ErrorUnauthenticated_""#));
/// let unchecked = server
///     .process(br#"[{"@auth_": {"Token": {"token": "while-the-store-is-down"}}}, {"fn.secret": {}}]"#)
///     .await;
/// assert!(unchecked.bytes.starts_with(br#"[{},{"ErrorUnknown_":{"caseId""#));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub trait AuthHook: Send + Sync + 'static {
    /// Checks `headers`; an error answers `ErrorUnauthenticated_`, an
    /// [`AuthUnavailable`](crate::AuthUnavailable) one `ErrorUnknown_`.
    fn authenticate(&self, headers: &Headers) -> AuthFuture;

    /// What the server calls: [`authenticate`](Self::authenticate) with what the
    /// transport attached to the request as well (a [`PeerAddress`](crate::PeerAddress),
    /// say). Override it in a hook that needs them; by default they are ignored.
    fn authenticate_request(&self, headers: &Headers, transport: &http::Extensions) -> AuthFuture {
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
    fn authenticate(&self, headers: &Headers) -> AuthFuture {
        AuthFuture::new(self(headers.clone()))
    }
}

/// Wraps the function router: receives the validated request and the router, returns
/// the result message. An error (or panic) answers `ErrorUnknown_`.
///
/// Middlewares added to one server run in the order added: the first added is the
/// outermost, and its `router.call` runs the next one, down to the functions.
///
/// # Example
///
/// A middleware with state of its own, refusing every call while a flag is set (a
/// closure does for one without: [`middleware_fn`], [`middleware_from_fn`]):
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use telepact::{BoxFuture, FunctionRouter, HandlerError, Message, Middleware};
///
/// struct Maintenance {
///     closed: AtomicBool,
/// }
///
/// impl Middleware for Maintenance {
///     fn call<'a>(
///         &'a self,
///         request: Message,
///         router: &'a FunctionRouter,
///     ) -> BoxFuture<'a, Result<Message, HandlerError>> {
///         if self.closed.load(Ordering::Relaxed) {
///             // Answered `ErrorUnknown_`; the reason goes to the log, not the caller.
///             return Box::pin(async { Err("closed for maintenance".into()) });
///         }
///         router.call(request)
///     }
/// }
/// # let _ = Maintenance { closed: AtomicBool::new(false) };
/// ```
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
/// the closure returns a boxed future and calls `router.call(request)` to go on. The
/// simpler form, an `async` closure with an owned [`Next`], is [`middleware_from_fn`];
/// this one saves that form's clone of the router (an `Arc`) on each call.
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
    ///
    /// # Errors
    ///
    /// The [`HandlerError`] the following middleware or the function returns, or one
    /// saying there is no route when the server routes no function of the request's name.
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

/// Makes an async closure taking the request and an owned [`Next`] a [`Middleware`],
/// as axum's `middleware::from_fn` does for HTTP handlers. A closure that borrows the
/// router instead, with no clone a call, is [`middleware_fn`]:
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

impl Inner {
    /// Shows `message` (of a call of `function`) to `hook`, if there is one; a failure
    /// is logged and reported, and the call goes on.
    pub(super) fn observe(
        &self,
        hook: Option<&MessageHook>,
        message: &Message,
        what: &str,
        function: Option<&str>,
    ) {
        let Some(hook) = hook else {
            return;
        };
        let failure: HandlerError = match caught(|| hook(message)) {
            Ok(Ok(())) => return,
            Ok(Err(error)) => error,
            Err(panicked) => Box::new(panicked),
        };
        self.hook_failed(what, function, failure);
    }
}
