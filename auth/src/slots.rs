//! Places for password checks, shared fairly: argon2 must not hold up the async
//! workers, and no one account or client address may take every place.
//!
//! A successful check is not a failure the throttle counts, so without a share one
//! valid account (a `curl -u` loop, or a WebSocket sending `Basic` with every message)
//! could keep every place busy and leave everyone else's logins refused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::throttle::account_key;

/// Password-check places of one process.
#[derive(Debug)]
pub(crate) struct PasswordSlots {
    free: Arc<Semaphore>,
    /// How many places one account, or one address, may hold at once.
    share: usize,
    /// Places held by each account and address, present only while above zero.
    held: Arc<Mutex<HashMap<Holder, usize>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    Account(String),
    Address(String),
}

/// A place taken; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    holders: Vec<Holder>,
    held: Arc<Mutex<HashMap<Holder, usize>>>,
}

impl PasswordSlots {
    /// `places` checks at once (at least one), at most half of them (at least one)
    /// for one account or one address.
    pub(crate) fn new(places: usize) -> Self {
        let places = places.max(1);
        PasswordSlots {
            free: Arc::new(Semaphore::new(places)),
            share: (places / 2).max(1),
            held: Arc::default(),
        }
    }

    /// A place for checking `account`'s password for a client at `address`; `None`
    /// when every place is taken or the account or the address holds its share.
    pub(crate) fn try_take(&self, account: &str, address: Option<&str>) -> Option<Slot> {
        let mut holders = vec![Holder::Account(account_key(account))];
        holders.extend(address.map(|address| Holder::Address(address.to_string())));
        // The map's lock is held while the permit is taken, so two checks for one
        // account cannot both see a free share.
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let within_share = holders
            .iter()
            .all(|holder| held.get(holder).copied().unwrap_or(0) < self.share);
        if !within_share {
            return None;
        }
        let permit = Arc::clone(&self.free).try_acquire_owned().ok()?;
        for holder in &holders {
            *held.entry(holder.clone()).or_insert(0) += 1;
        }
        Some(Slot {
            _permit: permit,
            holders,
            held: Arc::clone(&self.held),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        for holder in &self.holders {
            if let Some(count) = held.get_mut(holder) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    held.remove(holder);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_or_an_address_holds_at_most_half_the_places() {
        let slots = PasswordSlots::new(4);
        let ada = [
            slots.try_take("ada", Some("10.0.0.1")),
            slots.try_take("ada", Some("10.0.0.2")),
        ];
        assert!(ada.iter().all(Option::is_some));
        // Ada's share is taken, from any address.
        assert!(slots.try_take("ada", Some("10.0.0.3")).is_none());
        assert!(slots.try_take("ada", None).is_none());
        // 10.0.0.1 still has a place for another account.
        let bob = slots.try_take("bob", Some("10.0.0.1"));
        assert!(bob.is_some());
        // ... but no more than its share.
        assert!(slots.try_take("cy", Some("10.0.0.1")).is_none());
        let dee = slots.try_take("dee", None);
        assert!(dee.is_some());
        // Every place is taken.
        assert!(slots.try_take("eve", Some("10.0.0.9")).is_none());
        drop(ada);
        assert!(slots.try_take("ada", Some("10.0.0.1")).is_some());
        assert!(slots.held.lock().unwrap().len() <= 4);
    }

    #[test]
    fn places_given_back_leave_no_holder_behind() {
        let slots = PasswordSlots::new(2);
        for n in 0..100 {
            let slot = slots.try_take(&format!("user{n}"), Some(&format!("10.0.0.{n}")));
            assert!(slot.is_some());
        }
        assert!(slots.held.lock().unwrap().is_empty());
    }

    #[test]
    fn a_single_place_is_every_holders_share() {
        let slots = PasswordSlots::new(0);
        let first = slots.try_take("ada", None);
        assert!(first.is_some());
        assert!(slots.try_take("bob", None).is_none());
        drop(first);
        assert!(slots.try_take("bob", None).is_some());
    }
}
