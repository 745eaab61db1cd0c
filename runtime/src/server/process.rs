//! The request pipeline: parse, validate, authenticate, route, validate the result,
//! select, serialize.

mod call_end;
mod deadline;

use std::pin::Pin;
use std::time::Instant;

use tracing::Instrument;

use bytes::Bytes;
use serde_json::{Map, Value};
use telepact_schema::FunctionId;

use super::authenticated::AuthCheck;
use super::call_metrics::FunctionKeys;
use super::call_span::call_span;
use super::catch::{CatchUnwind, caught, start_caught};
use super::error::ErrorKind;
use super::failure::{invalid, refused, unauthenticated, unknown_error, unknown_function};
use super::{AuthFuture, AuthUnavailable, Inner, Response, Server};
use crate::base64_paths;
use crate::binary::{BinaryRequest, says_packed};
use crate::codec::{self, Encoding};
use crate::message::{Headers, Message};
use crate::refusal::Refusal;
use crate::router::{HandlerError, TypedInputs};
use crate::validate::{
    AddedFields, FunctionEntry, Selector, ValidationFailure, Validator, body_nests_too_deep,
    check_request_headers, check_response_headers, header_nests_too_deep, name_result_bytes,
    with_sorted_names,
};
use call_end::CallEnd;
use deadline::{Deadline, within};

impl Server {
    /// Processes one request message (JSON bytes) into a response.
    pub async fn process(&self, bytes: &[u8]) -> Response {
        self.process_with(bytes, |_| {}).await
    }

    /// Like [`process`](Self::process), applying `update_headers` to the request headers
    /// right after parsing, before they are validated and routed.
    pub async fn process_with(
        &self,
        bytes: &[u8],
        update_headers: impl FnOnce(&mut Headers),
    ) -> Response {
        let transport = http::Extensions::new();
        self.process_adapted(bytes, transport, update_headers, |_| {})
            .await
    }

    /// For transport adapters: like [`process_with`](Self::process_with), with
    /// - `transport`: typed values the transport knows about the request (its
    ///   [`PeerAddress`](crate::PeerAddress), say), handed to the auth hook and put into
    ///   the request's [`Message::extensions`];
    /// - `take_response_headers`: applied to the validated response headers just before
    ///   they are observed and serialized, so that a header the transport carries
    ///   itself (a cookie, say) leaves the message in every encoding.
    pub async fn process_adapted(
        &self,
        bytes: &[u8],
        transport: http::Extensions,
        update_request_headers: impl FnOnce(&mut Headers),
        take_response_headers: impl FnOnce(&mut Headers),
    ) -> Response {
        let processed = self.process_from(
            bytes,
            None,
            transport,
            update_request_headers,
            take_response_headers,
            None,
        );
        processed.await.response
    }

    /// [`process_adapted`](Self::process_adapted) for a transport that holds the request
    /// in shared bytes: a typed route's request keeps its payload as a slice of them
    /// rather than a copy. An answer past `answer_limit` bytes, the most the transport
    /// carries, is replaced by `ErrorUnknown_` ([`ErrorKind::Undeliverable`]) before
    /// the call's span and metrics record it, so they tell what the caller got.
    #[cfg(feature = "axum")]
    pub(crate) async fn process_shared(
        &self,
        bytes: &Bytes,
        transport: http::Extensions,
        answer_limit: Option<usize>,
    ) -> Response {
        let processed = self.process_shared_adapted(bytes, transport, answer_limit, |_| {}, |_| {});
        processed.await.response
    }

    /// [`process_shared`](Self::process_shared) with the header adapters of
    /// [`process_adapted`](Self::process_adapted); says too whether the answer was
    /// replaced for passing `answer_limit` (what `take_response_headers` took belongs to
    /// the answer that was not sent).
    #[cfg(any(feature = "axum", feature = "nats"))]
    pub(crate) async fn process_shared_adapted(
        &self,
        bytes: &Bytes,
        transport: http::Extensions,
        answer_limit: Option<usize>,
        update_request_headers: impl FnOnce(&mut Headers),
        take_response_headers: impl FnOnce(&mut Headers),
    ) -> Processed {
        let shared = Some(bytes);
        self.process_from(
            bytes,
            shared,
            transport,
            update_request_headers,
            take_response_headers,
            answer_limit,
        )
        .await
    }

    async fn process_from(
        &self,
        bytes: &[u8],
        shared: Option<&Bytes>,
        transport: http::Extensions,
        update_request_headers: impl FnOnce(&mut Headers),
        take_response_headers: impl FnOnce(&mut Headers),
        answer_limit: Option<usize>,
    ) -> Processed {
        let inner = &*self.inner;
        let request_size = bytes.len();
        let clock = Instant::now();
        let inputs = TypedInputs {
            compiled: &inner.compiled,
            router: &inner.router,
            shared,
            headers: &inner.typed_headers,
        };
        let decoded = codec::decode_request(bytes, &inner.binary, Some(inputs));
        let span = call_span(decoded.as_ref().ok(), &transport);
        // Kept only for an on-response hook's failure or an answer past the limit, whose
        // lines name the call's function.
        let function_name = (inner.on_response.is_some() || answer_limit.is_some())
            .then_some(decoded.as_ref().ok())
            .flatten()
            .map(|request| request.target().to_owned());
        let started = (inner.metrics.is_some() || !span.is_disabled()).then_some(clock);
        // Records the call however it ends: answered below, or cut off, should this
        // future be dropped before.
        let mut call = CallEnd::new(inner, &span, started, request_size);
        let mut binary = None;
        let mut response = match decoded {
            Ok(request) => {
                let answer = inner.begin(
                    request,
                    transport,
                    update_request_headers,
                    &mut binary,
                    &mut call.function,
                    clock,
                );
                answer.instrument(span.clone()).await
            }
            Err(failure) => inner.parse_failure(failure),
        };
        take_response_headers(&mut response.headers);
        let function = function_name.as_deref();
        inner.observe(inner.on_response.as_ref(), &response, "response", function);
        let packed = binary.as_ref().is_some_and(|(_, asked)| asked.packed());
        let binary = binary
            .as_ref()
            .map(|(function, request)| (&*inner.binary, function.as_str(), request));
        let (mut bytes, mut encoding) = codec::encode_response(&mut response, binary);
        let mut replaced = false;
        if let Some(limit) = answer_limit
            && bytes.len() > limit
        {
            bytes = inner.replace_too_large(function, &mut response, bytes.len(), limit);
            encoding = Encoding::Json;
            replaced = true;
        }
        call.answered(&response, encoding, packed, bytes.len());
        let response = Response {
            bytes,
            headers: response.headers,
            encoding,
        };
        Processed {
            response,
            replaced,
            function: function_name,
        }
    }
}

/// Whether an answer nests deeper than a client reads. Its body is measured only when
/// answers with its tag can be that deep (a typed one as values, converted once), or it
/// is `unchecked` (`@unsafe_` kept it from being checked against the schema), and it
/// was not measured before the call: the schema bounds every other. Header values the
/// request carried were measured as it was read.
#[inline(never)]
fn nests_too_deep(
    result: &Message,
    id: FunctionId,
    function: &FunctionEntry,
    unchecked: bool,
) -> bool {
    (!result.headers.is_empty() && headers_nest_too_deep(&result.headers))
        || ((unchecked || function.answer_can_nest_too_deep(result.target()))
            && !result.written_before_for(id)
            && body_too_deep(result))
}

/// Out of line: most answers carry no header.
#[inline(never)]
fn headers_nest_too_deep(headers: &Headers) -> bool {
    let mut values = headers.unchecked().filter_map(|(_, value)| value);
    values.any(header_nests_too_deep)
}

#[cold]
#[inline(never)]
fn body_too_deep(result: &Message) -> bool {
    body_nests_too_deep(result.body())
}

/// What [`Inner::finish`] needs to know of a call besides its result.
struct Finishing<'c> {
    id: FunctionId,
    select: Option<&'c Map<String, Value>>,
    skip_result_validation: bool,
    /// The binary answer the client asked for, if any.
    binary: Option<&'c BinaryRequest>,
}

/// A processed call: its response, and whether that replaces an answer past the
/// transport's limit.
pub(crate) struct Processed {
    pub(crate) response: Response,
    /// Read by the NATS worker, whose bridge's reply headers go with the answer.
    #[cfg_attr(not(feature = "nats"), expect(dead_code))]
    pub(crate) replaced: bool,
    /// The function the request named, when kept (an answer limit was given), for the
    /// lines of a transport that finds out late that the answer cannot be sent.
    #[cfg_attr(not(feature = "nats"), expect(dead_code))]
    pub(crate) function: Option<String>,
}

impl Inner {
    /// Starts answering a parsed request: the work before the first await, in a plain
    /// function, so the caller's future holds only the boxed answer across it, not the
    /// request it was made from.
    ///
    /// Boxed apart from the transport's future, which holds this one's caller: each
    /// then stays small enough for the allocator's per-thread cache (about 1 KB with
    /// glibc), where one box for both was not.
    fn begin<'s: 'a, 'a>(
        &'s self,
        mut request: Message,
        transport: http::Extensions,
        update_headers: impl FnOnce(&mut Headers) + 'a,
        binary: &'a mut Option<(String, BinaryRequest)>,
        function: &mut Option<&'s FunctionKeys>,
        arrived: Instant,
    ) -> Pin<Box<impl Future<Output = Message> + 'a>> {
        if let Some(metric_keys) = &self.metrics {
            let known = request.checked_function();
            *function = Some(metric_keys.function_known(known, request.target()));
        }
        request.extensions.extend(transport);
        self.observe(
            self.on_request.as_ref(),
            &request,
            "request",
            Some(request.target()),
        );
        Box::pin(self.answer(request, update_headers, binary, arrived))
    }

    /// Answers a parsed request that `arrived` then; sets `binary` when (and for which
    /// function) the response may go in binary.
    ///
    /// A plain function returning an `async move` block: an `async fn` would keep its
    /// `request` argument twice in its state (as argument and as local binding).
    #[allow(
        clippy::manual_async_fn,
        reason = "an async fn's state holds `request` twice"
    )]
    fn answer<'a>(
        &'a self,
        mut request: Message,
        update_headers: impl FnOnce(&mut Headers) + 'a,
        binary: &'a mut Option<(String, BinaryRequest)>,
        arrived: Instant,
    ) -> impl Future<Output = Message> + 'a {
        async move {
            update_headers(&mut request.headers);
            if let Some(hook) = &self.on_auth {
                for name in hook.reserved_headers() {
                    request.headers.remove(name);
                }
            }
            // A typed call read in one pass knows its function's id already.
            let known = request
                .checked_function()
                .or_else(|| self.compiled.function_id(request.target()));
            let scope = known.or(self.ping);

            let mut response_headers = Headers::new();
            // A null `@id_` is refused below and not echoed, as in the reference
            // libraries: a response header may not be null either.
            if let Some(id) = request.header("@id_").filter(|id| !id.is_null()) {
                response_headers.insert("@id_".to_string(), id.clone());
            }

            let failures = check_request_headers(&self.compiled, &request.headers, scope);
            if !failures.is_empty() {
                return invalid("ErrorInvalidRequestHeaders_", &failures, response_headers);
            }

            let function = known.map(|id| self.compiled.function(id));
            let deadline = Deadline::of_call(self.request_timeout, &request.headers, arrived);
            if let Some(function) = function.filter(|f| f.requires_auth) {
                let check = self.authenticate(&mut request, &function.name, deadline);
                match check.await {
                    AuthCheck::Passed => {}
                    AuthCheck::Refused => return unauthenticated(response_headers),
                    AuthCheck::Unchecked(case) => return unknown_error(case, response_headers),
                }
            }

            if let Some(asked) = BinaryRequest::from_headers(&request.headers) {
                asked.echo_headers(&mut response_headers);
                *binary = Some((request.target().to_string(), asked));
            }

            let (Some(id), Some(function)) = (known, function) else {
                return unknown_function(request.target(), response_headers);
            };

            // A typed route's input read from the request was checked as it was read.
            if !request.body_checked() {
                let failures = self.check_request_body(id, request.body());
                if !failures.is_empty() {
                    return invalid("ErrorInvalidRequestBody_", &failures, response_headers);
                }
            }

            let select = request
                .header("@select_")
                .and_then(Value::as_object)
                .cloned()
                .map(with_sorted_names);
            let skip_result_validation = request.header("@unsafe_") == Some(&Value::Bool(true));

            let result = match self.route(request, &function.name, deadline).await {
                Ok(result) => result,
                Err(case_id) => return unknown_error(case_id, response_headers),
            };
            // The answer is written (a typed one serialized) after the handler
            // returned it: a panic there is the handler's too, not the transport's.
            let asked = binary.as_ref().map(|(_, asked)| asked);
            let finished = caught(|| {
                let call = Finishing {
                    id,
                    select: select.as_ref(),
                    skip_result_validation,
                    binary: asked,
                };
                self.finish(result, call, &response_headers)
            });
            finished.unwrap_or_else(|panicked| {
                let case_id = self.handler_failed(&function.name, Box::new(panicked));
                unknown_error(case_id, response_headers)
            })
        }
    }

    /// The answer to send of a call's `result`: written or checked against the schema,
    /// its headers checked, `@select_` applied, measured.
    fn finish(
        &self,
        mut result: Message,
        call: Finishing<'_>,
        response_headers: &Headers,
    ) -> Message {
        let Finishing {
            id,
            select,
            skip_result_validation,
            binary,
        } = call;
        let function = self.compiled.function(id);
        if !response_headers.is_empty() {
            result.headers.extend(response_headers.clone());
        }
        // Nothing needs the answer as values: no `@select_` to apply, no packing, no
        // bytes to name (in JSON) or to send raw (in binary). A body written before
        // the call is written in every form already.
        let written = select.is_none()
            && (result.written_before_for(id)
                || match binary {
                    None => {
                        !(result.bytes_marked() && function.result_holds_bytes)
                            && result.write_checked(&self.compiled, &function.result)
                    }
                    Some(asked) => self.write_binary(&mut result, function, asked),
                });
        // Written, it was checked as it was written, `@unsafe_` or not.
        let unchecked = !written && skip_result_validation;
        if !written {
            let checked = self.as_checked_values(
                result,
                id,
                select,
                skip_result_validation,
                response_headers,
            );
            result = match checked {
                Ok(result) => result,
                Err(refused) => return refused,
            };
        }

        let failures =
            check_response_headers(&self.compiled, &result.headers, id, AddedFields::Refused);
        if !failures.is_empty() {
            return self.invalid_response(
                ErrorKind::ResponseHeaders,
                &function.name,
                failures,
                response_headers.clone(),
            );
        }

        if let Some(select) = select {
            let selector = Selector {
                compiled: &self.compiled,
                select,
            };
            selector.apply_result(&function.result, result.body_mut());
        }
        if nests_too_deep(&result, id, function, unchecked) {
            return self.too_deep(&function.name, response_headers.clone());
        }
        // A handler's own `@base64_` (the mock's) named the places before
        // `@select_` took some away: named again from the body as sent. Only `Ok_`
        // goes in binary: a binary client's other results go as JSON, and name theirs.
        let renamed = select.is_some() && result.headers.contains_key(base64_paths::HEADER);
        let in_json = binary.is_none() || result.target() != "Ok_";
        if (result.bytes_marked() || renamed) && in_json && function.result_holds_bytes {
            name_result_bytes(&self.compiled, id, &mut result);
        }
        // The request's extensions (the caller's identity...) stay behind.
        result.extensions = http::Extensions::new();
        result
    }

    /// A result no writer took (untyped, selected, packed or holding bytes) as values,
    /// checked against the schema unless `@unsafe_` asked not to; the answer to send
    /// instead when it cannot be. Out of line: typed answers written as they are
    /// checked never come here, and their path stays shorter for it.
    #[inline(never)]
    fn as_checked_values(
        &self,
        mut result: Message,
        id: FunctionId,
        select: Option<&Map<String, Value>>,
        skip_validation: bool,
        response_headers: &Headers,
    ) -> Result<Message, Message> {
        let function = self.compiled.function(id);
        if let Err(error) = result.convert_typed() {
            let case_id = self.handler_failed(&function.name, error.into());
            return Err(unknown_error(case_id, response_headers.clone()));
        }
        if skip_validation {
            return Ok(result);
        }
        let mut validator = Validator::new(&self.compiled, Some(id)).with_select(select);
        validator.check_union_map(&function.result, result.body());
        let failures = validator.into_failures();
        if failures.is_empty() {
            return Ok(result);
        }
        Err(self.invalid_response(
            ErrorKind::ResponseBody,
            &function.name,
            failures,
            result.headers,
        ))
    }

    /// Writes a typed `Ok_` answer as the MessagePack body of its binary answer, checked
    /// as it goes, when the answer is neither packed nor able to hold `bytes` (which
    /// travel raw where the schema puts them). Every other result is answered in JSON.
    fn write_binary(
        &self,
        result: &mut Message,
        function: &FunctionEntry,
        asked: &BinaryRequest,
    ) -> bool {
        !asked.packed()
            && !says_packed(&result.headers)
            && !function.result_holds_bytes
            && result.target() == "Ok_"
            && result.write_checked_binary(&self.compiled, &function.result, self.binary.encoding())
    }

    fn check_request_body(
        &self,
        id: FunctionId,
        body: &Map<String, Value>,
    ) -> Vec<ValidationFailure> {
        let mut validator = Validator::new(&self.compiled, Some(id));
        validator.check_call_map(id, body);
        validator.into_failures()
    }

    /// Runs the on-auth hook, within the call's time limit, and merges what it returns
    /// into the request. Refused when the credentials are missing or rejected, or when no
    /// hook is installed; unchecked when the hook says it could not check them
    /// ([`AuthUnavailable`]), panics or runs past the limit.
    async fn authenticate(
        &self,
        request: &mut Message,
        function: &str,
        deadline: Option<Deadline>,
    ) -> AuthCheck {
        let Some(hook) = &self.on_auth else {
            return AuthCheck::Refused;
        };
        if !request.headers.contains_key("@auth_") {
            return AuthCheck::Refused;
        }
        let check = start_caught(
            || hook.authenticate_request(&request.headers, &request.extensions),
            |panicking| AuthFuture::new(panicking.resume()),
        );
        let check = CatchUnwind::new(check);
        let outcome = match deadline {
            Some(deadline) => within(deadline, check).await,
            None => Ok(check.await),
        };
        let failure: HandlerError = match outcome {
            Ok(Ok(Ok(auth))) => {
                auth.merge_into(&mut request.headers, &mut request.extensions);
                return AuthCheck::Passed;
            }
            Ok(Ok(Err(e))) if !e.is::<AuthUnavailable>() => {
                self.auth_refused(function, request, e);
                return AuthCheck::Refused;
            }
            Ok(Ok(Err(unavailable))) => unavailable,
            Ok(Err(panic)) => Box::new(panic),
            Err(timed_out) => Box::new(timed_out),
        };
        AuthCheck::Unchecked(self.auth_unchecked(function, request, failure))
    }

    /// Calls middleware and handler within the call's `deadline` (the auth hook's time
    /// counted in it); a [`Refusal`] answers its auth error, any other failure, panic or
    /// timeout is logged under a fresh case id.
    ///
    /// The request goes into the middleware's boxed future before anything is awaited,
    /// so the returned future holds only that box and the deadline.
    fn route<'a>(
        &'a self,
        request: Message,
        function: &'a str,
        deadline: Option<Deadline>,
    ) -> impl Future<Output = Result<Message, String>> + 'a {
        let call = start_caught(
            || self.middleware.call(request, &self.router),
            |panicking| Box::pin(panicking.resume()),
        );
        let call = CatchUnwind::new(call);
        async move {
            let outcome = match deadline {
                Some(deadline) => within(deadline, call)
                    .await
                    .unwrap_or_else(|timed_out| Ok(Err(Box::new(timed_out)))),
                None => call.await,
            };
            let source: HandlerError = match outcome {
                Ok(Ok(result)) => return Ok(result),
                Ok(Err(e)) => match e.downcast::<Refusal>() {
                    Ok(refusal) => return Ok(refused(function, &refusal)),
                    Err(other) => other,
                },
                Err(panic) => Box::new(panic),
            };
            Err(self.handler_failed(function, source))
        }
    }
}
