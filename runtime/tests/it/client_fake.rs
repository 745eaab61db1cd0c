//! The client against in-process transports: headers it adds, binary negotiation,
//! checksum rotation (`binary_rotation.json`), and its errors.

use crate::binary_support;
use crate::fixture;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use binary_support::{
    FakeServer, conformance_dir, json_bytes, message, read_cases, rotating_servers,
};
use fixture::{Fixture, FixtureOptions};
use serde_json::{Value, json};
use telepact::binary::is_msgpack;
use telepact::client::{ClientOptions, InvalidResponse, TransportError};
use telepact::{Client, ClientError};

fn client_for(server: &Arc<FakeServer>, options: ClientOptions) -> Client {
    let server = server.clone();
    Client::with_options(
        move |bytes: Vec<u8>| {
            let server = server.clone();
            async move { Ok::<_, TransportError>(server.process(&bytes)) }
        },
        options,
    )
}

fn ping() -> telepact::Message {
    message(json!([{}, {"fn.ping_": {}}]))
}

/// A transport that answers every request with `answer` and remembers the last request.
fn answering(answer: Value) -> (Client, Arc<std::sync::Mutex<Value>>) {
    let seen = Arc::new(std::sync::Mutex::new(Value::Null));
    let recorder = seen.clone();
    let client = Client::with_options(
        move |bytes: Vec<u8>| {
            *recorder.lock().expect("lock") = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let answer = json_bytes(&answer);
            async move { Ok::<_, TransportError>(answer) }
        },
        ClientOptions::default().correlation_ids(true),
    );
    (client, seen)
}

#[tokio::test]
async fn the_default_timeout_is_sent_as_time_and_a_given_one_is_kept() {
    let (client, seen) = answering(json!([{}, {"Ok_": {}}]));
    client.request(ping()).await.expect("answered");
    assert_eq!(seen.lock().expect("lock")[0]["@time_"], json!(5000));

    let (client, seen) = answering(json!([{}, {"Ok_": {}}]));
    client
        .request(message(json!([{"@time_": 250}, {"fn.ping_": {}}])))
        .await
        .expect("answered");
    assert_eq!(seen.lock().expect("lock")[0]["@time_"], json!(250));
}

/// A timeout under a millisecond is sent as one: `@time_: 0` is no limit to a server,
/// which then worked on past the point the client had given up.
#[tokio::test]
async fn a_timeout_under_a_millisecond_is_sent_as_one() {
    let seen = Arc::new(std::sync::Mutex::new(Value::Null));
    let recorder = seen.clone();
    let options = ClientOptions::default().timeout(std::time::Duration::from_micros(1500));
    let client = Client::with_options(
        move |bytes: Vec<u8>| {
            *recorder.lock().expect("lock") = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            async move { Ok::<_, TransportError>(json_bytes(&json!([{}, {"Ok_": {}}]))) }
        },
        options,
    );
    client.request(ping()).await.expect("answered");
    assert_eq!(seen.lock().expect("lock")[0]["@time_"], json!(2));
}

/// `@time_: 0` sets no limit, as the server reads it: the client waits its default
/// (5 s) for the answer, where it gave up on any that did not come at once.
#[tokio::test]
async fn a_time_of_zero_waits_the_default_as_the_server_sets_no_limit() {
    let client = Client::new(|_: Vec<u8>| async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok::<_, TransportError>(json_bytes(&json!([{}, {"Ok_": {}}])))
    });
    let answer = client
        .request(message(json!([{"@time_": 0}, {"fn.ping_": {}}])))
        .await
        .expect("answered within the default");
    assert_eq!(answer.target(), "Ok_");
}

#[tokio::test]
async fn correlation_ids_are_sent_and_checked() {
    let server = Arc::new(rotating_servers());
    let client = client_for(&server, ClientOptions::default().correlation_ids(true));
    let first = client.request(ping()).await.expect("answered");
    let second = client.request(ping()).await.expect("answered");
    assert_ne!(first.headers["@id_"], second.headers["@id_"]);

    let (client, _) = answering(json!([{"@id_": "someone else's"}, {"Ok_": {}}]));
    let mismatch = client.request(ping()).await;
    assert!(
        matches!(mismatch, Err(ClientError::CorrelationMismatch { .. })),
        "{mismatch:?}"
    );
}

/// The error of an answer carrying another `@id_` names both ids clipped, as a span
/// does: the server's may be as long as its answer, and the error's text held it whole.
#[tokio::test]
async fn a_mismatched_id_is_named_clipped_in_the_error() {
    let long_id = "I".repeat(100_000);
    let (client, _) = answering(json!([{"@id_": long_id}, {"Ok_": {}}]));
    let mismatch = client.request(ping()).await.expect_err("another id");
    let clipped = format!("\"{}… (100002 bytes)", "I".repeat(127));
    let expected = format!("response @id_ {clipped} does not match the request's 1");
    let text = mismatch.to_string();
    let start = text.get(..200).unwrap_or(&text);
    assert!(text == expected, "{} bytes: {start}", text.len());
}

#[tokio::test]
async fn a_silent_transport_times_out() {
    let client = Client::with_options(
        |_bytes: Vec<u8>| std::future::pending::<Result<Vec<u8>, TransportError>>(),
        ClientOptions::default().timeout(Duration::from_millis(20)),
    );
    let result = client.request(ping()).await;
    assert!(
        matches!(result, Err(ClientError::Timeout(timeout)) if timeout == Duration::from_millis(20))
    );
}

#[tokio::test]
async fn transport_failures_and_garbage_are_errors() {
    let failing = Client::new(|_bytes: Vec<u8>| async {
        Err::<Vec<u8>, TransportError>("connection refused".into())
    });
    assert!(matches!(
        failing.request(ping()).await,
        Err(ClientError::Transport(_))
    ));

    let garbage =
        Client::new(|_bytes: Vec<u8>| async { Ok::<_, TransportError>(b"not json".to_vec()) });
    assert!(matches!(
        garbage.request(ping()).await,
        Err(ClientError::InvalidResponse(InvalidResponse::NotJson(_)))
    ));

    for shape in [
        json!([{}, {"Ok_": {}, "Extra": {}}]),
        json!([{}, 1]),
        json!([{}, {"Ok_": {}}, 3]),
        json!([{}]),
        json!({"Ok_": {}}),
    ] {
        let (wrong_shape, _) = answering(shape.clone());
        assert!(
            matches!(
                wrong_shape.request(ping()).await,
                Err(ClientError::InvalidResponse(InvalidResponse::NotAMessage))
            ),
            "{shape}"
        );
    }
}

#[tokio::test]
async fn a_binary_client_learns_the_encoding_then_speaks_binary() {
    let server = Arc::new(rotating_servers());
    let client = client_for(&server, ClientOptions::default().binary(true));

    let first = client.request(ping()).await.expect("answered");
    assert_eq!(
        *first.body(),
        *json!({"Ok_": {}}).as_object().expect("object")
    );
    assert!(
        first.headers.contains_key("@enc_"),
        "the first answer teaches the encoding"
    );
    assert_eq!(server.binary_requests.load(Ordering::SeqCst), 0);

    let data = json!({"data": [{"id": 1, "name": "one"}]});
    let second = client
        .request(message(json!([{"@ok_": data}, {"fn.example": {}}])))
        .await
        .expect("answered");
    assert_eq!(Value::Object(second.body().clone()), json!({"Ok_": data}));
    assert!(
        !second.headers.contains_key("@enc_"),
        "the client listed the checksum it holds"
    );
    assert_eq!(server.binary_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn packed_binary_round_trips_lists_of_structs() {
    let server = Arc::new(rotating_servers());
    let client = client_for(&server, ClientOptions::default().binary(true).packed(true));
    let data = json!({"data": [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}, {"id": 3}]});
    for _ in 0..2 {
        let response = client
            .request(message(json!([{"@ok_": data}, {"fn.example": {}}])))
            .await
            .expect("answered");
        assert_eq!(Value::Object(response.body().clone()), json!({"Ok_": data}));
        assert_eq!(response.headers["@pac_"], json!(true));
    }
    assert_eq!(server.binary_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn always_send_json_still_receives_binary() {
    let server = Arc::new(rotating_servers());
    let answers = Arc::new(std::sync::Mutex::new(Vec::new()));
    let client = {
        let (server, answers) = (server.clone(), answers.clone());
        Client::with_options(
            move |bytes: Vec<u8>| {
                let answer = server.process(&bytes);
                answers.lock().expect("lock").push(is_msgpack(&answer));
                async move { Ok::<_, TransportError>(answer) }
            },
            ClientOptions::default().binary(true).always_send_json(true),
        )
    };
    for _ in 0..3 {
        let response = client.request(ping()).await.expect("answered");
        assert_eq!(Value::Object(response.into_body()), json!({"Ok_": {}}));
    }
    assert_eq!(*answers.lock().expect("lock"), [true, true, true]);
    assert_eq!(server.binary_requests.load(Ordering::SeqCst), 0);
    let last = server.last_request.lock().expect("lock").clone();
    assert!(!is_msgpack(&last));
    let last: Value = serde_json::from_slice(&last).expect("JSON");
    assert_eq!(last[0]["@bin_"], json!([server.main.checksum()]));
}

#[tokio::test]
async fn a_binary_answer_in_an_unknown_encoding_is_an_error() {
    let server = Arc::new(rotating_servers());
    let bytes = {
        let request = message(json!([{"@bin_": [server.main.checksum()]}, {"fn.ping_": {}}]));
        let response = message(json!([{}, {"Ok_": {}}]));
        let binary = telepact::binary::BinaryRequest::from_headers(&request.headers)
            .expect("asks for binary");
        server
            .main
            .encode_response("fn.ping_", &response, &binary)
            .expect("Ok_ is binary")
    };
    let client = Client::new(move |_request: Vec<u8>| {
        let bytes = bytes.clone();
        async move { Ok::<_, TransportError>(bytes) }
    });
    let result = client.request(ping()).await;
    assert!(matches!(
        result,
        Err(ClientError::InvalidResponse(
            InvalidResponse::UnknownChecksum(_)
        ))
    ));
}

/// `binary_rotation.json` as specified: against the conformance fixture, which switches
/// between the `example` schema and its alternate (one extra struct) after each call
/// carrying `@toggleAlternateServer_`. The extra struct is reached from no function, so
/// both servers share one encoding and checksum (as with the reference libraries, whose
/// checksum covers the names functions reach): nothing goes stale, and every call is
/// exactly one binary request. `expectTwoRequests` allows a second request; it does not
/// demand one (the reference runner stops counting once the answer arrives).
#[tokio::test]
async fn binary_rotation_vectors_against_the_fixture() {
    let Some(dir) = conformance_dir() else { return };
    let options = FixtureOptions {
        base_dir: Some(dir.clone()),
        ..FixtureOptions::default()
    };
    let fixture = Arc::new(
        Fixture::load(&dir.join("schemas/example"), options).expect("example fixture loads"),
    );
    // Per request: whether it was MessagePack, and the checksum its answer carried.
    let requests = Arc::new(std::sync::Mutex::new(Vec::<(bool, Value)>::new()));
    let client = {
        let (fixture, requests) = (fixture.clone(), requests.clone());
        Client::with_options(
            move |bytes: Vec<u8>| {
                let (fixture, requests) = (fixture.clone(), requests.clone());
                async move {
                    let answer = fixture.handle(&bytes).await.bytes;
                    let headers = answer_headers(&answer);
                    let entry = (is_msgpack(&bytes), headers["@bin_"].clone());
                    requests.lock().expect("lock").push(entry);
                    Ok::<_, TransportError>(answer)
                }
            },
            ClientOptions::default().binary(true),
        )
    };
    client.request(ping()).await.expect("warm-up answered");
    let checksum = requests.lock().expect("lock")[0].1.clone();
    assert_eq!(checksum, json!([EXAMPLE_CHECKSUM]));

    let cases = read_cases(&dir, "binary_rotation.json");
    let mut passed = 0;
    for case in &cases {
        let index = &case["index"];
        requests.lock().expect("lock").clear();
        let response = client
            .request(message(case["request"].clone()))
            .await
            .expect("answered");
        assert_eq!(
            Value::Object(response.into_body()),
            case["response"][1],
            "case {index}"
        );
        let sent = requests.lock().expect("lock").clone();
        assert_eq!(sent, [(true, checksum.clone())], "case {index}");
        passed += 1;
    }
    telepact_test_support::record_vectors(
        "binary_rotation.json",
        "client against the fixture",
        cases.len(),
        passed,
    );
}

/// The reference checksum of `schemas/example`, shared by its alternate.
const EXAMPLE_CHECKSUM: i32 = -479553589;

/// The headers of an answer in either encoding.
fn answer_headers(answer: &[u8]) -> Value {
    let message: Value = if is_msgpack(answer) {
        binary_support::pack_to_marked(&binary_support::read_pack(answer))
    } else {
        serde_json::from_slice(answer).expect("a JSON answer")
    };
    message[0].clone()
}

/// When the server's encoding does change (the fake alternate adds a function), a stale
/// binary request costs exactly one JSON resend, and the client then speaks binary in the
/// new encoding. Requests per call, and whether the first was binary, are exact.
#[tokio::test]
async fn a_stale_binary_request_costs_exactly_one_json_resend() {
    let server = Arc::new(rotating_servers());
    assert_ne!(server.main.checksum(), server.alternate.checksum());
    let client = client_for(&server, ClientOptions::default().binary(true));
    client.request(ping()).await.expect("warm-up answered");

    let toggle = json!([{"@ok_": {}, "@toggleAlternateServer_": true}, {"fn.ping_": {}}]);
    let stay = json!([{"@ok_": {}}, {"fn.ping_": {}}]);
    // (request, requests sent, binary requests sent)
    let calls = [
        (&toggle, 1, 1),
        (&stay, 2, 1),
        (&toggle, 1, 1),
        (&stay, 2, 1),
        (&stay, 1, 1),
    ];
    for (step, (request, requests, binary)) in calls.into_iter().enumerate() {
        let before = (
            server.requests.load(Ordering::SeqCst),
            server.binary_requests.load(Ordering::SeqCst),
        );
        let response = client
            .request(message(request.clone()))
            .await
            .expect("answered");
        assert_eq!(Value::Object(response.into_body()), json!({"Ok_": {}}));
        let sent = (
            server.requests.load(Ordering::SeqCst) - before.0,
            server.binary_requests.load(Ordering::SeqCst) - before.1,
        );
        assert_eq!(sent, (requests, binary), "call {step}: (requests, binary)");
    }
    let last = server.last_request.lock().expect("lock").clone();
    assert!(is_msgpack(&last), "the settled client speaks binary");
}

/// Behind a load balancer over three schema versions, a call's answer may come in an
/// encoding the call listed in `@bin_` (so without `@enc_`) after other calls' answers
/// have taught the client two newer ones: it still decodes, where resending the call
/// (already run by the server) is no remedy.
#[tokio::test]
async fn an_answer_in_an_encoding_the_call_listed_decodes_after_two_newer_ones() {
    let a = binary_support::test_schema::binary_conformance_schema();
    let b = binary_support::with_function(&a, "fn.second");
    let c = binary_support::with_function(&b, "fn.third");
    let servers: Arc<[FakeServer; 3]> = Arc::new([a, b, c].map(|schema| {
        let version = telepact::binary::ServerBinary::new(schema);
        FakeServer::new(version.clone(), version)
    }));
    // Requests reach the servers in this order (a binary request a server refuses is
    // sent again as JSON to the same one); the third call's answer waits for `release`.
    let hold = 3;
    let route = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from([
        0, 1, 1, hold, 2, 2, 0, 0,
    ])));
    let held = Arc::new(tokio::sync::Notify::new());
    let release = Arc::new(tokio::sync::Notify::new());
    let client = {
        let (servers, route) = (servers.clone(), route.clone());
        let (held, release) = (held.clone(), release.clone());
        Client::with_options(
            move |bytes: Vec<u8>| {
                let (servers, held, release) = (servers.clone(), held.clone(), release.clone());
                let next = route.lock().expect("lock").pop_front().expect("a route");
                async move {
                    // The held request goes to the second version.
                    let answer = servers[if next == hold { 1 } else { next }].process(&bytes);
                    if next == hold {
                        held.notify_one();
                        release.notified().await;
                    }
                    Ok::<_, TransportError>(answer)
                }
            },
            ClientOptions::default().binary(true),
        )
    };
    client.request(ping()).await.expect("a answered");
    client.request(ping()).await.expect("b answered");
    let waiting = tokio::spawn({
        let client = client.clone();
        async move { client.request(ping()).await }
    });
    held.notified().await;
    client.request(ping()).await.expect("c answered");
    client.request(ping()).await.expect("a answered again");
    release.notify_one();
    let answer = waiting.await.expect("joins").expect("b's answer decodes");
    assert_eq!(Value::Object(answer.into_body()), json!({"Ok_": {}}));
}

#[test]
fn clients_and_their_calls_can_cross_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}
    let client = Client::new(|_bytes: Vec<u8>| async { Ok::<_, TransportError>(Vec::new()) });
    assert_send_sync(&client);
    assert_send(&client.request(ping()));
}
