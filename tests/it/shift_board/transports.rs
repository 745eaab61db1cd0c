//! The typed client against the board over HTTP/2 (cleartext and TLS) and WebSocket
//! (plain and secure), in JSON and binary.

use telepact::client::ClientOptions;
use telepact::client::{Transport, TransportError, tls};
use telepact_bakery::api::{Client, MyShiftInput};
use telepact_test_support::count_msgpack_answers;

use crate::support::signed_in;

/// The bakery's server in this process on a free port, over TLS when `tls` is given.
async fn serve_bakery(tls: Option<telepact::http::TlsConfig>) -> u16 {
    use telepact::http::{self, HttpOptions, ServeOptions};

    let server = telepact_bakery::server().expect("the bakery's server builds");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    let options = match tls {
        Some(tls) => ServeOptions::default().tls(tls),
        None => ServeOptions::default(),
    };
    let router = http::router(server, &HttpOptions::default());
    tokio::spawn(http::serve_with(
        listener,
        router,
        std::future::pending(),
        options,
    ));
    port
}

/// A self-signed certificate for 127.0.0.1 (its PEM, for clients to trust) and the
/// server's TLS with it.
fn self_signed_tls() -> (String, telepact::http::TlsConfig) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("a certificate");
    let certificate = certified.cert.pem();
    let tls = telepact::http::TlsConfig::from_pem(
        certificate.as_bytes(),
        certified.signing_key.serialize_pem().as_bytes(),
    )
    .expect("usable");
    (certificate, tls)
}

/// POSTs with `client`, refusing any answer that did not come over HTTP/2.
fn over_http2(client: reqwest::Client, url: String) -> impl Transport {
    move |request: Vec<u8>| {
        let sent = client.post(&url).body(request).send();
        async move {
            let response = sent.await?;
            if response.version() != reqwest::Version::HTTP_2 {
                return Err(format!("answered over {:?}", response.version()).into());
            }
            Ok::<_, TransportError>(response.bytes().await?.to_vec())
        }
    }
}

/// Three shifts in JSON, all answered in JSON, then three in binary, all answered in
/// MessagePack (the first answer brings the encoding), POSTed over HTTP/2 with `client`.
async fn shifts_over_http2_in_json_and_binary(client: reqwest::Client, url: String) {
    assert_eq!(
        three_shifts_over(over_http2(client.clone(), url.clone()), false).await,
        0
    );
    assert_eq!(three_shifts_over(over_http2(client, url), true).await, 3);
}

/// Three typed `fn.myShift` calls over `transport`, each answered with the lead
/// baker's shift; returns how many answers were MessagePack.
async fn three_shifts_over(transport: impl Transport, binary: bool) -> usize {
    let (counted, binary_responses) = count_msgpack_answers(transport);
    let options = ClientOptions::default().binary(binary);
    let client = Client::new(telepact::Client::with_options(counted, options));
    for _ in 0..3 {
        let shift = client
            .my_shift_with(MyShiftInput {}, signed_in("lead-baker", "opensesame"))
            .await
            .expect("the call completes");
        assert_eq!(shift.output, super::lead_bakers_shift());
    }
    binary_responses.count()
}

#[tokio::test]
async fn typed_calls_over_cleartext_http2_in_json_and_binary() {
    let port = serve_bakery(None).await;
    let url = format!("http://127.0.0.1:{port}/api/telepact");
    let h2c = reqwest::Client::builder()
        .tls_backend_preconfigured(tls::plain_http_config().expect("a TLS setup"))
        .http2_prior_knowledge()
        .build()
        .expect("client builds");
    shifts_over_http2_in_json_and_binary(h2c, url).await;
}

#[tokio::test]
async fn typed_calls_over_http2_with_tls_in_json_and_binary() {
    let (certificate, tls) = self_signed_tls();
    let port = serve_bakery(Some(tls)).await;
    let url = format!("https://127.0.0.1:{port}/api/telepact");
    // HTTP/2 by ALPN.
    let https = reqwest::Client::builder()
        .tls_backend_preconfigured(tls::config_trusting(certificate.as_bytes()).expect("usable"))
        .build()
        .expect("client builds");
    shifts_over_http2_in_json_and_binary(https, url).await;
}

#[tokio::test]
async fn typed_calls_over_secure_websocket_in_json_and_binary() {
    use telepact::client::WebSocketTransport;

    let (certificate, tls) = self_signed_tls();
    let port = serve_bakery(Some(tls)).await;
    let url = format!("wss://127.0.0.1:{port}/api/telepact");
    for (binary, messagepack_answers) in [(false, 0), (true, 3)] {
        let socket = WebSocketTransport::trusting(&url, certificate.as_bytes())
            .await
            .expect("connects");
        assert_eq!(three_shifts_over(socket, binary).await, messagepack_answers);
    }
}

#[tokio::test]
async fn typed_calls_over_websocket_in_json_and_binary() {
    use telepact::client::WebSocketTransport;

    let port = serve_bakery(None).await;
    let url = format!("ws://127.0.0.1:{port}/api/telepact");
    for (binary, messagepack_answers) in [(false, 0), (true, 3)] {
        let socket = WebSocketTransport::connect(&url).await.expect("connects");
        assert_eq!(three_shifts_over(socket, binary).await, messagepack_answers);
    }
}
