//! The shared backend: one Redis for every instance behind a load balancer, so a
//! revocation or a new session on one instance is seen by all at once.

use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, ExistenceCheck, ProtocolVersion, RedisResult, SetExpiry, SetOptions};
use telepact::BoxFuture;

use super::{CredentialStore, StoreError};
use telepact::clock::{Clock, SystemClock, UnixTime};

const BACKEND: &str = "redis";

/// Redis refuses far-future expiry times; nothing here needs to outlive ten years.
const MAX_LIFETIME_SECONDS: i64 = 10 * 365 * 24 * 3600;

/// How long one attempt to connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a command may wait for its answer.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Every wait bounded: while Redis is down a call fails within a few seconds (at once
/// when its port refuses), so the checks that need the store fail closed at once and
/// requests do not pile up. (With the client's defaults a call made after the connection
/// dropped waited on reconnection attempts spaced up to a minute apart, for minutes.) A
/// reconnection makes one attempt: the client waits at least a second before any retry,
/// whatever its most, and each call waited on one. A dropped connection is noticed at
/// once (RESP3 tells the manager) and connected again, and a call that meets a
/// reconnection refused while Redis was down tries once more, so service resumes with the
/// first call after Redis is back.
fn connection_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(CONNECT_TIMEOUT)
        .set_response_timeout(RESPONSE_TIMEOUT)
        .set_number_of_retries(0)
}

/// Credentials in Redis under a key prefix. Clones share one reconnecting connection.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
}

impl RedisStore {
    /// Connects to `url` (`redis://127.0.0.1:6379/`); keys are stored as
    /// `{prefix}{key}` so several services can share one Redis.
    ///
    /// Refused when Redis says it evicts keys under memory pressure (a `maxmemory-policy`
    /// other than `noeviction`): it would drop revocations, used refresh tokens and
    /// failed-login counts, all of which expire, so that logged-out tokens work again and
    /// locked accounts unlock. Where Redis does not say (`INFO` refused), a warning is
    /// logged and the store connects.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when `url` does not parse (operation `parse its url`), the first
    /// connection cannot be made (operation `connect`), or Redis evicts keys (operation
    /// `be used`).
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, StoreError> {
        let mut info = redis::IntoConnectionInfo::into_connection_info(url)
            .map_err(|e| StoreError::new(BACKEND, "parse its url", e))?;
        // Over RESP2 a connection Redis dropped went unnoticed until the next command,
        // which failed ("broken pipe"): the first call after a Redis restart, on every
        // instance.
        info.redis.protocol = ProtocolVersion::RESP3;
        let client =
            redis::Client::open(info).map_err(|e| StoreError::new(BACKEND, "parse its url", e))?;
        let mut connection = ConnectionManager::new_with_config(client, connection_config())
            .await
            .map_err(|e| StoreError::new(BACKEND, "connect", e))?;
        check_eviction_policy(&mut connection).await?;
        Ok(RedisStore {
            connection,
            prefix: prefix.into(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs `query` on the shared connection, and once more when Redis refused the
    /// connection it needed: the command was never sent, so even a count may run again.
    /// The manager keeps a reconnection that failed while Redis was down until a call
    /// meets it, and only then starts the next; without the second try that call fails
    /// though Redis is back.
    async fn run<T, F, Fut>(&self, query: F) -> RedisResult<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        match query(self.connection.clone()).await {
            Err(error) if error.is_connection_refusal() => query(self.connection.clone()).await,
            outcome => outcome,
        }
    }

    /// [`run`](Self::run) of one command.
    async fn command<T: redis::FromRedisValue>(&self, command: &Cmd) -> RedisResult<T> {
        self.run(|mut connection| async move { command.query_async(&mut connection).await })
            .await
    }

    /// When Redis may drop an entry that matters until `expires_at`.
    fn keep_until(expires_at: UnixTime) -> i64 {
        let now = SystemClock.unix_now();
        expires_at
            .saturating_add(super::EXPIRY_GRACE_SECONDS)
            .clamp(now + 1, now + MAX_LIFETIME_SECONDS)
    }

    fn options(expires_at: Option<UnixTime>) -> SetOptions {
        match expires_at {
            Some(at) => SetOptions::default().with_expiration(SetExpiry::EXAT(
                u64::try_from(Self::keep_until(at)).unwrap_or(u64::MAX),
            )),
            None => SetOptions::default(),
        }
    }
}

/// Refuses a Redis that evicts keys (see [`RedisStore::connect`]).
async fn check_eviction_policy(connection: &mut ConnectionManager) -> Result<(), StoreError> {
    let info: Result<String, _> = redis::cmd("INFO")
        .arg("memory")
        .query_async(connection)
        .await;
    match info.as_deref().map(maxmemory_policy) {
        Ok(Some("noeviction")) => Ok(()),
        Ok(Some(policy)) => Err(StoreError::new(
            BACKEND,
            "be used",
            format!(
                "its maxmemory-policy is {policy}: under memory pressure it would drop \
                 revocations and failed-login counts; set maxmemory-policy noeviction"
            ),
        )),
        Ok(None) => {
            tracing::warn!("redis did not say its maxmemory-policy; it must be noeviction");
            Ok(())
        }
        Err(error) => {
            tracing::warn!(error = %telepact::ErrorChain(&error), "could not read redis's maxmemory-policy; it must be noeviction");
            Ok(())
        }
    }
}

/// The `maxmemory_policy` line of `INFO memory`.
fn maxmemory_policy(info: &str) -> Option<&str> {
    info.lines()
        .find_map(|line| line.strip_prefix("maxmemory_policy:"))
        .map(str::trim)
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
            let set = Cmd::set_options(self.key(key), value, Self::options(expires_at));
            let _: () =
                (self.command(&set).await).map_err(|e| StoreError::new(BACKEND, "write", e))?;
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
            let options = Self::options(expires_at).conditional_set(ExistenceCheck::NX);
            let claim = Cmd::set_options(self.key(key), value, options);
            let set: Option<String> =
                (self.command(&claim).await).map_err(|e| StoreError::new(BACKEND, "claim", e))?;
            Ok(set.is_some())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            (self.command(&Cmd::get(self.key(key))).await)
                .map_err(|e| StoreError::new(BACKEND, "read", e))
        })
    }

    fn add<'a>(
        &'a self,
        key: &'a str,
        delta: i64,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<i64, StoreError>> {
        let key = self.key(key);
        Box::pin(async move {
            // One transaction: the count and its expiry.
            let mut pipe = redis::pipe();
            pipe.atomic().incr(&key, delta);
            if let Some(at) = expires_at {
                pipe.expire_at(&key, Self::keep_until(at)).ignore();
            }
            let pipe = &pipe;
            let counted = self.run(|mut connection| async move {
                pipe.query_async::<(i64,)>(&mut connection).await
            });
            let (count,) = counted
                .await
                .map_err(|e| StoreError::new(BACKEND, "count", e))?;
            Ok(count)
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let _: i64 = (self.command(&Cmd::del(self.key(key))).await)
                .map_err(|e| StoreError::new(BACKEND, "delete", e))?;
            Ok(())
        })
    }

    /// A hash's fields are the members: `HSET` of one it holds changes nothing.
    fn add_member<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        let key = self.key(key);
        Box::pin(async move {
            // One transaction: the member, the count and the expiry.
            let mut pipe = redis::pipe();
            pipe.atomic().hset(&key, member, 1).ignore().hlen(&key);
            if let Some(at) = expires_at {
                pipe.expire_at(&key, Self::keep_until(at)).ignore();
            }
            let pipe = &pipe;
            let counted = self.run(|mut connection| async move {
                pipe.query_async::<(u64,)>(&mut connection).await
            });
            let (count,) = counted
                .await
                .map_err(|e| StoreError::new(BACKEND, "count", e))?;
            Ok(count)
        })
    }

    fn member_count<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            (self.command(&Cmd::hlen(self.key(key))).await)
                .map_err(|e| StoreError::new(BACKEND, "count", e))
        })
    }

    fn remove_member<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let removal = Cmd::hdel(self.key(key), member);
            let _: i64 =
                (self.command(&removal).await).map_err(|e| StoreError::new(BACKEND, "count", e))?;
            Ok(())
        })
    }
}
