//! The answers and logs of calls that fail: parse failures, invalid calls and results,
//! refused and failed calls.
//!
//! Marked cold and kept out of line, so that the code of a call that succeeds is not
//! interleaved with theirs: a server runs a call's whole path, code it shares with no
//! other request included, on every call, and the less of it there is, the less of the
//! instruction cache each call needs.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use super::Inner;
use super::catch::caught;
use super::error::{ErrorKind, ProcessError, TooDeep, TooLarge};
use crate::codec::{ParseFailure, to_json};
use crate::message::{Headers, Message, PeerAddress};
use crate::refusal::Refusal;
use crate::router::HandlerError;
use crate::validate::{JSON_NESTING_LIMIT, ValidationFailure, cases_json};

impl Inner {
    /// `ErrorInvalidResponseBody_` or `ErrorInvalidResponseHeaders_` (as `kind` is
    /// [`ErrorKind::ResponseBody`] or [`ErrorKind::ResponseHeaders`]), reported: the
    /// handler's result is not what the schema allows.
    #[cold]
    #[inline(never)]
    pub(super) fn invalid_response(
        &self,
        kind: ErrorKind,
        function: &str,
        failures: Vec<ValidationFailure>,
        headers: Headers,
    ) -> Message {
        let (tag, part) = match kind {
            ErrorKind::ResponseHeaders => ("ErrorInvalidResponseHeaders_", "headers"),
            _ => ("ErrorInvalidResponseBody_", "body"),
        };
        let message = invalid(tag, &failures, headers);
        self.report(
            ProcessError::new(
                kind,
                format!("response {part} of {function} failed validation"),
            )
            .with_function(function)
            .with_failures(failures),
        );
        message
    }

    /// Logs and reports a handler's failure under a fresh case id, which it returns for
    /// the client's `ErrorUnknown_`.
    #[cold]
    #[inline(never)]
    pub(super) fn handler_failed(&self, function: &str, source: HandlerError) -> String {
        let case_id = new_case_id();
        if let Some(left_out) = self.failure_lines.admit() {
            let left_out = (left_out > 0).then_some(left_out);
            tracing::error!(case_id = %case_id, function, error = %crate::ErrorChain(&*source), left_out, "handler failed");
        }
        self.report(
            ProcessError::new(
                ErrorKind::Handler,
                format!("handler failed while handling {function}"),
            )
            .with_function(function)
            .with_source(source)
            .with_case_id(case_id.clone()),
        );
        case_id
    }

    /// `ErrorParseFailure_`, reported: the request is not a Telepact message.
    #[cold]
    #[inline(never)]
    pub(super) fn parse_failure(&self, failure: ParseFailure) -> Message {
        self.report(
            ProcessError::new(ErrorKind::Parse, "request is not a Telepact message")
                .with_source(Box::new(failure)),
        );
        let mut reason = Map::new();
        reason.insert(failure.tag().to_string(), Value::Object(Map::new()));
        let mut payload = Map::new();
        payload.insert(
            "reasons".to_string(),
            Value::Array(vec![Value::Object(reason)]),
        );
        Message::new(Headers::new(), "ErrorParseFailure_", payload)
    }

    /// Logs a failed request (a failure answered `ErrorUnknown_` is logged where it
    /// happens, with its case id) and hands it to the error hook. A schema refusing the
    /// server's own answer is the server's fault, logged at `warn`; a request that is
    /// not a Telepact message is the client's, told to it in the answer and logged at
    /// `debug`, so that no client can fill the log at will.
    #[cold]
    #[inline(never)]
    pub(super) fn report(&self, error: ProcessError) {
        match error.kind() {
            ErrorKind::Handler | ErrorKind::Undeliverable | ErrorKind::Auth | ErrorKind::Hook => {}
            ErrorKind::Parse => {
                let cause = std::error::Error::source(&error)
                    .map(|cause| crate::ErrorChain(cause).to_string());
                tracing::debug!(error = %error, cause, "request failed");
            }
            _ => {
                // The cause is the handler's own error text (never the request's
                // headers); validation failures name the paths the schema refused.
                let cause = std::error::Error::source(&error)
                    .map(|cause| crate::ErrorChain(cause).to_string());
                let failures = Some(error.failures())
                    .filter(|failures| !failures.is_empty())
                    .map(cases_json);
                // A line the subscriber would drop takes nothing of the bound the errors
                // share: at `error`, a run of these would leave them out uncounted.
                if tracing::enabled!(tracing::Level::WARN)
                    && let Some(left_out) = self.failure_lines.admit()
                {
                    let left_out = (left_out > 0).then_some(left_out);
                    tracing::warn!(
                        kind = ?error.kind(),
                        error = %error,
                        cause = cause.as_ref().map(tracing::field::display),
                        failures = failures.as_ref().map(tracing::field::display),
                        left_out,
                        "request failed"
                    );
                }
            }
        }
        self.tell_error_hook(&error);
    }

    /// Hands `error` to the on-error hook. A panic there is logged (within the failure
    /// lines) and goes no further: it would end the call, unanswered.
    fn tell_error_hook(&self, error: &ProcessError) {
        let Some(hook) = &self.on_error else {
            return;
        };
        if let Err(panicked) = caught(|| hook(error))
            && let Some(left_out) = self.failure_lines.admit()
        {
            let left_out = (left_out > 0).then_some(left_out);
            let function = error.function();
            tracing::error!(function, error = %panicked, left_out, "the on-error hook panicked");
        }
    }

    /// Logs, within [`Inner::auth_lines`], a call whose credentials the auth hook
    /// refused (`info`: the kind of credential, the client's address and the hook's
    /// reason, never the credential), and reports it to the error hook.
    #[cold]
    #[inline(never)]
    pub(super) fn auth_refused(&self, function: &str, request: &Message, failure: HandlerError) {
        if let Some(left_out) = self.auth_lines.admit() {
            let left_out = (left_out > 0).then_some(left_out);
            let address = request
                .extensions
                .get::<PeerAddress>()
                .map(|peer| tracing::field::display(peer.0.ip()));
            tracing::info!(
                function,
                credential = credential_kind(request),
                address,
                reason = %crate::ErrorChain(&*failure),
                left_out,
                "credentials refused"
            );
        }
        self.tell_error_hook(&auth_error(function).with_source(failure));
    }

    /// Logs and reports, under a fresh case id which it returns for the client's
    /// `ErrorUnknown_`, a call whose credentials the auth hook could not check (it said
    /// so, panicked or ran out of time): as a handler's failure is, with the kind of
    /// credential and never the credential.
    #[cold]
    #[inline(never)]
    pub(super) fn auth_unchecked(
        &self,
        function: &str,
        request: &Message,
        failure: HandlerError,
    ) -> String {
        let case_id = new_case_id();
        if let Some(left_out) = self.failure_lines.admit() {
            let left_out = (left_out > 0).then_some(left_out);
            let credential = credential_kind(request);
            tracing::error!(case_id = %case_id, function, credential, error = %crate::ErrorChain(&*failure), left_out, "credentials could not be checked");
        }
        let unchecked = ProcessError::new(
            ErrorKind::Auth,
            format!("auth hook could not check a request to {function}"),
        );
        let unchecked = unchecked.with_function(function).with_source(failure);
        self.tell_error_hook(&unchecked.with_case_id(case_id.clone()));
        case_id
    }

    /// Logs an on-request or on-response hook's failure (`what`: `request` or
    /// `response`) on a call of `function` (none for a request that did not parse),
    /// within the failure lines (a client can make a hook fail on every call), and
    /// reports it to the error hook; the call goes on.
    #[cold]
    #[inline(never)]
    pub(super) fn hook_failed(&self, what: &str, function: Option<&str>, error: HandlerError) {
        // The name the client sent, checked or not: as long as its body allows.
        let sent = function;
        let function = function.map(crate::logging::clipped);
        let function = function.as_deref();
        if tracing::enabled!(tracing::Level::WARN)
            && let Some(left_out) = self.failure_lines.admit()
        {
            let left_out = (left_out > 0).then_some(left_out);
            let error = crate::ErrorChain(&*error);
            tracing::warn!(function, %error, left_out, "on-{what} hook failed");
        }
        let message = match function {
            Some(function) => format!("the on-{what} hook failed on {function}"),
            None => format!("the on-{what} hook failed"),
        };
        let error = ProcessError::new(ErrorKind::Hook, message).with_source(error);
        self.report(match sent {
            Some(sent) => error.with_function(sent),
            None => error,
        });
    }
}

/// The auth error a handler's [`Refusal`] answers, logged.
#[cold]
#[inline(never)]
pub(super) fn refused(function: &str, refusal: &Refusal) -> Message {
    // At `debug`: the refusal is the handler's (or policy's) decision, which logs its
    // reasons itself if it wants them kept; the client is told in the answer.
    tracing::debug!(function, reason = %refusal, "call refused");
    refusal.to_message()
}

/// `ErrorInvalidRequestBody_` for a call to a function the schema does not define.
#[cold]
#[inline(never)]
pub(super) fn unknown_function(target: &str, headers: Headers) -> Message {
    let unknown = ValidationFailure {
        path: vec![Value::String(target.to_string())],
        reason: crate::validate::Reason::FunctionUnknown,
    };
    invalid("ErrorInvalidRequestBody_", &[unknown], headers)
}

/// The union tag of a request's `@auth_` (`Password`, `Bearer`): a name the schema
/// declares, checked with the headers before the hook ran.
fn credential_kind(request: &Message) -> Option<String> {
    request
        .headers
        .get("@auth_")
        .and_then(Value::as_object)
        .and_then(|auth| auth.keys().next().cloned())
}

/// What the auth hook's refusal is reported as.
fn auth_error(function: &str) -> ProcessError {
    ProcessError::new(
        ErrorKind::Auth,
        format!("auth hook rejected a request to {function}"),
    )
    .with_function(function)
}

/// The error `tag` with the validation `failures` as its cases.
#[cold]
#[inline(never)]
pub(super) fn invalid(tag: &str, failures: &[ValidationFailure], headers: Headers) -> Message {
    let mut payload = Map::new();
    payload.insert("cases".to_string(), cases_json(failures));
    Message::new(headers, tag, payload)
}

/// `ErrorUnauthenticated_`: the credentials are missing or rejected.
#[cold]
#[inline(never)]
pub(super) fn unauthenticated(headers: Headers) -> Message {
    let mut message = Refusal::Unauthenticated.to_message();
    message.headers = headers;
    message
}

impl Inner {
    /// `ErrorUnknown_` with `headers`, in place of an answer that cannot reach its
    /// client (`source` says why), its case id logged and reported, with its
    /// `function` when known, so the caller learns at once rather than at its deadline.
    #[cold]
    #[inline(never)]
    fn undeliverable(
        &self,
        function: Option<&str>,
        source: HandlerError,
        headers: Headers,
    ) -> Message {
        let case_id = new_case_id();
        let error = ProcessError::new(ErrorKind::Undeliverable, "");
        // The name the client sent, when the answer was too large: clipped.
        let error = match function {
            Some(function) => error.with_function(function),
            None => error,
        };
        if let Some(left_out) = self.failure_lines.admit() {
            let left_out = (left_out > 0).then_some(left_out);
            let function = error.function();
            tracing::error!(case_id = %case_id, function, error = %crate::ErrorChain(&*source), left_out, "response could not be sent");
        }
        let message = match error.function() {
            Some(function) => format!("a response of {function} could not be sent"),
            None => "a response could not be sent".to_string(),
        };
        self.report(
            error
                .with_message(message)
                .with_source(source)
                .with_case_id(case_id.clone()),
        );
        unknown_error(case_id, headers)
    }

    /// [`undeliverable`](Self::undeliverable)'s answer, with `headers`, for an answer of
    /// `function` nested deeper than a client reads.
    #[cold]
    #[inline(never)]
    pub(super) fn too_deep(&self, function: &str, headers: Headers) -> Message {
        let limit = usize::from(JSON_NESTING_LIMIT);
        self.undeliverable(Some(function), Box::new(TooDeep { limit }), headers)
    }

    /// Replaces `response`, encoded in `size` bytes past the transport's `limit`, by
    /// [`undeliverable`](Self::undeliverable)'s answer (keeping the `@id_` echo), and
    /// gives that answer's JSON bytes.
    #[cold]
    #[inline(never)]
    pub(super) fn replace_too_large(
        &self,
        function: Option<&str>,
        response: &mut Message,
        size: usize,
        limit: usize,
    ) -> Vec<u8> {
        let headers = id_echo(&mut response.headers);
        let source = Box::new(TooLarge { size, limit });
        *response = self.undeliverable(function, source, headers);
        json_within(response, limit)
    }
}

/// The headers of an answer that replaces one with `headers`: only its `@id_` echo.
fn id_echo(headers: &mut Headers) -> Headers {
    let mut echo = Headers::new();
    if let Some(id) = headers.remove("@id_") {
        echo.insert("@id_", id);
    }
    echo
}

#[cfg(feature = "nats")]
impl super::Server {
    /// The JSON bytes of `ErrorUnknown_` (logged and reported as
    /// [`ErrorKind::Undeliverable`], naming the call's `function` when known) for a
    /// transport that finds out only as it sends that an answer of `size` bytes is past
    /// its `limit` (the limit lowered after the call was answered); `headers`, the
    /// answer's, give the `@id_` echo.
    pub(crate) fn too_large(
        &self,
        function: Option<&str>,
        size: usize,
        limit: usize,
        mut headers: Headers,
    ) -> Vec<u8> {
        let headers = id_echo(&mut headers);
        let source = Box::new(TooLarge { size, limit });
        let answer = &mut self.inner.undeliverable(function, source, headers);
        json_within(answer, limit)
    }
}

/// The JSON bytes of `answer`, an `ErrorUnknown_` replacing one past `limit`; without
/// its `@id_` echo should that alone keep it past `limit` (an id nearly as long as the
/// request), for an answer without the echo beats none, its caller waiting out its
/// deadline.
fn json_within(answer: &mut Message, limit: usize) -> Vec<u8> {
    let bytes = to_json(answer);
    if bytes.len() <= limit {
        return bytes;
    }
    answer.headers.remove("@id_");
    to_json(answer)
}

/// `ErrorUnknown_` under the case id of the log line that says what failed.
#[cold]
#[inline(never)]
pub(super) fn unknown_error(case_id: String, headers: Headers) -> Message {
    let mut payload = Map::new();
    payload.insert("caseId".to_string(), Value::String(case_id));
    Message::new(headers, "ErrorUnknown_", payload)
}

/// A fresh, unguessable-enough id that ties a client's `ErrorUnknown_` to the log line.
fn new_case_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let half = |salt: u64| {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(count);
        hasher.write_u64(salt);
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(0), half(1))
}
