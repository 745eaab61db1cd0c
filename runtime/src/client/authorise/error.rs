//! Why an authoriser could not produce a credential.

use crate::client::ClientError;

/// Why an authoriser could not produce a credential. A call that fails this way
/// reaches the caller as [`ClientError::Authorise`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthoriseError {
    /// The token endpoint answered with an OAuth2 error (`invalid_client` for a wrong
    /// client id or secret, `invalid_scope`, ...).
    #[error(
        "the token endpoint refused the request (HTTP {status}, {error}){}",
        describe(description)
    )]
    Refused {
        /// The HTTP status of the answer.
        status: u16,
        /// The OAuth2 `error` code.
        error: String,
        /// The `error_description`, when the endpoint sent one.
        description: Option<String>,
    },
    /// The token endpoint could not be reached, or answered something other than a
    /// token response.
    #[error("the token endpoint could not be used: {0}")]
    TokenEndpoint(String),
    /// A Telepact sign-in function answered something other than `Ok_`.
    #[error("{function} answered {result}{}", hint(result))]
    SignInRefused {
        /// The sign-in function called, e.g. `fn.login`.
        function: String,
        /// The result variant it answered, e.g. `ErrorUnauthenticated_`.
        result: String,
    },
    /// A Telepact sign-in call did not complete.
    #[error("calling {function} failed")]
    SignInCall {
        /// The sign-in function called.
        function: String,
        /// Why the call failed.
        #[source]
        source: ClientError,
    },
    /// A sign-in answer lacks a field the authoriser was told to read.
    #[error("{function} answered Ok_ without a usable {field:?}")]
    MissingField {
        /// The sign-in function called.
        function: String,
        /// The field that is absent or not a string.
        field: String,
    },
    /// A credential does not fit in an HTTP header.
    #[error("the credential is not a valid HTTP header value")]
    InvalidHeaderValue,
    /// The authorisation code is spent and the refresh token (if any) no longer works:
    /// the user has to sign in in the browser again.
    #[error("the user must sign in again")]
    SignInRequired(#[source] Box<AuthoriseError>),
    /// The authorisation server sent the browser back with an error (`access_denied`
    /// when the user declined).
    #[error("the sign-in was refused ({error}){}", describe(description))]
    SignInDenied {
        /// The OAuth2 `error` code from the redirect.
        error: String,
        /// The `error_description`, when the server sent one.
        description: Option<String>,
    },
    /// The sign-in redirect did not arrive (or could not be listened for).
    #[error("the sign-in redirect could not be received: {0}")]
    Redirect(String),
    /// A custom token source failed.
    #[error("{0}")]
    Other(String),
}

fn describe(description: &Option<String>) -> String {
    description
        .as_ref()
        .map(|text| format!(": {text}"))
        .unwrap_or_default()
}

fn hint(result: &str) -> &'static str {
    if result == "ErrorUnauthenticated_" {
        " (are the username and password right?)"
    } else {
        ""
    }
}
