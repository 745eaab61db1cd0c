//! Authorisers whose credential never changes.

use serde_json::Value;

use super::Authoriser;
use super::credential::{AuthValue, Credential};
use super::error::AuthoriseError;
use super::placement::BasicPlacement;
use super::secret::Secret;
use crate::router::BoxFuture;

/// Sends one fixed `union.Auth_` value (an API key, a long-lived token) as `@auth_`.
#[derive(Debug, Clone)]
pub struct StaticAuthoriser {
    credential: Credential,
}

impl StaticAuthoriser {
    /// `@auth_: value`, e.g. `json!({"ApiKey": {"key": "…"}})`.
    pub fn new(value: Value) -> Self {
        StaticAuthoriser {
            credential: Credential::Auth(AuthValue::new(value)),
        }
    }

    /// Any fixed credential, including transport headers.
    pub fn from_credential(credential: Credential) -> Self {
        StaticAuthoriser { credential }
    }
}

impl Authoriser for StaticAuthoriser {
    fn credential(&self) -> BoxFuture<'_, Result<Credential, AuthoriseError>> {
        let credential = self.credential.clone();
        Box::pin(async move { Ok(credential) })
    }
}

/// A username and password on every call: `@auth_: {"Password": {…}}` by default, or
/// HTTP basic with [`BasicPlacement::HttpBasic`].
#[derive(Debug, Clone)]
pub struct BasicAuthoriser {
    username: String,
    password: Secret,
    placement: BasicPlacement,
}

impl BasicAuthoriser {
    /// Sends `username` and `password` with every call.
    pub fn new(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        BasicAuthoriser {
            username: username.into(),
            password: password.into(),
            placement: BasicPlacement::default(),
        }
    }

    /// Where they go (default `@auth_: {"Password": {"username": …, "password": …}}`).
    pub fn placement(mut self, placement: BasicPlacement) -> Self {
        self.placement = placement;
        self
    }
}

impl Authoriser for BasicAuthoriser {
    fn credential(&self) -> BoxFuture<'_, Result<Credential, AuthoriseError>> {
        let credential = self
            .placement
            .credential(&self.username, self.password.expose());
        Box::pin(async move { credential })
    }
}
