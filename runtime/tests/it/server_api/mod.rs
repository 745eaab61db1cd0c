//! The server's Rust API: builder options, hooks, middleware and typed extensions; the
//! per-call time limit in [`time_limit`]; `fn.api_`'s answer in [`api_listing`].

mod api_listing;
mod panics;
mod time_limit;

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use telepact::schema::Schema;
use telepact::{
    AuthUnavailable, Authenticated, BoxFuture, BuildError, ErrorKind, FunctionRouter, HandlerError,
    Headers, Message, Middleware, Server,
};

const AUTH_SCHEMA: &str = r#"[
  {"union.Auth_": [{"Token": {"token": "string"}}]},
  {"fn.whoami": {}, "->": [{"Ok_": {"name": "string"}}]},
  {"fn.open": {}, "$authenticated": false, "->": [{"Ok_": {}}]}
]"#;

const PLAIN_SCHEMA: &str = r#"[
  {"struct.Point": {"x": "integer", "y": "integer", "label!": "string"}},
  {"fn.point": {}, "->": [{"Ok_": {"point": "struct.Point", "extra!": "integer"}}]}
]"#;

#[derive(Clone, Debug, PartialEq)]
struct Identity(String);

async fn respond(request: &Message, server: &Server) -> Value {
    let bytes = serde_json::to_vec(&request.to_json()).unwrap();
    serde_json::from_slice(&server.process(&bytes).await.bytes).unwrap()
}

fn call(headers: Value, function: &str) -> Message {
    let Value::Object(headers) = headers else {
        panic!("headers are an object")
    };
    Message::new(headers.into(), function, Default::default())
}

fn auth_server() -> Server {
    let router = FunctionRouter::new()
        .route("fn.whoami", |request: Message| async move {
            let name = request
                .extensions
                .get::<Identity>()
                .map(|identity| identity.0.clone())
                .unwrap_or_default();
            let mut payload = serde_json::Map::new();
            payload.insert("name".to_string(), json!(name));
            Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
        })
        .route("fn.open", |_request: Message| async move {
            Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Default::default()))
        });
    let schema = Schema::from_text(AUTH_SCHEMA).expect("schema loads");
    Server::builder(schema, router)
        .on_auth(|headers: Headers| {
            let token = headers.pointer_token();
            async move {
                match token.as_deref() {
                    Some("alice-token") => {
                        Ok(Authenticated::new().extension(Identity("alice".to_string())))
                    }
                    _ => Err(HandlerError::from("unknown token")),
                }
            }
        })
        .build()
        .expect("server builds")
}

trait TokenOf {
    fn pointer_token(&self) -> Option<String>;
}

impl TokenOf for Headers {
    fn pointer_token(&self) -> Option<String> {
        self.get("@auth_")?
            .pointer("/Token/token")?
            .as_str()
            .map(str::to_string)
    }
}

#[tokio::test]
async fn auth_hook_attaches_a_typed_identity_for_handlers() {
    let server = auth_server();
    let request = call(
        json!({"@auth_": {"Token": {"token": "alice-token"}}}),
        "fn.whoami",
    );
    assert_eq!(
        respond(&request, &server).await,
        json!([{}, {"Ok_": {"name": "alice"}}])
    );
}

#[tokio::test]
async fn missing_or_rejected_credentials_are_unauthenticated() {
    let server = auth_server();
    let expected =
        json!([{}, {"ErrorUnauthenticated_": {"message!": "Valid authentication is required."}}]);
    let missing = call(json!({}), "fn.whoami");
    assert_eq!(respond(&missing, &server).await, expected);
    let rejected = call(
        json!({"@auth_": {"Token": {"token": "mallory"}}}),
        "fn.whoami",
    );
    assert_eq!(respond(&rejected, &server).await, expected);
}

#[tokio::test]
async fn functions_marked_unauthenticated_need_no_credentials() {
    let server = auth_server();
    let request = call(json!({}), "fn.open");
    assert_eq!(respond(&request, &server).await, json!([{}, {"Ok_": {}}]));
}

#[test]
fn a_schema_without_auth_needs_auth_waived() {
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    let built = Server::builder(schema, FunctionRouter::new()).build();
    let Err(error) = built else {
        panic!("built without auth");
    };
    assert!(matches!(error, BuildError::AuthUndefined));
    // What `main` prints when it returns the error with `?`.
    assert!(format!("{error:?}").contains("build with `auth_required(false)`"));
}

/// What the on-error hook saw: kind and case id of each error.
type ErrorLog = Arc<Mutex<Vec<(ErrorKind, Option<String>, Option<String>)>>>;

#[test]
fn a_schema_with_auth_needs_an_auth_hook() {
    let schema = Schema::from_text(AUTH_SCHEMA).expect("schema loads");
    let built = Server::builder(schema, FunctionRouter::new()).build();
    assert!(matches!(built, Err(BuildError::AuthHookMissing)));
}

/// An on-auth hook on a schema without `union.Auth_` would never run: the server
/// refuses to build rather than seem guarded.
#[test]
fn an_auth_hook_the_schema_never_calls_is_refused() {
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    let built = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .on_auth(|_: Headers| async { Ok::<_, HandlerError>(Authenticated::new()) })
        .build();
    let Err(error) = built else {
        panic!("built with a hook that never runs");
    };
    assert!(matches!(error, BuildError::AuthHookUnused), "{error}");
}

/// A route for a function the schema lacks could never be called: the server refuses
/// to build, naming the nearest function.
#[test]
fn a_route_for_a_function_the_schema_lacks_is_refused() {
    let schema = || Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    let misspelt = FunctionRouter::new().route("fn.pong", |_: Message| async {
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Default::default()))
    });
    let Err(error) = Server::builder(schema(), misspelt)
        .auth_required(false)
        .build()
    else {
        panic!("built with a route no call reaches");
    };
    assert_eq!(
        error.to_string(),
        "a route for `fn.pong`, which the schema does not define (did you mean `fn.ping_`?)"
    );
}

fn point_server(errors: ErrorLog) -> Server {
    let router = FunctionRouter::new().route("fn.point", |request: Message| async move {
        if request.headers.contains_key("@fail") {
            return Err(HandlerError::from("database unavailable"));
        }
        let body = json!({"point": {"x": 1, "y": 2, "label!": "origin"}, "extra!": 3});
        let Value::Object(payload) = body else {
            unreachable!()
        };
        Ok(Message::new(Headers::new(), "Ok_", payload))
    });
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    Server::builder(schema, router)
        .auth_required(false)
        .on_error(move |error| {
            errors.lock().unwrap().push((
                error.kind(),
                error.case_id().map(str::to_string),
                std::error::Error::source(error).map(ToString::to_string),
            ));
        })
        .build()
        .expect("server builds")
}

#[tokio::test]
async fn handler_errors_get_a_case_id_reported_to_on_error() {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let server = point_server(Arc::clone(&errors));
    let response = respond(&call(json!({"@fail": true}), "fn.point"), &server).await;
    let case_id = response
        .pointer("/1/ErrorUnknown_/caseId")
        .and_then(Value::as_str)
        .expect("a case id")
        .to_string();
    assert!(!case_id.is_empty());
    let errors = errors.lock().unwrap();
    // The reported error wraps the handler's own.
    let cause = Some("database unavailable".to_string());
    assert_eq!(
        errors.as_slice(),
        &[(ErrorKind::Handler, Some(case_id), cause)]
    );
}

/// A hook that could not check the credentials (its token store is down) says so with
/// `AuthUnavailable`: the call answers `ErrorUnknown_` under a case id reported with the
/// cause, and the client keeps a token that may be good. Any other error of the hook
/// still refuses the credentials. Every hook error answered `ErrorUnauthenticated_`, and
/// a client then dropped its valid token, or signed in again, whenever the store hiccuped.
#[tokio::test]
async fn a_hook_that_could_not_check_answers_error_unknown_and_a_refusal_unauthenticated() {
    let errors: ErrorLog = Arc::new(Mutex::new(Vec::new()));
    let reported = Arc::clone(&errors);
    let schema = Schema::from_text(AUTH_SCHEMA).expect("schema loads");
    let router = FunctionRouter::new().route("fn.whoami", |_request: Message| async move {
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Default::default()))
    });
    let server = Server::builder(schema, router)
        .on_auth(|headers: Headers| {
            let token = headers.pointer_token();
            async move {
                match token.as_deref() {
                    Some("store-down") => {
                        Err(AuthUnavailable::new("token store: connection refused").into())
                    }
                    _ => Err(HandlerError::from("unknown token")),
                }
            }
        })
        .on_error(move |error| {
            reported.lock().unwrap().push((
                error.kind(),
                error.case_id().map(str::to_string),
                std::error::Error::source(error)
                    .map(|cause| telepact::ErrorChain(cause).to_string()),
            ));
        })
        .build()
        .expect("server builds");

    let unchecked = call(
        json!({"@auth_": {"Token": {"token": "store-down"}}}),
        "fn.whoami",
    );
    let answer = respond(&unchecked, &server).await;
    let case_id = answer
        .pointer("/1/ErrorUnknown_/caseId")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("ErrorUnknown_ with a case id: {answer}"))
        .to_string();
    let refused = call(
        json!({"@auth_": {"Token": {"token": "mallory"}}}),
        "fn.whoami",
    );
    let answer = respond(&refused, &server).await;
    assert!(
        answer.pointer("/1/ErrorUnauthenticated_").is_some(),
        "{answer}"
    );

    let cause = "could not check the credentials: token store: connection refused";
    assert_eq!(
        errors.lock().unwrap().as_slice(),
        &[
            (ErrorKind::Auth, Some(case_id), Some(cause.to_string())),
            (ErrorKind::Auth, None, Some("unknown token".to_string())),
        ]
    );
}

/// The on-request hook sees each parsed request once, as sent; the on-response hook
/// each answer once, as sent back (a parse failure's too).
#[tokio::test]
async fn hooks_observe_each_request_and_response_once_as_sent() {
    let seen = Arc::new(Mutex::new(Vec::<(&str, Value)>::new()));
    let (requests, responses) = (Arc::clone(&seen), Arc::clone(&seen));
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    let server = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .on_request(move |request| {
            requests
                .lock()
                .unwrap()
                .push(("request", request.to_json()));
            Ok(())
        })
        .on_response(move |response| {
            responses
                .lock()
                .unwrap()
                .push(("response", response.to_json()));
            Ok(())
        })
        .build()
        .expect("server builds");

    let request = call(json!({"@id_": "a"}), "fn.ping_");
    let response = respond(&request, &server).await;
    assert_eq!(response, json!([{"@id_": "a"}, {"Ok_": {}}]));
    assert_eq!(
        *seen.lock().unwrap(),
        [("request", request.to_json()), ("response", response)]
    );

    seen.lock().unwrap().clear();
    let garbage = server.process(b"[1]").await.bytes;
    let garbage: Value = serde_json::from_slice(&garbage).expect("a JSON answer");
    assert!(garbage.pointer("/1/ErrorParseFailure_").is_some());
    assert_eq!(*seen.lock().unwrap(), [("response", garbage)]);
}

/// A hook that fails does not refuse the call (the hooks observe, as the reference
/// libraries' do): its error is reported to the error hook, and the call is answered.
#[tokio::test]
async fn a_failing_hook_is_reported_and_the_call_goes_on() {
    let reported = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::clone(&reported);
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    let server = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .on_request(|_| Err("the audit log is full".into()))
        .on_response(|_| Err("the metrics sink is gone".into()))
        .on_error(move |error| {
            let source = std::error::Error::source(error).map(ToString::to_string);
            errors
                .lock()
                .unwrap()
                .push((error.kind(), error.to_string(), source));
        })
        .build()
        .expect("server builds");
    let response = respond(&call(json!({}), "fn.ping_"), &server).await;
    assert_eq!(response, json!([{}, {"Ok_": {}}]));
    let hook = |what: &str, cause: &str| {
        (
            ErrorKind::Hook,
            format!("the on-{what} hook failed on fn.ping_"),
            Some(cause.to_string()),
        )
    };
    assert_eq!(
        reported.lock().unwrap().as_slice(),
        [
            hook("request", "the audit log is full"),
            hook("response", "the metrics sink is gone")
        ]
    );
}

/// `@id_` comes back as sent, but a null one (refused: `any` excludes null) is not
/// echoed: the answer's headers would break the schema too.
#[tokio::test]
async fn a_null_id_is_refused_and_not_echoed() {
    let server = point_server(ErrorLog::default());
    let response = respond(&call(json!({"@id_": null}), "fn.point"), &server).await;
    assert_eq!(response[0], json!({}), "{response}");
    assert_eq!(
        response[1]["ErrorInvalidRequestHeaders_"]["cases"][0]["path"],
        json!(["@id_"]),
        "{response}"
    );
    let response = respond(&call(json!({"@id_": [1]}), "fn.point"), &server).await;
    assert_eq!(response[0], json!({"@id_": [1]}), "{response}");
}

#[tokio::test]
async fn invalid_results_are_reported_with_their_failures() {
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    let router = FunctionRouter::new().route("fn.point", |_request: Message| async move {
        let Value::Object(payload) = json!({"point": {"x": "one", "y": 2}}) else {
            unreachable!()
        };
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let reported = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reported);
    let server = Server::builder(schema, router)
        .auth_required(false)
        .on_error(move |error| {
            let paths = error
                .failures()
                .iter()
                .map(|f| Value::Array(f.path.clone()));
            sink.lock().unwrap().extend(paths);
        })
        .build()
        .expect("server builds");
    let response = respond(&call(json!({}), "fn.point"), &server).await;
    assert!(response.pointer("/1/ErrorInvalidResponseBody_").is_some());
    assert_eq!(
        *reported.lock().unwrap(),
        vec![json!(["Ok_", "point", "x"])]
    );
}

#[tokio::test]
async fn select_narrows_struct_fields_and_the_result() {
    let server = point_server(Arc::default());
    let request = call(
        json!({"@select_": {"->": {"Ok_": ["point"]}, "struct.Point": ["x", "label!"]}}),
        "fn.point",
    );
    assert_eq!(
        respond(&request, &server).await,
        json!([{}, {"Ok_": {"point": {"x": 1, "label!": "origin"}}}])
    );
}

/// `@select_` leaves a function link whole, so the link is checked whole too: one whose
/// argument misses a required field the selection names nowhere else is refused, as
/// without `@select_`, not sent.
#[tokio::test]
async fn a_link_in_a_selected_response_is_checked_whole() {
    let text = r#"[{"struct.Ex": {"required": "boolean", "optional!": "boolean"}},
        {"fn.deep": {"value!": "struct.Ex"}, "->": [{"Ok_": {"value!": "struct.Ex", "follow!": "fn.deep"}}]}]"#;
    let router = FunctionRouter::new().route("fn.deep", |_request: Message| async move {
        let follow = json!({"fn.deep": {"value!": {"optional!": false}}});
        let payload = serde_json::Map::from_iter([("follow!".to_string(), follow)]);
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let schema = Schema::from_text(text).expect("schema loads");
    let server = Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds");
    for headers in [json!({}), json!({"@select_": {"struct.Ex": ["optional!"]}})] {
        let response = respond(&call(headers.clone(), "fn.deep"), &server).await;
        assert_eq!(
            response.pointer("/1/ErrorInvalidResponseBody_/cases"),
            Some(&json!([{"path": ["Ok_", "follow!", "fn.deep", "value!"],
                          "reason": {"RequiredObjectKeyMissing": {"key": "required"}}}])),
            "{headers}: {response}"
        );
    }
}

/// A selection in a function link's arguments selects from the linked function's
/// result, as in a call of it.
#[tokio::test]
async fn a_selection_in_a_link_selects_from_the_linked_function() {
    let text = r#"[{"fn.echo": {"link!": "fn.other"}, "->": [{"Ok_": {"mine!": "string"}}]},
        {"fn.other": {"sel!": "_ext.Select_"}, "->": [{"Ok_": {"other!": "string"}}]}]"#;
    let router = FunctionRouter::new().route("fn.echo", |_request: Message| async move {
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Default::default()))
    });
    let schema = Schema::from_text(text).expect("schema loads");
    let server = Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds");
    let request = |names: Value| {
        let link = json!({"fn.other": {"sel!": {"->": {"Ok_": names}}}});
        let payload = serde_json::Map::from_iter([("link!".to_string(), link)]);
        Message::new(Headers::new(), "fn.echo", payload)
    };
    let accepted = respond(&request(json!(["other!"])), &server).await;
    assert_eq!(accepted, json!([{}, {"Ok_": {}}]));
    let refused = respond(&request(json!(["nope!"])), &server).await;
    assert_eq!(
        refused.pointer("/1/ErrorInvalidRequestBody_/cases"),
        Some(
            &json!([{"path": ["fn.echo", "link!", "fn.other", "sel!", "->", "Ok_", 0],
                      "reason": {"ArrayElementDisallowed": {}}}])
        ),
        "{refused}"
    );

    // The generator draws a link's selections from the linked function too.
    use telepact::random::{GenerateOptions, PreparedSchema, RandomGenerator};
    use telepact::schema::{TypeExpr, TypeKind};
    let schema = Schema::from_text(text).expect("schema loads");
    let (echo, _) = schema.function_by_name("fn.echo").expect("defined");
    let ty = TypeExpr {
        kind: TypeKind::FunctionLink(echo),
        nullable: false,
    };
    let prepared = PreparedSchema::new(&schema);
    let mut random = RandomGenerator::new(0, 3);
    for seed in 1..40 {
        random.set_seed(seed);
        let call = random.generate_from(&prepared, &ty, &GenerateOptions::default());
        let bytes = serde_json::to_vec(&json!([{}, call])).unwrap();
        let answer: Value = serde_json::from_slice(&server.process(&bytes).await.bytes).unwrap();
        assert_eq!(answer, json!([{}, {"Ok_": {}}]), "seed {seed}: {call}");
    }
}

#[tokio::test]
async fn update_headers_runs_before_validation() {
    let server = point_server(Arc::default());
    let bytes = br#"[{}, {"fn.point": {}}]"#;
    let response = server
        .process_with(bytes, |headers| {
            headers.insert("@id_".to_string(), json!("set-by-transport"));
        })
        .await;
    let value: Value = serde_json::from_slice(&response.bytes).unwrap();
    assert_eq!(value[0], json!({"@id_": "set-by-transport"}));
}

#[tokio::test]
async fn an_adapter_takes_its_own_headers_out_of_the_response_in_every_encoding() {
    let server = tagging_server();
    for request in [
        &br#"[{}, {"fn.ping_": {}}]"#[..],
        br#"[{"@bin_": []}, {"fn.ping_": {}}]"#,
    ] {
        let mut taken = None;
        let response = server
            .process_adapted(
                request,
                Default::default(),
                |_| {},
                |headers| taken = headers.remove("@seen"),
            )
            .await;
        assert_eq!(taken, Some(json!(true)));
        assert!(!response.headers.contains_key("@seen"));
        let marker = b"@seen";
        let in_body = response.bytes.windows(marker.len()).any(|w| w == marker);
        assert!(
            !in_body,
            "{:?} answer still carries the header",
            response.encoding
        );
    }
}

struct Tagging;

/// A server whose middleware marks every result with `@seen`.
fn tagging_server() -> Server {
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .middleware(Tagging)
        .build()
        .expect("server builds")
}

impl Middleware for Tagging {
    fn call<'a>(
        &'a self,
        request: Message,
        router: &'a FunctionRouter,
    ) -> BoxFuture<'a, Result<Message, HandlerError>> {
        Box::pin(async move {
            let mut result = router.call(request).await?;
            result.headers.insert("@seen".to_string(), json!(true));
            Ok(result)
        })
    }
}

#[tokio::test]
async fn middleware_wraps_the_router() {
    let server = tagging_server();
    let response = respond(&call(json!({}), "fn.ping_"), &server).await;
    assert_eq!(response, json!([{"@seen": true}, {"Ok_": {}}]));
}

#[tokio::test]
async fn api_examples_are_deterministic_protocol_values() {
    let text = r#"[{"struct.Point": {"x": "integer", "y": "string", "tags!": ["boolean"]}},
        {"fn.get": {"p": "struct.Point"}, "->": [{"Ok_": {"p": "struct.Point?"}}]}]"#;
    let schema = Schema::from_text(text).expect("schema loads");
    let server = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .build()
        .expect("server builds");
    let request = Message::new(
        Headers::new(),
        "fn.api_",
        json!({"includeExamples!": true})
            .as_object()
            .cloned()
            .unwrap(),
    );
    let response = respond(&request, &server).await;
    let api = response
        .pointer("/1/Ok_/api")
        .and_then(Value::as_array)
        .unwrap();
    let point = api
        .iter()
        .find(|d| d.get("struct.Point").is_some())
        .unwrap();
    assert_eq!(
        point["example"],
        json!({"tags!": [false, false], "x": 35766321, "y": "kappa"})
    );
    let get = api.iter().find(|d| d.get("fn.get").is_some()).unwrap();
    assert_eq!(
        get["inputExample"],
        json!({"fn.get": {"p": {"tags!": [false, false], "x": 16303881, "y": "sigma"}}})
    );
    assert_eq!(
        respond(&request, &server).await,
        response,
        "same answer every time"
    );
}

#[tokio::test]
async fn closures_become_middleware() {
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    let middleware = telepact::middleware_fn(|request: Message, router: &FunctionRouter| {
        Box::pin(async move {
            let mut result = router.call(request).await?;
            result.headers.insert("@seen".to_string(), json!("closure"));
            Ok(result)
        })
    });
    let server = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .middleware(middleware)
        .build()
        .expect("server builds");
    let response = respond(&call(json!({}), "fn.ping_"), &server).await;
    assert_eq!(response, json!([{"@seen": "closure"}, {"Ok_": {}}]));
}

/// A middleware that records its name on the way in and out.
fn recording(name: &'static str, order: Arc<Mutex<Vec<String>>>) -> impl Middleware {
    telepact::middleware_from_fn(move |request: Message, next: telepact::Next| {
        let order = Arc::clone(&order);
        async move {
            order.lock().unwrap().push(format!("{name} in"));
            let mut result = next.run(request).await?;
            order.lock().unwrap().push(format!("{name} out"));
            result.headers.insert("@last".to_string(), json!(name));
            Ok(result)
        }
    })
}

#[tokio::test]
async fn middlewares_run_in_the_order_added() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    let server = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .middleware(recording("first", Arc::clone(&order)))
        .middleware(Tagging)
        .middleware(recording("third", Arc::clone(&order)))
        .build()
        .expect("server builds");
    let response = respond(&call(json!({}), "fn.ping_"), &server).await;
    // The outermost middleware ("first") touches the result last.
    assert_eq!(
        response,
        json!([{"@last": "first", "@seen": true}, {"Ok_": {}}])
    );
    assert_eq!(
        *order.lock().unwrap(),
        ["first in", "third in", "third out", "first out"]
    );
}

#[tokio::test]
async fn the_server_is_a_tower_service_and_tower_services_are_transports() {
    use tower::ServiceExt;

    let server = tagging_server();
    let response = server
        .clone()
        .oneshot(bytes::Bytes::from_static(br#"[{}, {"fn.ping_": {}}]"#))
        .await
        .expect("infallible");
    assert_eq!(response.bytes, br#"[{"@seen":true},{"Ok_":{}}]"#);

    let service = tower::service_fn(move |request: Vec<u8>| {
        let server = server.clone();
        async move {
            let response = server.oneshot(bytes::Bytes::from(request)).await?;
            Ok::<_, std::convert::Infallible>(response.bytes)
        }
    });
    // A boxed service, which is not `Sync`, makes a transport too.
    let boxed = tower::util::BoxCloneService::new(service.clone());
    for client in [
        telepact::Client::new(telepact::tower::TowerTransport::new(service)),
        telepact::Client::new(telepact::tower::TowerTransport::new(boxed)),
    ] {
        let answer = client
            .request(Message::new(Headers::new(), "fn.ping_", Default::default()))
            .await
            .expect("answered");
        assert_eq!(answer.target(), "Ok_");
        assert_eq!(answer.headers.get("@seen"), Some(&json!(true)));
    }
}
