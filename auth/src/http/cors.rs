//! CORS for the pages of [`HttpAuthOptions::allowed_origins`]: a page on another origin
//! sends its session cookie and CSRF header only on a credentialed request, which the
//! browser makes only after a preflight the server grants for that very origin.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::HttpAuthOptions;

/// How long a browser may keep a preflight's grant.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// `router` granting credentialed `POST`s to the pages of `options.allowed_origins`
/// (with `Content-Type`, `Authorization`, the CSRF and the API-key headers), its
/// preflights answered; other origins get no grant. Unchanged when no origin is listed:
/// then only same-origin pages, which need no grant, call with the cookie.
pub(super) fn with_cors(router: Router, options: &HttpAuthOptions) -> Router {
    if options.allowed_origins.is_empty() {
        return router;
    }
    let allowed: Arc<[String]> = options.allowed_origins.clone().into();
    let origins = AllowOrigin::predicate(move |origin: &HeaderValue, _| {
        origin.to_str().is_ok_and(|origin| listed(&allowed, origin))
    });
    let configured = [&options.csrf_header, &options.api_key_header]
        .into_iter()
        .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok());
    let headers: Vec<HeaderName> = [CONTENT_TYPE, AUTHORIZATION]
        .into_iter()
        .chain(configured)
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::POST])
        .allow_headers(headers)
        .allow_credentials(true)
        .max_age(PREFLIGHT_MAX_AGE);
    router.layer(cors)
}

/// Whether `origin` is one of `allowed`, written with or without a trailing `/`, in
/// any case.
pub(super) fn listed(allowed: &[String], origin: &str) -> bool {
    let origin = origin.trim();
    allowed.iter().any(|allowed| {
        allowed
            .trim()
            .trim_end_matches('/')
            .eq_ignore_ascii_case(origin)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_without_a_trailing_slash_in_any_case() {
        let allowed = ["https://Board.example.com/".to_string()];
        assert!(listed(&allowed, "https://board.example.com"));
        assert!(!listed(&allowed, "https://board.example.com.evil.test"));
        assert!(!listed(&allowed, "http://board.example.com"));
        assert!(!listed(&[], "https://board.example.com"));
    }
}
