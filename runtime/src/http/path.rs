//! The endpoint's path, checked before axum's router sees it: `Router::route` panics on
//! a path it cannot take, and a path from user input must get an error instead.

use std::str::FromStr;

use axum::http::uri::PathAndQuery;

/// A path the endpoint cannot be served on as written (see [`HttpOptions::checked_path`]).
///
/// [`HttpOptions::checked_path`]: super::HttpOptions::checked_path
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{}` cannot be served: {why}", shown(.path))]
pub struct InvalidPath {
    path: String,
    why: &'static str,
}

impl InvalidPath {
    /// The path as it was given.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Why it was refused, in a few words.
    pub fn why(&self) -> &'static str {
        self.why
    }
}

/// The most bytes of a request's path (and query) `http` reads.
const LONGEST_PATH: usize = u16::MAX as usize - 1;

/// The first 100 characters of a refused path, and `…` when it goes on: it may be a
/// long one.
fn shown(path: &str) -> String {
    match path.char_indices().nth(100) {
        Some((end, _)) => format!("{}…", &path[..end]),
        None => path.to_string(),
    }
}

/// `path` with its leading `/`, or why the router would not serve it as written:
/// braces and segments starting with `:` or `*` are route syntax, and what `http`
/// does not read as a whole request path (`?`, `#`, spaces, control characters, `<`,
/// `>`, a backquote) is never a request's path.
pub(super) fn route_path(path: &str) -> Result<String, InvalidPath> {
    let refuse = |why| {
        Err(InvalidPath {
            path: path.to_string(),
            why,
        })
    };
    let route = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    if route.contains(['{', '}']) {
        return refuse("braces are route syntax");
    }
    if route
        .split('/')
        .any(|segment| segment.starts_with([':', '*']))
    {
        return refuse("a segment starting with `:` or `*` is route syntax");
    }
    if !route.is_ascii() {
        return refuse(
            "a client sends characters beyond ASCII percent-encoded; write them so (`%C3%A9` for `é`)",
        );
    }
    if route.split('/').any(is_dot_segment) {
        return refuse("a client removes `.` and `..` segments from a path before sending it");
    }
    if route.len() > LONGEST_PATH {
        return refuse("a request's path is at most 65,534 bytes long");
    }
    let whole_path = PathAndQuery::from_str(&route)
        .is_ok_and(|read| read.path() == route && read.query().is_none());
    if !whole_path || route.chars().any(char::is_whitespace) {
        return refuse(
            "a request's path never holds `?`, `#`, spaces, control characters, `<`, `>` or a backquote",
        );
    }
    Ok(route)
}

/// `.` or `..`, written plainly or percent-encoded: URL parsers remove both.
fn is_dot_segment(segment: &str) -> bool {
    let plain = segment.to_ascii_lowercase().replace("%2e", ".");
    plain == "." || plain == ".."
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use proptest::prelude::*;
    use tower::ServiceExt;

    use super::*;
    use crate::http::{HttpOptions, router};
    use crate::schema::Schema;
    use crate::{FunctionRouter, Server};

    fn ping_server() -> Server {
        let schema = Schema::from_text("[]").expect("the empty schema loads");
        Server::builder(schema, FunctionRouter::new())
            .auth_required(false)
            .build()
            .expect("a server of the standard functions builds")
    }

    /// Whether a client sends `route` as it is (its URL parsed, as reqwest parses it),
    /// and a router given `route` builds, answers a ping posted to it, and answers no
    /// other path: not `route` with a letter inserted anywhere, which a parameter
    /// (`{id}`) or catch-all (`{*rest}`) would still match.
    fn served_as_written(route: &str) -> bool {
        let options = HttpOptions::default().path(route);
        let Ok(endpoint) = catch_unwind(AssertUnwindSafe(|| router(ping_server(), &options)))
        else {
            return false;
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime starts");
        let answers = |path: String| {
            let Ok(request) = Request::post(path.as_str())
                .header("content-type", "application/json")
                .body(Body::from(r#"[{},{"fn.ping_":{}}]"#))
            else {
                return false;
            };
            if request.uri().path() != path {
                return false;
            }
            runtime
                .block_on(endpoint.clone().oneshot(request))
                .is_ok_and(|answer| answer.status() == StatusCode::OK)
        };
        let mut with_a_letter_inserted = (1..=route.len())
            .filter(|&at| route.is_char_boundary(at))
            .map(|at| format!("{}x{}", &route[..at], &route[at..]));
        let sent = reqwest::Url::parse(&format!("http://localhost{route}"))
            .map(|url| url.path().to_string());
        sent.is_ok_and(|sent| sent == route)
            && answers(route.to_string())
            && !with_a_letter_inserted.any(answers)
    }

    #[test]
    fn plain_paths_are_kept_and_given_their_slash() {
        assert_eq!(route_path("/api").unwrap(), "/api");
        assert_eq!(route_path("v2/api").unwrap(), "/v2/api");
        assert_eq!(route_path("").unwrap(), "/");
        assert_eq!(
            route_path("/caf%C3%A9/api%20x").unwrap(),
            "/caf%C3%A9/api%20x"
        );
        assert_eq!(route_path("/a./.b/...").unwrap(), "/a./.b/...");
    }

    #[test]
    fn paths_a_client_would_send_otherwise_are_refused() {
        for path in [
            "/café",
            "/a/../b",
            "/a/./b",
            "/..",
            "/a/%2E%2e/b",
            "/a/.%2E",
        ] {
            assert!(route_path(path).is_err(), "{path:?} was accepted");
        }
    }

    #[test]
    fn a_path_longer_than_a_request_holds_is_refused_as_too_long() {
        let longest = "a".repeat(LONGEST_PATH - 1);
        assert!(route_path(&longest).is_ok());
        let refused = route_path(&format!("{longest}a")).unwrap_err();
        assert_eq!(
            refused.why(),
            "a request's path is at most 65,534 bytes long"
        );
        let shown = refused.to_string();
        assert!(
            shown.starts_with(&format!("`{}…` cannot be served", "a".repeat(100))),
            "{shown}"
        );
    }

    #[test]
    fn route_syntax_and_what_no_request_path_holds_are_refused() {
        for (path, why) in [
            ("/api/{version}", "braces are route syntax"),
            (
                "/api/:id",
                "a segment starting with `:` or `*` is route syntax",
            ),
            (
                "*rest",
                "a segment starting with `:` or `*` is route syntax",
            ),
        ] {
            let refused = route_path(path).unwrap_err();
            assert_eq!((refused.path(), refused.why()), (path, why));
        }
        for path in [
            "/api?v=2",
            "/api#top",
            "/a b",
            "/a\tb",
            "/a<b",
            "/a`b",
            "/a\u{a0}b",
        ] {
            assert!(route_path(path).is_err(), "{path:?} was accepted");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A path is accepted exactly when a router given it serves it as written.
        #[test]
        fn a_path_is_accepted_when_it_is_served_as_written(path in "[/a:*{}?# %.é|~<2eE-]{0,8}") {
            let route = if path.starts_with('/') { path.clone() } else { format!("/{path}") };
            let accepted = route_path(&path);
            prop_assert_eq!(accepted.is_ok(), served_as_written(&route), "{:?}", accepted);
        }
    }
}
