//! Places for password checks, shared fairly: argon2 must not hold up the async
//! workers, and no one account or client address may take every place.
//!
//! A successful check is not a failure the throttle counts, so without a share one
//! valid account (a `curl -u` loop, or a WebSocket sending `Basic` with every message)
//! could keep every place busy and leave everyone else's logins refused. A share alone
//! is not enough when the places are few: two valid accounts, looping from two
//! addresses, would hold both places of a 2-core machine. So a login that finds every
//! place taken waits its turn, in the order of arrival, and a place given back goes to
//! the longest waiting login, not to the next request of the loop that freed it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::throttle::account_key;

/// How many logins may wait for a place, for each place.
const WAITING_PER_PLACE: usize = 16;

/// Password-check places of one process.
#[derive(Debug)]
pub(crate) struct PasswordSlots {
    free: Arc<Semaphore>,
    /// How many places one account, or one address, may hold or wait for at once.
    share: usize,
    /// Places held or waited for by each account and address, and the logins waiting
    /// (under `Holder::Waiting`); present only while above zero.
    claims: Arc<Mutex<HashMap<Holder, usize>>>,
    /// The most logins that may wait at once.
    most_waiting: usize,
    /// How long a login waits for a place before it is refused.
    wait: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    Account(String),
    Address(String),
    Waiting,
}

/// A place taken; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    _claim: Claim,
}

/// What a login counts against: its account's and its address's shares, and while it
/// waits, the number waiting. Dropped when the check ends, or when the login stops
/// waiting (refused, or its caller gone).
#[derive(Debug)]
struct Claim {
    holders: Vec<Holder>,
    claims: Arc<Mutex<HashMap<Holder, usize>>>,
}

impl PasswordSlots {
    /// `places` checks at once (at least one), at most half of them (at least one)
    /// for one account or one address; a login waits up to `wait` for a place.
    pub(crate) fn new(places: usize, wait: Duration) -> Self {
        let places = places.max(1);
        PasswordSlots {
            free: Arc::new(Semaphore::new(places)),
            share: (places / 2).max(1),
            claims: Arc::default(),
            most_waiting: places * WAITING_PER_PLACE,
            wait,
        }
    }

    /// A place for checking `account`'s password for a client at `address`; `None`
    /// when the account or the address holds its share, or when no place came free
    /// within the wait (or too many logins wait already).
    pub(crate) async fn take(&self, account: &str, address: Option<&str>) -> Option<Slot> {
        let mut holders = vec![Holder::Account(account_key(account))];
        holders.extend(address.map(|address| Holder::Address(address.to_string())));
        let claim = self.claim(holders)?;
        if let Ok(permit) = Arc::clone(&self.free).try_acquire_owned() {
            return Some(Slot {
                _permit: permit,
                _claim: claim,
            });
        }
        let waiting = self.claim(vec![Holder::Waiting])?;
        let permit = tokio::time::timeout(self.wait, Arc::clone(&self.free).acquire_owned());
        let permit = permit.await.ok()?.ok()?;
        drop(waiting);
        Some(Slot {
            _permit: permit,
            _claim: claim,
        })
    }

    /// Counts a login against each of `holders`, if none is at its limit. The count is
    /// taken under the map's lock, so two logins for one account cannot both see a
    /// free share.
    fn claim(&self, holders: Vec<Holder>) -> Option<Claim> {
        let mut claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
        let limit = |holder: &Holder| match holder {
            Holder::Waiting => self.most_waiting,
            Holder::Account(_) | Holder::Address(_) => self.share,
        };
        let within_limits = holders
            .iter()
            .all(|holder| claims.get(holder).copied().unwrap_or(0) < limit(holder));
        if !within_limits {
            return None;
        }
        for holder in &holders {
            *claims.entry(holder.clone()).or_insert(0) += 1;
        }
        Some(Claim {
            holders,
            claims: Arc::clone(&self.claims),
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
        for holder in &self.holders {
            if let Some(count) = claims.get_mut(holder) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    claims.remove(holder);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Places that refuse at once when taken, as a wait of zero does.
    fn refusing(places: usize) -> PasswordSlots {
        PasswordSlots::new(places, Duration::ZERO)
    }

    #[tokio::test]
    async fn an_account_or_an_address_holds_at_most_half_the_places() {
        let slots = refusing(4);
        let ada = [
            slots.take("ada", Some("10.0.0.1")).await,
            slots.take("ada", Some("10.0.0.2")).await,
        ];
        assert!(ada.iter().all(Option::is_some));
        // Ada's share is taken, from any address.
        assert!(slots.take("ada", Some("10.0.0.3")).await.is_none());
        assert!(slots.take("ada", None).await.is_none());
        // 10.0.0.1 still has a place for another account.
        let bob = slots.take("bob", Some("10.0.0.1")).await;
        assert!(bob.is_some());
        // ... but no more than its share.
        assert!(slots.take("cy", Some("10.0.0.1")).await.is_none());
        let dee = slots.take("dee", None).await;
        assert!(dee.is_some());
        // Every place is taken.
        assert!(slots.take("eve", Some("10.0.0.9")).await.is_none());
        drop(ada);
        assert!(slots.take("ada", Some("10.0.0.1")).await.is_some());
        assert!(slots.claims.lock().unwrap().len() <= 4);
    }

    #[tokio::test]
    async fn places_given_back_leave_no_claim_behind() {
        let slots = refusing(2);
        for n in 0..100 {
            let slot = slots
                .take(&format!("user{n}"), Some(&format!("10.0.0.{n}")))
                .await;
            assert!(slot.is_some());
        }
        assert!(slots.claims.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_single_place_is_every_holders_share() {
        let slots = refusing(0);
        let first = slots.take("ada", None).await;
        assert!(first.is_some());
        assert!(slots.take("bob", None).await.is_none());
        drop(first);
        assert!(slots.take("bob", None).await.is_some());
    }

    /// Two accounts holding both places cannot keep them: the place the first gives
    /// back goes to the login that waited, and the first account's next login waits.
    #[tokio::test]
    async fn a_place_given_back_goes_to_the_login_that_waited() {
        let slots = Arc::new(PasswordSlots::new(2, Duration::from_secs(5)));
        let ada = slots.take("ada", Some("10.0.0.1")).await;
        let _bob = slots.take("bob", Some("10.0.0.2")).await;
        assert!(ada.is_some());
        let waiting = tokio::spawn({
            let slots = Arc::clone(&slots);
            async move { slots.take("cy", Some("10.0.0.3")).await }
        });
        while !slots.claims.lock().unwrap().contains_key(&Holder::Waiting) {
            tokio::task::yield_now().await;
        }
        drop(ada);
        // Asked for before the waiting login's task has run again.
        let again = slots.take("ada", Some("10.0.0.1"));
        let again = tokio::time::timeout(Duration::from_millis(50), again).await;
        assert!(again.is_err(), "ada's next login waits");
        let cy = waiting.await.unwrap();
        assert!(cy.is_some(), "cy got ada's place");
    }

    #[tokio::test]
    async fn logins_wait_in_bounded_numbers_and_no_longer_than_the_wait() {
        let slots = Arc::new(PasswordSlots::new(1, Duration::from_millis(200)));
        let _held = slots.take("ada", None).await;
        let mut waiting = tokio::task::JoinSet::new();
        for n in 0..WAITING_PER_PLACE {
            let slots = Arc::clone(&slots);
            waiting.spawn(async move { slots.take(&format!("user{n}"), None).await.is_some() });
        }
        while slots.claims.lock().unwrap().get(&Holder::Waiting) != Some(&WAITING_PER_PLACE) {
            tokio::task::yield_now().await;
        }
        let started = tokio::time::Instant::now();
        assert!(slots.take("one-too-many", None).await.is_none());
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "refused at once"
        );
        assert!(
            waiting.join_all().await.iter().all(|got| !got),
            "refused after the wait"
        );
        assert_eq!(
            slots.claims.lock().unwrap().len(),
            1,
            "only ada's place is held"
        );
    }
}
