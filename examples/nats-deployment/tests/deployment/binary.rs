//! The deployment's binary as an operator runs it: a worker and a gateway on a real
//! `nats-server`, the gateway's HTTP listener set from its flags, and SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use telepact_test_support::{NatsServer, RedisServer, assert_usage_error_line};

const PING: &str = r#"[{}, {"fn.ping_": {}}]"#;

/// The binary, running until stopped (killed when dropped).
struct Running {
    child: Child,
    ready: String,
}

impl Running {
    /// Starts the binary with `args` and waits for its `READY` line.
    fn start(args: &[&str]) -> Running {
        let mut command = Command::new(env!("CARGO_BIN_EXE_telepact-nats-deployment"));
        command.args(args);
        Running::spawn(command, Duration::from_secs(30))
    }

    /// Runs `command` and waits `within` for its `READY` line.
    fn spawn(mut command: Command, within: Duration) -> Running {
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        // Held before the READY line is awaited, so that a process that never says it
        // is killed when the test fails rather than left running.
        let mut running = Running {
            child,
            ready: String::new(),
        };
        let stdout = running.child.stdout.take().expect("piped");
        let (lines, received) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let line = received.recv_timeout(within).expect("a READY line");
        running.ready = line.strip_prefix("READY ").expect("READY").to_string();
        running
    }

    /// Sends SIGTERM, as a supervisor stopping it does; returns how it exited.
    fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.expect("kill runs").success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                return status;
            }
            assert!(Instant::now() < deadline, "still running");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process that never says `READY` fails its test and is not left running after it.
#[cfg(target_os = "linux")]
#[test]
fn a_process_that_never_says_ready_is_not_left_running() {
    let dir = telepact_test_support::scratch_dir(env!("CARGO_TARGET_TMPDIR"), "never-ready");
    let pid_file = dir.join("pid");
    let mut command = Command::new("sh");
    command
        .args(["-c", r#"echo $$ > "$0"; exec sleep 60"#])
        .arg(&pid_file);
    let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Running::spawn(command, Duration::from_millis(500))
    }));
    assert!(started.is_err(), "no READY line came");
    let pid = std::fs::read_to_string(&pid_file).expect("the shell wrote its pid");
    let process = std::path::Path::new("/proc").join(pid.trim());
    assert!(!process.exists(), "{} still runs", pid.trim());
}

/// A self-signed certificate for 127.0.0.1 made now: its PEM, and the certificate and
/// key files.
fn certificate_files() -> (String, PathBuf, PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("a certificate");
    let dir = telepact_test_support::scratch_dir(env!("CARGO_TARGET_TMPDIR"), "gateway-tls");
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    let certificate = certified.cert.pem();
    std::fs::write(&cert_file, &certificate).expect("writes the certificate");
    std::fs::write(&key_file, certified.signing_key.serialize_pem()).expect("writes the key");
    (certificate, cert_file, key_file)
}

/// A bakery worker and a gateway started with a body limit and TLS: the gateway answers
/// over HTTPS and refuses a body past the limit; SIGTERM stops both with status 0.
#[tokio::test]
async fn the_gateway_serves_https_within_its_body_limit_and_both_stop_on_sigterm() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let nats_url = nats_server.url();
    let worker = Running::start(&["--nats", &nats_url, "worker", "--request-timeout", "5s"]);
    assert_eq!(worker.ready, "worker");
    let (certificate, cert_file, key_file) = certificate_files();
    let path = |file: &PathBuf| file.to_str().expect("UTF-8 path").to_string();
    let (cert_path, key_path) = (path(&cert_file), path(&key_file));
    let gateway_args = [
        "--nats",
        &nats_url,
        "gateway",
        "--port",
        "0",
        "--body-limit",
        "64B",
        "--tls-cert",
        &cert_path,
        "--tls-key",
        &key_path,
    ];
    let gateway = Running::start(&gateway_args);

    let tls = telepact::client::tls::config_trusting(certificate.as_bytes()).expect("usable");
    let https = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("client builds");
    let url = format!("https://127.0.0.1:{}/api/telepact", gateway.ready);
    let answer = https.post(&url).body(PING).send().await.expect("answered");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.expect("a body"), r#"[{},{"Ok_":{}}]"#);
    let padded = format!("{PING}{}", " ".repeat(64));
    let refused = https
        .post(&url)
        .body(padded)
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), 413);

    assert_eq!(gateway.terminate().code(), Some(0));
    assert_eq!(worker.terminate().code(), Some(0));
}

/// A worker still waiting for its NATS server (unreachable at start) stops on SIGTERM
/// with status 0, as the README says a worker stops, rather than being killed by it.
#[test]
fn a_worker_waiting_for_nats_stops_on_sigterm_with_status_0() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let port = unused.local_addr().expect("an address").port();
    drop(unused);
    let nats_url = format!("nats://127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_telepact-nats-deployment"))
        .args(["--nats", &nats_url, "worker"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut worker = Running {
        child,
        ready: String::new(),
    };
    let stderr = telepact_test_support::lines_of(worker.child.stderr.take().expect("piped"));
    // Its first failed attempt: it is past start-up, waiting for NATS.
    let attempt = std::iter::from_fn(|| stderr.recv_timeout(Duration::from_secs(30)).ok())
        .find(|line| line.contains("client error"));
    assert!(attempt.is_some(), "the worker tries to reach NATS");
    assert_eq!(worker.terminate().code(), Some(0));
}

/// A worker and a gateway whose stdout nobody reads (its pipe closed before `READY`)
/// serve all the same, rather than ending at the line nobody reads.
#[test]
fn a_worker_and_a_gateway_serve_with_their_stdout_closed() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let nats_url = nats_server.url();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        listener.local_addr().expect("an address").port()
    };
    let unread = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_telepact-nats-deployment"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        drop(child.stdout.take());
        Running {
            child,
            ready: String::new(),
        }
    };
    let _worker = unread(&["--nats", &nats_url, "worker"]);
    let _gateway = unread(&["--nats", &nats_url, "gateway", "--port", &port.to_string()]);
    let deadline = Instant::now() + Duration::from_secs(15);
    let answer = loop {
        let answered = std::net::TcpStream::connect(("127.0.0.1", port))
            .is_ok()
            .then(|| telepact_test_support::http_exchange(port, "POST", "/api/telepact", PING));
        match answered {
            Some((head, body)) if head.starts_with("HTTP/1.1 200") => break body,
            _ if Instant::now() > deadline => panic!("no answer on port {port}: {answered:?}"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    assert_eq!(answer, r#"[{},{"Ok_":{}}]"#);
}

/// A value that does not read is one line naming the flag, with status 2, before NATS
/// is connected to.
#[test]
fn a_gateway_flag_value_that_does_not_read_is_one_line_and_status_2() {
    let cases: [(&[&str], &str); 3] = [
        (
            &["--body-limit", "1x"],
            "'--body-limit <SIZE>': not a size: give a number and B, KiB, MiB or GiB (or kB, MB, GB), such as 512KiB",
        ),
        (
            &["--max-connections-per-address", "many"],
            "give a number of connections",
        ),
        (
            &["--tls-cert", "cert.pem"],
            "not provided: --tls-key <PATH>",
        ),
    ];
    for (args, expected) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_telepact-nats-deployment"))
            .arg("gateway")
            .args(args)
            .output()
            .expect("the binary runs");
        let line = assert_usage_error_line(&output, args, expected);
        let help = "(see `telepact-nats-deployment gateway --help`)";
        assert!(line.ends_with(help), "{line}");
    }
}

/// The gateway's wait for a reply and a worker's time limit for a call are durations
/// with their unit; a bare number is refused rather than read in a guessed unit.
#[test]
fn the_reply_timeout_and_the_request_timeout_take_a_unit() {
    let cases = [
        (["--timeout", "10", "gateway"], "'--timeout <DURATION>'"),
        (
            ["worker", "--request-timeout", "10"],
            "'--request-timeout <DURATION>'",
        ),
    ];
    for (args, flag) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_telepact-nats-deployment"))
            .args(args)
            .output()
            .expect("the binary runs");
        let expected = format!("for {flag}: time unit needed");
        assert_usage_error_line(&output, &args, &expected);
    }
}

/// Runs the binary with `args`, which it refuses before serving: its status (1)
/// checked, and its one line on stderr (its logs off: the line is written whatever they
/// are set to).
fn refused_in_one_line(args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_telepact-nats-deployment"))
        .args(["--nats", "nats://127.0.0.1:1"])
        .args(args)
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the binary ran on with {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut stderr)
        .expect("stderr reads");
    assert_eq!(status.code(), Some(1), "{stderr}");
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_string()
}

/// A gateway asked for an access log ends at once with one error line: it answers no
/// call itself, so it had none to log, and served on writing nothing the flag promised.
#[test]
fn a_gateway_refuses_the_access_log_it_cannot_write() {
    let line = refused_in_one_line(&["--access-log", "gateway", "--port", "0"]);
    assert!(line.starts_with("error: --access-log"), "{line}");
}

/// A bakery worker refuses the auth example's `--redis` and `--users` with one error
/// line, where it took them and used neither: the bakery keeps no credentials.
#[test]
fn a_bakery_worker_refuses_the_auth_examples_flags() {
    let cases = [
        ["--redis", "redis://127.0.0.1:1/"],
        ["--users", "users.json"],
    ];
    for [flag, value] in cases {
        let line = refused_in_one_line(&["--app", "bakery", "worker", flag, value]);
        let expected = format!("error: {flag} is for the auth example's workers (--app auth)");
        assert!(line.starts_with(&expected), "{line}");
    }
}

/// An auth worker whose `--redis` names a peer that is not Redis (here one answering
/// in HTTP) ends with one error line, where the `redis` crate's parse error spread it
/// over several.
#[test]
fn a_redis_url_naming_another_kind_of_server_is_one_error_line() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let port = listener.local_addr().expect("an address").port();
    listener.set_nonblocking(true).expect("nonblocking");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = std::sync::Arc::clone(&stop);
    let peer = std::thread::spawn(move || {
        while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut connection, _)) => {
                    let answer = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
                    let _ = std::io::Write::write_all(&mut connection, answer);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    let redis = format!("redis://127.0.0.1:{port}/");
    let line = refused_in_one_line(&["--app", "auth", "worker", "--redis", &redis]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    peer.join().expect("the peer's thread");
    assert!(
        line.starts_with("error: redis store could not connect"),
        "{line}"
    );
}

/// A sign-in as `username` with alice's password through the gateway on `port`: the
/// answer's head and body.
fn signs_in(port: &str, username: &str) -> (String, String) {
    let login = format!(
        r#"[{{"@auth_": {{"Password": {{"username": "{username}", "password": "wonderland"}}}}}},
            {{"fn.login": {{}}}}]"#
    );
    let port = port.parse().expect("a port");
    telepact_test_support::http_exchange(port, "POST", "/api/telepact", &login)
}

/// Whether `answer` (head and body) gave tokens.
fn signed_in((head, body): &(String, String)) -> bool {
    let answer: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let ok = &answer[1]["Ok_"];
    head.starts_with("HTTP/1.1 200")
        && ok["accessToken"].is_string()
        && ok["refreshToken"].is_string()
}

/// The auth example's deployment as `run.sh 1 auth` starts it, from the binary: a
/// worker, given `worker_flags` too, on a real `redis-server`, and a gateway, both
/// `--app auth`; `None` when a server is not installed.
fn start_auth_deployment(
    worker_flags: &[&str],
) -> Option<(Running, Running, NatsServer, RedisServer)> {
    let (nats_server, redis) = (NatsServer::start()?, RedisServer::start()?);
    let nats_url = nats_server.url();
    let redis_url = redis.url();
    let common = ["--nats", &nats_url, "--app", "auth"];
    let worker_args = ["worker", "--redis", &redis_url, "--trust-gateway-address"];
    let worker = Running::start(&[&common[..], &worker_args[..], worker_flags].concat());
    assert_eq!(worker.ready, "worker");
    let gateway_args = ["gateway", "--port", "0", "--forward-caller-address"];
    let gateway = Running::start(&[&common[..], &gateway_args[..]].concat());
    Some((gateway, worker, nats_server, redis))
}

/// A sign-in through the auth example's deployment, run from the binary, answers
/// tokens, and SIGTERM stops the gateway and the worker with status 0.
#[test]
fn the_auth_example_serves_a_sign_in_through_the_binary() {
    let Some((gateway, worker, _nats, _redis)) = start_auth_deployment(&[]) else {
        return;
    };
    let answer = signs_in(&gateway.ready, "alice");
    assert!(signed_in(&answer), "{answer:?}");
    assert_eq!(gateway.terminate().code(), Some(0));
    assert_eq!(worker.terminate().code(), Some(0));
}

/// An auth worker given `--users FILE` signs in that file's users, not the demo ones,
/// as the example's own server does, where the workers knew only the demo users.
#[test]
fn an_auth_worker_signs_in_the_users_of_its_users_file() {
    let dir = telepact_test_support::scratch_dir(env!("CARGO_TARGET_TMPDIR"), "worker-users");
    let users_file = dir.join("users.json");
    // Alice's entry under another name: her password signs in as `ops` alone.
    let demo: serde_json::Value =
        serde_json::from_str(include_str!("../../../auth-service/users.json")).expect("JSON");
    let mut ops = demo[0].clone();
    ops["username"] = "ops".into();
    std::fs::write(&users_file, serde_json::json!([ops]).to_string()).expect("written");
    let users_path = users_file.to_str().expect("UTF-8 path");
    let Some((gateway, _worker, _nats, _redis)) = start_auth_deployment(&["--users", users_path])
    else {
        return;
    };
    assert!(signed_in(&signs_in(&gateway.ready, "ops")));
    let demo_user = signs_in(&gateway.ready, "alice");
    assert!(!signed_in(&demo_user), "{demo_user:?}");
    assert!(
        demo_user.1.contains("ErrorUnauthenticated_"),
        "{demo_user:?}"
    );
}
