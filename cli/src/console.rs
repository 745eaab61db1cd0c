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
