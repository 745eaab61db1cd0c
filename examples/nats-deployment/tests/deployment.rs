//! The bakery flow end to end through gateway → NATS → worker, JSON and binary, with a
//! real `nats-server` on a free loopback port (SKIP line when it is not installed).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use telepact::client::{ClientOptions, HttpTransport, Transport, TransportError};
use telepact::http::HttpOptions;
use telepact::nats;
use telepact::typed::standard::ErrorUnauthorized;
use telepact_bakery::api::{
    ApproveSpecialInput, ApproveSpecialOutput, Auth, AuthPassword, Client, MyShiftInput, MyShiftOk,
    MyShiftOutput, RequestHeaders,
};

/// A `nats-server` child on a free loopback port, killed on drop.
struct NatsServer {
    child: Child,
    port: u16,
}

impl NatsServer {
    fn start() -> Option<NatsServer> {
        let binary = telepact_test_support::nats_server()?;
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        let server = NatsServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signed_in(username: &str, password: &str) -> RequestHeaders {
    RequestHeaders {
        auth: Some(Auth::Password(AuthPassword {
            username: username.into(),
            password: password.into(),
        })),
        ..RequestHeaders::default()
    }
}

/// Two bakery workers behind one queue group and a gateway; runs the reference calls
/// through the gateway with `options`; returns how many responses were MessagePack
/// (`None` when nats-server is missing).
async fn run_the_bakery_flow(options: ClientOptions) -> Option<usize> {
    let nats_server = NatsServer::start()?;
    let nats_url = nats_server.url();
    let connect = || nats::connect(&nats_url, Duration::from_secs(5));
    let mut workers = Vec::new();
    for _ in 0..2 {
        let server = telepact_bakery::server().expect("the bakery builds");
        let client = connect().await.expect("connects");
        workers.push(
            nats::serve(server, client, "telepact.bakery", "bakery")
                .await
                .expect("subscribes"),
        );
    }
    let gateway = nats::gateway(
        connect().await.expect("connects"),
        "telepact.bakery",
        &HttpOptions::default(),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("binds");
    let url = format!(
        "http://{}/api/telepact",
        listener.local_addr().expect("address")
    );
    tokio::spawn(telepact::http::serve(
        listener,
        gateway,
        std::future::pending(),
    ));

    let http = HttpTransport::new(&url).expect("a valid url");
    let binary_responses = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&binary_responses);
    let transport = move |request: Vec<u8>| {
        let sent = http.send(request);
        let counter = Arc::clone(&counter);
        async move {
            let response = sent.await?;
            if telepact::binary::is_msgpack(&response) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            Ok::<_, TransportError>(response)
        }
    };
    let client = Client::new(telepact::Client::with_options(transport, options));
    for _ in 0..4 {
        let shift = client
            .my_shift_with(MyShiftInput {}, signed_in("lead-baker", "opensesame"))
            .await
            .expect("the call completes");
        assert_eq!(
            shift.output,
            MyShiftOutput::Ok(MyShiftOk {
                employee_id: "baker-001".into(),
                station: "oven".into(),
                pastry: "sesame loaf".into(),
            })
        );
    }
    let special = client
        .approve_special_with(ApproveSpecialInput {}, signed_in("cashier", "knockknock"))
        .await
        .expect("the call completes");
    assert_eq!(
        special.output,
        ApproveSpecialOutput::ErrorUnauthorized(ErrorUnauthorized {
            message: Some("oven station required to approve the special".into()),
        })
    );
    for worker in workers {
        worker.drain().await.expect("drains");
    }
    Some(binary_responses.load(Ordering::SeqCst))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bakery_flow_through_the_gateway_over_json() {
    let binary = run_the_bakery_flow(ClientOptions::default()).await;
    assert!(matches!(binary, None | Some(0)), "{binary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bakery_flow_through_the_gateway_over_binary() {
    // The first call negotiates the encoding (a JSON answer carrying it); the rest
    // come back as MessagePack through the gateway.
    let binary = run_the_bakery_flow(ClientOptions::default().binary(true)).await;
    assert!(matches!(binary, None | Some(4)), "{binary:?}");
}
