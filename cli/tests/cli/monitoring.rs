//! `telepact mock --metrics-addr`: the mock's calls as Prometheus text, with liveness
//! and readiness, on an address of their own; its log as JSON lines.

use std::io::Read;

use super::{RunningServer, free_port, path_text, scratch_dir, telepact_command};

/// One HTTP/1.1 exchange on loopback: the head (lower-cased) and the body.
fn exchange(port: u16, method: &str, path: &str, body: &str) -> (String, String) {
    let (head, body) = telepact_test_support::http_exchange(port, method, path, body);
    (head.to_lowercase(), body)
}

/// `telepact mock` of a schema with one function, `fn.add`, written in a scratch folder
/// `name`, on a free loopback port.
fn adding_mock(name: &str) -> std::process::Command {
    let dir = scratch_dir(name);
    let schema = r#"[{"fn.add": {"x": "integer"}, "->": [{"Ok_": {"sum": "integer"}}]}]"#;
    std::fs::write(dir.join("add.telepact.json"), schema).expect("writes the schema");
    let mut command = telepact_command();
    command.args(["mock", "--dir", path_text(&dir)]);
    command.args(["--host", "127.0.0.1", "--port", "0"]);
    command
}

#[test]
fn the_mock_serves_its_calls_as_prometheus_text_with_probes() {
    let metrics_port = free_port();
    let address = format!("127.0.0.1:{metrics_port}");
    let mut command = adding_mock("mock-metrics");
    command.args(["--metrics-addr", &address]);
    let mock = RunningServer::spawn(command);
    for body in [
        r#"[{}, {"fn.add": {"x": 1}}]"#,
        r#"[{}, {"fn.add": {"x": 2}}]"#,
        r#"[{}, {"fn.invented": {}}]"#,
    ] {
        let (head, _) = exchange(mock.port, "POST", "/api", body);
        assert!(head.starts_with("http/1.1 200"), "{head}");
    }
    let (head, text) = exchange(metrics_port, "GET", "/metrics", "");
    assert!(
        head.contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    for counted in [
        r#"telepact_calls_total{function="fn.add",result="Ok_"} 2"#,
        r#"telepact_calls_total{function="unknown",result="ErrorInvalidRequestBody_"} 1"#,
    ] {
        assert!(
            text.lines().any(|line| line == counted),
            "{counted}\n{text}"
        );
    }
    assert!(text.contains("# TYPE telepact_call_duration_seconds histogram"));
    for (path, answer) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let (head, body) = exchange(metrics_port, "GET", path, "");
        assert!(head.starts_with("http/1.1 200"), "{path}: {head}");
        assert_eq!(body, answer);
    }
    assert!(mock.interrupt().success());
}

/// With `--log-format json`, every line on stderr is one JSON object, the line saying
/// what is served where among them.
#[test]
fn the_mocks_log_can_be_json_lines() {
    use std::process::Stdio;

    let mut command = adding_mock("mock-json-log");
    command
        .args(["--log-format", "json"])
        .env("RUST_LOG", "debug");
    command.stderr(Stdio::piped());
    let mut mock = RunningServer::spawn_logging(command);
    let mut stderr = mock.child.stderr.take().expect("piped");
    for body in ["not a message", r#"[{}, {"fn.add": {"x": "one"}}]"#] {
        exchange(mock.port, "POST", "/api", body);
    }
    assert!(mock.interrupt().success());
    let mut text = String::new();
    stderr.read_to_string(&mut text).expect("reads");
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(events.len() >= 2, "{text}");
    let announced = events.iter().any(|event| {
        let message = event["fields"]["message"].as_str().unwrap_or_default();
        message.starts_with("mock server on http://127.0.0.1:")
    });
    assert!(announced, "{text}");
}
