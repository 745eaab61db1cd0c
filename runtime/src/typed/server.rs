//! Server glue: a request [`Message`] into typed input and [`Context`], typed output
//! back into a response [`Message`], and the route serving one function of a generated
//! `Handler`.

use std::borrow::Cow;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::FunctionInput;
use crate::binary::{BinaryEncoding, Reader, read_checked_pack};
use crate::message::{CheckedCall, Headers, Message};
use crate::non_finite;
use crate::router::{FunctionRouter, HandlerError, ReadInput};
use crate::validate::{Compiled, Expect, FieldSet, NotRead, read_checked};

/// What a generated handler method sees of a request besides its input.
#[derive(Debug)]
pub struct Context<RequestHeaders, ResponseHeaders> {
    /// Every request header, as received.
    pub raw_headers: Headers,
    /// Values attached before routing: the caller's identity from the auth hook, the
    /// transport's [`PeerAddress`](crate::PeerAddress), over HTTP what tower layers
    /// attached to the request, ...
    pub extensions: http::Extensions,
    /// Typed response headers to send; `None` fields are left out.
    pub response_headers: ResponseHeaders,
    /// Further response headers to send; the typed ones take precedence.
    pub raw_response_headers: Headers,
    /// The function called, to name in a [`DecodeError`].
    function: Cow<'static, str>,
    request_headers: PhantomData<fn() -> RequestHeaders>,
}

impl<Rq, Rs: Default> Default for Context<Rq, Rs> {
    fn default() -> Self {
        Context {
            raw_headers: Headers::new(),
            extensions: http::Extensions::new(),
            response_headers: Rs::default(),
            raw_response_headers: Headers::new(),
            function: Cow::Borrowed(""),
            request_headers: PhantomData,
        }
    }
}

impl<Rq, Rs> Context<Rq, Rs> {
    /// The request headers the schema declares, typed: read from
    /// [`raw_headers`](Self::raw_headers) when asked, so a handler that does not look
    /// at them does not pay for reading them. The server has checked them against the
    /// schema; an error here means a header was changed since, to something the schema
    /// does not allow.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] (part `request headers`) when the headers do not read as `Rq`.
    pub fn headers(&self) -> Result<Rq, DecodeError>
    where
        Rq: DeserializeOwned,
    {
        self.raw_headers.read_as().map_err(|source| DecodeError {
            function: self.function.to_string(),
            part: "request headers",
            source,
        })
    }

    /// Sets the request headers `headers` names in [`raw_headers`](Self::raw_headers)
    /// (replacing those already there): a test's way to hand a handler typed headers.
    ///
    /// # Errors
    ///
    /// The [`serde_json::Error`] of serializing `headers`, or one saying they are not an
    /// object.
    pub fn set_headers(&mut self, headers: &Rq) -> Result<(), serde_json::Error>
    where
        Rq: Serialize,
    {
        let Value::Object(typed) = serde_json::to_value(headers)? else {
            return Err(serde::ser::Error::custom(
                "headers must serialize to an object",
            ));
        };
        self.raw_headers.extend(typed);
        Ok(())
    }
}

/// A request or response did not fit the generated types; `source()` says where and why.
#[derive(Debug, thiserror::Error)]
#[error("{function}: cannot read the {part} as the generated types")]
pub struct DecodeError {
    /// The function the message belongs to.
    pub function: String,
    /// `request headers`, `request body`, `response headers`, `response body`.
    pub part: &'static str,
    /// The deserializer's error.
    #[source]
    pub source: serde_json::Error,
}

/// Splits a request into its typed input and the handler context.
///
/// The input of a binary request to a typed route was read (and checked) with the
/// request; any other is read from the body's JSON values.
///
/// # Errors
///
/// A [`DecodeError`] (part `request body`), as a [`HandlerError`], when the body's
/// payload does not read as `I`.
pub fn decode_request<I, Rq, Rs>(mut request: Message) -> Result<(I, Context<Rq, Rs>), HandlerError>
where
    I: DeserializeOwned + 'static,
    Rs: Default,
{
    let read = request.take_input::<I>();
    let (headers, body, extensions) = request.into_parts();
    let (function, input) = match read {
        Some((function, input)) => (Cow::Borrowed(function), input),
        None => {
            let (function, payload) = body.into_iter().next().unwrap_or_default();
            match serde_json::from_value(payload) {
                Ok(input) => (Cow::Owned(function), input),
                Err(source) => return Err(decode_error(function, "request body", source)),
            }
        }
    };
    let context = Context {
        raw_headers: headers,
        extensions,
        response_headers: Rs::default(),
        raw_response_headers: Headers::new(),
        function,
        request_headers: PhantomData,
    };
    Ok((input, context))
}

fn decode_error(function: String, part: &'static str, source: serde_json::Error) -> HandlerError {
    Box::new(DecodeError {
        function,
        part,
        source,
    })
}

/// Builds the response message from a typed result and the handler's context. The
/// result stays typed: the server writes it as JSON, checking it against the schema as
/// it goes (see [`Message::typed`]).
///
/// # Errors
///
/// A [`HandlerError`] when the context's typed response headers, set by the handler,
/// do not serialize or hold a NaN or an infinity. The result itself is checked when the
/// server writes it.
pub fn encode_response<O, Rq, Rs>(
    output: O,
    context: Context<Rq, Rs>,
) -> Result<Message, HandlerError>
where
    O: Serialize + Send + Sync + 'static,
    Rs: Serialize + Default + PartialEq,
{
    let mut headers = context.raw_response_headers;
    // Typed headers left as they were (none set, the usual case) add nothing: they are
    // not serialized to find that out.
    if context.response_headers != Rs::default()
        && let Value::Object(typed) = non_finite::to_value(&context.response_headers)?
    {
        headers.extend(typed);
    }
    let mut message = Message::typed(headers, output);
    message.extensions = context.extensions;
    // Typed `bytes` are `Bytes`: the server names them in `@base64_`.
    message.mark_bytes();
    Ok(message)
}

/// One function of a generated `Handler` trait `H`: generated code implements it on the
/// function's input type, calling the handler's method for it.
pub trait Route<H, Rq, Rs>: FunctionInput + Send + 'static {
    /// Calls `handler`'s method for this function.
    fn serve(
        handler: &H,
        input: Self,
        context: &mut Context<Rq, Rs>,
    ) -> impl Future<Output = Result<Self::Output, HandlerError>> + Send;
}

/// Adds a route for the function whose input is `I` to `router`, served by `handler`.
/// The request-to-response glue lives here once rather than in every generated route,
/// so a schema's crate does not type-check one async block per function.
pub fn route<H, I, Rq, Rs>(router: &mut FunctionRouter, handler: &Arc<H>)
where
    H: Send + Sync + 'static,
    I: Route<H, Rq, Rs>,
    I::Output: Send + Sync + 'static,
    Rq: DeserializeOwned + Send + 'static,
    Rs: Default + PartialEq + Serialize + Send + 'static,
{
    let routed = Arc::clone(handler);
    router.insert_typed(I::NAME, read_input::<I>(), move |request: Message| {
        let handler = Arc::clone(&routed);
        async move {
            let (input, mut context): (I, Context<Rq, Rs>) = decode_request(request)?;
            let output = I::serve(&handler, input, &mut context).await?;
            encode_response(output, context)
        }
    });
}

/// How the typed route `I` reads its input from a request.
fn read_input<I: FunctionInput>() -> ReadInput {
    ReadInput {
        binary: read_binary_input::<I>,
        json: read_json_input::<I>,
    }
}

/// Reads the input of the typed route `I` from a binary request's payload, checked
/// against the function's arguments as it is read.
fn read_binary_input<I: FunctionInput>(
    payload: &mut Reader<'_>,
    encoding: &BinaryEncoding,
    compiled: &Compiled,
    args: &FieldSet,
) -> Result<CheckedCall, NotRead> {
    let input: I = read_checked_pack(payload, encoding, compiled, Expect::Fields(args))?;
    Ok(CheckedCall::new(I::NAME, input))
}

/// Reads the input of the typed route `I` from a JSON request's payload text, checked
/// against the function's arguments as it is read.
fn read_json_input<I: FunctionInput>(
    payload: &str,
    compiled: &Compiled,
    args: &FieldSet,
) -> Result<CheckedCall, NotRead> {
    let mut json = serde_json::Deserializer::from_str(payload);
    let input: I = read_checked(&mut json, compiled, Expect::Fields(args))?;
    json.end().map_err(|_| NotRead)?;
    Ok(CheckedCall::new(I::NAME, input))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::{Map, json};

    use super::*;

    #[derive(Debug, Default, PartialEq, Deserialize, Serialize)]
    struct Declared {
        #[serde(rename = "@time_", skip_serializing_if = "Option::is_none")]
        time: Option<i64>,
        #[serde(rename = "@note", skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    }

    type TestContext = Context<Declared, Declared>;

    fn called(headers: Value) -> TestContext {
        let mut call = Map::new();
        call.insert("fn.call".into(), json!({}));
        let headers = serde_json::from_value(headers).expect("an object");
        let request = Message::from_body(headers, call);
        let (_, context): (Map<String, Value>, TestContext) =
            decode_request(request).expect("decodes");
        context
    }

    #[test]
    fn typed_headers_are_read_from_the_raw_ones_when_asked() {
        let mut context = called(json!({"@time_": 5000, "@other": true}));
        let expected = Declared {
            time: Some(5000),
            note: None,
        };
        assert_eq!(context.headers().expect("fits"), expected);
        // Read again when asked again: a change to the raw headers shows.
        context.raw_headers.insert("@note", json!("hi"));
        assert_eq!(context.headers().expect("fits").note.as_deref(), Some("hi"));
    }

    #[test]
    fn headers_that_do_not_fit_name_the_function() {
        let context = called(json!({"@time_": "soon"}));
        let error = context.headers().expect_err("a string is no integer");
        assert_eq!(error.function, "fn.call");
        assert_eq!(error.part, "request headers");
    }

    #[test]
    fn a_test_sets_typed_headers_into_the_raw_ones() {
        let mut context = TestContext::default();
        context.raw_headers.insert("@time_", json!(1));
        let typed = Declared {
            time: Some(7),
            note: Some("n".into()),
        };
        context.set_headers(&typed).expect("an object");
        assert_eq!(context.headers().expect("fits"), typed);
        assert_eq!(context.raw_headers.len(), 2);
    }
}
