//! The per-call time limit (`request_timeout`, the client's `@time_`): a call past it
//! answers `ErrorUnknown_` (while the auth hook runs too: the credentials were not
//! checked), is dropped, and is reported to the on-error hook as a
//! [`telepact::TimedOut`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use telepact::schema::Schema;
use telepact::{Authenticated, FunctionRouter, HandlerError, Headers, Message, Server};

use super::{AUTH_SCHEMA, PLAIN_SCHEMA, call, respond};

/// A server whose `fn.point` never answers, limited to `limit`; the on-error hook
/// records whether each reported error is a [`telepact::TimedOut`].
fn stuck_server(limit: Duration, timeouts: Arc<Mutex<Vec<bool>>>) -> Server {
    let router = FunctionRouter::new().route("fn.point", |_request: Message| async move {
        std::future::pending::<()>().await;
        Ok::<_, HandlerError>(Message::default())
    });
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    Server::builder(schema, router)
        .auth_required(false)
        .request_timeout(limit)
        .on_error(record_timeouts(&timeouts))
        .build()
        .expect("server builds")
}

#[tokio::test]
async fn a_call_past_the_time_limit_answers_error_unknown_and_is_reported() {
    let timeouts = Arc::new(Mutex::new(Vec::new()));
    let server = stuck_server(Duration::from_millis(50), Arc::clone(&timeouts));
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        respond(&call(json!({}), "fn.point"), &server),
    )
    .await
    .expect("the server answers at its limit");
    let case_id = answer
        .pointer("/1/ErrorUnknown_/caseId")
        .and_then(Value::as_str);
    assert!(case_id.is_some_and(|id| !id.is_empty()), "{answer}");
    assert_eq!(timeouts.lock().unwrap().as_slice(), &[true]);
}

#[tokio::test]
async fn a_call_that_waits_but_ends_within_the_limit_answers() {
    // Pending when first polled, so the limit's timer is set, and done well before it.
    let router = FunctionRouter::new().route("fn.point", |_request: Message| async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let point = json!({"point": {"x": 1, "y": 2}});
        let payload = point.as_object().cloned().unwrap_or_default();
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    let server = Server::builder(schema, router)
        .auth_required(false)
        .request_timeout(Duration::from_secs(5))
        .build()
        .expect("server builds");
    let answer = respond(&call(json!({}), "fn.point"), &server).await;
    assert_eq!(answer, json!([{}, {"Ok_": {"point": {"x": 1, "y": 2}}}]));
}

#[tokio::test]
async fn a_shorter_time_header_narrows_the_limit() {
    let timeouts = Arc::new(Mutex::new(Vec::new()));
    // An hour for the server; the client's 20 ms is what ends the call.
    let server = stuck_server(Duration::from_secs(3600), Arc::clone(&timeouts));
    answered_at_a_20_ms_time_header(&server).await;
    assert_eq!(timeouts.lock().unwrap().as_slice(), &[true]);
}

/// Calls a stuck `fn.point` with `@time_: 20` and checks that the server answered
/// `ErrorUnknown_` with a case id at the client's limit (within 10 s at the most).
async fn answered_at_a_20_ms_time_header(server: &telepact::Server) {
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        respond(&call(json!({"@time_": 20}), "fn.point"), server),
    )
    .await
    .expect("the server answers at the client's limit");
    assert!(
        answer.pointer("/1/ErrorUnknown_/caseId").is_some(),
        "{answer}"
    );
}

/// Records whether each reported error is a [`telepact::TimedOut`].
fn record_timeouts(timeouts: &Arc<Mutex<Vec<bool>>>) -> impl Fn(&telepact::ProcessError) + use<> {
    let timeouts = Arc::clone(timeouts);
    move |error| {
        let timed_out = std::error::Error::source(error)
            .is_some_and(|source| source.is::<telepact::TimedOut>());
        timeouts.lock().unwrap().push(timed_out);
    }
}

/// An auth server limited to `limit` whose hook answers after `auth` (never: `None`)
/// and whose `fn.whoami` after 100 ms.
fn slow_auth_server(
    auth: Option<Duration>,
    limit: Duration,
    timeouts: &Arc<Mutex<Vec<bool>>>,
) -> Server {
    let router = FunctionRouter::new().route("fn.whoami", |_request: Message| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let payload = json!({"name": "alice"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let schema = Schema::from_text(AUTH_SCHEMA).expect("schema loads");
    Server::builder(schema, router)
        .on_auth(move |_headers: Headers| async move {
            match auth {
                Some(delay) => tokio::time::sleep(delay).await,
                None => std::future::pending().await,
            }
            Ok::<_, HandlerError>(Authenticated::new())
        })
        .request_timeout(limit)
        .on_error(record_timeouts(timeouts))
        .build()
        .expect("server builds")
}

#[tokio::test]
async fn the_time_limit_counts_from_the_request_s_arrival_the_auth_hook_included() {
    let timeouts = Arc::new(Mutex::new(Vec::new()));
    // The hook takes 100 ms and the handler 100 ms more: within the client's 150 ms
    // for each alone, past it for the call.
    let hour = Duration::from_secs(3600);
    let server = slow_auth_server(Some(Duration::from_millis(100)), hour, &timeouts);
    let headers = json!({"@auth_": {"Token": {"token": "any"}}, "@time_": 150});
    let answer = respond(&call(headers, "fn.whoami"), &server).await;
    assert!(
        answer.pointer("/1/ErrorUnknown_/caseId").is_some(),
        "{answer}"
    );
    assert_eq!(timeouts.lock().unwrap().as_slice(), &[true]);
}

/// The hook checked nothing (a slow credential store, say): the call answers
/// `ErrorUnknown_`, so the client keeps credentials that may be good, where
/// `ErrorUnauthenticated_` told it to drop them.
#[tokio::test]
async fn an_auth_hook_past_the_time_limit_is_dropped_and_the_call_answers_error_unknown() {
    let timeouts = Arc::new(Mutex::new(Vec::new()));
    let server = slow_auth_server(None, Duration::from_millis(50), &timeouts);
    let headers = json!({"@auth_": {"Token": {"token": "any"}}});
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        respond(&call(headers, "fn.whoami"), &server),
    )
    .await
    .expect("the server answers at its limit");
    assert!(
        answer.pointer("/1/ErrorUnknown_/caseId").is_some(),
        "{answer}"
    );
    assert_eq!(timeouts.lock().unwrap().as_slice(), &[true]);
}

/// `Duration::MAX`, as no limit, is past any time a clock can tell: the call runs
/// without one (it panicked adding the limit to the request's arrival), and a client's
/// `@time_` still narrows it.
#[tokio::test]
async fn a_limit_too_far_off_for_the_clock_is_no_limit() {
    let timeouts = Arc::new(Mutex::new(Vec::new()));
    let auth = Some(Duration::from_millis(10));
    let server = slow_auth_server(auth, Duration::MAX, &timeouts);
    let headers = json!({"@auth_": {"Token": {"token": "any"}}});
    let answer = respond(&call(headers, "fn.whoami"), &server).await;
    assert_eq!(answer, json!([{}, {"Ok_": {"name": "alice"}}]));

    let server = stuck_server(Duration::MAX, Arc::clone(&timeouts));
    answered_at_a_20_ms_time_header(&server).await;
    assert_eq!(timeouts.lock().unwrap().as_slice(), &[true]);
}
