//! Why a credential was not accepted. Messages never contain the credential itself.

use crate::store::StoreError;

/// A failed authentication, token operation or policy check. The `Display` text is
/// safe to log: it names what went wrong, never the secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The request carries no `@auth_` header.
    #[error("no credentials in @auth_")]
    Missing,
    /// `@auth_` holds a credential kind this service does not accept, or one that does not parse.
    #[error("@auth_ holds an unsupported or malformed credential")]
    Malformed,
    /// Password login failed; deliberately does not say whether the user exists.
    #[error("unknown user or wrong password")]
    BadPassword,
    /// Too many recent failed logins for this user or address.
    #[error("too many failed logins; try again later")]
    Throttled,
    /// Every password-check place is taken, or the account or the client address holds
    /// its share of them; the caller should retry shortly. The password was not checked:
    /// the hook answers it `ErrorUnknown_`, as a store that did not answer.
    #[error("password checks are busy; try again shortly")]
    Busy,
    /// The access token failed verification; the text says which check (signature, expiry, ...).
    #[error("access token rejected: {0}")]
    BadToken(&'static str),
    /// The access token verified but was revoked (logout or a reused refresh token).
    #[error("access token has been revoked")]
    TokenRevoked,
    /// The refresh token is not known, has expired or was revoked.
    #[error("refresh token is unknown, expired or revoked")]
    BadRefreshToken,
    /// A refresh token was presented a second time; the whole token family is revoked.
    #[error("refresh token was used twice; its family is revoked")]
    RefreshReused,
    /// The API key is not known or was revoked.
    #[error("API key is unknown or revoked")]
    BadApiKey,
    /// The session cookie names no live session.
    #[error("session is unknown or expired")]
    BadSession,
    /// A session-authenticated request lacks the matching CSRF token.
    #[error("session CSRF token missing or wrong")]
    BadCsrf,
    /// An API key was requested with scopes its owner does not hold.
    #[error("an API key may only carry scopes its owner holds")]
    ScopeNotHeld,
    /// An API key was given a name longer than
    /// [`MAX_API_KEY_NAME_BYTES`](crate::MAX_API_KEY_NAME_BYTES).
    #[error("an API key's name may be at most {limit} bytes long")]
    KeyNameTooLong {
        /// The most bytes a name may have.
        limit: usize,
    },
    /// An API key asked for another credential (an API key, a token pair or a
    /// session): a key could otherwise renew itself past its expiry, or outlive its own
    /// revocation through what it made.
    #[error("an API key cannot create API keys, tokens or sessions")]
    KeyFromKey,
    /// The user behind a valid credential is unknown or disabled.
    #[error("user is unknown or disabled")]
    UserUnavailable,
    /// The credential store could not be read or written; `source()` says how.
    #[error("credential store failed")]
    Store(#[from] StoreError),
    /// A local operation failed (randomness, hashing, encoding); the text names it.
    #[error("could not {0}")]
    Internal(&'static str),
}
