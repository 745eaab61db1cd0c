//! The session cookie: how a handler asks for it, and the `Set-Cookie` line it becomes.

use serde_json::{Value, json};
use telepact::Headers;

use super::HttpAuthOptions;
use crate::issue::NewSession;

/// The response header a handler sets to open or close the session cookie. The HTTP
/// adapter removes it from the response and sends `Set-Cookie` instead, so the
/// session id never reaches page scripts.
pub const SESSION_COOKIE_HEADER: &str = "@sessionCookie";

/// Asks the HTTP adapter to set the session cookie for `session`.
pub fn set_session_cookie(response_headers: &mut Headers, session: &NewSession) {
    response_headers.insert(
        SESSION_COOKIE_HEADER.to_string(),
        json!({"id": session.id, "maxAge": session.max_age}),
    );
}

/// Asks the HTTP adapter to clear the session cookie.
pub fn clear_session_cookie(response_headers: &mut Headers) {
    response_headers.insert(SESSION_COOKIE_HEADER.to_string(), Value::Null);
}

/// The `Set-Cookie` value for a header set by [`set_session_cookie`] or
/// [`clear_session_cookie`]; `None` for anything else.
pub(crate) fn set_cookie_line(value: &Value, options: &HttpAuthOptions) -> Option<String> {
    let (id, max_age) = match value {
        Value::Null => ("", 0),
        Value::Object(map) => (
            map.get("id")?.as_str()?,
            map.get("maxAge")?.as_i64()?.max(0),
        ),
        _ => return None,
    };
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return None;
    }
    let secure = if options.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    Some(format!(
        "{}={id}; Path=/; Max-Age={max_age}; HttpOnly{secure}; SameSite=Strict",
        options.session_cookie_name()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_secure_and_same_site() {
        let line = set_cookie_line(
            &json!({"id": "tps_abc", "maxAge": 60}),
            &HttpAuthOptions::default(),
        );
        assert_eq!(
            line.as_deref(),
            Some(
                "__Host-tp_session=tps_abc; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Strict"
            )
        );
    }

    #[test]
    fn only_a_secure_cookie_takes_the_host_prefix() {
        let plain = HttpAuthOptions {
            secure_cookie: false,
            ..HttpAuthOptions::default()
        };
        let line = set_cookie_line(&json!({"id": "tps_abc", "maxAge": 60}), &plain);
        assert_eq!(
            line.as_deref(),
            Some("tp_session=tps_abc; Path=/; Max-Age=60; HttpOnly; SameSite=Strict")
        );
    }

    #[test]
    fn clearing_expires_it_and_odd_values_are_refused() {
        let options = HttpAuthOptions::default();
        let cleared = set_cookie_line(&Value::Null, &options).unwrap();
        assert!(cleared.starts_with("__Host-tp_session=; Path=/; Max-Age=0;"));
        assert_eq!(
            set_cookie_line(&json!({"id": "a;b", "maxAge": 1}), &options),
            None
        );
        assert_eq!(set_cookie_line(&json!("x"), &options), None);
    }
}
