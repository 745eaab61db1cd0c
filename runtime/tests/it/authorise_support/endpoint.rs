//! A real OAuth2 token endpoint for the authoriser tests (a small axum app on
//! loopback): client credentials, authorisation code with PKCE, refresh tokens; and a
//! Telepact endpoint accepting the bearer tokens it issued.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use sha2::{Digest, Sha256};
use telepact::Client;
use telepact::client::authorise::{BearerAuthoriser, ClientCredentials, TokenPlacement};
use telepact::client::{ClientOptions, HttpTransport};

pub(crate) const CLIENT_ID: &str = "svc:reports";
pub(crate) const CLIENT_SECRET: &str = "s3cr3t&+=/ value";

/// How one token request authenticated its client, and its form.
#[derive(Debug, Clone)]
pub(crate) struct TokenRequest {
    pub basic: Option<(String, String)>,
    pub form: HashMap<String, String>,
}

#[derive(Default)]
struct Recorded {
    token_requests: Vec<TokenRequest>,
    issued: usize,
    accepted: HashSet<String>,
    /// Authorisation codes: (challenge, redirect URI, client id).
    codes: HashMap<String, (String, String, String)>,
    refresh_tokens: HashSet<String>,
    api_authorizations: Vec<Option<String>>,
}

/// The token endpoint (`POST /token`) and a Telepact endpoint (`POST /api`) that
/// accepts the bearer tokens `/token` issued.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub url: String,
    lifetime: u64,
    recorded: Arc<Mutex<Recorded>>,
}

impl Endpoint {
    pub(crate) async fn start(lifetime: u64) -> Endpoint {
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let endpoint = Endpoint {
            url: format!("http://127.0.0.1:{port}"),
            lifetime,
            recorded,
        };
        let app = axum::Router::new()
            .route("/token", post(token))
            .route("/api", post(api))
            .with_state(endpoint.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        endpoint
    }

    pub(crate) fn token_url(&self) -> String {
        format!("{}/token", self.url)
    }

    pub(crate) fn credentials(&self) -> ClientCredentials {
        ClientCredentials::new(&self.token_url(), CLIENT_ID, CLIENT_SECRET).expect("a valid url")
    }

    pub(crate) fn client(&self, authoriser: BearerAuthoriser) -> Client {
        let transport = HttpTransport::new(&format!("{}/api", self.url)).expect("a valid url");
        Client::with_options(transport, ClientOptions::default())
            .with_authoriser(authoriser.placement(TokenPlacement::HttpBearer))
    }

    pub(crate) fn token_requests(&self) -> Vec<TokenRequest> {
        self.recorded.lock().unwrap().token_requests.clone()
    }

    pub(crate) fn api_authorizations(&self) -> Vec<Option<String>> {
        self.recorded.lock().unwrap().api_authorizations.clone()
    }

    /// What a browser visiting `url` and the user approving would do: the code the
    /// redirect would carry.
    pub(crate) fn approve(&self, url: &reqwest::Url) -> String {
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let mut recorded = self.recorded.lock().unwrap();
        let code = format!("code-{}", recorded.codes.len() + 1);
        let request = (
            query["code_challenge"].clone(),
            query["redirect_uri"].clone(),
            query["client_id"].clone(),
        );
        recorded.codes.insert(code.clone(), request);
        code
    }

    pub(crate) fn grants(&self) -> Vec<String> {
        self.token_requests()
            .iter()
            .map(|request| request.form["grant_type"].clone())
            .collect()
    }

    pub(crate) fn revoke(&self, token: &str) {
        self.recorded.lock().unwrap().accepted.remove(token);
    }
}

fn decode_basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = STANDARD.decode(value.strip_prefix("Basic ")?).ok()?;
    let pair = String::from_utf8(decoded).ok()?;
    let (id, secret) = pair.split_once(':')?;
    let unescape = |text: &str| {
        form_urlencoded::parse(format!("v={text}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

async fn token(
    State(endpoint): State<Endpoint>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, String) {
    let basic = decode_basic(&headers);
    let mut recorded = endpoint.recorded.lock().unwrap();
    recorded.token_requests.push(TokenRequest {
        basic: basic.clone(),
        form: form.clone(),
    });
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let granted = match field("grant_type").as_str() {
        "client_credentials" => {
            let client = basic.or_else(|| Some((field("client_id"), field("client_secret"))));
            if client != Some((CLIENT_ID.into(), CLIENT_SECRET.into())) {
                let refusal = json!({"error": "invalid_client", "error_description": "Client authentication failed"});
                return (StatusCode::UNAUTHORIZED, refusal.to_string());
            }
            false
        }
        "authorization_code" => {
            let verifier = field("code_verifier");
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            let expected = Some((challenge, field("redirect_uri"), field("client_id")));
            if recorded.codes.remove(&field("code")) != expected {
                return invalid_grant();
            }
            true
        }
        "refresh_token" => {
            if !recorded.refresh_tokens.remove(&field("refresh_token")) {
                return invalid_grant();
            }
            true
        }
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type"}).to_string(),
            );
        }
    };
    recorded.issued += 1;
    let access = format!("at-{}", recorded.issued);
    recorded.accepted.insert(access.clone());
    let mut answer = json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": endpoint.lifetime,
        "scope": form.get("scope"),
    });
    if granted {
        let refresh = format!("rt-{}", recorded.issued);
        recorded.refresh_tokens.insert(refresh.clone());
        answer["refresh_token"] = json!(refresh);
    }
    (StatusCode::OK, answer.to_string())
}

fn invalid_grant() -> (StatusCode, String) {
    let refusal = json!({"error": "invalid_grant", "error_description": "The grant is not valid"});
    (StatusCode::BAD_REQUEST, refusal.to_string())
}

async fn api(State(endpoint): State<Endpoint>, headers: HeaderMap) -> String {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let mut recorded = endpoint.recorded.lock().unwrap();
    recorded.api_authorizations.push(authorization.clone());
    let token = authorization
        .as_deref()
        .and_then(|value| value.strip_prefix("Bearer "));
    let answer = match token {
        Some(token) if recorded.accepted.contains(token) => {
            json!([{}, {"Ok_": {"method": "Bearer"}}])
        }
        _ => json!([{}, {"ErrorUnauthenticated_": {}}]),
    };
    answer.to_string()
}

pub(crate) fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

pub(crate) fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}
