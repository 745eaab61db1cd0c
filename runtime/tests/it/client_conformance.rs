//! The runtime client in binary mode against the conformance server over HTTP: every
//! successful `server.json` call answers a binary client with the same body it gives in
//! JSON, and the answers really travel as MessagePack.

#![cfg(feature = "http-client")]

use crate::fixture;
// Shared with the vector replays; this test reads cases but compares on its own.
#[allow(dead_code)]
use crate::vectors;

use std::sync::Arc;

use fixture::{Fixture, FixtureOptions, SharedFixture};
use serde_json::Value;
use telepact::client::{ClientOptions, HttpTransport};
use telepact::{Client, Headers, Message};
use telepact_test_support::{MsgpackAnswers, count_msgpack_answers};

/// A binary client over HTTP, with the count of its MessagePack answers.
fn binary_client(url: &str, packed: bool) -> (Client, MsgpackAnswers) {
    let http = HttpTransport::new(url).expect("a valid url");
    let (transport, binary) = count_msgpack_answers(http);
    let options = ClientOptions::default().binary(true).packed(packed);
    (Client::with_options(transport, options), binary)
}

/// The `server.json` requests whose expected answer is `Ok_`, as messages.
fn successful_calls(cases: &[vectors::Case]) -> Vec<(String, Message, Value)> {
    cases
        .iter()
        .filter(|case| case.expected[1].get("Ok_").is_some() && !case.set_compare)
        // `fn.api_` answers carry this implementation's own docstrings.
        .filter(|case| case.standard_names.is_none())
        .filter_map(|case| {
            let request: Value = serde_json::from_slice(&case.request).ok()?;
            let headers: Headers = request[0].as_object()?.clone().into();
            let body = request[1].as_object()?.clone();
            let message = Message::from_body(headers, body);
            Some((case.name.clone(), message, case.expected[1].clone()))
        })
        .collect()
}

/// The `server.json` cases that are successful calls a client can make.
const SUCCESSFUL_CALLS: usize = 390;

async fn replay_with_binary_client(packed: bool) {
    let Some(dir) = vectors::conformance_dir() else {
        return;
    };
    let options = FixtureOptions {
        auth: false,
        validate_schemas: false,
        base_dir: Some(dir.clone()),
    };
    let fixture = Fixture::load(&dir.join("schemas/example"), options).expect("fixture loads");
    let router = telepact::http::router(
        SharedFixture(Arc::new(fixture)),
        &telepact::http::HttpOptions::default().path("/api"),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("binds");
    let url = format!("http://{}/api", listener.local_addr().expect("an address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(telepact::http::serve(listener, router, async {
        let _ = stopped.await;
    }));

    let cases = vectors::load_cases(&dir, "server.json");
    let calls = successful_calls(&cases);
    let (client, binary_responses) = binary_client(&url, packed);
    let mut failures = Vec::new();
    for (name, request, expected_body) in &calls {
        match client.request(request.clone()).await {
            Ok(response) => {
                let body = Value::Object(response.into_body());
                if !vectors::json_eq(&body, expected_body, false) {
                    failures.push(format!("{name}: expected {expected_body}, got {body}"));
                }
            }
            Err(error) => failures.push(format!("{name}: {error}")),
        }
    }
    let _ = stop.send(());
    server.await.expect("server task").expect("server ran");

    assert_eq!(
        cases.len(),
        telepact_test_support::expected_cases("server.json")
    );
    assert_eq!(
        calls.len(),
        SUCCESSFUL_CALLS,
        "successful calls in server.json"
    );
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        calls.len(),
        failures.join("\n")
    );
    // Every answer comes back binary: the first one, to `@bin_: []`, brings `@enc_`.
    assert_eq!(binary_responses.count(), calls.len());
}

#[tokio::test]
async fn a_binary_client_gets_the_json_answers() {
    replay_with_binary_client(false).await;
}

#[tokio::test]
async fn a_packed_binary_client_gets_the_json_answers() {
    replay_with_binary_client(true).await;
}
