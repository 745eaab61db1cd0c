//! Rate limiting of failed logins, per account and per client address.
//!
//! Failures are counted in the [`CredentialStore`] in fixed windows, so every instance
//! sharing a store (Redis behind a load balancer) enforces one limit.

use crate::clock::UnixTime;
use crate::error::AuthError;
use crate::store::CredentialStore;

/// How many failures are tolerated within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    pub per_account: u32,
    pub per_address: u32,
    /// Seconds a window lasts; counts start again in the next one.
    pub window: i64,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            per_account: 5,
            per_address: 20,
            window: 15 * 60,
        }
    }
}

/// Failed-login counters kept in a store.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginThrottle {
    limits: ThrottleLimits,
}

/// One counter's key and the end of its window.
struct Counter {
    key: String,
    window_ends: UnixTime,
}

impl LoginThrottle {
    pub fn new(limits: ThrottleLimits) -> Self {
        LoginThrottle { limits }
    }

    /// Whether a login for `account` from `address` may be tried at `now`.
    pub async fn allows(
        &self,
        store: &dyn CredentialStore,
        account: &str,
        address: Option<&str>,
        now: UnixTime,
    ) -> Result<bool, AuthError> {
        let account_failures = self.count(store, &self.account(account, now)).await?;
        if account_failures >= i64::from(self.limits.per_account) {
            return Ok(false);
        }
        match address {
            Some(address) => {
                let address_failures = self.count(store, &self.address(address, now)).await?;
                Ok(address_failures < i64::from(self.limits.per_address))
            }
            None => Ok(true),
        }
    }

    /// Counts a failed login.
    pub async fn record_failure(
        &self,
        store: &dyn CredentialStore,
        account: &str,
        address: Option<&str>,
        now: UnixTime,
    ) -> Result<(), AuthError> {
        let mut counters = vec![self.account(account, now)];
        counters.extend(address.map(|address| self.address(address, now)));
        for counter in counters {
            store
                .increment(&counter.key, Some(counter.window_ends))
                .await?;
        }
        Ok(())
    }

    /// A successful login clears the account's failures (not the address's).
    pub async fn record_success(
        &self,
        store: &dyn CredentialStore,
        account: &str,
        now: UnixTime,
    ) -> Result<(), AuthError> {
        Ok(store.delete(&self.account(account, now).key).await?)
    }

    async fn count(
        &self,
        store: &dyn CredentialStore,
        counter: &Counter,
    ) -> Result<i64, AuthError> {
        let text = store.get(&counter.key).await?;
        Ok(text.and_then(|text| text.parse().ok()).unwrap_or(0))
    }

    fn account(&self, account: &str, now: UnixTime) -> Counter {
        self.counter("account", account, now)
    }

    fn address(&self, address: &str, now: UnixTime) -> Counter {
        self.counter("address", address, now)
    }

    fn counter(&self, kind: &str, subject: &str, now: UnixTime) -> Counter {
        let window = self.limits.window.max(1);
        let index = now.div_euclid(window);
        Counter {
            key: format!("failed-logins:{kind}:{index}:{subject}"),
            window_ends: (index + 1) * window,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(ThrottleLimits {
            per_account: 3,
            per_address: 5,
            window: 60,
        })
    }

    #[tokio::test]
    async fn an_account_locks_after_its_limit_until_the_next_window() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        for _ in 0..3 {
            assert!(throttle.allows(&store, "ada", None, 0).await.unwrap());
            throttle
                .record_failure(&store, "ada", None, 0)
                .await
                .unwrap();
        }
        assert!(!throttle.allows(&store, "ada", None, 59).await.unwrap());
        assert!(throttle.allows(&store, "bob", None, 59).await.unwrap());
        assert!(throttle.allows(&store, "ada", None, 60).await.unwrap());
    }

    #[tokio::test]
    async fn an_address_locks_across_accounts() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        for account in ["a", "b", "c", "d", "e"] {
            throttle
                .record_failure(&store, account, Some("10.0.0.1"), 0)
                .await
                .unwrap();
        }
        assert!(
            !throttle
                .allows(&store, "f", Some("10.0.0.1"), 1)
                .await
                .unwrap()
        );
        assert!(
            throttle
                .allows(&store, "f", Some("10.0.0.2"), 1)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn success_clears_the_account() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        for _ in 0..2 {
            throttle
                .record_failure(&store, "ada", None, 0)
                .await
                .unwrap();
        }
        throttle.record_success(&store, "ada", 0).await.unwrap();
        for _ in 0..2 {
            throttle
                .record_failure(&store, "ada", None, 0)
                .await
                .unwrap();
        }
        assert!(throttle.allows(&store, "ada", None, 0).await.unwrap());
    }
}
