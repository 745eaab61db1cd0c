//! The NATS transport against a real `nats-server` on a free loopback port: workers in
//! a queue group, the client transport, the HTTP gateway, a worker killed under load
//! and a NATS restart; what NATS will not carry in `limits`, what the worker options
//! change in `options`, the gateway and a starting worker while NATS is down in
//! `outage`, WebSocket sessions through the gateway in `websocket`. Prints a SKIP line
//! when `nats-server` is not installed.

#![cfg(all(feature = "nats", feature = "http-client"))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use telepact::binary::is_msgpack;
use telepact::client::ClientOptions;
use telepact::http::HttpOptions;
use telepact::nats::{self, NatsTransport};
use telepact::schema::Schema;
use telepact::{
    Client, ClientError, FunctionRouter, HandlerError, Headers, Message, Server, ServerBuilder,
};
use telepact_test_support::NatsServer;

mod credentials;
mod limits;
mod options;
mod outage;
#[cfg(feature = "websocket-client")]
mod websocket;

const SCHEMA: &str = r#"[
    {"fn.add": {"a": "integer", "b": "integer"}, "->": [{"Ok_": {"sum": "integer"}}]},
    {"fn.slow": {}, "->": [{"Ok_": {}}]},
    {"fn.big": {}, "->": [{"Ok_": {"text": "string"}}]}
]"#;

const SUBJECT: &str = "telepact.test";
const TIMEOUT: Duration = Duration::from_secs(2);

fn server() -> Server {
    builder().build().expect("server builds")
}

fn builder() -> ServerBuilder {
    let schema = Schema::from_text(SCHEMA).expect("the test schema loads");
    let router = FunctionRouter::new().route("fn.add", |request: Message| async move {
        let number = |name| {
            request
                .payload()
                .and_then(|payload| payload.get(name))
                .and_then(Value::as_i64)
                .unwrap_or_default()
        };
        // Long enough that a kill finds calls in flight.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let mut payload = Map::new();
        payload.insert("sum".to_string(), json!(number("a") + number("b")));
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let router = router.route("fn.slow", |_request: Message| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Map::new()))
    });
    // An answer past the NATS server's 1 MiB `max_payload`.
    let router = router.route("fn.big", |_request: Message| async move {
        let mut payload = Map::new();
        payload.insert("text".to_string(), json!("x".repeat(1 << 20)));
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    Server::builder(schema, router).auth_required(false)
}

/// A worker of the test [`server`] in the `adders` queue group, on its own
/// connection to the NATS server at `url`.
async fn worker(url: &str) -> nats::Worker {
    worker_of(server(), url).await
}

/// A worker of `server` in the `adders` queue group.
async fn worker_of(server: Server, url: &str) -> nats::Worker {
    nats::serve(server, connect(url).await, SUBJECT, "adders")
        .await
        .expect("worker subscribes")
}

async fn connect(url: &str) -> nats::async_nats::Client {
    nats::connect(url, TIMEOUT)
        .await
        .expect("connects to nats-server")
}

fn add(a: i64, b: i64) -> Message {
    let mut payload = Map::new();
    payload.insert("a".to_string(), json!(a));
    payload.insert("b".to_string(), json!(b));
    Message::new(Headers::new(), "fn.add", payload)
}

fn sum_of(response: &Message) -> Option<i64> {
    (response.target() == "Ok_")
        .then(|| response.payload()?.get("sum")?.as_i64())
        .flatten()
}

async fn nats_client(url: &str, binary: bool) -> Client {
    let transport = NatsTransport::new(connect(url).await, SUBJECT).expect("a good subject");
    Client::with_options(
        transport,
        ClientOptions::default().binary(binary).timeout(TIMEOUT),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_answers_json_and_binary_calls_over_nats() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let worker = worker(&nats_server.url()).await;

    for binary in [false, true] {
        let client = nats_client(&nats_server.url(), binary).await;
        // The first binary call negotiates the encoding; later ones use it.
        for round in 0..3 {
            let response = client.request(add(round, 40)).await.expect("answered");
            assert_eq!(sum_of(&response), Some(round + 40), "binary={binary}");
        }
    }

    // A request past the NATS server's 1 MiB `max_payload` fails at the client, at
    // once; the connection stays up for the next call.
    let client = nats_client(&nats_server.url(), false).await;
    let mut too_big = add(1, 2);
    too_big.headers.insert("@id_", json!("x".repeat(1 << 20)));
    let refused = client.request(too_big).await;
    assert!(
        matches!(refused, Err(ClientError::Transport(_))),
        "{refused:?}"
    );
    let response = client.request(add(1, 2)).await.expect("answered");
    assert_eq!(sum_of(&response), Some(3));
    worker.drain().await.expect("drains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_forwards_http_posts_to_the_workers() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let worker = worker(&nats_server.url()).await;
    let url = serve_gateway(&nats_server.url(), SUBJECT, &limit(4096)).await;

    let http = crate::plain_http_client();
    let response = http
        .post(&url)
        .body(r#"[{}, {"fn.add": {"a": 2, "b": 3}}]"#)
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = serde_json::from_slice(&response.bytes().await.expect("body")).expect("JSON");
    assert_eq!(body, json!([{}, {"Ok_": {"sum": 5}}]));
    // A body past the gateway's limit is refused there, not forwarded.
    let too_big = format!(
        r#"[{{"@id_": "{}"}}, {{"fn.add": {{"a": 2, "b": 3}}}}]"#,
        "x".repeat(5000)
    );
    let response = http
        .post(&url)
        .body(too_big)
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status().as_u16(), 413);

    // Binary through the gateway: the client's HTTP transport negotiates as usual.
    let client = Client::http(&url, ClientOptions::default().binary(true).timeout(TIMEOUT))
        .expect("client builds");
    for round in 0..3 {
        let response = client.request(add(round, 1)).await.expect("answered");
        assert_eq!(sum_of(&response), Some(round + 1));
    }
    let bytes = client_raw_binary(&http, &url).await;
    assert!(
        bytes.0 == "application/octet-stream" && is_msgpack(&bytes.1),
        "{bytes:?}"
    );

    worker.drain().await.expect("drains");
    // With no worker left, the gateway says so (503) once the NATS server has taken the
    // subscription out; a call routed just before that times out (504).
    let mut statuses = Vec::new();
    let mut reason = String::new();
    for _ in 0..10 {
        let answer = http
            .post(&url)
            .body("[{}, {}]")
            .send()
            .await
            .expect("answers");
        let status = answer.status().as_u16();
        reason = answer.text().await.expect("a reason");
        statuses.push(status);
        if status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(statuses.last(), Some(&503), "{statuses:?}");
    assert_eq!(reason, "no worker is serving");
    assert!(
        statuses.iter().all(|s| *s == 503 || *s == 504),
        "{statuses:?}"
    );
}

/// A gateway to `subject` served on a free loopback port; its URL.
async fn serve_gateway(nats_url: &str, subject: &str, options: &HttpOptions) -> String {
    let app = nats::gateway(connect(nats_url).await, subject, options).expect("a good subject");
    serve_router(app).await
}

/// `app` served on a free loopback port; the URL of its `/api/telepact`.
async fn serve_router(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("binds");
    let url = format!(
        "http://{}/api/telepact",
        listener.local_addr().expect("address")
    );
    tokio::spawn(telepact::http::serve(listener, app, std::future::pending()));
    url
}

/// HTTP options with a body limit of `bytes`.
fn limit(bytes: usize) -> HttpOptions {
    HttpOptions::default().body_limit(bytes)
}

/// Asks for binary with no known checksum and returns the answer's content type
/// and bytes: the first binary answer is MessagePack carrying the encoding.
async fn client_raw_binary(http: &reqwest::Client, url: &str) -> (String, Vec<u8>) {
    let response = http
        .post(url)
        .body(r#"[{"@bin_": []}, {"fn.add": {"a": 1, "b": 1}}]"#)
        .send()
        .await
        .expect("gateway answers");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_string();
    (content_type, response.bytes().await.expect("body").to_vec())
}

/// What a load run saw: answers right, answers wrong, calls failed.
#[derive(Debug, Default)]
struct Tally {
    right: AtomicUsize,
    wrong: AtomicUsize,
    failed: AtomicUsize,
    in_flight: AtomicUsize,
}

/// `callers` concurrent callers each making `calls` calls, mixed JSON and binary.
async fn load(url: &str, callers: usize, calls: usize, tally: Arc<Tally>) {
    let mut tasks = tokio::task::JoinSet::new();
    for caller in 0..callers {
        let client = nats_client(url, caller % 2 == 1).await;
        let tally = Arc::clone(&tally);
        tasks.spawn(async move {
            for call in 0..calls as i64 {
                tally.in_flight.fetch_add(1, Ordering::SeqCst);
                let started = Instant::now();
                let outcome = client.request(add(call, caller as i64)).await;
                tally.in_flight.fetch_sub(1, Ordering::SeqCst);
                // A call ends by the request timeout at the latest; the slack is for
                // a busy machine's scheduling, not for the call.
                assert!(
                    started.elapsed() < TIMEOUT + Duration::from_secs(3),
                    "a call hung"
                );
                match outcome {
                    Ok(response) if sum_of(&response) == Some(call + caller as i64) => {
                        tally.right.fetch_add(1, Ordering::SeqCst)
                    }
                    Ok(_) => tally.wrong.fetch_add(1, Ordering::SeqCst),
                    Err(ClientError::Timeout(_) | ClientError::Transport(_)) => {
                        tally.failed.fetch_add(1, Ordering::SeqCst)
                    }
                    Err(error) => panic!("unexpected client error: {error}"),
                };
            }
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.expect("caller task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_of_two_workers_leaves_the_other_serving() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let doomed = worker(&url).await;
    let survivor = worker(&url).await;

    const CALLERS: usize = 8;
    const CALLS: usize = 100;
    let tally = Arc::new(Tally::default());
    let running = tokio::spawn(load_owned(url.clone(), CALLERS, CALLS, Arc::clone(&tally)));
    while tally.right.load(Ordering::SeqCst) < 100 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let in_flight_at_kill = tally.in_flight.load(Ordering::SeqCst);
    doomed.abort();
    tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the load finishes in time")
        .expect("load task");

    let (right, wrong, failed) = (
        tally.right.load(Ordering::SeqCst),
        tally.wrong.load(Ordering::SeqCst),
        tally.failed.load(Ordering::SeqCst),
    );
    eprintln!(
        "kill: {right} right, {wrong} wrong, {failed} failed, {in_flight_at_kill} in flight at the kill"
    );
    assert_eq!(wrong, 0);
    assert_eq!(right + failed, CALLERS * CALLS);
    // Each caller loses at most the one call it had out when the worker died.
    assert!(failed <= CALLERS, "{failed} failed with {CALLERS} callers");
    survivor.drain().await.expect("drains");
}

async fn load_owned(url: String, callers: usize, calls: usize, tally: Arc<Tally>) {
    load(&url, callers, calls, tally).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_and_gateway_resume_after_a_nats_restart() {
    let Some(mut nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let worker = worker(&url).await;
    let gateway_url = serve_gateway(&url, SUBJECT, &HttpOptions::default()).await;
    let client = nats_client(&url, false).await;
    let http = crate::plain_http_client();
    let post = || {
        http.post(&gateway_url)
            .body(r#"[{}, {"fn.add": {"a": 20, "b": 22}}]"#)
            .send()
    };

    assert_eq!(
        sum_of(&client.request(add(1, 2)).await.expect("answered")),
        Some(3)
    );
    assert_eq!(post().await.expect("answers").status().as_u16(), 200);

    nats_server.restart();

    // Reconnection is the clients' own (backoff under a second here): poll until both
    // paths answer, bounded.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let direct = client
            .request(add(1, 2))
            .await
            .ok()
            .and_then(|r| sum_of(&r));
        let gateway = match post().await {
            Ok(response) if response.status().is_success() => response.bytes().await.ok(),
            _ => None,
        };
        let gateway: Option<Value> = gateway.and_then(|body| serde_json::from_slice(&body).ok());
        if direct == Some(3) && gateway == Some(json!([{}, {"Ok_": {"sum": 42}}])) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "serving did not resume after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Serving stays up after resuming.
    for round in 0..20 {
        let response = client
            .request(add(round, 1))
            .await
            .expect("answered after restart");
        assert_eq!(sum_of(&response), Some(round + 1));
    }
    worker.drain().await.expect("drains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_finishes_the_calls_in_flight_and_takes_no_new_ones() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let worker = worker(&url).await;
    let client = Arc::new(nats_client(&url, false).await);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let client = Arc::clone(&client);
        calls.spawn(async move {
            let slow = Message::new(Headers::new(), "fn.slow", Map::new());
            client
                .request(slow)
                .await
                .map(|response| response.target().to_string())
        });
    }
    // The slow calls are being handled (300 ms each) when the drain starts.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    worker.drain().await.expect("drains");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "drain took {:?}",
        started.elapsed()
    );
    let mut answered = 0;
    while let Some(outcome) = calls.join_next().await {
        assert_eq!(
            outcome
                .expect("call task")
                .expect("answered while draining"),
            "Ok_"
        );
        answered += 1;
    }
    assert_eq!(answered, 5);
    // Nobody serves the subject any more: a new call fails at once.
    let started = Instant::now();
    let refused = client.request(add(1, 1)).await;
    assert!(
        matches!(refused, Err(ClientError::Transport(_))),
        "{refused:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// A call its handler never finishes holds a drain only for its grace: the worker then
/// ends, the handler's future is dropped, and its caller gets no answer (it times out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_past_its_grace_ends_the_worker_and_drops_its_calls() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let stuck = crate::http_transport::cancelled::Stuck::new();
    let worker = worker_of(stuck.server.clone(), &url).await;
    let client = nats_client(&url, false).await;
    let call = tokio::spawn(async move {
        let never_answered = Message::new(Headers::new(), "fn.stuck", Map::new());
        client.request(never_answered).await
    });
    stuck.entered(1).await;
    let started = Instant::now();
    worker
        .drain_within(Duration::from_millis(200))
        .await
        .expect("a drain ended at its deadline is no error");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "drain took {took:?}");
    // The worker's task is aborted, not awaited: its calls go as it is dropped.
    stuck.given_up(1).await;
    // No answer comes: the client's deadline or the NATS request's, whichever is first.
    let outcome = call.await.expect("call task");
    assert!(
        matches!(
            outcome,
            Err(ClientError::Timeout(_) | ClientError::Transport(_))
        ),
        "{outcome:?}"
    );
}

/// `serve_until` (and `serve_until_with`, which it calls) answers until its shutdown
/// future completes, then drains: the call in flight is answered, and the function
/// returns once it has been.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_until_answers_until_the_shutdown_then_drains() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async {
        let _ = stopped.await;
    };
    let nats = connect(&url).await;
    let serving = tokio::spawn(async move {
        nats::serve_until(server(), nats, SUBJECT, "adders", shutdown).await
    });
    let client = Arc::new(nats_client(&url, false).await);
    // Until the subscription is made, a call finds no responders.
    let mut answered = None;
    for _ in 0..50 {
        if let Ok(response) = client.request(add(2, 3)).await {
            answered = sum_of(&response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(answered, Some(5));
    let slow = {
        let client = Arc::clone(&client);
        tokio::spawn(async move {
            let slow = Message::new(Headers::new(), "fn.slow", Map::new());
            client
                .request(slow)
                .await
                .map(|answer| answer.target().to_string())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).expect("the worker is serving");
    let served = tokio::time::timeout(Duration::from_secs(2), serving).await;
    served
        .expect("drained in time")
        .expect("the task")
        .expect("served");
    let slow = slow.await.expect("the call's task");
    assert_eq!(slow.expect("answered while draining"), "Ok_");
    let refused = client.request(add(1, 1)).await;
    assert!(
        matches!(refused, Err(ClientError::Transport(_))),
        "{refused:?}"
    );
}
