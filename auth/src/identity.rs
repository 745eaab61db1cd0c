//! The normalised caller: what every verifier produces and policy checks.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use telepact::clock::UnixTime;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// A user id and password in `@auth_`.
    Password,
    /// A bearer access token (JWT).
    Bearer,
    /// A long-lived API key.
    ApiKey,
    /// A browser session cookie plus CSRF token.
    Session,
}

impl AuthMethod {
    /// The `union.Auth_` variant name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Password => "Password",
            AuthMethod::Bearer => "Bearer",
            AuthMethod::ApiKey => "ApiKey",
            AuthMethod::Session => "Session",
        }
    }
}

/// Which issued credential the caller used, so it can be revoked (logout). Holds
/// identifiers and hashes, never secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialRef {
    /// A password login; nothing to revoke.
    Password,
    /// An access token.
    Bearer {
        /// The token's `jti` claim.
        token_id: String,
        /// The refresh-token family it was issued in; revoking it ends the whole login.
        family: String,
        /// When the token expires; a revocation only needs to be kept until then.
        expires_at: UnixTime,
    },
    /// An API key.
    ApiKey {
        /// The key's public identifier.
        key_id: String,
    },
    /// A server-side session.
    Session {
        /// Hash of the session id, as stored.
        session_hash: String,
    },
}

impl CredentialRef {
    /// How the caller authenticated.
    pub fn method(&self) -> AuthMethod {
        match self {
            CredentialRef::Password => AuthMethod::Password,
            CredentialRef::Bearer { .. } => AuthMethod::Bearer,
            CredentialRef::ApiKey { .. } => AuthMethod::ApiKey,
            CredentialRef::Session { .. } => AuthMethod::Session,
        }
    }
}

/// The authenticated caller, attached to each request as a [`Message`] extension.
///
/// [`Message`]: telepact::Message
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user's stable identifier.
    pub user_id: String,
    /// The tenant (organisation) the user belongs to.
    pub tenant: String,
    /// The user's roles, as checked by [`Policy`](crate::Policy).
    pub roles: BTreeSet<String>,
    /// What this credential may do: the user's scopes, narrowed by an API key's.
    pub scopes: BTreeSet<String>,
    /// The credential used for this request, for revocation.
    pub credential: CredentialRef,
}

impl Identity {
    /// The names of the headers in [`Identity::headers`].
    pub const HEADER_NAMES: &'static [&'static str] =
        &["@userId", "@tenant", "@roles", "@scopes", "@authMethod"];

    /// How the caller authenticated.
    pub fn method(&self) -> AuthMethod {
        self.credential.method()
    }

    /// Whether the user holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains(role)
    }

    /// Whether this credential grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// The headers merged into an authenticated request: `@userId`, `@tenant`,
    /// `@roles`, `@scopes`, `@authMethod`. Handlers should prefer the typed extension;
    /// headers serve logs and untyped code.
    pub fn headers(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("@userId", json!(self.user_id)),
            ("@tenant", json!(self.tenant)),
            ("@roles", json!(self.roles)),
            ("@scopes", json!(self.scopes)),
            ("@authMethod", json!(self.method().as_str())),
        ]
    }
}
