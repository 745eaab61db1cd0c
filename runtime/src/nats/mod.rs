//! NATS transport: workers answer request messages published on one subject, sharing
//! the load through a queue group; clients call them with NATS request/reply. Request
//! and response bytes (JSON or MessagePack) travel unchanged.
//!
//! ```no_run
//! # async fn run(server: telepact::Server) -> Result<(), telepact::nats::NatsError> {
//! let nats = async_nats::connect("127.0.0.1:4222").await?;
//! let worker = telepact::nats::serve(server, nats, "telepact.bakery", "bakery").await?;
//! // ... until shutdown: stop taking requests, finish the ones in flight.
//! worker.drain().await
//! # }
//! ```
//!
//! With the `axum` feature, [`gateway()`] builds an HTTP router forwarding each
//! `POST` body to a subject, so HTTP callers reach workers anywhere; HTTP headers it is
//! told to forward reach a worker's [`HeaderBridge`] as NATS headers.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::PublishErrorKind;
use futures_util::StreamExt;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

pub use async_nats;

use crate::client::{Transport, TransportError};
use crate::logging::LineBudget;
use crate::message::PeerAddress;
use crate::router::BoxFuture;
use crate::server::{Processed, Server};

/// How long [`Worker::drain`] lets in-flight requests finish.
pub const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// The longest subject, in bytes, a worker, a gateway or a [`NatsTransport`] takes. Every
/// protocol line that carries it (a subscription, a request with its reply subject) stays
/// well within the 4 KiB `max_control_line` nats-server takes by default: past it the
/// server closes the connection, which reconnects and is closed again, without end.
pub const MAX_SUBJECT_BYTES: usize = 2048;

/// The longest queue group, in bytes, a worker takes; with a subject of
/// [`MAX_SUBJECT_BYTES`] its subscription's line stays within nats-server's default
/// `max_control_line` too.
pub const MAX_QUEUE_GROUP_BYTES: usize = 1024;

/// The NATS header in which a gateway sends its HTTP client's address
/// (`203.0.113.7:51234`) when told to (`GatewayOptions::forward_peer_address`, with the
/// `axum` feature), for workers that trust it ([`WorkerOptions::trust_peer_address`]).
pub const PEER_ADDRESS_HEADER: &str = "Telepact-Peer-Address";

/// How a worker serves.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct WorkerOptions {
    /// Take the address a gateway sends in [`PEER_ADDRESS_HEADER`] as the request's
    /// [`PeerAddress`], so that limits per client address (telepact-auth's failed-login
    /// limit) count the gateway's callers, not the gateway. Off by default: anyone who
    /// may publish on the subject can write the header, so turn it on only where NATS
    /// permissions let the gateways alone publish there. Off, a worker's requests carry
    /// no address.
    pub trust_peer_address: bool,
    /// The most requests the worker answers at once (`None`, the default: no bound; 0
    /// counts as 1). At
    /// the bound it takes no more from the subscription until one is answered; NATS
    /// holds the rest in the connection's subscription buffer
    /// (`ConnectOptions::subscription_capacity`) and drops what does not fit there,
    /// whose callers then time out. A bound keeps a burst of slow calls from holding
    /// unbounded memory and tasks.
    pub max_in_flight: Option<usize>,
    /// Set with [`header_bridge`](Self::header_bridge).
    header_bridge: Option<SharedBridge>,
}

crate::__option_setters!(WorkerOptions {
    trust_peer_address: bool,
    max_in_flight: Option<usize>,
});

impl WorkerOptions {
    /// Translates each request's NATS headers into the call's headers and the answer's
    /// into the reply's with `bridge` (telepact-auth's `http::nats::CredentialBridge`
    /// reads the credentials a gateway forwards). None by default: NATS headers other than
    /// [`PEER_ADDRESS_HEADER`] are ignored and replies carry none.
    #[must_use]
    pub fn header_bridge(mut self, bridge: impl HeaderBridge) -> Self {
        self.header_bridge = Some(SharedBridge(Arc::new(bridge)));
        self
    }
}

/// How a worker failed to start or to finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NatsError {
    /// Connecting to the NATS server failed.
    #[error("could not connect to NATS")]
    Connect(#[from] async_nats::ConnectError),
    /// A subject NATS would refuse: empty, with whitespace, or with an empty token
    /// (`a..b`, a leading or trailing dot); or a wildcard (a token `*` or `>`), with which
    /// a worker would answer the calls of every service whose subject it matches, and
    /// see their credentials. Refused before anything is sent.
    #[error(
        "{subject:?} is not a NATS subject of one service (no whitespace, no empty token, no wildcard)"
    )]
    InvalidSubject {
        /// The subject as given.
        subject: String,
    },
    /// A subject past [`MAX_SUBJECT_BYTES`] or a queue group past
    /// [`MAX_QUEUE_GROUP_BYTES`]. Refused before anything is sent.
    #[error("a NATS {name} of {bytes} bytes is past the {limit} bytes taken")]
    NameTooLong {
        /// `subject` or `queue group`.
        name: &'static str,
        /// Its length in bytes.
        bytes: usize,
        /// The most bytes taken.
        limit: usize,
    },
    /// Subscribing to the subject failed.
    #[error("could not subscribe")]
    Subscribe(#[from] async_nats::SubscribeError),
    /// The subscription or pending replies could not be flushed to the server.
    #[error("could not flush to NATS")]
    Flush(#[from] async_nats::client::FlushError),
    /// The worker's task panicked or was cancelled.
    #[error("worker task ended abnormally")]
    Task(#[from] tokio::task::JoinError),
}

/// Answers each request message published on `subject` with `server`'s response,
/// as one member of `queue_group` (NATS delivers each request to one member). Every
/// request is processed in its own task, so one worker serves many calls at once. A
/// response past the NATS server's `max_payload` is answered `ErrorUnknown_` instead,
/// logged and reported to the server's on-error hook under its case id
/// ([`ErrorKind::Undeliverable`](crate::ErrorKind::Undeliverable), with a
/// [`TooLarge`](crate::TooLarge) source), and counted in the server's metrics as that answer.
/// Should the limit fall while the call is answered (a reconnection to a server taking
/// smaller messages), or the answer pass it only with the [`HeaderBridge`]'s reply
/// headers, the send fails and the caller gets the same `ErrorUnknown_`, its `@id_`
/// kept, reported with the size NATS refused, headers included, though the call's span
/// and metrics have already recorded the handler's answer.
/// `client`'s reconnection settings decide how it rides out a NATS restart
/// (by default it reconnects and subscribes again by itself). A `subject` NATS would
/// refuse is [`NatsError::InvalidSubject`]; one past [`MAX_SUBJECT_BYTES`], or a
/// `queue_group` past [`MAX_QUEUE_GROUP_BYTES`], is [`NatsError::NameTooLong`].
///
/// # Errors
///
/// As [`serve_with`].
pub async fn serve(
    server: Server,
    client: async_nats::Client,
    subject: &str,
    queue_group: &str,
) -> Result<Worker, NatsError> {
    serve_with(
        server,
        client,
        subject,
        queue_group,
        WorkerOptions::default(),
    )
    .await
}

/// Like [`serve`], with `options`.
///
/// # Errors
///
/// - [`NatsError::InvalidSubject`] for a subject NATS would refuse.
/// - [`NatsError::NameTooLong`] for a subject past [`MAX_SUBJECT_BYTES`] or a
///   `queue_group` past [`MAX_QUEUE_GROUP_BYTES`].
/// - [`NatsError::Subscribe`] when the subscription cannot be made.
/// - [`NatsError::Flush`] when the subscription cannot be flushed to the server.
pub async fn serve_with(
    server: Server,
    client: async_nats::Client,
    subject: &str,
    queue_group: &str,
    options: WorkerOptions,
) -> Result<Worker, NatsError> {
    let subject = checked_subject(subject)?;
    within_limit("queue group", queue_group, MAX_QUEUE_GROUP_BYTES)?;
    let subscriber = client
        .queue_subscribe(subject, queue_group.to_string())
        .await?;
    // Once the server has seen the subscription, requests sent after this returns
    // reach the worker rather than "no responders".
    client.flush().await?;
    let (stop, stopped) = oneshot::channel();
    let watched = client.clone();
    let task = tokio::spawn(run(server, client, subscriber, stopped, options));
    Ok(Worker::new(stop, task, watched))
}

/// Like [`serve`], serving until `shutdown` completes, then draining
/// ([`Worker::drain`]).
///
/// # Errors
///
/// Each failure of [`serve_with`] (before serving) and of [`Worker::drain`] (after).
pub async fn serve_until(
    server: Server,
    client: async_nats::Client,
    subject: &str,
    queue_group: &str,
    shutdown: impl Future<Output = ()>,
) -> Result<(), NatsError> {
    let options = WorkerOptions::default();
    serve_until_with(server, client, subject, queue_group, options, shutdown).await
}

/// Like [`serve_with`], serving until `shutdown` completes, then draining
/// ([`Worker::drain`]). A shutdown while the subscription waits for NATS (unreachable
/// at start) ends it at once, with nothing served.
///
/// # Errors
///
/// Each failure of [`serve_with`] (before serving) and of [`Worker::drain`] (after).
pub async fn serve_until_with(
    server: Server,
    client: async_nats::Client,
    subject: &str,
    queue_group: &str,
    options: WorkerOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), NatsError> {
    let mut shutdown = std::pin::pin!(shutdown);
    // Subscribing waits for NATS, unreachable at start, say: a shutdown then ends it
    // there, with nothing served, rather than going unheard until NATS is back.
    let worker = tokio::select! {
        worker = serve_with(server, client, subject, queue_group, options) => worker?,
        () = &mut shutdown => return Ok(()),
    };
    shutdown.await;
    worker.drain().await
}

async fn run(
    server: Server,
    client: async_nats::Client,
    mut subscriber: async_nats::Subscriber,
    mut stopped: oneshot::Receiver<()>,
    options: WorkerOptions,
) -> Result<(), NatsError> {
    let mut in_flight = JoinSet::new();
    let max_in_flight = options.max_in_flight.map_or(usize::MAX, |max| max.max(1));
    let mut draining = false;
    loop {
        tokio::select! {
            // NATS stops sending this worker requests; those it has already sent (waiting
            // in the subscription's buffer, at `max_in_flight` say) are still answered,
            // then the subscription's stream ends.
            _ = &mut stopped, if !draining => {
                draining = true;
                if let Err(error) = subscriber.drain().await {
                    tracing::warn!(error = %crate::ErrorChain(&error), "could not unsubscribe while draining");
                    break;
                }
            }
            message = subscriber.next(), if in_flight.len() < max_in_flight => match message {
                Some(message) => {
                    let transport = transport_context(&message, &options);
                    let bridge = options.header_bridge.clone();
                    let answering = answer(server.clone(), client.clone(), message, transport, bridge);
                    in_flight.spawn(answering);
                }
                None => break,
            },
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
        }
    }
    while in_flight.join_next().await.is_some() {}
    client.flush().await?;
    Ok(())
}

/// What the request's transport tells the server: the gateway's [`PEER_ADDRESS_HEADER`]
/// as a [`PeerAddress`], when trusted and well formed.
fn transport_context(message: &async_nats::Message, options: &WorkerOptions) -> http::Extensions {
    let mut transport = http::Extensions::new();
    if options.trust_peer_address {
        let address = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get(PEER_ADDRESS_HEADER))
            .and_then(|address| address.as_str().parse::<SocketAddr>().ok());
        if let Some(address) = address {
            transport.insert(PeerAddress(address));
        }
    }
    transport
}

/// Runs one side of a [`HeaderBridge`]: a panic in it is logged and the call goes on
/// with the headers as the bridge left them, where it ended the request's task and its
/// caller waited out its timeout for an answer that never came.
fn bridge_step(side: &'static str, step: impl FnOnce()) {
    // A bridge that panics on some input panics on every call that carries it.
    static PANIC_LINES: LineBudget = LineBudget::per_second(10);
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).is_err()
        && let Some(left_out) = PANIC_LINES.admit()
    {
        let left_out = (left_out > 0).then_some(left_out);
        tracing::error!(
            side,
            left_out,
            "the header bridge panicked; the call goes on without it"
        );
    }
}

async fn answer(
    server: Server,
    client: async_nats::Client,
    message: async_nats::Message,
    transport: http::Extensions,
    bridge: Option<SharedBridge>,
) {
    let Some(reply) = message.reply else {
        tracing::debug!(subject = %message.subject, "request without a reply subject ignored");
        return;
    };
    // The server answers `ErrorUnknown_` in place of what NATS would not carry.
    let limit = client.max_payload();
    let none = async_nats::HeaderMap::new();
    let request_headers = message.headers.as_ref().unwrap_or(&none);
    let mut reply_headers = async_nats::HeaderMap::new();
    let processed = server.process_shared_adapted(
        &message.payload,
        transport,
        Some(limit),
        |headers| {
            if let Some(SharedBridge(bridge)) = &bridge {
                bridge_step("request", || bridge.request(request_headers, headers));
            }
        },
        |headers| {
            if let Some(SharedBridge(bridge)) = &bridge {
                bridge_step("response", || bridge.response(headers, &mut reply_headers));
            }
        },
    );
    let Processed {
        response,
        replaced,
        function,
    } = processed.await;
    // What the bridge took belongs to the answer that was replaced.
    if replaced {
        reply_headers = async_nats::HeaderMap::new();
    }
    // What NATS counts against `max_payload`: the reply's headers with its body.
    let size = response.bytes.len() + headers_wire_len(&reply_headers);
    let published = if reply_headers.is_empty() {
        client.publish(reply.clone(), response.bytes.into()).await
    } else {
        let payload = response.bytes.into();
        let publishing = client.publish_with_headers(reply.clone(), reply_headers, payload);
        publishing.await
    };
    let sent = match published {
        // The limit fell while the call was answered (a reconnection to another server).
        Err(error) if error.kind() == PublishErrorKind::MaxPayloadExceeded => {
            let function = function.as_deref();
            let limit = client.max_payload();
            let answer = server.too_large(function, size, limit, response.headers);
            client.publish(reply, answer.into()).await
        }
        sent => sent,
    };
    if let Err(error) = sent {
        unpublished(function.as_deref(), &error);
    }
}

/// Logs a reply that could not be published, naming the call's `function` (as the
/// request named it, clipped) as every other line of a call does.
fn unpublished(function: Option<&str>, error: &async_nats::PublishError) {
    // Every request answered while the connection is down fails so.
    static UNPUBLISHED_LINES: LineBudget = LineBudget::per_second(10);
    if let Some(left_out) = UNPUBLISHED_LINES.admit() {
        let left_out = (left_out > 0).then_some(left_out);
        let function = function.map(crate::logging::clipped);
        let function = function.as_deref();
        let error = crate::ErrorChain(error);
        tracing::warn!(function, %error, left_out, "could not publish a reply");
    }
}

/// The bytes `headers` take in a message (`NATS/1.0`, a line for each value, a blank
/// line), as NATS counts them against `max_payload`; none when there are none, as a
/// message without headers carries no such block.
fn headers_wire_len(headers: &async_nats::HeaderMap) -> usize {
    if headers.is_empty() {
        return 0;
    }
    let lines = headers.iter().flat_map(|(name, values)| {
        let name: &str = name.as_ref();
        values
            .iter()
            .map(move |value| name.len() + value.as_str().len() + 4)
    });
    "NATS/1.0\r\n\r\n".len() + lines.sum::<usize>()
}

/// The client side: each request is one NATS request on `subject`, its reply the
/// response. A request nobody serves fails at once ("no responders"); one whose
/// worker dies fails at the client's deadline (or the NATS client's request timeout,
/// if shorter).
#[derive(Debug, Clone)]
pub struct NatsTransport {
    requester: Requester,
    subject: async_nats::Subject,
}

impl NatsTransport {
    /// A transport calling `subject` through `client`, or [`NatsError::InvalidSubject`]
    /// for a subject NATS would refuse (no worker could serve it).
    ///
    /// # Errors
    ///
    /// [`NatsError::InvalidSubject`] for a subject NATS would refuse, and
    /// [`NatsError::NameTooLong`] for one past [`MAX_SUBJECT_BYTES`].
    pub fn new(client: async_nats::Client, subject: &str) -> Result<Self, NatsError> {
        Ok(NatsTransport {
            requester: Requester::new(client),
            subject: checked_subject(subject)?,
        })
    }
}

/// `subject` as a worker, a gateway and a [`NatsTransport`] take it, or why not: the check
/// a subscription makes, so a subject the gateway or a client calls is one a worker can
/// serve, with no wildcard (one service's subject), and at most [`MAX_SUBJECT_BYTES`]
/// long.
///
/// # Errors
///
/// - [`NatsError::NameTooLong`] for a subject past [`MAX_SUBJECT_BYTES`].
/// - [`NatsError::InvalidSubject`] for one NATS would refuse, or holding a wildcard.
pub fn checked_subject(subject: &str) -> Result<async_nats::Subject, NatsError> {
    within_limit("subject", subject, MAX_SUBJECT_BYTES)?;
    let wildcard = subject.split('.').any(|token| token == "*" || token == ">");
    match async_nats::Subject::validated(subject) {
        Ok(subject) if !wildcard => Ok(subject),
        _ => Err(NatsError::InvalidSubject {
            subject: subject.to_string(),
        }),
    }
}

/// [`NatsError::NameTooLong`] when `value` is past `limit` bytes.
fn within_limit(name: &'static str, value: &str, limit: usize) -> Result<(), NatsError> {
    if value.len() > limit {
        return Err(NatsError::NameTooLong {
            name,
            bytes: value.len(),
            limit,
        });
    }
    Ok(())
}

impl Transport for NatsTransport {
    fn send(&self, request: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        let requester = self.requester.clone();
        let subject = self.subject.clone();
        Box::pin(async move {
            let reply = requester.request(subject, None, request.into()).await?;
            Ok(reply.payload.to_vec())
        })
    }
}

/// Connects with settings suited to a worker or gateway: reconnect forever,
/// `request_timeout` for requests sent through the connection. `url` may name several
/// servers, comma-separated, and carry credentials as nats.go takes them
/// (`nats://user:password@host`, `nats://token@host`, percent-encoded), which are given
/// to the connection apart from the servers' addresses, so that async-nats's debug
/// lines, which name the server, show none of them.
///
/// # Errors
///
/// [`NatsError::Connect`] when `url` is not a valid NATS address, or its servers name
/// different credentials. The first connection is made, and retried, in the
/// background, so an unreachable server is not an error here: requests sent meanwhile
/// wait for it, up to `request_timeout`.
pub async fn connect(
    url: &str,
    request_timeout: Duration,
) -> Result<async_nats::Client, NatsError> {
    let options = async_nats::ConnectOptions::new()
        .request_timeout(Some(request_timeout))
        .retry_on_initial_connect();
    let (servers, options) = address::with_credentials(url, options)?;
    Ok(options.connect(servers).await?)
}

mod address;
mod bridge;
pub use bridge::HeaderBridge;
use bridge::SharedBridge;

mod replies;
use replies::Requester;

mod worker;
pub use worker::Worker;

#[cfg(feature = "axum")]
mod gateway;
#[cfg(feature = "axum")]
pub use gateway::{GatewayOptions, gateway, gateway_with};
