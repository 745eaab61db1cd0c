//! HTTP adapter: serves a Telepact [`Server`] on axum, translating transport
//! credentials into `@auth_` so curl and browsers need not write it by hand.
//!
//! - `Authorization: Bearer <token>` → `{"Bearer": {"token": ..}}`
//! - `Authorization: Basic <base64 user:password>` → `{"Password": {..}}`
//! - `X-API-Key: <key>` → `{"ApiKey": {"key": ..}}`
//! - cookie `tp_session=<id>` plus `X-CSRF-Token: <csrf>` → `{"Session": {..}}`
//!
//! The cookie counts only on same-site requests from an allowed origin
//! ([`HttpAuthOptions::allowed_origins`]). An `@auth_` already in the message wins. The
//! client's [`PeerAddress`](telepact::PeerAddress) reaches the auth hook for the failed-login limits.
//! A handler opens or closes the session cookie with [`set_session_cookie`] /
//! [`clear_session_cookie`]; the cookie is `HttpOnly`, `Secure` and `SameSite=Strict`.

mod cookie;
mod credentials;

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::post;
use serde_json::Value;
use telepact::http::{HttpOptions, transport_context};
use telepact::{Headers, Response, Server};

pub use cookie::{SESSION_COOKIE_HEADER, clear_session_cookie, set_session_cookie};

/// Names and flags of the transport credentials.
#[derive(Debug, Clone)]
pub struct HttpAuthOptions {
    pub cookie_name: String,
    /// Lower-case header names.
    pub csrf_header: String,
    pub api_key_header: String,
    /// Mark the cookie `Secure` (browsers then send it over HTTPS and to localhost
    /// only). Turn off only for plain-HTTP development on another host.
    pub secure_cookie: bool,
    /// Origins (`https://board.example.com`) whose pages may call with the session
    /// cookie. Empty: any origin that is not cross-site. A cookie sent with another
    /// `Origin`, or on a request the browser marks `Sec-Fetch-Site: cross-site`, is
    /// ignored, so the call proceeds without credentials.
    pub allowed_origins: Vec<String>,
}

impl Default for HttpAuthOptions {
    fn default() -> Self {
        HttpAuthOptions {
            cookie_name: "tp_session".to_string(),
            csrf_header: "x-csrf-token".to_string(),
            api_key_header: "x-api-key".to_string(),
            secure_cookie: true,
            allowed_origins: Vec::new(),
        }
    }
}

#[derive(Clone)]
struct Adapter {
    server: Server,
    options: HttpAuthOptions,
    body_limit: usize,
}

/// An axum router serving `POST {http.path}` with `server`, translating credentials.
/// Serve it with [`serve`] so the peer address is known.
pub fn router(server: Server, http: &HttpOptions, options: HttpAuthOptions) -> Router {
    let adapter = Adapter {
        server,
        options,
        body_limit: http.body_limit,
    };
    Router::new()
        .route(&http.path, post(handle))
        .with_state(adapter)
}

/// Serves a router until `shutdown` completes, with each request's peer address known;
/// the runtime's own [`telepact::http::serve`].
pub use telepact::http::serve;

async fn handle(State(adapter): State<Adapter>, request: Request) -> HttpResponse {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>();
    let transport = transport_context(peer.map(|info| info.0));
    let credential = credentials::from_transport(request.headers(), &adapter.options);
    let body = match axum::body::to_bytes(request.into_body(), adapter.body_limit).await {
        Ok(body) => body,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let mut cookie_request = None;
    let response = adapter
        .server
        .process_adapted(
            &body,
            transport,
            |headers: &mut Headers| {
                if let Some(credential) = credential.filter(|_| !headers.contains_key("@auth_")) {
                    headers.insert("@auth_".to_string(), credential.to_auth_header());
                }
            },
            // The session id travels only in the HttpOnly cookie, never in the body
            // where page scripts could read it.
            |headers: &mut Headers| cookie_request = headers.remove(SESSION_COOKIE_HEADER),
        )
        .await;
    respond(response, cookie_request.as_ref(), &adapter.options)
}

/// The HTTP response; a session-cookie request from the handler becomes `Set-Cookie`.
/// Every answer is `Cache-Control: no-store` (RFC 6749 §5.1): any of them may carry
/// tokens, keys or the caller's identity.
fn respond(
    response: Response,
    cookie_request: Option<&Value>,
    options: &HttpAuthOptions,
) -> HttpResponse {
    let content_type = HeaderValue::from_static(response.encoding.content_type());
    let cookie = cookie_request
        .and_then(|value| cookie::set_cookie_line(value, options))
        .and_then(|line| HeaderValue::from_str(&line).ok());
    let mut http = HttpResponse::new(Body::from(Bytes::from(response.bytes)));
    let headers = http.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = cookie {
        headers.insert(header::SET_COOKIE, cookie);
    }
    http
}
