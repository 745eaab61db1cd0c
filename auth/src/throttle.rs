//! Rate limiting of failed logins, per account and per client address.
//!
//! Counts live in this process: behind a load balancer each instance counts its own
//! share, which still bounds guessing to (instances × limit) per window.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::UnixTime;

/// How many failures are tolerated within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    pub per_account: u32,
    pub per_address: u32,
    /// Seconds a window lasts; failures older than that are forgotten.
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

#[derive(Debug, Clone, Copy)]
struct Window {
    started: UnixTime,
    failures: u32,
}

/// Failed-login counters.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    limits: ThrottleLimits,
    accounts: Mutex<HashMap<String, Window>>,
    addresses: Mutex<HashMap<String, Window>>,
}

impl LoginThrottle {
    pub fn new(limits: ThrottleLimits) -> Self {
        LoginThrottle {
            limits,
            ..Self::default()
        }
    }

    /// Whether a login for `account` from `address` may be tried at `now`.
    pub fn allows(&self, account: &str, address: Option<&str>, now: UnixTime) -> bool {
        let account_ok = self.count(&self.accounts, account, now) < self.limits.per_account;
        let address_ok = address.is_none_or(|address| {
            self.count(&self.addresses, address, now) < self.limits.per_address
        });
        account_ok && address_ok
    }

    /// Counts a failed login.
    pub fn record_failure(&self, account: &str, address: Option<&str>, now: UnixTime) {
        self.bump(&self.accounts, account, now);
        if let Some(address) = address {
            self.bump(&self.addresses, address, now);
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn record_success(&self, account: &str) {
        lock(&self.accounts).remove(account);
    }

    fn count(&self, table: &Mutex<HashMap<String, Window>>, key: &str, now: UnixTime) -> u32 {
        lock(table)
            .get(key)
            .filter(|window| now - window.started < self.limits.window)
            .map_or(0, |window| window.failures)
    }

    fn bump(&self, table: &Mutex<HashMap<String, Window>>, key: &str, now: UnixTime) {
        let mut table = lock(table);
        let window = table.entry(key.to_string()).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now - window.started >= self.limits.window {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(ThrottleLimits {
            per_account: 3,
            per_address: 5,
            window: 60,
        })
    }

    #[test]
    fn an_account_locks_after_its_limit_until_the_window_passes() {
        let throttle = throttle();
        for _ in 0..3 {
            assert!(throttle.allows("ada", None, 0));
            throttle.record_failure("ada", None, 0);
        }
        assert!(!throttle.allows("ada", None, 59));
        assert!(throttle.allows("bob", None, 59));
        assert!(throttle.allows("ada", None, 60));
    }

    #[test]
    fn an_address_locks_across_accounts() {
        let throttle = throttle();
        for account in ["a", "b", "c", "d", "e"] {
            throttle.record_failure(account, Some("10.0.0.1"), 0);
        }
        assert!(!throttle.allows("f", Some("10.0.0.1"), 1));
        assert!(throttle.allows("f", Some("10.0.0.2"), 1));
    }

    #[test]
    fn success_clears_the_account() {
        let throttle = throttle();
        throttle.record_failure("ada", None, 0);
        throttle.record_failure("ada", None, 0);
        throttle.record_success("ada");
        throttle.record_failure("ada", None, 0);
        throttle.record_failure("ada", None, 0);
        assert!(throttle.allows("ada", None, 0));
    }
}
