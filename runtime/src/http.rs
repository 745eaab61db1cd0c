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
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::post;

pub use axum::body::Bytes as Body;
/// What a [`Processor`] is handed and told, re-exported so that implementing it needs
/// no `http` or axum dependency of one's own.
pub use axum::http::{Extensions, StatusCode};

use crate::codec::Encoding;
use crate::message::PeerAddress;
use crate::server::{Response, Server};

mod accept;
mod body;
mod path;
mod per_address;
mod serve;
#[cfg(feature = "tls")]
mod tls;
mod websocket;
use body::poll_once;
pub use body::{BodyRefusal, read_body};
pub use path::InvalidPath;
pub use per_address::client_of;
pub use serve::{
    ServeOptions, raise_open_files_limit, serve, serve_with, serve_with_grace, shutdown_signal,
};
#[cfg(feature = "tls")]
pub use tls::{TlsConfig, TlsError};
pub use websocket::{
    SessionAnswer, counted_websocket_session, websocket_session, websocket_session_with,
};

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
    /// `status` is its answer (413 too large, 408 too slow, 400 unreadable, 415 or 501
    /// for a content or transfer coding the endpoint does not undo). Does
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
            post(handle::<P>)
                .get(websocket::upgrade::<P>)
                .fallback(method_not_allowed),
        )
        .with_state(endpoint)
}

/// Any other method on the endpoint's path: 405 saying what the path takes (axum adds
/// `Allow`), where axum's own 405 has an empty body. [`router`] answers so; an
/// adapter serving the endpoint with its own handlers gives it to its method router
/// (`post(..).get(..).fallback(method_not_allowed)`) to answer the same. Over HTTP/1 a
/// request with a body says `Connection: close`, as the body is left unread.
pub async fn method_not_allowed(request: axum::extract::Request) -> HttpResponse {
    let answer = (
        StatusCode::METHOD_NOT_ALLOWED,
        "this path takes Telepact messages by POST, or a WebSocket by GET",
    );
    closing_if_body_unread(&request, answer.into_response())
}

/// `answer`, saying `Connection: close` when it leaves an HTTP/1 request's body unread:
/// hyper closes such a connection after answering, unless the body happened to have
/// come whole, and a client or proxy not told so may send its next request down it,
/// where a POST is lost rather than retried (RFC 9112, 9.6).
fn closing_if_body_unread(
    request: &axum::extract::Request,
    mut answer: HttpResponse,
) -> HttpResponse {
    use axum::body::HttpBody as _;
    if request.version() < axum::http::Version::HTTP_2 && !request.body().is_end_stream() {
        let close = HeaderValue::from_static("close");
        answer.headers_mut().insert(header::CONNECTION, close);
    }
    answer
}

/// `router`, an application's whole router (with [`router`]'s merged into it), answering
/// any path it does not route with 404 and a line naming the Telepact endpoint's `path`,
/// where axum's own 404 is empty: a client sent to another path (`/api` for
/// `/api/telepact`, say) learns where to go. axum takes one fallback a router, so
/// [`router`] sets none and leaves the choice to the application. Over HTTP/1 a request
/// with a body says `Connection: close`, as the body is left unread.
pub fn not_found_naming<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    path: &str,
) -> Router<S> {
    let answer = format!(
        "no Telepact endpoint at this path: this server takes Telepact messages at {path} \
         (POST, or a WebSocket by GET)"
    );
    router.fallback(move |request: axum::extract::Request| {
        let answer = (StatusCode::NOT_FOUND, answer.clone()).into_response();
        async move { closing_if_body_unread(&request, answer) }
    })
}

/// The router's state: the processor, and how its handlers read bodies.
#[derive(Clone)]
struct Endpoint<P> {
    processor: P,
    body: BodyLimits,
}

async fn handle<P: Processor>(
    State(endpoint): State<Endpoint<P>>,
    request: axum::extract::Request,
) -> HttpResponse {
    let (mut head, body) = request.into_parts();
    let body = match read_body(&head, body, endpoint.body).await {
        Ok(body) => body,
        Err(refusal) => {
            endpoint.processor.refused(refusal.status());
            return refusal.into_response();
        }
    };
    // Taken out of the head: axum's own extractor copies them.
    let transport = request_context(std::mem::take(&mut head.extensions));
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

/// Whether one of `headers`' `name` fields lists `token` (comma-separated, in any case):
/// `Connection: close`, `Upgrade: websocket`.
fn lists_token(
    headers: &axum::http::HeaderMap,
    name: &axum::http::HeaderName,
    token: &str,
) -> bool {
    headers.get_all(name).iter().any(|field| {
        field.to_str().is_ok_and(|list| {
            list.split(',')
                .any(|named| named.trim().eq_ignore_ascii_case(token))
        })
    })
}

/// The request's own extensions (what tower layers in front of the router attached),
/// its connection's address given as a [`PeerAddress`] in place of axum's
/// `ConnectInfo`: the server's transport context. A [`PeerAddress`] a layer set (the
/// client a trusted proxy names, say) is kept. Reusing the request's map spares
/// building one per request, and keeping its size leaves room for the auth hook's
/// identity without growing it.
fn request_context(mut extensions: axum::http::Extensions) -> axum::http::Extensions {
    if let Some(ConnectInfo(address)) = extensions.remove::<ConnectInfo<SocketAddr>>()
        && extensions.get::<PeerAddress>().is_none()
    {
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
