//! The HTTP transport's other protocols: HTTP/2 in cleartext, TLS by ALPN, and idle
//! HTTP/2 connections.
#![cfg(feature = "axum")]

use serde_json::{Map, Value, json};
use telepact::client::tls;
use telepact::http::{self, HttpOptions};
use telepact::schema::Schema;
use telepact::{FunctionRouter, HandlerError, Headers, Message, PeerAddress, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::http_transport::{big_answer_server, schema_server, serve_app, start};

/// hyper lets an HTTP/2 connection idle forever once it has made a request; the server
/// closes it after the head timeout, as HTTP/1 keep-alive connections are, but not while
/// a request is in flight. The handler answers with the caller's port, so a new port
/// means a new connection, after waiting `waitMs!` when asked to.
#[tokio::test]
async fn an_idle_http2_connection_is_closed() {
    let schema = Schema::from_text(
        r#"[{"fn.port": {"waitMs!": "integer"}, "->": [{"Ok_": {"port": "integer"}}]}]"#,
    )
    .expect("schema loads");
    let router = FunctionRouter::new().route("fn.port", |request: Message| async move {
        let wait = request
            .payload()
            .and_then(|payload| payload.get("waitMs!"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
        let port = request
            .extensions
            .get::<PeerAddress>()
            .map(|peer| peer.0.port());
        let mut payload = Map::new();
        payload.insert("port".to_string(), json!(port.unwrap_or_default()));
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let server = Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds");
    let serve = http::ServeOptions::default().header_timeout(std::time::Duration::from_millis(500));
    let app = http::router(server, &HttpOptions::default());
    let (port, _stop, _serving) = serve_app(app, serve).await;
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls::plain_http_config().expect("a TLS setup"))
        .http2_prior_knowledge()
        .build()
        .expect("client builds");
    let caller_port = |wait_ms: u64| {
        let client = client.clone();
        async move {
            let response = client
                .post(format!("http://127.0.0.1:{port}{}", http::DEFAULT_PATH))
                .body(format!(
                    r#"[{{}}, {{"fn.port": {{"waitMs!": {wait_ms}}}}}]"#
                ))
                .send()
                .await
                .expect("answered");
            assert_eq!(response.version(), reqwest::Version::HTTP_2);
            let body = response.bytes().await.expect("a body");
            let answer: Value = serde_json::from_slice(&body).expect("JSON");
            answer[1]["Ok_"]["port"].as_u64().expect("a port")
        }
    };

    let first = caller_port(0).await;
    assert_eq!(caller_port(0).await, first, "a busy connection is kept");
    // A request that starts within the limit and runs past it keeps the connection.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(caller_port(1000).await, first, "a slow request is answered");
    assert_eq!(
        caller_port(0).await,
        first,
        "a connection busy past the limit is kept"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    assert_ne!(
        caller_port(0).await,
        first,
        "the idle connection was closed"
    );
}

/// An HTTP/2 frame: its 9-byte header and `payload`.
fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len())
        .expect("a short payload")
        .to_be_bytes();
    let mut frame = length[1..].to_vec();
    frame.extend_from_slice(&[kind, flags]);
    frame.extend_from_slice(&stream.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// An HPACK header field written literally, neither name nor value indexed.
fn hpack_literal(name: &str, value: &str) -> Vec<u8> {
    let mut field = vec![0, u8::try_from(name.len()).expect("a short name")];
    field.extend_from_slice(name.as_bytes());
    field.push(u8::try_from(value.len()).expect("a short value"));
    field.extend_from_slice(value.as_bytes());
    field
}

/// The HPACK block of a cleartext POST to the Telepact path, as literals.
fn post_headers() -> Vec<u8> {
    [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", http::DEFAULT_PATH),
        (":authority", "localhost"),
    ]
    .iter()
    .flat_map(|(name, value)| hpack_literal(name, value))
    .collect()
}

/// A client that asks for a large answer but grants no flow-control window (and never
/// updates it) leaves the answer unsent while nothing is being written: its connection
/// is dropped once the graceful close after the idle limit has waited as long again,
/// rather than held, with the answer, for as long as the client likes.
#[tokio::test]
async fn an_http2_client_granting_no_window_has_its_connection_dropped() {
    const SETTINGS: u8 = 4;
    let limit = std::time::Duration::from_millis(300);
    let serve = http::ServeOptions::default().header_timeout(limit);
    let app = http::router(big_answer_server(), &HttpOptions::default());
    let (port, _stop, _serving) = serve_app(app, serve).await;
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    // SETTINGS_INITIAL_WINDOW_SIZE (4) = 0, and an acknowledgement of the server's.
    opening.extend(h2_frame(SETTINGS, 0, 0, &[0, 4, 0, 0, 0, 0]));
    opening.extend(h2_frame(SETTINGS, 1, 0, &[]));
    opening.extend(h2_frame(1, 0x4, 1, &post_headers()));
    opening.extend(h2_frame(0, 0x1, 1, br#"[{}, {"fn.big": {}}]"#));
    stream.write_all(&opening).await.expect("writes");

    let mut chunk = vec![0; 1 << 16];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while stream.read(&mut chunk).await.is_ok_and(|read| read > 0) {}
    })
    .await;
    assert!(closed.is_ok(), "the connection was held past 10 s");
}

/// A client granting no flow-control window (or a byte of it) that keeps a request in
/// flight at every moment (a new POST whose body never comes before the last one's
/// 408) never lets its connection go idle: its answers, left unsent, must still not be
/// held for as long as it likes.
#[tokio::test]
async fn an_http2_client_granting_no_window_cannot_hold_answers_by_staying_busy() {
    for granted in [0, 1] {
        assert!(
            held_while_busy(granted).await.is_ok(),
            "granting {granted} bytes, the connection was held past 5 s"
        );
    }
}

/// Asks for a large answer and starts a POST whose body never comes every 150 ms,
/// granting each stream `granted` bytes of window; waits up to 5 s for the server to
/// close the connection.
async fn held_while_busy(granted: u32) -> Result<(), tokio::time::error::Elapsed> {
    const SETTINGS: u8 = 4;
    const WINDOW_UPDATE: u8 = 8;
    let limit = std::time::Duration::from_millis(300);
    let serve = http::ServeOptions::default().header_timeout(limit);
    let options = HttpOptions::default().body_timeout(std::time::Duration::from_millis(400));
    let app = http::router(big_answer_server(), &options);
    let (port, _stop, _serving) = serve_app(app, serve).await;
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let (mut reading, mut writing) = stream.into_split();
    let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    opening.extend(h2_frame(SETTINGS, 0, 0, &[0, 4, 0, 0, 0, 0]));
    opening.extend(h2_frame(SETTINGS, 1, 0, &[]));
    opening.extend(h2_frame(1, 0x4, 1, &post_headers()));
    opening.extend(h2_frame(0, 0x1, 1, br#"[{}, {"fn.big": {}}]"#));
    if granted > 0 {
        opening.extend(h2_frame(WINDOW_UPDATE, 0, 1, &granted.to_be_bytes()));
    }
    writing.write_all(&opening).await.expect("writes");
    // Every 150 ms a POST whose body never comes: one is always in flight.
    let busy = tokio::spawn(async move {
        for stream_id in (3..200).step_by(2) {
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            let mut headers = h2_frame(1, 0x4, stream_id, &post_headers());
            if granted > 0 {
                let window = granted.to_be_bytes();
                headers.extend(h2_frame(WINDOW_UPDATE, 0, stream_id, &window));
            }
            if writing.write_all(&headers).await.is_err() {
                return;
            }
        }
    });
    let mut chunk = vec![0; 1 << 16];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while reading.read(&mut chunk).await.is_ok_and(|read| read > 0) {}
    })
    .await;
    busy.abort();
    closed
}

/// A client that resets its HTTP/2 stream (RST_STREAM) while the call is answered has
/// the handler dropped and the call counted once as `cancelled`, with its span closed
/// so; the stream no longer counts as in flight, so the connection, idle then, is
/// closed after the idle limit.
#[tokio::test]
async fn an_http2_stream_reset_drops_its_call_and_counts_it() {
    use super::http_transport::cancelled::{STUCK_CALL, Stuck, cancelled, span_results};

    const RST_STREAM: u8 = 3;
    const CANCEL: u32 = 8;
    let capture = crate::log_capture::Capture::default();
    let _logged = tracing::subscriber::set_default(capture.clone());
    let stuck = Stuck::new();
    let serve = http::ServeOptions::default().header_timeout(std::time::Duration::from_millis(300));
    let (port, _stop, _serving) = serve_app(stuck.router(), serve).await;
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    opening.extend(h2_frame(4, 0, 0, &[]));
    opening.extend(h2_frame(4, 1, 0, &[]));
    opening.extend(h2_frame(1, 0x4, 1, &post_headers()));
    opening.extend(h2_frame(0, 0x1, 1, STUCK_CALL));
    stream.write_all(&opening).await.expect("writes");
    stuck.entered(1).await;

    let reset = h2_frame(RST_STREAM, 0, 1, &CANCEL.to_be_bytes());
    stream.write_all(&reset).await.expect("writes");
    stuck.given_up(1).await;
    assert_eq!(stuck.counted(), cancelled(1));
    assert_eq!(span_results(&capture), ["\"cancelled\""]);

    let mut chunk = vec![0; 1 << 16];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while stream.read(&mut chunk).await.is_ok_and(|read| read > 0) {}
    })
    .await;
    assert!(closed.is_ok(), "the idle connection is closed");
}

#[tokio::test]
async fn http2_cleartext_round_trips() {
    let (port, stop) = start(HttpOptions::default()).await;
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls::plain_http_config().expect("a TLS setup"))
        .http2_prior_knowledge()
        .build()
        .expect("client builds");
    let response = client
        .post(format!("http://127.0.0.1:{port}{}", http::DEFAULT_PATH))
        .body(r#"[{}, {"fn.ping_": {}}]"#)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(
        response.bytes().await.expect("a body").as_ref(),
        br#"[{},{"Ok_":{}}]"#
    );
    let _ = stop.send(());
}

/// A self-signed certificate for 127.0.0.1: its PEM and its key's PEM.
fn self_signed() -> (String, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("generates");
    (certified.cert.pem(), certified.signing_key.serialize_pem())
}

/// Serves [`schema_server`] over TLS with `certificate`; returns its port, the stop handle
/// and the serving task.
async fn start_tls(
    certificate: &str,
    key: &str,
) -> (
    u16,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let tls = http::TlsConfig::from_pem(certificate.as_bytes(), key.as_bytes()).expect("usable");
    let app = http::router(schema_server(), &HttpOptions::default());
    serve_app(app, http::ServeOptions::default().tls(tls)).await
}

#[tokio::test]
async fn tls_serves_http1_and_http2_by_alpn_and_stops() {
    let (certificate, key) = self_signed();
    let (port, stop, serving) = start_tls(&certificate, &key).await;
    let trusting = || tls::config_trusting(certificate.as_bytes()).expect("a certificate");
    let mut http1_only = trusting();
    http1_only.alpn_protocols = vec![b"http/1.1".to_vec()];
    let http1 = reqwest::Client::builder()
        .tls_backend_preconfigured(http1_only)
        .http1_only()
        .build()
        .expect("client builds");
    let negotiated = reqwest::Client::builder()
        .tls_backend_preconfigured(trusting())
        .build()
        .expect("client builds");
    let url = format!("https://127.0.0.1:{port}{}", http::DEFAULT_PATH);
    for (client, version) in [
        (http1, reqwest::Version::HTTP_11),
        (negotiated, reqwest::Version::HTTP_2),
    ] {
        let response = client
            .post(&url)
            .body(r#"[{}, {"fn.ping_": {}}]"#)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.version(), version);
        assert_eq!(
            response.bytes().await.expect("a body").as_ref(),
            br#"[{},{"Ok_":{}}]"#
        );
    }

    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let _ = stream
        .write_all(b"POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .await;
    let mut plain = Vec::new();
    let _ = stream.read_to_end(&mut plain).await;
    assert!(!plain.starts_with(b"HTTP/"), "{plain:?}");

    stop.send(()).expect("server is running");
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), serving).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "serving ended: {ended:?}");
}

/// A connection that never starts its TLS handshake is closed at the header timeout
/// when that is shorter than the handshake's own limit (10 s).
#[tokio::test]
async fn a_silent_tls_connection_is_closed_at_the_header_timeout() {
    let (certificate, key) = self_signed();
    let tls = http::TlsConfig::from_pem(certificate.as_bytes(), key.as_bytes()).expect("usable");
    let app = http::router(schema_server(), &HttpOptions::default());
    let limit = std::time::Duration::from_millis(300);
    let serve = http::ServeOptions::default().tls(tls).header_timeout(limit);
    let (port, _stop, _serving) = serve_app(app, serve).await;
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let started = std::time::Instant::now();
    let mut read = Vec::new();
    let closed = tokio::time::timeout(limit * 10, stream.read_to_end(&mut read)).await;
    assert!(closed.is_ok(), "still open after {:?}", started.elapsed());
    assert!(started.elapsed() >= limit, "{:?}", started.elapsed());
}

/// A connection that has not finished its TLS handshake has no request to finish: the
/// shutdown closes it at once rather than waiting out its grace for it, and warns of no
/// request cut off.
#[tokio::test]
async fn a_shutdown_does_not_wait_for_a_connection_in_its_tls_handshake() {
    let capture = crate::log_capture::Capture::default();
    let _logged = tracing::subscriber::set_default(capture.clone());
    let (certificate, key) = self_signed();
    let tls = http::TlsConfig::from_pem(certificate.as_bytes(), key.as_bytes()).expect("usable");
    let app = http::router(schema_server(), &HttpOptions::default());
    let grace = std::time::Duration::from_millis(300);
    let serve = http::ServeOptions::default().tls(tls).grace(grace);
    let (port, stop, serving) = serve_app(app, serve).await;
    let mut silent = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    // Accepted, and its handshake waiting for the client's hello.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    stop.send(()).expect("server is running");
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), serving).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "serving ended: {ended:?}");
    let mut read = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        silent.read_to_end(&mut read),
    );
    assert!(closed.await.is_ok(), "the silent connection is closed");
    let lines = capture.lines();
    assert!(
        !lines
            .iter()
            .any(|line| line.contains("cancelled at the shutdown deadline")),
        "{lines:?}"
    );
}

#[cfg(feature = "http-client-rustls")]
#[tokio::test]
async fn the_client_calls_over_tls_trusting_only_the_given_ca() {
    use telepact::client::{ClientError, HttpTransport};
    use telepact::{Client, ClientOptions};

    let (certificate, key) = self_signed();
    let (port, stop, _serving) = start_tls(&certificate, &key).await;
    let url = format!("https://127.0.0.1:{port}{}", http::DEFAULT_PATH);
    for binary in [false, true] {
        let transport = HttpTransport::trusting(&url, certificate.as_bytes()).expect("a valid url");
        let client = Client::with_options(transport, ClientOptions::default().binary(binary));
        for _ in 0..2 {
            let request = Message::new(Headers::new(), "fn.ping_", Map::new());
            let response = client.request(request).await.expect("answered");
            assert_eq!(response.target(), "Ok_");
        }
    }
    // Without the CA the server's certificate is not trusted.
    let (other, _) = self_signed();
    let transport = HttpTransport::trusting(&url, other.as_bytes()).expect("a valid url");
    let request = Message::new(Headers::new(), "fn.ping_", Map::new());
    let refused = Client::new(transport).request(request).await;
    assert!(
        matches!(refused, Err(ClientError::Transport(_))),
        "{refused:?}"
    );
    let _ = stop.send(());
}

#[cfg(feature = "websocket-client-rustls")]
#[tokio::test]
async fn the_websocket_client_calls_over_wss_trusting_only_the_given_ca() {
    use telepact::client::WebSocketTransport;
    use telepact::{Client, ClientOptions};

    let (certificate, key) = self_signed();
    let (port, stop, _serving) = start_tls(&certificate, &key).await;
    let url = format!("wss://127.0.0.1:{port}{}", http::DEFAULT_PATH);
    for binary in [false, true] {
        let socket = WebSocketTransport::trusting(&url, certificate.as_bytes())
            .await
            .expect("connects");
        let client = Client::with_options(socket, ClientOptions::default().binary(binary));
        for _ in 0..2 {
            let request = Message::new(Headers::new(), "fn.ping_", Map::new());
            let response = client.request(request).await.expect("answered");
            assert_eq!(response.target(), "Ok_");
        }
    }
    // Neither another CA nor the platform's roots trust the server's certificate.
    let (other, _) = self_signed();
    let refused = WebSocketTransport::trusting(&url, other.as_bytes()).await;
    assert!(refused.is_err(), "connected trusting another CA");
    assert!(WebSocketTransport::connect(&url).await.is_err());
    let _ = stop.send(());
}

/// The key exchange group a TLS handshake with the server settles on, when the client
/// offers only `groups` (all of its provider's, when `None`); `None` if it fails.
async fn negotiated_group(
    port: u16,
    certificate: &str,
    groups: Option<&[rustls::NamedGroup]>,
) -> Option<rustls::NamedGroup> {
    let mut config = tls::config_trusting(certificate.as_bytes()).expect("a certificate");
    if let Some(groups) = groups {
        let mut provider = config.crypto_provider().as_ref().clone();
        provider
            .kx_groups
            .retain(|group| groups.contains(&group.name()));
        let roots = roots_of(certificate);
        config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
    }
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("an address");
    let stream = connector.connect(name, tcp).await.ok()?;
    let group = stream.get_ref().1.negotiated_key_exchange_group()?;
    Some(group.name())
}

/// An HTTP/1 client over TLS that goes away (its connection closed) while its call is
/// answered has the call dropped and counted as `cancelled`, as over plain HTTP.
#[tokio::test]
async fn an_http1_client_over_tls_that_goes_away_has_its_call_dropped() {
    use super::http_transport::cancelled::{STUCK_CALL, Stuck, cancelled};

    let (certificate, key) = self_signed();
    let tls = http::TlsConfig::from_pem(certificate.as_bytes(), key.as_bytes()).expect("usable");
    let stuck = Stuck::new();
    let (port, _stop, _serving) =
        serve_app(stuck.router(), http::ServeOptions::default().tls(tls)).await;
    let mut config = tls::config_trusting(certificate.as_bytes()).expect("a certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("an address");
    let mut stream = connector.connect(name, tcp).await.expect("a handshake");
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        http::DEFAULT_PATH,
        STUCK_CALL.len()
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    stream.write_all(STUCK_CALL).await.expect("writes");
    stream.flush().await.expect("sent");
    stuck.entered(1).await;
    drop(stream);
    stuck.given_up(1).await;
    assert_eq!(stuck.counted(), cancelled(1));
}

/// A root store holding `certificate` alone.
fn roots_of(certificate: &str) -> rustls::RootCertStore {
    use rustls::pki_types::pem::PemObject;

    let mut roots = rustls::RootCertStore::empty();
    for der in rustls::pki_types::CertificateDer::pem_slice_iter(certificate.as_bytes()) {
        roots.add(der.expect("PEM")).expect("a certificate");
    }
    roots
}

/// Both sides prefer post-quantum key exchange (hybrid X25519 + ML-KEM-768) and keep the
/// classical groups for peers without it.
#[tokio::test]
async fn tls_keys_with_post_quantum_x25519mlkem768_and_falls_back() {
    use rustls::NamedGroup::{X25519, X25519MLKEM768, secp256r1};

    let (certificate, key) = self_signed();
    let client = tls::config_trusting(certificate.as_bytes()).expect("a certificate");
    let offered: Vec<_> = client
        .crypto_provider()
        .kx_groups
        .iter()
        .map(|g| g.name())
        .collect();
    assert_eq!(offered.first(), Some(&X25519MLKEM768), "{offered:?}");

    let (port, stop, _serving) = start_tls(&certificate, &key).await;
    let group = |groups| negotiated_group(port, &certificate, groups);
    assert_eq!(group(None).await, Some(X25519MLKEM768));
    assert_eq!(group(Some(&[X25519MLKEM768])).await, Some(X25519MLKEM768));
    assert_eq!(group(Some(&[X25519])).await, Some(X25519));
    assert_eq!(group(Some(&[secp256r1])).await, Some(secp256r1));
    let _ = stop.send(());
}

#[test]
fn tls_configs_refuse_what_they_cannot_use() {
    use http::{TlsConfig, TlsError};

    let (certificate, key) = self_signed();
    assert!(TlsConfig::from_pem(certificate.as_bytes(), key.as_bytes()).is_ok());
    assert!(matches!(
        TlsConfig::from_pem(b"", key.as_bytes()),
        Err(TlsError::NoCertificate)
    ));
    assert!(matches!(
        TlsConfig::from_pem(certificate.as_bytes(), b"not a key"),
        Err(TlsError::Pem(_))
    ));
    let (_, other_key) = self_signed();
    assert!(matches!(
        TlsConfig::from_pem(certificate.as_bytes(), other_key.as_bytes()),
        Err(TlsError::Rustls(_))
    ));
    let missing = TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem");
    assert!(
        matches!(&missing, Err(TlsError::Read { path, .. }) if path.ends_with("cert.pem")),
        "{missing:?}"
    );
}
