//! The HTTP gateway: `POST` bodies forwarded to a NATS subject, replies returned.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::binary::is_msgpack;
use crate::codec::Encoding;
use crate::http::{BodyLimits, HttpOptions, encoded_answer, read_body};

use super::{NatsError, validated};

#[derive(Clone)]
struct Forward {
    client: async_nats::Client,
    subject: async_nats::Subject,
    body: BodyLimits,
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
    let forward = Forward {
        client,
        subject: validated(subject)?,
        body: options.body_limits(),
    };
    Ok(Router::new()
        .route(&options.path, post(handle))
        .with_state(forward))
}

async fn handle(State(forward): State<Forward>, body: Body) -> Response {
    let body = match read_body(body, forward.body).await {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(),
    };
    match forward.client.request(forward.subject.clone(), body).await {
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
