//! The bakery's generated code compiles without warnings, and an implementation of its
//! `Handler` serves typed calls made through its typed `Client`.

#![deny(warnings)]

include!("../generated/api.rs");

use api::*;
use serde_json::{Value, json};
use telepact::typed::standard::*;
use telepact::typed::{CallError, Reply, UnknownResult};
use telepact::{FunctionRouter, HandlerError, Headers, Message};

/// The identity an auth hook would attach to the request.
#[derive(Clone)]
struct Employee(String);

struct Bakery;

impl Handler for Bakery {
    async fn my_shift(
        &self,
        _input: MyShiftInput,
        context: &mut Context,
    ) -> Result<MyShiftOutput, HandlerError> {
        let Some(Employee(id)) = context.extensions.get::<Employee>().cloned() else {
            return Ok(MyShiftOutput::ErrorUnauthenticated(ErrorUnauthenticated {
                message: Some("who are you?".into()),
            }));
        };
        let station = match context.headers()?.auth {
            Some(Auth::Password(AuthPassword { username, .. })) => format!("oven of {username}"),
            None => "counter".into(),
        };
        context.response_headers.warn = Some(vec![json!("busy day")]);
        Ok(MyShiftOutput::Ok(MyShiftOk {
            employee_id: id,
            station,
            pastry: "croissant".into(),
        }))
    }

    async fn approve_special(
        &self,
        _input: ApproveSpecialInput,
        _context: &mut Context,
    ) -> Result<ApproveSpecialOutput, HandlerError> {
        Err("the special is not ready".into())
    }
}

/// A client whose transport hands the request bytes to `router` directly, attaching
/// an identity the way the server's auth hook would.
fn loopback_client(router: FunctionRouter) -> Client {
    let transport = move |bytes: Vec<u8>| {
        let router = router.clone();
        async move {
            let request = message_from_json(&bytes);
            let response = match router.call(request).await {
                Ok(response) => response,
                Err(error) => Message::new(
                    Headers::new(),
                    "ErrorUnknown_",
                    json_object(json!({"caseId": error.to_string()})),
                ),
            };
            Ok(serde_json::to_vec(&response.to_json()).unwrap())
        }
    };
    Client::new(telepact::Client::new(transport))
}

fn message_from_json(bytes: &[u8]) -> Message {
    let value: Value = serde_json::from_slice(bytes).unwrap();
    let mut message = Message::from_body(
        json_object(value[0].clone()).into(),
        json_object(value[1].clone()),
    );
    message.extensions.insert(Employee("e-17".into()));
    message
}

fn json_object(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// How many times the auth hook was lent the `Auth` the server read with the request.
static LENT_AUTH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A client of a validating server for the bakery schema whose auth hook attaches the
/// caller's identity from a typed `@auth_`.
fn served_client() -> Client {
    let on_auth = |headers: telepact::Headers| {
        let auth = headers.get_as::<Auth>("@auth_").map(|read| {
            read.map(|auth| {
                if matches!(auth, std::borrow::Cow::Borrowed(_)) {
                    LENT_AUTH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                auth.into_owned()
            })
        });
        async move {
            match auth {
                Some(Ok(Auth::Password(AuthPassword { username, .. }))) => {
                    Ok(telepact::Authenticated::new().extension(Employee(username)))
                }
                _ => Err(HandlerError::from("unknown credentials")),
            }
        }
    };
    let server = api::server_builder(Bakery)
        .on_auth(on_auth)
        .build()
        .unwrap();
    let transport = move |bytes: Vec<u8>| {
        let server = server.clone();
        async move { Ok(server.process(&bytes).await.bytes) }
    };
    Client::new(telepact::Client::new(transport))
}

fn password(username: &str) -> RequestHeaders {
    RequestHeaders::default().with_auth(Auth::Password(AuthPassword {
        username: username.into(),
        password: "secret".into(),
    }))
}

#[tokio::test]
async fn through_the_server_the_handler_sees_the_identity_the_auth_hook_attached() {
    let client = served_client();
    let response = client
        .my_shift_with(MyShiftInput {}, password("ana"))
        .await
        .unwrap();
    let Reply::Known(MyShiftOutput::Ok(shift)) = response.output else {
        panic!("expected Ok_, got {:?}", response.output);
    };
    assert_eq!(shift.employee_id, "ana");
    assert_eq!(shift.station, "oven of ana");
    // `server_builder` has the server read `@auth_` into `Auth` with the request.
    assert!(LENT_AUTH.load(std::sync::atomic::Ordering::Relaxed) > 0);
}

#[tokio::test]
async fn through_the_server_errors_arrive_as_typed_result_tags() {
    let client = served_client();
    let response = client.my_shift(MyShiftInput {}).await.unwrap();
    assert!(
        matches!(
            response.output,
            Reply::Known(MyShiftOutput::ErrorUnauthenticated(_))
        ),
        "{:?}",
        response.output
    );
    let response = client
        .approve_special_with(ApproveSpecialInput {}, password("ana"))
        .await
        .unwrap();
    assert!(
        matches!(
            response.output,
            Reply::Known(ApproveSpecialOutput::ErrorUnknown(_))
        ),
        "{:?}",
        response.output
    );
    let response = client.call(PingInput {}).await.unwrap();
    assert_eq!(response.output, PingOutput::Ok(PingOk {}));
}

#[tokio::test]
async fn a_typed_call_reaches_the_handler_and_comes_back_typed() {
    let client = loopback_client(api::router(Bakery));
    let headers = RequestHeaders {
        auth: Some(Auth::Password(AuthPassword {
            username: "ana".into(),
            password: "secret".into(),
        })),
        ..RequestHeaders::default()
    };
    let response = client
        .my_shift_with(MyShiftInput {}, headers)
        .await
        .unwrap();
    assert_eq!(
        response.output,
        MyShiftOutput::Ok(MyShiftOk {
            employee_id: "e-17".into(),
            station: "oven of ana".into(),
            pastry: "croissant".into(),
        })
    );
    assert_eq!(response.headers.warn, Some(vec![json!("busy day")]));
}

#[tokio::test]
async fn a_handler_failure_reaches_the_router_as_an_error() {
    let router = api::router(Bakery);
    let request = Message::new(Headers::new(), "fn.approveSpecial", Default::default());
    let error = router.call(request).await.unwrap_err();
    assert_eq!(error.to_string(), "the special is not ready");
}

#[tokio::test]
async fn a_body_that_does_not_fit_the_input_is_a_handler_error() {
    let router = api::router(Bakery);
    let mut request = Message::default();
    request
        .body_mut()
        .insert("fn.myShift".into(), json!(["not", "an", "object"]));
    let error = router.call(request).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("fn.myShift: cannot read the request body"),
        "{error}"
    );
}

#[tokio::test]
async fn the_server_routes_public_functions_only() {
    let router = api::router(Bakery);
    assert!(router.contains("fn.myShift"));
    assert!(router.contains("fn.approveSpecial"));
    assert!(!router.contains("fn.ping_"));
}

/// A client whose server answers every call with `body`.
fn client_answered_with(body: &'static str) -> Client {
    let transport = move |_bytes: Vec<u8>| async move { Ok(body.as_bytes().to_vec()) };
    Client::new(telepact::Client::new(transport))
}

#[tokio::test]
async fn a_result_tag_from_a_newer_server_reads_as_unknown() {
    let client = client_answered_with(r#"[{}, {"ErrorOutOfFlour": {"since": "6am"}}]"#);
    let response = client.my_shift(MyShiftInput {}).await.unwrap();
    assert_eq!(
        response.output,
        Reply::Unknown(UnknownResult {
            tag: "ErrorOutOfFlour".into(),
            payload: json_object(json!({"since": "6am"})),
        })
    );
    let unknown = response.output.into_known().unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "the result tag `ErrorOutOfFlour` is not in the generated types"
    );

    let ping = client_answered_with(r#"[{}, {"ErrorFromTheFuture": {}}]"#);
    let response = ping.call(PingInput {}).await.unwrap();
    assert!(
        matches!(&response.output, Reply::Unknown(UnknownResult { tag, .. }) if tag == "ErrorFromTheFuture"),
        "{:?}",
        response.output
    );
}

#[tokio::test]
async fn a_known_tag_the_types_cannot_read_is_a_decode_error() {
    let error = client_answered_with(r#"[{}, {"Ok_": {"employeeId": 7}}]"#)
        .my_shift(MyShiftInput {})
        .await
        .unwrap_err();
    assert!(matches!(error, CallError::Decode(_)), "{error}");
    assert_eq!(
        error.to_string(),
        "fn.myShift: cannot read the response body as the generated types"
    );
    assert_eq!(
        telepact::ErrorChain(&error).to_string(),
        "fn.myShift: cannot read the response body as the generated types: \
         the schema refuses it: \
         at Ok_: {\"RequiredObjectKeyMissing\":{\"key\":\"station\"}}; \
         at Ok_: {\"RequiredObjectKeyMissing\":{\"key\":\"pastry\"}}; \
         at Ok_.employeeId: {\"TypeUnexpected\":{\"actual\":{\"Number\":{}},\"expected\":{\"String\":{}}}}"
    );
    let missing = client_answered_with(r#"[{}, {"Ok_": {"employeeId": "e-1"}}]"#)
        .my_shift(MyShiftInput {})
        .await
        .unwrap_err();
    let shown = telepact::ErrorChain(&missing).to_string();
    assert!(
        shown.ends_with("; at Ok_: {\"RequiredObjectKeyMissing\":{\"key\":\"pastry\"}}"),
        "{shown}"
    );
}

#[tokio::test]
async fn extra_headers_travel_with_the_typed_ones() {
    let transport = |bytes: Vec<u8>| async move {
        let request: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(request[0]["@note"], json!("hello"));
        assert_eq!(request[0]["@auth_"]["Password"]["username"], json!("ana"));
        assert_eq!(request[1], json!({"fn.ping_": {}}));
        Ok(br#"[{"@note": "back"}, {"Ok_": {}}]"#.to_vec())
    };
    let client = telepact::Client::new(transport);
    let mut extra = telepact::Headers::new();
    extra.insert("@note", json!("hello"));
    let answers = telepact::ValueValidator::new(api::schema());
    let call = telepact::typed::__codegen::call_with;
    let response: telepact::typed::Response<PingOutput, ResponseHeaders> =
        call(&client, &answers, PingInput {}, &password("ana"), extra)
            .await
            .unwrap();
    assert_eq!(response.output, PingOutput::Ok(PingOk {}));
    assert_eq!(response.raw_headers["@note"], json!("back"));
}

#[tokio::test]
async fn default_headers_go_with_every_call_unless_the_call_sets_its_own() {
    let client = served_client().with_headers(password("ana"));
    let response = client.my_shift(MyShiftInput {}).await.unwrap();
    assert!(
        matches!(&response.output, Reply::Known(MyShiftOutput::Ok(shift)) if shift.employee_id == "ana"),
        "{:?}",
        response.output
    );
    let response = client
        .my_shift_with(MyShiftInput {}, password("bo").with_time(5000))
        .await
        .unwrap();
    assert!(
        matches!(&response.output, Reply::Known(MyShiftOutput::Ok(shift)) if shift.employee_id == "bo"),
        "{:?}",
        response.output
    );
}

#[test]
fn or_defaults_fills_only_the_headers_left_unset() {
    let defaults = password("ana").with_time(100);
    let merged = RequestHeaders::default()
        .with_time(5)
        .with_id(json!(null))
        .or_defaults(&defaults);
    assert_eq!(merged.auth, defaults.auth);
    assert_eq!(merged.time, Some(5));
    assert_eq!(merged.id, Some(Value::Null));
    assert_eq!(merged.select, None);
}

fn select_station() -> telepact::typed::Select {
    let select = json!({"->": {"Ok_": ["station"]}});
    telepact::typed::Select(json_object(select))
}

#[tokio::test]
async fn typed_calls_refuse_a_selection_without_sending_it() {
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&sent);
    let transport = move |_bytes: Vec<u8>| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { Ok(br#"[{}, {"Ok_": {}}]"#.to_vec()) }
    };
    let client = Client::new(telepact::Client::new(transport));
    let headers = RequestHeaders::default().with_select(select_station());
    let error = client
        .my_shift_with(MyShiftInput {}, headers.clone())
        .await
        .unwrap_err();
    assert!(matches!(error, CallError::Selection { .. }), "{error}");
    assert!(error.to_string().contains("call_raw"), "{error}");
    // A selection among the client's default headers is refused too.
    let error = client
        .with_headers(headers)
        .call(PingInput {})
        .await
        .unwrap_err();
    assert!(matches!(error, CallError::Selection { .. }), "{error}");
    assert_eq!(sent.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_typed_selection_returns_what_the_raw_one_does() {
    let client = served_client().with_headers(password("ana"));
    let headers = RequestHeaders::default().with_select(select_station());
    let raw = client.call_raw(MyShiftInput {}, headers).await.unwrap();
    assert_eq!(
        Value::Object(raw.body().clone()),
        json!({"Ok_": {"station": "oven of ana"}})
    );
    assert_eq!(raw.headers["@warn_"], json!(["busy day"]));

    let selection = telepact::typed::Selection::new().ok([select::MyShiftOk::Station]);
    assert_eq!(selection.to_select(), select_station());
    let selected = client
        .call_selected(MyShiftInput {}, &selection)
        .await
        .unwrap();
    assert_eq!(selected.tag, "Ok_");
    assert_eq!(
        selected.ok().cloned().map(Value::Object),
        Some(json!({"station": "oven of ana"}))
    );
    assert_eq!(selected.headers.warn, Some(vec![json!("busy day")]));
    assert_eq!(selected.raw_headers, raw.headers);
}

#[tokio::test]
async fn a_selected_call_takes_headers_and_reads_errors_as_json() {
    let client = served_client().with_headers(password("ana"));
    let selection = telepact::typed::Selection::new().ok([select::MyShiftOk::EmployeeId]);
    let selected = client
        .call_selected_with(MyShiftInput {}, &selection, password("bo"))
        .await
        .unwrap();
    assert_eq!(Value::Object(selected.payload), json!({"employeeId": "bo"}));
    // A selection of no fields keeps none.
    let none = telepact::typed::Selection::new().ok::<select::MyShiftOk, _>([]);
    let selected = client.call_selected(MyShiftInput {}, &none).await.unwrap();
    assert_eq!(Value::Object(selected.payload), json!({}));
    let none = telepact::typed::Selection::new().ok_none();
    let selected = client.call_selected(MyShiftInput {}, &none).await.unwrap();
    assert_eq!(Value::Object(selected.payload), json!({}));
    // Errors come back as they are, tag and payload.
    let selected = served_client()
        .call_selected(MyShiftInput {}, &selection)
        .await
        .unwrap();
    assert_eq!(selected.tag, "ErrorUnauthenticated_");
    assert_eq!(selected.ok(), None);
}

#[test]
fn types_without_numbers_are_eq_and_those_without_json_values_hash() {
    let mut seen = std::collections::HashSet::new();
    assert!(seen.insert(password("ana").auth));
    assert!(!seen.insert(password("ana").auth));
    assert!(seen.insert(Some(Auth::Password(AuthPassword::default()))));
    // Results carry validation failures, whose reasons hold maps: `Eq`, not `Hash`.
    fn assert_eq_impl<T: Eq>() {}
    assert_eq_impl::<MyShiftOutput>();
    assert_eq_impl::<RequestHeaders>();
}

#[test]
fn credentials_stay_out_of_debug_output() {
    let headers = password("ana");
    let printed = format!("{headers:?}");
    assert!(
        printed.contains("auth: Some(Password(AuthPassword { .. }))"),
        "{printed}"
    );
    assert!(!printed.contains("secret"), "{printed}");
    assert!(!printed.contains("ana"), "{printed}");
}

/// `api::schema()` is the schema the module was generated from, whatever the working
/// directory: the same definitions `Schema::from_dir` reads from `api/`.
#[test]
fn the_module_carries_the_schema_it_was_generated_from() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../api");
    let loaded = telepact::schema::Schema::from_dir(dir).unwrap();
    let embedded = api::schema();
    assert_eq!(embedded.original(), loaded.original());
    assert_eq!(embedded.full(), loaded.full());
}

#[tokio::test]
async fn the_generated_mock_answers_its_typed_client_from_typed_stubs() {
    let mock = Mock::new().expect("the schema takes the mock definitions");
    let ok = MyShiftOutput::Ok(MyShiftOk {
        employee_id: "e-1".into(),
        station: "oven".into(),
        pastry: "rye".into(),
    });
    mock.stub(MyShiftInput {}, ok.clone()).await.unwrap();
    let client = mock.client().with_headers(password("anyone"));

    assert_eq!(client.my_shift(MyShiftInput {}).await.unwrap().output, ok);
    mock.verify(MyShiftInput {}, telepact::typed::Times::exactly(1))
        .await
        .unwrap();
    mock.verify_no_more_interactions().await.unwrap();
}
