//! The HTTP gateway: `POST` bodies forwarded to a NATS subject, replies returned.

use std::net::SocketAddr;

use async_nats::HeaderMap;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Extensions;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::binary::is_msgpack;
use crate::codec::Encoding;
use crate::http::{BodyLimits, HttpOptions, encoded_answer, read_body};
use crate::message::PeerAddress;

use super::{NatsError, PEER_ADDRESS_HEADER, validated};

/// How a [`gateway_with`] forwards.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct GatewayOptions {
    /// Send each caller's address in [`PEER_ADDRESS_HEADER`]: the connection's when
    /// served by [`http::serve`](crate::http::serve), or a [`PeerAddress`] a layer in
    /// front set. Workers take it only when told to trust it
    /// ([`WorkerOptions::trust_peer_address`](super::WorkerOptions::trust_peer_address)).
    /// Off by default: a message with headers costs the gateway, NATS and the worker
    /// more to handle (up to a tenth of the throughput on loopback).
    pub forward_peer_address: bool,
}

crate::__option_setters!(GatewayOptions {
    forward_peer_address: bool,
});

#[derive(Clone)]
struct Forward {
    client: async_nats::Client,
    subject: async_nats::Subject,
    body: BodyLimits,
    forward_peer_address: bool,
}

/// An axum router serving `POST {options.path}` by forwarding each body to
/// `subject` as a NATS request. The reply comes back as the HTTP body, typed
/// `application/octet-stream` when it is MessagePack and `application/json`
/// otherwise. No worker listening is 503; no reply in time (the client's
/// request timeout) is 504; a body past the NATS server's `max_payload` is 413; a lost
/// connection is 502. A `subject` NATS would refuse (empty, with whitespace or an
/// empty token) is [`NatsError::InvalidSubject`] here, not a failure at every call.
pub fn gateway(
    client: async_nats::Client,
    subject: &str,
    options: &HttpOptions,
) -> Result<Router, NatsError> {
    gateway_with(client, subject, options, GatewayOptions::default())
}

/// Like [`gateway()`], with `gateway`'s options.
pub fn gateway_with(
    client: async_nats::Client,
    subject: &str,
    options: &HttpOptions,
    gateway: GatewayOptions,
) -> Result<Router, NatsError> {
    let forward = Forward {
        client,
        subject: validated(subject)?,
        body: options.body_limits(),
        forward_peer_address: gateway.forward_peer_address,
    };
    Ok(Router::new()
        .route(&options.path, post(handle))
        .with_state(forward))
}

async fn handle(State(forward): State<Forward>, request: Request) -> Response {
    let headers = forward
        .forward_peer_address
        .then(|| peer_address_header(request.extensions()));
    let body = match read_body(request.into_body(), forward.body).await {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(),
    };
    let subject = forward.subject.clone();
    let sent = match headers {
        Some(headers) => {
            let request = forward.client.request_with_headers(subject, headers, body);
            request.await
        }
        None => forward.client.request(subject, body).await,
    };
    match sent {
        Ok(reply) => {
            let encoding = if is_msgpack(&reply.payload) {
                Encoding::Binary
            } else {
                Encoding::Json
            };
            encoded_answer(reply.payload, encoding)
        }
        Err(error) => {
            use async_nats::RequestErrorKind;
            let status = match error.kind() {
                RequestErrorKind::NoResponders => StatusCode::SERVICE_UNAVAILABLE,
                RequestErrorKind::TimedOut => StatusCode::GATEWAY_TIMEOUT,
                RequestErrorKind::MaxPayloadExceeded => StatusCode::PAYLOAD_TOO_LARGE,
                // Checked when the gateway was built; were it not, the fault is ours.
                RequestErrorKind::InvalidSubject => StatusCode::INTERNAL_SERVER_ERROR,
                RequestErrorKind::Other => StatusCode::BAD_GATEWAY,
            };
            tracing::warn!(%error, "request to NATS failed");
            (status, error.to_string()).into_response()
        }
    }
}

/// The caller's address for the workers: a [`PeerAddress`] a layer in front of the
/// gateway set (from a trusted proxy's `X-Forwarded-For`, say), or else the connection's.
fn peer_address_header(extensions: &Extensions) -> HeaderMap {
    let address = match extensions.get::<PeerAddress>() {
        Some(PeerAddress(address)) => Some(*address),
        None => extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| *address),
    };
    let mut headers = HeaderMap::new();
    if let Some(address) = address {
        headers.insert(PEER_ADDRESS_HEADER, address.to_string().as_str());
    }
    headers
}
