//! Why a credential was not accepted. Messages never contain the credential itself.

use crate::store::StoreError;

/// A failed authentication, token operation or policy check. The `Display` text is
/// safe to log: it names what went wrong, never the secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no credentials in @auth_")]
    Missing,
    #[error("@auth_ holds an unsupported or malformed credential")]
    Malformed,
    #[error("unknown user or wrong password")]
    BadPassword,
    #[error("too many failed logins; try again later")]
    Throttled,
    #[error("every password check slot is busy; try again shortly")]
    Busy,
    #[error("access token rejected: {0}")]
    BadToken(&'static str),
    #[error("access token has been revoked")]
    TokenRevoked,
    #[error("refresh token is unknown, expired or revoked")]
    BadRefreshToken,
    #[error("refresh token was used twice; its family is revoked")]
    RefreshReused,
    #[error("API key is unknown or revoked")]
    BadApiKey,
    #[error("session is unknown or expired")]
    BadSession,
    #[error("session CSRF token missing or wrong")]
    BadCsrf,
    #[error("an API key may only carry scopes its owner holds")]
    ScopeNotHeld,
    #[error("user is unknown or disabled")]
    UserUnavailable,
    #[error("credential store failed: {0}")]
    Store(#[from] StoreError),
    #[error("could not {0}")]
    Internal(&'static str),
}
