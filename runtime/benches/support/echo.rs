//! The benchmark handlers, shared by the `process` bench and the `http_throughput`
//! example so both measure the same work: an echo of JSON values, and the same echo
//! as a typed route (what a generated `Handler` registers), whose input a binary
//! request's bytes are read into directly.

use std::sync::Arc;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use telepact::typed::__codegen::{Context, Route, route};
use telepact::typed::FunctionInput;
use telepact::{FunctionRouter, HandlerError, Message};

/// The benchmark's function.
pub(crate) const FUNCTION: &str = "fn.roundTripTypical";

/// Answers `Ok_ {items}` with the request's own `items`, moved rather than copied.
pub(crate) async fn echo(request: Message) -> Result<Message, HandlerError> {
    let items = request
        .into_body()
        .into_iter()
        .next()
        .and_then(|(_, payload)| match payload {
            Value::Object(mut payload) => payload.remove("items"),
            _ => None,
        })
        .unwrap_or(Value::Array(Vec::new()));
    let mut result = Map::new();
    result.insert("items".to_string(), items);
    Ok(Message::new(Default::default(), "Ok_", result))
}

/// A router whose `fn.roundTripTypical` is [`echo`], or with `typed`, the typed echo.
pub(crate) fn echo_router(typed: bool) -> FunctionRouter {
    if !typed {
        return FunctionRouter::new().route(FUNCTION, echo);
    }
    let mut router = FunctionRouter::new();
    route::<TypedEcho, RoundTripTypical, IgnoredAny, ()>(&mut router, &Arc::new(TypedEcho));
    router
}

/// `struct.TypicalItem`, as generated code would type it.
#[derive(Serialize, Deserialize)]
struct TypicalItem {
    #[serde(rename = "accountId")]
    account_id: i64,
    #[serde(rename = "customerName")]
    customer_name: String,
    region: String,
    #[serde(rename = "unitPrice")]
    unit_price: f64,
    quantity: i64,
}

/// The arguments of `fn.roundTripTypical` (and its `Ok_` payload).
#[derive(Serialize, Deserialize)]
struct RoundTripTypical {
    items: Vec<TypicalItem>,
}

#[derive(Serialize, Deserialize)]
enum RoundTripTypicalOutput {
    #[serde(rename = "Ok_")]
    Ok(RoundTripTypical),
}

impl FunctionInput for RoundTripTypical {
    const NAME: &'static str = FUNCTION;
    const RESULT_TAGS: &'static [&'static str] = &["Ok_"];
    type Output = RoundTripTypicalOutput;
}

/// The typed echo's handler.
struct TypedEcho;

impl Route<TypedEcho, IgnoredAny, ()> for RoundTripTypical {
    async fn serve(
        _handler: &TypedEcho,
        input: Self,
        _context: &mut Context<IgnoredAny, ()>,
    ) -> Result<RoundTripTypicalOutput, HandlerError> {
        Ok(RoundTripTypicalOutput::Ok(input))
    }
}
