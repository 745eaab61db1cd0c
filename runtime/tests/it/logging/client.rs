//! The client's own span of each call: its function, `@id_`, result or kind of failure,
//! and duration, never a header value or a body.

use serde_json::Value;
use telepact::{Headers, Message};

use super::server;
use crate::log_capture::Capture;

/// Calls `fn.work` (which fails) through a client over `server()`, with `capture` as the
/// subscriber, sending `@id_` when `id` is given.
fn call_through_a_client(capture: &Capture, id: Option<&str>) -> Message {
    let server = server();
    let transport = move |bytes: Vec<u8>| {
        let server = server.clone();
        async move { Ok(server.process(&bytes).await.bytes) }
    };
    let client = telepact::Client::new(transport);
    let mut headers = Headers::new();
    if let Some(id) = id {
        headers.insert("@id_".to_string(), Value::from(id));
    }
    headers.insert(
        "@auth_".to_string(),
        serde_json::json!({"Token": {"token": "accepted-token"}}),
    );
    let request = Message::new(headers, "fn.work", serde_json::Map::new());
    tracing::subscriber::with_default(capture.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime starts");
        runtime.block_on(client.request(request))
    })
    .expect("the call goes through")
}

#[test]
fn the_client_has_a_span_per_call_too() {
    let capture = Capture::default();
    let response = call_through_a_client(&capture, Some("c-1"));
    assert_eq!(response.target(), "ErrorUnknown_");
    let spans = capture.spans();
    let names: Vec<_> = spans.iter().map(|span| span.name).collect();
    assert_eq!(names, ["telepact.client.call", "telepact.call"]);
    let mut fields = spans[0].fields.clone();
    assert!(fields.remove("duration_us").is_some());
    let expected: std::collections::BTreeMap<String, String> = [
        ("function", "\"fn.work\""),
        ("id", "\"c-1\""),
        ("result", "\"ErrorUnknown_\""),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect();
    assert_eq!(fields, expected);
}

/// A call that fails on the client's side still ends its span with how long it took
/// and the kind of failure (never the error's text, which may hold what a transport
/// wrote).
#[test]
fn a_failed_call_records_its_kind_of_failure_in_the_client_span() {
    let slow = |_: Vec<u8>| async {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        Ok::<Vec<u8>, telepact::client::TransportError>(Vec::new())
    };
    let broken = |_: Vec<u8>| async {
        Err::<Vec<u8>, telepact::client::TransportError>("connection refused".into())
    };
    let options =
        telepact::client::ClientOptions::default().timeout(std::time::Duration::from_millis(20));
    let clients = [
        (
            telepact::Client::with_options(slow, options.clone()),
            "timeout",
        ),
        (telepact::Client::with_options(broken, options), "transport"),
    ];
    for (client, kind) in clients {
        let capture = Capture::default();
        let request = Message::new(Headers::new(), "fn.work", serde_json::Map::new());
        let failed = tracing::subscriber::with_default(capture.clone(), || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("runtime starts");
            runtime.block_on(client.request(request))
        });
        assert!(failed.is_err());
        let spans = capture.spans();
        let mut fields = spans[0].fields.clone();
        assert!(fields.remove("duration_us").is_some(), "{spans:?}");
        let expected: std::collections::BTreeMap<String, String> = [
            ("function".to_string(), "\"fn.work\"".to_string()),
            ("error".to_string(), format!("{kind:?}")),
        ]
        .into_iter()
        .collect();
        assert_eq!(fields, expected);
    }
}

#[test]
fn call_spans_are_at_debug_so_a_subscriber_at_info_records_none() {
    let capture = Capture::up_to(tracing::Level::INFO);
    let response = call_through_a_client(&capture, None);
    let case_id = response
        .payload()
        .and_then(|payload| payload.get("caseId"))
        .and_then(Value::as_str)
        .expect("a case id");
    assert!(capture.spans().is_empty(), "{:?}", capture.spans());
    // The failure's own event still names the function and the case.
    let lines = capture.lines();
    assert!(
        lines.iter().any(|line| line.starts_with("ERROR")
            && line.contains(case_id)
            && line.contains("fn.work")),
        "{lines:?}"
    );
}

/// The result tag in the client's span is the server's text, as long as its answer
/// allows: the span keeps its first 128 bytes, as the server's span keeps a client's.
#[test]
fn the_client_span_keeps_the_start_of_a_long_result_tag() {
    let tag = "T".repeat(100_000);
    let answer = serde_json::json!([{}, {tag.as_str(): {}}]).to_string();
    let transport = move |_: Vec<u8>| {
        let answer = answer.clone().into_bytes();
        async move { Ok::<_, telepact::client::TransportError>(answer) }
    };
    let client = telepact::Client::new(transport);
    let capture = Capture::default();
    let request = Message::new(Headers::new(), "fn.work", serde_json::Map::new());
    let response = tracing::subscriber::with_default(capture.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime starts");
        runtime.block_on(client.request(request))
    })
    .expect("the answer reads");
    assert_eq!(response.target(), tag);
    let spans = capture.spans();
    assert_eq!(
        spans[0].fields["result"],
        format!("\"{}… (100000 bytes)\"", "T".repeat(128))
    );
}

/// The `@id_` in the client's span is clipped as the server's span clips it: the
/// caller's id may be as long as a message, and the span held it whole.
#[test]
fn the_client_span_keeps_the_start_of_a_long_id_as_the_server_span_does() {
    let long_id = "I".repeat(100_000);
    let capture = Capture::default();
    call_through_a_client(&capture, Some(&long_id));
    let spans = capture.spans();
    let clipped = format!("\"{}… (100000 bytes)\"", "I".repeat(128));
    let ids: Vec<(&str, usize)> = spans
        .iter()
        .map(|span| (span.name, span.fields["id"].len()))
        .collect();
    let clipped_length = clipped.len();
    assert_eq!(
        ids,
        [
            ("telepact.client.call", clipped_length),
            ("telepact.call", clipped_length)
        ]
    );
    assert_eq!(spans[0].fields["id"], clipped);
}
