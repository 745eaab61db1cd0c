//! The shared backend: one Redis for every instance behind a load balancer, so a
//! revocation or a new session on one instance is seen by all at once.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use redis::{ExistenceCheck, SetExpiry, SetOptions};
use telepact::BoxFuture;

use super::{CredentialStore, StoreError};
use crate::clock::{Clock, SystemClock, UnixTime};

const BACKEND: &str = "redis";

/// Kept past `expires_at` (by the wall clock) so a skewed or injected clock still
/// finds the entry while it matters.
const GRACE_SECONDS: i64 = 24 * 3600;

/// Credentials in Redis under a key prefix. Clones share one reconnecting connection.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
}

impl RedisStore {
    /// Connects to `url` (`redis://127.0.0.1:6379/`); keys are stored as
    /// `{prefix}{key}` so several services can share one Redis.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, StoreError> {
        let client =
            redis::Client::open(url).map_err(|e| StoreError::new(BACKEND, "parse its url", e))?;
        let connection = ConnectionManager::new(client)
            .await
            .map_err(|e| StoreError::new(BACKEND, "connect", e))?;
        Ok(RedisStore {
            connection,
            prefix: prefix.into(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn options(expires_at: Option<UnixTime>) -> SetOptions {
        match expires_at {
            Some(at) => {
                let keep_until = at.saturating_add(GRACE_SECONDS).max(SystemClock.now() + 1);
                SetOptions::default().with_expiration(SetExpiry::EXAT(
                    u64::try_from(keep_until).unwrap_or(u64::MAX),
                ))
            }
            None => SetOptions::default(),
        }
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl CredentialStore for RedisStore {
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let _: () = connection
                .set_options(self.key(key), value, Self::options(expires_at))
                .await
                .map_err(|e| StoreError::new(BACKEND, "write", e))?;
            Ok(())
        })
    }

    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let options = Self::options(expires_at).conditional_set(ExistenceCheck::NX);
            let set: Option<String> = connection
                .set_options(self.key(key), value, options)
                .await
                .map_err(|e| StoreError::new(BACKEND, "claim", e))?;
            Ok(set.is_some())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            connection
                .get(self.key(key))
                .await
                .map_err(|e| StoreError::new(BACKEND, "read", e))
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let _: i64 = connection
                .del(self.key(key))
                .await
                .map_err(|e| StoreError::new(BACKEND, "delete", e))?;
            Ok(())
        })
    }
}
