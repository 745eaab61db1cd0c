//! A bearer token kept fresh: refreshed before it expires, once for all callers.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{Mutex, OwnedMutexGuard};
use tracing::Instrument as _;

use super::Authoriser;
use super::cache::TokenCache;
use super::credential::Credential;
use super::error::AuthoriseError;
use super::placement::TokenPlacement;
use super::token::{Token, TokenSource};
use crate::clock::{Clock, SystemClock};
use crate::router::BoxFuture;

/// Sends a token from a [`TokenSource`], fetching a new one when the current one has
/// less than the margin (30 s by default) left to live, or when the server refused it.
/// A token fetched with a lifetime shorter than twice the margin is renewed once half
/// of it is spent, rather than found stale at once and fetched again for every call.
///
/// The token sits behind an async mutex that is held while fetching, so concurrent
/// calls that find it stale wait for one fetch and share its result. With a
/// [`TokenCache`], the cached token is read when the cache is set and every new token
/// is written back.
///
/// A fetch runs to its end, and its token is kept, even when the call that started it
/// gives up first (a client's timeout): the source may have spent the refresh token or
/// authorisation code already, and asking again with it would be refused (a server
/// that rotates refresh tokens takes a second use as theft, and revokes them all).
pub struct BearerAuthoriser {
    source: Arc<dyn TokenSource>,
    token: Arc<Mutex<Slot>>,
    margin: Duration,
    clock: Arc<dyn Clock>,
    placement: TokenPlacement,
    cache: Option<TokenCache>,
}

impl BearerAuthoriser {
    /// Fetches tokens from `source` and refreshes them 30 s before they expire.
    pub fn new(source: impl TokenSource) -> Self {
        BearerAuthoriser {
            source: Arc::new(source),
            token: Arc::new(Mutex::new(Slot::default())),
            margin: Duration::from_secs(30),
            clock: Arc::new(SystemClock),
            placement: TokenPlacement::default(),
            cache: None,
        }
    }

    /// Refresh when the token has less than `margin` left.
    pub fn margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The clock expiry is judged by (the system clock by default).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Where the token goes (default `@auth_: {"Bearer": {"token": …}}`).
    pub fn placement(mut self, placement: TokenPlacement) -> Self {
        self.placement = placement;
        self
    }

    /// Starts from `token` (one obtained elsewhere) instead of fetching.
    pub fn token(mut self, token: Token) -> Self {
        self.token = Arc::new(Mutex::new(Slot::holding(token)));
        self
    }

    /// Keeps tokens in `cache`, starting from the cached one when there is one.
    pub fn cache(mut self, cache: TokenCache) -> Self {
        if let Some(cached) = cache.load() {
            tracing::debug!(path = %cache.path().display(), "starting from the cached token");
            self.token = Arc::new(Mutex::new(Slot::holding(cached)));
        }
        self.cache = Some(cache);
        self
    }

    /// The current token, fetched first when it is missing or about to expire.
    ///
    /// # Errors
    ///
    /// Whatever the [`TokenSource`] fails with when a new token is needed (see the
    /// source's own `# Errors`). A token cache that cannot be written is no error: it is
    /// logged.
    pub async fn current_token(&self) -> Result<Token, AuthoriseError> {
        let slot = Arc::clone(&self.token).lock_owned().await;
        let now = self.clock.now();
        let margin = slot
            .lifetime
            .map_or(self.margin, |lifetime| self.margin.min(lifetime / 2));
        if let Some(token) = slot
            .token
            .as_ref()
            .filter(|token| token.fresh_at(now, margin))
        {
            return Ok(token.clone());
        }
        tracing::debug!(renewing = slot.token.is_some(), "fetching a new token");
        let renewal = Renewal {
            source: Arc::clone(&self.source),
            cache: self.cache.clone(),
        };
        // On a task of its own, which holds the slot until the token is in it: dropping
        // this call (a client's timeout) leaves the fetch to finish.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return renewal.run(slot, now).await;
        };
        runtime
            .spawn(renewal.run(slot, now).in_current_span())
            .await
            .unwrap_or_else(|ended| {
                Err(AuthoriseError::Other(format!(
                    "the token fetch ended abnormally: {ended}"
                )))
            })
    }

    async fn expire_if_current(&self, rejected: &Credential) {
        let mut slot = self.token.lock().await;
        if let Some(token) = slot.token.as_mut() {
            let current = self.placement.credential(token.access_token.expose());
            // A token another call already replaced stays as it is.
            if current.ok().as_ref() == Some(rejected) {
                tracing::debug!("the server refused the token; it will be renewed");
                token.expire();
            }
        }
    }
}

/// The token sent with calls, and how long it had to live when fetched (`None` for one
/// handed in or read from the cache, whose lifetime is not known).
#[derive(Default)]
struct Slot {
    token: Option<Token>,
    lifetime: Option<Duration>,
}

impl Slot {
    fn holding(token: Token) -> Self {
        Slot {
            token: Some(token),
            lifetime: None,
        }
    }
}

/// What a token fetch needs, owned, to run on a task of its own.
struct Renewal {
    source: Arc<dyn TokenSource>,
    cache: Option<TokenCache>,
}

impl Renewal {
    /// Fetches a new token into `slot` (renewing the one it holds) and writes it to the
    /// cache, holding the slot until both are done.
    async fn run(
        self,
        mut slot: OwnedMutexGuard<Slot>,
        now: SystemTime,
    ) -> Result<Token, AuthoriseError> {
        let fetched = self.source.fetch(slot.token.clone(), now).await?;
        let lifetime = fetched
            .expires_at
            .map(|at| at.duration_since(now).unwrap_or_default());
        *slot = Slot {
            token: Some(fetched.clone()),
            lifetime,
        };
        if let Some(cache) = &self.cache {
            // Small file; a failure only costs a sign-in on the next start.
            if let Err(error) = cache.store_in_background(&fetched).await {
                tracing::warn!(path = %cache.path().display(), error = %crate::ErrorChain(&error), "could not write the token cache");
            }
        }
        Ok(fetched)
    }
}

impl Authoriser for BearerAuthoriser {
    fn credential(&self) -> BoxFuture<'_, Result<Credential, AuthoriseError>> {
        Box::pin(async move {
            let token = self.current_token().await?;
            self.placement.credential(token.access_token.expose())
        })
    }

    fn rejected<'a>(
        &'a self,
        rejected: &'a Credential,
    ) -> BoxFuture<'a, Result<bool, AuthoriseError>> {
        Box::pin(async move {
            self.expire_if_current(rejected).await;
            Ok(true)
        })
    }
}

impl fmt::Debug for BearerAuthoriser {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("BearerAuthoriser")
            .field("margin", &self.margin)
            .field("placement", &self.placement)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}
