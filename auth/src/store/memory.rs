//! A process-local store: for tests and single-instance services that may forget
//! everything on restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use telepact::BoxFuture;

use super::{CredentialStore, StoreError};
use crate::clock::UnixTime;

/// Credentials in a `HashMap`. Clones share one map.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    entries: Arc<Mutex<HashMap<String, String>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `delta` to the counter at `key` under one lock.
    fn add(&self, key: &str, delta: i64) -> i64 {
        let mut entries = self.entries();
        let count = entries
            .get(key)
            .and_then(|value| value.parse::<i64>().ok())
            .unwrap_or(0)
            .saturating_add(delta);
        entries.insert(key.to_string(), count.to_string());
        count
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl CredentialStore for MemoryStore {
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        _expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.entries().insert(key.to_string(), value.to_string());
        Box::pin(async { Ok(()) })
    }

    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        _expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let mut entries = self.entries();
        let inserted = !entries.contains_key(key);
        if inserted {
            entries.insert(key.to_string(), value.to_string());
        }
        Box::pin(async move { Ok(inserted) })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        let found = self.entries().get(key).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn increment<'a>(
        &'a self,
        key: &'a str,
        _expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<i64, StoreError>> {
        let count = self.add(key, 1);
        Box::pin(async move { Ok(count) })
    }

    fn decrement<'a>(
        &'a self,
        key: &'a str,
        _expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<i64, StoreError>> {
        let count = self.add(key, -1);
        Box::pin(async move { Ok(count) })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.entries().remove(key);
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
}
