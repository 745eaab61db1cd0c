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

// `api`: the types, handler trait and client generated from `api/` at build time,
// with the schema they came from.
telepact::include_schema!("api");

use telepact::{BuildError, Server};

pub use board::ShiftBoard;
pub use staff::Identity;

/// Why the server could not be put together.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The runtime refused the schema or the server's configuration.
    #[error(transparent)]
    Server(#[from] BuildError),
}

/// How long one call may take before it answers `ErrorUnknown_`.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The bakery's Telepact server: the schema its types were generated from, handlers,
/// auth hook and middleware.
pub fn server() -> Result<Server, SetupError> {
    server_with_metrics(false)
}

/// Like [`server`], reporting each call to the `metrics` facade when `metrics` is set
/// (see [`telepact::ServerBuilder::metrics`]).
pub fn server_with_metrics(metrics: bool) -> Result<Server, SetupError> {
    let server = api::server_builder(ShiftBoard)
        .on_auth(auth::StaffAuth)
        .middleware(middleware::IdentityMiddleware)
        .request_timeout(REQUEST_TIMEOUT)
        .metrics(metrics)
        .build()?;
    Ok(server)
}
