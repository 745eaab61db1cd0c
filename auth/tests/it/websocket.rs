//! The HTTP adapter's WebSocket sessions as the server's metrics see them: a message
//! refused is counted as the POST it would have been, as `telepact::http::router`
//! counts it.

use std::time::Duration;

use telepact::http::HttpOptions;
use telepact::schema::Schema;
use telepact::{FunctionRouter, Server};
use telepact_auth::http::{HttpAuthOptions, router, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

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

    let mut stream = telepact_test_support::raw_websocket(port, telepact::http::DEFAULT_PATH).await;
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
