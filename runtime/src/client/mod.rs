//! The runtime client: sends request messages over a pluggable transport.
//!
//! [`Client::request`] fills in the standard request headers, serializes the message
//! (JSON, or MessagePack once binary is negotiated), hands the bytes to a
//! [`Transport`], and reads the answer back into a [`Message`]:
//! - `@time_`: the request's timeout in milliseconds. Set to the client's default when
//!   absent; whichever applies is also the deadline for the whole call (the default
//!   when the header sets no limit, as `0` does).
//! - `@id_`: with [`ClientOptions::correlation_ids`], a fresh id when absent; a response
//!   that carries an `@id_` must carry that one (one without is taken: a server answers
//!   `ErrorParseFailure_` without reading the request's headers).
//! - `@bin_`: with [`ClientOptions::binary`], the checksums of the encodings the client
//!   holds. The first response teaches the client the encoding (`@enc_`); later
//!   requests are sent as MessagePack with it (unless [`ClientOptions::always_send_json`]).
//!   When the server's schema changes, it answers `IncompatibleBinaryEncoding`; the
//!   client then resends the request once as JSON and learns the new encoding from
//!   that response.
//! - `@pac_`: with [`ClientOptions::packed`], lists of structs travel as tables.
//!
//! Transports: any async `Fn(Vec<u8>) -> Result<Vec<u8>, TransportError>` (handy for
//! in-process calls and tests), or, with the `http-client` feature, `HttpTransport` /
//! `Client::http(url, options)` (plain HTTP; `http-client-rustls` adds HTTPS).
//!
//! Credentials: [`Client::with_authoriser`] fills `@auth_` (or the transport's
//! `Authorization` header) on every call; see [`authorise`].

pub mod authorise;
mod binary_state;
mod codec;
mod error;
#[cfg(feature = "http-client")]
mod http;
#[cfg(any(feature = "http-client-rustls", feature = "websocket-client-rustls"))]
pub mod tls;
mod transport;
#[cfg(feature = "websocket-client")]
mod websocket;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

pub use error::{ClientError, InvalidResponse};
#[cfg(feature = "http-client")]
pub use http::HttpTransport;
pub use transport::{DEFAULT_RESPONSE_LIMIT, Transport, TransportError};
#[cfg(feature = "websocket-client")]
pub use websocket::{DEFAULT_CONNECT_TIMEOUT, WebSocketOptions, WebSocketTransport};

use crate::logging::{clipped, clipped_id};
use crate::message::{Headers, Message};
use binary_state::BinaryState;
use codec::{Encoded, decode_response, encode_binary, encode_json, is_incompatible_encoding};

/// How a [`Client`] calls.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Timeout of a request that has no `@time_` header (sent as `@time_`, in whole
    /// milliseconds rounded up).
    pub timeout: Duration,
    /// Ask for binary responses and send binary requests once the encoding is known.
    pub binary: bool,
    /// With `binary`: use the packed encoding (`@pac_`).
    pub packed: bool,
    /// With `binary`: keep sending requests as JSON (responses still come in binary).
    pub always_send_json: bool,
    /// Give each request an `@id_` (when it has none) and refuse a response carrying
    /// another one ([`ClientError::CorrelationMismatch`]); a response without one is taken.
    pub correlation_ids: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(5),
            binary: false,
            packed: false,
            always_send_json: false,
            correlation_ids: false,
        }
    }
}

/// Builder-style setters, e.g. `ClientOptions::default().binary(true).packed(true)`.
impl ClientOptions {
    /// Sets the `timeout` field.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the `binary` field.
    #[must_use]
    pub fn binary(mut self, binary: bool) -> Self {
        self.binary = binary;
        self
    }

    /// Sets the `packed` field.
    #[must_use]
    pub fn packed(mut self, packed: bool) -> Self {
        self.packed = packed;
        self
    }

    /// Sets the `always_send_json` field.
    #[must_use]
    pub fn always_send_json(mut self, always_send_json: bool) -> Self {
        self.always_send_json = always_send_json;
        self
    }

    /// Sets the `correlation_ids` field.
    #[must_use]
    pub fn correlation_ids(mut self, correlation_ids: bool) -> Self {
        self.correlation_ids = correlation_ids;
        self
    }
}

/// A Telepact client. Cheap to clone; clones share the transport and what was learned
/// about the server's binary encoding.
///
/// # Example
///
/// A client with a one-second time limit and correlation ids, over any transport: here
/// a server in this process (`Client::http` calls one by HTTP).
///
/// ```
/// use std::time::Duration;
/// use telepact::schema::Schema;
/// use telepact::{Client, ClientOptions, FunctionRouter, Headers, Message, Server};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// # let server = Server::builder(Schema::from_text("[]")?, FunctionRouter::new())
/// #     .auth_required(false)
/// #     .build()?;
/// let options = ClientOptions::default()
///     .timeout(Duration::from_secs(1))
///     .correlation_ids(true);
/// let client = Client::with_options(server, options);
/// let ping = Message::new(Headers::new(), "fn.ping_", Default::default());
/// let answer = client.request(ping).await?;
/// assert_eq!(answer.target(), "Ok_");
/// assert_eq!(answer.headers.get("@id_"), Some(&1.into()));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// Per handle, so clones can share a transport under different credentials.
    authoriser: Option<Arc<dyn authorise::Authoriser>>,
}

/// Shows the options and whether an authoriser is set, never its credentials.
impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("options", &self.inner.options)
            .field("authorised", &self.authoriser.is_some())
            .finish_non_exhaustive()
    }
}

struct Inner {
    transport: Box<dyn Transport>,
    options: ClientOptions,
    binary: Mutex<BinaryState>,
    next_id: AtomicU64,
}

impl Client {
    /// A client with default options (JSON, 5 s timeout).
    pub fn new(transport: impl Transport) -> Self {
        Self::with_options(transport, ClientOptions::default())
    }

    /// A client sending through `transport` with `options`.
    pub fn with_options(transport: impl Transport, options: ClientOptions) -> Self {
        Client {
            inner: Arc::new(Inner {
                transport: Box::new(transport),
                options,
                binary: Mutex::new(BinaryState::default()),
                next_id: AtomicU64::new(1),
            }),
            authoriser: None,
        }
    }

    /// A client that POSTs to `url` over HTTP.
    ///
    /// # Errors
    ///
    /// As [`HttpTransport::new`]: [`ClientError::Transport`] when `url` does not parse or
    /// is not `http://` or `https://` (`https://` only with `http-client-rustls`), or the
    /// HTTP client cannot be set up.
    #[cfg(feature = "http-client")]
    pub fn http(url: &str, options: ClientOptions) -> Result<Self, ClientError> {
        Ok(Self::with_options(HttpTransport::new(url)?, options))
    }

    /// The options it was built with.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// Sends one request and returns the response message.
    ///
    /// # Errors
    ///
    /// - [`ClientError::Timeout`] when no response arrives within the request's `@time_`
    ///   (or the default timeout).
    /// - [`ClientError::Authorise`] when the client's authoriser cannot produce a
    ///   credential.
    /// - [`ClientError::Serialization`] when the request cannot be encoded (a typed body
    ///   that is no object, or holds a NaN or an infinity).
    /// - [`ClientError::Transport`] when the transport fails.
    /// - [`ClientError::InvalidResponse`] when the answer is not a usable Telepact message.
    /// - [`ClientError::CorrelationMismatch`] when, with
    ///   [`ClientOptions::correlation_ids`], the response carries another `@id_`.
    ///
    /// An error the server answers with (`ErrorUnknown_`, `ErrorInvalidRequestBody_`, ...)
    /// is a response, not an `Err`.
    pub async fn request(&self, mut request: Message) -> Result<Message, ClientError> {
        let timeout = self.apply_timeout(&mut request.headers);
        let sent_id = self.apply_correlation_id(&mut request.headers);
        // One span per call (at `debug`, as the server's), with the function, `@id_`,
        // result tag (or the kind of failure) and duration; never a header value that
        // may be a credential, nor a body.
        let span = tracing::debug_span!(
            "telepact.client.call",
            function = request.target(),
            id = tracing::field::Empty,
            result = tracing::field::Empty,
            error = tracing::field::Empty,
            duration_us = tracing::field::Empty,
        );
        let started = (!span.is_disabled()).then(std::time::Instant::now);
        if let (Some(_), Some(id)) = (started, request.headers.get("@id_")) {
            // Clipped as the server's span clips it: an id may be as long as a message.
            span.record("id", &*clipped_id(id));
        }
        let exchange =
            tracing::Instrument::instrument(self.authorised_exchange(request), span.clone());
        let outcome = match tokio::time::timeout(timeout, exchange).await {
            Ok(outcome) => outcome.and_then(|response| correlated(sent_id, response)),
            Err(_) => Err(ClientError::Timeout(timeout)),
        };
        if let Some(started) = started {
            match &outcome {
                // The server's text, as long as its answer allows.
                Ok(response) => span.record("result", &*clipped(response.target())),
                Err(error) => span.record("error", error.kind()),
            };
            let elapsed = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            span.record("duration_us", elapsed);
        }
        outcome
    }

    /// The request's `@time_` (milliseconds) or, when it has none, the default, which is
    /// then written into the headers (at most the protocol's largest integer, 2^63 - 1:
    /// `Duration::MAX` for no limit would otherwise be refused by the server). A
    /// `@time_` that sets no limit is sent as written and the wait is then the
    /// default: the server refuses one that is no integer (`"100"`), and neither a
    /// negative one (`-5`) nor `0` narrows its own limit. Part of a millisecond counts
    /// as one, so a default never becomes that `0`.
    fn apply_timeout(&self, headers: &mut Headers) -> Duration {
        let default = self.inner.options.timeout;
        match headers.get("@time_") {
            Some(_) => headers.time_limit().unwrap_or(default),
            None => {
                let millis = default.as_nanos().div_ceil(1_000_000);
                let millis = i64::try_from(millis).unwrap_or(i64::MAX);
                headers.insert("@time_", Value::from(millis));
                default
            }
        }
    }

    fn apply_correlation_id(&self, headers: &mut Headers) -> Option<Value> {
        if !self.inner.options.correlation_ids {
            return None;
        }
        if let Some(id) = headers.get("@id_") {
            return Some(id.clone());
        }
        let id = Value::from(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        headers.insert("@id_", id.clone());
        Some(id)
    }

    /// One call: a send, and one JSON resend when the server refused the binary encoding.
    async fn exchange(
        &self,
        mut request: Message,
        transport_headers: &::http::HeaderMap,
    ) -> Result<Message, ClientError> {
        let encoded = self.encode(&mut request, false)?;
        let refused_checksum = encoded.binary_checksum;
        let response = self.send(encoded, transport_headers).await?;
        if refused_checksum.is_some() && is_incompatible_encoding(&response) {
            tracing::debug!(
                ?refused_checksum,
                "server refused the binary encoding; resending as JSON"
            );
            let encoded = self.encode(&mut request, true)?;
            return self.send(encoded, transport_headers).await;
        }
        Ok(response)
    }

    fn encode(&self, request: &mut Message, force_json: bool) -> Result<Encoded, ClientError> {
        let options = &self.inner.options;
        if !options.binary {
            return encode_json(request);
        }
        let (listed, current) = {
            let state = self.lock_binary();
            (state.known(), state.current())
        };
        let checksums: Vec<i64> = listed
            .iter()
            .map(|encoding| i64::from(encoding.checksum()))
            .collect();
        request.headers.insert("@bin_", Value::from(checksums));
        if options.packed {
            request.headers.insert("@pac_", Value::Bool(true));
        }
        let mut encoded = match current {
            Some(encoding) if !force_json && !options.always_send_json => {
                encode_binary(request, &encoding, options.packed)
            }
            _ => encode_json(request),
        }?;
        encoded.listed = listed;
        Ok(encoded)
    }

    async fn send(
        &self,
        encoded: Encoded,
        transport_headers: &::http::HeaderMap,
    ) -> Result<Message, ClientError> {
        let bytes = self
            .inner
            .transport
            .send_with_headers(encoded.bytes, transport_headers.clone())
            .await
            .map_err(ClientError::Transport)?;
        Ok(decode_response(
            &bytes,
            &self.inner.binary,
            &encoded.listed,
        )?)
    }

    fn lock_binary(&self) -> std::sync::MutexGuard<'_, BinaryState> {
        // The state stays consistent at every step, so a panic elsewhere cannot spoil it.
        self.inner
            .binary
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `response`, unless the request carried an `@id_` (`sent`) and the response another.
fn correlated(sent: Option<Value>, response: Message) -> Result<Message, ClientError> {
    if let (Some(sent), Some(received)) = (sent, response.headers.get("@id_"))
        && sent != *received
    {
        return Err(ClientError::CorrelationMismatch {
            sent: Box::new(sent),
            received: Box::new(received.clone()),
        });
    }
    Ok(response)
}
