//! A page's CSRF token for a WebSocket session. A browser lets a page add no header
//! to a WebSocket upgrade, but it lets it offer subprotocols, sent as
//! `Sec-WebSocket-Protocol`; a page offers its session's CSRF token as one:
//!
//! ```js
//! new WebSocket("wss://board.example.com/api", ["telepact-csrf." + csrfToken]);
//! ```
//!
//! The upgrade then reads as if it carried the CSRF header, and its answer names that
//! protocol as chosen, as browsers require of a server that takes an offered one.

use axum::extract::{Request, State};
use axum::http::header::{CONNECTION, SEC_WEBSOCKET_PROTOCOL, UPGRADE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response as HttpResponse;
use axum::routing::MethodRouter;

/// What a WebSocket subprotocol carrying a session's CSRF token starts with; the token
/// follows it (`telepact-csrf.tpc_…`).
pub const CSRF_PROTOCOL_PREFIX: &str = "telepact-csrf.";

/// `router` taking the CSRF token of a WebSocket upgrade from its offered subprotocols
/// (see the module's docs) as the header `csrf_header` names. A router whose requests
/// no CSRF header could reach (the name is no HTTP header name) is left as it is.
#[cfg(feature = "nats")]
pub(super) fn with_csrf_protocol(router: axum::Router, csrf_header: &str) -> axum::Router {
    match HeaderName::from_bytes(csrf_header.as_bytes()) {
        Ok(name) => router.layer(from_fn_with_state(name, csrf_from_protocol)),
        Err(_) => router,
    }
}

/// `with_csrf_protocol` for one route's methods: the `GET` that upgrades, so that
/// other requests do not pass through the middleware.
pub(super) fn upgrades_with_csrf_protocol<S>(
    route: MethodRouter<S>,
    csrf_header: &str,
) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    match HeaderName::from_bytes(csrf_header.as_bytes()) {
        Ok(name) => route.layer(from_fn_with_state(name, csrf_from_protocol)),
        Err(_) => route,
    }
}

/// For an upgrade offering the CSRF protocol: its token becomes the CSRF header (unless
/// the request carries one), and a `101 Switching Protocols` answer names the protocol.
async fn csrf_from_protocol(
    State(csrf_header): State<HeaderName>,
    mut request: Request,
    next: Next,
) -> HttpResponse {
    let Some(protocol) = offered_csrf_protocol(request.method(), request.headers()) else {
        return next.run(request).await;
    };
    let headers = request.headers_mut();
    if !headers.contains_key(&csrf_header)
        && let Some(token) = token_of(&protocol)
    {
        headers.insert(csrf_header, token);
    }
    let mut response = next.run(request).await;
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        response
            .headers_mut()
            .insert(SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    response
}

/// The first CSRF protocol a WebSocket upgrade request offers, whole (a subprotocol is
/// an HTTP token: no spaces or commas), when its token is not empty.
fn offered_csrf_protocol(method: &Method, headers: &HeaderMap) -> Option<HeaderValue> {
    if method != Method::GET || !lists(headers, UPGRADE, "websocket") {
        return None;
    }
    if !lists(headers, CONNECTION, "upgrade") {
        return None;
    }
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .find(|protocol| {
            protocol.len() > CSRF_PROTOCOL_PREFIX.len()
                && protocol.starts_with(CSRF_PROTOCOL_PREFIX)
        })
        .and_then(|protocol| sensitive(HeaderValue::from_str(protocol).ok()?))
}

/// The token a CSRF protocol carries.
fn token_of(protocol: &HeaderValue) -> Option<HeaderValue> {
    let token = protocol.as_bytes().get(CSRF_PROTOCOL_PREFIX.len()..)?;
    sensitive(HeaderValue::from_bytes(token).ok()?)
}

/// `value` marked sensitive: it carries a credential, which `Debug` (and so a trace
/// layer logging headers) then leaves out.
fn sensitive(mut value: HeaderValue) -> Option<HeaderValue> {
    value.set_sensitive(true);
    Some(value)
}

/// Whether a `name` header lists `word` (in any case) among its comma-separated values.
fn lists(headers: &HeaderMap, name: HeaderName, word: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(','))
        .any(|entry| entry.trim().eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade(protocols: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        for protocol in protocols {
            headers.append(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(protocol));
        }
        headers
    }

    fn offered(method: Method, headers: &HeaderMap) -> Option<String> {
        let protocol = offered_csrf_protocol(&method, headers)?;
        Some(protocol.to_str().expect("text").to_string())
    }

    #[test]
    fn the_first_csrf_protocol_an_upgrade_offers_is_taken() {
        let headers = upgrade(&["chat, telepact-csrf.tpc_a-1", "telepact-csrf.tpc_b"]);
        let protocol = offered(Method::GET, &headers);
        assert_eq!(protocol.as_deref(), Some("telepact-csrf.tpc_a-1"));
        let token = token_of(&HeaderValue::from_static("telepact-csrf.tpc_a-1"));
        let token = token.expect("a token");
        assert_eq!(token, HeaderValue::from_static("tpc_a-1"));
        assert!(token.is_sensitive() && !format!("{token:?}").contains("tpc_a"));
    }

    #[test]
    fn only_a_websocket_upgrade_offering_a_token_counts() {
        let headers = upgrade(&["telepact-csrf.tpc_a"]);
        assert_eq!(offered(Method::POST, &headers), None);
        assert_eq!(offered(Method::GET, &upgrade(&["telepact-csrf."])), None);
        assert_eq!(
            offered(Method::GET, &upgrade(&["chat", "csrf.tpc_a"])),
            None
        );
        let mut plain_get = headers.clone();
        plain_get.remove(UPGRADE);
        assert_eq!(offered(Method::GET, &plain_get), None);
        let mut no_connection = headers;
        no_connection.remove(CONNECTION);
        assert_eq!(offered(Method::GET, &no_connection), None);
    }
}
