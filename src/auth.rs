//! The auth hook: `@auth_` credentials in, identity out.

use serde_json::Value;
use telepact::{AuthFuture, AuthHook, Authenticated, Headers};

use crate::api::Auth;
use crate::staff::{self, Identity};

/// Signs the caller in from `@auth_`. On success the request gains the headers
/// `@employeeId` and `@station` and, for typed code, an [`Identity`] extension.
///
/// Any error here reaches the client as `ErrorUnauthenticated_`; the server logs the
/// error, never the credentials.
///
/// It reads `@auth_` from the request's headers into a typed [`Auth`], which is dropped
/// before the hook returns: the identity keeps no credential. It answers at once
/// ([`AuthFuture::ready`]): checking a password waits for nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct StaffAuth;

impl AuthHook for StaffAuth {
    fn authenticate(&self, headers: &Headers) -> AuthFuture {
        AuthFuture::ready(identify(headers).map(authenticated).map_err(Into::into))
    }

    /// The identity headers are this hook's alone: the server drops a caller's own
    /// before anything reads them, so a public call cannot log a forged identity.
    fn reserved_headers(&self) -> &[&'static str] {
        &[EMPLOYEE_ID, STATION]
    }
}

/// The header the hook sets to the caller's employee id.
pub(crate) const EMPLOYEE_ID: &str = "@employeeId";
/// The header the hook sets to the caller's station.
pub(crate) const STATION: &str = "@station";

fn authenticated(identity: Identity) -> Authenticated {
    Authenticated::new()
        .header(EMPLOYEE_ID, Value::from(identity.employee_id))
        .header(STATION, Value::from(identity.station))
        .extension(identity)
}

fn identify(headers: &Headers) -> Result<Identity, staff::SignInError> {
    // The typed `Auth` the server read with the request (`api::server_builder` asks it
    // to): no JSON values in between, and no copy.
    let credentials = headers.get_as::<Auth>("@auth_").and_then(Result::ok);
    match credentials.as_deref() {
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
            Value::Object(map) => map.into(),
            _ => Headers::new(),
        }
    }

    #[tokio::test]
    async fn a_baker_gets_identity_headers_and_a_typed_identity() {
        let request = headers(json!({
            "@auth_": {"Password": {"username": "lead-baker", "password": "opensesame"}}
        }));
        let authenticated = StaffAuth.authenticate(&request).await.unwrap();
        assert_eq!(
            authenticated.header_value("@employeeId").unwrap(),
            "baker-001"
        );
        assert_eq!(authenticated.header_value("@station").unwrap(), "oven");
        let identity = authenticated.get_extension::<Identity>().unwrap();
        assert_eq!(identity.employee_id, "baker-001");
    }

    #[tokio::test]
    async fn missing_or_wrong_credentials_fail() {
        assert!(StaffAuth.authenticate(&Headers::new()).await.is_err());
        let wrong = headers(json!({
            "@auth_": {"Password": {"username": "cashier", "password": "nope"}}
        }));
        assert!(StaffAuth.authenticate(&wrong).await.is_err());
    }
}
