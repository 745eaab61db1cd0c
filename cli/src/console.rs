//! What the commands print. A reader that goes away (`telepact compare | head -1`) ends
//! the output quietly, as in other command line tools; a stdout that cannot be written
//! otherwise (a full disk) is a failure; a stderr that cannot be written is ignored,
//! since nothing is left to tell.

use std::io::{self, Write};

use crate::error::CliError;

/// Writes `text` to stdout as it is.
pub(crate) fn print(text: &str) -> Result<(), CliError> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => Err(CliError::Write {
            path: "<stdout>".into(),
            source: error,
        }),
        _ => Ok(()),
    }
}

/// Writes `line` and a newline to stdout.
pub(crate) fn print_line(line: &str) -> Result<(), CliError> {
    print(&format!("{line}\n"))
}

/// Writes `line` and a newline to stderr, if it can (an error or a warning: a stderr
/// nobody reads must not end the command).
pub(crate) fn print_error_line(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// Writes `line` and a newline to stderr if it takes them now, and leaves them out
/// otherwise: a line a server writes once it catches Ctrl-C, on a pipe nobody drains,
/// would hold it for ever, neither serving nor stopping. Lines longer than a pipe's
/// atomic write (4 KiB) may still wait for room.
pub(crate) fn print_error_line_unless_full(line: &str) {
    if stderr_takes_a_line() {
        print_error_line(line);
    }
}

/// Whether stderr takes a line without waiting: a pipe with room for an atomic write
/// (4 KiB); a file or terminal always.
#[cfg(unix)]
fn stderr_takes_a_line() -> bool {
    let mut stderr = libc::pollfd {
        fd: libc::STDERR_FILENO,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one `pollfd`, alive for the call; a timeout of 0 returns at once.
    let ready = unsafe { libc::poll(&raw mut stderr, 1, 0) };
    ready == 1 && stderr.revents & libc::POLLOUT != 0
}

#[cfg(not(unix))]
fn stderr_takes_a_line() -> bool {
    true
}
