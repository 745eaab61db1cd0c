//! WebSocket sessions when they end. The client: a connection the server closed
//! between calls is replaced before the next call, and a call whose connection breaks
//! fails, the next one going over a new connection. The server: at shutdown a session
//! answers the message it is on, then closes as going away; a session idle past the
//! limit, or whose peer stops reading its answers, is closed.
#![cfg(feature = "websocket-client")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde_json::Map;
use telepact::client::{WebSocketOptions, WebSocketTransport};
use telepact::{Client, Headers, Message};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

const OK_ANSWER: &str = r#"[{},{"Ok_":{}}]"#;

/// What the test server does with each connection it accepts.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Answers the first message, then closes the connection.
    AnswerOnceThenClose,
    /// Closes the connection on the first message, without answering it.
    CloseUnanswered,
}

/// The `Authorization` header of each upgrade request a [`serve`] server took, in order.
type Authorizations = Arc<Mutex<Vec<Option<String>>>>;

/// A WebSocket server on a free loopback port that treats the n-th connection as
/// `behaviours[n]` (the last one for any later connection). Returns the port, the
/// count of connections accepted, a channel that says when a connection closed, and
/// the upgrades' `Authorization` headers.
async fn serve(
    behaviours: Vec<Behaviour>,
) -> (u16, Arc<AtomicUsize>, mpsc::Receiver<()>, Authorizations) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let (closed, closings) = mpsc::channel(8);
    let count = Arc::clone(&accepted);
    let authorizations = Authorizations::default();
    let seen = Arc::clone(&authorizations);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let index = count.fetch_add(1, Ordering::SeqCst);
            let behaviour = behaviours[index.min(behaviours.len() - 1)];
            // The callback's type is tungstenite's, its error an HTTP response.
            #[expect(clippy::result_large_err)]
            let record = |request: &Request, response: Response| {
                let authorization = request.headers().get("authorization");
                let authorization = authorization.and_then(|value| value.to_str().ok());
                let mut seen = seen.lock().expect("not poisoned");
                seen.push(authorization.map(str::to_string));
                Ok(response)
            };
            let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, record).await else {
                continue;
            };
            let _request = socket.next().await;
            if let Behaviour::AnswerOnceThenClose = behaviour {
                let _ = socket.send(Frame::text(OK_ANSWER)).await;
            }
            let _ = socket.close(None).await;
            drop(socket);
            let _ = closed.send(()).await;
        }
    });
    (port, accepted, closings, authorizations)
}

async fn ping(client: &Client) -> Result<String, telepact::ClientError> {
    let request = Message::new(Headers::new(), "fn.ping_", Map::new());
    client
        .request(request)
        .await
        .map(|answer| answer.target().to_string())
}

#[tokio::test]
async fn a_connection_the_server_closed_between_calls_is_replaced() {
    let (port, accepted, mut closings, _) = serve(vec![Behaviour::AnswerOnceThenClose]).await;
    let transport = WebSocketTransport::connect(&format!("ws://127.0.0.1:{port}/"))
        .await
        .expect("connects");
    let client = Client::new(transport);
    for call in 1..=3 {
        assert_eq!(ping(&client).await.expect("answered"), "Ok_", "call {call}");
        // The server's close has reached the client before the next call.
        closings
            .recv()
            .await
            .expect("the server closed the connection");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3, "one connection a call");
}

#[tokio::test]
async fn a_call_whose_connection_breaks_fails_and_the_next_goes_over_a_new_one() {
    let (port, accepted, _closings, _) = serve(vec![
        Behaviour::CloseUnanswered,
        Behaviour::AnswerOnceThenClose,
    ])
    .await;
    let transport = WebSocketTransport::connect(&format!("ws://127.0.0.1:{port}/"))
        .await
        .expect("connects");
    let client = Client::new(transport);
    // It may have been handled: it is not sent again.
    assert!(ping(&client).await.is_err(), "the unanswered call fails");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert_eq!(ping(&client).await.expect("answered"), "Ok_");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

/// A WebSocket server on a free loopback port that, on each connection, waits `pause`
/// before reading, then echoes every message in order. Returns the port and the count
/// of connections accepted.
async fn serve_echo_after(pause: std::time::Duration) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                tokio::time::sleep(pause).await;
                while let Some(Ok(frame)) = socket.next().await {
                    if (frame.is_text() || frame.is_binary()) && socket.send(frame).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, accepted)
}

/// A call given up on while its request is still being sent (the server is not reading
/// yet) leaves its connection unused: the next call gets its own answer, over a new one.
#[tokio::test]
async fn the_call_after_one_given_up_on_gets_its_own_answer() {
    use telepact::client::Transport;

    let (port, accepted) = serve_echo_after(std::time::Duration::from_millis(500)).await;
    let transport = WebSocketTransport::connect(&format!("ws://127.0.0.1:{port}/"))
        .await
        .expect("connects");
    // Larger than the socket buffers: still being sent when the call is given up on.
    let large = format!(
        "[{{}},{{\"fn.ping_\":{{\"x\":\"{}\"}}}}]",
        "x".repeat(8 << 20)
    );
    let given_up = tokio::time::timeout(
        std::time::Duration::from_millis(100),
        transport.send(large.into_bytes()),
    )
    .await;
    assert!(given_up.is_err(), "the first call is given up on");
    let small = br#"[{"@id_":"second"},{"fn.ping_":{}}]"#.to_vec();
    let answer = transport.send(small.clone()).await.expect("answered");
    assert!(
        answer == small,
        "its own answer, not the first call's ({} bytes)",
        answer.len()
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "over a new connection");
}

/// A server that answers nothing and sends pings without pause cannot keep a call past
/// its timeout: the pings are read, but the timeout still fires. (The socket's reads
/// count against the task's budget, so this holds whether or not the client counts
/// each frame as well: the test is of the behaviour, not of that line.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_without_pause_do_not_hold_a_call_past_its_timeout() {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    let flood = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("a connection");
        let mut socket = tokio_tungstenite::accept_async(stream)
            .await
            .expect("upgrades");
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            if socket.send(Frame::Ping(Vec::new().into())).await.is_err() {
                return;
            }
        }
    });
    let transport = WebSocketTransport::connect(&format!("ws://127.0.0.1:{port}/"))
        .await
        .expect("connects");
    let options = telepact::ClientOptions::default().timeout(std::time::Duration::from_millis(300));
    let client = Client::with_options(transport, options);
    let call = tokio::time::timeout(std::time::Duration::from_secs(8), ping(&client)).await;
    let answer = call.expect("the call ended before the flood did");
    assert!(
        matches!(answer, Err(telepact::ClientError::Timeout(_))),
        "{answer:?}"
    );
    flood.abort();
}

/// The options' headers go with every upgrade request: the first, and one made again
/// after the server closed the connection. Their values stay out of `Debug`.
#[tokio::test]
async fn the_options_headers_go_with_every_upgrade_request() {
    let (port, _, mut closings, authorizations) = serve(vec![Behaviour::AnswerOnceThenClose]).await;
    let token = http::HeaderValue::from_static("Bearer t-1");
    let options = WebSocketOptions::default().header(http::header::AUTHORIZATION, token);
    assert!(!format!("{options:?}").contains("t-1"), "{options:?}");
    let url = format!("ws://127.0.0.1:{port}/");
    let transport = WebSocketTransport::connect_with(&url, options)
        .await
        .expect("connects");
    let client = Client::new(transport);
    for _ in 0..2 {
        assert_eq!(ping(&client).await.expect("answered"), "Ok_");
        closings
            .recv()
            .await
            .expect("the server closed the connection");
    }
    let seen = authorizations.lock().expect("not poisoned").clone();
    assert_eq!(
        seen,
        [
            Some("Bearer t-1".to_string()),
            Some("Bearer t-1".to_string())
        ]
    );
}

#[tokio::test]
async fn only_websocket_urls_are_taken() {
    let refused = WebSocketTransport::connect("http://127.0.0.1:1/")
        .await
        .err()
        .map(|error| error.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|e| e.contains("not a WebSocket URL")),
        "{refused:?}"
    );
}

/// A URL refused shows none of what may be a credential in it, as the HTTP transport's
/// errors do not: a caller may log the error.
#[tokio::test]
async fn a_refused_url_keeps_its_credentials_out_of_the_error() {
    for url in [
        "http://user:hunter2@127.0.0.1:1/api?api_key=hunter2",
        "unix:hunter2",
    ] {
        let refused = WebSocketTransport::connect(url).await.err();
        let refused = refused.map(|error| error.to_string());
        assert!(
            refused.as_deref().is_some_and(|e| !e.contains("hunter2")),
            "{refused:?}"
        );
    }
}

/// A server whose `fn.slow` answers after `delay`.
pub(crate) fn slow_server(delay: std::time::Duration) -> telepact::Server {
    use telepact::schema::Schema;
    use telepact::{FunctionRouter, HandlerError};

    let schema =
        Schema::from_text(r#"[{"fn.slow": {}, "->": [{"Ok_": {}}]}]"#).expect("schema loads");
    let router = FunctionRouter::new().route("fn.slow", move |_request: Message| async move {
        tokio::time::sleep(delay).await;
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Map::new()))
    });
    telepact::Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds")
}

/// A WebSocket session on a server's endpoint, the server's stop handle and its serving task.
pub(crate) type Session = (
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
);

/// Serves `server` with `options` and opens a WebSocket session on its endpoint.
async fn session_with(server: telepact::Server, options: telepact::http::ServeOptions) -> Session {
    use telepact::http::{self, HttpOptions};

    app_session(http::router(server, &HttpOptions::default()), options).await
}

/// Serves `app` with `options` on a free loopback port and opens a WebSocket session on
/// the endpoint's default path.
pub(crate) async fn app_session(
    app: axum::Router,
    options: telepact::http::ServeOptions,
) -> Session {
    let (port, stop, serving) = crate::http_transport::serve_app(app, options).await;
    let url = format!("ws://127.0.0.1:{port}{}", telepact::http::DEFAULT_PATH);
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    (socket, stop, serving)
}

#[tokio::test]
async fn shutdown_answers_the_message_in_flight_then_closes_the_session_as_going_away() {
    use std::time::Duration;
    use telepact::http::ServeOptions;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    let options = ServeOptions::default().grace(Duration::from_secs(20));
    let (mut socket, stop, serving) =
        session_with(slow_server(Duration::from_millis(300)), options).await;
    socket
        .send(Frame::text(r#"[{}, {"fn.slow": {}}]"#))
        .await
        .expect("sent");
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.send(()).expect("the server is running");

    let wait = Duration::from_secs(10);
    let answer = tokio::time::timeout(wait, socket.next())
        .await
        .expect("answered in time");
    assert!(
        matches!(&answer, Some(Ok(Frame::Text(text))) if text.as_str() == OK_ANSWER),
        "the call in flight is answered: {answer:?}"
    );
    let closing = tokio::time::timeout(wait, socket.next())
        .await
        .expect("closed in time");
    assert!(
        matches!(&closing, Some(Ok(Frame::Close(Some(frame)))) if frame.code == CloseCode::Away),
        "the session is closed as going away: {closing:?}"
    );
    drop(socket);
    let ended = tokio::time::timeout(Duration::from_secs(10), serving).await;
    assert!(
        matches!(ended, Ok(Ok(Ok(())))),
        "serving ended with the session, before its grace: {ended:?}"
    );
}

/// `Duration::MAX` as the header timeout and the grace, meant as none, is past what the
/// clock can add to its time: requests and sessions are served, and the shutdown waits
/// for the session (each panicked: hyper's head timer reset every connection, the
/// session's idle timer ended it, and the shutdown's deadline ended serving).
#[tokio::test]
async fn a_header_timeout_and_grace_of_duration_max_are_no_limits() {
    use std::time::Duration;
    use telepact::http::ServeOptions;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    let options = ServeOptions::default()
        .header_timeout(Duration::MAX)
        .grace(Duration::MAX);
    let (mut socket, stop, serving) = session_with(slow_server(Duration::ZERO), options).await;
    socket
        .send(Frame::text(r#"[{}, {"fn.slow": {}}]"#))
        .await
        .expect("sent");
    let wait = Duration::from_secs(10);
    let answer = tokio::time::timeout(wait, socket.next()).await;
    assert!(
        matches!(&answer, Ok(Some(Ok(Frame::Text(text)))) if text.as_str() == OK_ANSWER),
        "the session's message is answered: {answer:?}"
    );
    let url = format!("http://{}/api/telepact", peer_of(&socket));
    let posted = crate::plain_http_client()
        .post(url)
        .body(r#"[{}, {"fn.slow": {}}]"#)
        .send()
        .await
        .map(|response| response.status());
    assert_eq!(
        posted.ok(),
        Some(reqwest::StatusCode::OK),
        "a POST is answered"
    );

    stop.send(()).expect("the server is running");
    let closing = tokio::time::timeout(wait, socket.next()).await;
    assert!(
        matches!(&closing, Ok(Some(Ok(Frame::Close(Some(frame))))) if frame.code == CloseCode::Away),
        "the session is closed as going away: {closing:?}"
    );
    drop(socket);
    let ended = tokio::time::timeout(wait, serving).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "serving ended: {ended:?}");
}

/// The address `socket` is connected to.
fn peer_of(
    socket: &tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> std::net::SocketAddr {
    match socket.get_ref() {
        tokio_tungstenite::MaybeTlsStream::Plain(stream) => stream.peer_addr().expect("connected"),
        _ => unreachable!("a plain connection"),
    }
}

#[tokio::test]
async fn a_session_with_no_message_within_the_idle_limit_is_closed() {
    use std::time::Duration;
    use telepact::http::ServeOptions;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    let limit = Duration::from_millis(400);
    let options = ServeOptions::default().header_timeout(limit);
    let (mut socket, _stop, _serving) = session_with(slow_server(Duration::ZERO), options).await;

    // Messages closer together than the limit keep the session open past it.
    for _ in 0..4 {
        tokio::time::sleep(limit / 2).await;
        socket
            .send(Frame::text(r#"[{}, {"fn.slow": {}}]"#))
            .await
            .expect("sent");
        let answer = socket.next().await;
        assert!(
            matches!(&answer, Some(Ok(Frame::Text(text))) if text.as_str() == OK_ANSWER),
            "{answer:?}"
        );
    }
    // Then pings alone, closer together than the limit: they are answered, but the
    // server closes the session all the same.
    let closing = tokio::time::timeout(limit * 10, async {
        let mut pings = tokio::time::interval(limit / 4);
        loop {
            tokio::select! {
                _ = pings.tick() => {
                    let _ = socket.send(Frame::Ping(Vec::new().into())).await;
                }
                frame = socket.next() => match frame {
                    Some(Ok(Frame::Pong(_))) => continue,
                    other => return other,
                },
            }
        }
    })
    .await
    .expect("closed in time");
    assert!(
        matches!(&closing, Some(Ok(Frame::Close(Some(frame)))) if frame.code == CloseCode::Normal),
        "{closing:?}"
    );
}

#[tokio::test]
async fn a_session_whose_peer_stops_reading_is_dropped_after_the_limit() {
    use std::time::Duration;
    use telepact::http::ServeOptions;

    const CALLS: usize = 40;
    let limit = Duration::from_millis(300);
    let options = ServeOptions::default().header_timeout(limit);
    let (mut socket, _stop, _serving) =
        session_with(crate::http_transport::big_answer_server(), options).await;

    // Far more answer than the sockets' buffers hold, and nothing read for a while.
    for _ in 0..CALLS {
        socket
            .send(Frame::text(r#"[{}, {"fn.big": {}}]"#))
            .await
            .expect("sent");
    }
    tokio::time::sleep(limit * 5).await;
    let mut answers = 0;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(limit * 10, socket.next()).await {
        if frame.is_text() {
            answers += 1;
        }
    }
    assert!(
        answers < CALLS,
        "the server kept writing to a peer that did not read: {answers} answers"
    );
}

/// Opens a WebSocket session on `app`, served on a free loopback port until the
/// returned handle is dropped.
async fn session_on(
    app: axum::Router,
) -> (
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (socket, stop, _serving) = app_session(app, telepact::http::ServeOptions::default()).await;
    (socket, stop)
}

/// A message past the size limit closes the session with 1009 and a reason (a POST
/// body past it gets 413), rather than a reset with no close frame.
#[tokio::test]
async fn a_message_past_the_limit_closes_the_session_as_too_big() {
    use telepact::http::{self, HttpOptions};
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    let options = HttpOptions::default().body_limit(10_000);
    let app = http::router(slow_server(std::time::Duration::ZERO), &options);
    let (mut socket, _serving) = session_on(app).await;
    let padding = "x".repeat(20_000);
    let request = format!(r#"[{{"pad": "{padding}"}}, {{"fn.slow": {{}}}}]"#);
    // The server may close before the whole message is written.
    let _ = socket.send(Frame::text(request)).await;
    let closing = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
        .await
        .expect("closed in time");
    let Some(Ok(Frame::Close(Some(frame)))) = &closing else {
        panic!("not closed with a frame: {closing:?}");
    };
    assert_eq!(frame.code, CloseCode::Size);
    assert_eq!(frame.reason.as_str(), "message too big");
}

/// A message refused for its size is counted as the POST it would have been, 413.
#[tokio::test]
async fn a_message_past_the_limit_is_counted_as_a_refusal() {
    use telepact::http::{self, HttpOptions};

    let (server, snapshotter) = crate::call_metrics::server_with_own_recorder();
    let options = HttpOptions::default().body_limit(10_000);
    let (mut socket, _serving) = session_on(http::router(server.clone(), &options)).await;
    let _ = socket.send(Frame::text("x".repeat(20_000))).await;
    let closing = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await;
    assert!(
        matches!(closing, Ok(Some(Ok(Frame::Close(_))))),
        "{closing:?}"
    );
    server.flush_metrics();
    assert_eq!(
        crate::call_metrics::refusals_of(&snapshotter),
        [(
            "telepact_http_refusals_total".to_string(),
            vec!["status=413".to_string()],
            "count 1".to_string()
        )]
    );
}

/// What a tower layer attaches to the upgrade request's extensions reaches the server
/// with each message of the session, as a POST's extensions do.
#[tokio::test]
async fn each_message_of_a_session_carries_the_upgrade_requests_extensions() {
    use telepact::http::{self, HttpOptions};
    use telepact::schema::Schema;
    use telepact::{FunctionRouter, HandlerError};

    #[derive(Clone)]
    struct RequestId(&'static str);

    let schema = Schema::from_text(r#"[{"fn.whoami": {}, "->": [{"Ok_": {"id": "string"}}]}]"#)
        .expect("schema loads");
    let router = FunctionRouter::new().route("fn.whoami", |request: Message| async move {
        let id = request
            .extensions
            .get::<RequestId>()
            .map_or("none", |id| id.0);
        let mut payload = Map::new();
        payload.insert("id".into(), id.into());
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let server = telepact::Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds");
    let app = http::router(server, &HttpOptions::default())
        .layer(axum::Extension(RequestId("from-a-layer")));
    let (mut socket, _serving) = session_on(app).await;
    for _ in 0..2 {
        socket
            .send(Frame::text(r#"[{}, {"fn.whoami": {}}]"#))
            .await
            .expect("sent");
        let answer = socket.next().await;
        assert!(
            matches!(&answer, Some(Ok(Frame::Text(text)))
                if text.as_str() == r#"[{},{"Ok_":{"id":"from-a-layer"}}]"#),
            "{answer:?}"
        );
    }
}
