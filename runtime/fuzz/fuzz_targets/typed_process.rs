//! Feeds arbitrary bytes to two servers of one schema: one whose route is typed (its
//! input read and checked in one pass, `@auth_` read into a typed value, its answer
//! written checked), one whose route and hook see JSON values. Both must answer, never
//! panic, and answer alike.

#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use telepact::schema::Schema;
use telepact::typed::__codegen::{Context, Route, route};
use telepact::typed::FunctionInput;
use telepact::{
    AuthFuture, AuthHook, Authenticated, FunctionRouter, HandlerError, Headers, Message, Server,
};

#[path = "support.rs"]
mod support;
use support::{assert_one_body_entry, run};

const SCHEMA: &str = r#"[
  {"union.Auth_": [{"Password": {"username": "string", "password": "string"}}]},
  {"struct.Item": {"id": "integer", "name!": "string?", "tags!": ["string"], "price!": "number"}},
  {"union.Shape": [{"Circle": {"r": "number"}}, {"Square": {"side": "number"}}]},
  {"fn.put": {"items": ["struct.Item"], "shape!": "union.Shape", "note!": "string?"},
   "->": [{"Ok_": {"who": "string", "count": "integer", "shape!": "string"}}]}
]"#;

#[derive(Clone, Deserialize)]
enum Auth {
    Password { username: String, password: String },
}

/// Who the hook let in.
#[derive(Clone)]
struct Who(String);

/// Lets in a password of `secret`; `@auth_` read typed or from values alike.
struct Hook;

impl AuthHook for Hook {
    fn authenticate(&self, headers: &Headers) -> AuthFuture {
        let who = match headers.get_as::<Auth>("@auth_") {
            Some(Ok(auth)) => match auth.into_owned() {
                Auth::Password { username, password } if password == "secret" => Some(username),
                Auth::Password { .. } => None,
            },
            _ => None,
        };
        AuthFuture::ready(match who {
            Some(who) => Ok(Authenticated::new().extension(Who(who))),
            None => Err("rejected".into()),
        })
    }
}

#[derive(Serialize, Deserialize)]
#[allow(dead_code, reason = "read to be checked, not used")]
struct Item {
    id: i64,
    #[serde(rename = "name!", default, skip_serializing_if = "Option::is_none")]
    name: Option<Option<String>>,
    #[serde(rename = "tags!", default, skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<String>>,
    #[serde(rename = "price!", default, skip_serializing_if = "Option::is_none")]
    price: Option<f64>,
}

#[derive(Serialize, Deserialize)]
enum Shape {
    Circle { r: f64 },
    Square { side: f64 },
}

#[derive(Serialize, Deserialize)]
struct PutInput {
    items: Vec<Item>,
    #[serde(rename = "shape!", default, skip_serializing_if = "Option::is_none")]
    shape: Option<Shape>,
    #[serde(rename = "note!", default, skip_serializing_if = "Option::is_none")]
    note: Option<Option<String>>,
}

#[derive(Serialize, Deserialize)]
enum PutOutput {
    #[serde(rename = "Ok_")]
    Ok {
        who: String,
        count: i64,
        #[serde(rename = "shape!", skip_serializing_if = "Option::is_none")]
        shape: Option<String>,
    },
}

impl FunctionInput for PutInput {
    const NAME: &'static str = "fn.put";
    const RESULT_TAGS: &'static [&'static str] = &["Ok_"];
    type Output = PutOutput;
}

impl Route<(), IgnoredAny, ()> for PutInput {
    async fn serve(
        _handler: &(),
        input: Self,
        context: &mut Context<IgnoredAny, ()>,
    ) -> Result<PutOutput, HandlerError> {
        let who = context.extensions.get::<Who>().ok_or("no identity")?;
        Ok(PutOutput::Ok {
            who: who.0.clone(),
            count: i64::try_from(input.items.len())?,
            shape: input.shape.map(|shape| match shape {
                Shape::Circle { .. } => "Circle".to_string(),
                Shape::Square { .. } => "Square".to_string(),
            }),
        })
    }
}

/// The answer of the values server's route: what the typed route answers, from values.
async fn put_from_values(request: Message) -> Result<Message, HandlerError> {
    let who = request
        .extensions
        .get::<Who>()
        .ok_or("no identity")?
        .0
        .clone();
    let payload = request.payload().cloned().unwrap_or_default();
    let count = payload
        .get("items")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let mut answer = Map::new();
    answer.insert("who".to_string(), json!(who));
    answer.insert("count".to_string(), json!(count));
    let shape = payload.get("shape!").and_then(Value::as_object);
    if let Some(tag) = shape.and_then(|shape| shape.keys().next()) {
        answer.insert("shape!".to_string(), json!(tag));
    }
    Ok(Message::new(Headers::new(), "Ok_", answer))
}

fn servers() -> &'static (Server, Server) {
    static SERVERS: OnceLock<(Server, Server)> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let schema = || Schema::from_text(SCHEMA).expect("fuzz schema loads");
        let mut typed = FunctionRouter::new();
        route::<(), PutInput, IgnoredAny, ()>(&mut typed, &Arc::new(()));
        let typed = Server::builder(schema(), typed)
            .on_auth(Hook)
            .typed_header::<Auth>("@auth_")
            .build()
            .expect("fuzz server builds");
        let values = FunctionRouter::new().route("fn.put", put_from_values);
        let values = Server::builder(schema(), values)
            .on_auth(Hook)
            .build()
            .expect("fuzz server builds");
        (typed, values)
    })
}

fuzz_target!(|data: &[u8]| {
    let (typed, values) = servers();
    let typed = run(typed.process(data));
    let values = run(values.process(data));
    assert_one_body_entry(&typed);
    assert_eq!(
        typed.bytes,
        values.bytes,
        "{}",
        String::from_utf8_lossy(&typed.bytes)
    );
});
