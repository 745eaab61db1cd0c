//! A Telepact service with real auth, built on `telepact-auth`.
//!
//! Users sign in with a password (`fn.login`) and get an access token and a refresh
//! token; they can open a browser session, mint API keys, refresh, and log out. Every
//! function's requirement is declared in [`policy`].

pub mod directory;
pub mod service;

/// The types, handler trait and client generated from `api/` at build time.
pub mod api {
    telepact::include_schema!("api");
}

use std::sync::Arc;

use telepact::schema::{LoadError, Schema};
use telepact::{BuildError, Server};
use telepact_auth::{AuthMethod, Authenticator, MemoryUsers, Policy, Requirement};

pub use service::AuthService;

/// The schema, embedded so the binary runs from anywhere.
pub const SCHEMA_FILE: (&str, &str) = (
    "auth-service.telepact.yaml",
    include_str!("../api/auth-service.telepact.yaml"),
);

/// Who may call what: the one place the service's access rules live.
pub fn policy() -> Policy {
    Policy::new()
        .require("fn.login", Requirement::Method(AuthMethod::Password))
        .public("fn.refresh")
        .require("fn.createApiKey", Requirement::Scope("keys:write".into()))
        .require("fn.listUsers", Requirement::Role("admin".into()))
}

/// Why the server could not be put together.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the embedded schema is invalid:\n{0}")]
    Schema(#[from] LoadError),
    #[error(transparent)]
    Server(#[from] BuildError),
    #[error("the policy disagrees with the schema about {0:?}")]
    Policy(Vec<String>),
}

/// The Telepact server: schema, handlers, auth hook and policy.
pub fn server(auth: Authenticator, users: MemoryUsers) -> Result<Server, SetupError> {
    let schema = Schema::from_documents([SCHEMA_FILE])?;
    let policy = policy();
    let mismatches = policy.mismatches(&schema);
    if !mismatches.is_empty() {
        return Err(SetupError::Policy(mismatches));
    }
    let handlers = AuthService::new(auth.clone(), users);
    let server = Server::builder(Arc::new(schema), api::router(handlers))
        .on_auth(auth.hook())
        .middleware(policy.middleware())
        .build()?;
    Ok(server)
}
