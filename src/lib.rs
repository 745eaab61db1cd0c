//! The bakery shift board: Telepact's auth example, served by the Rust runtime.
//!
//! Staff sign in with a username and password in `@auth_`. The auth hook turns those
//! credentials into an [`Identity`] (and the `@employeeId` / `@station` headers), the
//! middleware logs who called what, and the handlers decide from the identity.

pub mod auth;
pub mod board;
pub mod identity_log;
pub mod middleware;
pub mod staff;

/// The types, handler trait and client generated from `api/` at build time.
pub mod api {
    telepact::include_schema!("api");
}

use telepact::schema::{LoadError, Schema};
use telepact::{BuildError, Server};

pub use board::ShiftBoard;
pub use staff::Identity;

/// The schema the server serves: `api/auth.telepact.yaml`, embedded at build time so the
/// binary runs from anywhere.
pub const SCHEMA_FILE: (&str, &str) = (
    "auth.telepact.yaml",
    include_str!("../api/auth.telepact.yaml"),
);

/// Why the server could not be put together.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the embedded schema is invalid:\n{0}")]
    Schema(#[from] LoadError),
    #[error(transparent)]
    Server(#[from] BuildError),
}

/// How long one call may take before it answers `ErrorUnknown_`.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The bakery's Telepact server: schema, handlers, auth hook and middleware.
pub fn server() -> Result<Server, SetupError> {
    server_with_metrics(false)
}

/// Like [`server`], reporting each call to the `metrics` facade when `metrics` is set
/// (see [`telepact::ServerBuilder::metrics`]).
pub fn server_with_metrics(metrics: bool) -> Result<Server, SetupError> {
    let schema = Schema::from_documents([SCHEMA_FILE])?;
    let server = Server::builder(schema, api::router(ShiftBoard))
        .on_auth(auth::authenticate)
        .middleware(middleware::IdentityMiddleware)
        .request_timeout(REQUEST_TIMEOUT)
        .metrics(metrics)
        .build()?;
    Ok(server)
}
