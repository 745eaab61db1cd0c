//! Where issued credentials live: a small key-value contract with three backends.
//!
//! Keys are namespaced strings (`refresh:<hash>`); values are JSON text. `expires_at`
//! lets a backend drop an entry once it no longer matters; readers still check expiry
//! themselves against the [`Clock`](crate::Clock), so an injected clock is honoured.

mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;

use telepact::BoxFuture;

use telepact::clock::UnixTime;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::RedisStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// The embedded stores drop expired entries once every this many writes.
const PURGE_EVERY_WRITES: u64 = 256;

/// Entries that expired (by the wall clock) before this are dropped by a purge. A day's
/// grace keeps a purge from racing readers that use an injected clock.
fn purge_horizon() -> UnixTime {
    use telepact::clock::{Clock, SystemClock};
    SystemClock.unix_now() - 24 * 3600
}

/// A backend failed. The message names the operation and backend, never a value.
#[derive(Debug, thiserror::Error)]
#[error("{backend} store could not {operation}: {detail}")]
pub struct StoreError {
    /// Which backend failed, e.g. `sqlite`.
    pub backend: &'static str,
    /// What it was doing, e.g. `open`.
    pub operation: &'static str,
    /// The backend's own error text.
    pub detail: String,
}

impl StoreError {
    /// A failure of `backend` while doing `operation`.
    pub fn new(backend: &'static str, operation: &'static str, detail: impl ToString) -> Self {
        StoreError {
            backend,
            operation,
            detail: detail.to_string(),
        }
    }
}

/// Durable key-value storage for credentials. Every instance of a service behind a load
/// balancer must see the same store for revocations and sessions to apply everywhere.
pub trait CredentialStore: Send + Sync + 'static {
    /// Sets `key` to `value`, replacing any previous value.
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Sets `key` only when it is absent; `true` when this call set it. Atomic across
    /// every client of the store: it is how a refresh token is claimed exactly once.
    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// The value at `key`, unless it is absent. Redis drops an entry at its expiry; the
    /// memory and SQLite stores keep it until they purge it (about a day later), so an
    /// entry past its expiry may still be returned: a caller that cares checks the expiry
    /// its record holds, as the [`Authenticator`](crate::Authenticator) does.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>>;

    /// Adds `delta` to the counter at `key` (absent counts as 0) and returns the new
    /// count. A counter this call creates expires at `expires_at`; callers give one key
    /// the same expiry every time (a backend may set it again on each call). Atomic
    /// across every client of the store: the failed-login limits count with it.
    fn add<'a>(
        &'a self,
        key: &'a str,
        delta: i64,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<i64, StoreError>>;

    /// Adds one to the counter at `key`: [`add`](Self::add) of 1.
    fn increment<'a>(
        &'a self,
        key: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<i64, StoreError>> {
        self.add(key, 1, expires_at)
    }

    /// Takes one from the counter at `key`: [`add`](Self::add) of -1.
    fn decrement<'a>(
        &'a self,
        key: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<i64, StoreError>> {
        self.add(key, -1, expires_at)
    }

    /// Removes `key`; removing an absent key is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
}

#[cfg(test)]
pub(crate) mod contract {
    //! Behaviour every backend must show; each backend's tests run it.

    use super::CredentialStore;

    pub(crate) async fn check(store: &dyn CredentialStore) {
        assert_eq!(store.get("t:missing").await.unwrap(), None);

        store.put("t:a", "1", None).await.unwrap();
        assert_eq!(store.get("t:a").await.unwrap().as_deref(), Some("1"));
        store.put("t:a", "2", Some(i64::MAX / 2)).await.unwrap();
        assert_eq!(store.get("t:a").await.unwrap().as_deref(), Some("2"));

        assert!(store.put_if_absent("t:b", "first", None).await.unwrap());
        assert!(!store.put_if_absent("t:b", "second", None).await.unwrap());
        assert_eq!(store.get("t:b").await.unwrap().as_deref(), Some("first"));

        assert_eq!(store.increment("t:n", Some(i64::MAX / 2)).await.unwrap(), 1);
        assert_eq!(store.increment("t:n", None).await.unwrap(), 2);
        assert_eq!(store.get("t:n").await.unwrap().as_deref(), Some("2"));
        assert_eq!(store.decrement("t:n", None).await.unwrap(), 1);
        assert_eq!(store.get("t:n").await.unwrap().as_deref(), Some("1"));
        assert_eq!(store.add("t:n", 5, None).await.unwrap(), 6);
        assert_eq!(store.add("t:fresh", -2, None).await.unwrap(), -2);

        store.delete("t:a").await.unwrap();
        store.delete("t:never").await.unwrap();
        assert_eq!(store.get("t:a").await.unwrap(), None);
    }
}
