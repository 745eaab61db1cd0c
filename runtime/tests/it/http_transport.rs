//! The axum transport: route, content types, body limit, WebSocket, tower layers and
//! graceful shutdown (HTTP/2 and TLS: `http2_tls`).
#![cfg(feature = "axum")]

use serde_json::{Map, Value, json};
use telepact::http::{self, HttpOptions};
use telepact::schema::Schema;
use telepact::{
    AuthFuture, AuthHook, Authenticated, FunctionRouter, HandlerError, Headers, Message,
    PeerAddress, Server,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub(crate) mod cancelled;
mod limits;

const SCHEMA: &str = r#"[{"fn.nothing": {}, "->": [{"Ok_": {}}]}]"#;

/// Starts the endpoint; returns its port and a handle that stops it gracefully.
pub(crate) async fn start(options: HttpOptions) -> (u16, tokio::sync::oneshot::Sender<()>) {
    start_serving(options, http::ServeOptions::default()).await
}

/// Like [`start`], served by `serve_with(.., serve)`.
async fn start_serving(
    options: HttpOptions,
    serve: http::ServeOptions,
) -> (u16, tokio::sync::oneshot::Sender<()>) {
    let (port, stop, _) = serve_app(http::router(schema_server(), &options), serve).await;
    (port, stop)
}

/// The server of [`SCHEMA`], open to every caller.
pub(crate) fn schema_server() -> Server {
    let schema = Schema::from_text(SCHEMA).expect("schema loads");
    Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .build()
        .expect("server builds")
}

/// Serves `app` with `serve` on a free loopback port until the stop handle is used or
/// dropped; returns the port, that handle and the serving task.
pub(crate) async fn serve_app(
    app: axum::Router,
    serve: http::ServeOptions,
) -> (
    u16,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async {
        let _ = stopped.await;
    };
    let serving = tokio::spawn(http::serve_with(listener, app, shutdown, serve));
    (port, stop, serving)
}

/// Reads `stream` to its end (or for at most 20 s); returns what came and whether the
/// server closed the connection.
async fn read_until_closed(stream: &mut TcpStream) -> (String, bool) {
    let mut received = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut received),
    )
    .await;
    (
        String::from_utf8_lossy(&received).to_lowercase(),
        read.is_ok(),
    )
}

/// Connects to `port`, sends `bytes` and reads as [`read_until_closed`] does.
async fn send_and_read(port: u16, bytes: &[u8]) -> (String, bool) {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    stream.write_all(bytes).await.expect("writes");
    read_until_closed(&mut stream).await
}

/// Sends one POST; returns the raw response head (lower-cased) and body.
async fn post(port: u16, path: &str, body: &[u8]) -> (String, Vec<u8>) {
    post_to(port, path, "", body).await
}

#[tokio::test]
async fn json_requests_get_json_responses() {
    let (port, stop) = start(HttpOptions::default()).await;
    let (head, body) = post(port, "/api/telepact", br#"[{}, {"fn.ping_": {}}]"#).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(body, br#"[{},{"Ok_":{}}]"#);
    let _ = stop.send(());
}

/// Sends one POST whose body is `chunks` in chunked encoding; returns the response
/// (lower-cased).
async fn post_chunked(port: u16, path: &str, chunks: &[&[u8]]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in chunks {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    stream.write_all(&request).await.expect("writes");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).to_lowercase()
}

#[tokio::test]
async fn a_body_in_chunks_is_read_whole() {
    let (port, stop) = start(HttpOptions::default()).await;
    let body = br#"[{}, {"fn.ping_": {}}]"#;
    let response = post_chunked(
        port,
        "/api/telepact",
        &[&body[..5], &body[5..12], &body[12..]],
    )
    .await;
    assert!(response.starts_with("http/1.1 200"), "{response}");
    assert!(response.ends_with(r#"[{},{"ok_":{}}]"#), "{response}");
    let _ = stop.send(());
}

#[tokio::test]
async fn binary_responses_are_octet_streams() {
    let (port, stop) = start(HttpOptions::default()).await;
    let (head, body) = post(
        port,
        "/api/telepact",
        br#"[{"@bin_": []}, {"fn.ping_": {}}]"#,
    )
    .await;
    assert!(
        head.contains("content-type: application/octet-stream"),
        "{head}"
    );
    assert_eq!(body.first(), Some(&0x92), "a MessagePack array of two");
    let _ = stop.send(());
}

/// Admits callers on loopback only, by the address the transport reports, and only
/// through a [`Gateway`] layer.
struct LoopbackOnly;

/// What a tower layer in front of the router attaches to each HTTP request.
#[derive(Debug, Clone)]
struct Gateway(&'static str);

impl AuthHook for LoopbackOnly {
    fn authenticate(&self, _: &Headers) -> AuthFuture {
        AuthFuture::ready(Err("the caller's address is unknown".into()))
    }

    fn authenticate_request(&self, _: &Headers, transport: &::http::Extensions) -> AuthFuture {
        let peer = transport.get::<PeerAddress>().copied();
        let gateway = transport.get::<Gateway>().is_some();
        // Answered later, as a hook that asks another service would.
        AuthFuture::new(async move {
            match peer {
                Some(PeerAddress(address)) if address.ip().is_loopback() && gateway => {
                    Ok(Authenticated::new())
                }
                _ => Err("not a loopback caller".into()),
            }
        })
    }
}

#[tokio::test]
async fn the_peer_address_and_layer_extensions_reach_the_auth_hook_and_the_handler() {
    let schema = Schema::from_text(
        r#"[{"union.Auth_": [{"Token": {"token": "string"}}]},
            {"fn.whereFrom": {}, "->": [{"Ok_": {"ip": "string", "via": "string"}}]}]"#,
    )
    .expect("schema loads");
    let router = FunctionRouter::new().route("fn.whereFrom", |request: Message| async move {
        let ip = request
            .extensions
            .get::<PeerAddress>()
            .map(|peer| peer.0.ip().to_string())
            .unwrap_or_default();
        let via = request.extensions.get::<Gateway>().map_or("", |g| g.0);
        let mut payload = Map::new();
        payload.insert("ip".to_string(), json!(ip));
        payload.insert("via".to_string(), json!(via));
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let server = Server::builder(schema, router)
        .on_auth(LoopbackOnly)
        .build()
        .expect("server builds");
    let app = http::router(server.clone(), &HttpOptions::default())
        .layer(axum::Extension(Gateway("edge")));
    let (port, _stop, _serving) = serve_app(app, http::ServeOptions::default()).await;

    let request = br#"[{"@auth_": {"Token": {"token": "t"}}}, {"fn.whereFrom": {}}]"#;
    let (_, body) = post(port, "/api/telepact", request).await;
    let answer: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        answer[1],
        json!({"Ok_": {"ip": "127.0.0.1", "via": "edge"}})
    );

    // In process there is no transport, so no address: the hook refuses.
    let answer: Value = serde_json::from_slice(&server.process(request).await.bytes).expect("JSON");
    assert!(answer[1].get("ErrorUnauthenticated_").is_some(), "{answer}");
}

/// The call cut off at the deadline is logged as a warning, naming its client.
#[tokio::test]
async fn shutdown_ends_serving_at_its_deadline_despite_a_stuck_handler() {
    let capture = crate::log_capture::Capture::default();
    let _logged = tracing::subscriber::set_default(capture.clone());
    let schema = Schema::from_text(SCHEMA).expect("schema loads");
    let router = FunctionRouter::new().route("fn.nothing", |_request: Message| async move {
        std::future::pending::<()>().await;
        Ok::<_, HandlerError>(Message::default())
    });
    let server = Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds");
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (entered, handler_entered) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(http::serve_with_grace(
        listener,
        http::router(server, &HttpOptions::default()),
        async {
            let _ = stopped.await;
        },
        std::time::Duration::from_millis(100),
    ));
    // The stuck call is in flight once its request has been written.
    tokio::spawn(async move {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connects");
        let body = br#"[{}, {"fn.nothing": {}}]"#;
        let head = format!(
            "POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("writes");
        stream.write_all(body).await.expect("writes");
        let _ = entered.send(());
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
    });
    handler_entered.await.expect("the request was sent");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    stop.send(()).expect("server is running");
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), serving).await;
    assert!(
        matches!(ended, Ok(Ok(Ok(())))),
        "serving ended at its deadline: {ended:?}"
    );
    let lines = capture.lines();
    let cut_off = lines
        .iter()
        .find(|line| line.contains("request unfinished at the shutdown deadline"));
    assert!(
        cut_off.is_some_and(|line| line.starts_with("WARN") && line.contains("127.0.0.1")),
        "{lines:?}"
    );
}

/// Sends `calls` calls to `fn.ping_` over a WebSocket to the endpoint's path; returns
/// each result tag.
#[cfg(feature = "websocket-client")]
async fn over_websocket(binary: bool, calls: usize) -> Vec<String> {
    use telepact::client::WebSocketTransport;
    use telepact::{Client, ClientOptions};

    let (port, _stop) = start(HttpOptions::default()).await;
    let url = format!("ws://127.0.0.1:{port}{}", http::DEFAULT_PATH);
    let transport = WebSocketTransport::connect(&url).await.expect("connects");
    let client = Client::with_options(transport, ClientOptions::default().binary(binary));
    let mut tags = Vec::new();
    for _ in 0..calls {
        let request = Message::new(Headers::new(), "fn.ping_", Map::new());
        let response = client.request(request).await.expect("answered");
        tags.push(response.target().to_string());
    }
    tags
}

#[cfg(feature = "websocket-client")]
#[tokio::test]
async fn websocket_round_trips_json() {
    assert_eq!(over_websocket(false, 2).await, ["Ok_", "Ok_"]);
}

#[cfg(feature = "websocket-client")]
#[tokio::test]
async fn websocket_round_trips_binary() {
    // The first call learns the encoding; the next ones go as binary messages.
    assert_eq!(over_websocket(true, 3).await, ["Ok_", "Ok_", "Ok_"]);
}

#[tokio::test]
async fn websocket_and_post_share_the_path() {
    let (port, _stop) = start(HttpOptions::default()).await;
    let (head, body) = post(port, http::DEFAULT_PATH, br#"[{}, {"fn.ping_": {}}]"#).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, br#"[{},{"Ok_":{}}]"#);
    // A GET without the upgrade headers is refused by the WebSocket route, not a 405.
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        http::DEFAULT_PATH
    );
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("reads");
    assert!(!answer.starts_with("HTTP/1.1 405"), "{answer}");
}

/// The endpoint merges into an application's router that has a state of its own, and
/// both serve; axum's connect-info service is made from it as from any router.
#[tokio::test]
async fn the_endpoint_merges_into_a_router_with_state() {
    use axum::extract::State;

    #[derive(Clone)]
    struct AppState {
        name: &'static str,
    }

    let app: axum::Router<AppState> = axum::Router::new()
        .route(
            "/name",
            axum::routing::get(|State(state): State<AppState>| async move { state.name }),
        )
        .merge(http::router(schema_server(), &HttpOptions::default()));
    let app = app.with_state(AppState { name: "bakery" });
    let (port, _stop, _serving) = serve_app(app, http::ServeOptions::default()).await;
    let (head, body) = post(port, http::DEFAULT_PATH, br#"[{}, {"fn.ping_": {}}]"#).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, br#"[{},{"Ok_":{}}]"#);
    let (answer, _) = send_and_read(
        port,
        b"GET /name HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.ends_with("bakery"), "{answer}");

    let _connect_info = http::router(schema_server(), &HttpOptions::default())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
}

/// A client that shuts down its side of the connection once its last request is sent
/// (`Connection: close`, or HTTP/1.0) still gets the answer of a call that takes a
/// while (a client that gives up shuts its side down on a keep-alive connection:
/// `cancelled::an_http1_caller_that_goes_away_has_its_call_dropped_and_counted`).
#[tokio::test]
async fn a_client_that_half_closes_after_its_last_request_gets_its_answer() {
    let schema = Schema::from_text(r#"[{"fn.slow": {}, "->": [{"Ok_": {}}]}]"#).expect("loads");
    let functions = FunctionRouter::new().route("fn.slow", |_: Message| async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        Ok::<_, telepact::HandlerError>(Message::new(Headers::new(), "Ok_", Map::new()))
    });
    let server = Server::builder(schema, functions)
        .auth_required(false)
        .build()
        .expect("builds");
    let app = http::router(server, &HttpOptions::default());
    let (port, _stop, _serving) = serve_app(app, http::ServeOptions::default()).await;
    let body = br#"[{}, {"fn.slow": {}}]"#;
    for (version, headers) in [("1.1", "Connection: close\r\n"), ("1.0", "")] {
        let mut stream = cancelled::send_post(port, version, headers, body).await;
        stream.shutdown().await.expect("shuts its side down");
        let (answer, closed) = read_until_closed(&mut stream).await;
        assert!(
            answer.starts_with(&format!("http/{version} 200")),
            "{answer}"
        );
        assert!(answer.ends_with(r#"[{},{"ok_":{}}]"#), "{answer}");
        assert!(closed);
    }
}

/// Sends one POST to the default path with extra header lines.
async fn post_with(port: u16, headers: &str, body: &[u8]) -> (String, Vec<u8>) {
    post_to(port, http::DEFAULT_PATH, headers, body).await
}

/// Sends one POST with extra header lines (each ending in `\r\n`); returns the raw
/// head (lower-cased) and body.
async fn post_to(port: u16, path: &str, headers: &str, body: &[u8]) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    stream.write_all(body).await.expect("writes");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&response[..end]).to_lowercase();
    (head, response[end + 4..].to_vec())
}

#[tokio::test]
async fn tower_http_layers_wrap_the_endpoint() {
    use axum::http::StatusCode;
    use std::time::Duration;
    use tower_http::compression::CompressionLayer;
    use tower_http::timeout::TimeoutLayer;

    let schema =
        Schema::from_text(r#"[{"fn.slow": {}, "->": [{"Ok_": {}}]}]"#).expect("schema loads");
    let router = FunctionRouter::new().route("fn.slow", |_request: Message| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Map::new()))
    });
    let server = Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds");
    let app = http::router(server, &HttpOptions::default()).layer(
        tower::ServiceBuilder::new()
            .layer(CompressionLayer::new())
            // Long enough for the quick calls on a busy machine; the slow one sleeps 30 s.
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(1),
            )),
    );
    let (port, _stop, _serving) = serve_app(app, http::ServeOptions::default()).await;

    let api = br#"[{}, {"fn.api_": {}}]"#;
    let (head, body) = post_with(port, "Accept-Encoding: gzip\r\n", api).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-encoding: gzip"), "{head}");
    // The compressed body comes chunked: its stream starts after the first chunk size.
    assert!(body.windows(2).any(|w| w == [0x1f, 0x8b]), "a gzip stream");
    let (head, body) = post_with(port, "Accept-Encoding: zstd\r\n", api).await;
    assert!(head.contains("content-encoding: zstd"), "{head}");
    assert!(
        body.windows(4).any(|w| w == [0x28, 0xb5, 0x2f, 0xfd]),
        "a zstd frame"
    );
    let (head, body) = post_with(port, "", api).await;
    assert!(!head.contains("content-encoding"), "{head}");
    assert!(body.starts_with(br#"[{},{"Ok_":{"api":"#));

    let (head, _) = post_with(port, "", br#"[{}, {"fn.slow": {}}]"#).await;
    assert!(head.starts_with("http/1.1 408"), "{head}");
}

/// A server whose `fn.big` answers a megabyte of text: far more than a socket's buffers
/// hold after a few calls.
pub(crate) fn big_answer_server() -> Server {
    const MEGABYTE: usize = 1 << 20;
    let schema = Schema::from_text(r#"[{"fn.big": {}, "->": [{"Ok_": {"text": "string"}}]}]"#)
        .expect("schema loads");
    let router = FunctionRouter::new().route("fn.big", |_request: Message| async {
        let mut ok = Map::new();
        ok.insert("text".into(), "x".repeat(MEGABYTE).into());
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", ok))
    });
    Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds")
}

/// A connection that has made no request has nothing to finish: the shutdown closes it
/// at once, whether its client sent nothing or part of its first request head, rather
/// than waiting for it until the header timeout or the whole grace.
#[tokio::test]
async fn a_shutdown_does_not_wait_for_a_connection_that_made_no_request() {
    let long = std::time::Duration::from_secs(600);
    let serve = http::ServeOptions::default()
        .grace(long)
        .header_timeout(long);
    let app = http::router(schema_server(), &HttpOptions::default());
    let (port, stop, serving) = serve_app(app, serve).await;
    let mut silent = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let mut partial = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    partial
        .write_all(b"POST /api/telepact HTTP/1.1\r\nHost: loc")
        .await
        .expect("sends part of a head");
    // Accepted, and the part of the head read.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    stop.send(()).expect("server is running");
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), serving).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "serving ended: {ended:?}");
    for client in [&mut silent, &mut partial] {
        let (received, closed) = read_until_closed(client).await;
        assert!(closed, "the connection is closed");
        assert_eq!(received, "");
    }
}

/// An HTTP/2 connection that has made no request is told of the shutdown (GOAWAY)
/// before it is closed, so that a request its client sends meanwhile is answered or
/// retried, not lost with the connection.
#[tokio::test]
async fn a_shutdown_sends_goaway_to_an_http2_connection_that_made_no_request() {
    let serve = http::ServeOptions::default().grace(std::time::Duration::from_millis(300));
    let app = http::router(schema_server(), &HttpOptions::default());
    let (port, stop, serving) = serve_app(app, serve).await;
    let mut client = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    // The preface, then an empty SETTINGS frame.
    let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    opening.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    client.write_all(&opening).await.expect("sends the preface");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    stop.send(()).expect("server is running");
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), serving).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "serving ended: {ended:?}");
    let mut received = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        client.read_to_end(&mut received),
    )
    .await;
    assert!(read.is_ok(), "the connection is closed");
    let mut frame_types = Vec::new();
    let mut rest = received.as_slice();
    while let [l0, l1, l2, kind, _, _, _, _, _, after @ ..] = rest {
        let length = usize::from(*l0) << 16 | usize::from(*l1) << 8 | usize::from(*l2);
        frame_types.push(*kind);
        rest = after.get(length..).unwrap_or_default();
    }
    const GOAWAY: u8 = 7;
    assert!(frame_types.contains(&GOAWAY), "frames: {frame_types:?}");
}
