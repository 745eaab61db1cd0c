//! The reference example's flow, over real HTTP, against the binary as a user starts it,
//! and the typed client over HTTP/2 and WebSocket.

use crate::support;

mod transports;

use serde_json::{Value, json};

use support::{Bakery, http_exchange, signed_in};
use telepact::client::ClientOptions;
use telepact::client::HttpTransport;
use telepact::typed::Reply;
use telepact::typed::standard::{ErrorUnauthenticated, ErrorUnauthorized};
use telepact::{Headers, Message};
use telepact_bakery::api::{
    ApproveSpecialInput, ApproveSpecialOutput, Client, MyShiftInput, MyShiftOk, MyShiftOutput,
};
use telepact_bakery::identity_log::IdentityEvent;
use telepact_test_support::{MsgpackAnswers, count_msgpack_answers};

fn client(bakery: &Bakery, options: ClientOptions) -> Client {
    Client::new(telepact::Client::http(&bakery.url(), options).expect("a valid url"))
}

/// A typed client over a real HTTP transport, with the count of its MessagePack answers.
fn counting_client(bakery: &Bakery, options: ClientOptions) -> (Client, MsgpackAnswers) {
    let http = HttpTransport::new(&bakery.url()).expect("a valid url");
    let (transport, binary_responses) = count_msgpack_answers(http);
    let client = Client::new(telepact::Client::with_options(transport, options));
    (client, binary_responses)
}

fn unauthenticated() -> ErrorUnauthenticated {
    ErrorUnauthenticated {
        message: Some("Valid authentication is required.".into()),
    }
}

/// What `fn.myShift` answers the lead baker.
fn lead_bakers_shift() -> MyShiftOutput {
    MyShiftOutput::Ok(MyShiftOk {
        employee_id: "baker-001".into(),
        station: "oven".into(),
        pastry: "sesame loaf".into(),
    })
}

/// The reference example's three calls; returns how many responses were MessagePack.
async fn run_the_reference_flow(options: ClientOptions) -> usize {
    let bakery = Bakery::start();
    let (client, binary_responses) = counting_client(&bakery, options);

    let shift = client
        .my_shift_with(MyShiftInput {}, signed_in("lead-baker", "opensesame"))
        .await
        .expect("the call completes");
    assert_eq!(shift.output, lead_bakers_shift());

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

    let exploded = client
        .my_shift_with(MyShiftInput {}, signed_in("explode", "boom"))
        .await
        .expect("the call completes");
    assert_eq!(
        exploded.output,
        MyShiftOutput::ErrorUnauthenticated(unauthenticated())
    );

    let events: Vec<IdentityEvent> = bakery
        .stdout_lines()
        .iter()
        .map(|line| serde_json::from_str(line).expect("each stdout line is JSON"))
        .collect();
    assert_eq!(
        events,
        vec![
            IdentityEvent::new("fn.myShift", Some("baker-001"), Some("oven")),
            IdentityEvent::new("fn.approveSpecial", Some("cashier-002"), Some("counter")),
        ]
    );
    binary_responses.count()
}

#[tokio::test]
async fn the_reference_flow_over_json() {
    assert_eq!(run_the_reference_flow(ClientOptions::default()).await, 0);
}

#[tokio::test]
async fn the_reference_flow_over_binary() {
    // Only `Ok_` results travel in binary: the first call's answer (which also brings
    // the encoding); the two refusals come back as JSON.
    assert_eq!(
        run_the_reference_flow(ClientOptions::default().binary(true)).await,
        1
    );
}

#[tokio::test]
async fn the_reference_flow_over_packed_binary() {
    let options = ClientOptions::default().binary(true).packed(true);
    assert_eq!(run_the_reference_flow(options).await, 1);
}

#[tokio::test]
async fn the_oven_approves_the_special_and_the_counter_gets_almond_croissants() {
    let bakery = Bakery::start();
    let client = client(&bakery, ClientOptions::default());
    let special = client
        .approve_special_with(
            ApproveSpecialInput {},
            signed_in("lead-baker", "opensesame"),
        )
        .await
        .unwrap();
    let Reply::Known(ApproveSpecialOutput::Ok(ok)) = special.output else {
        panic!("expected Ok_, got {:?}", special.output);
    };
    assert_eq!(ok.message, "special approved: cardamom morning bun");

    let shift = client
        .my_shift_with(MyShiftInput {}, signed_in("cashier", "knockknock"))
        .await
        .unwrap();
    let Reply::Known(MyShiftOutput::Ok(ok)) = shift.output else {
        panic!("expected Ok_, got {:?}", shift.output);
    };
    assert_eq!(
        (ok.station.as_str(), ok.pastry.as_str()),
        ("counter", "almond croissant")
    );
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_unauthenticated_and_reach_no_middleware() {
    let bakery = Bakery::start();
    let client = client(&bakery, ClientOptions::default());
    let wrong = client
        .my_shift_with(MyShiftInput {}, signed_in("lead-baker", "letmein"))
        .await
        .unwrap();
    assert_eq!(
        wrong.output,
        MyShiftOutput::ErrorUnauthenticated(unauthenticated())
    );

    let missing = client
        .approve_special(ApproveSpecialInput {})
        .await
        .unwrap();
    assert_eq!(
        missing.output,
        ApproveSpecialOutput::ErrorUnauthenticated(unauthenticated())
    );
    assert_eq!(bakery.stdout_lines(), Vec::<String>::new());
}

#[tokio::test]
async fn malformed_credentials_are_invalid_request_headers() {
    let bakery = Bakery::start();
    let client = client(&bakery, ClientOptions::default());
    let mut headers = Headers::new();
    headers.insert("@auth_", json!({"Password": {"username": 1}}));
    let response = client
        .inner()
        .request(Message::new(headers, "fn.myShift", Default::default()))
        .await
        .unwrap();
    assert_eq!(response.target(), "ErrorInvalidRequestHeaders_");
    let cases = &response.payload().unwrap()["cases"];
    let paths: Vec<&Value> = cases
        .as_array()
        .unwrap()
        .iter()
        .map(|case| &case["path"])
        .collect();
    assert!(paths.contains(&&json!(["@auth_", "Password", "username"])));
    assert!(paths.contains(&&json!(["@auth_", "Password"])));
}

#[tokio::test]
async fn public_functions_log_a_null_identity() {
    let bakery = Bakery::start();
    let client = client(&bakery, ClientOptions::default());
    let ping = client
        .call(telepact::typed::standard::PingInput {})
        .await
        .unwrap();
    assert!(matches!(
        ping.output,
        Reply::Known(telepact::typed::standard::PingOutput::Ok(_))
    ));
    // The identity headers are the auth hook's to set: a caller's own are dropped.
    let forged = r#"[{"@employeeId": "baker-001", "@station": "oven"}, {"fn.ping_": {}}]"#;
    let (status, _) = http_exchange(bakery.port, "POST", "/api/telepact", forged);
    assert_eq!(status, "HTTP/1.1 200 OK");
    let events: Vec<IdentityEvent> = bakery
        .stdout_lines()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let anonymous = IdentityEvent::new("fn.ping_", None, None);
    assert_eq!(events, vec![anonymous.clone(), anonymous]);
}

#[test]
fn other_paths_are_not_found_and_ctrl_c_shuts_down_cleanly() {
    let bakery = Bakery::start();
    let address = format!("127.0.0.1:{}", bakery.port);
    let status = raw_post(&address, "/elsewhere", "[{}, {\"fn.ping_\": {}}]");
    assert_eq!(status, 404);
    assert!(bakery.interrupt().success());
}

/// Whatever `RUST_LOG` says: `off`, or `warning` (a misspelt level, read as a target),
/// hides every log line, but not why the process ended.
#[test]
fn a_port_in_use_is_one_error_naming_the_address() {
    let bakery = Bakery::start();
    let port = bakery.port.to_string();
    for filter in ["info", "off", "warning"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_telepact-bakery"))
            .args(["--port", port.as_str()])
            .env("RUST_LOG", filter)
            .output()
            .expect("the bakery binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(output.stdout.is_empty(), "no READY line");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "RUST_LOG={filter}: {stderr}");
        assert!(
            lines[0].starts_with(&format!("error: cannot listen on 127.0.0.1:{port}: ")),
            "RUST_LOG={filter}: {stderr}"
        );
    }
    assert!(bakery.interrupt().success());
}

/// A bare HTTP/1.1 POST; returns the status code.
fn raw_post(address: &str, path: &str, body: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn credentials_never_reach_the_logs() {
    let bakery = Bakery::start_with_log_level("trace");
    // Over HTTP and over WebSocket, whose frames its protocol library logs whole at
    // `trace` unless the bakery holds it back.
    let url = format!("ws://127.0.0.1:{}/api/telepact", bakery.port);
    let socket = telepact::client::WebSocketTransport::connect(&url).await;
    let socket = telepact::Client::new(socket.expect("connects"));
    let clients = [
        client(&bakery, ClientOptions::default()),
        Client::new(socket),
    ];
    let attempts = [
        ("lead-baker", "opensesame"),
        ("cashier", "knockknock"),
        ("explode", "boom"),
        ("lead-baker", "not-the-password"),
    ];
    for (client, (username, password)) in clients.iter().flat_map(|c| attempts.map(|a| (c, a))) {
        client
            .my_shift_with(MyShiftInput {}, signed_in(username, password))
            .await
            .expect("the call completes");
    }
    let logs = bakery.stderr_lines();
    assert!(
        logs.iter()
            .any(|line| line.contains("bakery auth backend unavailable")),
        "the auth failure is logged with its cause: {logs:#?}"
    );
    let printed: Vec<String> = logs.into_iter().chain(bakery.stdout_lines()).collect();
    for (_, password) in attempts {
        assert!(
            printed.iter().all(|line| !line.contains(password)),
            "a password reached the output: {printed:#?}"
        );
    }
    assert!(printed.iter().all(|line| !line.contains("@auth_")));
}

#[test]
fn rust_log_sets_the_level_per_target_and_a_directive_that_does_not_parse_is_named_and_left_out() {
    let serving = |lines: &[String]| {
        lines
            .iter()
            .any(|line| line.contains("INFO") && line.contains("serving the bakery shift board"))
    };
    // (RUST_LOG, the start-up line shown, the directive named as left out)
    for (directives, shown, left_out) in [
        ("warn", false, None),
        ("warn,telepact_bakery=info", true, None),
        ("telepact::server=debug", false, None),
        ("", true, None),
        ("info=loud", true, Some("info=loud")),
        ("warn,info=loud", false, Some("info=loud")),
    ] {
        let bakery = Bakery::start_with_log_level(directives);
        // Serving (its start-up line written and Ctrl-C handled) once it answers.
        assert_eq!(http_exchange(bakery.port, "GET", "/healthz", "").1, "ok");
        let lines = bakery.stderr_lines();
        assert_eq!(
            serving(&lines),
            shown,
            "RUST_LOG={directives:?}: {lines:#?}"
        );
        let named = lines
            .iter()
            .find_map(|line| line.strip_prefix("ignoring `")?.split('`').next());
        assert_eq!(named, left_out, "RUST_LOG={directives:?}: {lines:#?}");
    }
}

#[test]
fn ctrl_c_right_after_ready_shuts_down_cleanly() {
    // bash's built-in `kill` signals the moment READY is read (a spawned `kill` takes
    // long enough for a late listener to catch up): the bakery must already be
    // listening, or the signal's default action ends it without a clean shutdown.
    // The pid is kept apart because bash unsets `BAKERY_PID` once it has reaped the
    // coprocess: on a busy machine the bakery can be gone before `wait` runs, and
    // `wait ""` failed the test although the bakery had shut down cleanly.
    let script = r#"coproc BAKERY { exec "$0" --port 0; }
pid=$BAKERY_PID
read -r ready <&"${BAKERY[0]}"
kill -INT "$pid"
wait "$pid""#;
    for _ in 0..5 {
        let output = std::process::Command::new("bash")
            .args(["-c", script, env!("CARGO_BIN_EXE_telepact-bakery")])
            .current_dir("/")
            .env("RUST_LOG", "info")
            .output()
            .expect("bash runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stderr.contains("shut down"),
            "no clean shutdown ({}): {stderr}",
            output.status
        );
    }
}

#[test]
fn a_second_ctrl_c_ends_a_shutdown_that_waits_for_a_request() {
    use std::io::Write;

    let mut bakery = Bakery::start();
    // A request whose body never comes holds the graceful shutdown for its 10 s grace.
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", bakery.port)).expect("connects");
    stream
        .write_all(b"POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[")
        .expect("writes");
    std::thread::sleep(std::time::Duration::from_millis(200));
    bakery.send_interrupt();
    assert_eq!(
        bakery.exit_within(std::time::Duration::from_millis(500)),
        None,
        "the first Ctrl-C waits for the request"
    );
    bakery.send_interrupt();
    let status = bakery
        .exit_within(std::time::Duration::from_secs(5))
        .expect("the second Ctrl-C ends it");
    assert_eq!(status.code(), Some(130));
    let stderr = bakery.stderr_lines().join("\n");
    assert!(stderr.contains("a second signal"), "{stderr}");
    drop(stream);
}

#[test]
fn its_log_is_one_json_object_a_line_when_asked() {
    // By flag here; `TELEPACT_LOG_FORMAT=json` asks the same (clap's `env`).
    let bakery = Bakery::start_with("info", &["--log-format", "json"]);
    let ping = r#"[{}, {"fn.ping_": {}}]"#;
    assert_eq!(
        http_exchange(bakery.port, "POST", "/api/telepact", ping).0,
        "HTTP/1.1 200 OK"
    );
    let lines = bakery.stderr_lines();
    assert!(lines.len() >= 3, "{lines:?}");
    let events: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let serving = &events[0];
    assert_eq!(serving["level"], "INFO");
    assert_eq!(serving["target"], "telepact_bakery");
    assert!(serving["fields"]["address"].is_string(), "{serving}");
    let shutdown = events
        .iter()
        .find(|event| event["fields"]["grace_ms"].is_number())
        .unwrap_or_else(|| panic!("the shutdown's grace as a number: {events:?}"));
    assert_eq!(shutdown["fields"]["grace_ms"], 10_000);
}

/// `--access-log` writes one line a call as it ends, with its function, result, client
/// address and duration, and no credential.
#[test]
fn the_access_log_has_a_line_per_call() {
    let bakery = Bakery::start_with("info", &["--access-log", "--log-format", "json"]);
    let ping = r#"[{"@id_": "p-1"}, {"fn.ping_": {}}]"#;
    let refused = r#"[{"@auth_": {"Password": {"username": "nobody", "password": "hunter2"}}},
        {"fn.myShift": {}}]"#;
    for body in [ping, refused] {
        assert_eq!(
            http_exchange(bakery.port, "POST", "/api/telepact", body).0,
            "HTTP/1.1 200 OK"
        );
    }
    let lines = bakery.stderr_lines();
    assert!(
        lines.iter().all(|line| !line.contains("hunter2")),
        "{lines:?}"
    );
    let calls: Vec<Value> = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["span"]["name"] == "telepact.call")
        .filter(|event| event["fields"]["message"] == "close")
        .collect();
    assert_eq!(calls.len(), 2, "{lines:?}");
    let (first, second) = (&calls[0]["span"], &calls[1]["span"]);
    assert_eq!(first["function"], "fn.ping_");
    assert_eq!(first["id"], "p-1");
    assert_eq!(first["result"], "Ok_");
    assert_eq!(first["address"], "127.0.0.1");
    assert!(first["duration_us"].is_number(), "{first}");
    assert_eq!(second["function"], "fn.myShift");
    assert_eq!(second["result"], "ErrorUnauthenticated_");
}

#[test]
fn healthz_answers_and_metrics_are_served_behind_the_flag() {
    let plain = Bakery::start();
    assert_eq!(
        http_exchange(plain.port, "GET", "/healthz", ""),
        ("HTTP/1.1 200 OK".to_string(), "ok".to_string())
    );
    assert_eq!(
        http_exchange(plain.port, "GET", "/metrics", "").0,
        "HTTP/1.1 404 Not Found"
    );

    let measured = Bakery::start_with("info", &["--metrics"]);
    let ping = r#"[{}, {"fn.ping_": {}}]"#;
    let (status, _) = http_exchange(measured.port, "POST", "/api/telepact", ping);
    assert_eq!(status, "HTTP/1.1 200 OK");
    let (status, text) = http_exchange(measured.port, "GET", "/metrics", "");
    assert_eq!(status, "HTTP/1.1 200 OK");
    // Histograms, in buckets: the request's 22 bytes fall under the first bound.
    for expected in [
        r#"telepact_calls_total{function="fn.ping_",result="Ok_"} 1"#,
        r#"telepact_request_bytes_bucket{function="fn.ping_",le="64"} 1"#,
        r#"telepact_call_duration_seconds_bucket{function="fn.ping_",le="+Inf"} 1"#,
        r#"telepact_call_duration_seconds_count{function="fn.ping_"} 1"#,
        "# HELP telepact_calls_total Calls ended, by function and result tag (cancelled: cut off unanswered).",
        "# HELP telepact_call_duration_seconds Time from reading a request to its encoded answer or its cancellation, by function.",
    ] {
        assert!(
            text.lines().any(|line| line == expected),
            "{expected}\n{text}"
        );
    }
}

/// Nobody reads stdout (its reader gone before READY): the board serves all the same,
/// as it does when the identity lines find stdout closed, rather than panic.
#[test]
fn a_stdout_nobody_reads_still_serves() {
    use std::time::{Duration, Instant};

    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_telepact-bakery"))
        .args(["--port", &port.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the bakery binary starts");
    drop(child.stdout.take());
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        let exited = child.try_wait().expect("wait works");
        assert!(exited.is_none(), "the bakery ended: {exited:?}");
        assert!(Instant::now() < deadline, "the bakery never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let ended = child.try_wait().expect("wait works");
    assert_eq!(ended, None, "the bakery ended after listening");
    let (status, body) = http_exchange(port, "GET", "/healthz", "");
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let exit = child.wait().expect("the bakery ends");
    assert_eq!((status.as_str(), body.as_str()), ("HTTP/1.1 200 OK", "ok"));
    assert!(exit.success(), "{exit}");
}
