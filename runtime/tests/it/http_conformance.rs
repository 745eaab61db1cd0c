//! The HTTP transport read against the HTTP specifications (RFC 9110, 9112, 9113) and
//! the WebSocket protocol (RFC 6455), with real clients and proxies in mind: what a
//! request the endpoint cannot serve is answered with, and how connections end.
#![cfg(feature = "axum")]

use std::time::Duration;

use telepact::http::{self, HttpOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::http_transport::{schema_server, serve_app, start};

/// How long one exchange may take before the test fails rather than hangs.
const WITHIN: Duration = Duration::from_secs(20);

/// Sends `request` on a new connection and reads until the server closes it (or for
/// [`WITHIN`]); returns what came, lower-cased.
async fn exchange(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    stream.write_all(request).await.expect("writes");
    let mut received = Vec::new();
    let _ = tokio::time::timeout(WITHIN, stream.read_to_end(&mut received)).await;
    String::from_utf8_lossy(&received).to_lowercase()
}

/// A POST to the Telepact path with `headers` (each line ending in `\r\n`) and `body`,
/// the connection's last.
fn post(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /api/telepact HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

const PING: &[u8] = br#"[{}, {"fn.ping_": {}}]"#;

/// A client that sends its whole body before reading anything (Python's `http.client`
/// does) still reads the 413 a body over the limit gets: the server, answering before
/// the body is read, closes in stages, reading the rest and throwing it away, where a
/// close at once had the kernel reset the connection under the client's write.
#[tokio::test]
async fn a_client_still_sending_a_body_over_the_limit_reads_its_413() {
    let (port, stop) = start(HttpOptions::default().body_limit(1024)).await;
    let body = vec![b'a'; 16 * 1024 * 1024];
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let head = format!(
        "POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    let sent = tokio::time::timeout(WITHIN, stream.write_all(&body)).await;
    assert!(matches!(sent, Ok(Ok(()))), "the body is taken: {sent:?}");
    let mut received = Vec::new();
    let read = tokio::time::timeout(WITHIN, stream.read_to_end(&mut received)).await;
    assert!(matches!(read, Ok(Ok(_))), "the answer is read: {read:?}");
    let answer = String::from_utf8_lossy(&received).to_lowercase();
    assert!(answer.starts_with("http/1.1 413"), "{answer}");
    assert!(answer.ends_with("request body too large"), "{answer}");
    let _ = stop.send(());
}

/// A body in a content coding the endpoint does not undo (gzip) is refused with 415
/// and `Accept-Encoding: identity` (RFC 9110, 15.5.16), where it was read as a
/// malformed message and answered `ErrorParseFailure_`; `identity` is no coding. A
/// transfer coding besides `chunked`, which hyper hands over still coded, gets 501
/// (RFC 9112, 6.1).
#[tokio::test]
async fn a_body_in_a_coding_the_endpoint_does_not_undo_is_refused() {
    let (port, stop) = start(HttpOptions::default()).await;
    let gzip_magic = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03];
    let answer = exchange(port, &post("Content-Encoding: gzip\r\n", &gzip_magic)).await;
    assert!(answer.starts_with("http/1.1 415"), "{answer}");
    assert!(
        answer.contains("\r\naccept-encoding: identity\r\n"),
        "{answer}"
    );
    assert!(
        answer.ends_with("request content encoding not supported: send the body unencoded"),
        "{answer}"
    );
    let answer = exchange(port, &post("Content-Encoding: Identity\r\n", PING)).await;
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    let chunked = b"POST /api/telepact HTTP/1.1\r\nHost: x\r\n\
                    Transfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    let answer = exchange(port, chunked).await;
    assert!(answer.starts_with("http/1.1 501"), "{answer}");
    assert!(answer.ends_with("only chunked is"), "{answer}");
    let _ = stop.send(());
}

/// A request naming no origin, or two, is refused as RFC 9112 (3.2) asks: an HTTP/1.1
/// request without `Host`, and any request with more than one, get 400 and a reason
/// (they were answered as any other), a POST's saying the connection closes; the
/// WebSocket handshake alike. HTTP/1.0 needs no `Host`, nor does a request built in
/// process and handed to the router, which came over no connection.
#[tokio::test]
async fn a_request_without_host_or_with_two_is_refused_with_400() {
    let (port, stop) = start(HttpOptions::default()).await;
    let head = |version: &str, hosts: &str| {
        let mut request = format!(
            "POST /api/telepact HTTP/{version}\r\n{hosts}Connection: close\r\n\
             Content-Length: {}\r\n\r\n",
            PING.len()
        )
        .into_bytes();
        request.extend_from_slice(PING);
        request
    };
    let answer = exchange(port, &head("1.1", "")).await;
    assert!(answer.starts_with("http/1.1 400"), "{answer}");
    assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
    assert!(answer.ends_with("must carry a host header"), "{answer}");
    let answer = exchange(port, &head("1.1", "Host: a\r\nHost: b\r\n")).await;
    assert!(answer.starts_with("http/1.1 400"), "{answer}");
    assert!(answer.ends_with("one host header, not several"), "{answer}");
    let answer = exchange(port, &head("1.0", "")).await;
    assert!(answer.starts_with("http/1.0 200"), "{answer}");
    assert!(answer.ends_with(r#"[{},{"ok_":{}}]"#), "{answer}");
    let answer = exchange(port, &head("1.1", "Host: a\r\n")).await;
    assert!(answer.starts_with("http/1.1 200"), "{answer}");

    let hostless = String::from_utf8(websocket_upgrade(
        "GET",
        "Upgrade: websocket\r\n",
        "Sec-WebSocket-Version: 13\r\n",
    ))
    .expect("text")
    .replace("Host: x\r\n", "");
    let answer = exchange(port, hostless.as_bytes()).await;
    assert!(answer.starts_with("http/1.1 400"), "{answer}");
    assert!(answer.ends_with("must carry a host header"), "{answer}");
    let _ = stop.send(());

    let app = telepact::http::router(
        crate::http_transport::schema_server(),
        &HttpOptions::default(),
    );
    let in_process = axum::http::Request::post(telepact::http::DEFAULT_PATH)
        .body(axum::body::Body::from(PING))
        .expect("a request");
    let answer = tower::ServiceExt::oneshot(app, in_process)
        .await
        .expect("answered");
    assert_eq!(answer.status(), axum::http::StatusCode::OK);
}

/// A GET upgrading to a WebSocket in `version`, the connection's last.
fn websocket_upgrade(method: &str, upgrade: &str, version: &str) -> Vec<u8> {
    format!(
        "{method} /api/telepact HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, close\r\n\
         {upgrade}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{version}\r\n"
    )
    .into_bytes()
}

/// A request the endpoint's path cannot make a WebSocket session of is answered as
/// RFC 9110 and RFC 6455 ask: a `GET` asking for no WebSocket, and its `HEAD`, with 426
/// and the protocol to upgrade to (axum answered 400, and `HEAD` a 405 without the
/// `Allow` header it must carry); an upgrade in another version than 13 with 426
/// naming 13 (axum: 400); HTTP/2, which upgrades nothing, with 405 and `Allow: POST`
/// (axum: 405 without `Allow`, asking for `CONNECT`). A right handshake still upgrades.
#[tokio::test]
async fn requests_that_cannot_open_a_websocket_are_answered_as_the_rfcs_ask() {
    let (port, stop) = start(HttpOptions::default()).await;
    let upgrade = "Upgrade: websocket\r\n";
    let version = "Sec-WebSocket-Version: 13\r\n";

    let plain = exchange(port, &websocket_upgrade("GET", "", version)).await;
    assert!(plain.starts_with("http/1.1 426"), "{plain}");
    assert!(plain.contains("\r\nupgrade: websocket\r\n"), "{plain}");
    assert!(
        plain.ends_with("or a websocket by get with upgrade: websocket"),
        "{plain}"
    );
    let head = exchange(port, &websocket_upgrade("HEAD", upgrade, version)).await;
    let (plain_head, _) = plain.split_once("\r\n\r\n").expect("a head");
    assert!(head.starts_with("http/1.1 426"), "{head}");
    assert!(head.contains("\r\nupgrade: websocket\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "no body: {head}");
    let length = |head: &str| {
        head.lines()
            .find(|line| line.starts_with("content-length"))
            .map(str::to_string)
    };
    assert_eq!(length(&head), length(plain_head), "HEAD tells GET's length");

    let old = exchange(
        port,
        &websocket_upgrade("GET", upgrade, "Sec-WebSocket-Version: 8\r\n"),
    )
    .await;
    assert!(old.starts_with("http/1.1 426"), "{old}");
    assert!(old.contains("\r\nsec-websocket-version: 13\r\n"), "{old}");
    let unversioned = exchange(port, &websocket_upgrade("GET", upgrade, "")).await;
    assert!(unversioned.starts_with("http/1.1 426"), "{unversioned}");

    let mut session = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let handshake = websocket_upgrade("GET", upgrade, version);
    session.write_all(&handshake).await.expect("writes");
    let mut opened = [0; 12];
    let read = tokio::time::timeout(WITHIN, session.read_exact(&mut opened)).await;
    assert!(matches!(read, Ok(Ok(_))), "{read:?}");
    assert_eq!(&opened, b"HTTP/1.1 101");

    let http2 = reqwest::Client::builder()
        .tls_backend_preconfigured(telepact::client::tls::plain_http_config().expect("a TLS setup"))
        .http2_prior_knowledge()
        .build()
        .expect("client builds");
    let answer = http2
        .get(format!("http://127.0.0.1:{port}/api/telepact"))
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), reqwest::StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.headers()["allow"], "POST");
    let _ = stop.send(());
}

/// A method the endpoint's path does not take gets 405 with `Allow` (RFC 9110,
/// 15.5.6) and a line saying what the path takes, where axum's 405 had an empty body.
#[tokio::test]
async fn other_methods_get_405_with_allow_and_a_reason() {
    let (port, stop) = start(HttpOptions::default()).await;
    for method in ["PUT", "DELETE", "OPTIONS", "PATCH"] {
        let request = format!(
            "{method} /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let answer = exchange(port, request.as_bytes()).await;
        assert!(answer.starts_with("http/1.1 405"), "{method}: {answer}");
        assert!(
            answer.contains("\r\nallow: post,get,head\r\n"),
            "{method}: {answer}"
        );
        assert!(
            answer.ends_with("this path takes telepact messages by post, or a websocket by get"),
            "{method}: {answer}"
        );
    }
    let _ = stop.send(());
}

/// A refusal that leaves the body unread closes its HTTP/1 connection, and says so with
/// `Connection: close` (RFC 9112, 9.6), so that a client or proxy sends its next
/// request on another: a body too slow (408), one over the limit without a length to
/// judge from (413), one in a coding the endpoint does not undo (415).
#[tokio::test]
async fn refusals_that_leave_the_body_unread_say_the_connection_closes() {
    let options = HttpOptions::default()
        .body_limit(1024)
        .body_timeout(Duration::from_millis(300));
    let (port, stop) = start(options).await;
    let slow = b"POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n[{}";
    let over = [
        &b"POST /api/telepact HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n"[..],
        &[b'a'; 0x800],
        b"\r\n0\r\n\r\n",
    ]
    .concat();
    let coded = [
        &b"POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\n"[..],
        b"Content-Length: 22\r\n\r\n",
        PING,
    ]
    .concat();
    for (request, status) in [(&slow[..], "408"), (&over, "413"), (&coded, "415")] {
        let answer = exchange(port, request).await;
        assert!(
            answer.starts_with(&format!("http/1.1 {status}")),
            "{answer}"
        );
        assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
    }
    let _ = stop.send(());
}

/// A 405 on the endpoint's path, or a 404 from `not_found_naming`, answered before the
/// request's body has come leaves it unread and closes the HTTP/1 connection; the
/// answer says so, as the endpoint's own refusals do (it did not until 7 December). A
/// request without a body keeps its connection.
#[tokio::test]
async fn other_methods_and_paths_leaving_a_body_unread_say_the_connection_closes() {
    let router = http::router(schema_server(), &HttpOptions::default());
    let app = http::not_found_naming(router, http::DEFAULT_PATH);
    let (port, stop, _serving) = serve_app(app, http::ServeOptions::default()).await;
    for target in ["PUT /api/telepact", "POST /api"] {
        let request = format!(
            "{target} HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n{}",
            "a".repeat(1000)
        );
        let answer = exchange(port, request.as_bytes()).await;
        assert!(
            answer.contains("\r\nconnection: close\r\n"),
            "{target}: {answer}"
        );
        let bodiless = format!("{target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connects");
        stream.write_all(bodiless.as_bytes()).await.expect("writes");
        let mut head = [0; 256];
        let read = stream.read(&mut head).await.expect("reads");
        let head = String::from_utf8_lossy(&head[..read]).to_lowercase();
        assert!(!head.contains("connection: close"), "{target}: {head}");
    }
    let _ = stop.send(());
}

/// An HTTP/1 request head past 64 KiB is answered 431 (RFC 6585, 5) and its connection
/// closed, where hyper buffered about 400 KB of it: connections sending big heads slowly
/// held that much each until the header timeout. A head under the bound is served, and
/// a body far past the bound is read through it whole.
#[tokio::test]
async fn a_request_head_past_64_kib_is_answered_431() {
    let (port, stop) = start(HttpOptions::default()).await;
    let field = |bytes: usize| format!("X-Pad: {}\r\n", "a".repeat(bytes));
    let big = exchange(port, &post(&field(80 * 1024), PING)).await;
    assert!(big.starts_with("http/1.1 431"), "{big}");
    let fitting = exchange(port, &post(&field(48 * 1024), PING)).await;
    assert!(fitting.starts_with("http/1.1 200"), "{fitting}");
    let padded = format!(
        r#"[{{"@pad": "{}"}}, {{"fn.ping_": {{}}}}]"#,
        "a".repeat(512 * 1024)
    );
    let long_body = exchange(port, &post("", padded.as_bytes())).await;
    assert!(long_body.starts_with("http/1.1 200"), "{long_body}");
    assert!(long_body.ends_with(r#"{"ok_":{}}]"#), "{long_body}");
    let _ = stop.send(());
}

/// The NATS gateway's path answers as the endpoint's does: another method gets 405
/// with `Allow` and a reason (its 405 had an empty body), a body in a coding left
/// undone 415 saying the connection closes (it was forwarded still compressed), a
/// `GET` asking for no WebSocket 426. None of them reaches NATS, so no worker runs.
#[cfg(feature = "nats")]
#[tokio::test]
async fn the_nats_gateway_answers_as_the_endpoint_does() {
    let Some(nats_server) = telepact_test_support::NatsServer::start() else {
        return;
    };
    let client = telepact::nats::async_nats::connect(nats_server.url())
        .await
        .expect("connects to NATS");
    let app = telepact::nats::gateway(client, "telepact.conformance", &HttpOptions::default())
        .expect("a good subject");
    let (port, _stop, _serving) =
        crate::http_transport::serve_app(app, telepact::http::ServeOptions::default()).await;
    let put =
        b"PUT /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let answer = exchange(port, put).await;
    assert!(answer.starts_with("http/1.1 405"), "{answer}");
    assert!(answer.contains("\r\nallow: post,get,head\r\n"), "{answer}");
    assert!(answer.ends_with("or a websocket by get"), "{answer}");
    let answer = exchange(port, &post("Content-Encoding: gzip\r\n", PING)).await;
    assert!(answer.starts_with("http/1.1 415"), "{answer}");
    assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
    let get = websocket_upgrade("GET", "", "Sec-WebSocket-Version: 13\r\n");
    let answer = exchange(port, &get).await;
    assert!(answer.starts_with("http/1.1 426"), "{answer}");
}
