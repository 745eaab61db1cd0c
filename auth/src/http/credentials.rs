//! Transport credentials → `@auth_`: `Authorization: Bearer|Basic`, `X-API-Key`, and
//! the session cookie (with its CSRF header).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE, ORIGIN, SET_COOKIE};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use telepact::schema::{Schema, TypeName};

use super::HttpAuthOptions;
use crate::credential::Credential;

/// The kinds of credential the schema's `union.Auth_` has a tag for. One it lacks would
/// make `@auth_` invalid, and every call carrying it, `fn.ping_` and public ones too,
/// `ErrorInvalidRequestHeaders_`: a browser sends the session cookie of another service
/// on the same host (cookies ignore ports) to a service taking tokens alone.
#[derive(Debug, Clone)]
pub(crate) struct CarriedKinds {
    /// `None` when the schema has no `union.Auth_`.
    tags: Option<Arc<[String]>>,
}

impl CarriedKinds {
    pub(crate) fn of(schema: &Schema) -> Self {
        let tags = match schema.names().get("union.Auth_") {
            Some(TypeName::Union(id)) => Some(schema.union_def(*id).tags.keys().cloned().collect()),
            _ => None,
        };
        CarriedKinds { tags }
    }

    /// The credential the transport headers carry, by precedence: `Authorization`, then
    /// the API-key header, then the session cookie; one of a kind that cannot ride in
    /// `@auth_` is passed over for the next (a proxy's Basic in front of a service
    /// taking sessions alone leaves the session cookie to sign in). An empty header
    /// counts as none. `None` when there is none, or the first the schema could carry
    /// is malformed (the call then proceeds without `@auth_`).
    pub(crate) fn read(
        &self,
        headers: &HeaderMap,
        options: &HttpAuthOptions,
    ) -> Option<Credential> {
        if let Some(value) = credential_header(headers, AUTHORIZATION.as_str()) {
            match from_authorization(value) {
                Some(credential) if !self.carries(&credential) => {}
                credential => return credential,
            }
        }
        if let Some(key) = credential_header(headers, &options.api_key_header) {
            let credential = Credential::ApiKey {
                key: key.trim().to_string(),
            };
            if self.carries(&credential) {
                return Some(credential);
            }
        }
        session_credential(headers, options).filter(|credential| self.carries(credential))
    }

    /// Whether `credential` can ride in `@auth_`.
    fn carries(&self, credential: &Credential) -> bool {
        let tag = credential.method().as_str();
        self.tags
            .as_ref()
            .is_none_or(|tags| tags.iter().any(|carried| carried == tag))
    }
}

/// The credential the transport headers carry, of any kind ([`CarriedKinds::read`] for
/// a schema without `union.Auth_`).
#[cfg(test)]
fn from_transport(headers: &HeaderMap, options: &HttpAuthOptions) -> Option<Credential> {
    CarriedKinds { tags: None }.read(headers, options)
}

/// The session cookie and its CSRF header, unless the request comes from a page that
/// may not use the session.
fn session_credential(headers: &HeaderMap, options: &HttpAuthOptions) -> Option<Credential> {
    let id = session_cookie(headers, &options.session_cookie_name())?;
    if let Some(reason) = foreign_page(headers, options) {
        tracing::debug!(reason, "session cookie ignored");
        return None;
    }
    // A cookie rides along on cross-site requests; the CSRF header cannot, so a
    // missing one makes the session check fail.
    let csrf = header(headers, &options.csrf_header).unwrap_or_default();
    Some(Credential::Session {
        id: id.to_string(),
        csrf: csrf.trim().to_string(),
    })
}

/// `router` without `Set-Cookie` in its answers to pages that may not use the session
/// (see [`foreign_page`]): a cross-site form that posts a login must not sign the
/// browser into the session that login opens (login CSRF), for the page would then act
/// in the attacker's account.
pub(super) fn no_cookie_for_foreign_pages(router: Router, options: &HttpAuthOptions) -> Router {
    let options = Arc::new(options.clone());
    router.layer(axum::middleware::from_fn_with_state(
        options,
        drop_foreign_cookie,
    ))
}

async fn drop_foreign_cookie(
    State(options): State<Arc<HttpAuthOptions>>,
    request: Request,
    next: Next,
) -> Response {
    let reason = foreign_page(request.headers(), &options);
    let mut response = next.run(request).await;
    if let Some(reason) = reason
        && response.headers_mut().remove(SET_COOKIE).is_some()
    {
        tracing::debug!(reason, "session cookie not set");
    }
    response
}

/// Why a request comes from a page that may not use the session: the browser says it
/// is cross-site, or its `Origin` is not an allowed one.
fn foreign_page(headers: &HeaderMap, options: &HttpAuthOptions) -> Option<&'static str> {
    if header(headers, "sec-fetch-site").is_some_and(|site| site.trim() == "cross-site") {
        return Some("cross-site request");
    }
    let origin = header(headers, ORIGIN.as_str())?;
    let allowed = &options.allowed_origins;
    let allowed = allowed.is_empty() || super::cors::listed(allowed, origin);
    (!allowed).then_some("origin not allowed")
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The `name` header, unless it is empty (or blank): such a header carries no
/// credential, and counts as absent, so that the next credential the request brings
/// (its session cookie) signs it in. A client sending the header with a key it has not
/// got yet writes it empty.
fn credential_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    header(headers, name).filter(|value| !value.trim().is_empty())
}

fn from_authorization(value: &str) -> Option<Credential> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Credential::Bearer {
            token: rest.to_string(),
        });
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(rest).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (username, password) = decoded.split_once(':')?;
        return Some(Credential::Password {
            username: username.to_string(),
            password: password.to_string(),
        });
    }
    None
}

pub(super) fn session_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    // Split as bytes: another cookie of the host whose value is not ASCII (browsers
    // send UTF-8 as it was set) must not hide the session's.
    headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|line| line.as_bytes().split(|byte| *byte == b';'))
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn read(pairs: &[(&'static str, &'static str)]) -> Option<Credential> {
        from_transport(&headers(pairs), &HttpAuthOptions::default())
    }

    #[test]
    fn bearer_and_basic_authorization() {
        assert_eq!(
            read(&[("authorization", "Bearer abc.def")]),
            Some(Credential::Bearer {
                token: "abc.def".into()
            })
        );
        // "ada:pa:ss" — passwords may contain colons.
        assert_eq!(
            read(&[("authorization", "basic YWRhOnBhOnNz")]),
            Some(Credential::Password {
                username: "ada".into(),
                password: "pa:ss".into()
            })
        );
        assert_eq!(read(&[("authorization", "Digest x")]), None);
        assert_eq!(read(&[("authorization", "Basic !!!")]), None);
    }

    /// A credential of a kind the schema cannot carry gives way to the next one the
    /// request brings: a proxy's Basic in front of a service taking sessions alone
    /// hid every session, the call answered as one without credentials.
    #[test]
    fn a_kind_the_schema_cannot_carry_gives_way_to_the_next() {
        let only = |tags: &[&str]| CarriedKinds {
            tags: Some(tags.iter().map(ToString::to_string).collect()),
        };
        let request = headers(&[
            ("authorization", "Basic YWRhOnBhOnNz"),
            ("x-api-key", "tpk_a.b"),
            ("cookie", "__Host-tp_session=s1"),
            ("x-csrf-token", "c1"),
        ]);
        let options = HttpAuthOptions::default();
        let session = Credential::Session {
            id: "s1".into(),
            csrf: "c1".into(),
        };
        assert_eq!(only(&["Session"]).read(&request, &options), Some(session));
        let key = Credential::ApiKey {
            key: "tpk_a.b".into(),
        };
        assert_eq!(
            only(&["Bearer", "ApiKey"]).read(&request, &options),
            Some(key)
        );
        assert_eq!(only(&["Bearer"]).read(&request, &options), None);
        let basic = only(&["Password", "Session"]).read(&request, &options);
        assert!(
            matches!(basic, Some(Credential::Password { .. })),
            "{basic:?}"
        );
    }

    #[test]
    fn api_key_header_and_session_cookie() {
        assert_eq!(
            read(&[("x-api-key", "tpk_a.b")]),
            Some(Credential::ApiKey {
                key: "tpk_a.b".into()
            })
        );
        assert_eq!(
            read(&[
                ("cookie", "theme=dark; __Host-tp_session=s1"),
                ("x-csrf-token", "c1")
            ]),
            Some(Credential::Session {
                id: "s1".into(),
                csrf: "c1".into()
            })
        );
        assert_eq!(
            read(&[("cookie", "__Host-tp_session=s1")]),
            Some(Credential::Session {
                id: "s1".into(),
                csrf: String::new()
            })
        );
        assert_eq!(read(&[("cookie", "other=1")]), None);
    }

    /// A browser sends every cookie of the host in one line, another app's UTF-8 value
    /// as it was set: the session cookie beside it still counts.
    #[test]
    fn a_cookie_that_is_not_ascii_leaves_the_session_cookie_counting() {
        let mut request = headers(&[("x-csrf-token", "c1")]);
        let line = HeaderValue::from_bytes("name=José; __Host-tp_session=s1".as_bytes());
        request.insert(COOKIE, line.unwrap());
        assert_eq!(
            from_transport(&request, &HttpAuthOptions::default()),
            Some(Credential::Session {
                id: "s1".into(),
                csrf: "c1".into()
            })
        );
    }

    #[test]
    fn configured_header_names_match_in_any_case() {
        let options = HttpAuthOptions::default()
            .api_key_header("X-Service-Key")
            .csrf_header("X-CSRF");
        let key = headers(&[("x-service-key", "tpk_a.b")]);
        assert_eq!(
            from_transport(&key, &options),
            Some(Credential::ApiKey {
                key: "tpk_a.b".into()
            })
        );
        let session = headers(&[("cookie", "__Host-tp_session=s1"), ("x-csrf", "c1")]);
        assert_eq!(
            from_transport(&session, &options),
            Some(Credential::Session {
                id: "s1".into(),
                csrf: "c1".into()
            })
        );
    }

    #[test]
    fn a_cross_site_cookie_is_ignored() {
        let cookie = ("cookie", "__Host-tp_session=s1");
        let csrf = ("x-csrf-token", "c1");
        assert_eq!(
            read(&[cookie, csrf, ("sec-fetch-site", "cross-site")]),
            None
        );
        assert!(read(&[cookie, csrf, ("sec-fetch-site", "same-origin")]).is_some());
        // Without a list, any origin the browser calls same-site may use it.
        assert!(read(&[cookie, csrf, ("origin", "https://other.example")]).is_some());
    }

    #[test]
    fn only_allowed_origins_may_use_the_cookie() {
        let options = HttpAuthOptions {
            allowed_origins: vec!["https://board.example/".to_string()],
            ..HttpAuthOptions::default()
        };
        let with_origin = |origin: &'static str| {
            let request = headers(&[
                ("cookie", "__Host-tp_session=s1"),
                ("x-csrf-token", "c1"),
                ("origin", origin),
            ]);
            from_transport(&request, &options)
        };
        assert!(with_origin("https://board.example").is_some());
        assert_eq!(with_origin("https://evil.example"), None);
        assert_eq!(with_origin("null"), None);
        // Non-browser clients send no Origin; the CSRF header still guards them.
        let no_origin = headers(&[("cookie", "__Host-tp_session=s1"), ("x-csrf-token", "c1")]);
        assert!(from_transport(&no_origin, &options).is_some());
        // Other credentials do not depend on the page.
        let bearer = headers(&[
            ("authorization", "Bearer t"),
            ("origin", "https://evil.example"),
        ]);
        assert!(from_transport(&bearer, &options).is_some());
    }

    /// An empty `Authorization` or API-key header carries no credential, as an absent one
    /// does: the session cookie beside it signs the call in. A client that sends the
    /// header with whatever key it has (none yet) hid the page's session, and the call
    /// was answered as one with a bad key.
    #[test]
    fn an_empty_credential_header_leaves_the_session_cookie_counting() {
        let session = Some(Credential::Session {
            id: "s1".into(),
            csrf: "c1".into(),
        });
        let cookie = ("cookie", "__Host-tp_session=s1");
        let csrf = ("x-csrf-token", "c1");
        for empty in [
            ("authorization", ""),
            ("authorization", " "),
            ("x-api-key", ""),
            ("x-api-key", " \t"),
        ] {
            assert_eq!(read(&[empty, cookie, csrf]), session, "{empty:?}");
        }
    }

    #[test]
    fn authorization_wins_over_the_cookie() {
        assert!(matches!(
            read(&[
                ("cookie", "__Host-tp_session=s1"),
                ("authorization", "Bearer t")
            ]),
            Some(Credential::Bearer { .. })
        ));
    }
}
