//! What the server logs: the case id beside the real error, never the credentials.

use crate::log_capture;

mod client;
mod hooks;

use log_capture::Capture;

use std::time::Duration;

use serde_json::Value;
use telepact::schema::Schema;
use telepact::{
    AuthUnavailable, Authenticated, FunctionRouter, HandlerError, Headers, Message, Server,
};

const SECRET: &str = "s3cr3t-token-value";
/// A token the test hook cannot check: its store "times out".
const STORE_DOWN_TOKEN: &str = "s3cr3t-unchecked-token";

fn server() -> Server {
    let schema = Schema::from_text(
        r#"[{"union.Auth_": [{"Token": {"token": "string"}}]},
            {"fn.work": {}, "->": [{"Ok_": {}}]}]"#,
    )
    .expect("schema loads");
    let router = FunctionRouter::new().route("fn.work", |_request: Message| async move {
        Err::<Message, HandlerError>("disk full".into())
    });
    Server::builder(schema, router)
        .on_auth(|headers: Headers| {
            let accepted = headers.get("@auth_").is_some_and(|auth| {
                auth.pointer("/Token/token") == Some(&Value::from("accepted-token"))
            });
            let store_down = headers.get("@auth_").is_some_and(|auth| {
                auth.pointer("/Token/token") == Some(&Value::from(STORE_DOWN_TOKEN))
            });
            async move {
                if accepted {
                    Ok(Authenticated::new())
                } else if store_down {
                    Err(AuthUnavailable::new("token store timed out").into())
                } else {
                    Err(HandlerError::from("credentials rejected"))
                }
            }
        })
        .build()
        .expect("server builds")
}

fn run_logged(requests: &[String]) -> (Vec<String>, Vec<Value>) {
    run_logged_on(&server(), requests)
}

fn run_logged_on(server: &Server, requests: &[String]) -> (Vec<String>, Vec<Value>) {
    let capture = Capture::default();
    let responses = tracing::subscriber::with_default(capture.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime starts");
        requests
            .iter()
            .map(|request| {
                let response = runtime.block_on(server.process(request.as_bytes()));
                serde_json::from_slice(&response.bytes).expect("JSON response")
            })
            .collect()
    });
    let lines = capture.lines();
    (lines, responses)
}

#[test]
fn rejected_credentials_are_not_logged() {
    let request =
        format!(r#"[{{"@auth_": {{"Token": {{"token": "{SECRET}"}}}}}}, {{"fn.work": {{}}}}]"#);
    let (lines, responses) = run_logged(&[request]);
    assert!(responses[0].pointer("/1/ErrorUnauthenticated_").is_some());
    assert!(!lines.is_empty(), "the rejection is logged");
    assert!(lines.iter().all(|line| !line.contains(SECRET)), "{lines:?}");
}

#[test]
fn a_refused_credential_is_one_info_line_naming_its_kind_and_the_reason() {
    let rejected =
        format!(r#"[{{"@auth_": {{"Token": {{"token": "{SECRET}"}}}}}}, {{"fn.work": {{}}}}]"#);
    let (lines, _) = run_logged(&[rejected]);
    let [refusal] = lines.as_slice() else {
        panic!("one line for the refusal: {lines:?}");
    };
    assert!(
        refusal.starts_with("INFO message=credentials refused"),
        "{refusal}"
    );
    for field in [
        r#"function="fn.work""#,
        r#"credential="Token""#,
        "reason=credentials rejected",
    ] {
        assert!(refusal.contains(field), "{field} in {refusal}");
    }
    // Processed without a transport: no client address to name.
    assert!(!refusal.contains("address="), "{refusal}");
    assert!(!refusal.contains("left_out="), "{refusal}");
}

/// Credentials the hook could not check are logged as a failed call is: one error line
/// with the case id the client got, the kind of credential and the cause, never the
/// credential.
#[test]
fn unchecked_credentials_are_one_error_line_under_the_answers_case_id() {
    let unchecked = format!(
        r#"[{{"@auth_": {{"Token": {{"token": "{STORE_DOWN_TOKEN}"}}}}}}, {{"fn.work": {{}}}}]"#
    );
    let (lines, responses) = run_logged(&[unchecked]);
    let case_id = responses[0]
        .pointer("/1/ErrorUnknown_/caseId")
        .and_then(Value::as_str)
        .expect("ErrorUnknown_ with a case id");
    let [line] = lines.as_slice() else {
        panic!("one line: {lines:?}");
    };
    assert!(
        line.starts_with("ERROR message=credentials could not be checked"),
        "{line}"
    );
    for field in [
        format!("case_id={case_id}").as_str(),
        r#"function="fn.work""#,
        r#"credential="Token""#,
        "error=could not check the credentials: token store timed out",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(!line.contains(STORE_DOWN_TOKEN), "{line}");
}

#[test]
fn a_flood_of_refused_credentials_logs_a_bounded_number_of_lines() {
    let rejected =
        format!(r#"[{{"@auth_": {{"Token": {{"token": "{SECRET}"}}}}}}, {{"fn.work": {{}}}}]"#);
    let flood = vec![rejected; 500];
    let (lines, responses) = run_logged(&flood);
    assert!(
        responses
            .iter()
            .all(|response| response.pointer("/1/ErrorUnauthenticated_").is_some())
    );
    // Ten lines a second; a slow machine may run the 500 over a second boundary, whose
    // first line then counts those left out before it.
    assert!(lines.len() < 50, "{} lines: {lines:?}", lines.len());
    let left_out: u64 = lines
        .iter()
        .filter_map(|line| line.split("left_out=").nth(1))
        .map(|count| count.trim().parse::<u64>().expect("a count"))
        .sum();
    assert!(left_out <= 500 - lines.len() as u64, "{lines:?}");
}

/// A call that fails can be repeated as fast as a client likes: its `handler failed`
/// lines are bounded as the refused credentials' are (each call still answers with
/// its own case id).
#[test]
fn a_flood_of_failing_calls_logs_a_bounded_number_of_lines() {
    let failing =
        r#"[{"@auth_": {"Token": {"token": "accepted-token"}}}, {"fn.work": {}}]"#.to_string();
    let flood = vec![failing; 500];
    let (lines, responses) = run_logged(&flood);
    let case_ids: std::collections::HashSet<_> = responses
        .iter()
        .map(|response| response.pointer("/1/ErrorUnknown_/caseId").cloned())
        .collect();
    assert_eq!(case_ids.len(), 500, "every call its own case id");
    let failed: Vec<_> = lines
        .iter()
        .filter(|line| line.contains("handler failed"))
        .collect();
    assert!(
        !failed.is_empty() && failed.len() < 50,
        "{} lines",
        failed.len()
    );
}

#[test]
fn a_request_that_is_no_message_is_logged_at_debug_only() {
    let capture = Capture::up_to(tracing::Level::INFO);
    tracing::subscriber::with_default(capture.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime starts");
        for garbage in [&b"not json"[..], b"[{}]", b"{}"] {
            runtime.block_on(server().process(garbage));
        }
    });
    assert!(capture.lines().is_empty(), "{:?}", capture.lines());
    let (lines, responses) = run_logged(&["not json".to_string()]);
    assert!(responses[0].pointer("/1/ErrorParseFailure_").is_some());
    let [line] = lines.as_slice() else {
        panic!("one line: {lines:?}");
    };
    assert!(line.starts_with("DEBUG message=request failed"), "{line}");
}

#[test]
fn an_invalid_answer_is_a_warning_with_its_failures() {
    // A handler whose answer the schema does not allow.
    let schema = Schema::from_text(r#"[{"fn.work": {}, "->": [{"Ok_": {}}]}]"#).expect("loads");
    let router = FunctionRouter::new().route("fn.work", |_request: Message| async move {
        let mut payload = serde_json::Map::new();
        payload.insert("extra".to_string(), Value::from(1));
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let server = Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds");
    let (lines, responses) = run_logged_on(&server, &[r#"[{}, {"fn.work": {}}]"#.to_string()]);
    assert!(
        responses[0]
            .pointer("/1/ErrorInvalidResponseBody_")
            .is_some()
    );
    let invalid = failed_request_line(&lines);
    assert!(invalid.starts_with("WARN"), "{invalid}");
    assert!(
        invalid.contains("failures=") && invalid.contains("ObjectKeyDisallowed"),
        "{invalid}"
    );
    assert!(!invalid.contains("cause="), "{invalid}");
}

/// The one line logged for a failed request.
fn failed_request_line(lines: &[String]) -> &str {
    let mut failed = lines.iter().filter(|line| line.contains("request failed"));
    match (failed.next(), failed.next()) {
        (Some(line), None) => line,
        _ => panic!("one line for the failed request: {lines:?}"),
    }
}

#[test]
fn handler_failures_are_logged_with_their_case_id() {
    let request =
        r#"[{"@auth_": {"Token": {"token": "accepted-token"}}}, {"fn.work": {}}]"#.to_string();
    let (lines, responses) = run_logged(&[request]);
    let case_id = responses[0]
        .pointer("/1/ErrorUnknown_/caseId")
        .and_then(Value::as_str)
        .expect("a case id");
    let logged = lines
        .iter()
        .find(|line| line.contains(case_id))
        .expect("the case id is logged");
    assert!(logged.contains("disk full"), "{logged}");
    assert!(
        lines.iter().all(|line| !line.contains("accepted-token")),
        "{lines:?}"
    );
}

#[test]
fn each_call_has_a_span_with_its_outcome_and_no_credential() {
    let request = r#"[{"@auth_": {"Token": {"token": "accepted-token"}}, "@id_": "call-7"},
        {"fn.work": {}}]"#
        .to_string();
    let capture = Capture::default();
    let server = server();
    let response = tracing::subscriber::with_default(capture.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime starts");
        runtime.block_on(server.process(request.as_bytes()))
    });
    let response: Value = serde_json::from_slice(&response.bytes).expect("JSON response");
    let case_id = response
        .pointer("/1/ErrorUnknown_/caseId")
        .and_then(Value::as_str)
        .expect("a case id");
    let spans = capture.spans();
    assert_eq!(spans.len(), 1, "{spans:?}");
    let span = &spans[0];
    assert_eq!(span.name, "telepact.call");
    let mut fields = span.fields.clone();
    let duration = fields.remove("duration_us").expect("a duration");
    assert!(duration.parse::<u64>().is_ok(), "{duration}");
    let expected: std::collections::BTreeMap<String, String> = [
        ("function", "\"fn.work\"".to_string()),
        ("id", "\"call-7\"".to_string()),
        ("result", "\"ErrorUnknown_\"".to_string()),
        ("encoding", "\"json\"".to_string()),
        ("case_id", format!("{case_id:?}")),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value))
    .collect();
    assert_eq!(fields, expected);
    assert!(
        capture
            .lines()
            .iter()
            .all(|line| !line.contains("accepted-token")),
        "no credential in an event either"
    );
}

/// A function name the schema lacks and an `@id_` are the client's text, as long as the
/// body allows: a span keeps their first 128 bytes and says how long they were.
#[test]
fn a_span_keeps_the_start_of_a_long_function_name_or_id() {
    let long_id = "I".repeat(200_000);
    let long_name = format!("fn.{}", "F".repeat(200_000));
    let requests = [
        serde_json::json!([{"@id_": long_id}, {"fn.ping_": {}}]),
        serde_json::json!([{"@id_": {"n": long_id}}, {"fn.ping_": {}}]),
        serde_json::json!([{}, {long_name.as_str(): {}}]),
    ];
    let capture = Capture::default();
    let server = server();
    tracing::subscriber::with_default(capture.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime starts");
        for request in &requests {
            runtime.block_on(server.process(request.to_string().as_bytes()));
        }
    });
    let spans = capture.spans();
    assert_eq!(spans.len(), 3, "{spans:?}");
    assert!(
        !spans[0].fields.contains_key("address"),
        "no transport gave one"
    );
    let id = &spans[0].fields["id"];
    assert_eq!(id, &format!("\"{}… (200000 bytes)\"", "I".repeat(128)));
    assert!(
        spans[1].fields["id"].ends_with("… (200008 bytes)\""),
        "{:?}",
        spans[1]
    );
    let function = &spans[2].fields["function"];
    assert_eq!(
        function,
        &format!("\"fn.{}… (200003 bytes)\"", "F".repeat(125))
    );
    let longest = capture.lines().iter().map(String::len).max().unwrap_or(0);
    assert!(longest < 1_000, "a logged line of {longest} bytes");
}

/// A server whose `fn.stuck` never answers.
fn stuck_server() -> Server {
    let schema = Schema::from_text(r#"[{"fn.stuck": {}, "->": [{"Ok_": {}}]}]"#).expect("loads");
    let router = FunctionRouter::new().route("fn.stuck", |_: Message| async {
        std::future::pending::<Result<Message, HandlerError>>().await
    });
    Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds")
}

/// A call cut off before its answer (its future dropped: the caller went, the shutdown's
/// deadline passed) ends its span with `result` `cancelled` and the time it ran, which
/// the access log (the span's closing line) shows as it shows an answered call.
#[cfg(feature = "log-stderr")]
#[test]
fn a_call_cut_off_closes_its_span_as_cancelled_in_the_access_log() {
    use tracing_subscriber::fmt::format::FmtSpan;

    let log = SharedBuffer::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    let server = stuck_server();
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime starts");
        let call = server.process(br#"[{"@id_": "c-1"}, {"fn.stuck": {}}]"#);
        let wait = Duration::from_millis(20);
        let cut_off = runtime.block_on(async { tokio::time::timeout(wait, call).await });
        assert!(cut_off.is_err(), "the call never answers");
    });
    let text = String::from_utf8(log.0.lock().unwrap().clone()).expect("UTF-8");
    let closed: Vec<Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["span"]["name"] == "telepact.call")
        .filter(|event| event["fields"]["message"] == "close")
        .collect();
    let [closed] = closed.as_slice() else {
        panic!("one closing line for the call: {text}");
    };
    let span = &closed["span"];
    assert_eq!(span["function"], "fn.stuck");
    assert_eq!(span["id"], "c-1");
    assert_eq!(span["result"], "cancelled", "{closed}");
    let ran = span["duration_us"].as_u64().expect("a duration");
    assert!(ran >= 20_000, "{closed}");
    assert!(
        span.get("encoding").is_none(),
        "no answer was encoded: {closed}"
    );
}

/// An in-memory log a `fmt` subscriber writes to.
#[cfg(feature = "log-stderr")]
#[derive(Clone, Default)]
struct SharedBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(feature = "log-stderr")]
impl std::io::Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An answer nested deeper than a client reads is replaced by `ErrorUnknown_`: its line
/// names the function, as every other a call logs at `error` does, so the case id leads
/// an operator to the handler at fault without the call's span (at `debug`).
#[test]
fn an_answer_too_deep_to_send_is_logged_with_its_function() {
    let schema = Schema::from_text(r#"[{"fn.deep": {}, "->": [{"Ok_": {"v": "any"}}]}]"#)
        .expect("schema loads");
    let router = FunctionRouter::new().route("fn.deep", |_request: Message| async move {
        let deep = (0..200).fold(Value::Null, |inner, _| Value::Array(vec![inner]));
        let mut payload = serde_json::Map::new();
        payload.insert("v".to_string(), deep);
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let reported = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let hook_saw = std::sync::Arc::clone(&reported);
    let server = Server::builder(schema, router)
        .auth_required(false)
        .on_error(move |error: &telepact::ProcessError| {
            hook_saw.lock().unwrap().push(error.to_string());
        })
        .build()
        .expect("server builds");
    let (lines, responses) = run_logged_on(&server, &[r#"[{}, {"fn.deep": {}}]"#.to_string()]);
    let case_id = responses[0]
        .pointer("/1/ErrorUnknown_/caseId")
        .and_then(Value::as_str)
        .expect("a case id");
    let line = lines
        .iter()
        .find(|line| line.contains(case_id))
        .expect("the case id is logged");
    assert!(line.starts_with("ERROR"), "{line}");
    assert!(line.contains(r#"function="fn.deep""#), "{line}");
    let reported = reported.lock().unwrap();
    assert!(
        reported.iter().any(|error| error.contains("fn.deep")),
        "{reported:?}"
    );
}

/// A subscriber at `error` does not see the warnings of invalid answers: they take
/// nothing of the bound the errors share with them, so a handler's failure after a
/// run of them is still logged.
#[test]
fn warnings_the_subscriber_does_not_take_leave_the_errors_bound_alone() {
    let schema = Schema::from_text(
        r#"[{"fn.invalid": {}, "->": [{"Ok_": {}}]}, {"fn.fail": {}, "->": [{"Ok_": {}}]}]"#,
    )
    .expect("schema loads");
    let router = FunctionRouter::new()
        .route("fn.invalid", |_request: Message| async move {
            let mut payload = serde_json::Map::new();
            payload.insert("extra".to_string(), Value::from(1));
            Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
        })
        .route("fn.fail", |_request: Message| async move {
            Err::<Message, HandlerError>("disk full".into())
        });
    let server = Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds");
    let capture = Capture::up_to(tracing::Level::ERROR);
    tracing::subscriber::with_default(capture.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime starts");
        for _ in 0..50 {
            runtime.block_on(server.process(br#"[{}, {"fn.invalid": {}}]"#));
        }
        runtime.block_on(server.process(br#"[{}, {"fn.fail": {}}]"#));
    });
    let lines = capture.lines();
    assert!(
        lines.iter().any(|line| line.contains("handler failed")),
        "{lines:?}"
    );
}

/// A function of the user's schema marked internal (`$internal: true`, or a name ending
/// in `_`) is the user's to route, as the reference's servers route it to the user's
/// handler: one without a route is warned about as any other. The server answers only
/// the standard functions itself, and said nothing of these, which answered
/// `ErrorUnknown_`.
#[test]
fn an_internal_function_of_the_users_schema_without_a_route_is_warned_about() {
    let schema = Schema::from_text(
        r#"[{"$internal": true, "fn.hidden": {}, "->": [{"Ok_": {}}]},
            {"fn.debug_": {}, "->": [{"Ok_": {}}]},
            {"fn.routed": {}, "->": [{"Ok_": {}}]}]"#,
    )
    .expect("loads");
    let router = FunctionRouter::new().route("fn.routed", |_request: Message| async {
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Default::default()))
    });
    let capture = Capture::default();
    tracing::subscriber::with_default(capture.clone(), || {
        Server::builder(schema, router)
            .auth_required(false)
            .build()
            .expect("server builds")
    });
    let unrouted: Vec<_> = capture
        .lines()
        .into_iter()
        .filter(|line| line.contains("no route"))
        .collect();
    assert_eq!(unrouted.len(), 2, "{unrouted:?}");
    for function in [r#"function="fn.hidden""#, r#"function="fn.debug_""#] {
        let warned = unrouted.iter().any(|line| line.contains(function));
        assert!(warned, "{function}: {unrouted:?}");
    }
}
