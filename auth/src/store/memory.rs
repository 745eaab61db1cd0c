//! A process-local store: for tests and single-instance services that may forget
//! everything on restart.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use telepact::BoxFuture;

use super::{
    CredentialStore, PURGE_EVERY_WRITES, StoreError, purge_horizon, set_members, set_text,
};
use telepact::clock::{Clock, SystemClock, UnixTime};

/// Credentials in a `HashMap`. Clones share one map. Every few hundred writes, entries
/// that expired five minutes before (by the store's clock: the system's, or the one
/// given to [`with_clock`](Self::with_clock)) are dropped, so the map holds about what
/// has not expired.
#[derive(Clone)]
pub struct MemoryStore {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    writes: Arc<AtomicU64>,
    clock: Arc<dyn Clock>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            entries: Arc::default(),
            writes: Arc::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Shows nothing held: the entries are credentials' records.
impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Entry {
    value: String,
    expires_at: Option<UnixTime>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Purges by `clock` rather than the system's: give it the clock the
    /// [`Authenticator`](crate::Authenticator) reads
    /// ([`with_clock`](crate::Authenticator::with_clock)), so that moving that clock
    /// past an expiry lets the entry go.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How many entries the store holds.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every entry that expired before `before`; returns how many.
    pub fn purge_expired(&self, before: UnixTime) -> usize {
        let mut entries = self.entries();
        let held = entries.len();
        entries.retain(|_, entry| entry.expires_at.is_none_or(|at| at >= before));
        held - entries.len()
    }

    /// Stores `value` under `key` until `expires_at`.
    fn write(
        entries: &mut HashMap<String, Entry>,
        key: &str,
        value: String,
        expires_at: Option<UnixTime>,
    ) {
        entries.insert(key.to_string(), Entry { value, expires_at });
    }

    /// Counts a write; every few hundred, purges.
    fn wrote(&self) {
        if self.writes.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY_WRITES
            == PURGE_EVERY_WRITES - 1
        {
            self.purge_expired(purge_horizon(&*self.clock));
        }
    }

    /// Adds `delta` to the counter at `key` under one lock; a counter that exists keeps
    /// its expiry.
    fn count(&self, key: &str, delta: i64, expires_at: Option<UnixTime>) -> i64 {
        let count = {
            let mut entries = self.entries();
            let current = entries.get(key);
            let count = current
                .and_then(|entry| entry.value.parse::<i64>().ok())
                .unwrap_or(0)
                .saturating_add(delta);
            let expires_at = current.map_or(expires_at, |entry| entry.expires_at);
            Self::write(&mut entries, key, count.to_string(), expires_at);
            count
        };
        self.wrote();
        count
    }

    /// Adds `member` to the set at `key` (or, with `add` false, removes it) under one
    /// lock, and gives the set's size. A set keeps the expiry it was created with; an
    /// emptied one goes.
    fn change_set(&self, key: &str, member: &str, add: bool, expires_at: Option<UnixTime>) -> u64 {
        let size = {
            let mut entries = self.entries();
            let current = entries.get(key);
            let expires_at = current.map_or(expires_at, |entry| entry.expires_at);
            let mut members = current
                .map(|entry| set_members(&entry.value))
                .unwrap_or_default();
            let changed = if add {
                members.insert(member.to_string())
            } else {
                members.remove(member)
            };
            if changed && members.is_empty() {
                entries.remove(key);
            } else if changed {
                Self::write(&mut entries, key, set_text(&members), expires_at);
            }
            u64::try_from(members.len()).unwrap_or(u64::MAX)
        };
        self.wrote();
        size
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl CredentialStore for MemoryStore {
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Self::write(&mut self.entries(), key, value.to_string(), expires_at);
        self.wrote();
        Box::pin(async { Ok(()) })
    }

    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let inserted = {
            let mut entries = self.entries();
            let inserted = !entries.contains_key(key);
            if inserted {
                Self::write(&mut entries, key, value.to_string(), expires_at);
            }
            inserted
        };
        self.wrote();
        Box::pin(async move { Ok(inserted) })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        let found = self.entries().get(key).map(|entry| entry.value.clone());
        Box::pin(async move { Ok(found) })
    }

    fn add<'a>(
        &'a self,
        key: &'a str,
        delta: i64,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<i64, StoreError>> {
        let count = self.count(key, delta, expires_at);
        Box::pin(async move { Ok(count) })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.entries().remove(key);
        Box::pin(async { Ok(()) })
    }

    fn add_member<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        let size = self.change_set(key, member, true, expires_at);
        Box::pin(async move { Ok(size) })
    }

    fn remove_member<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.change_set(key, member, false, None);
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_memory_store_keeps_the_contract() {
        super::super::contract::check(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn a_store_given_a_clock_purges_by_it() {
        let clock = telepact::clock::ManualClock::starting_now();
        let store = MemoryStore::new().with_clock(Arc::new(clock.clone()));
        super::super::contract::check_purge_by_clock(&store, &clock, || store.len()).await;
    }

    #[tokio::test]
    async fn expired_entries_are_purged_as_writes_go_on() {
        let store = MemoryStore::new();
        for n in 0..10 {
            store.put(&format!("old:{n}"), "{}", Some(0)).await.unwrap();
        }
        store.put("kept", "{}", None).await.unwrap();
        for _ in 0..PURGE_EVERY_WRITES {
            store.increment("count", Some(i64::MAX / 2)).await.unwrap();
        }
        assert_eq!(store.len(), 2);
    }
}
