//! The gateway, and a worker starting, while their NATS server is down.

use telepact::nats::async_nats::{self, connection::State};

use super::*;

/// How many requests the gateway's connection queues while NATS is down (async-nats's
/// `client_capacity`, 2,048 by default): kept small so a few requests fill it.
const QUEUED: usize = 2;

/// While NATS is down the connection queues requests until it is back. A request that
/// finds the queue full waits for room, and the client's timeout only starts once it is
/// queued: such a request was held for as long as NATS stayed down. Each is answered 504
/// within the connection's request timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nats_down_every_request_is_answered_within_the_timeout() {
    const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
    let Some(mut nats_server) = NatsServer::start() else {
        return;
    };
    let client = async_nats::ConnectOptions::new()
        .request_timeout(Some(REQUEST_TIMEOUT))
        .client_capacity(QUEUED)
        .connect(nats_server.url())
        .await
        .expect("connects");
    let app = nats::gateway(client.clone(), SUBJECT, &HttpOptions::default());
    let url = serve_router(app.expect("a good subject")).await;

    nats_server.kill();
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.connection_state() == State::Connected {
        assert!(Instant::now() < deadline, "the loss went unnoticed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let http = crate::plain_http_client();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..4 * QUEUED {
        let request = http
            .post(&url)
            .body(r#"[{}, {"fn.add": {"a": 1, "b": 2}}]"#)
            // Far past the gateway's timeout: a request held until NATS is back.
            .timeout(Duration::from_secs(10));
        calls.spawn(async move {
            let started = Instant::now();
            let status = request.send().await.map(|answer| answer.status().as_u16());
            (status.map_err(|error| error.to_string()), started.elapsed())
        });
    }
    while let Some(call) = calls.join_next().await {
        let (status, took) = call.expect("the call's task");
        assert_eq!(status, Ok(504), "after {took:?}");
        // The slack is for a busy machine's scheduling.
        assert!(took < REQUEST_TIMEOUT + Duration::from_secs(2), "{took:?}");
    }
}

/// A worker started while NATS is unreachable waits for it to subscribe; a shutdown
/// that comes meanwhile (Ctrl-C, with `http::shutdown_signal()` already listening in
/// place of the signal's default action) ends `serve_until` at once, where it went
/// unheard until NATS came back, and the process could be stopped by no signal but
/// SIGKILL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_while_nats_is_unreachable_ends_serve_until() {
    let Some(mut nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    nats_server.kill();
    // Connects in the background, so it returns while nothing listens.
    let nats = connect(&url).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(nats::serve_until(
        server(),
        nats,
        SUBJECT,
        "adders",
        async {
            let _ = stopped.await;
        },
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).expect("serve_until is waiting");
    let ended = tokio::time::timeout(Duration::from_secs(3), serving).await;
    let served = ended.expect("ends at the shutdown").expect("the task");
    served.expect("nothing was served, so nothing failed");
}

/// A worker whose NATS server went away ends its drain at once, where it waited out the
/// whole grace for the end of a subscription that only NATS could confirm (a worker of
/// a deployment whose NATS stopped first took its 10 s at every shutdown).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_nats_is_gone_ends_its_drain_at_once() {
    const GRACE: Duration = Duration::from_secs(600);
    let Some(mut nats_server) = NatsServer::start() else {
        return;
    };
    let nats = connect(&nats_server.url()).await;
    let worker = nats::serve(server(), nats.clone(), SUBJECT, "adders")
        .await
        .expect("worker subscribes");
    nats_server.kill();
    let deadline = Instant::now() + Duration::from_secs(10);
    while nats.connection_state() == State::Connected {
        assert!(Instant::now() < deadline, "the loss went unnoticed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Bounded far inside the grace: a drain waiting for NATS would run into it.
    let drained = tokio::time::timeout(GRACE / 10, worker.drain_within(GRACE)).await;
    drained
        .expect("the drain ends before its grace")
        .expect("a worker ended with NATS gone is no error");
}
