//! The service as a user runs it: one command, the embedded SQLite store, demo users.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::time::Duration;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_serves_the_demo_users_from_sqlite() {
    let dir = std::env::temp_dir().join(format!("auth-example-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("credentials.sqlite3");
    let mut child = Command::new(env!("CARGO_BIN_EXE_telepact-auth-example"))
        .args(["--port", "0", "--db"])
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("piped");
    let running = Running(child);
    let (lines, ready) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let line = ready.recv_timeout(Duration::from_secs(60)).expect("READY");
    let port: u16 = line
        .strip_prefix("READY ")
        .and_then(|p| p.parse().ok())
        .expect("a port");

    // carol:carol-globex, the demo password from the README.
    let answer = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/telepact"))
        .header("authorization", "Basic Y2Fyb2w6Y2Fyb2wtZ2xvYmV4")
        .body(r#"[{}, {"fn.me": {}}]"#)
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("a body");
    let message: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(message[1]["Ok_"]["userId"], "u-carol", "{answer}");
    assert!(db.exists(), "the store file is created");
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}
