//! Errors the server reports: to its on-error hook while processing, and at construction.

use std::fmt;

use crate::router::HandlerError;
use crate::validate::ValidationFailure;

/// Where in processing an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request bytes were not a Telepact message.
    Parse,
    /// The on-auth hook refused the credentials (the client got `ErrorUnauthenticated_`),
    /// or could not check them: it returned [`AuthUnavailable`](crate::AuthUnavailable),
    /// panicked or ran past the time limit (the client got `ErrorUnknown_` with the
    /// error's [`case_id`](ProcessError::case_id)).
    Auth,
    /// Middleware or a handler failed or panicked (the client got `ErrorUnknown_`).
    Handler,
    /// The handler's result body failed validation (`ErrorInvalidResponseBody_`).
    ResponseBody,
    /// The response headers failed validation (`ErrorInvalidResponseHeaders_`).
    ResponseHeaders,
    /// The response could not reach the client: too large for its transport (a NATS
    /// reply past the server's `max_payload`, [`TooLarge`]) or nested deeper than a
    /// client reads ([`TooDeep`]); the client got `ErrorUnknown_` instead.
    Undeliverable,
    /// The on-request or on-response hook returned an error. The hooks observe the
    /// call; it went on as if they had not failed.
    Hook,
}

/// The source of an [`ErrorKind::Handler`] error when a call ran past its time limit
/// (see [`ServerBuilder::request_timeout`](crate::ServerBuilder::request_timeout)).
#[derive(Debug, thiserror::Error)]
#[error("no answer within {} ms", .0.as_millis())]
pub struct TimedOut(pub std::time::Duration);

/// The source of an [`ErrorKind::Undeliverable`] error: an answer past the most its
/// transport carries (a NATS server's `max_payload`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{size} bytes are past the transport's limit of {limit} bytes")]
#[non_exhaustive]
pub struct TooLarge {
    /// The answer's size in bytes, as encoded.
    pub size: usize,
    /// The most the transport carries, in bytes.
    pub limit: usize,
}

/// The source of an [`ErrorKind::Undeliverable`] error: an answer whose lists and maps
/// nest deeper than a client reads them. `serde_json`'s default recursion limit (the
/// client's, and the server's for requests) stops at 128 levels on a path from the
/// message's root, and the MessagePack reader at the same depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("lists and maps nest past the {limit} levels a client reads")]
#[non_exhaustive]
pub struct TooDeep {
    /// The most levels a message may open on any path, its own array included.
    pub limit: usize,
}

/// An error met while processing one request, as given to the on-error hook.
///
/// `source()` is the underlying error (a handler's own error, a panic message) when there
/// is one; validation failures have none.
#[derive(Debug)]
pub struct ProcessError {
    kind: ErrorKind,
    message: String,
    case_id: Option<String>,
    /// The call's function, clipped as log lines keep it, for the line of a hook panic.
    function: Option<String>,
    failures: Vec<ValidationFailure>,
    source: Option<HandlerError>,
}

impl ProcessError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProcessError {
            kind,
            message: message.into(),
            case_id: None,
            function: None,
            failures: Vec::new(),
            source: None,
        }
    }

    pub(crate) fn with_failures(mut self, failures: Vec<ValidationFailure>) -> Self {
        self.failures = failures;
        self
    }

    pub(crate) fn with_source(mut self, source: HandlerError) -> Self {
        self.source = Some(source);
        self
    }

    pub(crate) fn with_message(mut self, message: String) -> Self {
        self.message = message;
        self
    }

    pub(crate) fn with_function(mut self, function: &str) -> Self {
        self.function = Some(crate::logging::clipped(function).into_owned());
        self
    }

    /// The call's function, as a log line names it.
    pub(crate) fn function(&self) -> Option<&str> {
        self.function.as_deref()
    }

    pub(crate) fn with_case_id(mut self, case_id: String) -> Self {
        self.case_id = Some(case_id);
        self
    }

    /// Where in processing the error happened.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What failed validation, for [`ErrorKind::ResponseBody`] and
    /// [`ErrorKind::ResponseHeaders`].
    pub fn failures(&self) -> &[ValidationFailure] {
        &self.failures
    }

    /// The `caseId` sent to the client in `ErrorUnknown_`, when one was.
    pub fn case_id(&self) -> Option<&str> {
        self.case_id.as_deref()
    }
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProcessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Why a server could not be built. `Debug` writes the message too, so a `main` that
/// returns this error with `?` prints what to do, not a variant's name.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The schema has no `union.Auth_` and authentication was not waived.
    #[error(
        "unauthenticated server: define `union.Auth_` in the schema or build with `auth_required(false)`"
    )]
    AuthUndefined,
    /// The schema defines `union.Auth_` but no on-auth hook checks the credentials.
    #[error("the schema defines `union.Auth_`: install an on-auth hook to check credentials")]
    AuthHookMissing,
    /// An on-auth hook is installed, but the schema defines no `union.Auth_`, so no
    /// call carries credentials and the hook would never run.
    #[error(
        "an on-auth hook is installed but the schema defines no `union.Auth_`, so it would never run: define `union.Auth_` for calls to carry credentials"
    )]
    AuthHookUnused,
    /// A route names a function the schema does not define (a misspelt name, say),
    /// which no call could reach.
    #[error(
        "a route for `{name}`, which the schema does not define{}",
        nearest.as_ref().map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default()
    )]
    RouteUnknown {
        /// The name routed.
        name: String,
        /// The schema's function nearest to it, when one is close.
        nearest: Option<String>,
    },
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
