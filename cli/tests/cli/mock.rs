use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use telepact::{Client, ClientOptions};
use tokio_tungstenite::tungstenite::Message as Frame;

use super::*;

const GREETER: &str = "\
- fn.greet:
    name: string
  ->:
    - Ok_:
        text: string
";

fn greeter_dir(name: &str) -> PathBuf {
    let dir = scratch_dir(name).join("api");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("greeter.telepact.yaml"), GREETER).unwrap();
    dir
}

/// `telepact mock --port 0 ...`, running until stopped (or dropped).
type RunningMock = RunningServer;

impl RunningServer {
    fn start(dir: &Path, extra: &[&str]) -> RunningMock {
        Self::start_with(&["--dir", path_text(dir)], extra)
    }

    fn start_with(schema: &[&str], extra: &[&str]) -> RunningMock {
        let mut command = telepact_command();
        command
            .arg("mock")
            .args(schema)
            .args(["--port", "0"])
            .args(extra);
        Self::spawn(command)
    }
}

fn stub_greeting() -> Value {
    json!({"fn.createStub_": {"stub": {"fn.greet": {"name": "ada"}, "->": {"Ok_": {"text": "hi ada"}}}}})
}

fn verify_one_greeting() -> Value {
    json!({"fn.verify_": {"call": {"fn.greet": {"name": "ada"}}, "count!": {"Exact": {"times": 1}}}})
}

async fn call(client: &Client, body: Value) -> Value {
    call_with(client, json!({}), body).await
}

#[test]
fn serves_http_stub_call_and_verify_then_stops_on_ctrl_c() {
    let mock = RunningMock::start(&greeter_dir("mock-http"), &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = Client::http(&mock.url("http"), ClientOptions::default()).unwrap();
    runtime.block_on(async {
        assert_eq!(call(&client, stub_greeting()).await, json!({"Ok_": {}}));
        let greeting = call(&client, json!({"fn.greet": {"name": "ada"}})).await;
        assert_eq!(greeting, json!({"Ok_": {"text": "hi ada"}}));
        assert_eq!(
            call(&client, verify_one_greeting()).await,
            json!({"Ok_": {}})
        );
    });
    assert!(mock.interrupt().success());
}

/// One HTTP/1.1 exchange with the mock, written out by hand: the head of the answer, lower
/// case, and its body.
fn exchange(mock: &RunningMock, request_head: &str, body: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", mock.port)).unwrap();
    let request = format!(
        "{request_head}\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // A mock that stops answering fails the test rather than holding it.
    let limit = Some(std::time::Duration::from_secs(10));
    stream.set_read_timeout(limit).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    (head.to_ascii_lowercase(), body.to_string())
}

/// A harness that reads stdout for `READY` and leaves stderr undrained: once the pipe is
/// full, log lines are dropped rather than calls held up, and Ctrl-C still stops it. So
/// is a stderr whose reader has gone.
#[test]
fn a_stderr_nobody_reads_holds_up_no_call() {
    let dir = greeter_dir("mock-undrained-stderr");
    for reader_gone in [false, true] {
        let mut command = telepact_command();
        command
            .arg("mock")
            .args(["--dir", path_text(&dir), "--port", "0"])
            // Requests that are not JSON are logged at `debug`.
            .env("RUST_LOG", "debug")
            .stderr(Stdio::piped());
        let mut mock = RunningServer::spawn_logging(command);
        if reader_gone {
            // Its reader gone: each line written is a broken pipe.
            drop(mock.child.stderr.take());
        }
        // Each request that is not JSON logs a line: 2,000 are past a pipe's 64 KiB.
        for _ in 0..2000 {
            let (head, body) = exchange(&mock, "POST /api HTTP/1.1", "not json");
            assert!(head.starts_with("http/1.1 200"), "{head}");
            assert!(body.contains("ErrorParseFailure_"), "{body}");
        }
        assert!(mock.interrupt().success());
    }
}

/// A call on another path (the runtime's default, say) is told where the mock is.
#[test]
fn another_path_is_answered_404_naming_the_mocks() {
    let mock = RunningMock::start(&greeter_dir("mock-other-path"), &[]);
    let (head, body) = exchange(
        &mock,
        "POST /api/telepact HTTP/1.1\r\nOrigin: http://localhost:5173",
        r#"[{}, {"fn.ping_": {}}]"#,
    );
    assert!(head.starts_with("http/1.1 404"), "{head}");
    assert!(head.contains("access-control-allow-origin: http://localhost:5173"));
    assert!(body.contains("Telepact messages at /api "), "{body}");
    assert!(mock.interrupt().success());
}

#[test]
fn pages_of_another_origin_may_call_it() {
    let mock = RunningMock::start(&greeter_dir("mock-cors"), &[]);
    let origin = "origin: http://localhost:5173";
    let (preflight, _) = exchange(
        &mock,
        &format!(
            "OPTIONS /api HTTP/1.1\r\n{origin}\r\nAccess-Control-Request-Method: POST\r\n\
             Access-Control-Request-Headers: content-type, authorization"
        ),
        "",
    );
    assert!(preflight.starts_with("http/1.1 200"), "{preflight}");
    for allowed in [
        "access-control-allow-origin: http://localhost:5173",
        "access-control-allow-credentials: true",
        "access-control-allow-methods: post",
        "access-control-allow-headers: content-type, authorization",
    ] {
        assert!(preflight.contains(allowed), "{allowed} not in {preflight}");
    }
    let (head, body) = exchange(
        &mock,
        &format!("POST /api HTTP/1.1\r\n{origin}\r\nContent-Type: application/json"),
        r#"[{}, {"fn.ping_": {}}]"#,
    );
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("access-control-allow-origin: http://localhost:5173"));
    assert_eq!(body, r#"[{},{"Ok_":{}}]"#);
}

#[test]
fn serves_websocket_frames_on_the_same_path() {
    let mock = RunningMock::start(&greeter_dir("mock-ws"), &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (mut socket, _) = tokio_tungstenite::connect_async(mock.url("ws"))
            .await
            .unwrap();
        let mut exchange = async |body: Value| {
            let text = json!([{}, body]).to_string();
            socket.send(Frame::text(text)).await.unwrap();
            match socket.next().await {
                Some(Ok(Frame::Text(reply))) => {
                    serde_json::from_str::<Value>(reply.as_str()).unwrap()
                }
                other => panic!("expected a text frame, got {other:?}"),
            }
        };
        assert_eq!(exchange(stub_greeting()).await, json!([{}, {"Ok_": {}}]));
        assert_eq!(
            exchange(json!({"fn.greet": {"name": "ada"}})).await,
            json!([{}, {"Ok_": {"text": "hi ada"}}])
        );
        assert_eq!(
            exchange(verify_one_greeting()).await,
            json!([{}, {"Ok_": {}}])
        );
    });
}

#[test]
fn response_generation_can_be_disabled() {
    let dir = greeter_dir("mock-no-generation");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let unstubbed = json!({"fn.greet": {"name": "bob"}});

    let generating = RunningMock::start(&dir, &[]);
    let client = Client::http(&generating.url("http"), ClientOptions::default()).unwrap();
    let generated = runtime.block_on(async {
        let seeded = call(&client, json!({"fn.setRandomSeed_": {"seed": 7}})).await;
        assert_eq!(seeded, json!({"Ok_": {}}));
        call(&client, unstubbed.clone()).await
    });
    assert_eq!(generated, json!({"Ok_": {"text": "omega"}}));

    let strict = RunningMock::start(&dir, &["--disable-message-response-generation"]);
    let client = Client::http(&strict.url("http"), ClientOptions::default()).unwrap();
    let refused = runtime.block_on(call(&client, unstubbed));
    assert_eq!(refused, json!({"ErrorNoMatchingStub_": {}}));
}

/// Past `--memory-limit` a call is answered `ErrorUnknown_`, not recorded, and the log
/// says why under the answer's case id.
#[test]
fn past_its_memory_limit_calls_answer_error_unknown_and_the_log_says_why() {
    let dir = greeter_dir("mock-memory-limit");
    let log_path = dir.with_file_name("mock.log");
    let mut command = telepact_command();
    command
        .arg("mock")
        .args([
            "--dir",
            path_text(&dir),
            "--port",
            "0",
            "--memory-limit",
            "2kB",
        ])
        .stderr(std::fs::File::create(&log_path).unwrap());
    let mock = RunningServer::spawn_logging(command);
    let client = Client::http(&mock.url("http"), ClientOptions::default()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (answered, case_id) = runtime.block_on(async {
        for answered in 0..100 {
            let answer = call(&client, json!({"fn.greet": {"name": "ada"}})).await;
            if let Some(case_id) = answer.pointer("/ErrorUnknown_/caseId") {
                return (answered, case_id.as_str().unwrap().to_string());
            }
        }
        panic!("100 calls fitted in 2 kB");
    });
    assert!(answered > 0);
    let recorded =
        json!({"fn.verify_": {"call": {"fn.greet": {}}, "count!": {"Exact": {"times": answered}}}});
    let verified = runtime.block_on(call(&client, recorded));
    assert_eq!(verified, json!({"Ok_": {}}));
    assert!(mock.interrupt().success());

    let log = std::fs::read_to_string(&log_path).unwrap();
    let line = log.lines().find(|line| line.contains(&case_id));
    let line = line.unwrap_or_else(|| panic!("no line with {case_id} in {log}"));
    assert!(line.contains("memory limit (2000 bytes"), "{line}");
}

#[test]
fn takes_its_settings_from_the_reference_environment_variables() {
    let dir = greeter_dir("mock-environment");
    let mut command = telepact_command();
    command
        .arg("mock")
        .env("TELEPACT_DIRECTORY", &dir)
        .env("MOCK_SERVER_PORT", "0")
        .env("MOCK_SERVER_PATH", "/mock")
        .env("DISABLE_MESSAGE_RESPONSE_GENERATION", "1")
        // Set but empty counts as unset, as in the reference CLI.
        .env("DISABLE_OPTIONAL_FIELD_GENERATION", "")
        .env("GENERATED_COLLECTION_LENGTH_MAX", "");
    let mock = RunningMock::spawn(command);
    let url = format!("http://127.0.0.1:{}/mock", mock.port);
    let client = Client::http(&url, ClientOptions::default()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let refused = runtime.block_on(call(&client, json!({"fn.greet": {"name": "bob"}})));
    assert_eq!(refused, json!({"ErrorNoMatchingStub_": {}}));
}

/// A flag typed on the command line wins over the other source's variable, left set in
/// a profile; two flags typed together are still refused.
#[test]
fn a_typed_flag_wins_over_the_environment_variable_of_the_other_source() {
    let dir = greeter_dir("mock-flag-over-variable");
    let unreachable = format!("http://127.0.0.1:{}/api", free_port());
    let mut command = telepact_command();
    command
        .args(["mock", "--dir", path_text(&dir), "--port", "0"])
        .env("TELEPACT_HTTP_URL", &unreachable);
    let mock = RunningMock::spawn(command);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = Client::http(&mock.url("http"), ClientOptions::default()).unwrap();
    let stubbed = runtime.block_on(call(&client, stub_greeting()));
    assert_eq!(stubbed, json!({"Ok_": {}}));

    let both = telepact(&["mock", "--dir", path_text(&dir), "--http-url", &unreachable]);
    assert_fails_with(&both, "the argument '--dir <DIR>' cannot be used with");
}

/// With both sources' variables set and no flag typed, the URL is mocked, as the
/// reference CLI mocks it, rather than the two refused as if typed together.
#[test]
fn with_both_variables_set_the_url_wins() {
    let original = RunningMock::start(&greeter_dir("mock-variables-original"), &[]);
    let missing = scratch_dir("mock-variables-both").join("missing");
    let mut command = telepact_command();
    command
        .args(["mock", "--port", "0"])
        .env("TELEPACT_HTTP_URL", original.url("http"))
        .env("TELEPACT_DIRECTORY", &missing);
    let mock = RunningMock::spawn(command);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = Client::http(&mock.url("http"), ClientOptions::default()).unwrap();
    let stubbed = runtime.block_on(call(&client, stub_greeting()));
    assert_eq!(stubbed, json!({"Ok_": {}}));
}

#[test]
fn a_refused_value_points_to_its_subcommands_help() {
    let dir = greeter_dir("mock-bad-port");
    let output = telepact(&["mock", "--dir", path_text(&dir), "--port", "many"]);
    assert_fails_with(&output, "invalid value 'many' for '--port <PORT>'");
    assert!(
        stderr(&output)
            .trim_end()
            .ends_with("(see `telepact mock --help`)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn fetch_stores_the_schema_a_mock_serves() {
    let dir = greeter_dir("mock-fetch");
    let mock = RunningMock::start(&dir, &[]);
    let out = scratch_dir("mock-fetch-out").join("api");
    let output = telepact(&[
        "fetch",
        "--http-url",
        &mock.url("http"),
        "--output-dir",
        path_text(&out),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let fetched = Schema::from_dir(&out).unwrap();
    assert_eq!(
        fetched.original(),
        Schema::from_dir(&dir).unwrap().original()
    );
}

#[test]
fn fetch_waits_for_a_server_still_starting() {
    let dir = greeter_dir("mock-late");
    let port = free_port().to_string();
    let out = scratch_dir("mock-late-out").join("api");
    let url = format!("http://127.0.0.1:{port}/api");
    let fetch = telepact_command()
        .args(["fetch", "--http-url", &url, "--output-dir", path_text(&out)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // The server comes up while the first attempt has failed and the next is pending.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut command = telepact_command();
    command.args(["mock", "--dir", path_text(&dir), "--port", &port]);
    let _mock = RunningMock::spawn(command);
    let fetched = fetch.wait_with_output().unwrap();
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    assert_eq!(
        Schema::from_dir(&out).unwrap().original(),
        Schema::from_dir(&dir).unwrap().original()
    );
}

#[test]
fn mocks_the_schema_served_at_a_url() {
    let original = RunningMock::start(&greeter_dir("mock-of-mock"), &[]);
    let mock = RunningMock::start_with(&["--http-url", &original.url("http")], &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = Client::http(&mock.url("http"), ClientOptions::default()).unwrap();
    runtime.block_on(async {
        assert_eq!(call(&client, stub_greeting()).await, json!({"Ok_": {}}));
        let greeting = call(&client, json!({"fn.greet": {"name": "ada"}})).await;
        assert_eq!(greeting, json!({"Ok_": {"text": "hi ada"}}));
    });
}

#[test]
fn an_unreachable_schema_url_is_one_error() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/api");
    let output = telepact(&["mock", "--http-url", &url, "--port", "0"]);
    assert_fails_with(&output, &format!("cannot fetch the schema from {url}: "));
    assert!(stdout(&output).is_empty(), "no READY line");
}

#[test]
fn a_port_in_use_is_one_error() {
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = greeter_dir("mock-port-taken");
    let output = telepact(&["mock", "--dir", path_text(&dir), "--port", &port]);
    assert_fails_with(&output, &format!("cannot listen on 0.0.0.0:{port}: "));
    assert!(stdout(&output).is_empty(), "no READY line");
}

/// `--host` binds that address alone: on Linux every `127.x.y.z` is a loopback address,
/// so a mock on 127.0.0.2 answers there and not on 127.0.0.1.
#[cfg(target_os = "linux")]
#[test]
fn host_names_the_one_address_it_listens_on() {
    let mock = RunningMock::start(&greeter_dir("mock-host"), &["--host", "127.0.0.2"]);
    assert!(std::net::TcpStream::connect(("127.0.0.2", mock.port)).is_ok());
    assert!(std::net::TcpStream::connect(("127.0.0.1", mock.port)).is_err());
}

#[test]
fn a_host_that_is_not_an_address_is_refused() {
    let dir = greeter_dir("mock-bad-host");
    let output = telepact(&["mock", "--dir", path_text(&dir), "--host", "nowhere"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("invalid value 'nowhere' for '--host <HOST>'"));
    assert!(stdout(&output).is_empty(), "no READY line");
}

#[test]
fn a_memory_limit_that_is_not_a_size_is_refused() {
    let dir = greeter_dir("mock-bad-memory-limit");
    let output = telepact(&["mock", "--dir", path_text(&dir), "--memory-limit", "2 MiBs"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("for '--memory-limit <SIZE>': not a size"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty(), "no READY line");
}

/// A size past what 64 bits count was read as the largest, so a typo of a few digits
/// too many gave a mock without a limit; it is refused.
#[test]
fn a_memory_limit_past_what_can_be_counted_is_refused() {
    let dir = greeter_dir("mock-uncountable-memory-limit");
    for size in [
        "99999999999999999999GiB",
        "16384PiB",
        "18446744073709551615B",
    ] {
        // A path refused once the flags are read ends a mock that took the size.
        let output = mock_refusing(&dir, &["--memory-limit", size, "--path", "/{id}"]);
        assert_eq!(output.status.code(), Some(2), "{size}");
        let said = stderr(&output);
        assert!(
            said.contains("more bytes than this machine can count"),
            "{size}: {said}"
        );
        assert_eq!(said.lines().count(), 1, "{said}");
        assert!(stdout(&output).is_empty(), "no READY line");
    }
}

#[test]
fn an_invalid_schema_is_one_error() {
    let dir = greeter_dir("mock-invalid");
    std::fs::write(dir.join("greeter.telepact.yaml"), "- fn.greet: 3\n").unwrap();
    let output = mock_refusing(&dir, &[]);
    assert_fails_with(&output, "");
    assert!(stderr(&output).contains("error: the schema has 1 error\n"));
    assert!(
        stderr(&output).contains("greeter.telepact.yaml:1:"),
        "{}",
        stderr(&output)
    );
}

/// `telepact mock --dir DIR --port 0 EXTRA...`, run to its end: for mocks that refuse to start.
fn mock_refusing(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["mock", "--dir", path_text(dir), "--port", "0"];
    args.extend_from_slice(extra);
    telepact(&args)
}

#[test]
fn contradictory_collection_lengths_are_one_error() {
    let dir = greeter_dir("mock-lengths");
    let output = mock_refusing(
        &dir,
        &[
            "--generated-collection-length-min",
            "5",
            "--generated-collection-length-max",
            "1",
        ],
    );
    assert_fails_with(
        &output,
        "--generated-collection-length-min (5) is above --generated-collection-length-max (1)\n",
    );
    assert_eq!(stderr(&output).lines().count(), 1);
    assert!(stdout(&output).is_empty(), "no READY line");
}

#[test]
fn a_path_the_router_would_not_serve_as_written_is_one_error() {
    let dir = greeter_dir("mock-path");
    for (path, why) in [
        ("/api/{version}", "braces are route syntax"),
        (
            "/api/:id",
            "a segment starting with `:` or `*` is route syntax",
        ),
        (
            "/api?v=2",
            "a request's path never holds `?`, `#`, spaces, control characters, `<`, `>` or a backquote",
        ),
    ] {
        let output = mock_refusing(&dir, &["--path", path]);
        assert_fails_with(
            &output,
            &format!("invalid --path: `{path}` cannot be served: {why}\n"),
        );
        assert_eq!(stdout(&output), "", "nothing was announced as ready");
    }
}

/// A log that stderr does not take (a pipe nobody drains) is not queued in memory:
/// lines past what the pipe holds are left out, and once stderr is read again a line
/// says how many were, as the runtime's own log does.
#[cfg(unix)]
#[test]
fn log_lines_stderr_does_not_take_are_counted() {
    use std::io::Read;
    use std::sync::{Arc, Mutex};

    let mut command = telepact_command();
    command
        .args([
            "mock",
            "--dir",
            path_text(&greeter_dir("mock-log-left-out")),
        ])
        .args(["--port", "0"])
        // Requests that are not JSON are logged at `debug`.
        .env("RUST_LOG", "debug")
        .stderr(Stdio::piped());
    let mut mock = RunningServer::spawn_logging(command);
    let mut stderr = mock.child.stderr.take().expect("piped");
    let not_json = || exchange(&mock, "POST /api HTTP/1.1", "not json");
    // 2,000 lines are past a pipe's 64 KiB.
    for _ in 0..2000 {
        not_json();
    }
    let read = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let read = Arc::clone(&read);
        std::thread::spawn(move || {
            let mut chunk = [0; 8192];
            while let Ok(length @ 1..) = stderr.read(&mut chunk) {
                read.lock().unwrap().extend_from_slice(&chunk[..length]);
            }
        })
    };
    // The count is written before the first line stderr takes again.
    let counted = || String::from_utf8_lossy(&read.lock().unwrap()).contains("left_out=");
    for _ in 0..200 {
        if counted() {
            break;
        }
        not_json();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(mock.interrupt().success());
    reader.join().unwrap();
    let log = String::from_utf8_lossy(&read.lock().unwrap()).into_owned();
    let lines = log.lines().count();
    assert!(
        log.contains("log lines left out: stderr was not taking them left_out="),
        "{lines} lines, none counting those left out"
    );
}

/// A stderr pipe full before the mock starts (a harness that never drains it ran
/// servers on it before) holds up neither the mock's serving nor SIGTERM stopping it:
/// the line saying where it serves is left out, as log lines are.
#[cfg(target_os = "linux")]
#[test]
fn a_stderr_full_from_the_start_holds_up_nothing() {
    use std::io::Write;
    use std::os::fd::AsRawFd;

    let (_reader, mut writer) = std::io::pipe().unwrap();
    let fd = writer.as_raw_fd();
    let set_nonblocking = |on: bool| {
        // SAFETY: `fd` is the open pipe `writer` holds; F_GETFL/F_SETFL take no pointer.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        let flags = if on {
            flags | libc::O_NONBLOCK
        } else {
            flags & !libc::O_NONBLOCK
        };
        // SAFETY: as above.
        assert_eq!(unsafe { libc::fcntl(fd, libc::F_SETFL, flags) }, 0);
    };
    set_nonblocking(true);
    while writer.write(&[b'x'; 4096]).is_ok() {}
    // The mock's writes to it would block, as on a pipe nobody reads.
    set_nonblocking(false);

    let mut command = telepact_command();
    command
        .arg("mock")
        .args([
            "--dir",
            path_text(&greeter_dir("mock-full-stderr")),
            "--port",
            "0",
        ])
        .stderr(writer);
    let mut mock = RunningServer::spawn_logging(command);
    let (head, body) = exchange(&mock, "POST /api HTTP/1.1", r#"[{}, {"fn.ping_": {}}]"#);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, r#"[{},{"Ok_":{}}]"#);
    let pid = mock.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let ended = Instant::now();
    while mock.child.try_wait().unwrap().is_none() {
        assert!(
            ended.elapsed() < Duration::from_secs(10),
            "SIGTERM did not stop it"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(mock.child.wait().unwrap().success());
}
