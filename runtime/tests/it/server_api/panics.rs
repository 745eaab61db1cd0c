//! A panic in a handler, middleware or auth hook answers the call as the server's own
//! failure, whether it comes while the hook's future runs or before the hook has
//! returned one (a closure doing its work ahead of its `async` block, an auth hook
//! deciding at once): it never unwinds through the transport's task, which would drop
//! the connection unanswered.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use telepact::schema::Schema;
use telepact::{
    AuthFuture, AuthHook, ErrorKind, FunctionRouter, HandlerError, Headers, Message, Server,
    middleware_fn,
};

use super::{AUTH_SCHEMA, PLAIN_SCHEMA, call};

/// What the on-error hook heard: each error's kind and its source's text.
type Reported = Arc<Mutex<Vec<(ErrorKind, Option<String>)>>>;

fn recorded(reported: &Reported) -> impl Fn(&telepact::ProcessError) + Send + Sync + 'static {
    let reported = Arc::clone(reported);
    move |error| {
        let source = std::error::Error::source(error).map(ToString::to_string);
        reported.lock().unwrap().push((error.kind(), source));
    }
}

/// The answer to `request`, from a task of its own: a panic that escaped the server
/// fails the task.
async fn answer(server: &Server, request: &Message) -> Value {
    let (server, bytes) = (
        server.clone(),
        serde_json::to_vec(&request.to_json()).unwrap(),
    );
    let answered = tokio::spawn(async move { server.process(&bytes).await }).await;
    let response = answered.expect("the call is answered, its task not ended by a panic");
    serde_json::from_slice(&response.bytes).expect("a JSON answer")
}

fn plain_server(router: FunctionRouter, reported: &Reported) -> telepact::ServerBuilder {
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    Server::builder(schema, router)
        .auth_required(false)
        .on_error(recorded(reported))
}

fn assert_unknown_error_reported(answer: &Value, reported: &Reported, panic: &str) {
    let case_id = answer
        .pointer("/1/ErrorUnknown_/caseId")
        .and_then(Value::as_str);
    assert!(case_id.is_some_and(|id| !id.is_empty()), "{answer}");
    let cause = Some(format!("panicked: {panic}"));
    assert_eq!(*reported.lock().unwrap(), [(ErrorKind::Handler, cause)]);
}

#[tokio::test]
async fn a_handler_that_panics_before_returning_its_future_answers_error_unknown() {
    let reported = Reported::default();
    let router = FunctionRouter::new().route("fn.point", |request: Message| {
        let label = request.payload().and_then(|payload| payload.get("label"));
        let label = label.expect("a label").clone();
        async move {
            let payload = json!({"point": {"x": 1, "y": 2, "label!": label}});
            let payload = payload.as_object().cloned().unwrap_or_default();
            Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
        }
    });
    let server = plain_server(router, &reported).build().expect("builds");

    let answer = answer(&server, &call(json!({}), "fn.point")).await;

    assert_unknown_error_reported(&answer, &reported, "a label");
}

#[tokio::test]
async fn a_middleware_that_panics_before_returning_its_future_answers_error_unknown() {
    let reported = Reported::default();
    let router = FunctionRouter::new().route("fn.point", |_request: Message| async {
        Ok::<_, HandlerError>(Message::default())
    });
    let server = plain_server(router, &reported)
        .middleware(middleware_fn(
            |request: Message, router: &FunctionRouter| {
                assert!(request.headers.contains_key("@tenant"), "no tenant");
                router.call(request)
            },
        ))
        .build()
        .expect("builds");

    let answer = answer(&server, &call(json!({}), "fn.point")).await;

    assert_unknown_error_reported(&answer, &reported, "no tenant");
}

/// A hook deciding at once, as `AuthFuture::ready` invites, and panicking as it does.
struct PanickingHook;

impl AuthHook for PanickingHook {
    fn authenticate(&self, headers: &Headers) -> AuthFuture {
        let token = headers
            .get("@auth_")
            .and_then(|auth| auth.pointer("/Token/token"));
        let token = token.and_then(Value::as_str).unwrap_or_default();
        let number: u64 = token.parse().expect("a numeric token");
        AuthFuture::ready(Err(format!("unknown token {number}").into()))
    }
}

/// A hook that panicked checked nothing: the call answers `ErrorUnknown_` under a case
/// id, as a handler's panic does, so the client keeps its credentials (it was answered
/// `ErrorUnauthenticated_`, which tells a client to drop them).
#[tokio::test]
async fn an_auth_hook_that_panics_before_returning_its_future_answers_error_unknown() {
    let reported = Reported::default();
    let schema = Schema::from_text(AUTH_SCHEMA).expect("schema loads");
    let server = Server::builder(schema, FunctionRouter::new())
        .on_auth(PanickingHook)
        .on_error(recorded(&reported))
        .build()
        .expect("builds");

    let request = call(json!({"@auth_": {"Token": {"token": "abc"}}}), "fn.whoami");
    let answer = answer(&server, &request).await;

    assert!(
        answer.pointer("/1/ErrorUnknown_/caseId").is_some(),
        "{answer}"
    );
    let cause = Some("panicked: a numeric token: ParseIntError { kind: InvalidDigit }".to_string());
    assert_eq!(*reported.lock().unwrap(), [(ErrorKind::Auth, cause)]);
}

/// The observing hooks' panics are their failures: reported (the on-error hook's own,
/// logged), and the call answered as it would have been.
#[tokio::test]
async fn hooks_that_panic_leave_the_call_answered() {
    let reported = Reported::default();
    let server = plain_server(FunctionRouter::new(), &reported)
        .on_request(|request| {
            assert!(request.headers.contains_key("@audit"), "no audit header");
            Ok(())
        })
        .on_response(|_| panic!("the metrics sink is gone"))
        .build()
        .expect("builds");

    let answered = answer(&server, &call(json!({}), "fn.ping_")).await;

    assert_eq!(answered, json!([{}, {"Ok_": {}}]));
    let hook = |cause: &str| (ErrorKind::Hook, Some(format!("panicked: {cause}")));
    assert_eq!(
        *reported.lock().unwrap(),
        [hook("no audit header"), hook("the metrics sink is gone")]
    );

    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    let server = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .on_error(|_| panic!("the error tracker is gone"))
        .build()
        .expect("builds");
    let answer = answer(&server, &call(json!({}), "fn.point")).await;
    assert!(
        answer.pointer("/1/ErrorUnknown_/caseId").is_some(),
        "{answer}"
    );
}

/// An answer whose `Serialize` panics (a hand-written impl of a type the schema maps
/// with `extern_path`, say) is the handler's failure as well: the server writes the
/// answer after the handler returned it, and the panic must not end the call there.
#[tokio::test]
async fn an_answer_that_panics_as_it_is_written_answers_error_unknown() {
    struct Unwritable;
    impl serde::Serialize for Unwritable {
        fn serialize<S: serde::Serializer>(&self, _serializer: S) -> Result<S::Ok, S::Error> {
            panic!("the answer cannot be written")
        }
    }
    let reported = Reported::default();
    let router = FunctionRouter::new().route("fn.point", |_request: Message| async {
        Ok::<_, HandlerError>(Message::typed(Headers::new(), Unwritable))
    });
    let server = plain_server(router, &reported).build().expect("builds");

    for headers in [json!({}), json!({"@select_": {"->": {"Ok_": []}}})] {
        reported.lock().unwrap().clear();
        let answer = answer(&server, &call(headers, "fn.point")).await;
        assert_unknown_error_reported(&answer, &reported, "the answer cannot be written");
    }
}
