//! Client glue: a typed call over the runtime [`Client`].
//!
//! A `@select_` header trims the response below what the generated types describe
//! (required fields go missing, optional ones read as absent), so typed calls refuse it
//! and [`call_raw`] sends it and hands back the trimmed JSON as it came.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::call::FunctionInput;
use super::reply::{Reply, UnknownResult};
use super::server::DecodeError;
use crate::client::{Client, ClientError};
use crate::message::{Headers, Message};

/// A typed response: the function's result and the response headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<Output, ResponseHeaders> {
    /// The result (`Ok_` or one of the errors the function may answer with), or a
    /// result tag the generated types do not know (from a newer server).
    pub output: Reply<Output>,
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
    Encode {
        /// The function called.
        function: String,
        /// The serializer's error.
        reason: String,
    },
    /// The response does not fit the generated types: a known result tag whose payload
    /// they cannot read, or headers they cannot. (An unknown result tag is no error: it
    /// reads as [`Reply::Unknown`].)
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The request carries `@select_`, whose trimmed response the generated types
    /// cannot hold without misreading left-out fields; nothing was sent.
    #[error(
        "{function}: a `@select_` response does not fit the generated types; send it with the generated `Client::call_raw` and read the JSON"
    )]
    Selection {
        /// The function called.
        function: String,
    },
}

/// The header that trims responses.
const SELECT_HEADER: &str = "@select_";

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
/// ones take precedence). Refuses a `@select_` header with [`CallError::Selection`].
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
    let request = encode_request(input, headers, extra)?;
    if request.headers.contains_key(SELECT_HEADER) {
        return Err(CallError::Selection {
            function: I::NAME.into(),
        });
    }
    let response = client.request(request).await?;
    decode_response(I::NAME, I::RESULT_TAGS, response)
}

/// Calls `I::NAME` with typed input and headers (and `extra` ones, which the typed ones
/// override) and returns the response as it came: for `@select_`, whose trimmed result
/// the generated types cannot hold.
pub async fn call_raw<I, Rq>(
    client: &Client,
    input: I,
    headers: &Rq,
    extra: Headers,
) -> Result<Message, CallError>
where
    I: FunctionInput,
    Rq: Serialize,
{
    let request = encode_request(input, headers, extra)?;
    Ok(client.request(request).await?)
}

fn encode_request<I, Rq>(input: I, headers: &Rq, extra: Headers) -> Result<Message, CallError>
where
    I: FunctionInput,
    Rq: Serialize,
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
    Ok(Message::new(all_headers, I::NAME, payload))
}

/// Reads a response: a tag in `known_tags` into the generated result type, any other
/// tag with an object payload as [`Reply::Unknown`].
fn decode_response<O, Rs>(
    function: &str,
    known_tags: &[&str],
    response: Message,
) -> Result<Response<O, Rs>, CallError>
where
    O: DeserializeOwned,
    Rs: DeserializeOwned,
{
    let fail = |part, source| DecodeError {
        function: function.into(),
        part,
        source,
    };
    let output = match unknown_result(known_tags, &response.body) {
        Some(unknown) => Reply::Unknown(unknown),
        None => Reply::Known(
            serde_json::from_value(Value::Object(response.body))
                .map_err(|e| fail("response body", e))?,
        ),
    };
    let headers = serde_json::from_value(Value::Object(response.headers.clone()))
        .map_err(|e| fail("response headers", e))?;
    Ok(Response {
        output,
        headers,
        raw_headers: response.headers,
    })
}

/// The body as an [`UnknownResult`] when it is one tag, not in `known_tags`, with an
/// object payload; anything else is for the generated types to read (or refuse).
fn unknown_result(known_tags: &[&str], body: &Map<String, Value>) -> Option<UnknownResult> {
    let mut entries = body.iter();
    let (Some((tag, Value::Object(payload))), None) = (entries.next(), entries.next()) else {
        return None;
    };
    (!known_tags.contains(&tag.as_str())).then(|| UnknownResult {
        tag: tag.clone(),
        payload: payload.clone(),
    })
}
