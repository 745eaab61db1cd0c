//! One plain HTTP/1.1 exchange on loopback, for tests that check what a server's
//! listener answers (probes, metrics, refusals) without an HTTP client's own handling.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long an answer may take before the exchange fails rather than holds its test.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// Sends `method path` with `body` to `127.0.0.1:port` on a connection of its own
/// (`Connection: close`) and reads the answer to its end: the head as sent (its status
/// line first) and the body.
///
/// # Panics
///
/// When the server cannot be reached, does not answer within 10 s, answers no HTTP
/// head, or closes the connection before the body its `Content-Length` announces.
pub fn http_exchange(port: u16, method: &str, path: &str, body: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(ANSWER_WITHIN))
        .expect("a read timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("writes");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("reads");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head");
    // A body cut short would pass a test looking for part of it.
    if let Some(length) = content_length(head) {
        assert_eq!(body.len(), length, "a body cut short: {head}\r\n\r\n{body}");
    }
    (head.to_string(), body.to_string())
}

/// The `Content-Length` a head announces.
fn content_length(head: &str) -> Option<usize> {
    head.lines().skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        let announced = name.trim().eq_ignore_ascii_case("content-length");
        announced.then(|| value.trim().parse().ok()).flatten()
    })
}

/// The status line of a head [`http_exchange`] gave (`HTTP/1.1 200 OK`).
pub fn status_line(head: &str) -> &str {
    head.lines().next().unwrap_or_default()
}

/// Opens a WebSocket session on `127.0.0.1:port` at `path` by hand, with no client
/// library between the test and the server (which then sees exactly the frames the
/// test writes): the stream past the server's `101` head.
///
/// # Panics
///
/// When the server cannot be reached or does not switch protocols.
#[cfg(feature = "raw-websocket")]
pub async fn raw_websocket(port: u16, path: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let upgrade = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(upgrade.as_bytes()).await.expect("sent");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.expect("the head comes whole"));
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    stream
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Serves one connection with `answer`, then closes it.
    fn answering(answer: &'static str) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        let port = listener.local_addr().expect("an address").port();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut request = [0; 1024];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        port
    }

    #[test]
    fn a_whole_answer_is_read() {
        let port = answering("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        let (head, body) = http_exchange(port, "GET", "/healthz", "");
        assert_eq!(status_line(&head), "HTTP/1.1 200 OK");
        assert_eq!(body, "ok");
    }

    /// A connection closed before the announced body ends fails the exchange, rather
    /// than handing the test the part that came.
    #[test]
    fn a_body_cut_short_fails_the_exchange() {
        let port = answering("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n[{},{\"Ok_\"");
        let cut = std::panic::catch_unwind(|| http_exchange(port, "POST", "/api", "[]"));
        let error = cut.expect_err("the body is 9 bytes of 20");
        let said = error.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(said.contains("a body cut short"), "{said}");
    }
}
