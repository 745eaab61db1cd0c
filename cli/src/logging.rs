//! The log of the servers this tool runs (`mock`, `demo-server`): the runtime's
//! warnings and errors on stderr, such as why an auth hook refused a call or the cause
//! behind an `ErrorUnknown_`'s case id. `RUST_LOG` sets what is shown (`warn` when it
//! is unset). The other commands keep stderr to their one error line.

use telepact::logging::{LogFormat, StderrLog};
use tracing_subscriber::filter::LevelFilter;

/// Sends log events to stderr, filtered by `RUST_LOG` (with the dependencies that log
/// whole messages at `trace`, WebSocket frames among them, held at `debug` unless
/// named), by the runtime's own log. Logging is an aid, not the command's work: if a
/// logger were set already, the command runs on without this one.
///
/// No line waits for stderr: a harness that reads only stdout for `READY` and leaves
/// stderr undrained, or a stderr whose reader has gone, never holds up a call. A line
/// stderr cannot take at once is left out, not queued, and the next line it takes is
/// preceded by one giving how many were (`left_out`).
///
/// With [`LogFormat::Json`] each event is one JSON object a line, for a log collector.
pub(crate) fn to_stderr(format: LogFormat) {
    let _ = StderrLog::new(LevelFilter::WARN).format(format).init();
}

/// Says what is served where: a line of text on stderr (left out when stderr does not
/// take it at once, as log lines are), or, when the log is JSON, an `info` event, so
/// that stderr holds nothing but JSON lines.
pub(crate) fn announce(line: &str, format: LogFormat) {
    match format {
        LogFormat::Json => tracing::info!("{line}"),
        // Written once Ctrl-C is caught: a stderr that does not take it must not hold
        // the server up.
        _ => telepact::logging::eprintln_unless_full(line),
    }
}
