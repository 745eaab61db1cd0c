//! Authorisers: credentials for every call, kept fresh.
//!
//! A [`Client`](crate::Client) given an authoriser ([`Client::with_authoriser`](crate::Client::with_authoriser))
//! asks it for a [`Credential`] before each call that carries no `@auth_` of its own,
//! and sends it as `@auth_` or as transport headers (HTTP `Authorization`). When the
//! server answers `ErrorUnauthenticated_`, the client tells the authoriser, which may
//! refresh; the call is then retried once.
//!
//! - [`StaticAuthoriser`]: one fixed `union.Auth_` value.
//! - [`BasicAuthoriser`]: username and password, as `@auth_` or HTTP basic.
//! - [`BearerAuthoriser`]: a token from a [`TokenSource`] (any refresh function),
//!   refreshed before it expires, once for all concurrent calls, optionally cached
//!   in a file ([`TokenCache`]).
//! - [`ClientCredentials`] (feature `http-client`): the OAuth2 client credentials
//!   grant, a [`TokenSource`].
//! - [`AuthorizationCode`] with [`Pkce`] (feature `http-client`): the OAuth2
//!   authorisation code grant, then refresh token grants, a [`TokenSource`];
//!   [`LoopbackRedirect`] (features `http-client` and `axum`) receives the code from
//!   the user's browser.
//! - [`TelepactLogin`]: a Telepact `fn.login` / `fn.refresh` pair, a [`TokenSource`];
//!   [`login_authoriser`] wraps it into a ready [`BearerAuthoriser`].
//!
//! Secrets are [`Secret`]s: wiped on drop and never shown by `Debug`.

// The links to the OAuth2 grants resolve when their features are on, as on docs.rs.
#![cfg_attr(
    not(all(feature = "http-client", feature = "axum")),
    allow(rustdoc::broken_intra_doc_links)
)]

mod bearer;
mod cache;
mod call;
mod credential;
#[cfg(feature = "http-client")]
mod endpoint;
mod error;
mod fixed;
mod login;
#[cfg(all(feature = "http-client", feature = "axum"))]
mod loopback;
#[cfg(feature = "http-client")]
mod oauth2;
#[cfg(feature = "http-client")]
mod oauth2_code;
mod placement;
mod secret;
mod token;

pub use bearer::BearerAuthoriser;
pub use cache::TokenCache;
pub use credential::{AuthValue, Credential};
#[cfg(feature = "http-client")]
pub use endpoint::{ClientAuthMethod, DEFAULT_TOKEN_TIMEOUT};
pub use error::AuthoriseError;
pub use fixed::{BasicAuthoriser, StaticAuthoriser};
pub use login::{LoginNames, TelepactLogin, login_authoriser};
#[cfg(all(feature = "http-client", feature = "axum"))]
pub use loopback::LoopbackRedirect;
#[cfg(feature = "http-client")]
pub use oauth2::ClientCredentials;
#[cfg(feature = "http-client")]
pub use oauth2_code::{AuthorizationCode, Pkce, authorization_url, random_state};
pub use placement::{BasicPlacement, TokenPlacement};
pub use secret::Secret;
pub use token::{Token, TokenSource};

use crate::router::BoxFuture;

/// Supplies the credential for each call and hears when the server refused one.
pub trait Authoriser: Send + Sync + 'static {
    /// The credential for the next call. Concurrent calls may ask at the same time.
    fn credential(&self) -> BoxFuture<'_, Result<Credential, AuthoriseError>>;

    /// The server answered `ErrorUnauthenticated_` to a call made with `rejected`.
    /// Answer `true` when the next [`Authoriser::credential`] may succeed where this
    /// one failed (the call is then retried once), `false` to hand the answer to the
    /// caller as it is. By default nothing changes, so nothing is retried.
    fn rejected<'a>(
        &'a self,
        rejected: &'a Credential,
    ) -> BoxFuture<'a, Result<bool, AuthoriseError>> {
        let _ = rejected;
        Box::pin(async { Ok(false) })
    }
}

impl<A: Authoriser + ?Sized> Authoriser for std::sync::Arc<A> {
    fn credential(&self) -> BoxFuture<'_, Result<Credential, AuthoriseError>> {
        (**self).credential()
    }

    fn rejected<'a>(
        &'a self,
        rejected: &'a Credential,
    ) -> BoxFuture<'a, Result<bool, AuthoriseError>> {
        (**self).rejected(rejected)
    }
}
