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
