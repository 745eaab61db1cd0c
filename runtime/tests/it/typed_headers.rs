//! `@auth_` read into a typed value as a typed route's request is read
//! (`ServerBuilder::typed_header`, what a generated `server_builder` asks for): the hook
//! gets the same credentials either way, so a server that reads the header so answers
//! every request, valid, invalid or damaged, exactly as one whose hook reads it from
//! values.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use telepact::schema::Schema;
use telepact::typed::__codegen::{Context, Route, route};
use telepact::typed::FunctionInput;
use telepact::{
    AuthFuture, AuthHook, Authenticated, FunctionRouter, HandlerError, Headers, Server,
};

use crate::typed_answers::text;
use crate::typed_inputs::json_damage;

const SCHEMA: &str = r#"[
  {"union.Auth_": [
    {"Password": {"username": "string", "password": "string", "otp!": "integer"}},
    {"Token": {"token": "string", "scopes!": ["string"]}}
  ]},
  {"fn.whoami": {"loud!": "boolean"}, "->": [{"Ok_": {"who": "string"}}]}
]"#;

/// The credentials as the hook reads them.
#[derive(Debug, Clone, Deserialize)]
enum Auth {
    Password {
        username: String,
        password: String,
        #[serde(rename = "otp!", default)]
        otp: Option<i64>,
    },
    Token {
        token: String,
        #[serde(rename = "scopes!", default)]
        scopes: Option<Vec<String>>,
    },
}

/// Who the hook let in.
#[derive(Debug, Clone)]
struct Who(String);

thread_local! {
    /// Whether the hook last found `@auth_` read typed already (borrowed), rather than
    /// reading it from values itself.
    static FOUND_TYPED: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Lets in a password of `secret` (with any one-time code but 0) and the token `t0k`.
struct Hook;

impl AuthHook for Hook {
    fn authenticate(&self, headers: &Headers) -> AuthFuture {
        let who = match headers.get_as::<Auth>("@auth_") {
            Some(Ok(auth)) => match note_how_read(auth).into_owned() {
                Auth::Password {
                    username,
                    password,
                    otp,
                } if password == "secret" && otp != Some(0) => Some(username),
                Auth::Token { token, scopes } if token == "t0k" => {
                    Some(format!("token:{}", scopes.unwrap_or_default().join(",")))
                }
                _ => None,
            },
            _ => None,
        };
        AuthFuture::ready(match who {
            Some(who) => Ok(Authenticated::new().extension(Who(who))),
            None => Err("rejected".into()),
        })
    }
}

fn note_how_read(auth: Cow<'_, Auth>) -> Cow<'_, Auth> {
    FOUND_TYPED.with(|found| found.set(Some(matches!(auth, Cow::Borrowed(_)))));
    auth
}

#[derive(Serialize, Deserialize)]
struct WhoamiInput {
    #[serde(rename = "loud!", default, skip_serializing_if = "Option::is_none")]
    loud: Option<bool>,
}

impl FunctionInput for WhoamiInput {
    const NAME: &'static str = "fn.whoami";
    const RESULT_TAGS: &'static [&'static str] = &["Ok_"];
    type Output = Value;
}

impl Route<(), IgnoredAny, ()> for WhoamiInput {
    async fn serve(
        _handler: &(),
        input: Self,
        context: &mut Context<IgnoredAny, ()>,
    ) -> Result<Value, HandlerError> {
        let who = context.extensions.get::<Who>().ok_or("no identity")?;
        let who = match input.loud {
            Some(true) => who.0.to_uppercase(),
            _ => who.0.clone(),
        };
        Ok(json!({"Ok_": {"who": who}}))
    }
}

/// A server whose typed route reads `@auth_` typed, and one whose hook reads it from
/// values.
struct Servers {
    typed: Server,
    values: Server,
}

fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let server = |typed_auth: bool| {
            let mut router = FunctionRouter::new();
            route::<(), WhoamiInput, IgnoredAny, ()>(&mut router, &Arc::new(()));
            let schema = Schema::from_text(SCHEMA).expect("the schema loads");
            let builder = Server::builder(schema, router).on_auth(Hook);
            let builder = match typed_auth {
                true => builder.typed_header::<Auth>("@auth_"),
                false => builder,
            };
            builder.build().expect("the server builds")
        };
        Servers {
            typed: server(true),
            values: server(false),
        }
    })
}

impl Servers {
    fn answers(&self, request: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let (typed, values) = self.answers_noting_reads(request);
        (typed.bytes, values.bytes)
    }

    /// Both servers' answers, typed first.
    fn answers_noting_reads(&self, request: &[u8]) -> (Answer, Answer) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let answer = |server: &Server| {
            FOUND_TYPED.with(|found| found.set(None));
            let bytes = runtime.block_on(server.process(request)).bytes;
            Answer {
                bytes,
                found_typed: FOUND_TYPED.with(Cell::get),
            }
        };
        (answer(&self.typed), answer(&self.values))
    }
}

/// A server's answer, and whether its hook found `@auth_` read typed (`None`: the hook
/// read no credentials).
struct Answer {
    bytes: Vec<u8>,
    found_typed: Option<bool>,
}

/// `@auth_` values: credentials that pass, that fail, and that do not fit the schema.
fn auth_value() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        3 => "[a-z]{0,8}",
        1 => Just("secret".to_string()),
        1 => Just("t0k".to_string()),
        1 => "\\PC{0,6}",
    ];
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6..1e6f64).prop_map(Value::from),
        text.clone().prop_map(Value::from),
    ];
    let password = (
        text.clone(),
        prop_oneof![2 => Just("secret".to_string()), 1 => text.clone()],
        prop::option::of(prop_oneof![Just(json!(0)), Just(json!(7)), scalar.clone()]),
    )
        .prop_map(|(username, password, otp)| {
            let mut fields = json!({"username": username, "password": password});
            if let Some(otp) = otp {
                fields["otp!"] = otp;
            }
            json!({"Password": fields})
        });
    let token = (
        prop_oneof![2 => Just("t0k".to_string()), 1 => text.clone()],
        prop::option::of(prop::collection::vec(text.clone(), 0..3)),
    )
        .prop_map(|(token, scopes)| match scopes {
            Some(scopes) => json!({"Token": {"token": token, "scopes!": scopes}}),
            None => json!({"Token": {"token": token}}),
        });
    let misfit = prop_oneof![
        scalar.clone(),
        (text.clone(), scalar.clone()).prop_map(|(key, value)| json!({"Password": {key: value}})),
        scalar
            .clone()
            .prop_map(|value| json!({"Password": {"username": value, "password": "secret"}})),
        scalar.prop_map(|value| json!({"Token": value})),
        Just(
            json!({"Token": {"token": "t0k"}, "Password": {"username": "a", "password": "secret"}})
        ),
        Just(json!({"Other": {}})),
        Just(json!({"Token": {"token": "t0k", "extra": 1}})),
        Just(json!([{"Token": {"token": "t0k"}}])),
    ];
    prop_oneof![3 => password, 2 => token, 2 => misfit]
}

/// A request to `fn.whoami` with `auth` as its `@auth_` (none when `None`).
fn request(auth: Option<Value>, loud: Option<bool>, id: bool) -> Vec<u8> {
    let mut headers = serde_json::Map::new();
    if id {
        headers.insert("@id_".to_string(), json!("call-1"));
    }
    if let Some(auth) = auth {
        headers.insert("@auth_".to_string(), auth);
    }
    let arguments = match loud {
        Some(loud) => json!({"loud!": loud}),
        None => json!({}),
    };
    serde_json::to_vec(&json!([headers, {"fn.whoami": arguments}])).expect("JSON")
}

#[test]
fn both_servers_let_in_and_turn_away_the_same_callers() {
    let servers = servers();
    let cases = [
        (
            json!({"Password": {"username": "ann", "password": "secret"}}),
            r#"{"Ok_":{"who":"ann"}}"#,
        ),
        (
            json!({"Token": {"token": "t0k", "scopes!": ["a"]}}),
            r#"{"Ok_":{"who":"token:a"}}"#,
        ),
        (
            json!({"Password": {"username": "ann", "password": "nope"}}),
            "ErrorUnauthenticated_",
        ),
        (
            json!({"Password": {"username": 1, "password": "secret"}}),
            "ErrorInvalidRequestHeaders_",
        ),
    ];
    for (auth, expected) in cases {
        let request = request(Some(auth), None, false);
        let (typed, values) = servers.answers(&request);
        assert_eq!(text(&typed), text(&values), "{}", text(&request));
        assert!(
            text(&typed).contains(expected),
            "{}: {}",
            text(&request),
            text(&typed)
        );
    }
    let (typed, values) = servers.answers(&request(None, None, true));
    assert_eq!(text(&typed), text(&values));
    assert!(
        text(&typed).contains("ErrorUnauthenticated_"),
        "{}",
        text(&typed)
    );
}

#[test]
fn the_hook_finds_credentials_read_typed_only_where_asked() {
    let auth = json!({"Password": {"username": "ann", "password": "secret", "otp!": 7}});
    let (typed, values) = servers().answers_noting_reads(&request(Some(auth), Some(true), true));
    assert_eq!(text(&typed.bytes), text(&values.bytes));
    let answer = text(&typed.bytes);
    assert!(answer.contains(r#"{"Ok_":{"who":"ANN"}}"#), "{answer}");
    assert_eq!(typed.found_typed, Some(true));
    assert_eq!(values.found_typed, Some(false));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Credentials that pass, fail or do not fit the schema get the same answer from
    /// both servers.
    #[test]
    fn a_typed_auth_header_is_answered_as_a_values_one(
        auth in prop::option::weighted(0.9, auth_value()),
        loud in prop::option::of(any::<bool>()),
        id in any::<bool>(),
    ) {
        let request = request(auth, loud, id);
        let (typed, values) = servers().answers(&request);
        prop_assert_eq!(&typed, &values, "{} / {}", text(&request), text(&typed));
    }

    /// So do such requests with one byte changed, added or taken out, or cut short.
    #[test]
    fn a_damaged_typed_auth_header_is_answered_as_a_values_one(
        auth in auth_value(),
        damage in json_damage(),
    ) {
        let mut request = request(Some(auth), None, false);
        damage.apply(&mut request);
        let (typed, values) = servers().answers(&request);
        prop_assert_eq!(&typed, &values, "{}", text(&request));
    }
}

/// A header declared both ways with different types: `string` in, `integer` out.
const ECHO_SCHEMA: &str = r#"[
  {"headers.Tag": {"@tag": "string"}, "->": {"@tag": "integer"}},
  {"fn.whoami": {"loud!": "boolean"}, "->": [{"Ok_": {"who": "string"}}]}
]"#;

/// A request header checked as a typed route's request is read, then handed back as a
/// response header (middleware echoing the request's headers), is checked against the
/// response header's own type: its check as a request header says nothing of that.
#[tokio::test]
async fn a_request_header_echoed_into_the_response_is_checked_as_a_response_header() {
    let mut router = FunctionRouter::new();
    route::<(), WhoamiInput, IgnoredAny, ()>(&mut router, &Arc::new(()));
    let echo = telepact::middleware_from_fn(
        |mut request: telepact::Message, next: telepact::Next| async move {
            let headers = request.headers.clone();
            request.extensions.insert(Who("echo".to_string()));
            let mut result = next.run(request).await?;
            result.headers = headers;
            Ok(result)
        },
    );
    let schema = Schema::from_text(ECHO_SCHEMA).expect("the schema loads");
    let server = Server::builder(schema, router)
        .auth_required(false)
        .middleware(echo)
        .build()
        .expect("the server builds");
    let refused = json!([{}, {"ErrorInvalidResponseHeaders_": {"cases": [{
        "path": ["@tag"],
        "reason": {"TypeUnexpected": {"actual": {"String": {}}, "expected": {"Integer": {}}}}
    }]}}]);
    // Read by the typed route's reader, and (an escaped name) as values.
    for request in [
        r#"[{"@tag": "seven"}, {"fn.whoami": {}}]"#,
        r#"[{"@t\u0061g": "seven"}, {"fn.whoami": {}}]"#,
    ] {
        let answer = server.process(request.as_bytes()).await;
        let answer: Value = serde_json::from_slice(&answer.bytes).expect("JSON");
        assert_eq!(answer, refused, "{request}");
    }
}
