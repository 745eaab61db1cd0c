//! Rate limiting of failed logins, per account and per client address.
//!
//! Failures are counted in the [`CredentialStore`] in fixed windows, so every instance
//! sharing a store (Redis behind a load balancer) enforces one limit.

use unicode_normalization::UnicodeNormalization;

use crate::error::AuthError;
use crate::secret::hash_secret;
use crate::store::CredentialStore;
use telepact::clock::UnixTime;

/// How many failures are tolerated within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThrottleLimits {
    /// Failed logins allowed per username (whatever its case or compatibility form) in a
    /// window.
    pub per_account: u32,
    /// Failed logins allowed per client address in a window.
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

telepact::__option_setters!(ThrottleLimits {
    per_account: u32,
    per_address: u32,
    window: i64,
});

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
    /// Counts against `limits`.
    pub fn new(limits: ThrottleLimits) -> Self {
        LoginThrottle { limits }
    }

    /// Counts a login attempt for `account` from `address` at `now`, before the
    /// password is checked, and says whether it may go ahead. Counting first (one
    /// atomic increment per counter) means concurrent guesses cannot all slip under
    /// the limit; [`succeeded`](Self::succeeded) takes a good login back out.
    ///
    /// The address is counted first, and an address past its limit counts against no
    /// account: otherwise it could still lock any account it names, and fill the store
    /// with a counter for each name it makes up.
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] when a counter cannot be incremented.
    pub async fn admit(
        &self,
        store: &dyn CredentialStore,
        account: &str,
        address: Option<&str>,
        now: UnixTime,
    ) -> Result<bool, AuthError> {
        if let Some(address) = address {
            let address_attempts = self.bump(store, &self.address(address, now)).await?;
            if address_attempts > i64::from(self.limits.per_address) {
                return Ok(false);
            }
        }
        let account_attempts = self.bump(store, &self.account(account, now)).await?;
        Ok(account_attempts <= i64::from(self.limits.per_account))
    }

    /// A successful login takes its own attempt off both counts, so only failures
    /// accumulate. The failures before it stay counted for the window: a client that
    /// logs in with the password on every call must not wipe the count of a guesser
    /// trying the same account from elsewhere.
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] when a counter cannot be decremented.
    pub async fn succeeded(
        &self,
        store: &dyn CredentialStore,
        account: &str,
        address: Option<&str>,
        now: UnixTime,
    ) -> Result<(), AuthError> {
        let counter = self.account(account, now);
        store
            .decrement(&counter.key, Some(counter.window_ends))
            .await?;
        if let Some(address) = address {
            let counter = self.address(address, now);
            store
                .decrement(&counter.key, Some(counter.window_ends))
                .await?;
        }
        Ok(())
    }

    async fn bump(&self, store: &dyn CredentialStore, counter: &Counter) -> Result<i64, AuthError> {
        Ok(store
            .increment(&counter.key, Some(counter.window_ends))
            .await?)
    }

    fn account(&self, account: &str, now: UnixTime) -> Counter {
        self.counter("account", &account_key(account), now)
    }

    fn address(&self, address: &str, now: UnixTime) -> Counter {
        self.counter("address", address, now)
    }

    fn counter(&self, kind: &str, subject: &str, now: UnixTime) -> Counter {
        let window = self.limits.window.max(1);
        let index = now.div_euclid(window);
        Counter {
            // Hashed: bounded length, and no usernames or addresses at rest.
            key: format!("failed-logins:{kind}:{index}:{}", hash_secret(subject)),
            window_ends: (index + 1) * window,
        }
    }
}

/// The account a username is counted as, by the throttle and by the password-check
/// places: the username without regard to case or compatibility form (NFKC, lowercase,
/// `ß` as `ss` and `ς` as `σ`, as case folding writes them), since a directory that finds
/// users that way (RFC 8265 maps full-width letters to ASCII; many directories apply NFKC)
/// would otherwise give each spelling its own guesses, and `ａｄａ`, `𝐚𝐝𝐚`, `ⓐⓓⓐ`, ...
/// are many. A directory that matches exactly loses nothing, since naming an account is
/// all locking it takes.
pub(crate) fn account_key(username: &str) -> String {
    let lowered: String = username.nfkc().collect::<String>().to_lowercase();
    lowered
        .replace('ß', "ss")
        .replace('ς', "σ")
        .nfkc()
        .collect()
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
            assert!(throttle.admit(&store, "ada", None, 0).await.unwrap());
        }
        assert!(!throttle.admit(&store, "ada", None, 59).await.unwrap());
        assert!(throttle.admit(&store, "bob", None, 59).await.unwrap());
        assert!(throttle.admit(&store, "ada", None, 60).await.unwrap());
    }

    #[tokio::test]
    async fn an_address_locks_across_accounts() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        for account in ["a", "b", "c", "d", "e"] {
            assert!(
                throttle
                    .admit(&store, account, Some("10.0.0.1"), 0)
                    .await
                    .unwrap()
            );
        }
        assert!(
            !throttle
                .admit(&store, "f", Some("10.0.0.1"), 1)
                .await
                .unwrap()
        );
        assert!(
            throttle
                .admit(&store, "f", Some("10.0.0.2"), 1)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn success_takes_back_its_own_attempt_and_no_failure() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        let admit = |account, address| throttle.admit(&store, account, Some(address), 0);
        // Two failures for ada from elsewhere, then her own good logins.
        for _ in 0..2 {
            assert!(admit("ada", "10.0.0.9").await.unwrap());
        }
        for _ in 0..4 {
            assert!(admit("ada", "10.0.0.1").await.unwrap());
            throttle
                .succeeded(&store, "ada", Some("10.0.0.1"), 0)
                .await
                .unwrap();
        }
        // The two failures still count: one more is allowed, the next is not.
        assert!(admit("ada", "10.0.0.9").await.unwrap());
        assert!(!admit("ada", "10.0.0.9").await.unwrap());
        // The good logins left the address's count where it was.
        for account in ["b", "c", "d", "e", "f"] {
            assert!(admit(account, "10.0.0.1").await.unwrap());
        }
        assert!(!admit("g", "10.0.0.1").await.unwrap());
    }

    #[tokio::test]
    async fn an_address_past_its_limit_counts_against_no_account() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        for account in ["a", "b", "c", "d", "e"] {
            assert!(
                throttle
                    .admit(&store, account, Some("10.0.0.1"), 0)
                    .await
                    .unwrap()
            );
        }
        // The locked address names ada many times: her count is untouched.
        for _ in 0..10 {
            assert!(
                !throttle
                    .admit(&store, "ada", Some("10.0.0.1"), 0)
                    .await
                    .unwrap()
            );
        }
        for _ in 0..3 {
            assert!(
                throttle
                    .admit(&store, "ada", Some("10.0.0.2"), 0)
                    .await
                    .unwrap()
            );
        }
    }

    #[test]
    fn case_and_compatibility_forms_fold_to_one_account() {
        for spelling in ["Ada", "ＡＤＡ", "ａｄａ", "𝐚𝐝𝐚", "ⓐⓓⓐ", "ᴬᴰᴬ"]
        {
            assert_eq!(account_key(spelling), "ada", "{spelling}");
        }
        assert_eq!(account_key("STRASSE"), account_key("Straße"));
        assert_eq!(account_key("ΣΑΣ"), account_key("σας"));
        assert_ne!(account_key("ada"), account_key("adb"));
    }

    #[tokio::test]
    async fn spellings_of_a_username_share_its_count() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        for account in ["ada", "Ada", "ADA"] {
            assert!(throttle.admit(&store, account, None, 0).await.unwrap());
        }
        assert!(!throttle.admit(&store, "aDa", None, 0).await.unwrap());
    }

    #[test]
    fn counter_keys_hold_a_hash_of_the_subject() {
        let long = "x".repeat(10_000);
        let key = throttle().account(&long, 0).key;
        assert!(key.len() < 100, "{} bytes", key.len());
        assert!(!key.contains("xxxx"));
        assert_ne!(key, throttle().account("y", 0).key);
    }
}
