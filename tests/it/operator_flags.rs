//! The board's listener as an operator sets it from the command line: limits, timeouts,
//! TLS, metrics on an address of their own, wrong values and SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use telepact_test_support::assert_usage_error_line;

use crate::support::{Bakery, http_exchange};

const PING: &str = r#"[{}, {"fn.ping_": {}}]"#;

#[test]
fn a_body_past_the_body_limit_is_refused_and_one_within_it_answered() {
    let bakery = Bakery::start_with("info", &["--body-limit", "64B"]);
    let ping = http_exchange(bakery.port, "POST", "/api/telepact", PING);
    assert_eq!(ping.0, "HTTP/1.1 200 OK", "{ping:?}");
    let padded = format!(r#"[{{}}, {{"fn.ping_": {{}}}}]{}"#, " ".repeat(64));
    let refused = http_exchange(bakery.port, "POST", "/api/telepact", &padded);
    assert_eq!(refused.0, "HTTP/1.1 413 Payload Too Large", "{refused:?}");
}

#[test]
fn a_body_slower_than_the_body_timeout_is_answered_408() {
    let bakery = Bakery::start_with("info", &["--body-timeout", "300ms"]);
    let mut stream = TcpStream::connect(("127.0.0.1", bakery.port)).expect("connects");
    stream
        .write_all(b"POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[")
        .expect("writes");
    let started = Instant::now();
    let answer = read_until_closed(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_connection_that_sends_nothing_is_closed_at_the_header_timeout() {
    let bakery = Bakery::start_with("info", &["--header-timeout", "300ms"]);
    let mut stream = TcpStream::connect(("127.0.0.1", bakery.port)).expect("connects");
    let started = Instant::now();
    assert_eq!(read_until_closed(&mut stream), "");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
}

/// With room for one connection, a second is closed unread while the first is served.
#[test]
fn past_the_connection_bounds_a_new_connection_is_closed_unread() {
    for flag in ["--max-connections", "--max-connections-per-address"] {
        let bakery = Bakery::start_with("info", &[flag, "1"]);
        let mut first = TcpStream::connect(("127.0.0.1", bakery.port)).expect("connects");
        // The first is taken in before the second comes.
        std::thread::sleep(Duration::from_millis(200));
        let mut second = TcpStream::connect(("127.0.0.1", bakery.port)).expect("connects");
        let _ = second.write_all(ping_request().as_bytes());
        assert_eq!(read_until_closed(&mut second), "", "{flag}");
        first
            .write_all(ping_request().as_bytes())
            .expect("the first is open");
        let answer = read_until_closed(&mut first);
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{flag}: {answer}");
    }
}

#[tokio::test]
async fn tls_flags_serve_https_with_http2_by_alpn() {
    let (certificate, cert_file, key_file) = certificate_files("tls");
    let bakery = Bakery::start_with(
        "info",
        &[
            "--tls-cert",
            cert_file.to_str().expect("UTF-8 path"),
            "--tls-key",
            key_file.to_str().expect("UTF-8 path"),
        ],
    );
    let tls = telepact::client::tls::config_trusting(certificate.as_bytes()).expect("usable");
    let https = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("client builds");
    let url = format!("https://127.0.0.1:{}/api/telepact", bakery.port);
    let answer = https.post(&url).body(PING).send().await.expect("answered");
    assert_eq!(answer.version(), reqwest::Version::HTTP_2);
    assert_eq!(answer.text().await.expect("a body"), r#"[{},{"Ok_":{}}]"#);
    // No plain HTTP on the port: the bytes are no TLS handshake.
    let mut plain = TcpStream::connect(("127.0.0.1", bakery.port)).expect("connects");
    let _ = plain.write_all(ping_request().as_bytes());
    assert!(!read_until_closed(&mut plain).starts_with("HTTP/1.1 200"));
}

/// `--metrics-addr 127.0.0.1:0` lets the system pick the port: the log line names the
/// one picked, where it said `:0` and nobody could find the metrics.
#[test]
fn metrics_addr_with_port_0_logs_the_port_picked() {
    let bakery = Bakery::start_with("info", &["--metrics-addr", "127.0.0.1:0"]);
    let lines = bakery.stderr_lines();
    let serving = lines
        .iter()
        .find(|line| line.contains("serving GET /metrics"))
        .unwrap_or_else(|| panic!("no serving line in {lines:?}"));
    let port = serving
        .split("address=127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|port| port.parse::<u16>().ok());
    assert!(port.is_some_and(|port| port != 0), "{serving}");
}

#[test]
fn metrics_addr_serves_metrics_and_healthz_apart_from_the_api() {
    let metrics_port = free_port();
    let address = format!("127.0.0.1:{metrics_port}");
    let bakery = Bakery::start_with("info", &["--metrics-addr", &address]);
    let ping = http_exchange(bakery.port, "POST", "/api/telepact", PING);
    assert_eq!(ping.0, "HTTP/1.1 200 OK");
    let on_the_api = http_exchange(bakery.port, "GET", "/metrics", "");
    assert_eq!(on_the_api.0, "HTTP/1.1 404 Not Found");
    let (status, text) = http_exchange(metrics_port, "GET", "/metrics", "");
    assert_eq!(status, "HTTP/1.1 200 OK");
    let counted = r#"telepact_calls_total{function="fn.ping_",result="Ok_"} 1"#;
    assert!(text.lines().any(|line| line == counted), "{text}");
    assert_eq!(
        http_exchange(metrics_port, "GET", "/healthz", ""),
        ("HTTP/1.1 200 OK".to_string(), "ok".to_string())
    );
    // The API keeps its own liveness probe; the metrics port serves nothing else.
    assert_eq!(http_exchange(bakery.port, "GET", "/healthz", "").1, "ok");
    let elsewhere = http_exchange(metrics_port, "POST", "/api/telepact", PING);
    assert_eq!(elsewhere.0, "HTTP/1.1 404 Not Found");
    assert!(bakery.terminate().success());
}

/// Each refused value is one line naming the flag, with status 2, and nothing served.
#[test]
fn a_value_that_does_not_read_is_one_line_and_status_2() {
    let cases: [(&[&str], &str); 9] = [
        (
            &["--body-limit", "1x"],
            "'--body-limit <SIZE>': not a size: give a number and B, KiB, MiB or GiB (or kB, MB, GB), such as 512KiB",
        ),
        (&["--body-limit", "0"], "'--body-limit <SIZE>': 0 bytes"),
        (
            &["--body-timeout", "30"],
            "time unit needed, for example 30sec or 30ms",
        ),
        (
            &["--header-timeout", "soon"],
            "'--header-timeout <DURATION>'",
        ),
        (
            &["--max-connections", "0"],
            "'--max-connections <COUNT>': 0 would",
        ),
        (
            &["--tls-cert", "cert.pem"],
            "not provided: --tls-key <PATH>",
        ),
        (&["--metrics-addr", "9090"], "'--metrics-addr <HOST:PORT>'"),
        // Two places for `/metrics`: neither is dropped unsaid.
        (
            &["--metrics", "--metrics-addr", "127.0.0.1:0"],
            "'--metrics' cannot be used with '--metrics-addr <HOST:PORT>'",
        ),
        (
            &["--request-timeout", "0s"],
            "'--request-timeout <DURATION>': a wait of 0 would end at once",
        ),
    ];
    for (args, expected) in cases {
        let output = bakery_command().args(args).output().expect("runs");
        let line = assert_usage_error_line(&output, args, expected);
        assert!(output.stdout.is_empty(), "{args:?}: no READY");
        assert!(line.ends_with("(see `telepact-bakery --help`)"), "{line}");
    }
}

/// PEM files that cannot be read end the start before READY, in one line.
#[test]
fn an_unreadable_certificate_is_one_error_before_ready() {
    let output = bakery_command()
        .args(["--tls-cert", "/nonexistent/cert.pem"])
        .args(["--tls-key", "/nonexistent/key.pem"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty(), "no READY");
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "error: cannot serve HTTPS with --tls-cert and --tls-key: cannot read \
          /nonexistent/cert.pem: No such file or directory (os error 2)"
        ]
    );
}

#[test]
fn sigterm_shuts_down_cleanly_with_status_0() {
    let bakery = Bakery::start();
    let status = bakery.terminate();
    assert_eq!(status.code(), Some(0));
}

fn bakery_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_telepact-bakery"));
    command.args(["--port", "0"]).env("RUST_LOG", "info");
    command
}

fn ping_request() -> String {
    format!(
        "POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{PING}",
        PING.len()
    )
}

/// What the server sends until it closes the connection (or resets it, or 10 s pass).
fn read_until_closed(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    let mut read = Vec::new();
    let _ = stream.read_to_end(&mut read);
    String::from_utf8_lossy(&read).into_owned()
}

/// A loopback port nothing listens on (as of the call).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// A self-signed certificate for 127.0.0.1 made now: its PEM, and the certificate and
/// key files in a scratch folder named `name`.
fn certificate_files(name: &str) -> (String, PathBuf, PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("a certificate");
    let dir = telepact_test_support::scratch_dir(
        env!("CARGO_TARGET_TMPDIR"),
        format!("operator-flags/{name}"),
    );
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    let certificate = certified.cert.pem();
    std::fs::write(&cert_file, &certificate).expect("writes the certificate");
    std::fs::write(&key_file, certified.signing_key.serialize_pem()).expect("writes the key");
    (certificate, cert_file, key_file)
}
