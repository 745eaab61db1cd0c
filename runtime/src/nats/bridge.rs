//! Telepact headers that travel as NATS headers: what a gateway forwards from the HTTP
//! request (a cookie, `Authorization`) and what goes back to it (`Set-Cookie`).

use std::fmt;
use std::sync::Arc;

use async_nats::HeaderMap;

use crate::message::Headers;

/// Translates between a request's NATS headers and the call's Telepact headers, as an
/// HTTP adapter does between HTTP headers and the message: for credentials a gateway
/// forwards ([`GatewayOptions::request_headers`](super::GatewayOptions::request_headers))
/// and answers it sends back ([`GatewayOptions::response_headers`](super::GatewayOptions::response_headers)).
/// A worker given one ([`WorkerOptions::header_bridge`](super::WorkerOptions::header_bridge))
/// calls it on every request.
///
/// Whoever may publish on the worker's subject can write any NATS header, as they can
/// write any Telepact header: a bridge should turn headers into nothing a caller could
/// not have put in the message itself (a credential the auth hook still checks, say).
pub trait HeaderBridge: Send + Sync + 'static {
    /// Updates the call's headers from the request's NATS headers (empty when it had
    /// none) before they are validated and routed.
    fn request(&self, nats: &HeaderMap, headers: &mut Headers);

    /// Moves what the transport carries itself from the answer's headers into the
    /// reply's NATS headers, just before the answer is serialized. The reply is sent
    /// with headers only when `reply` is not empty, and without them when the answer is
    /// replaced by `ErrorUnknown_` for passing the NATS server's `max_payload`.
    fn response(&self, headers: &mut Headers, reply: &mut HeaderMap);
}

/// A worker's [`HeaderBridge`], shared by its requests.
#[derive(Clone)]
pub(super) struct SharedBridge(pub(super) Arc<dyn HeaderBridge>);

impl fmt::Debug for SharedBridge {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("HeaderBridge")
    }
}
