//! Starts the bakery binary the way a user does and reads what it prints.

use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use telepact_bakery::api::{Auth, AuthPassword, RequestHeaders};

/// A running `telepact-bakery --port 0`, killed when dropped.
pub(crate) struct Bakery {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    pub port: u16,
}

impl Bakery {
    pub(crate) fn start() -> Bakery {
        Self::start_with_log_level("info")
    }

    /// Starts with `RUST_LOG` set to `level`.
    pub(crate) fn start_with_log_level(level: &str) -> Bakery {
        Self::start_with(level, &[])
    }

    /// Starts with `RUST_LOG` set to `level` and the extra command-line `args`.
    pub(crate) fn start_with(level: &str, args: &[&str]) -> Bakery {
        let mut child = Command::new(env!("CARGO_BIN_EXE_telepact-bakery"))
            // From `/`, with no schema file beside it: the binary carries its schema.
            .current_dir("/")
            .args(["--port", "0"])
            .args(args)
            .env("RUST_LOG", level)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the bakery binary starts");
        let receiver =
            telepact_test_support::lines_of(child.stdout.take().expect("stdout is piped"));
        let stderr = telepact_test_support::lines_of(child.stderr.take().expect("stderr is piped"));
        // Owned before READY is read: a bakery that never says it is killed on drop.
        let mut bakery = Bakery {
            child,
            stdout: receiver,
            stderr,
            port: 0,
        };
        let ready = bakery
            .stdout
            .recv_timeout(Duration::from_secs(30))
            .expect("the bakery prints READY");
        bakery.port = ready
            .strip_prefix("READY ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {ready:?}"));
        bakery
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/api/telepact", self.port)
    }

    /// Everything the bakery printed on stdout: stops it first (Ctrl-C) and reads to the
    /// end, so a line that is absent was never printed (rather than not printed yet).
    pub(crate) fn stdout_lines(&self) -> Vec<String> {
        self.stop();
        read_to_end(&self.stdout)
    }

    /// Everything the bakery printed on stderr (its logs), read the same way.
    pub(crate) fn stderr_lines(&self) -> Vec<String> {
        self.stop();
        read_to_end(&self.stderr)
    }

    /// Sends SIGINT; the bakery shuts down, closing its output. Harmless once it has.
    fn stop(&self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
    }

    /// Sends SIGINT (Ctrl-C) and waits for the process to exit.
    pub(crate) fn interrupt(mut self) -> std::process::ExitStatus {
        self.send_interrupt();
        self.exit_within(Duration::from_secs(10))
            .expect("the bakery shuts down")
    }

    /// Sends SIGINT (Ctrl-C) and goes on.
    pub(crate) fn send_interrupt(&self) {
        self.signal("-INT");
    }

    /// Sends SIGTERM, as a supervisor stopping it does, and waits for the process to exit.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        self.signal("-TERM");
        self.exit_within(Duration::from_secs(10))
            .expect("the bakery shuts down")
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([name, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// How the process exited, once it has within `time`; `None` if it still runs.
    pub(crate) fn exit_within(&mut self, time: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + time;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The lines up to the end of the output, which comes when the process exits.
fn read_to_end(lines: &Receiver<String>) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut read = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => read.push(line),
            Err(RecvTimeoutError::Disconnected) => return read,
            Err(RecvTimeoutError::Timeout) => panic!("the bakery's output did not end"),
        }
    }
}

impl Drop for Bakery {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 exchange on loopback; returns the status line and the body.
pub(crate) fn http_exchange(port: u16, method: &str, path: &str, body: &str) -> (String, String) {
    let (head, body) = telepact_test_support::http_exchange(port, method, path, body);
    (telepact_test_support::status_line(&head).to_string(), body)
}

/// Request headers signing in as `username` with `password`.
pub(crate) fn signed_in(username: &str, password: &str) -> RequestHeaders {
    RequestHeaders {
        auth: Some(Auth::Password(AuthPassword {
            username: username.into(),
            password: password.into(),
        })),
        ..RequestHeaders::default()
    }
}

/// The cargo running the tests, in the workspace's root.
pub(crate) fn workspace_cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// What `command` (a cargo command, described as `what`) writes to stdout; the test
/// fails with its stderr when it fails.
pub(crate) fn cargo_stdout(mut command: Command, what: &str) -> Vec<u8> {
    let output = command.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// What `cargo metadata --format-version 1` says of the workspace, with `args` added.
pub(crate) fn cargo_metadata(args: &[&str]) -> serde_json::Value {
    let mut command = workspace_cargo();
    command
        .args(["metadata", "--format-version", "1"])
        .args(args);
    let stdout = cargo_stdout(command, "cargo metadata");
    serde_json::from_slice(&stdout).expect("cargo metadata's JSON")
}
