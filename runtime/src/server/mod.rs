//! The transport-free Telepact server: request bytes in, response bytes out (the
//! crate's front page shows it at work).

mod authenticated;
mod call_metrics;
mod call_span;
mod catch;
mod error;
mod examples;
mod failure;
mod hooks;
mod internal;
mod process;
#[cfg(feature = "nats")]
pub(crate) use process::Processed;

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use telepact_schema::{FunctionId, Schema};

use call_metrics::CallKeys;

use crate::binary::ServerBinary;
use crate::budget::GenerationLimits;
use crate::codec::{Encoding, read_typed_header};
use crate::logging::LineBudget;
use crate::message::{Headers, Message};
use crate::router::{FunctionRouter, HandlerError, ReadHeader};
use crate::validate::Compiled;

/// The most lines a second a server logs for credentials its auth hook refused; the
/// lines past it are counted, and the next line written gives the count (`left_out`).
const AUTH_LINES_PER_SECOND: u32 = 10;

/// The most lines a second logged for failed calls (see [`Inner::failure_lines`]).
const FAILURE_LINES_PER_SECOND: u32 = 10;

pub use authenticated::{AuthFuture, AuthUnavailable, Authenticated};
pub use catch::Panicked;
pub use error::{BuildError, ErrorKind, ProcessError, TimedOut, TooDeep, TooLarge};
pub use hooks::{
    AuthHook, ErrorHook, FromFn, MessageHook, Middleware, Next, middleware_fn, middleware_from_fn,
};

/// A serialized response and its headers (for the transport: e.g. a binary body is
/// sent as `application/octet-stream`).
#[derive(Debug, Clone)]
pub struct Response {
    /// The serialized message.
    pub bytes: Vec<u8>,
    /// The response's headers, for the transport to read.
    pub headers: Headers,
    /// How `bytes` are encoded.
    pub encoding: Encoding,
}

/// A Telepact server for one schema: request bytes in, response bytes out
/// ([`process`](Self::process)), whatever carries them. Cheap to clone; every clone
/// shares one state. Built with [`Server::builder`]; the crate's front page has an
/// example.
///
/// A request goes through these steps, and the first that fails answers with its
/// error: parse (`ErrorParseFailure_`), the on-request hook (which observes: its
/// failure is reported, not answered), the transport's header
/// updates, request header validation (`ErrorInvalidRequestHeaders_`), authentication
/// for functions that need it (`ErrorUnauthenticated_`, or `ErrorUnknown_` when the
/// credentials could not be checked), unknown functions and body
/// validation (`ErrorInvalidRequestBody_`), middleware and handler (`ErrorUnknown_` on
/// error, panic or time limit), result validation unless `@unsafe_`
/// (`ErrorInvalidResponseBody_`), response header validation
/// (`ErrorInvalidResponseHeaders_`), `@select_`, the on-response hook, serialization.
///
/// # Example
///
/// A server answers the standard functions (`fn.ping_`, `fn.api_`) with no route of
/// its own:
///
/// ```
/// use telepact::schema::Schema;
/// use telepact::{FunctionRouter, Server};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let schema = Schema::from_text("[]")?;
/// let server = Server::builder(schema, FunctionRouter::new())
///     .auth_required(false)
///     .build()?;
/// let response = server.process(br#"[{}, {"fn.ping_": {}}]"#).await;
/// assert_eq!(response.bytes, br#"[{},{"Ok_":{}}]"#);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

struct Inner {
    schema: Arc<Schema>,
    compiled: Compiled,
    /// Shared with `fn.api_`, which writes its binary answers ahead with it.
    binary: Arc<ServerBinary>,
    router: FunctionRouter,
    /// The outermost middleware; `router` is what it is given.
    middleware: Arc<dyn Middleware>,
    on_auth: Option<Box<dyn AuthHook>>,
    on_request: Option<MessageHook>,
    on_response: Option<MessageHook>,
    on_error: Option<ErrorHook>,
    /// Stands in for an unknown function while its headers are validated.
    ping: Option<FunctionId>,
    request_timeout: Option<Duration>,
    /// Set when calls are reported to the `metrics` facade: the metric keys of its calls, made once.
    metrics: Option<Arc<CallKeys>>,
    /// Request headers read into typed values (see [`ServerBuilder::typed_header`]).
    typed_headers: Vec<(String, ReadHeader)>,
    /// The lines a second logged for credentials the auth hook refused: any client can
    /// send bad ones as fast as it likes.
    auth_lines: LineBudget,
    /// The lines a second logged for failed calls (a handler's error, an invalid answer,
    /// one that could not be sent): a client that finds a call failing, or makes it run
    /// out of time with a short `@time_`, may repeat it as fast as it likes. The error
    /// hook still hears of every one.
    failure_lines: LineBudget,
}

impl Server {
    /// Starts building a server for `schema` whose functions `router` implements.
    pub fn builder(schema: impl Into<Arc<Schema>>, router: FunctionRouter) -> ServerBuilder {
        ServerBuilder {
            schema: schema.into(),
            router,
            auth_required: true,
            middlewares: Vec::new(),
            on_auth: None,
            on_request: None,
            on_response: None,
            on_error: None,
            request_timeout: None,
            metrics: None,
            generation_limits: GenerationLimits::default(),
            typed_headers: Vec::new(),
        }
    }

    /// The schema this server validates against.
    pub fn schema(&self) -> &Arc<Schema> {
        &self.inner.schema
    }

    /// Hands every call still held for the server's own recorder
    /// ([`ServerBuilder::metrics_recorder`]) over to it, so that reading the recorder
    /// next shows every call answered so far: before rendering a scrape, say, or in a
    /// test. Without a recorder of the server's own, calls are never held.
    pub fn flush_metrics(&self) {
        if let Some(keys) = &self.inner.metrics {
            keys.flush();
        }
    }

    /// Counts a request its HTTP endpoint refused with `status`, when metrics are on.
    #[cfg(feature = "axum")]
    pub(crate) fn count_http_refusal(&self, status: u16) {
        if let Some(keys) = &self.inner.metrics {
            keys.count_http_refusal(status);
        }
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("router", &self.inner.router)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Server`].
pub struct ServerBuilder {
    schema: Arc<Schema>,
    router: FunctionRouter,
    auth_required: bool,
    middlewares: Vec<Arc<dyn Middleware>>,
    on_auth: Option<Box<dyn AuthHook>>,
    on_request: Option<MessageHook>,
    on_response: Option<MessageHook>,
    on_error: Option<ErrorHook>,
    request_timeout: Option<Duration>,
    metrics: Option<Reporting>,
    generation_limits: GenerationLimits,
    typed_headers: Vec<(String, ReadHeader)>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("router", &self.router)
            .field("auth_required", &self.auth_required)
            .field("middlewares", &self.middlewares.len())
            .field("on_auth", &self.on_auth.is_some())
            .field("request_timeout", &self.request_timeout)
            .field("metrics", &self.metrics.as_ref().map(Reporting::name))
            .finish_non_exhaustive()
    }
}

/// Where a server reports its calls (see [`ServerBuilder::metrics`]).
enum Reporting {
    /// The `metrics` facade's current recorder.
    Facade,
    /// A recorder of the server's own.
    Recorder(Arc<dyn metrics::Recorder + Send + Sync>),
}

impl Reporting {
    fn name(&self) -> &'static str {
        match self {
            Reporting::Facade => "facade",
            Reporting::Recorder(_) => "own recorder",
        }
    }
}

impl ServerBuilder {
    /// Whether the schema must define `union.Auth_` (default `true`): a server without
    /// authentication has to say so.
    pub fn auth_required(mut self, required: bool) -> Self {
        self.auth_required = required;
        self
    }

    /// Authenticates requests to functions that need it (see [`AuthHook`]). Required
    /// when the schema defines `union.Auth_`.
    pub fn on_auth(mut self, hook: impl AuthHook) -> Self {
        self.on_auth = Some(Box::new(hook));
        self
    }

    /// Wraps the function router (see [`Middleware`]). Called again, it adds another
    /// middleware inside the ones before: they run in the order added.
    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        self.middlewares.push(Arc::new(middleware));
        self
    }

    /// Called with each parsed request before it is handled, to observe it (as the
    /// reference libraries' hook does): an `Err` (or a panic) does not refuse the call.
    /// It is logged at `warn` and reported to [`on_error`](Self::on_error) as
    /// [`ErrorKind::Hook`](crate::ErrorKind::Hook), and the call goes on. Refusing a
    /// call is middleware's job ([`middleware`](Self::middleware)).
    pub fn on_request(
        mut self,
        hook: impl Fn(&Message) -> Result<(), HandlerError> + Send + Sync + 'static,
    ) -> Self {
        self.on_request = Some(Arc::new(hook));
        self
    }

    /// Called with each response message before it is serialized, to observe it: an
    /// `Err` (or a panic) is logged and reported to [`on_error`](Self::on_error) as
    /// [`ErrorKind::Hook`](crate::ErrorKind::Hook), and the answer is sent as it is.
    ///
    /// The hook sees the answer as the server made it. When the transport then finds it
    /// too large to carry (a NATS reply past `max_payload`), the caller gets
    /// `ErrorUnknown_` instead, and [`on_error`](Self::on_error) reports that as
    /// [`ErrorKind::Undeliverable`](crate::ErrorKind::Undeliverable).
    pub fn on_response(
        mut self,
        hook: impl Fn(&Message) -> Result<(), HandlerError> + Send + Sync + 'static,
    ) -> Self {
        self.on_response = Some(Arc::new(hook));
        self
    }

    /// Called with every error met while processing (failed handlers, rejected
    /// credentials, invalid responses, unparsable requests). A panic in it is logged at
    /// `error`, and the call is answered all the same.
    pub fn on_error(mut self, hook: impl Fn(&ProcessError) + Send + Sync + 'static) -> Self {
        self.on_error = Some(Arc::new(hook));
        self
    }

    /// How long one call may take, counted from the request's arrival (default: no
    /// limit). Middleware and handler still running past it are dropped, and the call
    /// answers `ErrorUnknown_`; an auth hook still running past it is dropped too, and
    /// the call answers `ErrorUnknown_` as well (the credentials were not checked, so
    /// the client need not drop them). Either is
    /// reported to the on-error hook with a [`TimedOut`] source. A request's own `@time_`
    /// header, when shorter, is the limit for that call: no work goes on once the client
    /// has stopped waiting. The server must then run on a tokio runtime with its timer
    /// enabled. A limit too long to add to the clock's time (`Duration::MAX`) is none.
    pub fn request_timeout(mut self, limit: Duration) -> Self {
        self.request_timeout = Some(limit);
        self
    }

    /// Whether to report each call to the `metrics` facade (default `false`):
    /// `telepact_calls_total` by `function` and `result` tag, the histograms
    /// `telepact_call_duration_seconds`, `telepact_request_bytes` and
    /// `telepact_response_bytes` by `function`, the gauge `telepact_calls_in_flight`,
    /// and `telepact_http_refusals_total` by `status` for the requests its HTTP endpoint
    /// refused before reading them whole. The application installs the recorder
    /// (a Prometheus exporter, say); without one the records go nowhere.
    ///
    /// A function the schema does not define is counted as `unknown` and a request
    /// that does not parse as the empty name, so callers cannot add series of their own.
    pub fn metrics(mut self, enabled: bool) -> Self {
        self.metrics = enabled.then_some(Reporting::Facade);
        self
    }

    /// Reports each call, as [`metrics`](Self::metrics) does, to `recorder` itself
    /// rather than through the facade: each series is registered with it once, on its
    /// first call, and the handle it returns is kept. A recorder registering a key
    /// costs hashing, comparing and (with the Prometheus exporter) copying it; the
    /// facade's macros, and [`metrics`](Self::metrics), register on every call.
    ///
    /// Each thread holds the calls it answers, up to 64, and hands them over together:
    /// the recorder's series are shared by every thread, and writing to them at every
    /// call is what costs most on a busy server. A thread also hands its calls over
    /// when a background thread asks (every second), when the server is dropped, and on
    /// [`Server::flush_metrics`]; call that before reading the recorder for a figure
    /// that counts every call answered.
    ///
    /// Pass a shared recorder to report elsewhere through it as well:
    /// `metrics` implements `Recorder` for an `Arc` of one, so the same `Arc` may be
    /// installed with `metrics::set_global_recorder`.
    pub fn metrics_recorder<R>(mut self, recorder: R) -> Self
    where
        R: metrics::Recorder + Send + Sync + 'static,
    {
        self.metrics = Some(Reporting::Recorder(Arc::new(recorder)));
        self
    }

    /// How much the server may generate for one example of `fn.api_`
    /// `includeExamples!` (default [`GenerationLimits::default`]).
    pub fn generation_limits(mut self, limits: GenerationLimits) -> Self {
        self.generation_limits = limits;
        self
    }

    /// Reads request header `name` into a `T` (such as a generated `Auth`) as a typed
    /// route's request is read, checked against the type the schema declares for the
    /// header: the auth hook and handlers then get it from
    /// [`Headers::get_as`](crate::Headers::get_as) without reading it again. A
    /// generated `server_builder` asks this of `@auth_`. A header the schema does not
    /// declare, or of a type only JSON values hold (`any`, `bytes`), is read as before.
    pub fn typed_header<T>(mut self, name: impl Into<String>) -> Self
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let name = name.into();
        self.typed_headers.retain(|(known, _)| *known != name);
        self.typed_headers.push((name, read_typed_header::<T>));
        self
    }

    /// Checks the configuration and builds the server: refused when the schema and the
    /// configuration disagree ([`BuildError`]), such as a route for a function the
    /// schema lacks.
    ///
    /// # Errors
    ///
    /// - [`BuildError::AuthUndefined`] when the schema has no `union.Auth_` and
    ///   [`auth_required`](Self::auth_required) was not turned off.
    /// - [`BuildError::AuthHookMissing`] when the schema has `union.Auth_` and no
    ///   [`on_auth`](Self::on_auth) hook is installed.
    /// - [`BuildError::AuthHookUnused`] when an on-auth hook is installed and the schema
    ///   has no `union.Auth_`.
    /// - [`BuildError::RouteUnknown`] when a route names a function the schema does not
    ///   define.
    pub fn build(self) -> Result<Server, BuildError> {
        if self.auth_required && !self.schema.has_auth() {
            return Err(BuildError::AuthUndefined);
        }
        if self.schema.has_auth() && self.on_auth.is_none() {
            return Err(BuildError::AuthHookMissing);
        }
        if !self.schema.has_auth() && self.on_auth.is_some() {
            return Err(BuildError::AuthHookUnused);
        }
        if let Some(unknown) = unknown_route(&self.router, &self.schema) {
            return Err(unknown);
        }
        let compiled = Compiled::shared(&self.schema);
        let metrics = self.metrics.map(|reporting| {
            let own = match reporting {
                Reporting::Facade => None,
                Reporting::Recorder(recorder) => Some(recorder),
            };
            Arc::new(CallKeys::new(&compiled, own))
        });
        let ping = compiled.function_id("fn.ping_");
        let binary = Arc::new(ServerBinary::new(Arc::clone(&self.schema)));
        let mut router = self.router;
        // Every function of the user's schema, internal ones (`$internal: true`, a name
        // ending in `_`) too: the server itself answers only the standard ones.
        for function in user_functions(&self.schema) {
            if !router.contains(function) {
                tracing::warn!(function, "no route: calls will answer ErrorUnknown_");
            }
        }
        internal::add_internal_routes(
            &mut router,
            Arc::clone(&self.schema),
            Arc::clone(&binary),
            self.generation_limits,
        );
        let (middleware, router) = hooks::chain(self.middlewares, router);
        let inner = Inner {
            schema: self.schema,
            compiled,
            binary,
            router,
            middleware,
            on_auth: self.on_auth,
            on_request: self.on_request,
            on_response: self.on_response,
            on_error: self.on_error,
            ping,
            request_timeout: self.request_timeout,
            metrics,
            typed_headers: self.typed_headers,
            auth_lines: LineBudget::per_second(AUTH_LINES_PER_SECOND),
            failure_lines: LineBudget::per_second(FAILURE_LINES_PER_SECOND),
        };
        Ok(Server {
            inner: Arc::new(inner),
        })
    }
}

/// The error for a route of `router` naming a function `schema` does not define, if
/// any (the first in name order, for a stable message).
fn unknown_route(router: &FunctionRouter, schema: &Schema) -> Option<BuildError> {
    // Looked up, not scanned: a schema of many functions has as many routes.
    let defined: std::collections::HashSet<&str> = schema
        .functions()
        .iter()
        .map(|function| function.name.as_str())
        .collect();
    let mut unknown: Vec<&str> = router
        .names()
        .filter(|name| !defined.contains(name))
        .collect();
    unknown.sort_unstable();
    let name = unknown.first()?;
    let functions = schema
        .functions()
        .iter()
        .map(|function| function.name.as_str());
    Some(BuildError::RouteUnknown {
        name: (*name).to_string(),
        nearest: telepact_schema::nearest(name, functions).map(str::to_string),
    })
}

/// The functions the user's schema defines, as the reference's servers route them to
/// the user's handler: all but the standard definitions.
fn user_functions(schema: &Schema) -> impl Iterator<Item = &str> {
    schema.original().iter().filter_map(|definition| {
        let keys = definition.as_object()?.keys();
        keys.map(String::as_str).find(|key| key.starts_with("fn."))
    })
}
