//! Transports: the shift board behind tower-http layers (compression and a time limit),
//! served over plain HTTP (HTTP/1.1, h2c and WebSocket on one port) and over HTTPS
//! (HTTP/2 by ALPN, and secure WebSocket), and called by its generated client over
//! WebSocket with and without TLS, and over HTTPS in binary.
//!
//! `cargo run --example transports`. The README's "Middleware, tracing, metrics and
//! transports" section points here, and a test of the bakery runs it.

use std::time::Duration;

use axum::http::StatusCode;
use telepact::client::{ClientOptions, HttpTransport, WebSocketTransport};
use telepact::http::{self, HttpOptions, ServeOptions, TlsConfig};
use telepact::typed::Reply;
use telepact_bakery::api::{self, Auth, AuthPassword, MyShiftInput, MyShiftOutput, RequestHeaders};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

/// Serves the board on two loopback ports, calls it over each, and stops.
#[tokio::main]
pub async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Any tower layer wraps the endpoint: here, answers compressed as the request's
    // `Accept-Encoding` asks (gzip or zstd), and 408 for a request past 5 s.
    let app = http::router(telepact_bakery::server()?, &HttpOptions::default()).layer(
        tower::ServiceBuilder::new()
            .layer(CompressionLayer::new())
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(5),
            )),
    );

    // A certificate made here for the example; a service loads its own PEM files
    // (`TlsConfig::from_pem_files`).
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])?;
    let certificate = certified.cert.pem();
    let key = certified.signing_key.serialize_pem();
    let tls = TlsConfig::from_pem(certificate.as_bytes(), key.as_bytes())?;

    // One option switches the same router from plain HTTP to HTTPS.
    let (stop, stopped) = tokio::sync::watch::channel(());
    let shutdown = |mut stopped: tokio::sync::watch::Receiver<()>| async move {
        let _ = stopped.changed().await;
    };
    let plain = TcpListener::bind("127.0.0.1:0").await?;
    let secure = TcpListener::bind("127.0.0.1:0").await?;
    let (plain_address, secure_address) = (plain.local_addr()?, secure.local_addr()?);
    let serving = [
        tokio::spawn(http::serve_with(
            plain,
            app.clone(),
            shutdown(stopped.clone()),
            ServeOptions::default(),
        )),
        tokio::spawn(http::serve_with(
            secure,
            app,
            shutdown(stopped),
            ServeOptions::default().tls(tls),
        )),
    ];

    let signed_in = RequestHeaders::default().with_auth(Auth::Password(AuthPassword {
        username: "lead-baker".into(),
        password: "opensesame".into(),
    }));

    // WebSocket on the endpoint's own path, one message per call: plain, and over TLS
    // trusting only that certificate.
    let socket = WebSocketTransport::connect(&format!("ws://{plain_address}/api/telepact")).await?;
    let client = api::Client::new(telepact::Client::new(socket)).with_headers(signed_in.clone());
    println!("over WebSocket: {}", my_shift(&client).await?);
    let url = format!("wss://{secure_address}/api/telepact");
    let socket = WebSocketTransport::trusting(&url, certificate.as_bytes()).await?;
    let client = api::Client::new(telepact::Client::new(socket)).with_headers(signed_in.clone());
    println!("over WebSocket with TLS: {}", my_shift(&client).await?);

    // HTTPS trusting only that certificate: HTTP/2 by ALPN, and answers in MessagePack
    // (the client asks with `@bin_` and learns the encoding from the first answer).
    let url = format!("https://{secure_address}/api/telepact");
    let transport = HttpTransport::trusting(&url, certificate.as_bytes())?;
    let options = ClientOptions::default().binary(true);
    let client = api::Client::new(telepact::Client::with_options(transport, options))
        .with_headers(signed_in);
    for _ in 0..2 {
        println!("over HTTPS: {}", my_shift(&client).await?);
    }

    // What the layers and the connection did, seen from a plain HTTP client.
    let https = reqwest::Client::builder()
        .tls_backend_preconfigured(telepact::client::tls::config_trusting(
            certificate.as_bytes(),
        )?)
        .build()?;
    let answer = https
        .post(&url)
        .header("accept-encoding", "zstd")
        .body(r#"[{}, {"fn.api_": {}}]"#)
        .send()
        .await?;
    println!(
        "fn.api_ over {:?}, content-encoding: {:?}",
        answer.version(),
        answer.headers().get("content-encoding"),
    );

    stop.send(())?;
    for server in serving {
        server.await??;
    }
    // The board's identity lines (one a call) are written in batches: write the last.
    telepact_bakery::identity_log::flush();
    Ok(())
}

/// The lead baker's shift, as `fn.myShift` answers it through `client`.
async fn my_shift(
    client: &api::Client,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    match client.my_shift(MyShiftInput {}).await?.output {
        Reply::Known(MyShiftOutput::Ok(shift)) => Ok(format!(
            "{} bakes {} at the {}",
            shift.employee_id, shift.pastry, shift.station
        )),
        other => Err(format!("fn.myShift answered {other:?}").into()),
    }
}
