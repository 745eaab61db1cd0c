//! The HTTP adapter's WebSocket sessions as the server's metrics see them: a message
//! refused is counted as the POST it would have been, as `telepact::http::router`
//! counts it.

use std::time::Duration;

use telepact::http::HttpOptions;
use telepact::schema::Schema;
use telepact::{FunctionRouter, Server};
use telepact_auth::http::{HttpAuthOptions, router, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The `telepact_http_refusals_total` series `snapshotter`'s recorder holds: labels and
/// count.
fn refusals(snapshotter: &metrics_util::debugging::Snapshotter) -> Vec<(Vec<String>, u64)> {
    use metrics_util::debugging::DebugValue;

    let snapshot = snapshotter.snapshot().into_vec().into_iter();
    snapshot
        .filter(|(key, ..)| key.key().name() == "telepact_http_refusals_total")
        .map(|(key, _, _, value)| {
            let labels = key.key().labels();
            let labels = labels.map(|label| format!("{}={}", label.key(), label.value()));
            let count = match value {
                DebugValue::Counter(count) => count,
                _ => 0,
            };
            (labels.collect(), count)
        })
        .collect()
}

/// Reads `stream` to the end of an HTTP head.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.expect("the head comes whole"));
    }
    String::from_utf8(head).expect("a text head")
}

#[tokio::test]
async fn a_websocket_message_past_the_limit_is_counted_as_a_refusal() {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let schema = Schema::from_text("[]").expect("schema loads");
    let server = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .metrics_recorder(recorder)
        .build()
        .expect("server builds");
    let http = HttpOptions::default().body_limit(1_000);
    let app = router(server.clone(), &http, HttpAuthOptions::default());
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("binds");
    let port = listener.local_addr().expect("an address").port();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, async {
        let _ = stopped.await;
    }));

    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let upgrade = format!(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        telepact::http::DEFAULT_PATH
    );
    stream.write_all(upgrade.as_bytes()).await.expect("sent");
    let head = read_head(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // A text frame announcing 2,000 bytes (masked with zeros): past the limit.
    let frame = [
        &[0x81, 0x80 | 126, 0x07, 0xd0, 0, 0, 0, 0][..],
        &[b' '; 2_000],
    ]
    .concat();
    let _ = stream.write_all(&frame).await;
    let mut close = [0; 4];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut close)).await;
    assert!(matches!(read, Ok(Ok(_))), "{read:?}");
    assert_eq!(close[0], 0x88, "a close frame");
    assert_eq!(
        u16::from_be_bytes([close[2], close[3]]),
        1009,
        "message too big"
    );

    server.flush_metrics();
    assert_eq!(
        refusals(&snapshotter),
        [(vec!["status=413".to_string()], 1)],
        "counted as a POST body past the limit is"
    );
}
