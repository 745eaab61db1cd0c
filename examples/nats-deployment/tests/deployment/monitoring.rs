//! The gateway and the workers as an operator watches them: their logs under a flood
//! of requests nobody answers, and their metrics and readiness through a NATS restart.

use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use telepact_test_support::{NatsServer, lines_of};

const PING: &str = r#"[{}, {"fn.ping_": {}}]"#;

/// The binary, its stdout's `READY` line read and its stderr kept; killed when dropped.
struct Process {
    child: Child,
    ready: String,
    stderr: Receiver<String>,
}

impl Process {
    fn start(args: &[&str]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_telepact-nats-deployment"))
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = lines_of(child.stdout.take().expect("piped"));
        let stderr = lines_of(child.stderr.take().expect("piped"));
        // Held before the READY line is awaited, so that a process that never says it
        // is killed when the test fails rather than left running.
        let mut process = Process {
            child,
            ready: String::new(),
            stderr,
        };
        let line = stdout
            .recv_timeout(Duration::from_secs(30))
            .expect("a READY line");
        process.ready = line.strip_prefix("READY ").expect("READY").to_string();
        process
    }

    fn port(&self) -> u16 {
        self.ready.parse().expect("a port")
    }

    /// Stops the process (SIGTERM) and reads what it wrote on stderr to the end.
    fn stderr_lines(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut read = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => read.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("stderr did not end: {read:?}"),
            }
        }
        let _ = self.child.wait();
        read
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 exchange on loopback; the status line and the body.
fn exchange(port: u16, method: &str, path: &str, body: &str) -> (String, String) {
    let (head, body) = telepact_test_support::http_exchange(port, method, path, body);
    (telepact_test_support::status_line(&head).to_string(), body)
}

/// With no worker serving, every request fails at once: a caller sending them as fast
/// as it can gets ten warnings a second at most, and the count of those left out.
#[test]
fn a_gateway_with_no_worker_logs_failed_requests_within_a_bound() {
    let Some(nats) = NatsServer::start() else {
        return;
    };
    let gateway = Process::start(&["--nats", &nats.url(), "gateway", "--port", "0"]);
    let port = gateway.port();
    let sent = 150;
    for _ in 0..sent {
        let answer = exchange(port, "POST", "/api/telepact", PING);
        assert_eq!(answer.0, "HTTP/1.1 503 Service Unavailable", "{answer:?}");
    }
    // The next second's first line gives the count left out.
    std::thread::sleep(Duration::from_millis(1100));
    exchange(port, "POST", "/api/telepact", PING);
    let lines = gateway.stderr_lines();
    let failed: Vec<_> = lines
        .iter()
        .filter(|line| line.contains("request to NATS failed"))
        .collect();
    assert!(
        !failed.is_empty() && failed.len() <= 40,
        "{} lines for {sent} requests: {lines:#?}",
        failed.len()
    );
    assert!(
        failed.iter().any(|line| line.contains("left_out=")),
        "{failed:#?}"
    );
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    listener.local_addr().expect("an address").port()
}

/// The value of the sample `series` (name and labels as written) on `port`'s
/// `/metrics`.
fn scraped(port: u16, series: &str) -> Option<f64> {
    let (status, text) = exchange(port, "GET", "/metrics", "");
    assert_eq!(status, "HTTP/1.1 200 OK");
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Waits up to 20 s for `/readyz` on `port` to answer `status`.
fn readiness_becomes(port: u16, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while exchange(port, "GET", "/readyz", "").0 != status {
        assert!(
            Instant::now() < deadline,
            "/readyz on {port} never {status}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

const SHIFT: &str = r#"[{"@auth_": {"Password": {"username": "lead-baker", "password": "opensesame"}}}, {"fn.myShift": {}}]"#;

/// A worker counts its calls under the board's names, the gateway counts what it
/// forwarded by outcome, and both say whether NATS is connected, in `/metrics` and in
/// `/readyz`, through a NATS restart.
#[test]
fn the_gateway_and_a_worker_serve_metrics_and_readiness_through_a_nats_restart() {
    let Some(mut nats) = NatsServer::start() else {
        return;
    };
    let (worker_metrics, gateway_metrics) = (free_port(), free_port());
    let metrics_at = |port: u16| format!("127.0.0.1:{port}");
    let (worker_address, gateway_address) =
        (metrics_at(worker_metrics), metrics_at(gateway_metrics));
    let common = ["--nats", &nats.url(), "--timeout", "1s"];
    let _worker =
        Process::start(&[&common[..], &["--metrics-addr", &worker_address, "worker"]].concat());
    let gateway = Process::start(
        &[
            &common[..],
            &["--metrics-addr", &gateway_address, "gateway", "--port", "0"],
        ]
        .concat(),
    );
    for _ in 0..3 {
        let answer = exchange(gateway.port(), "POST", "/api/telepact", SHIFT);
        assert!(answer.1.contains("Ok_"), "{answer:?}");
    }
    let calls = r#"telepact_calls_total{function="fn.myShift",result="Ok_"}"#;
    assert_eq!(scraped(worker_metrics, calls), Some(3.0));
    let duration = r#"telepact_call_duration_seconds_count{function="fn.myShift"}"#;
    assert_eq!(scraped(worker_metrics, duration), Some(3.0));
    let replied = r#"telepact_nats_gateway_requests_total{outcome="replied"}"#;
    assert_eq!(scraped(gateway_metrics, replied), Some(3.0));
    for port in [worker_metrics, gateway_metrics] {
        assert_eq!(scraped(port, "telepact_nats_connected"), Some(1.0));
        assert_eq!(exchange(port, "GET", "/readyz", "").0, "HTTP/1.1 200 OK");
    }
    assert_eq!(exchange(gateway.port(), "GET", "/readyz", "").1, "ready");

    nats.kill();
    for port in [worker_metrics, gateway_metrics] {
        readiness_becomes(port, "HTTP/1.1 503 Service Unavailable");
        assert_eq!(scraped(port, "telepact_nats_connected"), Some(0.0));
        assert_eq!(exchange(port, "GET", "/healthz", "").0, "HTTP/1.1 200 OK");
    }
    let unanswered = exchange(gateway.port(), "POST", "/api/telepact", SHIFT);
    assert_eq!(
        unanswered.0, "HTTP/1.1 504 Gateway Timeout",
        "{unanswered:?}"
    );
    let timed_out = r#"telepact_nats_gateway_requests_total{outcome="timed_out"}"#;
    assert_eq!(scraped(gateway_metrics, timed_out), Some(1.0));

    nats.restart();
    for port in [worker_metrics, gateway_metrics] {
        readiness_becomes(port, "HTTP/1.1 200 OK");
        assert_eq!(scraped(port, "telepact_nats_connected"), Some(1.0));
    }
}

/// A body past the gateway's limit is counted as refused whether it came as a POST or
/// as a WebSocket message, under the status a POST of it is answered with.
#[tokio::test]
async fn the_gateway_counts_bodies_refused_over_post_and_websocket_alike() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Frame;

    let Some(nats) = NatsServer::start() else {
        return;
    };
    let metrics_port = free_port();
    let metrics_address = format!("127.0.0.1:{metrics_port}");
    let gateway = Process::start(&[
        "--nats",
        &nats.url(),
        "--metrics-addr",
        &metrics_address,
        "gateway",
        "--port",
        "0",
        "--body-limit",
        "64B",
    ]);
    let padded = format!("{PING}{}", " ".repeat(64));
    let posted = exchange(gateway.port(), "POST", "/api/telepact", &padded);
    assert_eq!(posted.0, "HTTP/1.1 413 Payload Too Large", "{posted:?}");

    let url = format!("ws://127.0.0.1:{}/api/telepact", gateway.port());
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the gateway upgrades");
    socket.send(Frame::text(padded)).await.expect("sent");
    let closed = socket.next().await.expect("a frame").expect("readable");
    let Frame::Close(Some(close)) = closed else {
        panic!("closed with a reason: {closed:?}");
    };
    assert_eq!(u16::from(close.code), 1009, "{close:?}");

    let refused = r#"telepact_http_refusals_total{status="413"}"#;
    assert_eq!(scraped(metrics_port, refused), Some(2.0));
}
