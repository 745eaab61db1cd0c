//! HTTP adapter: serves a Telepact [`Server`] on axum, translating transport
//! credentials into `@auth_` so curl and browsers need not write it by hand.
//!
//! - `Authorization: Bearer <token>` → `{"Bearer": {"token": ..}}`
//! - `Authorization: Basic <base64 user:password>` → `{"Password": {..}}`
//! - `X-API-Key: <key>` → `{"ApiKey": {"key": ..}}`
//! - cookie `__Host-tp_session=<id>` (plain `tp_session` without `Secure`) plus `X-CSRF-Token: <csrf>` → `{"Session": {..}}`
//!
//! The cookie counts only on same-site requests from an allowed origin
//! ([`HttpAuthOptions::allowed_origins`]). A page's WebSocket upgrade offers the CSRF
//! token as a subprotocol ([`CSRF_PROTOCOL_PREFIX`]). An `@auth_` already in the message wins;
//! a credential of a kind the schema's `union.Auth_` lacks is left out. The
//! client's [`PeerAddress`] reaches the auth hook for the failed-login limits.
//! A handler opens or closes the session cookie with [`set_session_cookie`] /
//! [`clear_session_cookie`]; the cookie is `HttpOnly`, `Secure` and `SameSite=Strict`.

mod client_address;
mod cookie;
mod cors;
mod credentials;
#[cfg(feature = "nats")]
pub mod nats;
mod sensitive;
mod websocket;

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Extensions, HeaderValue, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use serde_json::Value;
use telepact::http::{
    BodyLimits, HttpOptions, Processor, counted_websocket_session, method_not_allowed, read_body,
};
use telepact::{Headers, PeerAddress, Response, Server};

use crate::credential::Credential;

pub use client_address::{InvalidProxy, parse_trusted_proxy, with_client_address};
use client_address::{client_address, connection_peer};
pub use cookie::{SESSION_COOKIE_HEADER, clear_session_cookie, set_session_cookie};
use credentials::CarriedKinds;
pub use ipnet::IpNet;
pub use sensitive::with_sensitive_credentials;
pub use websocket::CSRF_PROTOCOL_PREFIX;

/// Names and flags of the transport credentials.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpAuthOptions {
    /// Base name of the session cookie; see [`session_cookie_name`](Self::session_cookie_name).
    pub cookie_name: String,
    /// Header that carries a session's CSRF token (its name matches in any case).
    pub csrf_header: String,
    /// Header that carries an API key (its name matches in any case).
    pub api_key_header: String,
    /// Mark the cookie `Secure` (browsers then send it over HTTPS and to localhost
    /// only). Turn off only for plain-HTTP development on another host.
    pub secure_cookie: bool,
    /// Origins (`https://board.example.com`) whose pages may call with the session
    /// cookie. Empty: any origin the browser does not mark cross-site, which a browser
    /// sending no `Sec-Fetch-Site` (Safari before 16.4) leaves unmarked, so a page
    /// elsewhere could sign such a browser into the page author's own account (it could
    /// not use the session, lacking its CSRF token): list the origins in production.
    /// A cookie sent with another
    /// `Origin`, or on a request the browser marks `Sec-Fetch-Site: cross-site`, is
    /// ignored, so the call proceeds without credentials. The listed origins are
    /// granted credentialed CORS requests (`POST` with `Content-Type`, `Authorization`,
    /// the CSRF and API-key headers), their preflights answered, so their pages may
    /// call from another host of the site.
    pub allowed_origins: Vec<String>,
    /// Reverse proxies in front of the service: addresses or networks
    /// (`IpNet::from(address)`, `"10.0.0.0/8".parse()`; an IPv4 one matches in either
    /// form, `10.0.0.1` or `::ffff:10.0.0.1`). A request from one of these
    /// peers is counted (for the failed-login limits) against the address its
    /// `X-Forwarded-For` names: the right-most entry that is not itself a trusted
    /// proxy. Empty (the default): the header is ignored, since any client can write it.
    pub trusted_proxies: Vec<IpNet>,
}

impl HttpAuthOptions {
    /// Sets the `allowed_origins` field.
    #[must_use]
    pub fn allowed_origins(
        mut self,
        allowed_origins: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.allowed_origins = allowed_origins.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the `trusted_proxies` field.
    #[must_use]
    pub fn trusted_proxies(mut self, trusted_proxies: impl IntoIterator<Item = IpNet>) -> Self {
        self.trusted_proxies = trusted_proxies.into_iter().collect();
        self
    }

    /// The session cookie's name on the wire. With `secure_cookie` it is `__Host-` +
    /// `cookie_name`: browsers then take it only when `Secure`, host-only and on `Path=/`,
    /// so no sibling subdomain can plant or overwrite it.
    pub fn session_cookie_name(&self) -> String {
        if self.secure_cookie && !self.cookie_name.starts_with("__Host-") {
            format!("__Host-{}", self.cookie_name)
        } else {
            self.cookie_name.clone()
        }
    }
}

telepact::__option_setters!(HttpAuthOptions {
    cookie_name: into String,
    csrf_header: into String,
    api_key_header: into String,
    secure_cookie: bool,
});

impl Default for HttpAuthOptions {
    fn default() -> Self {
        HttpAuthOptions {
            cookie_name: "tp_session".to_string(),
            csrf_header: "x-csrf-token".to_string(),
            api_key_header: "x-api-key".to_string(),
            secure_cookie: true,
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Clone)]
struct Adapter {
    server: Server,
    options: HttpAuthOptions,
    body: BodyLimits,
    carried: CarriedKinds,
}

impl Adapter {
    /// Who calls: the client's address (see [`HttpAuthOptions::trusted_proxies`]) and
    /// the credential the request's headers carry.
    fn caller(&self, request: &Request) -> (Option<SocketAddr>, Option<Credential>) {
        let headers = request.headers();
        let client = client_address(
            connection_peer(request),
            headers,
            &self.options.trusted_proxies,
        );
        (client, self.carried.read(headers, &self.options))
    }
}

/// An axum router serving `POST {http.path}` with `server`, translating credentials.
/// Serve it with [`serve`] so the peer address is known. The pages of
/// [`HttpAuthOptions::allowed_origins`] are granted credentialed CORS requests.
///
/// `GET` on the same path upgrades to a WebSocket session, one Telepact message per
/// WebSocket message as `telepact::http::router` serves them; the upgrade request's
/// credentials count for every message. A browser cannot add the CSRF header to an
/// upgrade; its page offers the token as a subprotocol instead,
/// [`CSRF_PROTOCOL_PREFIX`] and the token
/// (`new WebSocket(url, ["telepact-csrf." + csrfToken])`), which the upgrade's answer
/// names as chosen. A session cookie a handler opens in a session cannot be set (a
/// session has no response headers): it is dropped, never sent in the message.
///
/// # Panics
///
/// When `http.path` is not a path axum routes as written, as
/// [`telepact::http::router`] panics; a path set with [`HttpOptions::checked_path`]
/// never is.
pub fn router(server: Server, http: &HttpOptions, options: HttpAuthOptions) -> Router {
    let upgrades = websocket::upgrades_with_csrf_protocol(get(upgrade), &options.csrf_header);
    let adapter = Adapter {
        carried: CarriedKinds::of(server.schema()),
        server,
        options: options.clone(),
        body: http.body_limits(),
    };
    let router = Router::new()
        .route(
            &http.path,
            post(handle).merge(upgrades).fallback(method_not_allowed),
        )
        .with_state(adapter);
    let router = credentials::no_cookie_for_foreign_pages(router, &options);
    cors::with_cors(router, &options)
}

/// Serves a router until `shutdown` completes, with each request's peer address known,
/// as the runtime's own [`telepact::http::serve`] does, the headers that carry
/// credentials under [`HttpAuthOptions::default`]'s names marked sensitive before the
/// router sees them ([`with_sensitive_credentials`]): a layer of the application's own
/// that logs headers shows `Sensitive` in their place. Under other names, or served
/// another way, apply [`with_sensitive_credentials`] last.
///
/// # Errors
///
/// As [`telepact::http::serve`]: it resolves to `Ok` once shut down.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = with_sensitive_credentials(router, &HttpAuthOptions::default());
    telepact::http::serve(listener, router, shutdown).await
}

async fn handle(State(adapter): State<Adapter>, request: Request) -> HttpResponse {
    let (client, credential) = adapter.caller(&request);
    let (parts, body) = request.into_parts();
    let body = match read_body(&parts, body, adapter.body).await {
        Ok(body) => body,
        Err(refusal) => {
            // Counted as the runtime's own endpoint counts it, when the server reports
            // metrics.
            Processor::refused(&adapter.server, refusal.status());
            return refusal.into_response();
        }
    };
    let transport = transport_of(parts.extensions, client);
    let mut cookie_request = None;
    let response = adapter
        .server
        .process_adapted(
            &body,
            transport,
            |headers: &mut Headers| add_credential(headers, credential),
            // The session id travels only in the HttpOnly cookie, never in the body
            // where page scripts could read it.
            |headers: &mut Headers| cookie_request = headers.remove(SESSION_COOKIE_HEADER),
        )
        .await;
    respond(response, cookie_request.as_ref(), &adapter.options)
}

/// The `GET` handler: a WebSocket session whose messages carry the upgrade request's
/// credentials and caller; a message refused is counted as a POST body refused is.
async fn upgrade(State(adapter): State<Adapter>, request: Request) -> HttpResponse {
    let (client, credential) = adapter.caller(&request);
    let (server, limits) = (adapter.server, adapter.body);
    let counting = server.clone();
    let refused = move |status| Processor::refused(&counting, status);
    let answerer = move |extensions| {
        let transport = transport_of(extensions, client);
        move |body: Bytes| {
            let (server, credential, transport) =
                (server.clone(), credential.clone(), transport.clone());
            async move {
                let response = server
                    .process_adapted(
                        &body,
                        transport,
                        |headers: &mut Headers| add_credential(headers, credential),
                        |headers: &mut Headers| {
                            headers.remove(SESSION_COOKIE_HEADER);
                        },
                    )
                    .await;
                Ok((response.bytes, response.encoding))
            }
        }
    };
    counted_websocket_session(request, limits, answerer, refused).await
}

/// What a request tells the server besides its body: its extensions (what tower layers
/// attached, as `telepact::http::router` passes them on) with the client's address as
/// the [`PeerAddress`], resolved through the trusted proxies, in place of the
/// connection's.
fn transport_of(mut extensions: Extensions, client: Option<SocketAddr>) -> Extensions {
    extensions.remove::<ConnectInfo<SocketAddr>>();
    extensions.remove::<PeerAddress>();
    if let Some(client) = client {
        extensions.insert(PeerAddress(client));
    }
    extensions
}

/// `credential`, read off the transport, as the message's `@auth_`, unless the message
/// carries one of its own.
fn add_credential(headers: &mut Headers, credential: Option<Credential>) {
    if let Some(credential) = credential.filter(|_| !headers.contains_key("@auth_")) {
        headers.insert("@auth_".to_string(), credential.to_auth_header());
    }
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
        .and_then(|line| HeaderValue::from_str(&line).ok())
        .map(|mut value| {
            // It holds the session id: kept out of any trace layer that logs headers.
            value.set_sensitive(true);
            value
        });
    let mut http = HttpResponse::new(Body::from(Bytes::from(response.bytes)));
    let headers = http.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = cookie {
        headers.insert(header::SET_COOKIE, cookie);
    }
    http
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a tower layer attaches to a request reaches the server with it, the
    /// client's address as its `PeerAddress`, as `telepact::http::router` passes them.
    #[tokio::test]
    async fn a_layers_extensions_reach_the_handler() {
        use telepact::schema::Schema;
        use telepact::{FunctionRouter, HandlerError, Message};
        use tower::ServiceExt;

        #[derive(Clone)]
        struct RequestId(&'static str);

        let schema = Schema::from_text(r#"[{"fn.whoami": {}, "->": [{"Ok_": {"id": "string"}}]}]"#)
            .expect("schema loads");
        let functions = FunctionRouter::new().route("fn.whoami", |request: Message| async move {
            let id = request
                .extensions
                .get::<RequestId>()
                .map_or("none", |id| id.0);
            let peer = request.extensions.get::<PeerAddress>().map(|peer| peer.0);
            assert_eq!(peer, Some("203.0.113.7:4000".parse().expect("an address")));
            let mut payload = serde_json::Map::new();
            payload.insert("id".into(), id.into());
            Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
        });
        let server = Server::builder(schema, functions)
            .auth_required(false)
            .build()
            .expect("builds");
        let app = router(server, &HttpOptions::default(), HttpAuthOptions::default())
            .layer(axum::Extension(RequestId("from-a-layer")));
        // As it comes over a connection: from a peer, naming its host.
        let mut request = Request::post(telepact::http::DEFAULT_PATH)
            .header("host", "service.example")
            .body(Body::from(r#"[{}, {"fn.whoami": {}}]"#))
            .expect("a request");
        let peer: SocketAddr = "203.0.113.7:4000".parse().expect("an address");
        request.extensions_mut().insert(ConnectInfo(peer));
        let answer = app.oneshot(request).await.expect("answered");
        let body = axum::body::to_bytes(answer.into_body(), 1 << 16)
            .await
            .expect("a body");
        assert_eq!(&body[..], br#"[{},{"Ok_":{"id":"from-a-layer"}}]"#);
    }

    /// A credential the schema's `union.Auth_` has no tag for (a session cookie another
    /// service on the host set, sent to one taking tokens alone) is left out, as an
    /// unreadable one is: the call is answered as one without credentials, where
    /// `@auth_` would be invalid and every call `ErrorInvalidRequestHeaders_`.
    #[tokio::test]
    async fn a_transport_credential_the_schema_cannot_carry_is_left_out() {
        use telepact::schema::Schema;
        use telepact::{Authenticated, FunctionRouter, HandlerError, Message};
        use tower::ServiceExt;

        let schema = Schema::from_text(
            r#"[{"union.Auth_": [{"Bearer": {"token": "string"}}]},
                {"fn.whoami": {}, "->": [{"Ok_": {}}]}]"#,
        )
        .expect("schema loads");
        let functions = FunctionRouter::new().route("fn.whoami", |_: Message| async {
            Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Default::default()))
        });
        let server = Server::builder(schema, functions)
            .on_auth(|_: Headers| async { Ok::<_, HandlerError>(Authenticated::new()) })
            .build()
            .expect("builds");
        let app = router(server, &HttpOptions::default(), HttpAuthOptions::default());
        let answer = |header: (&'static str, &'static str), function: &'static str| {
            let request = Request::post(telepact::http::DEFAULT_PATH)
                .header("host", "service.example")
                .header(header.0, header.1)
                .body(Body::from(format!(r#"[{{}}, {{"{function}": {{}}}}]"#)))
                .expect("a request");
            let app = app.clone();
            async move {
                let answer = app.oneshot(request).await.expect("answered");
                let body = axum::body::to_bytes(answer.into_body(), 1 << 16).await;
                String::from_utf8(body.expect("a body").to_vec()).expect("text")
            }
        };
        let cookie = ("cookie", "__Host-tp_session=tps_other");
        let key = ("x-api-key", "tpk_a.b");
        for header in [cookie, key] {
            assert_eq!(answer(header, "fn.ping_").await, r#"[{},{"Ok_":{}}]"#);
            let refused = answer(header, "fn.whoami").await;
            assert!(refused.contains("ErrorUnauthenticated_"), "{refused}");
        }
        let bearer = ("authorization", "Bearer t");
        assert_eq!(answer(bearer, "fn.whoami").await, r#"[{},{"Ok_":{}}]"#);
    }

    #[test]
    fn the_session_cookie_is_a_sensitive_header() {
        let response = Response {
            bytes: b"[{},{}]".to_vec(),
            headers: telepact::Headers::new(),
            encoding: telepact::Encoding::Json,
        };
        let cookie = serde_json::json!({"id": "s3cret", "maxAge": 60});
        let http = respond(response, Some(&cookie), &HttpAuthOptions::default());
        let set = http.headers().get(header::SET_COOKIE).expect("a cookie");
        assert!(set.to_str().unwrap().contains("s3cret"));
        assert!(set.is_sensitive());
        assert!(format!("{:?}", http.headers()).contains("Sensitive"));
    }
}
