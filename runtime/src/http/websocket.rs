//! The endpoint's WebSocket sessions: one Telepact message per WebSocket message, each
//! answered in order; under [`serve_with`](super::serve_with), ended at the server's
//! shutdown and when idle.

use std::future::Future;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{FromRequestParts, State};
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use futures_util::SinkExt;

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
/// answered: messages limited to `limits.bytes`, the session ended when no message comes
/// whole within `limits.time` of the last answer (under [`serve_with`](super::serve_with),
/// its idle limit), and under `serve_with` at the server's shutdown too. A
/// request that asks for no WebSocket gets 426 (405 over HTTP/2), and one in a version other
/// than 13 gets 426 naming 13 (RFC 6455, 4.4).
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
    counted_websocket_session(request, limits, |_| answer, |_| {}).await
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
    counted_websocket_session(request, limits, answerer, |_| {}).await
}

/// Like [`websocket_session_with`], telling `refused` the HTTP status a POST would have
/// been answered with for each message the session refuses (413 past the size limit, 400
/// otherwise), so that an adapter counts it as it counts its POST bodies refused: with a
/// [`Server`](crate::Server), by [`Processor::refused`], in
/// `telepact_http_refusals_total`.
pub async fn counted_websocket_session<F, Fut>(
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
    if let Some(refusal) = handshake_refusal(&parts) {
        return refusal;
    }
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
        .on_upgrade(move |socket| answer_frames(socket, answer, control, limits.time, refused))
}

/// The answer to a request that cannot become a session, where axum's would be wrong:
///
/// - one that asks for no WebSocket (a `GET` without `Upgrade: websocket`, a `HEAD`):
///   over HTTP/1.1, 426 with `Upgrade: websocket` (RFC 9110, 15.5.22), where axum
///   answered 400, and `HEAD` a 405 without the `Allow` RFC 9110 (15.5.6) requires;
///   over HTTP/2, which upgrades nothing and has no extended `CONNECT` here, 405 with
///   `Allow: POST`, where axum answered 405 without it;
/// - an upgrade in a WebSocket version other than 13: 426 with
///   `Sec-WebSocket-Version: 13`, as RFC 6455 (4.2.2, 4.4) asks, where axum answered 400.
///
/// A handshake without `Host`, or with several, gets 400 as a POST does (see
/// [`host_refusal`](super::body::host_refusal)). Any other is left to axum (a missing
/// `Sec-WebSocket-Key` gets 400).
fn handshake_refusal(parts: &axum::http::request::Parts) -> Option<HttpResponse> {
    use axum::http::{HeaderValue, Method, Version, header};

    if let Some(reason) = super::body::host_refusal(parts) {
        return Some((StatusCode::BAD_REQUEST, reason).into_response());
    }

    if parts.version >= Version::HTTP_2 {
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return None;
        }
        let mut answer = (
            StatusCode::METHOD_NOT_ALLOWED,
            "this path takes Telepact messages by POST; WebSocket sessions need HTTP/1.1",
        )
            .into_response();
        answer
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Some(answer);
    }
    let asks_websocket = parts.method == Method::GET
        && super::lists_token(&parts.headers, &header::UPGRADE, "websocket");
    if !asks_websocket {
        let mut answer = (
            StatusCode::UPGRADE_REQUIRED,
            "this path takes Telepact messages by POST, or a WebSocket by GET with Upgrade: websocket",
        )
            .into_response();
        let headers = answer.headers_mut();
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        return Some(answer);
    }
    let version = parts.headers.get(header::SEC_WEBSOCKET_VERSION);
    if version.is_some_and(|version| version.as_bytes() == b"13") {
        return None;
    }
    let mut answer = (
        StatusCode::UPGRADE_REQUIRED,
        "WebSocket version 13 is the one supported",
    )
        .into_response();
    answer.headers_mut().insert(
        header::SEC_WEBSOCKET_VERSION,
        HeaderValue::from_static("13"),
    );
    Some(answer)
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
    counted_websocket_session(request, endpoint.body, answerer, refused).await
}

/// What `socket.recv()` gives: a frame, a failure, or `None` once the session ended.
type Received = Option<Result<Frame, axum::Error>>;

/// Answers each text or binary message of `socket`, in order, with one message: text
/// for a JSON response, binary for a MessagePack one. The session ends when no message
/// comes whole within the idle limit of the last answer (pings do not count): under
/// [`serve_with`](super::serve_with) (`control`) its own, else `message_time`, the time
/// a POST body may take, so that no client holds a session by sending a message a
/// byte at a time. Under `serve_with` it also ends
/// at the server's shutdown, between messages: one being answered
/// is answered first, unless the shutdown's deadline passes before, when it is dropped
/// with the session, as is an answer (or close frame) the client has not taken by then. One whose client closes the session, or whose connection fails,
/// before it is answered is dropped then: nobody is left to read its answer. A client's
/// close frame is answered with one.
async fn answer_frames<F, Fut>(
    mut socket: WebSocket,
    mut answer: F,
    mut control: Option<SessionControl>,
    message_time: Duration,
    refused: impl FnOnce(StatusCode),
) where
    F: FnMut(Bytes) -> Fut + Send,
    Fut: Future<Output = SessionAnswer> + Send,
{
    let idle_limit = control
        .as_ref()
        .map_or(message_time, |control| control.idle_limit);
    // Counted from the last message answered: pings do not keep a session open.
    let mut idle_until = tokio::time::Instant::now().checked_add(idle_limit);
    // A message that came while the one before it was being answered.
    let mut held: Option<Received> = None;
    let ending = loop {
        let next = next_message(&mut socket, &mut held, control.as_mut(), idle_until);
        let received = match next.await {
            Ok(received) => received,
            Err(ending) => break ending,
        };
        let body = match received {
            Some(Ok(Frame::Text(text))) => Bytes::from(text),
            Some(Ok(Frame::Binary(bytes))) => bytes,
            // `next_frame` has answered pings.
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
            Some(Ok(Frame::Close(_))) => return answer_close(socket).await,
            None => return,
        };
        let answering = answer(body);
        let (bytes, encoding) =
            match answer_watching(answering, &mut socket, control.as_mut(), &mut held).await {
                Answering::Answered(Ok(answered)) => answered,
                Answering::Answered(Err(ending)) => break ending,
                Answering::CallerGone => return,
                Answering::Closed => return answer_close(socket).await,
                Answering::PastTheDeadline => {
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
        let answer = answer_frame(bytes, encoding);
        if !send_by_deadline(&mut socket, answer, control.as_mut()).await {
            return;
        }
        idle_until = tokio::time::Instant::now().checked_add(idle_limit);
    };
    let (code, reason) = ending;
    let close = CloseFrame {
        code,
        reason: reason.into(),
    };
    send_by_deadline(&mut socket, Frame::Close(Some(close)), control.as_mut()).await;
}

/// Sends `frame`; `false` when that failed, or when the server's shutdown deadline
/// passed first (under `control`): a client taking nothing the session wrote held it,
/// and its connection, open past `serve`'s return until the write limit.
async fn send_by_deadline(
    socket: &mut WebSocket,
    frame: Frame,
    control: Option<&mut SessionControl>,
) -> bool {
    let peer = control.as_ref().map(|control| control.peer);
    tokio::select! {
        sent = socket.send(frame) => sent.is_ok(),
        () = shutdown_deadline(control) => {
            tracing::warn!(?peer, "frame untaken at the shutdown deadline; session dropped");
            false
        }
    }
}

/// Completes at the server's shutdown deadline (never without `control`).
async fn shutdown_deadline(control: Option<&mut SessionControl>) {
    match control {
        Some(control) => control.past_the_deadline().await,
        None => std::future::pending().await,
    }
}

/// The session's next frame (the one `held`, if any), or the close code and reason
/// that end it: the server is shutting down, or nothing came by `idle_until`.
async fn next_message(
    socket: &mut WebSocket,
    held: &mut Option<Received>,
    control: Option<&mut SessionControl>,
    idle_until: Option<tokio::time::Instant>,
) -> Result<Received, (u16, &'static str)> {
    let stopping = async {
        match control {
            Some(control) => control.shutting_down().await,
            None => std::future::pending().await,
        }
    };
    let next = async {
        if let Some(received) = held.take() {
            return Some(received);
        }
        match idle_until {
            Some(deadline) => tokio::time::timeout_at(deadline, next_frame(socket))
                .await
                .ok(),
            None => Some(next_frame(socket).await),
        }
    };
    tokio::select! {
        biased;
        () = stopping => Err((close_code::AWAY, "server shutting down")),
        next = next => next.ok_or((close_code::NORMAL, "no message in time")),
    }
}

/// The socket's next frame other than a ping, each ping's pong sent before the next
/// frame is read: tungstenite queues a pong for every ping it reads, and a client that
/// pings without pause and takes none of them had them all held in memory (62 MiB for
/// 64 MiB of pings) until the write limit ended the session.
async fn next_frame(socket: &mut WebSocket) -> Received {
    loop {
        match socket.recv().await {
            Some(Ok(Frame::Ping(_))) => {
                if let Err(failed) = socket.flush().await {
                    return Some(Err(failed));
                }
            }
            other => return other,
        }
    }
}

/// How answering one message ended.
enum Answering {
    Answered(SessionAnswer),
    /// The server's shutdown deadline passed first.
    PastTheDeadline,
    /// The client's connection ended or failed first, without a close frame.
    CallerGone,
    /// The client closed the session first.
    Closed,
}

/// `answering`'s answer, read from `socket` meanwhile, so that a client that closes the
/// session (or a connection that fails) is noticed while its message is answered; under
/// `control`, only until the server's shutdown deadline. A message that comes meanwhile
/// is `held` for its turn, and the socket is read no further until then.
async fn answer_watching(
    answering: impl Future<Output = SessionAnswer>,
    socket: &mut WebSocket,
    control: Option<&mut SessionControl>,
    held: &mut Option<Received>,
) -> Answering {
    let past_the_deadline = shutdown_deadline(control);
    let mut answering = std::pin::pin!(answering);
    let mut past_the_deadline = std::pin::pin!(past_the_deadline);
    loop {
        tokio::select! {
            biased;
            answered = answering.as_mut() => return Answering::Answered(answered),
            () = past_the_deadline.as_mut() => return Answering::PastTheDeadline,
            received = next_frame(socket), if held.is_none() => match received {
                Some(Ok(Frame::Pong(_))) => {}
                Some(Ok(Frame::Close(_))) => return Answering::Closed,
                None => return Answering::CallerGone,
                Some(Err(error)) if refusal(&error).is_none() => return Answering::CallerGone,
                // The next message, or one to refuse once this one is answered.
                other => *held = Some(other),
            },
        }
    }
}

/// The longest the close frame that answers a client's may take to leave.
const CLOSE_ANSWER_WAIT: Duration = Duration::from_secs(5);

/// Answers the client's close frame with one, as RFC 6455 (5.5.1) asks: tungstenite
/// queued it when it read the client's, and sends it when the socket is next read,
/// which then ends. Dropped unsent, the client saw the connection end without it.
async fn answer_close(mut socket: WebSocket) {
    let _ = tokio::time::timeout(CLOSE_ANSWER_WAIT, socket.recv()).await;
}

/// The close code and reason for a message the session refused (past the size limit,
/// text that is not UTF-8, a frame against the protocol); `None` for a connection
/// that failed or ended without a close frame, to which nothing can be sent.
fn refusal(error: &axum::Error) -> Option<(u16, &'static str)> {
    use tungstenite::error::ProtocolError;

    let cause = std::error::Error::source(error)?.downcast_ref::<tungstenite::Error>()?;
    match cause {
        tungstenite::Error::Capacity(_) => Some((close_code::SIZE, "message too big")),
        tungstenite::Error::Utf8(_) => Some((close_code::INVALID, "text message is not UTF-8")),
        // The client went without closing: nothing it sent was refused.
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
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
