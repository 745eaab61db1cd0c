//! The benchmark handler, shared by the `process` bench and the `http_throughput`
//! example so both measure the same work.

use serde_json::{Map, Value};
use telepact::{HandlerError, Message};

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
    Ok(Message::new(Map::new(), "Ok_", result))
}
