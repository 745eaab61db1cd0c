//! The endpoint's WebSocket sessions: one Telepact message per WebSocket message, each
//! answered in order; under [`serve_with`](super::serve_with), ended at the server's
//! shutdown and when idle.

use std::future::Future;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{FromRequestParts, State};
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};

use super::accept::SessionControl;
use super::{BodyLimits, Endpoint, Processor, request_context};
use crate::codec::Encoding;

/// One message's answer in a [`websocket_session`]: its bytes and their encoding, or the
/// close code and reason that end the session instead (when no answer could be had).
pub type SessionAnswer = Result<(Vec<u8>, Encoding), (u16, &'static str)>;

/// For adapters that answer a WebSocket session's messages themselves (the NATS
/// gateway, telepact-auth's HTTP adapter): upgrades the `GET` `request` to a session in
/// which `answer` answers each text or binary message, in order, with one message (text
/// for JSON, binary for MessagePack), as [`router`](super::router)'s sessions are
/// answered: messages limited to `limits.bytes`, and under
/// [`serve_with`](super::serve_with) ended at the server's shutdown and when idle. A
/// request that is no WebSocket upgrade gets axum's refusal.
///
/// ```no_run
/// use axum::Router;
/// use axum::extract::Request;
/// use axum::routing::get;
/// use telepact::Encoding;
/// use telepact::http::{HttpOptions, websocket_session};
///
/// // A session answering every message with the same message.
/// let limits = HttpOptions::default().body_limits();
/// let upgrade = move |request: Request| {
///     websocket_session(request, limits, |_message| async {
///         Ok((br#"[{}, {"Ok_": {}}]"#.to_vec(), Encoding::Json))
///     })
/// };
/// let app: Router = Router::new().route("/api/telepact", get(upgrade));
/// ```
pub async fn websocket_session<F, Fut>(
    request: axum::extract::Request,
    limits: BodyLimits,
    answer: F,
) -> HttpResponse
where
    F: FnMut(Bytes) -> Fut + Send + 'static,
    Fut: Future<Output = SessionAnswer> + Send + 'static,
{
    open_session(request, limits, |_| answer, |_| {}).await
}

/// Like [`websocket_session`], with `answer` made from the upgrade request's extensions
/// (what tower layers attached, axum's `ConnectInfo`), so that each message can carry
/// them to the server as a POST's do.
pub async fn websocket_session_with<F, Fut>(
    request: axum::extract::Request,
    limits: BodyLimits,
    answerer: impl FnOnce(Extensions) -> F,
) -> HttpResponse
where
    F: FnMut(Bytes) -> Fut + Send + 'static,
    Fut: Future<Output = SessionAnswer> + Send + 'static,
{
    open_session(request, limits, answerer, |_| {}).await
}

/// [`websocket_session_with`], telling `refused` the HTTP status a POST would have been
/// answered with for each message the session refuses (413 past the size limit, 400
/// otherwise), to count it.
async fn open_session<F, Fut>(
    request: axum::extract::Request,
    limits: BodyLimits,
    answerer: impl FnOnce(Extensions) -> F,
    refused: impl FnOnce(StatusCode) + Send + 'static,
) -> HttpResponse
where
    F: FnMut(Bytes) -> Fut + Send + 'static,
    Fut: Future<Output = SessionAnswer> + Send + 'static,
{
    let (mut parts, _) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    // Put there by `serve_with`, for the server's shutdown and the idle limit.
    let control = parts.extensions.remove::<SessionControl>();
    let answer = answerer(parts.extensions);
    // The frame limit too: a frame is read whole before its message's size is checked,
    // and tungstenite's own limit is 16 MiB.
    upgrade
        .max_message_size(limits.bytes)
        .max_frame_size(limits.bytes)
        .on_upgrade(move |socket| answer_frames(socket, answer, control, refused))
}

/// The `GET` handler: upgrades to a session whose messages are limited as POST bodies
/// are, each reaching the processor with the upgrade request's extensions, as a POST's
/// do.
pub(super) async fn upgrade<P: Processor>(
    State(endpoint): State<Endpoint<P>>,
    request: axum::extract::Request,
) -> HttpResponse {
    let processor = endpoint.processor;
    let counting = processor.clone();
    let answerer = move |extensions| {
        let context = request_context(extensions);
        move |body| {
            let processor = processor.clone();
            let context = context.clone();
            async move {
                let response = processor.process(body, context).await;
                Ok((response.bytes, response.encoding))
            }
        }
    };
    let refused = move |status| counting.refused(status);
    open_session(request, endpoint.body, answerer, refused).await
}

/// Answers each text or binary message of `socket`, in order, with one message: text
/// for a JSON response, binary for a MessagePack one. Under
/// [`serve_with`](super::serve_with) (`control`),
/// the session ends at the server's shutdown and when no message comes within the idle
/// limit of the last answer (pings do not count), between messages: one being answered
/// is answered first, unless the shutdown's deadline passes before, when it is dropped
/// with the session.
async fn answer_frames<F, Fut>(
    mut socket: WebSocket,
    mut answer: F,
    mut control: Option<SessionControl>,
    refused: impl FnOnce(StatusCode),
) where
    F: FnMut(Bytes) -> Fut + Send,
    Fut: Future<Output = SessionAnswer> + Send,
{
    let idle_limit = control.as_ref().map(|control| control.idle_limit);
    // Counted from the last message answered: pings do not keep a session open.
    let mut idle_until = idle_limit.map(|limit| tokio::time::Instant::now() + limit);
    let ending = loop {
        let stopping = async {
            match control.as_mut() {
                Some(control) => control.shutting_down().await,
                None => std::future::pending().await,
            }
        };
        let next = async {
            match idle_until {
                Some(deadline) => tokio::time::timeout_at(deadline, socket.recv()).await.ok(),
                None => Some(socket.recv().await),
            }
        };
        let received = tokio::select! {
            biased;
            () = stopping => break (close_code::AWAY, "server shutting down"),
            next = next => match next {
                Some(received) => received,
                None => break (close_code::NORMAL, "no message in time"),
            },
        };
        let body = match received {
            Some(Ok(Frame::Text(text))) => Bytes::from(text),
            Some(Ok(Frame::Binary(bytes))) => bytes,
            // axum answers pings itself.
            Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => continue,
            Some(Err(error)) => match refusal(&error) {
                Some(ending) => {
                    refused(if ending.0 == close_code::SIZE {
                        StatusCode::PAYLOAD_TOO_LARGE
                    } else {
                        StatusCode::BAD_REQUEST
                    });
                    break ending;
                }
                None => return,
            },
            Some(Ok(Frame::Close(_))) | None => return,
        };
        let answered = match control.as_mut() {
            Some(control) => answered_by_the_deadline(answer(body), control).await,
            None => Some(answer(body).await),
        };
        let (bytes, encoding) = match answered {
            Some(Ok(answered)) => answered,
            Some(Err(ending)) => break ending,
            None => {
                // Dropped, as an HTTP request unfinished then is with its connection.
                let peer = control.as_ref().map(|control| control.peer);
                tracing::warn!(
                    ?peer,
                    "message unanswered at the shutdown deadline; session dropped"
                );
                let close = Frame::Close(Some(CloseFrame {
                    code: close_code::AWAY,
                    reason: "server shutting down".into(),
                }));
                // Not waited for: serving has ended.
                let _ = super::poll_once(std::pin::pin!(socket.send(close))).await;
                return;
            }
        };
        // A peer that stops taking its answers fails the send after the idle limit: the
        // accept loop limits writes to every connection, upgraded ones included.
        if socket.send(answer_frame(bytes, encoding)).await.is_err() {
            return;
        }
        idle_until = idle_limit.map(|limit| tokio::time::Instant::now() + limit);
    };
    let (code, reason) = ending;
    let close = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Frame::Close(Some(close))).await;
}

/// `answering`'s answer, or `None` when the server's shutdown deadline passes first.
async fn answered_by_the_deadline(
    answering: impl Future<Output = SessionAnswer>,
    control: &mut SessionControl,
) -> Option<SessionAnswer> {
    tokio::select! {
        biased;
        answered = answering => Some(answered),
        () = control.past_the_deadline() => None,
    }
}

/// The close code and reason for a message the session refused (past the size limit,
/// text that is not UTF-8, a frame against the protocol); `None` for a connection
/// that failed, to which nothing can be sent.
fn refusal(error: &axum::Error) -> Option<(u16, &'static str)> {
    let cause = std::error::Error::source(error)?.downcast_ref::<tungstenite::Error>()?;
    match cause {
        tungstenite::Error::Capacity(_) => Some((close_code::SIZE, "message too big")),
        tungstenite::Error::Utf8(_) => Some((close_code::INVALID, "text message is not UTF-8")),
        tungstenite::Error::Protocol(_) => Some((close_code::PROTOCOL, "protocol error")),
        _ => None,
    }
}

/// The answer as one message: text for JSON, binary for MessagePack.
fn answer_frame(bytes: Vec<u8>, encoding: Encoding) -> Frame {
    match encoding {
        Encoding::Json => match String::from_utf8(bytes) {
            Ok(text) => Frame::text(text),
            Err(not_text) => Frame::binary(not_text.into_bytes()),
        },
        Encoding::Binary => Frame::binary(bytes),
    }
}
