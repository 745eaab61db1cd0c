//! Client glue: a typed call over the runtime [`Client`].
//!
//! A `@select_` header trims the response below what the generated types describe:
//! required fields go missing, and an optional field left out would read as absent,
//! which is wrong data rather than an error. So typed calls refuse a raw `@select_`
//! header; [`call_selected`] sends a typed [`Selection`] and hands back the trimmed
//! result as JSON ([`SelectedResponse`]), and [`call_raw`] the whole response as it came.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::call::{Call, FunctionInput};
use super::reply::{Reply, UnknownResult};
use super::select::Selection;
use super::server::DecodeError;
use crate::client::{Client, ClientError};
use crate::message::{Headers, Message};
use crate::non_finite;
use crate::validate::ValidationFailure;
use crate::value_validator::ValueValidator;

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

/// The response to a call with a [`Selection`]: the result as the selection left it, as
/// JSON, and the response headers, typed.
///
/// The result is not read into the generated types: a field the selection left out
/// would be missing (a required one) or read as absent (an optional one, silently
/// wrong). Read the fields you selected from [`payload`](Self::payload).
#[derive(Debug, Clone, PartialEq)]
pub struct SelectedResponse<ResponseHeaders> {
    /// The result tag: `Ok_`, or one of the errors the function may answer with.
    pub tag: String,
    /// The tag's payload, holding only the selected fields of the types the selection
    /// names (and all fields of those it does not).
    pub payload: Map<String, Value>,
    /// The response headers the schema declares, typed.
    pub headers: ResponseHeaders,
    /// Every response header, as received.
    pub raw_headers: Headers,
}

impl<ResponseHeaders> SelectedResponse<ResponseHeaders> {
    /// The payload when the call succeeded (`Ok_`), or `None` for an error.
    pub fn ok(&self) -> Option<&Map<String, Value>> {
        (self.tag == SUCCESS_TAG).then_some(&self.payload)
    }
}

/// Why a typed call produced no typed response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The request could not be sent or no response came back.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The typed input or headers did not serialize to JSON objects, or hold a NaN or an
    /// infinity (JSON has no such number; `serde_json` would write `null`).
    #[error("{function}: the request does not serialize: {reason}")]
    Encode {
        /// The function called.
        function: String,
        /// The serializer's error.
        reason: String,
    },
    /// The response does not fit the generated types: a known result tag whose payload
    /// the schema refuses or they cannot read, or headers they cannot. (An unknown
    /// result tag is no error: it reads as [`Reply::Unknown`]; nor is a key the schema
    /// does not declare, which a newer server may add and which is left out.)
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The request carries a `@select_` header, whose trimmed response the generated
    /// types cannot hold without misreading left-out fields; nothing was sent.
    #[error(
        "{function}: a `@select_` response does not fit the generated types; send a typed selection with the generated `Client::call_selected`, or the header with `Client::call_raw`"
    )]
    Selection {
        /// The function called.
        function: String,
    },
}

/// The header that trims responses.
const SELECT_HEADER: &str = "@select_";

/// The result tag of a call that succeeded.
const SUCCESS_TAG: &str = "Ok_";

/// Calls `I::NAME` with typed input and headers; checks a known result against
/// `answers`, the schema the types were generated from, and decodes the typed response.
///
/// # Errors
///
/// As [`call_with`].
pub async fn call<I, Rq, Rs>(
    client: &Client,
    answers: &ValueValidator,
    input: I,
    headers: &Rq,
) -> Result<Response<I::Output, Rs>, CallError>
where
    I: FunctionInput,
    Rq: Serialize,
    Rs: DeserializeOwned,
{
    call_with(client, answers, input, headers, Headers::new()).await
}

/// Like [`call`], also sending `extra` headers the schema does not declare (the typed
/// ones take precedence). Refuses a `@select_` header with [`CallError::Selection`].
///
/// # Errors
///
/// - [`CallError::Encode`] when the typed headers are not a JSON object, or the input or
///   headers hold a NaN or an infinity.
/// - [`CallError::Selection`] when the headers carry `@select_`; nothing is sent.
/// - [`CallError::Client`] when the request cannot be sent or no usable response comes
///   back (see [`Client::request`]).
/// - [`CallError::Decode`] when the payload of a result tag the generated types know
///   is one `answers` refuses (for anything but a key it does not declare) or does not
///   read as those types, or the response's headers do not read as theirs.
pub async fn call_with<I, Rq, Rs>(
    client: &Client,
    answers: &ValueValidator,
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
    let response = send::<I>(client, request).await?;
    decode_response(I::NAME, I::RESULT_TAGS, answers, response)
}

/// Calls `I::NAME` with typed input and headers (and `extra` ones, which the typed ones
/// override) and returns the response as it came: for `@select_`, whose trimmed result
/// the generated types cannot hold.
///
/// # Errors
///
/// [`CallError::Encode`] and [`CallError::Client`], as [`call_with`] fails with them.
/// The response is not read, so it cannot fail to decode.
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
    send::<I>(client, request).await
}

/// Sends a typed call's request; a body the client could not write (one holding a NaN,
/// say) is the call's [`CallError::Encode`].
async fn send<I: FunctionInput>(client: &Client, request: Message) -> Result<Message, CallError> {
    match client.request(request).await {
        Err(ClientError::Serialization(reason)) => Err(CallError::Encode {
            function: I::NAME.into(),
            reason: reason.to_string(),
        }),
        answer => Ok(answer?),
    }
}

/// Calls `I::NAME` with typed input and headers and `selection` as its `@select_` header
/// (over any the headers carry); returns the trimmed result as JSON.
///
/// # Errors
///
/// [`CallError::Encode`] and [`CallError::Client`], as [`call_with`] fails with them;
/// [`CallError::Decode`] when the body is not one tag with an object payload, or the
/// response's headers do not read as `Rs`.
pub async fn call_selected<I, Rq, Rs>(
    client: &Client,
    input: I,
    selection: &Selection<I>,
    headers: &Rq,
) -> Result<SelectedResponse<Rs>, CallError>
where
    I: FunctionInput,
    Rq: Serialize,
    Rs: DeserializeOwned,
{
    let mut request = encode_request(input, headers, Headers::new())?;
    request
        .headers
        .insert(SELECT_HEADER, Value::Object(selection.to_select().0));
    let response = send::<I>(client, request).await?;
    let Some((tag, payload)) = only_tag(response.body()) else {
        let reason = "expected a result: one tag with an object payload";
        return Err(DecodeError {
            function: I::NAME.into(),
            part: "response body",
            source: serde::de::Error::custom(reason),
        }
        .into());
    };
    Ok(SelectedResponse {
        tag: tag.clone(),
        payload: payload.clone(),
        headers: decode_headers(I::NAME, &response.headers)?,
        raw_headers: response.headers,
    })
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
    let mut all_headers = extra;
    match non_finite::to_value(headers).map_err(encode)? {
        Value::Object(typed) => all_headers.extend(typed),
        other => return Err(encode(format!("the headers are {other}, not an object"))),
    };
    // The input stays typed: the client writes it straight to the request's bytes.
    Ok(Message::typed(all_headers, Call(input)))
}

/// Reads a response: a tag in `known_tags` into the generated result type, any other
/// tag with an object payload as [`Reply::Unknown`].
fn decode_response<O, Rs>(
    function: &str,
    known_tags: &[&str],
    answers: &ValueValidator,
    response: Message,
) -> Result<Response<O, Rs>, CallError>
where
    O: DeserializeOwned,
    Rs: DeserializeOwned,
{
    let (raw_headers, body, _) = response.into_parts();
    check_answer_headers(function, answers, &raw_headers)?;
    let output = match unknown_result(known_tags, &body) {
        Some(unknown) => Reply::Unknown(unknown),
        None => {
            let body = Value::Object(body);
            check_answer(function, answers, &body)?;
            let read = O::deserialize(&body).map_err(|error| located::<O, _>(&body, error));
            Reply::Known(read.map_err(|source| DecodeError {
                function: function.into(),
                part: "response body",
                source,
            })?)
        }
    };
    let headers = decode_headers(function, &raw_headers)?;
    Ok(Response {
        output,
        headers,
        raw_headers,
    })
}

/// Refuses a result `answers` refuses: the generated types read some values the
/// protocol does not allow (`null` for `any`, a struct written as an array), so they
/// are not the check. A key the schema does not declare is allowed, as a newer server
/// may add fields to a result; the types leave it out. A function `answers` does not
/// know (one of another schema) is left to its types.
fn check_answer(function: &str, answers: &ValueValidator, body: &Value) -> Result<(), CallError> {
    match answers.answer_failures(function, body) {
        Some(failures) => refuse_failures(function, "response body", &failures),
        None => Ok(()),
    }
}

/// Refuses response headers `answers` refuses, as [`check_answer`] a result: the
/// generated types read `null` for `@id_` or in `@warn_` as values.
fn check_answer_headers(
    function: &str,
    answers: &ValueValidator,
    headers: &Headers,
) -> Result<(), CallError> {
    match answers.answer_header_failures(function, headers) {
        Some(failures) => refuse_failures(function, "response headers", &failures),
        None => Ok(()),
    }
}

/// The call's error for `failures` of the `part` of an answer; `Ok` when there are none.
fn refuse_failures(
    function: &str,
    part: &'static str,
    failures: &[ValidationFailure],
) -> Result<(), CallError> {
    if failures.is_empty() {
        return Ok(());
    }
    let refused: Vec<String> = failures.iter().map(described).collect();
    let reason = format!("the schema refuses it: {}", refused.join("; "));
    Err(DecodeError {
        function: function.into(),
        part,
        source: serde::de::Error::custom(reason),
    }
    .into())
}

/// `failure` as `at Ok_.items[0]: {"TypeUnexpected": ..}`, the path as the types'
/// own read errors name it.
fn described(failure: &ValidationFailure) -> String {
    let mut path = String::new();
    for step in &failure.path {
        match step {
            Value::String(key) if path.is_empty() => path.push_str(key),
            Value::String(key) => {
                path.push('.');
                path.push_str(key);
            }
            index => path.push_str(&format!("[{index}]")),
        }
    }
    format!("at {path}: {}", failure.reason.to_json())
}

/// The body as an [`UnknownResult`] when it is one tag, not in `known_tags`, with an
/// object payload; anything else is for the generated types to read (or refuse).
fn unknown_result(known_tags: &[&str], body: &Map<String, Value>) -> Option<UnknownResult> {
    let (tag, payload) = only_tag(body)?;
    (!known_tags.contains(&tag.as_str())).then(|| UnknownResult {
        tag: tag.clone(),
        payload: payload.clone(),
    })
}

/// A result body's one tag and its object payload; `None` for any other shape.
fn only_tag(body: &Map<String, Value>) -> Option<(&String, &Map<String, Value>)> {
    let mut entries = body.iter();
    match (entries.next(), entries.next()) {
        (Some((tag, Value::Object(payload))), None) => Some((tag, payload)),
        _ => None,
    }
}

/// The response headers the schema declares, typed.
/// `@base64_`, the protocol's own note of which strings are bytes, is left out: no
/// schema declares it, so a type refusing unknown keys (`deny_unknown_fields`) would
/// refuse every answer holding bytes.
fn decode_headers<Rs: DeserializeOwned>(
    function: &str,
    headers: &Headers,
) -> Result<Rs, CallError> {
    let declared = || headers.deserializer_without("@base64_");
    let read = Rs::deserialize(declared()).map_err(|error| located::<Rs, _>(declared(), error));
    read.map_err(|source| {
        DecodeError {
            function: function.into(),
            part: "response headers",
            source,
        }
        .into()
    })
}

/// `error`, which reading a `T` from `deserializer` gave, with where it happened
/// (`at Ok_.book: missing field `pages``). Run only once a read has failed: tracking
/// the path costs every read.
fn located<'de, T, D>(deserializer: D, error: serde_json::Error) -> serde_json::Error
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de, Error = serde_json::Error>,
{
    match serde_path_to_error::deserialize::<_, T>(deserializer) {
        Err(located) if located.path().iter().next().is_some() => {
            serde::de::Error::custom(format_args!("at {}: {}", located.path(), located.inner()))
        }
        _ => error,
    }
}
