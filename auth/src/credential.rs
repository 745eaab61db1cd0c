//! The credentials a caller may present: the variants of `union.Auth_`.

use serde_json::Value;

use crate::error::AuthError;
use crate::identity::AuthMethod;

/// One `@auth_` value. The toolkit understands these `union.Auth_` variants:
///
/// ```yaml
/// - union.Auth_:
///     - Password: {username: "string", password: "string"}
///     - Bearer: {token: "string"}
///     - ApiKey: {key: "string"}
///     - Session: {id: "string", csrf: "string"}
/// ```
///
/// `Debug` shows the variant only, so a stray `{:?}` leaks nothing: not even the user
/// name, where people type their password often enough.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// Login with a user name and password.
    Password {
        /// The account name the user logs in with.
        username: String,
        /// The password, checked against the stored argon2id hash.
        password: String,
    },
    /// An access token from [`Authenticator::issue_tokens`](crate::Authenticator::issue_tokens) or a refresh.
    Bearer {
        /// The encoded JWT.
        token: String,
    },
    /// An API key issued to a user.
    ApiKey {
        /// The full key (`tpk_...`).
        key: String,
    },
    /// A session id and the CSRF token that must accompany it.
    Session {
        /// The session id; as secret as a password.
        id: String,
        /// The CSRF token the page sent with the request.
        csrf: String,
    },
}

impl Credential {
    /// Reads an `@auth_` header value.
    ///
    /// # Errors
    ///
    /// [`AuthError::Malformed`] when `value` is not an object of one tag (`Password`,
    /// `Bearer`, `ApiKey` or `Session`) whose payload holds that tag's fields as strings
    /// (a session's `csrf` may be left out).
    pub fn from_auth_header(value: &Value) -> Result<Credential, AuthError> {
        let (tag, payload) = value
            .as_object()
            .filter(|map| map.len() == 1)
            .and_then(|map| map.iter().next())
            .ok_or(AuthError::Malformed)?;
        let field = |name: &str| {
            payload
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or(AuthError::Malformed)
        };
        match tag.as_str() {
            "Password" => Ok(Credential::Password {
                username: field("username")?,
                password: field("password")?,
            }),
            "Bearer" => Ok(Credential::Bearer {
                token: field("token")?,
            }),
            "ApiKey" => Ok(Credential::ApiKey { key: field("key")? }),
            "Session" => Ok(Credential::Session {
                id: field("id")?,
                csrf: field("csrf").unwrap_or_default(),
            }),
            _ => Err(AuthError::Malformed),
        }
    }

    /// Which kind of credential this is.
    pub fn method(&self) -> AuthMethod {
        match self {
            Credential::Password { .. } => AuthMethod::Password,
            Credential::Bearer { .. } => AuthMethod::Bearer,
            Credential::ApiKey { .. } => AuthMethod::ApiKey,
            Credential::Session { .. } => AuthMethod::Session,
        }
    }

    /// The credential as an `@auth_` header value.
    pub fn to_auth_header(&self) -> Value {
        let (tag, payload) = match self {
            Credential::Password { username, password } => (
                "Password",
                serde_json::json!({"username": username, "password": password}),
            ),
            Credential::Bearer { token } => ("Bearer", serde_json::json!({"token": token})),
            Credential::ApiKey { key } => ("ApiKey", serde_json::json!({"key": key})),
            Credential::Session { id, csrf } => {
                ("Session", serde_json::json!({"id": id, "csrf": csrf}))
            }
        };
        serde_json::json!({ tag: payload })
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Password { .. } => f.write_str("Password(..)"),
            Credential::Bearer { .. } => f.write_str("Bearer(..)"),
            Credential::ApiKey { .. } => f.write_str("ApiKey(..)"),
            Credential::Session { .. } => f.write_str("Session(..)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_variant_round_trips_through_the_header() {
        let all = [
            Credential::Password {
                username: "ada".into(),
                password: "pw".into(),
            },
            Credential::Bearer { token: "t".into() },
            Credential::ApiKey { key: "k".into() },
            Credential::Session {
                id: "s".into(),
                csrf: "c".into(),
            },
        ];
        for credential in all {
            let header = credential.to_auth_header();
            assert_eq!(Credential::from_auth_header(&header).unwrap(), credential);
        }
    }

    #[test]
    fn unknown_or_malformed_values_are_rejected() {
        for value in [
            json!({"Kerberos": {}}),
            json!({"Bearer": {}}),
            json!({"Bearer": {"token": 1}}),
            json!("Bearer x"),
            json!({"Bearer": {"token": "a"}, "ApiKey": {"key": "b"}}),
        ] {
            assert!(Credential::from_auth_header(&value).is_err(), "{value}");
        }
    }

    #[test]
    fn debug_output_hides_secrets() {
        let password = Credential::Password {
            username: "ada".into(),
            password: "hunter2".into(),
        };
        let bearer = Credential::Bearer {
            token: "eyJsecret".into(),
        };
        let shown = format!("{password:?} {bearer:?}");
        assert_eq!(shown, "Password(..) Bearer(..)");
    }
}
