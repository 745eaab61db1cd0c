//! The HTTP gateway: `POST` bodies forwarded to a NATS subject, replies returned.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use async_nats::{HeaderMap as NatsHeaders, Message, RequestError, RequestErrorKind};
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::close_code;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::binary::is_msgpack;
use crate::codec::Encoding;
use crate::http::{
    BodyLimits, HttpOptions, counted_websocket_session, encoded_answer, method_not_allowed,
    read_body,
};
use crate::logging::LineBudget;
use crate::message::PeerAddress;

use super::replies::Requester;
use super::{NatsError, PEER_ADDRESS_HEADER, checked_subject};

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
    /// HTTP request headers sent on as NATS headers of the same (lower-case) name when
    /// present, every value of each, for a worker's
    /// [`HeaderBridge`](super::HeaderBridge) to read: credentials such as
    /// `Authorization` or a session cookie. [`PEER_ADDRESS_HEADER`] is never taken from
    /// the caller. None by default.
    pub request_headers: Vec<HeaderName>,
    /// Headers of the worker's NATS reply returned as HTTP response headers when
    /// present (`Set-Cookie`, say); a value HTTP cannot carry is dropped. None by
    /// default.
    pub response_headers: Vec<HeaderName>,
}

crate::__option_setters!(GatewayOptions {
    forward_peer_address: bool,
});

impl GatewayOptions {
    /// Sets the `request_headers` field.
    #[must_use]
    pub fn request_headers(mut self, names: impl IntoIterator<Item = HeaderName>) -> Self {
        self.request_headers = names.into_iter().collect();
        self
    }

    /// Sets the `response_headers` field.
    #[must_use]
    pub fn response_headers(mut self, names: impl IntoIterator<Item = HeaderName>) -> Self {
        self.response_headers = names.into_iter().collect();
        self
    }
}

#[derive(Clone)]
struct Forward {
    requester: Requester,
    subject: async_nats::Subject,
    body: BodyLimits,
    forward_peer_address: bool,
    /// `request_headers` with their NATS names, worked out once.
    request_headers: Arc<[(HeaderName, async_nats::HeaderName)]>,
    response_headers: Arc<[HeaderName]>,
}

/// An axum router serving `POST {options.path}` by forwarding each body to
/// `subject` as a NATS request. The reply comes back as the HTTP body, typed
/// `application/octet-stream` when it is MessagePack and `application/json`
/// otherwise. No worker listening is 503; no reply in time (the client's
/// request timeout, which bounds the whole request, NATS unreachable included) is
/// 504; a body past the NATS server's `max_payload` is 413; a lost connection is 502.
/// A `subject` NATS would refuse (empty, with whitespace or an empty token) is
/// [`NatsError::InvalidSubject`] here, not a failure at every call, and one past
/// [`MAX_SUBJECT_BYTES`](super::MAX_SUBJECT_BYTES) is [`NatsError::NameTooLong`].
///
/// `GET` on the same path upgrades to a WebSocket, as [`http::router`](crate::http::router)
/// does: each message is forwarded as one request and its reply sent back as one
/// message (text for JSON, binary for MessagePack); the upgrade request's headers and
/// caller count for every message. A request that gets no reply ends the session with
/// a close frame instead of an answer: 1013 (try again later) for no worker or no reply
/// in time, 1009 (too big) past `max_payload`, 1011 for a lost connection. Reply
/// headers have no place in a session and are not returned.
///
/// # Errors
///
/// [`NatsError::InvalidSubject`] for a subject NATS would refuse.
///
/// # Panics
///
/// When `options.path` is not a path axum routes as written, as
/// [`http::router`](crate::http::router) panics; a path set with
/// [`HttpOptions::checked_path`] never is.
pub fn gateway(
    client: async_nats::Client,
    subject: &str,
    options: &HttpOptions,
) -> Result<Router, NatsError> {
    gateway_with(client, subject, options, GatewayOptions::default())
}

/// Like [`gateway()`], with `gateway`'s options.
///
/// # Errors
///
/// As [`gateway()`].
///
/// # Panics
///
/// As [`gateway()`].
pub fn gateway_with(
    client: async_nats::Client,
    subject: &str,
    options: &HttpOptions,
    gateway: GatewayOptions,
) -> Result<Router, NatsError> {
    let request_headers = (gateway.request_headers.into_iter())
        // The caller's address is the gateway's to write, never a caller's.
        .filter(|name| !name.as_str().eq_ignore_ascii_case(PEER_ADDRESS_HEADER))
        // Any HTTP header name is a NATS one.
        .filter_map(|name| {
            let nats = async_nats::HeaderName::from_str(name.as_str()).ok()?;
            Some((name, nats))
        })
        .collect();
    describe_metrics();
    let forward = Forward {
        requester: Requester::new(client),
        subject: checked_subject(subject)?,
        body: options.body_limits(),
        forward_peer_address: gateway.forward_peer_address,
        request_headers,
        response_headers: gateway.response_headers.into(),
    };
    Ok(Router::new()
        .route(
            &options.path,
            post(handle).get(upgrade).fallback(method_not_allowed),
        )
        .with_state(forward))
}

async fn handle(State(forward): State<Forward>, request: Request) -> Response {
    let (head, body) = request.into_parts();
    // As the endpoint's own POST handler: a body in a coding left undone is refused,
    // and a refusal leaving the body unread says the HTTP/1 connection closes.
    let body = match read_body(&head, body, forward.body).await {
        Ok(body) => body,
        Err(refusal) => {
            count_refusal(refusal.status());
            return refusal.into_response();
        }
    };
    let headers = forward.nats_headers(&head.headers, &head.extensions);
    match forward.send(headers, body).await {
        Ok(reply) => {
            let encoding = encoding_of(&reply.payload);
            let mut answer = encoded_answer(reply.payload, encoding);
            if let Some(headers) = &reply.headers {
                forward.copy_reply_headers(headers, answer.headers_mut());
            }
            answer
        }
        Err(error) => {
            let (status, _, reason) = refusal(error.kind());
            (status, reason).into_response()
        }
    }
}

/// How a request NATS did not answer is refused: the HTTP status, the WebSocket close
/// code, and the one-line reason both give. The error itself is logged where it
/// happened, with its causes.
fn refusal(kind: RequestErrorKind) -> (StatusCode, u16, &'static str) {
    let failed = "the request to NATS failed";
    match kind {
        RequestErrorKind::NoResponders => (
            StatusCode::SERVICE_UNAVAILABLE,
            close_code::AGAIN,
            "no worker is serving",
        ),
        RequestErrorKind::TimedOut => (
            StatusCode::GATEWAY_TIMEOUT,
            close_code::AGAIN,
            "no reply in time",
        ),
        RequestErrorKind::MaxPayloadExceeded => (
            StatusCode::PAYLOAD_TOO_LARGE,
            close_code::SIZE,
            "past max_payload",
        ),
        // Checked when the gateway was built; were it not, the fault is ours.
        RequestErrorKind::InvalidSubject => {
            (StatusCode::INTERNAL_SERVER_ERROR, close_code::ERROR, failed)
        }
        RequestErrorKind::Other => (StatusCode::BAD_GATEWAY, close_code::ERROR, failed),
    }
}

/// The `GET` handler: a WebSocket session forwarding each message.
async fn upgrade(State(forward): State<Forward>, request: Request) -> Response {
    let headers = forward.nats_headers(request.headers(), request.extensions());
    let limits = forward.body;
    let answer = move |body| {
        let (forward, headers) = (forward.clone(), headers.clone());
        async move {
            match forward.send(headers, body).await {
                Ok(reply) => {
                    let encoding = encoding_of(&reply.payload);
                    Ok((reply.payload.to_vec(), encoding))
                }
                Err(error) => {
                    let (_, close, reason) = refusal(error.kind());
                    Err((close, reason))
                }
            }
        }
    };
    // A message refused (past the size limit, or not a message) is counted as a POST
    // body refused the same way is.
    counted_websocket_session(request, limits, |_| answer, count_refusal).await
}

impl Forward {
    /// `body` as a NATS request to the subject, with `headers` if any, answered or
    /// failed within the connection's request timeout; a failure is logged here.
    async fn send(
        &self,
        headers: Option<NatsHeaders>,
        body: Bytes,
    ) -> Result<Message, RequestError> {
        let subject = self.subject.clone();
        let started = Instant::now();
        let sent = self.requester.request(subject, headers, body).await;
        count_request(&sent, started);
        sent.inspect_err(log_failed_request)
    }

    /// The NATS headers the options ask for, `None` when there are none: a message
    /// without headers is cheaper for every hop.
    fn nats_headers(&self, request: &HeaderMap, extensions: &Extensions) -> Option<NatsHeaders> {
        let mut headers = NatsHeaders::new();
        if self.forward_peer_address
            && let Some(address) = peer_address(extensions)
        {
            headers.insert(PEER_ADDRESS_HEADER, address.to_string().as_str());
        }
        for (name, nats_name) in self.request_headers.iter() {
            for value in request.get_all(name) {
                // A value that is not text (obs-text bytes) has no NATS form.
                if let Ok(value) = value.to_str() {
                    headers.append(nats_name.clone(), value);
                }
            }
        }
        (!headers.is_empty()).then_some(headers)
    }

    /// The reply headers the options return (their names matched in any case), as HTTP
    /// headers of the answer.
    fn copy_reply_headers(&self, reply: &NatsHeaders, answer: &mut HeaderMap) {
        for (name, values) in reply.iter() {
            let name: &str = name.as_ref();
            let Some(wanted) = (self.response_headers.iter())
                .find(|wanted| wanted.as_str().eq_ignore_ascii_case(name))
            else {
                continue;
            };
            for value in values {
                if let Some(value) = reply_header_value(wanted, value.as_str()) {
                    answer.append(wanted.clone(), value);
                }
            }
        }
    }
}

/// Requests forwarded, by how they ended: a fixed set of values.
const REQUESTS: &str = "telepact_nats_gateway_requests_total";

/// Time from forwarding a request to its reply or its failure.
const REQUEST_DURATION: &str = "telepact_nats_gateway_request_duration_seconds";

/// Requests whose body, and WebSocket messages, the gateway refused before forwarding,
/// by status (a message under the status a POST of it is answered with), under the name
/// a server's endpoint counts them with.
const HTTP_REFUSALS: &str = "telepact_http_refusals_total";

/// Tells the `metrics` facade's recorder what the gateway's series mean.
fn describe_metrics() {
    metrics::describe_counter!(
        REQUESTS,
        "Requests forwarded to NATS, by outcome: replied, no_worker, timed_out, too_large or failed."
    );
    metrics::describe_histogram!(
        REQUEST_DURATION,
        metrics::Unit::Seconds,
        "Time from forwarding a request to NATS to its reply or its failure."
    );
    metrics::describe_counter!(
        HTTP_REFUSALS,
        "Requests the HTTP endpoint refused before reading them whole, by status."
    );
}

/// Counts a forwarded request by its outcome, and times it.
fn count_request(sent: &Result<Message, RequestError>, started: Instant) {
    let outcome = match sent.as_ref().map_err(RequestError::kind) {
        Ok(_) => "replied",
        Err(RequestErrorKind::NoResponders) => "no_worker",
        Err(RequestErrorKind::TimedOut) => "timed_out",
        Err(RequestErrorKind::MaxPayloadExceeded) => "too_large",
        Err(_) => "failed",
    };
    metrics::counter!(REQUESTS, "outcome" => outcome).increment(1);
    metrics::histogram!(REQUEST_DURATION).record(started.elapsed().as_secs_f64());
}

/// Counts a body or WebSocket message refused with `status`: one of the few
/// [`read_body`]'s [`BodyRefusal`](crate::http::BodyRefusal) and a session's refusals
/// give, so the label's values stay that few, as the endpoint's do.
fn count_refusal(status: StatusCode) {
    // Rare: the label is made each time, as the endpoint's is.
    metrics::counter!(HTTP_REFUSALS, "status" => status.as_str().to_string()).increment(1);
}

/// Logs a request NATS did not answer, ten lines a second at most: with no worker
/// serving, or NATS down, every caller's request fails, as fast as callers send them.
fn log_failed_request(error: &RequestError) {
    static FAILED_LINES: LineBudget = LineBudget::per_second(10);
    if let Some(left_out) = FAILED_LINES.admit() {
        let left_out = (left_out > 0).then_some(left_out);
        tracing::warn!(error = %crate::ErrorChain(error), left_out, "request to NATS failed");
    }
}

/// A reply header's value for the HTTP answer; `None` when HTTP cannot carry it. A
/// cookie set for the caller holds a session's secret, so it is marked sensitive and
/// kept out of any trace layer that logs headers.
fn reply_header_value(name: &HeaderName, value: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(value).ok()?;
    value.set_sensitive(name == SET_COOKIE);
    Some(value)
}

fn encoding_of(payload: &[u8]) -> Encoding {
    if is_msgpack(payload) {
        Encoding::Binary
    } else {
        Encoding::Json
    }
}

/// The caller's address for the workers: a [`PeerAddress`] a layer in front of the
/// gateway set (from a trusted proxy's `X-Forwarded-For`, say), or else the connection's.
fn peer_address(extensions: &Extensions) -> Option<SocketAddr> {
    match extensions.get::<PeerAddress>() {
        Some(PeerAddress(address)) => Some(*address),
        None => extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| *address),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_from_the_workers_is_a_sensitive_header() {
        let cookie = reply_header_value(&SET_COOKIE, "session=s3cret; HttpOnly").expect("a value");
        assert!(cookie.is_sensitive());
        let other = HeaderName::from_static("x-request-id");
        let plain = reply_header_value(&other, "42").expect("a value");
        assert!(!plain.is_sensitive());
        assert_eq!(reply_header_value(&other, "line\nbreak"), None);
    }
}
