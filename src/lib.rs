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

use telepact::{BuildError, Server, ServerBuilder};

pub use board::ShiftBoard;
pub use staff::Identity;

/// Why the server could not be put together.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The runtime refused the schema or the server's configuration.
    #[error(transparent)]
    Server(#[from] BuildError),
}

/// How long one call may take before it answers `ErrorUnknown_`; the binary's
/// `--request-timeout` sets another.
pub const REQUEST_TIMEOUT: std::time::Duration = telepact::flags::DEFAULT_REQUEST_TIMEOUT;

/// The bakery's Telepact server: the schema its types were generated from, handlers,
/// auth hook and middleware.
///
/// # Errors
///
/// [`SetupError::Server`] when the runtime refuses the configuration (see
/// [`ServerBuilder::build`]): only if the schema, its generated types and the hooks
/// here come to disagree.
pub fn server() -> Result<Server, SetupError> {
    Ok(builder().build()?)
}

/// The [`server`]'s builder, for more settings before it is built: the binary's
/// `--metrics` gives it a Prometheus recorder
/// ([`telepact::ServerBuilder::metrics_recorder`]).
pub fn builder() -> ServerBuilder {
    api::server_builder(ShiftBoard)
        .on_auth(auth::StaffAuth)
        .middleware(middleware::IdentityMiddleware)
        .request_timeout(REQUEST_TIMEOUT)
}
