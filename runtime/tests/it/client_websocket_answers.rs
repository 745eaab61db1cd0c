//! What the client's WebSocket transport reads: an answer as large as the response
//! limit, sent as one frame, and none larger; and no message the server sent unasked
//! as a later call's answer. And how long it waits for a connection to open.
#![cfg(feature = "websocket-client")]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Map;
use telepact::client::{WebSocketOptions, WebSocketTransport};
use telepact::{Client, ClientOptions, Headers, Message};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Frame;

/// An `Ok_` answer of about `bytes` bytes, its header padded.
fn padded_answer(bytes: usize) -> String {
    format!(r#"[{{"pad":"{}"}},{{"Ok_":{{}}}}]"#, "x".repeat(bytes))
}

/// A WebSocket server on a free loopback port answering each message of its n-th
/// connection (from 0) with the texts `answers(n)` gives, each one frame. Returns the
/// port and a channel told when a message's texts are all sent.
async fn serve(answers: fn(usize) -> Vec<String>) -> (u16, mpsc::UnboundedReceiver<()>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    let (answered, answers_sent) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut index = 0;
        while let Ok((stream, _)) = listener.accept().await {
            let texts = answers(index);
            index += 1;
            let answered = answered.clone();
            tokio::spawn(async move {
                // Each text leaves at once, not held until the one before is acknowledged.
                let _ = stream.set_nodelay(true);
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
                    let _ = answered.send(());
                }
            });
        }
    });
    (port, answers_sent)
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
    let (port, _) = serve(|_| vec![padded_answer(17 << 20)]).await;
    let transport = WebSocketTransport::connect(&format!("ws://127.0.0.1:{port}/"))
        .await
        .expect("connects");
    let answer = call_with(transport).await.expect("answered");
    assert_eq!(answer.target(), "Ok_");
}

#[tokio::test]
async fn an_answer_over_the_response_limit_fails_its_call() {
    let (port, _) = serve(|_| vec![padded_answer(4096)]).await;
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

#[tokio::test]
async fn a_message_sent_unasked_between_calls_is_no_later_calls_answer() {
    // The first connection follows each answer with more messages than a call reads
    // before it is sent; the next answers each message once.
    let (port, mut answers_sent) = serve(|connection| {
        let answer = r#"[{},{"Ok_":{}}]"#.to_string();
        let stray = r#"[{},{"Unasked":{}}]"#.to_string();
        let strays = if connection == 0 { 100 } else { 0 };
        std::iter::once(answer)
            .chain(std::iter::repeat_n(stray, strays))
            .collect()
    })
    .await;
    let transport = WebSocketTransport::connect(&format!("ws://127.0.0.1:{port}/"))
        .await
        .expect("connects");
    let options = ClientOptions::default().timeout(Duration::from_secs(60));
    let client = Client::with_options(transport, options);
    let call = || client.request(Message::new(Headers::new(), "fn.ping_", Map::new()));
    assert_eq!(call().await.expect("answered").target(), "Ok_");
    answers_sent.recv().await.expect("the strays were sent");
    for later in 2..=3 {
        let answer = call().await.expect("answered");
        assert_eq!(answer.target(), "Ok_", "call {later}");
    }
}

#[tokio::test]
async fn a_server_that_never_answers_the_upgrade_fails_the_connect_after_its_timeout() {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    // Takes the connection and reads none of the upgrade request.
    let holding = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accepts");
        std::future::pending::<()>().await;
        drop(stream);
    });
    let options = WebSocketOptions::default().connect_timeout(Duration::from_millis(200));
    let url = format!("ws://127.0.0.1:{port}/");
    let opening = WebSocketTransport::connect_with(&url, options);
    // Bounds the test on a transport that would wait for ever.
    let opened = tokio::time::timeout(Duration::from_secs(60), opening)
        .await
        .expect("the connect timeout ends the wait");
    let error = opened.expect_err("not open");
    assert!(error.to_string().contains("not open within"), "{error}");
    holding.abort();
}
