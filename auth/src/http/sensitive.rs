//! The request headers that carry credentials, marked sensitive before the
//! application's own layers see them: `Debug` of the headers (a trace layer that logs
//! them, tower-http's `TraceLayer` with headers in its spans) shows `Sensitive` in
//! their place.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderName;
use axum::http::header::{AUTHORIZATION, COOKIE, Entry, PROXY_AUTHORIZATION};

use super::HttpAuthOptions;

/// `router` with the request headers that carry credentials (`Authorization`,
/// `Proxy-Authorization`, `Cookie`, and the API-key and CSRF headers `options` names)
/// marked sensitive before anything in it reads them. Apply it last, around the layers
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
    request
}
