//! A throwaway `redis-server` on a free loopback port, stopped when dropped.

// Each test binary that includes this file uses a part of it.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct RedisServer {
    child: Option<Child>,
    program: PathBuf,
    args: Vec<String>,
    pub port: u16,
}

impl RedisServer {
    /// Starts one that keeps nothing on disk, or returns `None` after a skip (a failure
    /// under `TELEPACT_REQUIRE_ALL=1`) when `redis-server` is missing or does not start.
    pub(crate) fn start() -> Option<RedisServer> {
        Self::launch(&["--save", "", "--appendonly", "no"])
    }

    /// Starts one that appends every write to a file in `dir` and syncs it before
    /// answering, so a [`RedisServer::restart`] loses nothing it acknowledged.
    pub(crate) fn start_persistent(dir: &Path) -> Option<RedisServer> {
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
        let program = telepact_test_support::redis_server()?;
        let port = free_port();
        let mut args = vec![
            "--port".to_string(),
            port.to_string(),
            "--bind".to_string(),
            "127.0.0.1".to_string(),
        ];
        args.extend(storage.iter().map(|arg| arg.to_string()));
        let mut server = RedisServer {
            child: None,
            program,
            args,
            port,
        };
        if let Err(why) = server.spawn_and_wait() {
            telepact_test_support::skip(&why);
            return None;
        }
        Some(server)
    }

    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let child = Command::new(&self.program)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("redis-server did not run: {error}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() > deadline {
                return Err(format!("redis-server did not start on port {}", self.port));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Kills the server at once (SIGKILL: no chance to save on the way out).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same files; panics if it does not
    /// listen within 10 s.
    pub(crate) fn restart(&mut self) {
        self.kill();
        if let Err(why) = self.spawn_and_wait() {
            panic!("{why}");
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or(6399)
}
