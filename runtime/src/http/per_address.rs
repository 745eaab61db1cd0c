//! Connections open from each client address, kept to a bound: a client that opens
//! connections and sends nothing holds each until the header timeout, and without a
//! bound a few hundred of them take every file descriptor the process has, after which
//! nobody else is answered.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::logging::LineBudget;

/// Warnings a second that an address reached its limit.
static LIMIT_LINES: LineBudget = LineBudget::per_second(10);

/// The connections open from each address, and how many one address may have.
#[derive(Debug)]
pub(super) struct OpenConnections {
    limit: Option<usize>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; dropping it (when the connection ends) counts it closed.
#[derive(Debug)]
pub(super) struct Admitted {
    counted: Option<(Arc<OpenConnections>, IpAddr)>,
}

impl OpenConnections {
    /// At most `limit` connections from one address; `None`: no bound, nothing counted.
    pub(super) fn new(limit: Option<usize>) -> Arc<Self> {
        Arc::new(OpenConnections {
            limit,
            open: Mutex::default(),
        })
    }

    /// Counts a connection from `address`; `None` when the address has its limit open.
    pub(super) fn admit(self: &Arc<Self>, address: IpAddr) -> Option<Admitted> {
        let Some(limit) = self.limit else {
            return Some(Admitted { counted: None });
        };
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(address).or_insert(0);
        if *count >= limit {
            tracing::debug!(%address, limit, "connection refused: its address has its limit open");
            return None;
        }
        *count += 1;
        // Bounded: a client at its limit that closes one connection and opens another
        // reaches it again each time.
        if *count == limit
            && let Some(left_out) = LIMIT_LINES.admit()
        {
            let left_out = (left_out > 0).then_some(left_out);
            tracing::warn!(%address, limit, left_out, "a client address has its limit of connections open; more from it are refused until some close");
        }
        Some(Admitted {
            counted: Some((Arc::clone(self), address)),
        })
    }

    #[cfg(test)]
    fn open_from(&self, address: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&address).copied().unwrap_or(0)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let Some((connections, address)) = &self.counted else {
            return;
        };
        let mut open = connections
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(address) {
            *count -= 1;
            if *count == 0 {
                open.remove(address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_limit_and_others_are_unaffected() {
        let open = OpenConnections::new(Some(2));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = [open.admit(a), open.admit(a)];
        assert!(first.iter().all(Option::is_some));
        assert!(open.admit(a).is_none());
        assert!(open.admit(b).is_some());
        drop(first);
        assert_eq!(open.open_from(a), 0);
        assert!(open.admit(a).is_some());
        assert!(open.open.lock().unwrap().len() <= 1);
    }

    #[test]
    fn without_a_limit_nothing_is_counted() {
        let open = OpenConnections::new(None);
        let address: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..1000).map(|_| open.admit(address)).collect();
        assert!(held.iter().all(Option::is_some));
        assert_eq!(open.open_from(address), 0);
    }
}
