//! The Telepact runtime: serve, call, mock and test any API described by a Telepact
//! schema (`*.telepact.yaml`).
//!
//! A Telepact message is `[headers, body]`: a JSON array (or, once a client asks for it,
//! MessagePack) whose body names one function, `{"fn.greet": {"name": "ada"}}`, and
//! whose answer names one tag of that function's result, `{"Ok_": {...}}`. The server
//! validates both against the schema and answers the protocol's own errors
//! (`ErrorInvalidRequestBody_`, `ErrorUnauthenticated_`, ...) before and after a handler
//! runs, so a handler only ever sees valid input.
//!
//! # Typed or dynamic
//!
//! Most services generate their types: `telepact-codegen` in `build.rs` turns the
//! schema into serde types, a `Handler` trait with one `async fn` per function and a
//! typed `Client`, all brought in with [`include_schema!`]; a schema edit that the code
//! does not follow is a compile error. The types support lives in [`typed`].
//!
//! The same [`Server`] also runs on JSON values, for a schema known only at run time:
//!
//! ```
//! use serde_json::{Map, Value, json};
//! use telepact::schema::Schema;
//! use telepact::{FunctionRouter, HandlerError, Headers, Message, Server};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let schema = Schema::from_text(
//!     r#"[{"fn.greet": {"name": "string"}, "->": [{"Ok_": {"text": "string"}}]}]"#,
//! )?;
//! let router = FunctionRouter::new().route("fn.greet", |request: Message| async move {
//!     let name = request.payload().and_then(|p| p.get("name")).and_then(Value::as_str);
//!     let mut payload = Map::new();
//!     payload.insert("text".into(), json!(format!("hello {}", name.unwrap_or_default())));
//!     Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
//! });
//! // A schema without `union.Auth_` must say that it needs no authentication.
//! let server = Server::builder(schema, router).auth_required(false).build()?;
//!
//! let response = server.process(br#"[{}, {"fn.greet": {"name": "ada"}}]"#).await;
//! assert_eq!(response.bytes, br#"[{},{"Ok_":{"text":"hello ada"}}]"#);
//!
//! // Input the schema does not allow never reaches the handler.
//! let response = server.process(br#"[{}, {"fn.greet": {"name": 1}}]"#).await;
//! assert!(response.bytes.starts_with(br#"[{},{"ErrorInvalidRequestBody_""#));
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! [`Server::process`] is the whole protocol, bytes in and bytes out; every transport
//! below calls it. The standard functions (`fn.ping_`, `fn.api_`), the `@select_`,
//! `@bin_`, `@id_` and `@time_` headers and binary negotiation come with every server.
//!
//! # Serving
//!
//! - `http` (feature `axum`, on by default): an `axum::Router` that answers `POST` and
//!   WebSocket on one path, and `http::serve` for HTTP/1.1 and HTTP/2 (h2c, or HTTPS with
//!   feature `tls`), with time limits for slow clients and a graceful shutdown.
//! - [`tower`]: the server as a `tower::Service`, so `tower-http` layers (timeouts,
//!   compression, limits) wrap it like any other service.
//! - `nats` (feature `nats`): workers sharing a NATS subject, and an HTTP gateway to it.
//!
//! [`ServerBuilder`] adds the hooks: [`AuthHook`] turns `@auth_` into an identity,
//! [`Middleware`] wraps calls (several run in the order added; [`middleware_from_fn`]
//! takes a closure with an owned [`Next`]), a per-call time limit, and metrics.
//! Handlers refuse a caller with a typed [`Refusal`]. The `telepact-auth` crate builds
//! passwords, tokens, API keys, sessions and policies on these hooks.
//!
//! # Calling
//!
//! [`Client`] sends messages over any [`client::Transport`]: HTTP (feature
//! `http-client`, HTTPS with `http-client-rustls`), WebSocket (`websocket-client`,
//! `wss://` with `websocket-client-rustls`), NATS, a `tower::Service`
//! ([`tower::TowerTransport`]), or any async function from request bytes to answer
//! bytes (a server in the same process, in tests). It sets each
//! call's time limit (`@time_`) and, if asked, a correlation id (`@id_`), negotiates
//! binary, and attaches credentials through the authorisers of [`client::authorise`].
//!
//! # Testing
//!
//! - [`mock::MockServer`]: answers any schema from stubs or generated data and verifies
//!   the calls it got, as the protocol's mock does (`telepact mock` serves it over HTTP);
//!   generated code wraps it in a typed `Mock`.
//! - [`test_client::TestClient`]: asserts that an answer contains an expected body.
//! - [`random`]: values of any schema type, the same from the same seed in every
//!   Telepact implementation.
//! - [`ValueValidator`]: checks one value against one schema type, as the server would.
//!
//! # Observability
//!
//! Each call runs in a `tracing` span `telepact.call` (level `debug`) with its function,
//! `@id_`, result tag, encoding, the `caseId` of an `ErrorUnknown_` and its duration;
//! the client's calls in `telepact.client.call`. No credential and no body is ever
//! written to a span or a log field. The runtime reports through the `metrics` facade,
//! with no exporter chosen for you (the workspace's README describes each series):
//! - with [`ServerBuilder::metrics`], each call: `telepact_calls_total`,
//!   `telepact_call_duration_seconds`, `telepact_request_bytes`,
//!   `telepact_response_bytes` and `telepact_calls_in_flight`, and the requests its HTTP
//!   endpoint refused unread, `telepact_http_refusals_total`;
//! - `http::serve`, with a bound on connections (as by default):
//!   `telepact_http_connections_refused_total` and `telepact_http_connections_open`;
//! - the NATS gateway: `telepact_nats_gateway_requests_total` and
//!   `telepact_nats_gateway_request_duration_seconds`, and its refusals in
//!   `telepact_http_refusals_total`.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `axum` | yes | `http`: the HTTP and WebSocket endpoint, `http::serve` |
//! | `tls` | | HTTPS for `http::serve_with` (rustls; HTTP/2 by ALPN) |
//! | `http-client` | | the client's HTTP transport (`client::HttpTransport`) and the OAuth2 authorisers |
//! | `http-client-rustls` | | HTTPS (and HTTP/2 by ALPN) for both |
//! | `websocket-client` | | the client's WebSocket transport (`ws://`) |
//! | `websocket-client-rustls` | | `wss://` for it, on the same TLS as the HTTPS client |
//! | `nats` | | `nats`: workers behind a NATS subject, a NATS client transport and (with `axum`) an HTTP gateway |
//! | `flags` | | `flags`: clap flags for a service's HTTP limits, timeouts and TLS and its calls' time limit, and one-line usage errors (with `tls`) |
//! | `env-filter` | | `logging::env_filter`: a `tracing-subscriber` filter from `RUST_LOG` that keeps credentials out of `trace` logs |
//! | `log-stderr` | | `logging::StderrLog`: a service's log on stderr, as text or one JSON object a line (with `env-filter`) |
//! | `prometheus` | | `prometheus::Exporter`: the process's metrics as Prometheus text on `GET /metrics` (with `axum`) |
// docs.rs builds on nightly with `--cfg docsrs`: each feature-gated item is marked
// with the features it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod base64_paths;
mod base64_text;
pub mod binary;
mod budget;
pub mod client;
pub mod clock;
mod codec;
#[cfg(any(
    feature = "tls",
    feature = "http-client-rustls",
    feature = "websocket-client-rustls"
))]
mod crypto;
#[cfg(feature = "flags")]
pub mod flags;
#[cfg(feature = "axum")]
pub mod http;
mod json_text;
pub mod logging;
mod message;
pub mod mock;
#[cfg(feature = "nats")]
pub mod nats;
mod non_finite;
#[cfg(feature = "prometheus")]
pub mod prometheus;
pub mod random;
mod refusal;
mod router;
mod serde_refuse;
mod server;
mod setters;
pub mod test_client;
pub mod tower;
pub mod typed;
mod validate;
mod value_validator;

pub use base64_paths::{Base64HeaderError, MarkedBytes};
pub use budget::GenerationLimits;
pub use client::{Client, ClientError, ClientOptions};
pub use codec::{Encoding, ParseFailure};
pub use message::{HeaderName, Headers, HeadersIntoIter, HeadersIter, Message, PeerAddress};
pub use refusal::Refusal;
pub use router::{BoxFuture, Function, FunctionRouter, HandlerError};
pub use server::{
    AuthFuture, AuthHook, AuthUnavailable, Authenticated, BuildError, ErrorHook, ErrorKind, FromFn,
    MessageHook, Middleware, Next, Panicked, ProcessError, Response, Server, ServerBuilder,
    TimedOut, TooDeep, TooLarge, middleware_fn, middleware_from_fn,
};
pub use telepact_schema as schema;
pub use telepact_schema::ErrorChain;
pub use validate::{MAX_VALIDATION_FAILURES, Reason, ValidationFailure};
pub use value_validator::{UnknownType, ValueValidator, validate_value};
