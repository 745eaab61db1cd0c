//! The gateway's WebSocket sessions: each message forwarded to the workers as one
//! request, JSON and binary; a message no worker answers ends the session with a close
//! frame the client reports, and the next call opens a new session.

use telepact::client::WebSocketTransport;
use telepact_test_support::count_msgpack_answers;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_sessions_are_forwarded_to_the_workers() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let worker = nats::serve(server(), connect(&url).await, SUBJECT, "adders")
        .await
        .expect("worker subscribes");
    let gateway = serve_gateway(&url, SUBJECT, &HttpOptions::default()).await;
    let sessions = gateway.replacen("http://", "ws://", 1);
    for binary in [false, true] {
        let transport = WebSocketTransport::connect(&sessions)
            .await
            .expect("the gateway upgrades");
        let (transport, msgpack_answers) = count_msgpack_answers(transport);
        let options = ClientOptions::default().binary(binary).timeout(TIMEOUT);
        let client = Client::with_options(transport, options);
        for round in 0..3 {
            let response = client.request(add(round, 1)).await.expect("answered");
            assert_eq!(sum_of(&response), Some(round + 1), "binary={binary}");
        }
        // Binary: the first answer carries the encoding, the next two use it.
        let expected = if binary { 2 } else { 0 };
        assert!(msgpack_answers.count() >= expected, "binary={binary}");
    }

    worker.drain().await.expect("drains");
    // With no worker left, the call fails with the close frame's reason: "try again
    // later" (1013), for no responders or, routed just before the subscription went,
    // no reply in time.
    let transport = WebSocketTransport::connect(&sessions)
        .await
        .expect("the gateway upgrades");
    let client = Client::with_options(transport, ClientOptions::default().timeout(TIMEOUT));
    let mut failures = Vec::new();
    for _ in 0..10 {
        let failure = client.request(add(1, 1)).await.expect_err("no worker");
        failures.push(telepact::ErrorChain(&failure).to_string());
        if failures
            .last()
            .is_some_and(|f| f.contains("no worker is serving"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        failures.iter().all(|f| f.contains("(1013: ")),
        "{failures:?}"
    );
    assert!(
        failures
            .last()
            .is_some_and(|f| f.contains("no worker is serving")),
        "{failures:?}"
    );
}
