//! What the client's WebSocket transport reads: an answer as large as the response
//! limit, sent as one frame, and none larger.
#![cfg(feature = "websocket-client")]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Map;
use telepact::client::{WebSocketOptions, WebSocketTransport};
use telepact::{Client, ClientOptions, Headers, Message};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message as Frame;

/// An `Ok_` answer of about `bytes` bytes, its header padded.
fn padded_answer(bytes: usize) -> String {
    format!(r#"[{{"pad":"{}"}},{{"Ok_":{{}}}}]"#, "x".repeat(bytes))
}

/// A WebSocket server on a free loopback port answering each message of its n-th
/// connection (from 0) with the texts `answers(n)` gives, each one frame.
async fn serve(answers: fn(usize) -> Vec<String>) -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    tokio::spawn(async move {
        let mut index = 0;
        while let Ok((stream, _)) = listener.accept().await {
            let texts = answers(index);
            index += 1;
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                while let Some(Ok(frame)) = socket.next().await {
                    if !frame.is_text() {
                        continue;
                    }
                    for text in &texts {
                        if socket.send(Frame::text(text.as_str())).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

async fn call_with(transport: WebSocketTransport) -> Result<Message, telepact::ClientError> {
    // Time enough to parse a large answer in an unoptimised build.
    let options = ClientOptions::default().timeout(Duration::from_secs(120));
    let client = Client::with_options(transport, options);
    client
        .request(Message::new(Headers::new(), "fn.ping_", Map::new()))
        .await
}

#[tokio::test]
async fn an_answer_within_the_default_limit_is_read_though_sent_as_one_large_frame() {
    let port = serve(|_| vec![padded_answer(17 << 20)]).await;
    let transport = WebSocketTransport::connect(&format!("ws://127.0.0.1:{port}/"))
        .await
        .expect("connects");
    let answer = call_with(transport).await.expect("answered");
    assert_eq!(answer.target(), "Ok_");
}

#[tokio::test]
async fn an_answer_over_the_response_limit_fails_its_call() {
    let port = serve(|_| vec![padded_answer(4096)]).await;
    let options = WebSocketOptions::default().response_limit(1024);
    let url = format!("ws://127.0.0.1:{port}/");
    let transport = WebSocketTransport::connect_with(&url, options)
        .await
        .expect("connects");
    let error = call_with(transport).await.expect_err("refused");
    assert!(
        matches!(error, telepact::ClientError::Transport(_)),
        "{error:?}"
    );
}
