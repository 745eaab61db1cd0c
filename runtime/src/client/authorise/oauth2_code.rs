//! The OAuth2 authorisation code grant with PKCE (RFC 6749 §4.1, RFC 7636), renewed
//! with the refresh token grant (RFC 6749 §6).
//!
//! The user's browser visits [`authorization_url`]; the redirect brings back a code;
//! [`AuthorizationCode`] trades it (with the PKCE verifier) for tokens once, and then
//! renews with the refresh token, which a [`super::TokenCache`] keeps across restarts.

use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::endpoint::{ClientAuthMethod, TokenEndpoint};
use super::error::AuthoriseError;
use super::secret::Secret;
use super::token::{Token, TokenSource};
use crate::router::BoxFuture;

/// A PKCE verifier and its `S256` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl Pkce {
    /// A fresh verifier: 32 random bytes, base64url (43 characters).
    ///
    /// # Errors
    ///
    /// [`AuthoriseError::Other`] when the operating system gives no randomness.
    pub fn generate() -> Result<Self, AuthoriseError> {
        Ok(Self::from_verifier(random_text()?))
    }

    /// The pair for a verifier kept elsewhere (43 to 128 unreserved characters).
    pub fn from_verifier(verifier: impl Into<Secret>) -> Self {
        let verifier = verifier.into();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose().as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }

    /// The verifier, sent with the code to the token endpoint.
    pub fn verifier(&self) -> &Secret {
        &self.verifier
    }

    /// `BASE64URL(SHA256(verifier))`, sent with `code_challenge_method=S256`.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// A random value for the `state` parameter (check it on the redirect).
///
/// # Errors
///
/// [`AuthoriseError::Other`] when the operating system gives no randomness.
pub fn random_state() -> Result<String, AuthoriseError> {
    random_text()
}

fn random_text() -> Result<String, AuthoriseError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| AuthoriseError::Other(format!("no randomness: {error}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The authorisation endpoint's URL for a code request with a PKCE challenge.
///
/// # Errors
///
/// [`AuthoriseError::Other`] when `authorize_url` does not parse as a URL.
pub fn authorization_url(
    authorize_url: &str,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[&str],
    state: &str,
    pkce: &Pkce,
) -> Result<reqwest::Url, AuthoriseError> {
    let mut url = reqwest::Url::parse(authorize_url)
        .map_err(|error| AuthoriseError::Other(format!("bad authorisation URL: {error}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", state)
        .append_pair("code_challenge", pkce.challenge())
        .append_pair("code_challenge_method", "S256");
    if !scopes.is_empty() {
        url.query_pairs_mut()
            .append_pair("scope", &scopes.join(" "));
    }
    Ok(url)
}

/// Trades an authorisation code for tokens (once), then renews with the refresh
/// token. Without a code it only refreshes (a token handed to the authoriser or read
/// from its cache). Once neither works, fetching fails with
/// [`AuthoriseError::SignInRequired`]; a refresh that does not reach the token endpoint,
/// or that it answers with a server error, fails as it is, and the next fetch tries the
/// refresh token again.
#[derive(Debug)]
pub struct AuthorizationCode {
    endpoint: TokenEndpoint,
    redirect_uri: String,
    code: Mutex<Option<Secret>>,
    verifier: Option<Secret>,
}

impl AuthorizationCode {
    /// A public client (no secret), the usual case with PKCE.
    ///
    /// # Errors
    ///
    /// [`AuthoriseError::TokenEndpoint`] when `token_url` does not parse, uses plain
    /// `http` off loopback, or the HTTP client for it cannot be built.
    pub fn new(
        token_url: &str,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> Result<Self, AuthoriseError> {
        Ok(AuthorizationCode {
            endpoint: TokenEndpoint::new(token_url, client_id.into(), None)?,
            redirect_uri: redirect_uri.into(),
            code: Mutex::new(None),
            verifier: None,
        })
    }

    /// A confidential client authenticating with `secret` (see [`Self::auth_method`]).
    pub fn client_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.endpoint.client_secret = Some(secret.into());
        self
    }

    /// How the client id and secret are sent (default HTTP basic).
    pub fn auth_method(mut self, method: ClientAuthMethod) -> Self {
        self.endpoint.method = method;
        self
    }

    /// The code the redirect brought back, and the PKCE pair of that request. PKCE is
    /// required: without it a code intercepted on its way back could be redeemed by
    /// anyone (RFC 9700 §2.1.1).
    pub fn code(mut self, code: impl Into<Secret>, pkce: &Pkce) -> Self {
        *self.code.get_mut().unwrap_or_else(PoisonError::into_inner) = Some(code.into());
        self.verifier = Some(pkce.verifier.clone());
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

    async fn refresh(
        &self,
        refresh_token: &Secret,
        now: SystemTime,
    ) -> Result<Token, AuthoriseError> {
        let form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        let token = self.endpoint.grant(form, now).await?;
        // The server may keep the refresh token as it is (RFC 6749 §6).
        Ok(match token.refresh_token {
            Some(_) => token,
            None => token.refresh_token(refresh_token.clone()),
        })
    }

    async fn exchange(&self, code: &Secret, now: SystemTime) -> Result<Token, AuthoriseError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", &self.redirect_uri),
        ];
        if let Some(verifier) = &self.verifier {
            form.push(("code_verifier", verifier.expose()));
        }
        self.endpoint.grant(form, now).await
    }

    async fn fetch_token(
        &self,
        previous: Option<Token>,
        now: SystemTime,
    ) -> Result<Token, AuthoriseError> {
        let refreshed = match previous.and_then(|token| token.refresh_token) {
            Some(refresh_token) => Some(self.refresh(&refresh_token, now).await),
            None => None,
        };
        if let Some(Ok(token)) = refreshed {
            return Ok(token);
        }
        // A code is good for one exchange.
        let code = self
            .code
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match (code, refreshed) {
            (Some(code), _) => self.exchange(&code, now).await,
            // Not reached, or unable to serve: the refresh token may still be good.
            (None, Some(Err(error))) if !refused(&error) => Err(error),
            (None, Some(Err(error))) => Err(AuthoriseError::SignInRequired(Box::new(error))),
            (None, _) => Err(AuthoriseError::SignInRequired(Box::new(
                AuthoriseError::Other("no authorisation code or refresh token".into()),
            ))),
        }
    }
}

/// Whether the token endpoint refused the grant (`invalid_grant`, ...), rather than not
/// being reached or answering a server error.
fn refused(error: &AuthoriseError) -> bool {
    matches!(error, AuthoriseError::Refused { status, .. } if (400..500).contains(status))
}

impl TokenSource for AuthorizationCode {
    fn fetch(
        &self,
        previous: Option<Token>,
        now: SystemTime,
    ) -> BoxFuture<'_, Result<Token, AuthoriseError>> {
        Box::pin(self.fetch_token(previous, now))
    }
}
