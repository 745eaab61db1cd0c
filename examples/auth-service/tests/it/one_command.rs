//! The service as a user runs it: one command, the embedded SQLite store, demo users.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::time::Duration;

use telepact_test_support::assert_usage_error_line;

/// The binary, running with its own SQLite file; killed and cleaned up on drop.
pub(crate) struct Running {
    child: Child,
    dir: PathBuf,
    pub(crate) port: u16,
}

impl Running {
    /// Starts the binary with `args` and waits for its `READY <port>` line.
    pub(crate) fn start(name: &str, args: &[&str]) -> Running {
        let dir = std::env::temp_dir().join(format!("auth-example-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_telepact-auth-example"))
            .args(["--port", "0", "--db"])
            .arg(dir.join("credentials.sqlite3"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("piped");
        let (lines, ready) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut running = Running {
            child,
            dir,
            port: 0,
        };
        let line = ready.recv_timeout(Duration::from_secs(60)).expect("READY");
        running.port = line
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .expect("a port");
        running
    }

    /// POSTs `body` with the extra HTTP headers; returns the answer as JSON.
    pub(crate) async fn post(&self, headers: &[(&str, &str)], body: &str) -> serde_json::Value {
        let mut request = crate::support::plain_http_client()
            .post(format!("http://127.0.0.1:{}/api/telepact", self.port))
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = request
            .send()
            .await
            .expect("answered")
            .text()
            .await
            .expect("a body");
        serde_json::from_str(&answer).expect("JSON")
    }
}

impl Running {
    /// GETs `path`; returns the status and the body.
    async fn get(&self, path: &str) -> (u16, String) {
        let answer = crate::support::plain_http_client()
            .get(format!("http://127.0.0.1:{}{path}", self.port))
            .send()
            .await
            .expect("answered");
        let status = answer.status().as_u16();
        (status, answer.text().await.expect("a body"))
    }
}

impl Running {
    /// Sends SIGTERM, as a supervisor stopping it does; returns how it exited.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.expect("kill runs").success());
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "still running");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A service whose stdout nobody reads (its pipe closed before `READY`) serves all the
/// same, rather than ending at the line nobody reads.
#[tokio::test]
async fn the_binary_serves_with_its_stdout_closed() {
    let dir = std::env::temp_dir().join(format!("auth-example-unread-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        listener.local_addr().expect("an address").port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_telepact-auth-example"))
        .args(["--port", &port.to_string(), "--db"])
        .arg(dir.join("credentials.sqlite3"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    drop(child.stdout.take());
    let running = Running { child, dir, port };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let answered = loop {
        let health = crate::support::plain_http_client()
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await;
        if let Ok(health) = health {
            break health.status().as_u16();
        }
        assert!(std::time::Instant::now() < deadline, "never served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(answered, 200);
    assert_eq!(running.terminate().code(), Some(0));
}

// carol:carol-globex, the demo password from the README.
const CAROL: &str = "Basic Y2Fyb2w6Y2Fyb2wtZ2xvYmV4";

#[tokio::test]
async fn the_binary_serves_the_demo_users_from_sqlite() {
    let running = Running::start("bin", &[]);
    let message = running
        .post(&[("authorization", CAROL)], r#"[{}, {"fn.me": {}}]"#)
        .await;
    assert_eq!(message[1]["Ok_"]["userId"], "u-carol", "{message}");
    assert!(
        running.dir.join("credentials.sqlite3").exists(),
        "the store file is created"
    );
    let health = crate::support::plain_http_client()
        .get(format!("http://127.0.0.1:{}/healthz", running.port))
        .send()
        .await
        .expect("answered");
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.expect("a body"), "ok");
    assert_eq!(running.get("/readyz").await, (200, "ready".to_string()));
}

/// `/readyz` says whether the credential store answers; `/healthz` only that the
/// process serves.
#[tokio::test]
async fn readiness_follows_the_credential_store() {
    let Some(mut redis) = telepact_test_support::RedisServer::start() else {
        return;
    };
    let running = Running::start("ready", &["--redis", &redis.url()]);
    assert_eq!(running.get("/readyz").await, (200, "ready".to_string()));
    redis.kill();
    let gone = running.get("/readyz").await;
    assert_eq!(gone, (503, "credential store unavailable".to_string()));
    assert_eq!(running.get("/healthz").await.0, 200);
    redis.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while running.get("/readyz").await.0 != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "ready again once Redis is back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn trusted_proxies_name_the_client_the_login_limits_count() {
    // Loopback is a trusted network here, so X-Forwarded-For names the client.
    let running = Running::start(
        "proxy",
        &[
            "--trusted-proxy",
            "10.9.9.9",
            "--trusted-proxy",
            "127.0.0.0/8",
        ],
    );
    let me = r#"[{}, {"fn.me": {}}]"#;
    // The per-address limit is 20 failed logins in the window; each guess names
    // another account, so no account limit is reached.
    for n in 0..20 {
        let guess = format!("Basic {}", base64_pair(&format!("guess{n}"), "wrong"));
        let answer = running
            .post(
                &[
                    ("authorization", &guess),
                    ("x-forwarded-for", "203.0.113.7"),
                ],
                me,
            )
            .await;
        assert!(answer[1].get("ErrorUnauthenticated_").is_some(), "{answer}");
    }
    let locked = running
        .post(
            &[("authorization", CAROL), ("x-forwarded-for", "203.0.113.7")],
            me,
        )
        .await;
    assert!(
        locked[1].get("ErrorUnauthenticated_").is_some(),
        "the forwarded client is locked: {locked}"
    );
    let other = running
        .post(
            &[
                ("authorization", CAROL),
                ("x-forwarded-for", "198.51.100.1"),
            ],
            me,
        )
        .await;
    assert_eq!(other[1]["Ok_"]["userId"], "u-carol", "{other}");
}

#[test]
fn a_trusted_proxy_that_is_no_address_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_telepact-auth-example"))
        .args(["--trusted-proxy", "10.0.0.0/99"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`10.0.0.0/99` is neither an IP address nor a network like 10.0.0.0/8"),
        "{stderr}"
    );
}

/// A users file or database that cannot be opened is named in the one error line,
/// whatever `RUST_LOG` hides.
#[test]
fn a_users_file_or_database_that_cannot_be_opened_is_named() {
    let cases = [
        (
            ["--users", "/nonexistent/users.json"],
            "error: cannot read /nonexistent/users.json: ",
        ),
        (
            ["--db", "/nonexistent/dir/x.sqlite3"],
            "/nonexistent/dir/x.sqlite3: ",
        ),
        (["--db", "/tmp"], "/tmp is a directory, not a database file"),
    ];
    for (args, expected) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_telepact-auth-example"))
            .args(args)
            .env("RUST_LOG", "off")
            .output()
            .expect("the binary runs");
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// A users file that reads but is not one (hand-edited into garbage, an entry repeated)
/// is named in the one error line, with what is wrong in it.
#[test]
fn a_users_file_that_is_not_one_is_named_with_its_fault() {
    let dir = std::env::temp_dir().join(format!("auth-example-users-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("users.json");
    std::fs::write(&path, r#"[{"username": "dave"}]"#).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_telepact-auth-example"))
        .arg("--users")
        .arg(&path)
        .env("RUST_LOG", "off")
        .output()
        .expect("the binary runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "error: {} is not a users file: missing field",
        path.display()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
}

/// Runs `hash-password` with `stdin`.
fn hash_password(stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_telepact-auth-example"))
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().expect("piped");
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().expect("it ends")
}

/// An empty password (an empty line, or no input at all: a file or pipe that held
/// nothing) is refused: its hash would let anyone sign in who knows the username.
#[test]
fn hash_password_refuses_an_empty_password() {
    for stdin in ["", "\n", "\r\n"] {
        let output = hash_password(stdin);
        assert_eq!(output.status.code(), Some(1), "{stdin:?}");
        assert!(output.stdout.is_empty(), "{stdin:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("error: no password given"), "{stderr}");
    }
    let output = hash_password("secret\n");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("$argon2id$"));
}

/// A password past the longest a login checks is refused in words that say so, not as
/// a malformed `@auth_` credential.
#[test]
fn hash_password_names_a_password_too_long() {
    let long = "x".repeat(telepact_auth::MAX_PASSWORD_BYTES + 1);
    let output = hash_password(&format!("{long}\n"));
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "error: the password is longer than {} bytes",
        telepact_auth::MAX_PASSWORD_BYTES
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
}

fn base64_pair(username: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
}

#[tokio::test]
async fn a_body_past_the_body_limit_is_refused() {
    let running = Running::start("limit", &["--body-limit", "1KiB"]);
    let me = r#"[{}, {"fn.me": {}}]"#;
    let answer = running.post(&[("authorization", CAROL)], me).await;
    assert_eq!(answer[1]["Ok_"]["userId"], "u-carol", "{answer}");
    let padded = format!("{me}{}", " ".repeat(1024));
    let refused = crate::support::plain_http_client()
        .post(format!("http://127.0.0.1:{}/api/telepact", running.port))
        .header("authorization", CAROL)
        .body(padded)
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), 413);
}

#[tokio::test]
async fn tls_flags_serve_https() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("a certificate");
    let dir = telepact_test_support::scratch_dir(env!("CARGO_TARGET_TMPDIR"), "tls-flags");
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    let certificate = certified.cert.pem();
    std::fs::write(&cert_file, &certificate).expect("writes the certificate");
    std::fs::write(&key_file, certified.signing_key.serialize_pem()).expect("writes the key");
    let path = |file: &PathBuf| file.to_str().expect("UTF-8 path").to_string();
    let (cert_path, key_path) = (path(&cert_file), path(&key_file));
    let running = Running::start("tls", &["--tls-cert", &cert_path, "--tls-key", &key_path]);
    let tls = telepact::client::tls::config_trusting(certificate.as_bytes()).expect("usable");
    let https = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("client builds");
    let answer = https
        .post(format!("https://127.0.0.1:{}/api/telepact", running.port))
        .header("authorization", CAROL)
        .body(r#"[{}, {"fn.me": {}}]"#)
        .send()
        .await
        .expect("answered over HTTPS");
    let message: serde_json::Value =
        serde_json::from_str(&answer.text().await.expect("a body")).expect("JSON");
    assert_eq!(message[1]["Ok_"]["userId"], "u-carol", "{message}");
}

/// A value that does not read is one line naming the flag, with status 2.
#[test]
fn a_flag_value_that_does_not_read_is_one_line_and_status_2() {
    let cases: [(&[&str], &str); 3] = [
        (
            &["--body-limit", "1x"],
            "'--body-limit <SIZE>': not a size: give a number and B, KiB, MiB or GiB (or kB, MB, GB), such as 512KiB",
        ),
        (
            &["--header-timeout", "75"],
            "time unit needed, for example 75sec or 75ms",
        ),
        (&["--tls-key", "key.pem"], "not provided: --tls-cert <PATH>"),
    ];
    for (args, expected) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_telepact-auth-example"))
            .args(args)
            .output()
            .expect("the binary runs");
        assert_usage_error_line(&output, args, expected);
    }
}

#[test]
fn sigterm_shuts_down_cleanly_with_status_0() {
    let running = Running::start("sigterm", &[]);
    assert_eq!(running.terminate().code(), Some(0));
}
