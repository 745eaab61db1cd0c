//! What the NATS options change: the caller's address a gateway sends when told to and a
//! worker takes only when trusted, the HTTP headers a gateway forwards and returns
//! through a worker's header bridge, and a bound on the calls a worker answers at once.

use telepact::PeerAddress;
use telepact::nats::async_nats::HeaderMap as NatsHeaders;

use super::*;

/// A gateway sends each caller's address only when told to, never one its caller
/// wrote; a worker takes it as the call's `PeerAddress` only when it trusts its
/// gateways, and otherwise ignores the header, whoever wrote it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_sees_the_callers_address_only_when_it_trusts_the_gateway() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let call = r#"[{}, {"fn.peer": {}}]"#;
    for (forward, trust) in [(true, true), (true, false), (false, true)] {
        let subject = format!("telepact.peer.{forward}.{trust}");
        let subject = subject.as_str();
        let options = nats::WorkerOptions::default().trust_peer_address(trust);
        let worker = nats::serve_with(
            peer_server(),
            connect(&url).await,
            subject,
            "peers",
            options,
        )
        .await
        .expect("worker subscribes");
        // Even told to forward it, the gateway does not take the address header from
        // its caller.
        let address_header = axum::http::HeaderName::from_static("telepact-peer-address");
        let options = nats::GatewayOptions::default()
            .forward_peer_address(forward)
            .request_headers([address_header]);
        let gateway = serve_gateway_with(&url, subject, options).await;
        for from in ["127.0.0.1", "127.0.0.2"] {
            let http = reqwest::Client::builder()
                .tls_backend_preconfigured(
                    telepact::client::tls::plain_http_config().expect("a TLS setup"),
                )
                .local_address(from.parse::<std::net::IpAddr>().ok())
                .build()
                .expect("client builds");
            let answer = http
                .post(&gateway)
                .header(nats::PEER_ADDRESS_HEADER, "203.0.113.7:1")
                .body(call)
                .send()
                .await
                .expect("answers");
            let answer = answer.bytes().await.expect("a body");
            let answer: Value = serde_json::from_slice(&answer).expect("JSON");
            let seen = answer[1]["Ok_"]["address!"].as_str().map(str::to_string);
            if forward && trust {
                let seen = seen.expect("the caller's address");
                assert!(seen.starts_with(&format!("{from}:")), "{seen} from {from}");
            } else {
                assert_eq!(answer, json!([{}, {"Ok_": {}}]), "{forward} {trust}");
            }
        }
        // A header written by any other publisher counts only where trusted.
        let mut forged = nats::async_nats::HeaderMap::new();
        forged.insert(nats::PEER_ADDRESS_HEADER, "203.0.113.7:1");
        let reply = connect(&url)
            .await
            .request_with_headers(subject.to_string(), forged, call.into())
            .await
            .expect("answered");
        let answer: Value = serde_json::from_slice(&reply.payload).expect("JSON");
        let expected = if trust {
            json!([{}, {"Ok_": {"address!": "203.0.113.7:1"}}])
        } else {
            json!([{}, {"Ok_": {}}])
        };
        assert_eq!(answer, expected, "trust={trust}");
        worker.drain().await.expect("drains");
    }
}

/// A gateway to `subject` with `options`, served on a free loopback port; its URL.
async fn serve_gateway_with(
    nats_url: &str,
    subject: &str,
    options: nats::GatewayOptions,
) -> String {
    let client = connect(nats_url).await;
    let gateway = nats::gateway_with(client, subject, &HttpOptions::default(), options)
        .expect("a good subject");
    serve_router(gateway).await
}

/// A server whose `fn.peer` answers the request's `PeerAddress`, if any.
fn peer_server() -> Server {
    let schema = r#"[{"fn.peer": {}, "->": [{"Ok_": {"address!": "string"}}]}]"#;
    let router = FunctionRouter::new().route("fn.peer", |request: Message| async move {
        let mut payload = Map::new();
        if let Some(PeerAddress(address)) = request.extensions.get::<PeerAddress>() {
            payload.insert("address!".to_string(), json!(address.to_string()));
        }
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let schema = Schema::from_text(schema).expect("the schema loads");
    Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds")
}

/// With `max_in_flight`, a worker answers that many calls at once and takes the others
/// as those finish: every call is answered, none waits past its deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_answers_at_most_max_in_flight_calls_at_once() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (counted_now, counted_most) = (Arc::clone(&now), Arc::clone(&most));
    let router = FunctionRouter::new().route("fn.slow", move |_request: Message| {
        let (now, most) = (Arc::clone(&counted_now), Arc::clone(&counted_most));
        async move {
            most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Map::new()))
        }
    });
    let schema = r#"[{"fn.slow": {}, "->": [{"Ok_": {}}]}]"#;
    let schema = Schema::from_text(schema).expect("the schema loads");
    let server = Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds");
    let options = nats::WorkerOptions::default().max_in_flight(Some(2));
    let worker = nats::serve_with(server, connect(&url).await, SUBJECT, "bounded", options)
        .await
        .expect("worker subscribes");
    let client = Arc::new(nats_client(&url, false).await);
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let client = Arc::clone(&client);
            tokio::spawn(async move {
                let slow = Message::new(Headers::new(), "fn.slow", Map::new());
                client.request(slow).await
            })
        })
        .collect();
    for call in calls {
        let response = call.await.expect("the call's task").expect("answered");
        assert_eq!(response.target(), "Ok_");
    }
    assert_eq!(most.load(Ordering::SeqCst), 2);
    worker.drain().await.expect("drains");
}

/// Requests NATS delivered to a worker at its `max_in_flight`, waiting their turn when
/// the drain starts, are answered too, not dropped with the subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_answers_the_requests_waiting_at_max_in_flight() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let options = nats::WorkerOptions::default().max_in_flight(Some(1));
    let worker = nats::serve_with(server(), connect(&url).await, SUBJECT, "adders", options)
        .await
        .expect("worker subscribes");
    let client = Arc::new(nats_client(&url, false).await);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let client = Arc::clone(&client);
        calls.spawn(async move {
            let slow = Message::new(Headers::new(), "fn.slow", Map::new());
            client.request(slow).await.map(|r| r.target().to_string())
        });
    }
    // One call is being handled (300 ms each), three wait in the buffer.
    tokio::time::sleep(Duration::from_millis(100)).await;
    worker.drain().await.expect("drains");
    while let Some(outcome) = calls.join_next().await {
        let answered = outcome
            .expect("call task")
            .expect("answered while draining");
        assert_eq!(answered, "Ok_");
    }
}

/// Turns the NATS header `x-tenant` into the call's `@tenant` (any other header into an
/// `@tenant` naming it), and the answer's `@served` into the reply's NATS header
/// `x-served`.
struct TenantBridge;

impl nats::HeaderBridge for TenantBridge {
    fn request(&self, nats: &NatsHeaders, headers: &mut Headers) {
        for (name, values) in nats.iter() {
            let name: &str = name.as_ref();
            let tenant = match (name, values.first()) {
                ("x-tenant", Some(tenant)) => tenant.as_str().to_string(),
                _ => format!("unexpected {name}"),
            };
            headers.insert("@tenant".to_string(), json!(tenant));
        }
    }

    fn response(&self, headers: &mut Headers, reply: &mut NatsHeaders) {
        if let Some(Value::String(served)) = headers.remove("@served") {
            reply.insert("x-served", served.as_str());
        }
    }
}

/// A bridge that panics on one side, as a bug in one would.
struct PanickingBridge {
    on_request: bool,
}

impl nats::HeaderBridge for PanickingBridge {
    fn request(&self, _nats: &NatsHeaders, _headers: &mut Headers) {
        assert!(!self.on_request, "a bug in the bridge's request side");
    }

    fn response(&self, _headers: &mut Headers, _reply: &mut NatsHeaders) {
        assert!(self.on_request, "a bug in the bridge's response side");
    }
}

/// A bridge that panics, on either side, leaves the call answered (without what it
/// would have carried), where the request's task ended and its caller timed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_bridge_that_panics_leaves_the_call_answered() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    for on_request in [true, false] {
        let subject = format!("telepact.panicking.{on_request}");
        let options = nats::WorkerOptions::default().header_bridge(PanickingBridge { on_request });
        let worker = nats::serve_with(
            tenant_server(),
            connect(&url).await,
            &subject,
            "panicking",
            options,
        )
        .await
        .expect("worker subscribes");
        let transport =
            nats::NatsTransport::new(connect(&url).await, &subject).expect("a valid subject");
        let options = telepact::ClientOptions::default().timeout(std::time::Duration::from_secs(5));
        let client = telepact::Client::with_options(transport, options);
        let request = Message::new(Headers::new(), "fn.tenant", Map::new());
        let answer = client.request(request).await.expect("answered in time");
        assert_eq!(answer.target(), "Ok_", "{:?}", answer.body());
        worker.drain().await.expect("drains");
    }
}

/// A server whose `fn.tenant` answers the call's `@tenant` header, and says it served
/// it in `@served`.
fn tenant_server() -> Server {
    let schema = r#"[
        {"headers.Tenant": {"@tenant": "string"}, "->": {"@served": "string"}},
        {"fn.tenant": {}, "->": [{"Ok_": {"tenant!": "string"}}]}
    ]"#;
    let router = FunctionRouter::new().route("fn.tenant", |request: Message| async move {
        let mut payload = Map::new();
        let mut headers = Headers::new();
        if let Some(tenant) = request.headers.get("@tenant") {
            payload.insert("tenant!".to_string(), tenant.clone());
            headers.insert("@served".to_string(), json!("by-worker"));
        }
        Ok::<_, HandlerError>(Message::new(headers, "Ok_", payload))
    });
    let schema = Schema::from_text(schema).expect("the schema loads");
    Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds")
}

/// Gateway options forwarding `X-Tenant` and returning `X-Served`.
fn tenant_gateway() -> nats::GatewayOptions {
    let named = |name| axum::http::HeaderName::from_static(name);
    nats::GatewayOptions::default()
        .request_headers([named("x-tenant")])
        .response_headers([named("x-served")])
}

/// A gateway forwards the HTTP request headers it is told to as NATS headers, the
/// worker's bridge reads them into the call and writes the answer's into the reply, and
/// the gateway returns the reply headers it is told to as HTTP headers; nothing else
/// crosses either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_bridge_carries_http_headers_through_the_gateway_both_ways() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let server = tenant_server();
    let options = nats::WorkerOptions::default().header_bridge(TenantBridge);
    let worker = nats::serve_with(server, connect(&url).await, SUBJECT, "bridged", options)
        .await
        .expect("worker subscribes");
    let gateway = serve_gateway_with(&url, SUBJECT, tenant_gateway()).await;
    let http = crate::plain_http_client();
    let call = r#"[{}, {"fn.tenant": {}}]"#;
    for (tenant, other) in [(Some("acme"), None), (None, Some("x-other"))] {
        let mut request = http.post(&gateway).body(call);
        if let Some(tenant) = tenant {
            request = request.header("X-Tenant", tenant);
        }
        if let Some(other) = other {
            request = request.header(other, "ignored");
        }
        let answer = request.send().await.expect("answered");
        let served = answer.headers().get("x-served").cloned();
        let answer: Value =
            serde_json::from_slice(&answer.bytes().await.expect("a body")).expect("JSON");
        match tenant {
            Some(tenant) => {
                assert_eq!(answer, json!([{}, {"Ok_": {"tenant!": tenant}}]));
                assert_eq!(
                    served.as_ref().map(|v| v.to_str().ok()),
                    Some(Some("by-worker"))
                );
            }
            None => {
                assert_eq!(answer, json!([{}, {"Ok_": {}}]));
                assert_eq!(served, None);
            }
        }
    }
    worker.drain().await.expect("drains");
}

/// In a WebSocket session through the gateway, the upgrade request's headers reach the
/// worker's bridge with every message.
#[cfg(feature = "websocket-client")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_sessions_upgrade_headers_reach_the_bridge_with_every_message() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Frame;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let options = nats::WorkerOptions::default().header_bridge(TenantBridge);
    let worker = nats::serve_with(tenant_server(), connect(&url).await, SUBJECT, "ws", options)
        .await
        .expect("worker subscribes");
    let gateway = serve_gateway_with(&url, SUBJECT, tenant_gateway()).await;
    let mut upgrade = gateway
        .replacen("http://", "ws://", 1)
        .into_client_request()
        .expect("a WebSocket request");
    let tenant = "acme".parse().expect("a header value");
    upgrade.headers_mut().insert("x-tenant", tenant);
    let (mut socket, _) = tokio_tungstenite::connect_async(upgrade)
        .await
        .expect("the gateway upgrades");
    for _ in 0..3 {
        let call = Frame::text(r#"[{}, {"fn.tenant": {}}]"#);
        socket.send(call).await.expect("sent");
        let answer = socket.next().await.expect("a message").expect("readable");
        let answer: Value = serde_json::from_str(answer.to_text().expect("text")).expect("JSON");
        assert_eq!(answer, json!([{}, {"Ok_": {"tenant!": "acme"}}]));
    }
    worker.drain().await.expect("drains");
}
