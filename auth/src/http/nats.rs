//! The HTTP adapter's transport credentials across a NATS hop: a [`gateway`] forwards
//! the HTTP headers that carry them, and workers serving with a [`CredentialBridge`]
//! read them as [`router`](super::router) does, so `Authorization`, `X-API-Key` and
//! cookie sessions work behind the gateway as they do served directly.
//!
//! ```no_run
//! # async fn run(server: telepact::Server, nats: telepact::nats::async_nats::Client)
//! #     -> Result<(), telepact::nats::NatsError> {
//! use telepact::http::HttpOptions;
//! use telepact::nats::{self, GatewayOptions, WorkerOptions};
//! use telepact_auth::http::HttpAuthOptions;
//! use telepact_auth::http::nats::{CredentialBridge, gateway};
//!
//! let auth = HttpAuthOptions::default().allowed_origins(["https://board.example.com"]);
//! // In the workers:
//! let bridge = CredentialBridge::new(&server, auth.clone());
//! let options = WorkerOptions::default().header_bridge(bridge);
//! let worker = nats::serve_with(server, nats.clone(), "telepact.board", "board", options).await?;
//! // In the gateway (served with `telepact_auth::http::serve`):
//! let app = gateway(nats, "telepact.board", &HttpOptions::default(), &auth, GatewayOptions::default())?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, COOKIE, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response as HttpResponse;
use telepact::http::HttpOptions;
use telepact::nats::async_nats::{self, HeaderMap as NatsHeaders};
use telepact::nats::{GatewayOptions, HeaderBridge, NatsError};
use telepact::{Headers, Server};

use super::cookie::{SESSION_COOKIE_HEADER, set_cookie_line};
use super::credentials::{self, CarriedKinds};
use super::{HttpAuthOptions, add_credential, with_client_address};

/// A worker's [`HeaderBridge`] for the HTTP adapter's credentials: reads them from the
/// NATS headers a [`gateway`] forwards (an `@auth_` in the message still wins) and
/// sends a session cookie a handler opens or closes
/// ([`set_session_cookie`](super::set_session_cookie)) back as `Set-Cookie`. Give it the
/// same [`HttpAuthOptions`] as the gateway. A credential of a kind the schema's
/// `union.Auth_` lacks is left out, as the router leaves it out.
///
/// Anyone who may publish on the subject can write these headers, as they can write
/// `@auth_`: what they carry is checked by the auth hook like any credential. The
/// cookie's same-site checks (`Origin`, `Sec-Fetch-Site`) guard browsers against pages
/// of other sites, which cannot publish on NATS.
#[derive(Debug, Clone)]
pub struct CredentialBridge {
    options: HttpAuthOptions,
    carried: CarriedKinds,
}

impl CredentialBridge {
    /// A bridge for the workers serving `server`, reading credentials as `options`
    /// name them.
    pub fn new(server: &Server, options: HttpAuthOptions) -> Self {
        CredentialBridge {
            options,
            carried: CarriedKinds::of(server.schema()),
        }
    }
}

impl HeaderBridge for CredentialBridge {
    fn request(&self, nats: &NatsHeaders, headers: &mut Headers) {
        let transport = http_headers(nats);
        add_credential(headers, self.carried.read(&transport, &self.options));
    }

    fn response(&self, headers: &mut Headers, reply: &mut NatsHeaders) {
        // The session id travels only in the HttpOnly cookie, never in the body.
        let Some(cookie) = headers.remove(SESSION_COOKIE_HEADER) else {
            return;
        };
        if let Some(line) = set_cookie_line(&cookie, &self.options) {
            reply.insert(SET_COOKIE.as_str(), line.as_str());
        }
    }
}

/// `nats` as HTTP headers, for the adapter's credential reader; a name or value HTTP
/// cannot carry is left out.
fn http_headers(nats: &NatsHeaders) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, values) in nats.iter() {
        let name: &str = name.as_ref();
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        for value in values {
            if let Ok(value) = HeaderValue::from_str(value.as_str()) {
                headers.append(name.clone(), value);
            }
        }
    }
    headers
}

/// The NATS gateway (`telepact::nats::gateway_with`) for workers with a
/// [`CredentialBridge`]: it forwards the HTTP headers that carry credentials as
/// `options` name them (`Authorization`, the API-key and CSRF headers, `Cookie`,
/// `Origin`, `Sec-Fetch-Site`; of the cookies, the session's alone), returns
/// `Set-Cookie`, and marks every answer `Cache-Control: no-store` as
/// [`router`](super::router) does. A WebSocket upgrade's CSRF token may come as a
/// subprotocol ([`CSRF_PROTOCOL_PREFIX`](super::CSRF_PROTOCOL_PREFIX)), and the pages of
/// [`HttpAuthOptions::allowed_origins`] are granted credentialed CORS requests, as there. With
/// [`HttpAuthOptions::trusted_proxies`], each request's caller is taken from a trusted
/// proxy's `X-Forwarded-For` ([`with_client_address`]), which the gateway sends on when
/// `gateway`'s `forward_peer_address` is set. Serve it with [`serve`](super::serve).
///
/// # Errors
///
/// [`NatsError::InvalidSubject`] for a subject NATS would refuse, as
/// [`telepact::nats::gateway_with`] fails.
///
/// # Panics
///
/// When `http.path` is not a path axum routes as written, as
/// [`telepact::nats::gateway_with`] panics; a path set with
/// [`HttpOptions::checked_path`] never is.
pub fn gateway(
    client: async_nats::Client,
    subject: &str,
    http: &HttpOptions,
    options: &HttpAuthOptions,
    gateway: GatewayOptions,
) -> Result<Router, NatsError> {
    let gateway = gateway
        .request_headers(forwarded_headers(options))
        .response_headers([SET_COOKIE]);
    let session_cookie: Arc<str> = options.session_cookie_name().into();
    let router = telepact::nats::gateway_with(client, subject, http, gateway)?
        .layer(axum::middleware::map_response(no_store))
        .layer(axum::middleware::map_request_with_state(
            session_cookie,
            only_the_session_cookie,
        ));
    let router = super::websocket::with_csrf_protocol(router, &options.csrf_header);
    let router = credentials::no_cookie_for_foreign_pages(router, options);
    let router = super::cors::with_cors(router, options);
    Ok(if options.trusted_proxies.is_empty() {
        router
    } else {
        with_client_address(router, options.trusted_proxies.clone())
    })
}

/// The request headers [`CredentialBridge`] reads; a configured name HTTP cannot carry
/// is left out (no request could have it).
fn forwarded_headers(options: &HttpAuthOptions) -> Vec<HeaderName> {
    let configured = [&options.api_key_header, &options.csrf_header]
        .into_iter()
        .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok());
    let fetch_site = HeaderName::from_static("sec-fetch-site");
    [AUTHORIZATION, COOKIE, ORIGIN, fetch_site]
        .into_iter()
        .chain(configured)
        .collect()
}

/// The request with its `Cookie` headers cut down to the session cookie, so the site's
/// other cookies do not travel over NATS.
async fn only_the_session_cookie(State(name): State<Arc<str>>, mut request: Request) -> Request {
    let headers = request.headers_mut();
    if headers.contains_key(COOKIE) {
        let session = credentials::session_cookie(headers, &name)
            .and_then(|id| HeaderValue::from_str(&format!("{name}={id}")).ok());
        headers.remove(COOKIE);
        if let Some(session) = session {
            headers.insert(COOKIE, session);
        }
    }
    request
}

async fn no_store(mut response: HttpResponse) -> HttpResponse {
    let no_store = HeaderValue::from_static("no-store");
    response.headers_mut().insert(CACHE_CONTROL, no_store);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nats_headers_read_as_http_headers_in_any_case() {
        let mut nats = NatsHeaders::new();
        nats.insert("X-Api-Key", "key-1");
        nats.append("cookie", "a=1");
        nats.append("cookie", "tp_session=s-1");
        nats.insert("not(http)", "dropped");
        let headers = http_headers(&nats);
        assert_eq!(headers["x-api-key"], "key-1");
        assert_eq!(headers.get_all(COOKIE).iter().count(), 2);
        assert_eq!(headers.len(), 3);
    }

    /// As the router does, the bridge leaves out a credential the schema's `union.Auth_`
    /// has no tag for: in `@auth_` it would make every call invalid, `fn.ping_` too.
    #[test]
    fn a_credential_the_schema_cannot_carry_is_left_out() {
        use telepact::schema::Schema;
        use telepact::{Authenticated, FunctionRouter, HandlerError};

        let schema = Schema::from_text(
            r#"[{"union.Auth_": [{"Bearer": {"token": "string"}}]},
                {"fn.whoami": {}, "->": [{"Ok_": {}}]}]"#,
        )
        .expect("schema loads");
        let server = Server::builder(schema, FunctionRouter::new())
            .on_auth(|_: Headers| async { Ok::<_, HandlerError>(Authenticated::new()) })
            .build()
            .expect("builds");
        let bridge = CredentialBridge::new(&server, HttpAuthOptions::default());
        let bridged = |name: &str, value: &str| {
            let mut nats = NatsHeaders::new();
            nats.insert(name, value);
            let mut headers = Headers::new();
            bridge.request(&nats, &mut headers);
            headers.get("@auth_").cloned()
        };
        assert_eq!(bridged("x-api-key", "tpk_a.b"), None);
        assert_eq!(bridged("cookie", "__Host-tp_session=tps_other"), None);
        assert_eq!(
            bridged("authorization", "Bearer t"),
            Some(serde_json::json!({"Bearer": {"token": "t"}}))
        );
    }

    #[tokio::test]
    async fn of_the_cookies_only_the_sessions_is_forwarded() {
        let name: Arc<str> = "__Host-tp_session".into();
        let cookies = |lines: &[&str]| {
            let mut request = Request::new(axum::body::Body::empty());
            for line in lines {
                let line = HeaderValue::from_str(line).expect("a header value");
                request.headers_mut().append(COOKIE, line);
            }
            request
        };
        let forwarded = |lines: &[&str]| {
            let request = cookies(lines);
            let name = Arc::clone(&name);
            async move {
                let request = only_the_session_cookie(State(name), request).await;
                let values = request.headers().get_all(COOKIE).iter();
                values
                    .map(|v| v.to_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            forwarded(&["theme=dark; __Host-tp_session=tps_1", "tracker=x"]).await,
            ["__Host-tp_session=tps_1"]
        );
        assert!(forwarded(&["theme=dark"]).await.is_empty());
        assert!(forwarded(&[]).await.is_empty());
    }

    #[test]
    fn the_configured_header_names_are_forwarded() {
        let options = HttpAuthOptions::default()
            .api_key_header("X-Tenant-Key")
            .csrf_header("not a header");
        let names = forwarded_headers(&options);
        let names: Vec<&str> = names.iter().map(HeaderName::as_str).collect();
        assert_eq!(
            names,
            [
                "authorization",
                "cookie",
                "origin",
                "sec-fetch-site",
                "x-tenant-key"
            ]
        );
    }
}
