//! The `telepact` binary, run as a user runs it: exit codes, stdout and stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use telepact::{FunctionRouter, Server};
use telepact_schema::{Schema, pseudo_json_text};

const BAKERY_API: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../api");

fn telepact(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_telepact"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A failure: exit status 2 and one `error: ...` message, no panic.
fn assert_fails_with(output: &Output, message_start: &str) {
    let stderr = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: {message_start}")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A fresh scratch folder named `name`.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// The conformance vectors' folder; `None` after a SKIP line when absent (a failure
/// under `TELEPACT_REQUIRE_ALL=1`).
fn conformance_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TELEPACT_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/telepact-conformance")
        });
    if dir.join("compare.json").is_file() {
        return Some(dir);
    }
    let message = format!("conformance vectors not found at {}", dir.display());
    assert!(
        std::env::var("TELEPACT_REQUIRE_ALL").as_deref() != Ok("1"),
        "{message}"
    );
    eprintln!("SKIP: {message}");
    None
}

mod compare {
    use super::*;

    fn write_schema(dir: &Path, definitions: &Value) {
        std::fs::create_dir_all(dir).unwrap();
        let text = pseudo_json_text(definitions);
        std::fs::write(dir.join("api.telepact.json"), text).unwrap();
    }

    #[test]
    fn every_compare_case_prints_its_lines_and_exit_code() {
        let Some(conformance) = conformance_dir() else {
            return;
        };
        let text = std::fs::read_to_string(conformance.join("compare.json")).unwrap();
        let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
        let mut failures = Vec::new();
        for case in &cases {
            let dir = scratch_dir(&format!("compare-{}", case["index"]));
            write_schema(&dir.join("old"), &case["old"]);
            write_schema(&dir.join("new"), &case["new"]);
            let output = telepact(&[
                "compare",
                "--old-schema-dir",
                path_text(&dir.join("old")),
                "--new-schema-dir",
                path_text(&dir.join("new")),
            ]);
            let lines: Vec<String> = stdout(&output)
                .lines()
                .map(|line| line.trim().to_string())
                .collect();
            let expected: Vec<String> = serde_json::from_value(case["output"].clone()).unwrap();
            let code = output.status.code().map(i64::from);
            if lines != expected || code != case["exit_code"].as_i64() {
                failures.push(format!("{}: {lines:?} {code:?}", case["name"]));
            }
        }
        assert_eq!(cases.len(), 19);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn an_unreadable_directory_is_one_error() {
        let missing = scratch_dir("compare-missing").join("nope");
        let output = telepact(&[
            "compare",
            "--old-schema-dir",
            path_text(&missing),
            "--new-schema-dir",
            BAKERY_API,
        ]);
        assert_fails_with(&output, &format!("cannot read {}", missing.display()));
        assert_eq!(stderr(&output).lines().count(), 1);
    }

    #[test]
    fn an_invalid_schema_is_reported_with_located_lines() {
        let dir = scratch_dir("compare-invalid");
        std::fs::write(dir.join("bad.telepact.yaml"), "- struct.X:\n    a: nope\n").unwrap();
        let output = telepact(&[
            "compare",
            "--old-schema-dir",
            path_text(&dir),
            "--new-schema-dir",
            BAKERY_API,
        ]);
        assert_fails_with(&output, "invalid Telepact schema:\n");
        let expected = format!(
            "{}:2:5: [0,\"struct.X\",\"a\"]: StringRegexMatchFailed",
            dir.join("bad.telepact.yaml").display()
        );
        assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
    }
}

mod codegen {
    use super::*;

    #[test]
    fn writes_rust_to_a_file_or_stdout() {
        let out = scratch_dir("codegen").join("api.rs");
        let to_file = telepact(&[
            "codegen",
            "--schema-dir",
            BAKERY_API,
            "--lang",
            "rust",
            "--out",
            path_text(&out),
        ]);
        assert!(to_file.status.success(), "{}", stderr(&to_file));
        let to_stdout = telepact(&["codegen", "--schema-dir", BAKERY_API, "--out", "-"]);
        assert!(to_stdout.status.success(), "{}", stderr(&to_stdout));
        let written = std::fs::read_to_string(&out).unwrap();
        assert_eq!(stdout(&to_stdout), written);
        assert!(written.starts_with("// @generated by telepact-codegen"));
        assert!(written.contains("pub trait Handler"));
    }

    #[test]
    fn the_old_generator_flags_still_apply() {
        let output = telepact(&[
            "codegen",
            "--schema-dir",
            BAKERY_API,
            "--out",
            "-",
            "--no-server",
            "--no-client",
            "--runtime-path",
            "crate::rt",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        let code = stdout(&output);
        assert!(!code.contains("pub trait Handler"));
        assert!(!code.contains("pub struct Client"));
        assert!(code.contains("crate::rt::"));
    }

    #[test]
    fn other_languages_are_refused() {
        let output = telepact(&[
            "codegen",
            "--schema-dir",
            BAKERY_API,
            "--lang",
            "go",
            "--out",
            "-",
        ]);
        assert_fails_with(&output, "--lang go is not supported");
        assert!(stdout(&output).is_empty());
    }
}

mod fetch {
    use super::*;

    /// Serves the bakery schema over HTTP (no handlers: only `fn.api_` matters) and
    /// returns its URL; the server lives as long as the runtime.
    fn serve_bakery(runtime: &tokio::runtime::Runtime) -> (String, Schema) {
        let schema = Schema::from_dir(BAKERY_API).unwrap();
        let server = Server::builder(schema.clone(), FunctionRouter::new())
            .on_auth(|_headers: telepact::Headers| async { Ok(telepact::Authenticated::default()) })
            .build()
            .unwrap();
        let router = telepact::http::router(server, &telepact::http::HttpOptions::default());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        runtime.spawn(telepact::http::serve(
            listener,
            router,
            std::future::pending(),
        ));
        let url = format!("http://127.0.0.1:{port}{}", telepact::http::DEFAULT_PATH);
        (url, schema)
    }

    #[test]
    fn fetch_writes_a_schema_that_loads_back_to_the_served_one() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (url, served) = serve_bakery(&runtime);
        let dir = scratch_dir("fetch").join("api");
        let output = telepact(&["fetch", "--http-url", &url, "--output-dir", path_text(&dir)]);
        assert!(output.status.success(), "{}", stderr(&output));
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["api.telepact.json"]);
        let fetched = Schema::from_dir(&dir).unwrap();
        assert_eq!(fetched.original, served.original);
        assert_eq!(fetched.full, served.full);
    }

    #[test]
    fn include_internal_keeps_the_standard_definitions() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (url, served) = serve_bakery(&runtime);
        let dir = scratch_dir("fetch-internal").join("api");
        let output = telepact(&[
            "fetch",
            "--http-url",
            &url,
            "--output-dir",
            path_text(&dir),
            "--include-internal",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        let text = std::fs::read_to_string(dir.join("api.telepact.json")).unwrap();
        let written: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(written, Value::Array(served.full.clone()));
        let fetched = Schema::from_dir(&dir).unwrap();
        assert_eq!(fetched.full, served.full);
    }

    #[test]
    fn codegen_reads_a_served_schema() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (url, _) = serve_bakery(&runtime);
        let output = telepact(&["codegen", "--schema-http-url", &url, "--out", "-"]);
        assert!(output.status.success(), "{}", stderr(&output));
        let from_dir = telepact(&["codegen", "--schema-dir", BAKERY_API, "--out", "-"]);
        let strip_header = |text: String| text.split_once('\n').map(|(_, rest)| rest.to_string());
        assert_eq!(
            strip_header(stdout(&output)),
            strip_header(stdout(&from_dir))
        );
    }

    #[test]
    fn an_unreachable_url_is_one_error() {
        // Bound, then dropped: nothing listens on this port any more.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/api");
        let dir = scratch_dir("fetch-unreachable").join("api");
        let output = telepact(&["fetch", "--http-url", &url, "--output-dir", path_text(&dir)]);
        assert_fails_with(&output, &format!("cannot fetch the schema from {url}: "));
        assert!(
            stderr(&output).contains("Connection refused"),
            "{}",
            stderr(&output)
        );
        assert!(!dir.exists());
    }
}

mod mock {
    use std::io::{BufRead, BufReader};
    use std::process::{Child, ExitStatus, Stdio};

    use futures_util::{SinkExt, StreamExt};
    use serde_json::json;
    use telepact::{Client, ClientOptions, Message};
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
    struct RunningMock {
        child: Child,
        port: u16,
    }

    impl RunningMock {
        fn start(dir: &Path, extra: &[&str]) -> RunningMock {
            Self::start_with(&["--dir", path_text(dir)], extra)
        }

        fn start_with(schema: &[&str], extra: &[&str]) -> RunningMock {
            let mut child = Command::new(env!("CARGO_BIN_EXE_telepact"))
                .arg("mock")
                .args(schema)
                .args(["--port", "0"])
                .args(extra)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("the binary runs");
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            let port = line
                .strip_prefix("READY ")
                .and_then(|port| port.trim().parse().ok())
                .unwrap_or_else(|| panic!("not a READY line: {line:?}"));
            RunningMock { child, port }
        }

        fn url(&self, scheme: &str) -> String {
            format!("{scheme}://127.0.0.1:{}/api", self.port)
        }

        /// Stops it as Ctrl-C does and returns how it exited.
        fn interrupt(mut self) -> ExitStatus {
            let pid = self.child.id().to_string();
            let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
            assert!(sent.success());
            self.child.wait().unwrap()
        }
    }

    impl Drop for RunningMock {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn stub_greeting() -> Value {
        json!({"fn.createStub_": {"stub": {"fn.greet": {"name": "ada"}, "->": {"Ok_": {"text": "hi ada"}}}}})
    }

    fn verify_one_greeting() -> Value {
        json!({"fn.verify_": {"call": {"fn.greet": {"name": "ada"}}, "count!": {"Exact": {"times": 1}}}})
    }

    async fn call(client: &Client, body: Value) -> Value {
        let Value::Object(body) = body else {
            panic!("a body is an object")
        };
        let request = Message {
            headers: telepact::Headers::new(),
            body,
            extensions: Default::default(),
        };
        Value::Object(client.request(request).await.unwrap().body)
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
        assert_eq!(fetched.original, Schema::from_dir(&dir).unwrap().original);
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
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
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
        assert_fails_with(&output, &format!("cannot listen on port {port}: "));
        assert!(stdout(&output).is_empty(), "no READY line");
    }

    #[test]
    fn an_invalid_schema_is_one_error() {
        let dir = greeter_dir("mock-invalid");
        std::fs::write(dir.join("greeter.telepact.yaml"), "- fn.greet: 3\n").unwrap();
        let output = telepact(&["mock", "--dir", path_text(&dir), "--port", "0"]);
        assert_fails_with(&output, "invalid Telepact schema:\n");
        assert!(
            stderr(&output).contains("greeter.telepact.yaml:1:"),
            "{}",
            stderr(&output)
        );
    }
}
