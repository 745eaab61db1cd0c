//! Connections open from each client address, and in all, kept to a bound: a client
//! that opens connections and sends nothing holds each until the header timeout, and
//! without a bound a few hundred of them take every file descriptor the process has,
//! after which nobody else is answered. The bound in all keeps a client with several
//! addresses (an IPv6 network, a few IPv4 ones) from doing the same.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

use metrics::{Unit, counter, describe_counter, describe_gauge, gauge};

use crate::logging::LineBudget;

/// Connections refused unread, by the bound they met: `limit="per_address"`
/// (`--max-connections-per-address`) or `limit="total"` (`--max-connections`).
const CONNECTIONS_REFUSED: &str = "telepact_http_connections_refused_total";

/// Connections open and counted against the bounds, over every listener of the process
/// that has one.
const CONNECTIONS_OPEN: &str = "telepact_http_connections_open";

/// Tells the `metrics` facade's recorder what the connection series mean.
fn describe() {
    describe_counter!(
        CONNECTIONS_REFUSED,
        Unit::Count,
        "Connections closed unread because a bound was reached, by limit (per_address or total)."
    );
    describe_gauge!(
        CONNECTIONS_OPEN,
        Unit::Count,
        "Connections open, counted against --max-connections."
    );
}

/// Counts a connection refused for `limit`: a fixed value, whatever the client sent.
fn count_refused(limit: &'static str) {
    counter!(CONNECTIONS_REFUSED, "limit" => limit).increment(1);
}

/// Warnings a second that an address reached its limit.
static LIMIT_LINES: LineBudget = LineBudget::per_second(10);

/// Warnings a second that the server reached its limit.
static TOTAL_LIMIT_LINES: LineBudget = LineBudget::per_second(1);

/// The connections open from each address, and how many one address, and all of them,
/// may have.
#[derive(Debug)]
pub(super) struct OpenConnections {
    limit: Option<usize>,
    total_limit: Option<usize>,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    by_address: HashMap<IpAddr, usize>,
    total: usize,
}

/// One admitted connection; dropping it (when the connection ends) counts it closed.
#[derive(Debug)]
pub(super) struct Admitted {
    counted: Option<(Arc<OpenConnections>, IpAddr)>,
}

/// The address a client counts under (its connections here, its failed logins in
/// `telepact-auth`): an IPv6 client holds a /64 (its provider gives it the whole
/// network), so that /64 counts as one client; an IPv4 address written as IPv6 counts as
/// itself, mapped (`::ffff:a.b.c.d`) or translated by NAT64 (`64:ff9b::a.b.c.d`).
pub fn client_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped().or_else(|| translated(v6)) {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

/// The IPv4 client a NAT64 or SIIT translator writes in RFC 6052's well-known prefix
/// (`64:ff9b::a.b.c.d`): behind one, every IPv4 client shares that prefix's /64.
fn translated(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let [.., a, b, c, d] = v6.octets();
    (v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]).then(|| Ipv4Addr::new(a, b, c, d))
}

impl OpenConnections {
    /// At most `limit` connections from one address and `total_limit` in all; `None`:
    /// no bound (with neither, nothing is counted).
    pub(super) fn new(limit: Option<usize>, total_limit: Option<usize>) -> Arc<Self> {
        describe();
        Arc::new(OpenConnections {
            limit,
            total_limit,
            open: Mutex::default(),
        })
    }

    /// Counts a connection from `address`; `None` when the address, or the server, has
    /// its limit open.
    pub(super) fn admit(self: &Arc<Self>, address: IpAddr) -> Option<Admitted> {
        if self.limit.is_none() && self.total_limit.is_none() {
            return Some(Admitted { counted: None });
        }
        let client = client_of(address);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if self.total_limit.is_some_and(|limit| open.total >= limit) {
            tracing::debug!(%address, "connection refused: the server has its limit open");
            count_refused("total");
            if let Some(left_out) = TOTAL_LIMIT_LINES.admit() {
                let left_out = (left_out > 0).then_some(left_out);
                tracing::warn!(
                    limit = self.total_limit,
                    left_out,
                    "the server has its limit of connections open; more are refused until some close"
                );
            }
            return None;
        }
        // Looked up before an entry is made: a refused address is not kept.
        let count = open.by_address.get(&client).copied().unwrap_or(0);
        if let Some(limit) = self.limit {
            if count >= limit {
                tracing::debug!(%address, limit, "connection refused: its address has its limit open");
                count_refused("per_address");
                return None;
            }
            // Bounded: a client at its limit that closes one connection and opens
            // another reaches it again each time.
            if count + 1 == limit
                && let Some(left_out) = LIMIT_LINES.admit()
            {
                let left_out = (left_out > 0).then_some(left_out);
                tracing::warn!(%address, limit, left_out, "a client address has its limit of connections open; more from it are refused until some close");
            }
        }
        open.by_address.insert(client, count + 1);
        open.total += 1;
        // The recorder is not asked while the count's lock is held.
        drop(open);
        gauge!(CONNECTIONS_OPEN).increment(1.0);
        Some(Admitted {
            counted: Some((Arc::clone(self), client)),
        })
    }

    #[cfg(test)]
    fn open_from(&self, address: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.by_address
            .get(&client_of(address))
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let Some((connections, client)) = &self.counted else {
            return;
        };
        {
            let mut open = connections
                .open
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            open.total = open.total.saturating_sub(1);
            if let Some(count) = open.by_address.get_mut(client) {
                *count -= 1;
                if *count == 0 {
                    open.by_address.remove(client);
                }
            }
        }
        gauge!(CONNECTIONS_OPEN).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_limit_and_others_are_unaffected() {
        let open = OpenConnections::new(Some(2), None);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = [open.admit(a), open.admit(a)];
        assert!(first.iter().all(Option::is_some));
        assert!(open.admit(a).is_none());
        assert!(open.admit(b).is_some());
        drop(first);
        assert_eq!(open.open_from(a), 0);
        assert!(open.admit(a).is_some());
        assert!(open.open.lock().unwrap().by_address.len() <= 1);
    }

    #[test]
    fn the_server_holds_at_most_its_total_from_all_addresses() {
        let open = OpenConnections::new(Some(2), Some(3));
        let address = |last: u8| IpAddr::from([10, 0, 0, last]);
        let held: Vec<_> = (1..=3).map(|last| open.admit(address(last))).collect();
        assert!(held.iter().all(Option::is_some));
        assert!(open.admit(address(4)).is_none(), "past the total");
        drop(held);
        assert!(open.admit(address(4)).is_some(), "room again");
    }

    #[test]
    fn an_ipv6_network_counts_as_one_client() {
        let open = OpenConnections::new(Some(2), None);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let held = [open.admit(a), open.admit(b)];
        assert!(held.iter().all(Option::is_some));
        assert!(open.admit(a).is_none(), "the /64 has its limit open");
        assert!(open.admit(elsewhere).is_some());
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_of(mapped), IpAddr::from([10, 0, 0, 1]));
    }

    /// A NAT64 or SIIT translator writes every IPv4 client as `64:ff9b::a.b.c.d`: counted
    /// by the /64, all of them shared one client's connections.
    #[test]
    fn ipv4_clients_behind_a_nat64_translator_count_each_as_itself() {
        let open = OpenConnections::new(Some(1), None);
        let a: IpAddr = "64:ff9b::10.0.0.1".parse().unwrap();
        let b: IpAddr = "64:ff9b::10.0.0.2".parse().unwrap();
        let held = [open.admit(a), open.admit(b)];
        assert!(held.iter().all(Option::is_some), "two IPv4 clients");
        assert!(open.admit(a).is_none(), "one client at its limit");
        assert_eq!(client_of(a), IpAddr::from([10, 0, 0, 1]));
    }

    /// A limit of 0 refuses every connection, and remembers none of their addresses.
    #[test]
    fn refused_addresses_are_not_kept() {
        let open = OpenConnections::new(Some(0), None);
        for last in 0..=255 {
            assert!(open.admit(IpAddr::from([10, 0, 0, last])).is_none());
        }
        assert!(open.open.lock().unwrap().by_address.is_empty());
    }

    #[test]
    fn without_a_limit_nothing_is_counted() {
        let open = OpenConnections::new(None, None);
        let address: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..1000).map(|_| open.admit(address)).collect();
        assert!(held.iter().all(Option::is_some));
        assert_eq!(open.open_from(address), 0);
    }
}
