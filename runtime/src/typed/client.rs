//! Client glue: a typed call over the runtime [`Client`].

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::call::FunctionInput;
use super::server::DecodeError;
use crate::client::{Client, ClientError};
use crate::message::{Headers, Message};

/// A typed response: the function's result and the response headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<Output, ResponseHeaders> {
    /// The result (`Ok_` or one of the errors the function may answer with).
    pub output: Output,
    /// The response headers the schema declares, typed.
    pub headers: ResponseHeaders,
    /// Every response header, as received.
    pub raw_headers: Headers,
}

/// Why a typed call produced no typed response.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The request could not be sent or no response came back.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The typed input or headers did not serialize to JSON objects.
    #[error("{function}: the request does not serialize: {reason}")]
    Encode { function: String, reason: String },
    /// The response does not fit the generated types (for example a result tag the
    /// schema this code was generated from does not know).
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// Calls `I::NAME` with typed input and headers; decodes the typed response.
pub async fn call<I, Rq, Rs>(
    client: &Client,
    input: I,
    headers: &Rq,
) -> Result<Response<I::Output, Rs>, CallError>
where
    I: FunctionInput,
    Rq: Serialize,
    Rs: DeserializeOwned,
{
    call_with(client, input, headers, Headers::new()).await
}

/// Like [`call`], also sending `extra` headers the schema does not declare (the typed
/// ones take precedence).
pub async fn call_with<I, Rq, Rs>(
    client: &Client,
    input: I,
    headers: &Rq,
    extra: Headers,
) -> Result<Response<I::Output, Rs>, CallError>
where
    I: FunctionInput,
    Rq: Serialize,
    Rs: DeserializeOwned,
{
    let encode = |reason: String| CallError::Encode {
        function: I::NAME.into(),
        reason,
    };
    let payload = match serde_json::to_value(&input).map_err(|e| encode(e.to_string()))? {
        Value::Object(payload) => payload,
        other => return Err(encode(format!("the input is {other}, not an object"))),
    };
    let mut all_headers = extra;
    match serde_json::to_value(headers).map_err(|e| encode(e.to_string()))? {
        Value::Object(typed) => all_headers.extend(typed),
        other => return Err(encode(format!("the headers are {other}, not an object"))),
    };
    let response = client
        .request(Message::new(all_headers, I::NAME, payload))
        .await?;
    decode_response(I::NAME, response)
}

fn decode_response<O, Rs>(function: &str, response: Message) -> Result<Response<O, Rs>, CallError>
where
    O: DeserializeOwned,
    Rs: DeserializeOwned,
{
    let fail = |part, source| DecodeError {
        function: function.into(),
        part,
        source,
    };
    let output = serde_json::from_value(Value::Object(response.body))
        .map_err(|e| fail("response body", e))?;
    let headers = serde_json::from_value(Value::Object(response.headers.clone()))
        .map_err(|e| fail("response headers", e))?;
    Ok(Response {
        output,
        headers,
        raw_headers: response.headers,
    })
}
