//! Tokens and where new ones come from.

use std::future::Future;
use std::time::{Duration, SystemTime};

use super::error::AuthoriseError;
use super::secret::Secret;
use crate::router::BoxFuture;

/// An access token, when it stops working, and the refresh token that renews it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token sent with calls.
    pub access_token: Secret,
    /// Renews the access token when it expires, if the server issued one.
    pub refresh_token: Option<Secret>,
    /// `None`: no expiry known; used until the server refuses it.
    pub expires_at: Option<SystemTime>,
}

impl Token {
    /// A token with no known expiry and no refresh token.
    pub fn new(access_token: impl Into<Secret>) -> Self {
        Token {
            access_token: access_token.into(),
            refresh_token: None,
            expires_at: None,
        }
    }

    /// Sets when the token stops working.
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Expires `lifetime` after `now` (an `expires_in` answer); never, when that is past
    /// what `SystemTime` holds.
    pub fn expires_in(mut self, now: SystemTime, lifetime: Duration) -> Self {
        self.expires_at = now.checked_add(lifetime);
        self
    }

    /// Sets the refresh token.
    pub fn refresh_token(mut self, refresh_token: impl Into<Secret>) -> Self {
        self.refresh_token = Some(refresh_token.into());
        self
    }

    /// Whether the token still has more than `margin` to live at `now`.
    pub fn fresh_at(&self, now: SystemTime, margin: Duration) -> bool {
        match self.expires_at {
            None => true,
            Some(at) => now.checked_add(margin).is_some_and(|limit| limit < at),
        }
    }

    /// Marks the token as expired, keeping its refresh token.
    pub(super) fn expire(&mut self) {
        self.expires_at = Some(SystemTime::UNIX_EPOCH);
    }
}

/// Gets a new token: signs in, or renews `previous` (which may hold a refresh token,
/// and is `None` on first use). `now` is the authoriser's clock, for `expires_in`.
///
/// Any `Fn(Option<Token>, SystemTime) -> impl Future<Output = Result<Token, AuthoriseError>>`
/// is a token source.
pub trait TokenSource: Send + Sync + 'static {
    /// A new token; `previous` is the last one (with any refresh token), `None` at first.
    fn fetch(
        &self,
        previous: Option<Token>,
        now: SystemTime,
    ) -> BoxFuture<'_, Result<Token, AuthoriseError>>;
}

impl<F, Fut> TokenSource for F
where
    F: Fn(Option<Token>, SystemTime) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Token, AuthoriseError>> + Send + 'static,
{
    fn fetch(
        &self,
        previous: Option<Token>,
        now: SystemTime,
    ) -> BoxFuture<'_, Result<Token, AuthoriseError>> {
        Box::pin(self(previous, now))
    }
}
