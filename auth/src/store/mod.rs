//! Where issued credentials live: a small key-value contract with three backends.
//!
//! Keys are namespaced strings (`refresh:<hash>`); values are JSON text. `expires_at`
//! lets a backend drop an entry once it no longer matters; readers still check expiry
//! themselves against the [`Clock`], so an injected clock is honoured.

mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;

use telepact::BoxFuture;

use telepact::clock::{Clock, UnixTime};

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::RedisStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// The embedded stores drop expired entries once every this many writes.
const PURGE_EVERY_WRITES: u64 = 256;

/// How long past its expiry an entry stays, in every store: the embedded ones drop it at
/// the first purge after, by the store's clock; Redis at that time by the wall clock. A
/// reader whose clock runs a little behind (another instance, a test's clock given only
/// to the authenticator) still finds what it wrote. Short beside the failed-login
/// window, so that the entries a stream of failed logins from new addresses and
/// usernames writes are held for about the two windows that read them, not far longer (in a Redis that
/// must not evict, too).
const EXPIRY_GRACE_SECONDS: UnixTime = 5 * 60;

/// Entries that expired before this, by `clock`, are dropped by a purge.
fn purge_horizon(clock: &dyn Clock) -> UnixTime {
    clock.unix_now().saturating_sub(EXPIRY_GRACE_SECONDS)
}

/// The members of a set as the embedded stores keep it: a JSON list in the value. A
/// value that is no such list holds none.
fn set_members(value: &str) -> std::collections::BTreeSet<String> {
    serde_json::from_str(value).unwrap_or_default()
}

/// The value the embedded stores keep `members` as.
fn set_text(members: &std::collections::BTreeSet<String>) -> String {
    serde_json::to_string(members).unwrap_or_default()
}

/// A backend failed. The message names the operation and backend, never a value; the
/// backend's own error (or the reason, when the store itself refused) is its
/// [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("{backend} store could not {operation}")]
pub struct StoreError {
    /// Which backend failed, e.g. `sqlite`.
    pub backend: &'static str,
    /// What it was doing, e.g. `open`.
    pub operation: &'static str,
    /// The backend's own error, or the store's reason as text.
    #[source]
    cause: Box<dyn std::error::Error + Send + Sync>,
}

impl StoreError {
    /// A failure of `backend` while doing `operation`, for `cause`: the backend's error,
    /// or a reason given as text.
    pub fn new(
        backend: &'static str,
        operation: &'static str,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        StoreError {
            backend,
            operation,
            cause: cause.into(),
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
    /// memory and SQLite stores at their first purge five minutes past it (they purge
    /// every 256 writes), so an entry past its expiry may still be returned: a caller
    /// that cares checks the expiry its record holds, as the
    /// [`Authenticator`](crate::Authenticator) does.
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

    /// Adds `member` to the set at `key` and returns how many members the set holds. A
    /// set this call creates expires at `expires_at`. Adding a member the set holds
    /// changes nothing, so a write retried, or run late after its caller gave up on it,
    /// counts once; and [`remove_member`](Self::remove_member) takes it back whether or
    /// not it took effect. The failed-login limits count attempts with it.
    ///
    /// The built-in stores do it in one atomic step. The default does it with
    /// [`add`](Self::add) and a key of the member's ([`put`](Self::put)): a second add
    /// of one member counts it again, and a member whose key was not written (the store
    /// failed between the two) cannot be taken back, so it stays counted: a login limit
    /// over this store errs on the side of refusing. A store that can do better
    /// implements this method, [`member_count`](Self::member_count) and
    /// [`remove_member`](Self::remove_member) together: the default `member_count` reads
    /// the value at `key` as the default `add_member` writes it, so beside a set of the
    /// store's own it counts none (or fails, where the store refuses a plain read of a
    /// set), and the failed-login limits stop reading the previous window.
    fn add_member<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let count = self.add(key, 1, expires_at).await?;
            let until = expires_at.map(|at| at.to_string()).unwrap_or_default();
            self.put(&member_key(key, member), &until, expires_at)
                .await?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
    }

    /// How many members the set at `key` holds ([`add_member`](Self::add_member)); 0
    /// when it is absent. The failed-login limits read the previous window's count with
    /// it.
    ///
    /// The default reads the value at `key`: the default `add_member`'s count, or the
    /// JSON list of members the embedded stores keep. A store whose own `add_member`
    /// keeps the set another way implements this method too.
    fn member_count<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let Some(value) = self.get(key).await? else {
                return Ok(0);
            };
            let count = match value.parse::<i64>() {
                Ok(count) => u64::try_from(count).unwrap_or(0),
                Err(_) => u64::try_from(set_members(&value).len()).unwrap_or(u64::MAX),
            };
            Ok(count)
        })
    }

    /// Removes `member` from the set at `key`; removing one the set does not hold (one
    /// removed already, or one whose addition never took effect) is not an error and
    /// changes nothing.
    ///
    /// The default (see [`add_member`](Self::add_member)) claims the removal with
    /// [`put_if_absent`](Self::put_if_absent), so that only one of concurrent removals
    /// takes the member off the count.
    fn remove_member<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let member_key = member_key(key, member);
            let Some(until) = self.get(&member_key).await? else {
                return Ok(());
            };
            let expires_at = until.parse().ok();
            let removed_key = format!("{member_key}:removed");
            if self.put_if_absent(&removed_key, "", expires_at).await? {
                self.add(key, -1, None).await?;
                self.delete(&member_key).await?;
            }
            Ok(())
        })
    }
}

/// The key the default [`CredentialStore::add_member`] marks a member under.
fn member_key(key: &str, member: &str) -> String {
    format!("{key}:member:{member}")
}

#[cfg(test)]
mod default_members {
    use super::*;

    /// A store with only the required methods, over a memory store.
    struct Basic(MemoryStore);

    impl CredentialStore for Basic {
        fn put<'a>(
            &'a self,
            key: &'a str,
            value: &'a str,
            expires_at: Option<UnixTime>,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            self.0.put(key, value, expires_at)
        }

        fn put_if_absent<'a>(
            &'a self,
            key: &'a str,
            value: &'a str,
            expires_at: Option<UnixTime>,
        ) -> BoxFuture<'a, Result<bool, StoreError>> {
            self.0.put_if_absent(key, value, expires_at)
        }

        fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
            self.0.get(key)
        }

        fn add<'a>(
            &'a self,
            key: &'a str,
            delta: i64,
            expires_at: Option<UnixTime>,
        ) -> BoxFuture<'a, Result<i64, StoreError>> {
            self.0.add(key, delta, expires_at)
        }

        fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
            self.0.delete(key)
        }
    }

    /// The default counts with `add`: a member is taken off once however often it is
    /// removed, and one never added is not taken off at all.
    #[tokio::test]
    async fn the_default_takes_a_member_off_once() {
        let store = Basic(MemoryStore::new());
        let later = Some(i64::MAX / 2);
        assert_eq!(store.add_member("s", "a", later).await.unwrap(), 1);
        assert_eq!(store.add_member("s", "b", later).await.unwrap(), 2);
        let (first, second) =
            tokio::join!(store.remove_member("s", "a"), store.remove_member("s", "a"));
        first.unwrap();
        second.unwrap();
        store.remove_member("s", "never").await.unwrap();
        assert_eq!(store.member_count("s").await.unwrap(), 1);
        assert_eq!(store.add_member("s", "c", later).await.unwrap(), 2);
    }
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

        check_members(store).await;
    }

    /// Sets of members: adding one twice counts it once, removing one absent (or
    /// twice) changes nothing.
    pub(crate) async fn check_members(store: &dyn CredentialStore) {
        let later = Some(i64::MAX / 2);
        assert_eq!(store.add_member("t:set", "a", later).await.unwrap(), 1);
        assert_eq!(store.add_member("t:set", "b", later).await.unwrap(), 2);
        assert_eq!(store.add_member("t:set", "a", later).await.unwrap(), 2);
        assert_eq!(store.member_count("t:set").await.unwrap(), 2);
        assert_eq!(store.member_count("t:none").await.unwrap(), 0);
        store.remove_member("t:set", "a").await.unwrap();
        store.remove_member("t:set", "a").await.unwrap();
        store.remove_member("t:set", "never").await.unwrap();
        store.remove_member("t:none", "a").await.unwrap();
        assert_eq!(store.add_member("t:set", "c", later).await.unwrap(), 2);
        store.remove_member("t:set", "b").await.unwrap();
        store.remove_member("t:set", "c").await.unwrap();
        assert_eq!(store.add_member("t:set", "d", None).await.unwrap(), 1);
    }

    /// An embedded store given `clock` purges by it: entries that expired more than the
    /// grace before it go at the next purge, the others stay. `held` counts the
    /// entries the store holds.
    pub(crate) async fn check_purge_by_clock(
        store: &dyn CredentialStore,
        clock: &telepact::clock::ManualClock,
        held: impl Fn() -> usize,
    ) {
        use telepact::clock::Clock;
        let now = clock.unix_now();
        for n in 0..10 {
            let key = format!("t:failed:{n}");
            store
                .add_member(&key, "attempt", Some(now + 60))
                .await
                .unwrap();
        }
        store.put("t:later", "{}", Some(now + 3600)).await.unwrap();
        store.put("t:kept", "{}", None).await.unwrap();
        let baseline = held();
        // The failures' window ends; within the grace they stay, past it they go.
        clock.advance_secs(60 + u64::try_from(super::EXPIRY_GRACE_SECONDS).unwrap());
        write_until_purged(store).await;
        assert_eq!(held(), baseline + 1, "kept within the grace");
        clock.advance_secs(1);
        write_until_purged(store).await;
        assert_eq!(held(), baseline + 1 - 10, "purged past the grace");
        assert_eq!(store.get("t:later").await.unwrap().as_deref(), Some("{}"));
        assert_eq!(store.get("t:failed:0").await.unwrap(), None);
    }

    /// Writes one counter as often as a purge comes round.
    async fn write_until_purged(store: &dyn CredentialStore) {
        for _ in 0..super::PURGE_EVERY_WRITES {
            store.increment("t:writes", None).await.unwrap();
        }
    }
}
