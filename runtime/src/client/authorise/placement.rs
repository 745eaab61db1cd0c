//! Where a credential goes: which `union.Auth_` variant and fields, or which HTTP header.
//!
//! The variant and field names belong to each app's schema; the defaults match the
//! auth example (`Bearer {token}`, `Password {username, password}`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use http::header::{AUTHORIZATION, HeaderValue};
use zeroize::Zeroizing;

use super::credential::{AuthValue, Credential};
use super::error::AuthoriseError;

/// Where a bearer token goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenPlacement {
    /// `@auth_: {variant: {field: token}}`.
    Auth {
        /// The `union.Auth_` variant, e.g. `Bearer`.
        variant: String,
        /// The field that holds the token.
        field: String,
    },
    /// The transport header `Authorization: Bearer <token>`.
    HttpBearer,
}

impl TokenPlacement {
    /// `@auth_: {variant: {field: token}}`.
    pub fn auth(variant: impl Into<String>, field: impl Into<String>) -> Self {
        TokenPlacement::Auth {
            variant: variant.into(),
            field: field.into(),
        }
    }

    pub(super) fn credential(&self, token: &str) -> Result<Credential, AuthoriseError> {
        match self {
            TokenPlacement::Auth { variant, field } => Ok(Credential::Auth(AuthValue::variant(
                variant,
                [(field.as_str(), token)],
            ))),
            TokenPlacement::HttpBearer => authorization(&format!("Bearer {token}")),
        }
    }
}

impl Default for TokenPlacement {
    /// `@auth_: {"Bearer": {"token": …}}`.
    fn default() -> Self {
        TokenPlacement::auth("Bearer", "token")
    }
}

/// Where a username and password go.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BasicPlacement {
    /// `@auth_: {variant: {username_field: …, password_field: …}}`.
    Auth {
        /// The `union.Auth_` variant, e.g. `Password`.
        variant: String,
        /// The field that holds the username.
        username_field: String,
        /// The field that holds the password.
        password_field: String,
    },
    /// The transport header `Authorization: Basic base64(username:password)`.
    HttpBasic,
}

impl BasicPlacement {
    /// `@auth_: {variant: {username_field: …, password_field: …}}`.
    pub fn auth(
        variant: impl Into<String>,
        username_field: impl Into<String>,
        password_field: impl Into<String>,
    ) -> Self {
        BasicPlacement::Auth {
            variant: variant.into(),
            username_field: username_field.into(),
            password_field: password_field.into(),
        }
    }

    pub(super) fn credential(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Credential, AuthoriseError> {
        match self {
            BasicPlacement::Auth {
                variant,
                username_field,
                password_field,
            } => Ok(Credential::Auth(AuthValue::variant(
                variant,
                [
                    (username_field.as_str(), username),
                    (password_field.as_str(), password),
                ],
            ))),
            BasicPlacement::HttpBasic => {
                let pair = Zeroizing::new(format!("{username}:{password}"));
                authorization(&Zeroizing::new(format!(
                    "Basic {}",
                    STANDARD.encode(&*pair)
                )))
            }
        }
    }
}

impl Default for BasicPlacement {
    /// `@auth_: {"Password": {"username": …, "password": …}}`.
    fn default() -> Self {
        BasicPlacement::auth("Password", "username", "password")
    }
}

/// An `Authorization` header marked sensitive (so `http` never prints it).
fn authorization(value: &str) -> Result<Credential, AuthoriseError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| AuthoriseError::InvalidHeaderValue)?;
    value.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value);
    Ok(Credential::Transport(headers))
}
