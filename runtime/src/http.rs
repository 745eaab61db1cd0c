//! HTTP transport on axum: `POST` a request message, get the response message back
//! (`application/json`, or `application/octet-stream` for a binary response). Bodies
//! over the limit are answered with 413 before the server sees them.
//!
//! [`serve`] speaks HTTP/1.1 and cleartext HTTP/2 (h2c, prior knowledge) on one port;
//! [`serve_with`] takes [`ServeOptions`], whose `tls` option (feature `tls`) serves
//! HTTPS instead: HTTP/1.1 and HTTP/2 by ALPN.
//!
//! `GET` on the same path upgrades to a WebSocket: one Telepact message per WebSocket
//! message, answered in order, text for JSON and binary for MessagePack. Served by
//! [`serve_with`], a session is part of the graceful shutdown (it answers the message
//! it is on, then closes with 1001, going away) and is closed when it idles past
//! [`ServeOptions::header_timeout`].
//!
//! ```no_run
//! # async fn run(server: telepact::Server) -> std::io::Result<()> {
//! use telepact::http::{self, HttpOptions};
//!
//! let router = http::router(server, &HttpOptions::default().path("/api"));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! http::serve(listener, router, http::shutdown_signal()).await
//! # }
//! ```
//!
//! The returned [`axum::Router`] can be merged into a larger application; serve that
//! with `into_make_service_with_connect_info::<SocketAddr>()` to keep the
//! [`PeerAddress`].

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::post;
use tokio::net::TcpListener;

pub use axum::body::Bytes as Body;
/// What a [`Processor`] is handed and told, re-exported so that implementing it needs
/// no `http` or axum dependency of one's own.
pub use axum::http::{Extensions, StatusCode};

use crate::codec::Encoding;
use crate::message::PeerAddress;
use crate::server::{Response, Server};

mod accept;
mod path;
mod per_address;
#[cfg(feature = "tls")]
mod tls;
mod websocket;
pub use path::InvalidPath;
#[cfg(feature = "tls")]
pub use tls::{TlsConfig, TlsError};
pub use websocket::{SessionAnswer, websocket_session, websocket_session_with};

/// The default route of the Telepact endpoint.
pub const DEFAULT_PATH: &str = "/api/telepact";
/// The default request body limit: 1 MiB. Larger bodies are answered with 413.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// How long a request body may take to arrive: 30 s. Past it the request gets 408.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// The most bytes all the request bodies still on their way may hold at once, in this
/// process: a body that has not come whole with its request head reserves its announced
/// length (or the body limit) from it while it arrives, and one that finds too little
/// left is answered 503 at once. Without it, clients holding bodies open (200 HTTP/2
/// streams a connection, each a megabyte short of its end) held memory without bound.
/// A body that arrives with its head, as a small one does, reserves nothing.
pub const BODIES_ON_THEIR_WAY_BYTES: usize = 256 * 1024 * 1024;
/// How long [`serve`] lets in-flight requests finish after the shutdown signal.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long [`serve`] waits for a whole HTTP/1 request head (idle keep-alive
/// connections included), for any connection's first request, for the next request on
/// an HTTP/2 connection with none in flight, and for the next message of a WebSocket
/// session, before closing the connection: 75 s. Longer than the idle timeout of
/// common load balancers (60 s for AWS's), which would otherwise send a request down a
/// connection this side had just closed and answer its client 502; behind one that
/// keeps idle connections longer, raise [`ServeOptions::header_timeout`] above its
/// timeout.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(75);
/// How many connections [`serve`] lets one client address have open at once: 256, a
/// quarter of the 1,024 file descriptors a process may open under common defaults.
pub const DEFAULT_CONNECTIONS_PER_ADDRESS: usize = 256;

/// Where the endpoint lives and how much it accepts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpOptions {
    /// The endpoint's route, [`DEFAULT_PATH`] by default. It is an axum route, so
    /// [`router`] panics on one axum refuses (`/{`, `/:id`), as `Router::route` does;
    /// set a path from user input with [`checked_path`](Self::checked_path), which
    /// refuses such paths with an error instead.
    pub path: String,
    /// The largest request body accepted, in bytes; larger ones get 413.
    pub body_limit: usize,
    /// How long a request body may take to arrive; slower ones get 408, so a client
    /// cannot hold a request open by sending its body a byte at a time.
    pub body_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            path: DEFAULT_PATH.to_string(),
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

impl HttpOptions {
    /// Sets the `path` field as it is: a path in the code's own text. [`router`] panics
    /// on one it cannot route (`api` without its `/`, `/a/{b}`); for text from a user,
    /// [`checked_path`](Self::checked_path) refuses those instead.
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the `path` field from text a user gave (a flag, a config file): `/` is put
    /// in front when it is missing, and a path the router would not serve as written
    /// is refused rather than left for [`router`] to panic on: route syntax (braces,
    /// a segment starting with `:` or `*`), what a request's path never holds
    /// (`?`, `#`, spaces, control characters, `<`, `>`, a backquote), and what a client
    /// would send otherwise (`.` and `..` segments, characters beyond ASCII, which are
    /// to be written percent-encoded).
    ///
    /// ```
    /// use telepact::http::HttpOptions;
    ///
    /// assert_eq!(HttpOptions::default().checked_path("v2/api")?.path, "/v2/api");
    /// let refused = HttpOptions::default().checked_path("/api/{version}").unwrap_err();
    /// assert_eq!(refused.to_string(), "`/api/{version}` cannot be served: braces are route syntax");
    /// # Ok::<_, telepact::http::InvalidPath>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`InvalidPath`], saying why, when the path holds any of the above.
    pub fn checked_path(mut self, path: &str) -> Result<Self, InvalidPath> {
        self.path = path::route_path(path)?;
        Ok(self)
    }

    /// Sets the `body_limit` field.
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Sets the `body_timeout` field.
    #[must_use]
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// How [`read_body`] reads request bodies for these options.
    pub fn body_limits(&self) -> BodyLimits {
        BodyLimits {
            bytes: self.body_limit,
            time: self.body_timeout,
        }
    }
}

/// How much of a request body [`read_body`] takes, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// The largest body accepted, in bytes.
    pub bytes: usize,
    /// How long the whole body may take to arrive.
    pub time: Duration,
}

/// Something that turns request bytes into a response: a [`Server`], or a wrapper
/// around one. `transport` holds what the HTTP request carried besides its body: the
/// extensions that tower layers in front of the router attached, and its
/// [`PeerAddress`] when served by [`serve`].
///
/// The future is returned unboxed and awaited inside the handler's future, which axum
/// boxes: a processor whose future is large (over a few hundred bytes) should box part
/// of it, as `Server` boxes the part of a call after decoding, so that the handler's
/// box stays within the allocator's per-thread cache of small blocks (about 1 KB with
/// glibc).
///
/// # Example
///
/// A server wrapped to count the requests it gets over HTTP:
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use telepact::http::{self, Body, Extensions, HttpOptions, Processor};
/// use telepact::{Response, Server};
///
/// #[derive(Clone)]
/// struct Counted {
///     server: Server,
///     requests: Arc<AtomicU64>,
/// }
///
/// impl Processor for Counted {
///     async fn process(&self, body: Body, transport: Extensions) -> Response {
///         self.requests.fetch_add(1, Ordering::Relaxed);
///         Processor::process(&self.server, body, transport).await
///     }
/// }
///
/// # let server = Server::builder(telepact::schema::Schema::from_text("[]").unwrap(),
/// #     telepact::FunctionRouter::new()).auth_required(false).build().unwrap();
/// let counted = Counted { server, requests: Arc::default() };
/// let app: axum::Router = http::router(counted, &HttpOptions::default());
/// # let _ = app;
/// ```
pub trait Processor: Clone + Send + Sync + 'static {
    /// Answers one request body; `transport` carries what the connection knows.
    fn process(
        &self,
        body: Body,
        transport: Extensions,
    ) -> impl Future<Output = Response> + Send + '_;

    /// Told of a request refused before its body reached [`process`](Self::process):
    /// `status` is its answer (413 too large, 408 too slow, 400 unreadable). Does
    /// nothing unless implemented; a [`Server`] reporting metrics counts it.
    fn refused(&self, status: StatusCode) {
        let _ = status;
    }
}

impl Processor for Server {
    async fn process(&self, body: Bytes, transport: axum::http::Extensions) -> Response {
        self.process_shared(&body, transport, None).await
    }

    /// Counted as `telepact_http_refusals_total{status}` when the server reports
    /// metrics ([`ServerBuilder::metrics`](crate::ServerBuilder::metrics)).
    fn refused(&self, status: StatusCode) {
        self.count_http_refusal(status.as_u16());
    }
}

/// An axum router serving `POST {options.path}` with `processor`, and WebSocket
/// upgrades (`GET`) on the same path. A WebSocket message is limited to
/// `options.body_limit` like a POST body. The router takes any state `S`, so it merges
/// into an application's `Router<AppState>` as it is.
///
/// # Panics
///
/// When `options.path` is not a path axum routes as written (no leading `/`, route
/// syntax such as `{id}` or `*rest`), as `axum::Router::route` does; a path set with
/// [`HttpOptions::checked_path`] never is.
pub fn router<P: Processor, S: Clone + Send + Sync + 'static>(
    processor: P,
    options: &HttpOptions,
) -> Router<S> {
    let endpoint = Endpoint {
        processor,
        body: options.body_limits(),
    };
    Router::new()
        .route(
            &options.path,
            post(handle::<P>).get(websocket::upgrade::<P>),
        )
        .with_state(endpoint)
}

/// The router's state: the processor, and how its handlers read bodies.
#[derive(Clone)]
struct Endpoint<P> {
    processor: P,
    body: BodyLimits,
}

/// Reads a request body whole, as `limits` allow: 413 past `limits.bytes` (judged from
/// `Content-Length` before reading, when sent), 408 when it has not all arrived within
/// `limits.time`, 400 when it cannot be read, and 503 at once for a body not come with
/// its head when the bodies on their way hold [`BODIES_ON_THEIR_WAY_BYTES`] already.
/// Each refusal comes with a one-line reason.
///
/// The handlers read their bodies so rather than through a `DefaultBodyLimit` layer:
/// axum clones a layered route's boxed services on every request (five allocations per
/// request in the bakery's count).
///
/// # Errors
///
/// The refusal's status and reason: [`StatusCode::PAYLOAD_TOO_LARGE`],
/// [`StatusCode::REQUEST_TIMEOUT`], [`StatusCode::SERVICE_UNAVAILABLE`] or
/// [`StatusCode::BAD_REQUEST`], as above.
pub async fn read_body(
    body: axum::body::Body,
    limits: BodyLimits,
) -> Result<Bytes, (StatusCode, &'static str)> {
    // Before the body is polled: polling it is what has hyper tell a client waiting on
    // `Expect: 100-continue` to send it.
    let announced = axum::body::HttpBody::size_hint(&body).lower();
    if announced > u64::try_from(limits.bytes).unwrap_or(u64::MAX) {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, "request body too large"));
    }
    let mut reading = std::pin::pin!(whole_body(body, limits.bytes));
    // A small body comes in with the request head, and hyper hands it over in the same
    // turn of the connection's task: look again after yielding once before starting a
    // timer (about a thousand instructions a request), which only a body still on its
    // way then needs.
    let mut read = poll_once(reading.as_mut()).await;
    if read.is_pending() {
        tokio::task::yield_now().await;
        read = poll_once(reading.as_mut()).await;
    }
    let read = match read {
        Poll::Ready(read) => read,
        Poll::Pending => {
            let Some(_reserved) = reserve_on_the_way(announced, limits.bytes) else {
                return Err((
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many request bodies on their way; try again",
                ));
            };
            match tokio::time::timeout(limits.time, reading).await {
                Ok(read) => read,
                Err(_elapsed) => {
                    return Err((
                        StatusCode::REQUEST_TIMEOUT,
                        "request body did not arrive in time",
                    ));
                }
            }
        }
    };
    read.map_err(|error| {
        if over_limit(&error) {
            (StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
        } else {
            (StatusCode::BAD_REQUEST, "request body could not be read")
        }
    })
}

/// Room in [`BODIES_ON_THEIR_WAY_BYTES`] for a body of `announced` bytes (0: not
/// announced) within `limit`, held until dropped; `None` when there is not enough left.
fn reserve_on_the_way(
    announced: u64,
    limit: usize,
) -> Option<tokio::sync::SemaphorePermit<'static>> {
    // Counted in kibibytes: a permit count is a u32.
    const KIBIBYTES: usize = BODIES_ON_THEIR_WAY_BYTES / 1024;
    static ON_THEIR_WAY: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(KIBIBYTES);
    let most = if announced > 0 {
        usize::try_from(announced).unwrap_or(limit).min(limit)
    } else {
        limit
    };
    // A body limit past the whole budget takes all of it, rather than never fitting.
    let kibibytes = most.div_ceil(1024).min(KIBIBYTES);
    ON_THEIR_WAY
        .try_acquire_many(u32::try_from(kibibytes).unwrap_or(u32::MAX))
        .ok()
}

/// The body's data, at most `limit` bytes of it. A body that comes in one frame, as a
/// small one does, is handed on as it came: no list of frames, no copy (what
/// `axum::body::to_bytes` builds and copies out of for every body).
async fn whole_body(body: axum::body::Body, limit: usize) -> Result<Bytes, axum::Error> {
    use http_body_util::BodyExt as _;

    let mut body = http_body_util::Limited::new(body, limit);
    let mut whole = Bytes::new();
    let mut joined: Option<bytes::BytesMut> = None;
    while let Some(frame) = body.frame().await {
        // Trailers carry no data.
        let Ok(data) = frame.map_err(axum::Error::new)?.into_data() else {
            continue;
        };
        match &mut joined {
            Some(joined) => joined.extend_from_slice(&data),
            None if whole.is_empty() => whole = data,
            None => {
                let mut both = bytes::BytesMut::with_capacity(whole.len() + data.len());
                both.extend_from_slice(&whole);
                both.extend_from_slice(&data);
                joined = Some(both);
            }
        }
    }
    Ok(joined.map_or(whole, bytes::BytesMut::freeze))
}

/// Polls `future` once, without waiting for it.
async fn poll_once<F: Future>(mut future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

fn over_limit(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = cause {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

async fn handle<P: Processor>(
    State(endpoint): State<Endpoint<P>>,
    RequestExtensions(extensions): RequestExtensions,
    body: axum::body::Body,
) -> HttpResponse {
    let transport = request_context(extensions);
    let body = match read_body(body, endpoint.body).await {
        Ok(body) => body,
        Err(refusal) => {
            endpoint.processor.refused(refusal.0);
            return refusal.into_response();
        }
    };
    // Awaited in place, in the handler's future that axum boxes: with `Server`'s the
    // box stays within what the allocator's per-thread cache takes (about 1 KB with
    // glibc), since `Server` boxes the part of a call after decoding itself.
    let response = endpoint.processor.process(body, transport).await;
    encoded_answer(response.bytes, response.encoding)
}

/// A 200 answer of `bytes` with the content type of `encoding`. Built in place: axum's
/// `(headers, bytes)` form would first give it `application/octet-stream` and then
/// replace that.
pub(crate) fn encoded_answer(
    bytes: impl Into<axum::body::Body>,
    encoding: Encoding,
) -> HttpResponse {
    let mut answer = HttpResponse::new(bytes.into());
    let content_type = HeaderValue::from_static(encoding.content_type());
    answer
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    answer
}

/// The extensions of an HTTP request, taken out of it (axum's own extractor copies them).
struct RequestExtensions(axum::http::Extensions);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestExtensions {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestExtensions(std::mem::take(&mut parts.extensions)))
    }
}

/// The request's own extensions (what tower layers in front of the router attached),
/// its connection's address given as a [`PeerAddress`] in place of axum's
/// `ConnectInfo`: the server's transport context. Reusing the request's map spares
/// building one per request, and keeping its size leaves room for the auth hook's
/// identity without growing it.
fn request_context(mut extensions: axum::http::Extensions) -> axum::http::Extensions {
    if let Some(ConnectInfo(address)) = extensions.remove::<ConnectInfo<SocketAddr>>() {
        extensions.insert(PeerAddress(address));
    }
    extensions
}

/// What an HTTP request tells the server besides its body: the [`PeerAddress`] of
/// `peer`, when the connection is known ([`serve`] makes it known). For adapters that
/// call [`Server::process_adapted`] themselves.
pub fn transport_context(peer: Option<SocketAddr>) -> axum::http::Extensions {
    let mut transport = axum::http::Extensions::new();
    if let Some(address) = peer {
        transport.insert(PeerAddress(address));
    }
    transport
}

/// How [`serve_with`] serves: the shutdown grace, how long a request head may take and,
/// with the `tls` feature, TLS.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// How long in-flight requests (and WebSocket sessions: each answers the message it
    /// is on, then closes with 1001) may take after the shutdown signal; `Duration::MAX`
    /// to wait for them however long they take.
    pub grace: Duration,
    /// How long an HTTP/1 connection may take to send a whole request head, waiting for
    /// the next request on a keep-alive connection included, any connection its first
    /// request, an HTTP/2 connection with no request in flight its next one, and a
    /// WebSocket session its next message; past it the connection is closed (an idle
    /// session with 1000). A client that takes nothing written to it for as long (it
    /// stopped reading its answers) has its connection dropped.
    /// [`DEFAULT_HEADER_TIMEOUT`] by default; `Duration::MAX` for none.
    pub header_timeout: Duration,
    /// How many connections one client address may have open at once; past it a new
    /// connection from the address is closed unread. A client opening connections and
    /// sending nothing holds each for the header timeout, and without a bound a few
    /// hundred of them take every file descriptor the process may open (1,024 under
    /// systemd's default), after which no one is answered.
    /// [`DEFAULT_CONNECTIONS_PER_ADDRESS`] by default; `None` for no bound (behind a
    /// proxy whose connections all come from one address, set one above its pool).
    pub connections_per_address: Option<usize>,
    /// How many connections may be open at once in all; past it a new connection is
    /// closed unread. By default seven eighths of the file descriptors the process may
    /// open (its soft `RLIMIT_NOFILE` when the options are made, so that the rest stay for
    /// files, a store's connections and the listener), or none where that cannot be
    /// read; `None` for no bound. A client with many addresses would otherwise take
    /// every descriptor despite [`connections_per_address`](Self::connections_per_address).
    pub max_connections: Option<usize>,
    /// `None`: HTTP/1.1 and cleartext HTTP/2 (h2c). `Some`: HTTPS, with HTTP/2 or
    /// HTTP/1.1 chosen by ALPN.
    #[cfg(feature = "tls")]
    pub tls: Option<TlsConfig>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            grace: DEFAULT_SHUTDOWN_GRACE,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            connections_per_address: Some(DEFAULT_CONNECTIONS_PER_ADDRESS),
            max_connections: default_max_connections(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl ServeOptions {
    /// Sets how long in-flight requests may take after the shutdown signal.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Sets how long a connection may take to send a whole request head.
    #[must_use]
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Sets how many connections may be open in all (`None`: no bound).
    #[must_use]
    pub fn max_connections(mut self, limit: Option<usize>) -> Self {
        self.max_connections = limit;
        self
    }

    /// Sets how many connections one client address may have open (`None`: no bound).
    #[must_use]
    pub fn connections_per_address(mut self, limit: Option<usize>) -> Self {
        self.connections_per_address = limit;
        self
    }

    /// Serves HTTPS with `config` (see [`TlsConfig::from_pem_files`]).
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, config: TlsConfig) -> Self {
        self.tls = Some(config);
        self
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets in-flight
/// requests finish for up to [`DEFAULT_SHUTDOWN_GRACE`]. Each request's
/// [`PeerAddress`] reaches the server.
///
/// # Errors
///
/// None as it stands: the future resolves to `Ok` once shut down. A failed accept (too
/// many open files, say) is logged and retried after a pause, and a connection that
/// fails ends alone.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with(listener, router, shutdown, ServeOptions::default()).await
}

/// Like [`serve`], with in-flight requests given `grace` after the shutdown signal.
/// Past it this returns without them (they end with the runtime), so a stuck handler
/// never keeps the process from stopping.
///
/// # Errors
///
/// As [`serve`]: it resolves to `Ok` once shut down.
pub async fn serve_with_grace(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> io::Result<()> {
    serve_with(
        listener,
        router,
        shutdown,
        ServeOptions::default().grace(grace),
    )
    .await
}

/// Like [`serve`], as `options` say: plain or TLS, and the shutdown grace.
///
/// # Errors
///
/// As [`serve`]: it resolves to `Ok` once shut down. A TLS handshake that fails or
/// takes too long closes that connection alone.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> io::Result<()> {
    let deadlines = accept::Deadlines {
        header: options.header_timeout.min(LONGEST_WAIT),
        grace: options.grace.min(LONGEST_WAIT),
        per_address: options.connections_per_address,
        total: options.max_connections,
    };
    #[cfg(feature = "tls")]
    if let Some(config) = options.tls {
        let tls = tls::Tls::new(config, options.header_timeout);
        return accept::serve_connections(listener, router, shutdown, deadlines, tls).await;
    }
    accept::serve_connections(listener, router, shutdown, deadlines, accept::Plain).await
}

/// The longest of the waits [`serve_with`] sets, about 30 years: a longer one
/// (`Duration::MAX`, meant as none) is past what the clock can add to its time, where
/// hyper's head timer and the shutdown's deadline panicked.
const LONGEST_WAIT: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// Seven eighths of the file descriptors this process may open (its soft
/// `RLIMIT_NOFILE`), at least 64; `None` where the limit cannot be read or is unlimited.
fn default_max_connections() -> Option<usize> {
    let descriptors = usize::try_from(open_files_limit()?.current?).ok()?;
    Some((descriptors - descriptors / 8).max(64))
}

/// Raises this process's soft limit of open file descriptors to its hard limit (a
/// service's start, before [`serve`]: systemd's soft default is 1,024, its hard one far
/// more), and returns the soft limit it then has; `None` where it cannot be read. The
/// server's [`ServeOptions::max_connections`] follows the soft limit.
pub fn raise_open_files_limit() -> Option<u64> {
    let limit = open_files_limit()?;
    if limit.current != limit.maximum {
        let raised = Limit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(error) = set_open_files_limit(raised) {
            tracing::debug!(error = %crate::ErrorChain(&error), "cannot raise the limit of open files");
        }
    }
    open_files_limit()?.current
}

/// A soft and a hard limit; `None`: unlimited.
struct Limit {
    current: Option<u64>,
    maximum: Option<u64>,
}

#[cfg(unix)]
fn open_files_limit() -> Option<Limit> {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    Some(Limit {
        current: limit.current,
        maximum: limit.maximum,
    })
}

#[cfg(unix)]
fn set_open_files_limit(limit: Limit) -> io::Result<()> {
    let limit = rustix::process::Rlimit {
        current: limit.current,
        maximum: limit.maximum,
    };
    Ok(rustix::process::setrlimit(
        rustix::process::Resource::Nofile,
        limit,
    )?)
}

#[cfg(not(unix))]
fn open_files_limit() -> Option<Limit> {
    None
}

#[cfg(not(unix))]
fn set_open_files_limit(_: Limit) -> io::Result<()> {
    Ok(())
}

/// Completes on Ctrl-C (and on SIGTERM on Unix): a ready-made `shutdown` for [`serve`].
///
/// The signals are listened for from this call on, not from the future's first poll:
/// call it before telling anyone the server is up, and a signal sent right after is a
/// graceful shutdown rather than lost (a process started with SIGINT ignored, as a
/// background job of a script is) or the default action's abrupt exit. Call it within
/// a Tokio runtime.
///
/// A second signal while the shutdown waits for requests in flight ends the process at
/// once, as a second Ctrl-C does in most servers: its status is 128 plus the signal's
/// number (130 for SIGINT, 143 for SIGTERM), and a warning says so first.
#[cfg(unix)]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    // A signal that cannot be listened for never arrives.
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    async move {
        next_signal(&mut interrupt, &mut terminate).await;
        tokio::spawn(async move {
            let number = next_signal(&mut interrupt, &mut terminate).await;
            tracing::warn!("a second signal: exiting without waiting for requests in flight");
            std::process::exit(128 + number);
        });
    }
}

/// Waits for the next SIGINT or SIGTERM that `interrupt` and `terminate` (each when it
/// could be listened for) receive, and gives its number.
#[cfg(unix)]
async fn next_signal(
    interrupt: &mut Option<tokio::signal::unix::Signal>,
    terminate: &mut Option<tokio::signal::unix::Signal>,
) -> i32 {
    async fn arrival(signal: &mut Option<tokio::signal::unix::Signal>) {
        match signal {
            Some(signal) => _ = signal.recv().await,
            None => std::future::pending().await,
        }
    }
    tokio::select! {
        () = arrival(interrupt) => 2,
        () = arrival(terminate) => 15,
    }
}

/// Completes on Ctrl-C: a ready-made `shutdown` for [`serve`]. Off Unix, Ctrl-C is
/// listened for from the future's first poll.
#[cfg(not(unix))]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
