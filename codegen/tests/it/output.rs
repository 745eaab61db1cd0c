//! `write_if_changed`: a failed write leaves the old file whole, and a path that is not a
//! regular file is written, never read.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use telepact_codegen::{Error, write_if_changed};

fn scratch_dir(name: &str) -> PathBuf {
    telepact_test_support::scratch_dir(env!("CARGO_TARGET_TMPDIR"), name)
}

/// The names of the entries of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_write_replaces_the_content_and_leaves_no_temporary_file() {
    let dir = scratch_dir("output_replace");
    let path = dir.join("api.rs");
    write_if_changed(&path, "old").unwrap();
    write_if_changed(&path, "new content").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new content");
    write_if_changed(&path, "new").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    assert_eq!(entries(&dir), ["api.rs"]);
}

#[cfg(unix)]
#[test]
fn a_replaced_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch_dir("output_permissions");
    let path = dir.join("api.rs");
    write_if_changed(&path, "old").unwrap();
    let new_file_mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_ne!(
        new_file_mode & 0o044,
        0,
        "a new file is readable by others, as fs::write makes it"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    write_if_changed(&path, "new").unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

#[test]
fn a_path_under_a_regular_file_fails_and_leaves_the_file_untouched() {
    let dir = scratch_dir("output_not_a_directory");
    let file = dir.join("api.rs");
    std::fs::write(&file, "old").unwrap();
    let error = write_if_changed(&file.join("part.rs"), "new").unwrap_err();
    assert!(matches!(error, Error::Io { .. }), "{error}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "old");
    assert_eq!(entries(&dir), ["api.rs"]);
}

/// Set in the child process of the file-size-limit test: the file it writes.
const LIMITED_WRITE: &str = "TELEPACT_CODEGEN_LIMITED_WRITE";

/// Run by the test below in a child process limited to 4 KiB files (`ulimit -f`, with
/// `SIGXFSZ` ignored so the write fails instead): writes 64 KiB over its file. Does
/// nothing in an ordinary test run.
#[test]
fn write_under_a_file_size_limit() {
    if let Some(path) = std::env::var_os(LIMITED_WRITE) {
        let error = write_if_changed(Path::new(&path), &"x".repeat(64 * 1024)).unwrap_err();
        assert!(matches!(error, Error::Io { .. }), "{error}");
    }
}

#[cfg(unix)]
#[test]
fn a_write_that_fails_part_way_leaves_the_old_file_whole() {
    let dir = scratch_dir("output_size_limit");
    let path = dir.join("api.rs");
    let old = "old line\n".repeat(1_000);
    std::fs::write(&path, &old).unwrap();
    // The child's output is piped: the limit would also stop its writes to a log file
    // longer than the limit, which the parent's output may be.
    let child = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"trap "" XFSZ; ulimit -f 8 && exec "$0" "$@""#)
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "output::write_under_a_file_size_limit",
            "--test-threads=1",
        ])
        .env(LIMITED_WRITE, &path)
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "the limited write failed with an error: {}\n{}{}",
        child.status,
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), old);
    assert_eq!(entries(&dir), ["api.rs"], "the temporary file is removed");
}

#[cfg(unix)]
#[test]
fn a_fifo_is_written_without_being_read_first() {
    let dir = scratch_dir("output_fifo");
    let fifo = dir.join("out");
    match std::process::Command::new("mkfifo").arg(&fifo).status() {
        Ok(status) if status.success() => {}
        other => {
            println!("skipped: mkfifo is not available ({other:?})");
            return;
        }
    }
    let (sent, received) = mpsc::channel();
    let reader = fifo.clone();
    std::thread::spawn(move || sent.send(std::fs::read_to_string(reader).unwrap()));
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || done.send(write_if_changed(&fifo, "generated code").is_ok()));
    // The old code read the FIFO first and blocked for ever: the threads then stay
    // blocked, and the test fails here rather than hang.
    let wait = Duration::from_secs(20);
    assert_eq!(finished.recv_timeout(wait), Ok(true), "the write finished");
    assert_eq!(received.recv_timeout(wait).as_deref(), Ok("generated code"));
}
