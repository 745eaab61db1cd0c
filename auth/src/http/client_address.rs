//! The client's address: the connection's, or, from a trusted proxy, the one its
//! `X-Forwarded-For` names, for the failed-login limits.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response as HttpResponse;
use ipnet::IpNet;
use telepact::PeerAddress;

/// A trusted proxy as a command line names it: one address (`10.0.0.1`, `::1`) or a
/// network (`10.0.0.0/8`).
///
/// # Errors
///
/// [`InvalidProxy`] when `text` is neither an IP address nor a network in CIDR form.
pub fn parse_trusted_proxy(text: &str) -> Result<IpNet, InvalidProxy> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| InvalidProxy(text.to_string()))
}

/// What [`parse_trusted_proxy`] could not read.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is neither an IP address nor a network like 10.0.0.0/8")]
pub struct InvalidProxy(String);

/// `router` with each request's [`PeerAddress`] set to its client's address as
/// `trusted_proxies` resolve it (see [`HttpAuthOptions::trusted_proxies`](super::HttpAuthOptions::trusted_proxies)): the
/// connection's, or, from a trusted proxy, what its `X-Forwarded-For` names. For routers
/// that do not read `X-Forwarded-For` themselves, such as the NATS gateway
/// (`telepact::nats::gateway`), which sends the address on to its workers. Serve the
/// result with [`serve`](super::serve) so the connection's address is known.
pub fn with_client_address(router: Router, trusted_proxies: Vec<IpNet>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(
        Arc::<[IpNet]>::from(trusted_proxies),
        set_client_address,
    ))
}

async fn set_client_address(
    State(trusted): State<Arc<[IpNet]>>,
    mut request: Request,
    next: Next,
) -> HttpResponse {
    let peer = connection_peer(&request);
    if let Some(client) = client_address(peer, request.headers(), &trusted) {
        request.extensions_mut().insert(PeerAddress(client));
    }
    next.run(request).await
}

/// The address of the connection `request` came on, when served by [`serve`](super::serve).
pub(super) fn connection_peer(request: &Request) -> Option<SocketAddr> {
    let ConnectInfo(peer) = request.extensions().get::<ConnectInfo<SocketAddr>>()?;
    Some(*peer)
}

/// The client's address: the peer's, or, from a trusted proxy, the right-most
/// `X-Forwarded-For` entry that is not a trusted proxy.
pub(super) fn client_address(
    peer: Option<SocketAddr>,
    headers: &axum::http::HeaderMap,
    trusted: &[IpNet],
) -> Option<SocketAddr> {
    let peer = peer?;
    let is_trusted = |address: &IpAddr| {
        let address = address.to_canonical();
        // An IPv4 proxy may be listed as `10.0.0.1` or as `::ffff:10.0.0.1`, the form a
        // dual-stack listener sees and logs.
        let mapped = match address {
            IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
            IpAddr::V6(_) => address,
        };
        let listed = |network: &IpNet| network.contains(&address) || network.contains(&mapped);
        trusted.iter().any(listed)
    };
    if !is_trusted(&peer.ip()) {
        return Some(peer);
    }
    // Split as bytes: a proxy appends the client to whatever the client sent, so one
    // entry it sent that is not text must not hide the entries the proxies wrote.
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.as_bytes().split(|byte| *byte == b','))
        .map(|entry| std::str::from_utf8(entry).ok().and_then(forwarded_address))
        .collect::<Vec<_>>();
    for entry in forwarded.into_iter().rev() {
        match entry {
            Some(address) if is_trusted(&address) => continue,
            Some(address) => return Some(SocketAddr::new(address, 0)),
            // A garbled hop: nothing left of it can be believed.
            None => break,
        }
    }
    Some(peer)
}

/// The address of one `X-Forwarded-For` entry, in any form proxies write it: a bare
/// address, or with the client's port (`203.0.113.7:41000`, `[2001:db8::1]:41000`,
/// `[2001:db8::1]`). A port must not send every client of such a proxy to the proxy's
/// own address, where one client's failed logins would count against all of them.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|address| address.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{HeaderMap, HeaderValue};
    use telepact::http::HttpOptions;
    use telepact::{Headers, Server};

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    /// `with_client_address` over the runtime's own router: the handler is told the
    /// client a trusted proxy names, not the proxy, as the README promises of any
    /// router that does not read `X-Forwarded-For` itself.
    #[tokio::test]
    async fn the_runtime_router_takes_the_client_address_a_trusted_proxy_names() {
        use telepact::schema::Schema;
        use telepact::{FunctionRouter, HandlerError, Message};
        use tower::ServiceExt;

        let schema = Schema::from_text(r#"[{"fn.whoami": {}, "->": [{"Ok_": {"ip": "string"}}]}]"#)
            .expect("schema loads");
        let functions = FunctionRouter::new().route("fn.whoami", |request: Message| async move {
            let peer = request.extensions.get::<PeerAddress>();
            let ip = peer.map_or("none".to_string(), |peer| peer.0.ip().to_string());
            let mut payload = serde_json::Map::new();
            payload.insert("ip".into(), ip.into());
            Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
        });
        let server = Server::builder(schema, functions)
            .auth_required(false)
            .build()
            .expect("builds");
        let proxy: IpNet = "10.0.0.1/32".parse().expect("a network");
        let app = with_client_address(
            telepact::http::router(server, &HttpOptions::default()),
            vec![proxy],
        );
        let mut request = Request::post(telepact::http::DEFAULT_PATH)
            .header("host", "service.example")
            .header("x-forwarded-for", "203.0.113.7")
            .body(Body::from(r#"[{}, {"fn.whoami": {}}]"#))
            .expect("a request");
        let peer: SocketAddr = "10.0.0.1:4000".parse().expect("an address");
        request.extensions_mut().insert(ConnectInfo(peer));
        let answer = app.oneshot(request).await.expect("answered");
        let body = axum::body::to_bytes(answer.into_body(), 1 << 16)
            .await
            .expect("a body");
        let body = String::from_utf8_lossy(&body);
        assert_eq!(body, r#"[{},{"Ok_":{"ip":"203.0.113.7"}}]"#);
    }

    /// A dual-stack listener sees an IPv4 proxy as `::ffff:10.0.0.1`, and the logs name it
    /// so: a proxy listed in that form, or as `10.0.0.1`, is trusted whichever way its
    /// connection comes, or every client behind it would count as the proxy.
    #[test]
    fn a_proxy_is_trusted_in_either_form_of_its_ipv4_address() {
        let headers = forwarded("203.0.113.7");
        let client = "203.0.113.7".parse::<IpAddr>().unwrap();
        for listed in ["::ffff:10.0.0.1", "::ffff:10.0.0.0/104", "10.0.0.1"] {
            let trusted = [parse_trusted_proxy(listed).unwrap()];
            for peer in ["10.0.0.1:4000", "[::ffff:10.0.0.1]:4000"] {
                let peer: SocketAddr = peer.parse().unwrap();
                let found = client_address(Some(peer), &headers, &trusted).map(|a| a.ip());
                assert_eq!(found, Some(client), "{listed} for {peer}");
            }
        }
    }

    /// A client may send `X-Forwarded-For` bytes that are not text; its proxy appends
    /// the client's address to them. That address counts, not the proxy's, where the
    /// client's failed logins would lock out everyone behind the proxy.
    #[test]
    fn bytes_a_client_forwards_that_are_not_text_leave_the_proxys_entries_counting() {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_bytes(b"6.6.6.\xff, 203.0.113.7").unwrap();
        headers.insert("x-forwarded-for", value);
        let proxy: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let trusted = [parse_trusted_proxy("10.0.0.1").unwrap()];
        let found = client_address(Some(proxy), &headers, &trusted).map(|a| a.ip());
        assert_eq!(found, Some("203.0.113.7".parse().unwrap()));
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies_with_or_without_a_port() {
        let proxy: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let trusted = [
            IpNet::from("10.0.0.1".parse::<IpAddr>().unwrap()),
            "10.0.0.2/32".parse().unwrap(),
        ];
        let headers = forwarded("6.6.6.6, 203.0.113.7, 10.0.0.2");
        let client = |peer, trusted: &[IpNet]| {
            client_address(Some(peer), &headers, trusted).map(|address| address.ip())
        };
        assert_eq!(
            client(proxy, &trusted),
            Some("203.0.113.7".parse().unwrap())
        );
        assert_eq!(client(proxy, &[]), Some(proxy.ip()));
        let stranger: SocketAddr = "198.51.100.9:5000".parse().unwrap();
        assert_eq!(client(stranger, &trusted), Some(stranger.ip()));
        let network: [IpNet; 1] = ["10.0.0.0/24".parse().unwrap()];
        assert_eq!(
            client(proxy, &network),
            Some("203.0.113.7".parse().unwrap())
        );
        for (entry, client) in [
            ("203.0.113.7:41000", "203.0.113.7"),
            ("[2001:db8::1]:41000", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            (" 2001:db8::1 ", "2001:db8::1"),
        ] {
            let headers = forwarded(&format!("6.6.6.6, {entry}, 10.0.0.2:80"));
            let found = client_address(Some(proxy), &headers, &trusted).map(|a| a.ip());
            assert_eq!(found, Some(client.parse().unwrap()), "{entry}");
        }
        let garbled = forwarded("203.0.113.7, not-an-address");
        assert_eq!(
            client_address(Some(proxy), &garbled, &trusted).map(|a| a.ip()),
            Some(proxy.ip())
        );
    }
}
