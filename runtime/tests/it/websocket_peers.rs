//! WebSocket peers that send and never read. A ping's pong is sent before the next
//! frame is read, by the server and by the client: a peer that pings without pause and
//! takes none of the pongs stops being read once its connection's buffers are full,
//! where each pong was buffered in memory meanwhile (64 MiB of pings, 62 MiB of pongs
//! held by the other side). And a peer that sends a message a byte at a time.
#![cfg(feature = "websocket-client")]

use std::time::Duration;

use serde_json::Map;
use telepact::client::WebSocketTransport;
use telepact::{Client, ClientOptions, Headers, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// More pings than the sockets' buffers hold, many times over.
const PINGS_AT_MOST: usize = 64 << 20;

/// How long a write may wait before the peer counts as no longer reading.
const STALL: Duration = Duration::from_secs(2);

/// Ping frames with the largest payload a control frame may carry, about 1 MiB of
/// them: masked, as a client sends them, or not, as a server does.
fn pings(masked: bool) -> Vec<u8> {
    let frame: Vec<u8> = if masked {
        // A zero mask leaves the payload as it is.
        [&[0x89, 0x80 | 125, 0, 0, 0, 0][..], &[b'p'; 125]].concat()
    } else {
        [&[0x89, 125][..], &[b'p'; 125]].concat()
    };
    frame.repeat((1 << 20) / frame.len())
}

/// Writes `chunk` to `stream` again and again until a write waits past [`STALL`] or
/// [`PINGS_AT_MOST`] bytes are written; the bytes written.
async fn write_until_stalled(stream: &mut TcpStream, chunk: &[u8]) -> usize {
    let mut written = 0;
    while written < PINGS_AT_MOST {
        match tokio::time::timeout(STALL, stream.write_all(chunk)).await {
            Ok(Ok(())) => written += chunk.len(),
            Ok(Err(_)) | Err(_) => break,
        }
    }
    written
}

#[tokio::test]
async fn the_server_stops_reading_a_client_that_takes_none_of_its_pongs() {
    use telepact::http::{self, HttpOptions, ServeOptions};

    let server = crate::client_websocket::slow_server(Duration::ZERO);
    let app = http::router(server, &HttpOptions::default());
    let (port, _stop, _serving) =
        crate::http_transport::serve_app(app, ServeOptions::default()).await;
    let mut stream = telepact_test_support::raw_websocket(port, http::DEFAULT_PATH).await;

    let written = write_until_stalled(&mut stream, &pings(true)).await;
    assert!(
        written < PINGS_AT_MOST,
        "the server read {written} bytes of pings, holding their pongs"
    );
}

#[tokio::test]
async fn the_client_stops_reading_a_server_that_takes_none_of_its_pongs() {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    let (written_tx, written_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accepts");
        let socket = tokio_tungstenite::accept_async(stream)
            .await
            .expect("upgrades");
        // Pings instead of the answer, and nothing of the client's read.
        let mut stream = socket.into_inner();
        let written = write_until_stalled(&mut stream, &pings(false)).await;
        let _ = written_tx.send(written);
    });
    let transport = WebSocketTransport::connect(&format!("ws://127.0.0.1:{port}/"))
        .await
        .expect("connects");
    let options = ClientOptions::default().timeout(Duration::from_secs(300));
    let client = Client::with_options(transport, options);
    let request = Message::new(Headers::new(), "fn.ping_", Map::new());
    let calling = client.request(request);
    tokio::pin!(calling);
    let written = tokio::select! {
        biased;
        written = written_rx => written.expect("the server wrote"),
        answer = &mut calling => panic!("answered: {answer:?}"),
    };
    assert!(
        written < PINGS_AT_MOST,
        "the client read {written} bytes of pings, holding their pongs"
    );
}

/// Served by `axum::serve` rather than `http::serve`, a session whose message does not
/// come whole within the body timeout is closed, as a POST body that slow is refused:
/// a client sending a message a byte at a time held its session for ever.
#[tokio::test]
async fn a_message_slower_than_the_body_timeout_closes_its_session_served_by_axum() {
    use telepact::http::{self, HttpOptions};

    let options = HttpOptions::default().body_timeout(Duration::from_millis(200));
    let app = http::router(crate::http_transport::schema_server(), &options);
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut stream = telepact_test_support::raw_websocket(port, http::DEFAULT_PATH).await;
    // A masked text frame announcing 100 bytes, and the first of them.
    let started = [0x81, 0x80 | 100, 0, 0, 0, 0, b'['];
    stream.write_all(&started).await.expect("sent");
    let mut answer = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer));
    let ended = ended.await;
    serving.abort();
    assert!(ended.is_ok(), "the session is still open: {answer:?}");
    // One close frame, 1000 and its reason.
    let reason = b"no message in time";
    let close = [&[0x88, 2 + reason.len() as u8, 0x03, 0xe8][..], reason].concat();
    assert_eq!(answer, close);
}
