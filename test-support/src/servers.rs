//! Throwaway `redis-server` and `nats-server` children on free loopback ports, stopped
//! when dropped.
//!
//! A port found free may be taken by another test before the child binds it: the child
//! then exits, while the port answers for someone else's server, and two tests would
//! share (and kill) one server. So a start asks whoever answers on the port who it is
//! (Redis: its process id; NATS: the unique name the child was given) and tries another
//! port when it is not the child.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::{nats_server, redis_server};

/// Ports tried before a start gives up.
const ATTEMPTS: usize = 5;
/// How long a child may take to listen.
const LISTEN_WAIT: Duration = Duration::from_secs(10);
/// How long the server on the port may take to say who it is.
const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// A `redis-server` child on a loopback port.
#[derive(Debug)]
pub struct RedisServer {
    server: ServerChild,
}

impl RedisServer {
    /// Starts one that keeps nothing on disk, or returns `None` after a
    /// [`skip`](crate::skip) when `redis-server` is missing.
    ///
    /// # Panics
    ///
    /// Where it would skip, under `TELEPACT_REQUIRE_ALL=1` (see [`skip`](crate::skip));
    /// and when `redis-server` is installed but does not start.
    pub fn start() -> Option<RedisServer> {
        Self::launch(&["--save", "", "--appendonly", "no"])
    }

    /// Starts one as [`start`](Self::start) does that also takes `DEBUG` commands from
    /// loopback (Redis 7 refuses them by default): `DEBUG SLEEP` stalls it, for tests of
    /// a store that stops answering.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start) panics.
    pub fn start_debuggable() -> Option<RedisServer> {
        Self::launch(&[
            "--save",
            "",
            "--appendonly",
            "no",
            "--enable-debug-command",
            "local",
        ])
    }

    /// Starts one that appends every write to a file in `dir` and syncs it before
    /// answering, so a [`restart`](Self::restart) loses nothing it acknowledged.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start) panics.
    pub fn start_persistent(dir: &Path) -> Option<RedisServer> {
        let dir = dir.to_string_lossy();
        Self::launch(&[
            "--dir",
            &dir,
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ])
    }

    fn launch(storage: &[&str]) -> Option<RedisServer> {
        let program = redis_server()?;
        let args = |port: u16| {
            let mut args = vec![
                "--port".to_string(),
                port.to_string(),
                "--bind".to_string(),
                "127.0.0.1".to_string(),
            ];
            args.extend(storage.iter().map(|arg| arg.to_string()));
            args
        };
        let server = ServerChild::start(Kind::Redis, program, args);
        Some(RedisServer { server })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// `redis://127.0.0.1:{port}/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.server.port)
    }

    /// Kills the server at once (SIGKILL: no chance to save on the way out).
    pub fn kill(&mut self) {
        self.server.kill();
    }

    /// Starts it again on the same port with the same files.
    ///
    /// # Panics
    ///
    /// When the new server does not listen on the port within 10 s.
    pub fn restart(&mut self) {
        self.server.restart();
    }
}

/// A `nats-server` child on a loopback port.
#[derive(Debug)]
pub struct NatsServer {
    server: ServerChild,
    /// The unique name it answers with.
    name: String,
}

impl NatsServer {
    /// Starts one, or returns `None` after a [`skip`](crate::skip) when `nats-server`
    /// is missing.
    ///
    /// # Panics
    ///
    /// Where it would skip, under `TELEPACT_REQUIRE_ALL=1` (see [`skip`](crate::skip));
    /// and when `nats-server` is installed but does not start.
    pub fn start() -> Option<NatsServer> {
        Self::start_with(&[])
    }

    /// Like [`start`](Self::start), the server taking only clients that connect as
    /// `user` with `password`.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    pub fn start_requiring(user: &str, password: &str) -> Option<NatsServer> {
        Self::start_with(&["--user", user, "--pass", password])
    }

    fn start_with(extra: &[&str]) -> Option<NatsServer> {
        let program = nats_server()?;
        let name = unique_name();
        let args = |port: u16| {
            let port = port.to_string();
            let common = ["-a", "127.0.0.1", "-p", &port, "-n", &name];
            common
                .iter()
                .chain(extra)
                .map(|arg| arg.to_string())
                .collect()
        };
        let kind = Kind::Nats { name: name.clone() };
        let server = ServerChild::start(kind, program, args);
        Some(NatsServer { server, name })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// `nats://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.server.port)
    }

    /// Kills the server at once.
    pub fn kill(&mut self) {
        self.server.kill();
    }

    /// Kills it and starts another on the same port.
    ///
    /// # Panics
    ///
    /// When the new server does not listen on the port within 10 s.
    pub fn restart(&mut self) {
        self.server.restart();
    }

    /// Like [`restart`](Self::restart), the new server taking messages of at most
    /// `bytes` (its `max_payload`, 1 MiB by default): what clients meet when they
    /// reconnect to a server configured otherwise. A later `restart` has the default.
    ///
    /// # Panics
    ///
    /// When its configuration file cannot be written, or as [`restart`](Self::restart)
    /// panics.
    pub fn restart_with_max_payload(&mut self, bytes: usize) {
        // The option has no flag. The server reads its file once, at start.
        let config = std::env::temp_dir().join(format!("{}.conf", self.name));
        if let Err(error) = std::fs::write(&config, format!("max_payload: {bytes}\n")) {
            panic!("cannot write {}: {error}", config.display());
        }
        let args = &mut self.server.args;
        let default_args = args.len();
        args.extend(["-c".to_string(), config.to_string_lossy().into_owned()]);
        self.server.restart();
        self.server.args.truncate(default_args);
        let _ = std::fs::remove_file(&config);
    }
}

/// Which server, and how it says who it is.
#[derive(Debug, Clone)]
enum Kind {
    /// Tells its process id.
    Redis,
    /// Tells the name it was started with.
    Nats { name: String },
}

/// The child, and how to start it again on its port.
#[derive(Debug)]
struct ServerChild {
    kind: Kind,
    child: Option<Child>,
    program: PathBuf,
    args: Vec<String>,
    port: u16,
}

impl ServerChild {
    /// Starts `program` with `args(port)` on free ports until the server answering on
    /// one is the child.
    ///
    /// # Panics
    ///
    /// When no attempt works. The program is installed, so this is no missing
    /// prerequisite to skip: a test passing in silence would hide, say, an option the
    /// installed server refuses.
    fn start(kind: Kind, program: PathBuf, args: impl Fn(u16) -> Vec<String>) -> Self {
        let mut why = String::new();
        for _ in 0..ATTEMPTS {
            let port = match free_port() {
                Ok(port) => port,
                Err(error) => {
                    why = format!("no free loopback port: {error}");
                    continue;
                }
            };
            let mut server = ServerChild {
                kind: kind.clone(),
                child: None,
                program: program.clone(),
                args: args(port),
                port,
            };
            match server.spawn_and_identify() {
                Ok(()) => return server,
                Err(error) => why = error,
            }
        }
        panic!(
            "{} did not start in {ATTEMPTS} attempts: {why}",
            program.display()
        );
    }

    /// Spawns the child and waits until the server on its port is the child.
    fn spawn_and_identify(&mut self) -> Result<(), String> {
        let name = self.kind.program_name();
        let child = Command::new(&self.program)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("{name} did not run: {error}"))?;
        let pid = child.id();
        self.child = Some(child);
        let outcome = self.wait_for_self(pid);
        if outcome.is_err() {
            self.kill();
        }
        outcome
    }

    fn wait_for_self(&mut self, pid: u32) -> Result<(), String> {
        let name = self.kind.program_name();
        let port = self.port;
        let deadline = Instant::now() + LISTEN_WAIT;
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(format!(
                    "{name} exited ({status}) instead of listening on port {port}"
                ));
            }
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
                return match self.kind.is_child(stream, pid) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(format!("port {port} answers for another {name}")),
                    Err(error) => Err(format!(
                        "{name} on port {port} did not say who it is: {error}"
                    )),
                };
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{name} did not listen on port {port} within {LISTEN_WAIT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn restart(&mut self) {
        self.kill();
        if let Err(why) = self.spawn_and_identify() {
            panic!("restarting on the same port: {why}");
        }
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Kind {
    fn program_name(&self) -> &'static str {
        match self {
            Kind::Redis => "redis-server",
            Kind::Nats { .. } => "nats-server",
        }
    }

    /// Whether the server behind `stream` is the child `pid`.
    fn is_child(&self, mut stream: TcpStream, pid: u32) -> std::io::Result<bool> {
        stream.set_read_timeout(Some(ANSWER_WAIT))?;
        match self {
            // `INFO` answers while an append-only file is still loading.
            Kind::Redis => {
                stream.write_all(b"INFO server\r\n")?;
                let info = read_bulk_string(&mut BufReader::new(stream))?;
                Ok(info
                    .lines()
                    .any(|line| line.trim_end() == format!("process_id:{pid}")))
            }
            // A NATS server greets each connection with an `INFO {json}` line that
            // holds its name.
            Kind::Nats { name } => {
                let mut greeting = String::new();
                BufReader::new(stream).read_line(&mut greeting)?;
                Ok(greeting.contains(&format!("\"server_name\":\"{name}\"")))
            }
        }
    }
}

/// Reads one RESP bulk string (`$<length>\r\n<bytes>\r\n`).
fn read_bulk_string(reader: &mut impl BufRead) -> std::io::Result<String> {
    let mut header = String::new();
    reader.read_line(&mut header)?;
    let length: usize = header
        .trim_end()
        .strip_prefix('$')
        .and_then(|length| length.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not a bulk string: {header:?}"),
            )
        })?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// A server name no other test's server has.
fn unique_name() -> String {
    static STARTED: AtomicU32 = AtomicU32::new(0);
    format!(
        "telepact-test-{}-{}",
        std::process::id(),
        STARTED.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second child on a port another server holds: the start fails (the child exits,
    /// or the server answering is the other one) rather than passing off the other
    /// server as the child.
    fn assert_port_not_taken(kind: Kind, program: PathBuf, args: Vec<String>, port: u16) {
        let mut second = ServerChild {
            kind,
            child: None,
            program,
            args,
            port,
        };
        let error = second
            .spawn_and_identify()
            .expect_err("another server's port is not the child's");
        assert!(
            error.contains("answers for another") || error.contains("instead of listening"),
            "{error}"
        );
    }

    #[test]
    fn a_redis_port_held_by_another_server_is_refused() {
        let Some(first) = RedisServer::start() else {
            return;
        };
        let program = first.server.program.clone();
        let args = first.server.args.clone();
        assert_port_not_taken(Kind::Redis, program, args, first.port());
        assert!(TcpStream::connect(("127.0.0.1", first.port())).is_ok());
    }

    #[test]
    fn a_nats_port_held_by_another_server_is_refused() {
        let Some(first) = NatsServer::start() else {
            return;
        };
        let program = first.server.program.clone();
        let mut args = first.server.args.clone();
        // The second child's own name, as a real start would give it.
        let name = unique_name();
        if let Some(last) = args.last_mut() {
            *last = name.clone();
        }
        assert_port_not_taken(Kind::Nats { name }, program, args, first.port());
        assert!(TcpStream::connect(("127.0.0.1", first.port())).is_ok());
    }

    /// A server that is installed but does not start fails its test, rather than
    /// skipping it as if it were missing: a test passing in silence would hide it.
    #[test]
    fn an_installed_server_that_does_not_start_fails_rather_than_skips() {
        let Some(shell) = crate::program("sh") else {
            return;
        };
        let started = std::panic::catch_unwind(|| {
            ServerChild::start(Kind::Redis, shell, |_| vec!["-c".into(), "exit 1".into()])
        });
        let error = started.expect_err("a start that never works panics");
        let said = error.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(said.contains("did not start in 5 attempts"), "{said}");
        assert!(said.contains("instead of listening"), "{said}");
    }

    #[test]
    fn servers_restart_on_their_port() {
        let Some(mut nats) = NatsServer::start() else {
            return;
        };
        let port = nats.port();
        nats.restart();
        assert_eq!(nats.port(), port);
        let Some(mut redis) = RedisServer::start() else {
            return;
        };
        let port = redis.port();
        redis.kill();
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
        redis.restart();
        assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    }
}
