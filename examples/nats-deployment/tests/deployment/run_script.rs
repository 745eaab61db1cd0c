//! `run.sh`, as the README runs it: the deployment on loopback, or one `error:` line and
//! a failing status when a part of it does not start. Its `cargo build` is a stub here
//! (the binary under test is already built) and it is stopped with the test (SIGTERM, on
//! which it stops its parts, then SIGKILL).

#![cfg(target_os = "linux")]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use telepact_test_support::lines_of;

/// How long the script may take to start, or to fail.
const WITHIN: Duration = Duration::from_secs(20);

/// `run.sh` in a process group of its own (its parts each in another), ended (SIGTERM,
/// then SIGKILL) when dropped.
struct Script {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Script {
    /// Runs `run.sh 1` with `path` first on `PATH` (a `cargo` stub, perhaps a
    /// `nats-server` one) and `ports` as `NATS_PORT` and `HTTP_PORT`.
    fn start(path: &Path, ports: (u16, u16)) -> Script {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("run.sh");
        let system_path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![path.to_path_buf()];
        paths.extend(std::env::split_paths(&system_path));
        let mut child = Command::new("bash")
            .arg(script)
            .arg("1")
            .env("PATH", std::env::join_paths(paths).expect("a PATH"))
            .env("CARGO_TARGET_DIR", path.join("target"))
            .env("NATS_PORT", ports.0.to_string())
            .env("HTTP_PORT", ports.1.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("bash runs");
        let stdout = lines_of(child.stdout.take().expect("piped"));
        let stderr = lines_of(child.stderr.take().expect("piped"));
        Script {
            child,
            stdout,
            stderr,
        }
    }

    /// How it exited, within [`WITHIN`], and its stderr.
    fn ended(&mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + WITHIN;
        let mut lines = Vec::new();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                // The rest of its stderr, to the end (its parts wrote there too).
                let rest = std::iter::from_fn(|| self.stderr.recv_timeout(WITHIN).ok());
                lines.extend(rest);
                return (status, lines);
            }
            lines.extend(self.stderr.try_iter());
            assert!(Instant::now() < deadline, "still running: {lines:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends the group `signal`, as Ctrl-C does to a terminal's foreground group.
    fn signal(&self, signal: &str) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args([signal, "--", &group])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        // The parts run in process groups of their own: the script stops them on
        // SIGTERM, given the time to, before its group is killed.
        self.signal("-TERM");
        let deadline = Instant::now() + WITHIN;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal("-KILL");
        let _ = self.child.wait();
    }
}

/// A folder for `PATH` holding a `cargo` stub that builds nothing and, under
/// `target/debug`, the deployment's binary; and `nats-server` running `nats` when given.
fn stubs(name: &str, nats: Option<&str>) -> PathBuf {
    let dir = telepact_test_support::scratch_dir(env!("CARGO_TARGET_TMPDIR"), name);
    write_program(&dir.join("cargo"), "exit 0");
    if let Some(nats) = nats {
        write_program(&dir.join("nats-server"), nats);
    }
    let debug = dir.join("target/debug");
    std::fs::create_dir_all(&debug).expect("a target folder");
    let binary = env!("CARGO_BIN_EXE_telepact-nats-deployment");
    std::os::unix::fs::symlink(binary, debug.join("telepact-nats-deployment")).expect("linked");
    dir
}

fn write_program(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("written");
    let executable = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(path, executable).expect("made executable");
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    listener.local_addr().expect("an address").port()
}

/// A `nats-server` that exits at once (a port it cannot bind, a bad option) stops the
/// script with an error, rather than leaving workers and a gateway waiting on no NATS.
#[test]
fn run_sh_fails_when_its_nats_server_does_not_start() {
    let path = stubs("run-sh-nats-exits", Some("exit 1"));
    let mut script = Script::start(&path, (free_port(), free_port()));
    let (status, stderr) = script.ended();
    assert_eq!(status.code(), Some(1), "{stderr:?}");
    let said = "error: nats-server exited before listening on port";
    assert!(
        stderr.iter().any(|line| line.starts_with(said)),
        "{stderr:?}"
    );
}

/// A port another server holds is refused: the script would take that server for its
/// own `nats-server`, and its workers would join another deployment's NATS.
#[test]
fn run_sh_refuses_a_nats_port_in_use() {
    let path = stubs("run-sh-nats-port-taken", Some("exec sleep 60"));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let port = taken.local_addr().expect("an address").port();
    let mut script = Script::start(&path, (port, free_port()));
    let (status, stderr) = script.ended();
    assert_eq!(status.code(), Some(1), "{stderr:?}");
    let said = format!("error: port {port} is in use (set NATS_PORT to another)");
    assert_eq!(stderr, [said]);
}

/// With a real `nats-server`, the script serves the board as the README shows, and
/// Ctrl-C (SIGINT to the terminal's foreground group) stops it all, its parts in order.
#[test]
fn run_sh_serves_the_board_until_interrupted() {
    if telepact_test_support::nats_server().is_none() {
        return;
    }
    let path = stubs("run-sh-serves", None);
    let http_port = free_port();
    let script = Script::start(&path, (free_port(), http_port));
    // The workers' and the gateway's `READY` lines come first.
    let expected = format!("gateway on http://127.0.0.1:{http_port}/api/telepact");
    let started = std::iter::from_fn(|| script.stdout.recv_timeout(WITHIN).ok())
        .take(4)
        .find(|line| line.starts_with(&expected));
    assert!(
        started.is_some(),
        "{:?}",
        script.stderr.try_iter().collect::<Vec<_>>()
    );
    // The worker may subscribe a moment after the gateway listens: till then, 503.
    let ping = r#"[{}, {"fn.ping_": {}}]"#;
    let deadline = Instant::now() + Duration::from_secs(5);
    let (head, body) = loop {
        let answer = telepact_test_support::http_exchange(http_port, "POST", "/api/telepact", ping);
        if !answer.0.starts_with("HTTP/1.1 503") || Instant::now() > deadline {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, r#"[{},{"Ok_":{}}]"#);
    let mut script = script;
    script.signal("-INT");
    let (status, stderr) = script.ended();
    assert_eq!(status.code(), Some(130), "{stderr:?}");
    assert!(
        !stderr.iter().any(|line| line.starts_with("error:")),
        "{stderr:?}"
    );
    // Ctrl-C reaches the script alone, which stops each part with one signal, the
    // gateway and the workers before nats-server: none is cut short by a second signal
    // while it drains, nor held to the drain deadline with its NATS gone.
    let cut = ["a second signal", "drain deadline"];
    let cut_short = stderr
        .iter()
        .find(|line| cut.iter().any(|cut| line.contains(cut)));
    assert!(cut_short.is_none(), "{stderr:?}");
}

/// A part that fails once the deployment is up (here its `nats-server`, after a
/// second) stops the rest, with an error line and status 1.
#[test]
fn run_sh_stops_when_a_part_fails() {
    let Some(nats_server) = telepact_test_support::nats_server() else {
        return;
    };
    let failing = format!(
        "\"{}\" \"$@\" >/dev/null 2>&1 & sleep 1; kill -9 $!; exit 3",
        nats_server.display()
    );
    let path = stubs("run-sh-part-fails", Some(&failing));
    let mut script = Script::start(&path, (free_port(), free_port()));
    let (status, stderr) = script.ended();
    assert_eq!(status.code(), Some(1), "{stderr:?}");
    let said = "error: a process of the deployment failed (status 3); the others are stopped";
    assert!(stderr.iter().any(|line| line == said), "{stderr:?}");
}

/// SIGTERM to the script alone (a supervisor stopping it) stops the deployment at once:
/// the gateway and the workers before their `nats-server`, where stopping them all
/// together held each worker to its 10 s drain deadline.
#[test]
fn run_sh_stops_its_parts_promptly_on_sigterm() {
    if telepact_test_support::nats_server().is_none() {
        return;
    }
    let path = stubs("run-sh-sigterm", None);
    let http_port = free_port();
    let mut script = Script::start(&path, (free_port(), http_port));
    let expected = format!("gateway on http://127.0.0.1:{http_port}/api/telepact");
    let started = std::iter::from_fn(|| script.stdout.recv_timeout(WITHIN).ok())
        .take(4)
        .find(|line| line.starts_with(&expected));
    assert!(started.is_some(), "the deployment starts");
    let sent = Instant::now();
    let pid = script.child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let (status, stderr) = script.ended();
    let took = sent.elapsed();
    assert_eq!(status.code(), Some(143), "{stderr:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}: {stderr:?}");
    let held = stderr.iter().find(|line| line.contains("drain deadline"));
    assert!(held.is_none(), "{stderr:?}");
}
