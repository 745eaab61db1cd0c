//! Rate limiting of failed logins: per account from each client address, per account
//! from all of them, and per client address.
//!
//! Failures are counted in the [`CredentialStore`] in fixed windows, so every instance
//! sharing a store (Redis behind a load balancer) enforces one limit. An attempt is let
//! through only while its window's failures and the previous window's together are
//! within the limit, so no window-long span, however it falls across two windows, lets
//! more than the limit through: counted per window alone, a guesser got the limit at
//! the end of one window and the limit again at the start of the next, twice the limit
//! in a moment.
//!
//! A guesser meets the limit of the account from its own address first, which leaves
//! the account's owner, elsewhere, signing in: locking an account for everyone takes
//! failures from several addresses, up to the account's own, higher limit.

use unicode_normalization::UnicodeNormalization;

use crate::error::AuthError;
use crate::secret::{hash_secret, random_id};
use crate::store::CredentialStore;
use telepact::clock::UnixTime;

/// How many failures are tolerated within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThrottleLimits {
    /// Failed logins allowed per username (whatever its case or compatibility form) from
    /// one client address in a window; logins without an address count as from one.
    /// Past it that address's logins to the account are refused, and count no further
    /// against the account.
    pub per_account_from_address: u32,
    /// Failed logins allowed per username from all addresses together in a window; past
    /// it the account's password logins are refused whoever makes them, so it bounds
    /// the guesses of a guesser with many addresses. Set well above
    /// `per_account_from_address`: one address cannot reach it alone, and a few cannot
    /// lock the owner out (NIST SP 800-63B allows at most 100).
    pub per_account: u32,
    /// Failed logins allowed per client address in a window.
    pub per_address: u32,
    /// Seconds a window lasts. A failure counts in its own window and the next: an
    /// account or address that reached a limit is refused until the window after the
    /// one it reached it in has passed (one to two windows), and no window-long span
    /// lets more than the limit through.
    pub window: i64,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            per_account_from_address: 5,
            per_account: 50,
            per_address: 20,
            window: 15 * 60,
        }
    }
}

telepact::__option_setters!(ThrottleLimits {
    per_account_from_address: u32,
    per_account: u32,
    per_address: u32,
    window: i64,
});

/// Failed-login counts kept in a store.
///
/// Each login attempt is recorded, under an id of its own, before its password is
/// checked, and taken back when the password was right: concurrent guesses cannot all
/// slip under the limit, and only failures stay counted. Recording and taking back are
/// idempotent ([`CredentialStore::add_member`]), so a write that timed out yet took
/// effect later, or that is sent twice, counts an attempt once, and an attempt whose
/// recording failed can be taken back without knowing whether it took effect.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginThrottle {
    limits: ThrottleLimits,
}

/// One login attempt: its id and the counts it goes into.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    id: String,
    account: Counter,
    /// The account's count from this attempt's address (or from no address).
    account_from_address: Counter,
    address: Option<Counter>,
}

/// One count's key in the attempt's window, the key of the window before, and when the
/// count stops mattering: the end of the next window, the last that reads it.
#[derive(Debug, Clone)]
struct Counter {
    key: String,
    previous_key: String,
    counted_until: UnixTime,
}

impl LoginThrottle {
    /// Counts against `limits`.
    pub fn new(limits: ThrottleLimits) -> Self {
        LoginThrottle { limits }
    }

    /// A new attempt to log in to `account` from `address` at `now`, to
    /// [`admit`](Self::admit).
    ///
    /// # Errors
    ///
    /// [`AuthError::Internal`] when the OS gives no randomness for its id.
    pub fn attempt(
        &self,
        account: &str,
        address: Option<&str>,
        now: UnixTime,
    ) -> Result<LoginAttempt, AuthError> {
        let account = account_key(account);
        // The NUL keeps `("ab", "c")` and `("a", "bc")` apart: no address holds one.
        let from_address = format!("{account}\0{}", address.unwrap_or_default());
        Ok(LoginAttempt {
            id: random_id()?,
            account: self.counter("account", &account, now),
            account_from_address: self.counter("account-address", &from_address, now),
            address: address.map(|address| self.counter("address", address, now)),
        })
    }

    /// Records `attempt` before its password is checked, and says whether it may go
    /// ahead: `false` when its address, its account from that address, or its account
    /// is past its limit.
    ///
    /// The address is counted first, and an address past its limit counts against no
    /// account: otherwise it could still lock any account it names, and fill the store
    /// with a count for each name it makes up. Likewise an address past its limit for
    /// the account counts no further against the account, so it cannot lock the account
    /// alone. An attempt refused is taken off every count again: it is checked by no
    /// password, so it is no failure, and a flood holds the store to the limit. (Kept on
    /// the counts below the one that refused it, a client retrying its right password
    /// for an account others had locked used up its address's budget, and every account's
    /// logins from that address, a whole office behind one, were refused.)
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] when the attempt cannot be recorded, or a refused one taken
    /// back. It may have been recorded all the same: refuse the login unchecked and
    /// [`take it back`](Self::take_back).
    pub async fn admit(
        &self,
        store: &dyn CredentialStore,
        attempt: &LoginAttempt,
    ) -> Result<bool, AuthError> {
        let admitted = self.record_all(store, attempt).await?;
        if !admitted {
            self.take_back(store, attempt).await?;
        }
        Ok(admitted)
    }

    /// Records `attempt` in each count in turn, up to the first past its limit.
    async fn record_all(
        &self,
        store: &dyn CredentialStore,
        attempt: &LoginAttempt,
    ) -> Result<bool, AuthError> {
        if let Some(address) = &attempt.address
            && !self
                .record(store, address, attempt, self.limits.per_address)
                .await?
        {
            return Ok(false);
        }
        let limit = self.limits.per_account_from_address;
        if !self
            .record(store, &attempt.account_from_address, attempt, limit)
            .await?
        {
            return Ok(false);
        }
        self.record(store, &attempt.account, attempt, self.limits.per_account)
            .await
    }

    /// Takes `attempt` off the counts: one whose password was right, or one not checked
    /// (its recording failed, or its user could not be looked up). Taking back an
    /// attempt that was not recorded, or was taken back already, changes nothing.
    ///
    /// A success takes back only its own attempt: the failures before it stay counted,
    /// in their window and the next, so that a client that logs in with the password on
    /// every call does not wipe the count of a guesser trying the same account from
    /// elsewhere.
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] when a count cannot be written; the attempt then stays
    /// counted until it is taken back, or the window after its own ends.
    pub async fn take_back(
        &self,
        store: &dyn CredentialStore,
        attempt: &LoginAttempt,
    ) -> Result<(), AuthError> {
        store
            .remove_member(&attempt.account.key, &attempt.id)
            .await?;
        store
            .remove_member(&attempt.account_from_address.key, &attempt.id)
            .await?;
        if let Some(address) = &attempt.address {
            store.remove_member(&address.key, &attempt.id).await?;
        }
        Ok(())
    }

    /// Records `attempt` in `counter`; `false`, the attempt taken off again, when that
    /// puts the count, with the previous window's, past `limit`.
    async fn record(
        &self,
        store: &dyn CredentialStore,
        counter: &Counter,
        attempt: &LoginAttempt,
        limit: u32,
    ) -> Result<bool, AuthError> {
        let expires_at = Some(counter.counted_until);
        let count = store
            .add_member(&counter.key, &attempt.id, expires_at)
            .await?;
        // Read after the attempt is counted: of concurrent attempts, each sees the
        // others that were counted before it.
        let previous = store.member_count(&counter.previous_key).await?;
        if count.saturating_add(previous) <= u64::from(limit) {
            return Ok(true);
        }
        if let Err(error) = store.remove_member(&counter.key, &attempt.id).await {
            // Counted, it holds the count past the limit a little longer: no harm.
            tracing::debug!(error = %telepact::ErrorChain(&error), "could not take a refused login attempt off its count");
        }
        Ok(false)
    }

    fn counter(&self, kind: &str, subject: &str, now: UnixTime) -> Counter {
        let window = self.limits.window.max(1);
        let index = now.div_euclid(window);
        // Hashed: bounded length, and no usernames or addresses at rest.
        let subject = hash_secret(subject);
        let key = |index: i64| format!("login-attempts:{kind}:{index}:{subject}");
        Counter {
            key: key(index),
            previous_key: key(index.saturating_sub(1)),
            counted_until: index.saturating_add(2).saturating_mul(window),
        }
    }
}

impl LoginAttempt {
    /// When the last of its counts stops mattering: past it, nothing holds the attempt.
    pub(crate) fn counted_until(&self) -> UnixTime {
        let accounts = self
            .account
            .counted_until
            .max(self.account_from_address.counted_until);
        let address = self.address.as_ref().map(|address| address.counted_until);
        address.map_or(accounts, |address| address.max(accounts))
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
            per_account_from_address: 3,
            per_account: 6,
            per_address: 5,
            window: 60,
        })
    }

    /// A new attempt, admitted or not.
    async fn admitted(
        throttle: &LoginThrottle,
        store: &MemoryStore,
        account: &str,
        address: Option<&str>,
        now: UnixTime,
    ) -> (bool, LoginAttempt) {
        let attempt = throttle.attempt(account, address, now).unwrap();
        (throttle.admit(store, &attempt).await.unwrap(), attempt)
    }

    #[tokio::test]
    async fn an_account_locks_after_its_limit_until_the_window_after_next() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        for _ in 0..3 {
            assert!(admitted(&throttle, &store, "ada", None, 0).await.0);
        }
        assert!(!admitted(&throttle, &store, "ada", None, 59).await.0);
        assert!(admitted(&throttle, &store, "bob", None, 59).await.0);
        assert!(!admitted(&throttle, &store, "ada", None, 60).await.0);
        assert!(!admitted(&throttle, &store, "ada", None, 119).await.0);
        assert!(admitted(&throttle, &store, "ada", None, 120).await.0);
    }

    /// A guesser who spends the limit at the end of one window and comes back at the
    /// start of the next is let through no more than the limit in any window-long span.
    #[tokio::test]
    async fn no_window_long_span_lets_more_than_the_limit_through() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        let mut let_through = Vec::new();
        for second in 0..300 {
            // Two guesses a second around each window's edge.
            if !(5..55).contains(&(second % 60)) {
                for _ in 0..2 {
                    if admitted(&throttle, &store, "ada", None, second).await.0 {
                        let_through.push(second);
                    }
                }
            }
        }
        assert!(!let_through.is_empty());
        for start in 0..300 {
            let span = start..start + 60;
            let within = let_through.iter().filter(|at| span.contains(*at)).count();
            assert!(
                within <= 3,
                "{within} let through from {start}: {let_through:?}"
            );
        }
    }

    /// A guesser elsewhere leaves the account to its owner; guessers from enough
    /// addresses lock it for everyone, one address counting no more than its limit.
    #[tokio::test]
    async fn an_account_locks_for_everyone_only_past_its_limit_from_several_addresses() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        let admit = |address| admitted(&throttle, &store, "ada", Some(address), 0);
        for n in 0..5 {
            assert_eq!(admit("10.0.0.9").await.0, n < 3, "guess {n}");
        }
        // The owner, at home, is not locked out.
        let (admitted_home, home) = admit("10.0.0.1").await;
        assert!(admitted_home);
        throttle.take_back(&store, &home).await.unwrap();
        // A second guessing address brings the account to its own limit.
        for _ in 0..3 {
            assert!(admit("10.0.0.8").await.0);
        }
        assert!(
            !admit("10.0.0.1").await.0,
            "the account is locked for everyone"
        );
        assert!(admitted(&throttle, &store, "ada", None, 120).await.0);
    }

    #[tokio::test]
    async fn an_address_locks_across_accounts() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        for account in ["a", "b", "c", "d", "e"] {
            assert!(
                admitted(&throttle, &store, account, Some("10.0.0.1"), 0)
                    .await
                    .0
            );
        }
        assert!(
            !admitted(&throttle, &store, "f", Some("10.0.0.1"), 1)
                .await
                .0
        );
        assert!(
            admitted(&throttle, &store, "f", Some("10.0.0.2"), 1)
                .await
                .0
        );
    }

    #[tokio::test]
    async fn success_takes_back_its_own_attempt_and_no_failure() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        let admit = |account, address| admitted(&throttle, &store, account, Some(address), 0);
        // Two failures for ada from elsewhere, then her own good logins.
        for _ in 0..2 {
            assert!(admit("ada", "10.0.0.9").await.0);
        }
        for _ in 0..4 {
            let (admitted, attempt) = admit("ada", "10.0.0.1").await;
            assert!(admitted);
            throttle.take_back(&store, &attempt).await.unwrap();
            // Taken back twice (a retry), it is taken off once.
            throttle.take_back(&store, &attempt).await.unwrap();
        }
        // The two failures still count: one more is allowed, the next is not.
        assert!(admit("ada", "10.0.0.9").await.0);
        assert!(!admit("ada", "10.0.0.9").await.0);
        // The good logins left the address's count where it was.
        for account in ["b", "c", "d", "e", "f"] {
            assert!(admit(account, "10.0.0.1").await.0);
        }
        assert!(!admit("g", "10.0.0.1").await.0);
    }

    /// An attempt recorded twice (a write retried, or run late) counts once, and one
    /// taken back that was never recorded takes nothing off.
    #[tokio::test]
    async fn recording_and_taking_back_an_attempt_are_idempotent() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        let attempt = throttle.attempt("ada", None, 0).unwrap();
        for _ in 0..3 {
            assert!(throttle.admit(&store, &attempt).await.unwrap());
        }
        let never_recorded = throttle.attempt("ada", None, 0).unwrap();
        throttle.take_back(&store, &never_recorded).await.unwrap();
        for _ in 0..2 {
            assert!(admitted(&throttle, &store, "ada", None, 0).await.0);
        }
        assert!(!admitted(&throttle, &store, "ada", None, 0).await.0);
    }

    #[tokio::test]
    async fn an_address_past_its_limit_counts_against_no_account() {
        let (throttle, store) = (throttle(), MemoryStore::new());
        for account in ["a", "b", "c", "d", "e"] {
            assert!(
                admitted(&throttle, &store, account, Some("10.0.0.1"), 0)
                    .await
                    .0
            );
        }
        // The locked address names ada many times: her count is untouched.
        for _ in 0..10 {
            assert!(
                !admitted(&throttle, &store, "ada", Some("10.0.0.1"), 0)
                    .await
                    .0
            );
        }
        for _ in 0..3 {
            assert!(
                admitted(&throttle, &store, "ada", Some("10.0.0.2"), 0)
                    .await
                    .0
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
            assert!(admitted(&throttle, &store, account, None, 0).await.0);
        }
        assert!(!admitted(&throttle, &store, "aDa", None, 0).await.0);
    }

    #[test]
    fn counter_keys_hold_a_hash_of_the_subject() {
        let long = "x".repeat(10_000);
        let key = throttle().attempt(&long, None, 0).unwrap().account.key;
        assert!(key.len() < 100, "{} bytes", key.len());
        assert!(!key.contains("xxxx"));
        assert_ne!(key, throttle().attempt("y", None, 0).unwrap().account.key);
    }
}
