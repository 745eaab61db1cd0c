//! The OAuth2 client credentials grant (RFC 6749 §4.4) as a token source.

use std::time::SystemTime;

use super::endpoint::{ClientAuthMethod, TokenEndpoint};
use super::error::AuthoriseError;
use super::secret::Secret;
use super::token::{Token, TokenSource};
use crate::router::BoxFuture;

/// Posts `grant_type=client_credentials` (with the scopes) to a token endpoint and
/// reads the token response. Pair it with a [`super::BearerAuthoriser`] for expiry,
/// caching and placement.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    endpoint: TokenEndpoint,
    scopes: Vec<String>,
    params: Vec<(String, String)>,
}

impl ClientCredentials {
    /// A client of the token endpoint at `token_url`, which must be HTTPS unless it is on loopback.
    ///
    /// # Errors
    ///
    /// [`AuthoriseError::TokenEndpoint`] when `token_url` does not parse, uses plain
    /// `http` off loopback, or the HTTP client for it cannot be built.
    pub fn new(
        token_url: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Result<Self, AuthoriseError> {
        let endpoint = TokenEndpoint::new(token_url, client_id.into(), Some(client_secret.into()))?;
        Ok(ClientCredentials {
            endpoint,
            scopes: Vec::new(),
            params: Vec::new(),
        })
    }

    /// The scopes to ask for (sent space-separated as `scope`).
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// How the client id and secret are sent (default HTTP basic).
    pub fn auth_method(mut self, method: ClientAuthMethod) -> Self {
        self.endpoint.method = method;
        self
    }

    /// An extra form parameter (`audience`, `resource`, ...).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Bounds each token request, from connecting to the end of the answer (default
    /// [`DEFAULT_TOKEN_TIMEOUT`](super::DEFAULT_TOKEN_TIMEOUT), 30 s); it applies to a
    /// client given with [`Self::http_client`] too.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.endpoint.timeout = timeout;
        self
    }

    /// Shares an existing `reqwest` client (proxy, TLS roots, timeouts). Build it with
    /// `redirect(reqwest::redirect::Policy::none())`: a client that follows redirects
    /// re-sends the form, secrets included, to the new location.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.endpoint.http = http;
        self
    }

    async fn request_token(&self, now: SystemTime) -> Result<Token, AuthoriseError> {
        let scope = self.scopes.join(" ");
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        form.extend(self.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.endpoint.grant(form, now).await
    }
}

impl TokenSource for ClientCredentials {
    /// The grant issues no refresh tokens, so `previous` plays no part.
    fn fetch(
        &self,
        _previous: Option<Token>,
        now: SystemTime,
    ) -> BoxFuture<'_, Result<Token, AuthoriseError>> {
        Box::pin(self.request_token(now))
    }
}
