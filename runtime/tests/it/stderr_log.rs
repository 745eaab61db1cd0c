//! `telepact::logging::StderrLog` never keeps a thread waiting on stderr: a log pipe
//! nobody drains (a stalled log shipper, a harness reading only stdout) fills after
//! 64 KiB, and a thread that then logs must go on, or a service whose worker threads all
//! log stops answering.
#![cfg(all(unix, feature = "log-stderr"))]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the environment of the child that [`a_log_pipe_nobody_drains_holds_up_no_thread`]
/// starts: this test binary again, running only [`log_a_megabyte`].
const CHILD: &str = "TELEPACT_STDERR_LOG_CHILD";

/// Installs the log and writes a megabyte of lines to it, then says so on stdout. Does
/// nothing unless run as the child (its log is the process's, installed once).
#[test]
fn log_a_megabyte() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    telepact::logging::StderrLog::new(tracing::level_filters::LevelFilter::INFO)
        .init()
        .expect("the child's first subscriber");
    let padding = "x".repeat(200);
    for line in 0..5_000 {
        tracing::warn!(line, padding, "a line nobody reads");
    }
    println!("logged every line");
}

#[test]
fn a_log_pipe_nobody_drains_holds_up_no_thread() {
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", "stderr_log::log_a_megabyte", "--nocapture"])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the child starts");
    // Held and never read, as a stalled collector's pipe.
    let _stderr = child.stderr.take();
    let deadline = Instant::now() + Duration::from_secs(20);
    let ended = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut said = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut said);
    }
    assert!(
        ended.is_some_and(|status| status.success()) && said.contains("logged every line"),
        "the child was held up writing its log: {ended:?}, {said:?}"
    );
}
