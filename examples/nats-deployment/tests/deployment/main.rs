//! The bakery flow and the auth example's flow end to end through gateway → NATS →
//! workers, JSON and binary, with a real `nats-server` (and, for the auth example, a real
//! `redis-server`) on free loopback ports (SKIP line when one is not installed); the auth
//! example's HTTP credentials through the gateway; and a Redis restart under the auth
//! example's workers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use telepact::client::{ClientOptions, HttpTransport};
use telepact::http::HttpOptions;
use telepact::nats;
use telepact::typed::standard::ErrorUnauthorized;
use telepact_bakery::api::{
    ApproveSpecialInput, ApproveSpecialOutput, Auth, AuthPassword, Client, MyShiftInput, MyShiftOk,
    MyShiftOutput, RequestHeaders,
};
use telepact_test_support::{MsgpackAnswers, NatsServer, count_msgpack_answers};

fn signed_in(username: &str, password: &str) -> RequestHeaders {
    RequestHeaders {
        auth: Some(Auth::Password(AuthPassword {
            username: username.into(),
            password: password.into(),
        })),
        ..RequestHeaders::default()
    }
}

/// A bakery gateway for `subject` on a free loopback port; answers its URL.
async fn start_gateway(nats_url: &str, subject: &str) -> String {
    let client = nats::connect(nats_url, Duration::from_secs(5))
        .await
        .expect("connects");
    let gateway = nats::gateway(client, subject, &HttpOptions::default()).expect("a good subject");
    serve(gateway).await
}

/// `gateway` served on a free loopback port; answers its URL.
async fn serve(gateway: axum::Router) -> String {
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
    url
}

/// A client of the gateway at `url`, with the count of its MessagePack answers.
fn counting_client(url: &str, options: ClientOptions) -> (telepact::Client, MsgpackAnswers) {
    let http = HttpTransport::new(url).expect("a valid url");
    let (transport, binary_responses) = count_msgpack_answers(http);
    (
        telepact::Client::with_options(transport, options),
        binary_responses,
    )
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
    let url = start_gateway(&nats_url, "telepact.bakery").await;

    let (client, binary_responses) = counting_client(&url, options);
    let client = Client::new(client);
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
    Some(binary_responses.count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bakery_flow_through_the_gateway_over_json() {
    let binary = run_the_bakery_flow(ClientOptions::default()).await;
    assert!(matches!(binary, None | Some(0)), "{binary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bakery_flow_through_the_gateway_over_binary() {
    // The `Ok_` answers come back as MessagePack through the gateway (the first one
    // carrying the encoding); the refusal, an error, comes back as JSON.
    let binary = run_the_bakery_flow(ClientOptions::default().binary(true)).await;
    assert!(matches!(binary, None | Some(4)), "{binary:?}");
}

mod auth;
mod binary;
mod monitoring;
mod run_script;
