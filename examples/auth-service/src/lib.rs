//! A Telepact service with real auth, built on `telepact-auth`.
//!
//! Users sign in with a password (`fn.login`) and get an access token and a refresh
//! token; they can open a browser session, mint API keys, refresh, and log out. Every
//! function's requirement is declared in [`policy`].

pub mod directory;
pub mod service;

// `api`: the types, handler trait and client generated from `api/` at build time,
// with the schema they came from (so the binary runs from anywhere).
telepact::include_schema!("api");

use std::sync::Arc;

use telepact::{BuildError, Server, ServerBuilder};
use telepact_auth::{
    AuthConfig, AuthError, AuthMethod, Authenticator, CredentialStore, JwtKeys, MemoryUsers,
    Policy, Requirement,
};

pub use service::AuthService;

/// Who may call what: the one place the service's access rules live.
pub fn policy() -> Policy {
    Policy::new()
        .require("fn.login", Requirement::Method(AuthMethod::Password))
        .public("fn.refresh")
        // A key outlives a logout of the sign-in that made it, and a stolen token is found
        // out only when its refresh token is used twice (which also ends the keys it made):
        // so that a theft never found cannot turn itself into a key, the password is asked
        // for again.
        .require(
            "fn.createApiKey",
            Requirement::AllOf(vec![
                Requirement::Method(AuthMethod::Password),
                Requirement::Scope("keys:write".into()),
            ]),
        )
        // A key's scopes narrow what it may do: one handed to a read-only integration must
        // not switch off its owner's other keys.
        .require("fn.revokeApiKey", Requirement::Scope("keys:write".into()))
        // The role is the user's, whatever the credential; the scope lets an admin's API
        // key be made without the power to list every tenant's users.
        .require("fn.listUsers", list_users_requirement())
}

/// What `fn.listUsers` needs: an admin, signed in with a credential that grants
/// `users:read`.
pub fn list_users_requirement() -> Requirement {
    Requirement::AllOf(vec![
        Requirement::Role("admin".into()),
        Requirement::Scope("users:read".into()),
    ])
}

/// Why the server could not be put together.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The runtime refused the schema or the server's configuration.
    #[error(transparent)]
    Server(#[from] BuildError),
    /// The functions the policy and the schema disagree about (whether they need
    /// authentication, or whether the schema defines them at all).
    #[error("the policy disagrees with the schema about {0:?}")]
    Policy(Vec<String>),
    /// The auth toolkit could not start on the store (for example, no JWT key).
    #[error(transparent)]
    Auth(#[from] AuthError),
}

/// The service's token issuer and audience.
pub const ISSUER: &str = "telepact-auth-example";

/// The service as it runs: credentials and the JWT key in `store` (the first instance
/// creates the key), so every instance on one shared store accepts the others' tokens
/// and sees their revocations.
///
/// # Errors
///
/// [`SetupError::Auth`] when the JWT key cannot be loaded from or created in `store`
/// (see [`JwtKeys::load_or_create`]); then each failure of [`server`].
pub async fn server_on(
    store: Arc<dyn CredentialStore>,
    users: MemoryUsers,
) -> Result<Server, SetupError> {
    Ok(builder_on(store, users).await?.build()?)
}

/// The [`server_on`]'s builder, for more settings before it is built (a binary's
/// metrics recorder).
///
/// # Errors
///
/// As [`server_on`], but for the server's own configuration, refused by
/// [`ServerBuilder::build`].
pub async fn builder_on(
    store: Arc<dyn CredentialStore>,
    users: MemoryUsers,
) -> Result<ServerBuilder, SetupError> {
    let keys = JwtKeys::load_or_create(&*store).await?;
    let config = AuthConfig::new(ISSUER, ISSUER);
    let auth = Authenticator::new(config, keys, Arc::new(users.clone()), store)?;
    builder(auth, users)
}

/// How long one call may take before it answers `ErrorUnknown_`: a password check
/// waiting its turn (2 s at most) and its store's waits (2 s each) fit well inside. The
/// binary's `--request-timeout` sets another.
pub const REQUEST_TIMEOUT: std::time::Duration = telepact::flags::DEFAULT_REQUEST_TIMEOUT;

/// The Telepact server: schema, handlers, auth hook and policy.
///
/// # Errors
///
/// - [`SetupError::Policy`] with the functions the policy and the schema disagree
///   about.
/// - [`SetupError::Server`] when the runtime refuses the configuration (see
///   [`ServerBuilder::build`]).
pub fn server(auth: Authenticator, users: MemoryUsers) -> Result<Server, SetupError> {
    Ok(builder(auth, users)?.build()?)
}

/// The [`server`]'s builder.
///
/// # Errors
///
/// [`SetupError::Policy`] with the functions the policy and the schema disagree about.
pub fn builder(auth: Authenticator, users: MemoryUsers) -> Result<ServerBuilder, SetupError> {
    let schema = api::schema();
    let policy = policy();
    let mismatches = policy.mismatches(&schema);
    if !mismatches.is_empty() {
        return Err(SetupError::Policy(mismatches));
    }
    let handlers = AuthService::new(auth.clone(), users);
    Ok(Server::builder(schema, api::router(handlers))
        .on_auth(auth.hook())
        .middleware(policy.middleware())
        // A call stuck on its store (a Redis that stopped answering) ends as
        // `ErrorUnknown_` rather than holding its connection.
        .request_timeout(REQUEST_TIMEOUT))
}

/// `error` with its causes as the binaries end with it: `error: ` and one line, even
/// when a dependency's error spans lines (the `redis` crate's, for a `--redis` peer that
/// is not Redis), each of its lines then joined by `; `.
pub fn error_line(error: &dyn std::error::Error) -> String {
    let chain = telepact::ErrorChain(error).to_string();
    let lines: Vec<&str> = chain
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    format!("error: {}", lines.join("; "))
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("redis store could not connect")]
    struct Connect(#[source] std::io::Error);

    #[test]
    fn an_error_of_several_lines_ends_a_binary_in_one() {
        let cause = std::io::Error::other("Parse error at 1\r\nUnexpected `72`\n\n");
        assert_eq!(
            super::error_line(&Connect(cause)),
            "error: redis store could not connect: Parse error at 1; Unexpected `72`"
        );
    }
}
