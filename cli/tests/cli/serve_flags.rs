//! The HTTP listener's flags of `mock` and `demo-server`, and how they stop.

use serde_json::json;
use telepact::ClientOptions;
use telepact::client::HttpTransport;

use super::*;

const GREETER: &str = "\
- fn.greet:
    name: string
  ->:
    - Ok_:
        text: string
";

const PING: &str = r#"[{}, {"fn.ping_": {}}]"#;

fn greeter_dir(name: &str) -> PathBuf {
    let dir = scratch_dir(name).join("api");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("greeter.telepact.yaml"), GREETER).unwrap();
    dir
}

/// `telepact mock` of the greeter on a free loopback port, with `extra` flags.
fn start_mock(name: &str, extra: &[&str]) -> RunningServer {
    let dir = greeter_dir(name);
    let mut command = telepact_command();
    command
        .args(["mock", "--dir", path_text(&dir)])
        .args(["--host", "127.0.0.1", "--port", "0"])
        .args(extra);
    RunningServer::spawn(command)
}

/// `telepact demo-server` on a free loopback port, with `extra` flags.
fn start_demo(extra: &[&str]) -> RunningServer {
    let mut command = telepact_command();
    command
        .args(["demo-server", "--host", "127.0.0.1", "--port", "0"])
        .args(extra);
    RunningServer::spawn(command)
}

impl RunningServer {
    /// Sends SIGTERM, as a supervisor stopping it does, and returns how it exited.
    fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        self.child.wait().unwrap()
    }
}

/// POSTs `body` to `/api` in plain HTTP/1.1; returns the status line.
fn post_status(server: &RunningServer, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let request = format!(
        "POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_string()
}

#[test]
fn a_body_past_the_body_limit_is_refused_by_mock_and_demo_server() {
    let padded = format!("{PING}{}", " ".repeat(64));
    for server in [
        start_mock("flags-body-limit", &["--body-limit", "64B"]),
        start_demo(&["--body-limit", "64B", "--unavailable-rate", "0"]),
    ] {
        assert_eq!(post_status(&server, PING), "HTTP/1.1 200 OK");
        assert_eq!(
            post_status(&server, &padded),
            "HTTP/1.1 413 Payload Too Large"
        );
    }
}

#[test]
fn the_tls_flags_serve_the_mock_over_https() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("a certificate");
    let dir = scratch_dir("flags-tls");
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    let certificate = certified.cert.pem();
    std::fs::write(&cert_file, &certificate).unwrap();
    std::fs::write(&key_file, certified.signing_key.serialize_pem()).unwrap();
    let mock = start_mock(
        "flags-tls-mock",
        &[
            "--tls-cert",
            path_text(&cert_file),
            "--tls-key",
            path_text(&key_file),
        ],
    );
    let transport =
        HttpTransport::trusting(&mock.url("https"), certificate.as_bytes()).expect("usable");
    let client = Client::with_options(transport, ClientOptions::default());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let greeting = runtime.block_on(call_with(
        &client,
        json!({}),
        json!({"fn.greet": {"name": "ada"}}),
    ));
    assert!(greeting["Ok_"]["text"].is_string(), "{greeting}");
    assert_ne!(post_status(&mock, PING), "HTTP/1.1 200 OK", "no plain HTTP");
}

/// SIGTERM, like Ctrl-C, stops either gracefully with status 0.
#[test]
fn sigterm_stops_mock_and_demo_server_with_status_0() {
    for server in [start_mock("flags-sigterm", &[]), start_demo(&[])] {
        assert_eq!(server.terminate().code(), Some(0));
    }
}

/// A value that does not read is one line naming the flag and the subcommand's help,
/// with status 2.
#[test]
fn a_listener_flag_value_that_does_not_read_is_one_line() {
    let dir = greeter_dir("flags-refused");
    let mock = ["mock", "--dir", path_text(&dir)];
    let cases: [(Vec<&str>, &str, &str); 4] = [
        (
            [&mock[..], &["--body-limit", "1x"]].concat(),
            "invalid value '1x' for '--body-limit <SIZE>': not a size: give a number and B, KiB, MiB or GiB (or kB, MB, GB), such as 512KiB",
            "telepact mock",
        ),
        (
            [&mock[..], &["--max-connections", "0"]].concat(),
            "invalid value '0' for '--max-connections <COUNT>': 0 would refuse every connection",
            "telepact mock",
        ),
        (
            vec!["demo-server", "--body-timeout", "30"],
            "invalid value '30' for '--body-timeout <DURATION>': time unit needed, for example 30sec or 30ms",
            "telepact demo-server",
        ),
        (
            vec!["demo-server", "--tls-cert", "cert.pem"],
            "the following required arguments were not provided: --tls-key <PATH>",
            "telepact demo-server",
        ),
    ];
    for (args, message, command) in cases {
        let output = telepact(&args);
        assert_fails_with(&output, message);
        let stderr = stderr(&output);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr
                .trim_end()
                .ends_with(&format!("(see `{command} --help`)")),
            "{stderr}"
        );
        assert!(stdout(&output).is_empty(), "no READY line");
    }
}

#[test]
fn an_unreadable_certificate_is_one_error_before_ready() {
    let dir = greeter_dir("flags-no-certificate");
    let output = telepact(&[
        "mock",
        "--dir",
        path_text(&dir),
        "--port",
        "0",
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert_fails_with(
        &output,
        "cannot serve HTTPS with --tls-cert and --tls-key: cannot read /nonexistent/cert.pem: ",
    );
    assert_eq!(stderr(&output).lines().count(), 1);
    assert!(stdout(&output).is_empty(), "no READY line");
}
