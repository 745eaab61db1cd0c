//! The board as Prometheus and a prober see it: `/metrics` in the text format with every
//! family described, the series an operator alerts on, label values that no caller can
//! multiply, `/healthz` and `/readyz`, and the 404 of another path.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;

use crate::support::{Bakery, http_exchange};

/// The answer to `GET path` on `port`: its head (lower-cased) and body.
fn get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("writes");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("reads");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head");
    (head.to_lowercase(), body.to_string())
}

/// A bakery counting its calls, served on an address of its own; returns it and the
/// metrics port.
fn bakery_with_metrics(extra: &[&str]) -> (Bakery, u16) {
    let metrics_port = free_port();
    let address = format!("127.0.0.1:{metrics_port}");
    let mut args = vec!["--metrics-addr", &address];
    args.extend_from_slice(extra);
    (Bakery::start_with("info", &args), metrics_port)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    listener.local_addr().expect("an address").port()
}

/// The samples of a scrape: series name (with its labels) to value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The values label `label` takes across the series of family `name`.
fn label_values(text: &str, name: &str, label: &str) -> BTreeSet<String> {
    let opening = format!("{label}=\"");
    samples(text)
        .keys()
        .filter(|series| series.split('{').next() == Some(name))
        .filter_map(|series| {
            let from = series.find(&opening)? + opening.len();
            let to = series[from..].find('"')?;
            Some(series[from..from + to].to_string())
        })
        .collect()
}

/// A connection answered, so admitted, and kept open. The connection before it may
/// still be counted for a moment after its client closed it: tried until admitted.
fn held_connection(port: u16) -> TcpStream {
    for _ in 0..100 {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut answer = [0u8; 256];
        let read = stream.read(&mut answer).unwrap_or(0);
        if answer[..read].starts_with(b"HTTP/1.1 200") {
            return stream;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("no connection admitted");
}

const SIGNED_IN_SHIFT: &str = r#"[{"@auth_": {"Password": {"username": "lead-baker", "password": "opensesame"}}}, {"fn.myShift": {}}]"#;

#[test]
fn metrics_are_prometheus_text_each_family_described_in_base_units() {
    let (bakery, metrics_port) = bakery_with_metrics(&["--max-connections-per-address", "1"]);
    let answered = http_exchange(bakery.port, "POST", "/api/telepact", SIGNED_IN_SHIFT);
    assert!(answered.1.contains("Ok_"), "{answered:?}");
    // One connection held open, then two more from the same address, closed unread.
    let held = held_connection(bakery.port);
    let refused = r#"telepact_http_connections_refused_total{limit="per_address"}"#;
    let refused_before = samples(&get(metrics_port, "/metrics").1)
        .get(refused)
        .copied()
        .unwrap_or(0.0);
    for _ in 0..2 {
        let mut refused = TcpStream::connect(("127.0.0.1", bakery.port)).expect("connects");
        let _ = refused.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut answer = String::new();
        let _ = refused.read_to_string(&mut answer);
        assert_eq!(answer, "", "closed unread");
    }

    let (head, text) = get(metrics_port, "/metrics");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    let mut typed = BTreeMap::new();
    for line in text.lines().filter(|line| line.starts_with("# TYPE ")) {
        let mut words = line.split(' ').skip(2);
        let (name, kind) = (words.next().expect("a name"), words.next().expect("a type"));
        typed.insert(name.to_string(), kind.to_string());
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name} is described"
        );
    }
    let expected = [
        ("telepact_calls_total", "counter"),
        ("telepact_call_duration_seconds", "histogram"),
        ("telepact_request_bytes", "histogram"),
        ("telepact_response_bytes", "histogram"),
        ("telepact_calls_in_flight", "gauge"),
        ("telepact_http_connections_refused_total", "counter"),
        ("telepact_http_connections_open", "gauge"),
    ];
    for (name, kind) in expected {
        assert_eq!(typed.get(name).map(String::as_str), Some(kind), "{text}");
    }
    for (name, kind) in &typed {
        let named_for_its_type = match kind.as_str() {
            "counter" => name.ends_with("_total"),
            "histogram" => name.ends_with("_seconds") || name.ends_with("_bytes"),
            _ => !name.ends_with("_total"),
        };
        assert!(named_for_its_type, "{name} ({kind})");
    }
    let values = samples(&text);
    assert_eq!(values.get(refused), Some(&(refused_before + 2.0)), "{text}");
    assert_eq!(values.get("telepact_calls_in_flight"), Some(&0.0));
    // A call answered from memory is timed in buckets finer than a tenth of a millisecond.
    let finest = r#"telepact_call_duration_seconds_bucket{function="fn.myShift",le="0.00001"}"#;
    assert!(values.contains_key(finest), "{text}");
    drop(held);
}

/// Whatever callers send, the `function`, `result`, `status` and `limit` labels take
/// values from the schema or a fixed set, and the number of series stays put.
#[test]
fn no_caller_can_add_label_values_of_its_own() {
    let (bakery, metrics_port) = bakery_with_metrics(&["--body-limit", "4KiB"]);
    let odd_bodies = [
        r#"[{}, {"fn.invented": {}}]"#.to_string(),
        r#"[{}, {"fn.my\"Shift\n": {}}]"#.to_string(),
        r#"[{}, {"fn.myShift": {}, "fn.other": {}}]"#.to_string(),
        r#"[{"@unsafe_": true, "@result": "Evil"}, {"fn.myShift": {}}]"#.to_string(),
        r#"[{"@select_": {"->": ["nope"]}}, {"fn.myShift": {}}]"#.to_string(),
        r#"[{}, {"Ok_": {}}]"#.to_string(),
        r#"[{}, {"struct.Shift": {}}]"#.to_string(),
        "not a message".to_string(),
        format!(r#"[{{}}, {{"fn.{}": {{}}}}]"#, "x".repeat(5000)),
    ];
    let scrape = |label: &str| {
        let text = get(metrics_port, "/metrics").1;
        (text.clone(), samples(&text).len(), label.to_string())
    };
    let mut series_after_each_round = Vec::new();
    for round in 0..3 {
        for (at, body) in odd_bodies.iter().enumerate() {
            let body = body.replace("invented", &format!("invented{round}{at}"));
            http_exchange(bakery.port, "POST", "/api/telepact", &body);
        }
        http_exchange(bakery.port, "POST", "/api/telepact", SIGNED_IN_SHIFT);
        series_after_each_round.push(scrape("round").1);
    }
    let (text, ..) = scrape("end");
    assert_eq!(
        series_after_each_round
            .windows(2)
            .filter(|w| w[0] != w[1])
            .count(),
        0,
        "new series after the first round: {series_after_each_round:?}\n{text}"
    );
    let functions = label_values(&text, "telepact_calls_total", "function");
    let schema_functions = ["fn.myShift", "fn.approveSpecial", "fn.ping_", "fn.api_"];
    for function in &functions {
        let known = schema_functions.contains(&function.as_str())
            || function == "unknown"
            || function.is_empty();
        assert!(known, "a function label from a caller: {function:?}");
    }
    for result in label_values(&text, "telepact_calls_total", "result") {
        let known = result.ends_with('_') || result == "cancelled";
        assert!(known, "a result label from a caller: {result:?}");
    }
    for status in label_values(&text, "telepact_http_refusals_total", "status") {
        let documented = ["400", "408", "413", "415", "501", "503"];
        assert!(documented.contains(&status.as_str()), "{status}");
    }
}

#[test]
fn liveness_and_readiness_are_answered_on_both_ports() {
    let (bakery, metrics_port) = bakery_with_metrics(&[]);
    for port in [bakery.port, metrics_port] {
        let (head, body) = get(port, "/healthz");
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert_eq!(body, "ok");
        let (head, body) = get(port, "/readyz");
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert_eq!(body, "ready");
    }
}

#[test]
fn another_path_is_answered_404_naming_the_endpoint() {
    let bakery = Bakery::start();
    let (head, body) = get(bakery.port, "/api");
    assert!(head.starts_with("http/1.1 404"), "{head}");
    assert!(
        body.contains("Telepact messages at /api/telepact"),
        "{body}"
    );
}

/// A board that is shutting down takes no new call: its readiness says so on the
/// metrics address (still served while calls in flight finish), and liveness stays `ok`.
#[test]
fn readiness_is_503_while_the_board_drains() {
    let (bakery, metrics_port) = bakery_with_metrics(&[]);
    // A request whose body never comes holds the shutdown in its grace.
    let mut held = TcpStream::connect(("127.0.0.1", bakery.port)).expect("connects");
    held.write_all(b"POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[")
        .expect("writes");
    std::thread::sleep(std::time::Duration::from_millis(200));
    bakery.send_interrupt();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (head, body) = get(metrics_port, "/readyz");
    assert!(head.starts_with("http/1.1 503"), "{head}");
    assert_eq!(body, "draining");
    let (head, body) = get(metrics_port, "/healthz");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, "ok");
    drop(held);
}
