//! The HTTP transport read against the HTTP specifications (RFC 9110, 9112, 9113) and
//! the WebSocket protocol (RFC 6455), with real clients and proxies in mind: what a
//! request the endpoint cannot serve is answered with, and how connections end.
#![cfg(feature = "axum")]

use std::time::Duration;

use telepact::http::HttpOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::http_transport::start;

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
