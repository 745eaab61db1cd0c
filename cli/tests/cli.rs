//! The `telepact` binary, run as a user runs it: exit codes, stdout and stderr.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use telepact::{Client, FunctionRouter, Headers, Message, Server};
use telepact_schema::{Schema, pseudo_json_text};
use telepact_test_support::{conformance_dir, record_vectors};

const BAKERY_API: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../api");

/// The environment variables `telepact mock` reads, as the reference CLI does.
const MOCK_VARIABLES: [&str; 9] = [
    "TELEPACT_HTTP_URL",
    "TELEPACT_DIRECTORY",
    "MOCK_SERVER_PORT",
    "MOCK_SERVER_PATH",
    "GENERATED_COLLECTION_LENGTH_MIN",
    "GENERATED_COLLECTION_LENGTH_MAX",
    "DISABLE_OPTIONAL_FIELD_GENERATION",
    "DISABLE_MESSAGE_RESPONSE_GENERATION",
    "DISABLE_RANDOMIZE_OPTIONAL_FIELD_GENERATION",
];

/// `telepact` with an environment that leaves only the arguments to decide.
fn telepact_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_telepact"));
    command.env_remove("RUST_BACKTRACE");
    for variable in MOCK_VARIABLES {
        command.env_remove(variable);
    }
    command
}

fn telepact(args: &[&str]) -> Output {
    telepact_command()
        .args(args)
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

/// How long a server may take to say READY.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// A loopback port nothing listens on (as of the call).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// An empty scratch folder named `name`.
fn scratch_dir(name: &str) -> PathBuf {
    telepact_test_support::scratch_dir(env!("CARGO_TARGET_TMPDIR"), format!("cli/{name}"))
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// A `telepact` server (`mock`, `demo-server`) running until stopped (or dropped).
struct RunningServer {
    child: Child,
    port: u16,
}

impl RunningServer {
    /// Runs `command` and waits for its READY line.
    fn spawn(mut command: Command) -> RunningServer {
        command.stderr(Stdio::null());
        Self::spawn_logging(command)
    }

    /// Runs `command`, its stderr as the caller set it, and waits for its READY line.
    fn spawn_logging(command: Command) -> RunningServer {
        Self::spawn_within(command, READY_WITHIN)
    }

    /// Runs `command` and waits `within` for its READY line: a server that hangs before
    /// it fails the test rather than holding it.
    fn spawn_within(mut command: Command, within: Duration) -> RunningServer {
        let child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        // Held before the READY line is read, so that a server that never says it is
        // killed when the test fails rather than left running.
        let mut server = RunningServer { child, port: 0 };
        let stdout = server.child.stdout.take().expect("piped");
        let (sent, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sent.send(line);
        });
        let line = received
            .recv_timeout(within)
            .unwrap_or_else(|_| panic!("no READY line within {within:?}"));
        server.port = line
            .strip_prefix("READY ")
            .and_then(|port| port.trim().parse().ok())
            .unwrap_or_else(|| panic!("not a READY line: {line:?}"));
        server
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

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server that says something other than `READY` fails its test and is not left
/// running after it.
#[cfg(target_os = "linux")]
#[test]
fn a_server_that_never_says_ready_is_not_left_running() {
    let pid_file = scratch_dir("never-ready").join("pid");
    let mut command = Command::new("sh");
    let script = r#"echo $$ > "$0"; echo starting; exec sleep 60"#;
    command.args(["-c", script]).arg(&pid_file);
    let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        RunningServer::spawn(command)
    }));
    assert!(started.is_err(), "`starting` is not a READY line");
    let pid = std::fs::read_to_string(&pid_file).expect("the shell wrote its pid");
    let process = Path::new("/proc").join(pid.trim());
    assert!(!process.exists(), "{} still runs", pid.trim());
}

/// A server that hangs before saying `READY` fails its test in time, and is not left
/// running after it.
#[cfg(target_os = "linux")]
#[test]
fn a_server_that_hangs_before_ready_fails_in_time() {
    let pid_file = scratch_dir("hangs-before-ready").join("pid");
    let mut command = Command::new("sh");
    command
        .args(["-c", r#"echo $$ > "$0"; exec sleep 60"#])
        .arg(&pid_file);
    let began = Instant::now();
    let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        RunningServer::spawn_within(command, Duration::from_millis(500))
    }));
    assert!(started.is_err(), "no READY line came");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    let pid = std::fs::read_to_string(&pid_file).expect("the shell wrote its pid");
    let process = Path::new("/proc").join(pid.trim());
    assert!(!process.exists(), "{} still runs", pid.trim());
}

/// The body of the answer to `[headers, body]`.
async fn call_with(client: &Client, headers: Value, body: Value) -> Value {
    let (Value::Object(headers), Value::Object(body)) = (headers, body) else {
        panic!("headers and body are objects")
    };
    let request = Message::from_body(Headers::from(headers), body);
    Value::Object(client.request(request).await.unwrap().into_body())
}

#[path = "cli/codegen.rs"]
mod codegen;
#[path = "cli/compare.rs"]
mod compare;
#[path = "cli/demo.rs"]
mod demo;
#[path = "cli/fetch.rs"]
mod fetch;
#[path = "cli/mock.rs"]
mod mock;
#[path = "cli/monitoring.rs"]
mod monitoring;
#[path = "cli/serve_flags.rs"]
mod serve_flags;
