//! An OAuth2 token endpoint: form posts with client authentication, token responses
//! and error responses (RFC 6749 §2.3.1, §5).

use std::time::{Duration, SystemTime};

use reqwest::header::ACCEPT;
use serde_json::Value;
use zeroize::Zeroizing;

use super::error::AuthoriseError;
use super::secret::Secret;
use super::token::Token;
use crate::ErrorChain;
use crate::client::http::{read_limited, redacted, redacted_url};

/// How the client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// HTTP basic with the form-encoded id and secret (`client_secret_basic`).
    #[default]
    SecretBasic,
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    SecretPost,
}

/// How long a token request may take, from connecting to the last byte of the answer,
/// unless set with `timeout` on the grant: a token endpoint that stops answering fails
/// the call rather than holding it.
pub const DEFAULT_TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest token response read. Token responses are a few kilobytes; an endpoint
/// (or whatever answers at its URL) cannot make the client hold more.
const TOKEN_RESPONSE_LIMIT: usize = 1024 * 1024;

/// A token endpoint and the client's identity there.
#[derive(Clone)]
pub(super) struct TokenEndpoint {
    pub(super) http: reqwest::Client,
    /// Bounds each token request (see [`DEFAULT_TOKEN_TIMEOUT`]).
    pub(super) timeout: Duration,
    url: reqwest::Url,
    pub(super) client_id: String,
    /// `None` for a public client (which only names itself).
    pub(super) client_secret: Option<Secret>,
    pub(super) method: ClientAuthMethod,
}

/// Credentials written in the URL (`user:password@`, a query) show as `***`, as
/// [`HttpTransport`](crate::client::HttpTransport)'s do: a grant may be logged.
impl std::fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("timeout", &self.timeout)
            .field("url", &redacted_url(&self.url).as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl TokenEndpoint {
    pub(super) fn new(
        url: &str,
        client_id: String,
        client_secret: Option<Secret>,
    ) -> Result<Self, AuthoriseError> {
        let url = reqwest::Url::parse(url)
            .map_err(|error| AuthoriseError::TokenEndpoint(format!("bad token URL: {error}")))?;
        if url.scheme() != "https" && !is_loopback(&url) {
            return Err(AuthoriseError::TokenEndpoint(
                "the token URL must use https (plain http only on loopback)".into(),
            ));
        }
        #[cfg(feature = "http-client-rustls")]
        let builder = reqwest::Client::builder().tls_backend_preconfigured(
            crate::client::tls::config_for(&url)
                .map_err(|error| AuthoriseError::TokenEndpoint(ErrorChain(&error).to_string()))?,
        );
        #[cfg(not(feature = "http-client-rustls"))]
        let builder = reqwest::Client::builder();
        let http = builder
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| AuthoriseError::TokenEndpoint(ErrorChain(&error).to_string()))?;
        Ok(TokenEndpoint {
            http,
            timeout: DEFAULT_TOKEN_TIMEOUT,
            url,
            client_id,
            client_secret,
            method: ClientAuthMethod::default(),
        })
    }

    /// Posts `form` (the grant's parameters) and reads the token response.
    pub(super) async fn grant(
        &self,
        mut form: Vec<(&str, &str)>,
        now: SystemTime,
    ) -> Result<Token, AuthoriseError> {
        let mut request = self
            .http
            .post(self.url.clone())
            .timeout(self.timeout)
            .header(ACCEPT, "application/json");
        match (&self.client_secret, self.method) {
            (Some(secret), ClientAuthMethod::SecretBasic) => {
                let id = Zeroizing::new(form_encode(&self.client_id));
                let secret = Zeroizing::new(form_encode(secret.expose()));
                request = request.basic_auth(&*id, Some(&*secret));
            }
            (Some(secret), ClientAuthMethod::SecretPost) => {
                form.push(("client_id", &self.client_id));
                form.push(("client_secret", secret.expose()));
            }
            (None, _) => form.push(("client_id", &self.client_id)),
        }
        let unreachable = |error: reqwest::Error| {
            AuthoriseError::TokenEndpoint(ErrorChain(&redacted(error)).to_string())
        };
        let response = request.form(&form).send().await.map_err(unreachable)?;
        let status = response.status();
        let body = read_limited(response, TOKEN_RESPONSE_LIMIT)
            .await
            .map(Zeroizing::new)
            .map_err(|error| AuthoriseError::TokenEndpoint(ErrorChain(&*error).to_string()))?;
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        if !status.is_success() {
            return Err(refusal(status.as_u16(), json.as_ref()));
        }
        let json = json.ok_or_else(|| {
            AuthoriseError::TokenEndpoint("the token response is not JSON".into())
        })?;
        token_from_response(&json, now)
    }
}

/// Whether `url` names this machine, where plain http exposes nothing to the network.
fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback()),
        None => false,
    }
}

/// RFC 6749 §2.3.1: the id and secret are form-encoded before going into basic auth.
fn form_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// An error response (`{"error": "invalid_client", "error_description": …}`).
fn refusal(status: u16, json: Option<&Value>) -> AuthoriseError {
    let field = |name: &str| {
        json.and_then(|json| json.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    AuthoriseError::Refused {
        status,
        error: field("error").unwrap_or_else(|| "no OAuth2 error code".into()),
        description: field("error_description"),
    }
}

fn token_from_response(json: &Value, now: SystemTime) -> Result<Token, AuthoriseError> {
    let invalid = |why: &str| AuthoriseError::TokenEndpoint(format!("the token response {why}"));
    let access = json
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("has no access_token"))?;
    let token_type = json.get("token_type").and_then(Value::as_str);
    if token_type.is_some_and(|kind| !kind.eq_ignore_ascii_case("bearer")) {
        return Err(invalid("is not a bearer token"));
    }
    let mut token = Token::new(access);
    if let Some(refresh) = json.get("refresh_token").and_then(Value::as_str) {
        token = token.refresh_token(refresh);
    }
    // Some servers send the lifetime as a string.
    let lifetime = match json.get("expires_in") {
        Some(Value::Number(seconds)) => seconds.as_u64(),
        Some(Value::String(seconds)) => seconds.parse().ok(),
        _ => None,
    };
    if let Some(seconds) = lifetime {
        token = token.expires_in(now, Duration::from_secs(seconds));
    }
    Ok(token)
}
