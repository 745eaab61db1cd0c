//! The auth hook: `@auth_` credentials in, identity out.

use serde_json::Value;
use telepact::{Authenticated, HandlerError, Headers};

use crate::api::Auth;
use crate::staff::{self, Identity};

/// Signs the caller in from `@auth_`. On success the request gains the headers
/// `@employeeId` and `@station` and, for typed code, an [`Identity`] extension.
///
/// Any error here reaches the client as `ErrorUnauthenticated_`; the server logs the
/// error, never the credentials.
pub async fn authenticate(headers: Headers) -> Result<Authenticated, HandlerError> {
    let identity = identify(&headers)?;
    Ok(Authenticated::new()
        .header("@employeeId", Value::String(identity.employee_id.clone()))
        .header("@station", Value::String(identity.station.clone()))
        .extension(identity))
}

fn identify(headers: &Headers) -> Result<Identity, staff::SignInError> {
    let credentials = headers
        .get("@auth_")
        .cloned()
        .and_then(|auth| serde_json::from_value::<Auth>(auth).ok());
    match credentials {
        Some(Auth::Password(password)) => staff::sign_in(&password.username, &password.password),
        None => Err(staff::SignInError::Rejected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(value: Value) -> Headers {
        match value {
            Value::Object(map) => map,
            _ => Headers::new(),
        }
    }

    #[tokio::test]
    async fn a_baker_gets_identity_headers_and_a_typed_identity() {
        let request = headers(json!({
            "@auth_": {"Password": {"username": "lead-baker", "password": "opensesame"}}
        }));
        let authenticated = authenticate(request).await.unwrap();
        assert_eq!(authenticated.headers["@employeeId"], "baker-001");
        assert_eq!(authenticated.headers["@station"], "oven");
        let identity = authenticated.extensions.get::<Identity>().unwrap();
        assert_eq!(identity.employee_id, "baker-001");
    }

    #[tokio::test]
    async fn missing_or_wrong_credentials_fail() {
        assert!(authenticate(Headers::new()).await.is_err());
        let wrong = headers(json!({
            "@auth_": {"Password": {"username": "cashier", "password": "nope"}}
        }));
        assert!(authenticate(wrong).await.is_err());
    }
}
