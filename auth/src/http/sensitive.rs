//! The request headers that carry credentials, marked sensitive before the
//! application's own layers see them: `Debug` of the headers (a trace layer that logs
//! them, tower-http's `TraceLayer` with headers in its spans) shows `Sensitive` in
//! their place. A WebSocket upgrade's CSRF token rides among the protocols it offers
//! (`Sec-WebSocket-Protocol: telepact-csrf.…`), so that header is marked when it holds
//! one.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderName;
use axum::http::header::{
    AUTHORIZATION, COOKIE, Entry, PROXY_AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL,
};
use axum::http::{HeaderMap, HeaderValue};

use super::{CSRF_PROTOCOL_PREFIX, HttpAuthOptions};

/// `router` with the request headers that carry credentials (`Authorization`,
/// `Proxy-Authorization`, `Cookie`, the API-key and CSRF headers `options` names, and a
/// WebSocket upgrade's `Sec-WebSocket-Protocol` offering the CSRF protocol) marked
/// sensitive before anything in it reads them. Apply it last, around the layers
/// of your own: a layer outside it sees the headers as the client sent them.
/// [`serve`](super::serve) applies it with [`HttpAuthOptions::default`]'s names.
pub fn with_sensitive_credentials(router: Router, options: &HttpAuthOptions) -> Router {
    let configured = [&options.api_key_header, &options.csrf_header]
        .into_iter()
        .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok());
    let names: Arc<[HeaderName]> = [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE]
        .into_iter()
        .chain(configured)
        .collect();
    router.layer(axum::middleware::map_request_with_state(
        names,
        mark_sensitive,
    ))
}

async fn mark_sensitive(State(names): State<Arc<[HeaderName]>>, mut request: Request) -> Request {
    for name in names.iter() {
        if let Entry::Occupied(mut entry) = request.headers_mut().entry(name) {
            entry.iter_mut().for_each(|value| value.set_sensitive(true));
        }
    }
    mark_offered_csrf_tokens(request.headers_mut());
    request
}

/// Marks the offered WebSocket protocols that carry a CSRF token, as the upgrade's
/// CSRF header would be; the other protocols stay readable in a log.
fn mark_offered_csrf_tokens(headers: &mut HeaderMap) {
    if let Entry::Occupied(mut entry) = headers.entry(SEC_WEBSOCKET_PROTOCOL) {
        entry
            .iter_mut()
            .filter(|protocols| offers_csrf_token(protocols))
            .for_each(|protocols| protocols.set_sensitive(true));
    }
}

fn offers_csrf_token(protocols: &HeaderValue) -> bool {
    let prefix = CSRF_PROTOCOL_PREFIX.as_bytes();
    protocols
        .as_bytes()
        .windows(prefix.len())
        .any(|window| window == prefix)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    /// The headers of an upgrade offering `protocols`, as a layer inside
    /// [`with_sensitive_credentials`] prints them.
    async fn printed_upgrade(protocols: &str) -> String {
        let printed = Arc::new(Mutex::new(String::new()));
        let into = Arc::clone(&printed);
        let app = Router::new()
            .route("/", get(|| async {}))
            .layer(axum::middleware::map_request(move |request: Request| {
                *into.lock().unwrap() = format!("{:?}", request.headers());
                async move { request }
            }));
        let app = with_sensitive_credentials(app, &HttpAuthOptions::default());
        let upgrade = Request::get("/")
            .header("sec-websocket-protocol", protocols)
            .body(Body::empty())
            .unwrap();
        app.oneshot(upgrade).await.unwrap();
        printed.lock().unwrap().clone()
    }

    /// A WebSocket upgrade carries the session's CSRF token in the protocols it offers
    /// (`telepact-csrf.…`), as a POST carries it in the CSRF header: a layer of the
    /// application's own sees that header marked sensitive too, and the protocols of an
    /// upgrade offering none as they were sent.
    #[tokio::test]
    async fn a_csrf_token_offered_as_a_websocket_protocol_is_marked_sensitive() {
        let offered = printed_upgrade("telepact, telepact-csrf.tpc_secret").await;
        assert!(!offered.contains("tpc_secret"), "{offered}");
        assert!(offered.contains("Sensitive"), "{offered}");
        let plain = printed_upgrade("telepact").await;
        assert!(plain.contains("\"telepact\""), "{plain}");
    }
}
