//! The log of the servers this tool runs (`mock`, `demo-server`): the runtime's
//! warnings and errors on stderr, such as why an auth hook refused a call or the cause
//! behind an `ErrorUnknown_`'s case id. `RUST_LOG` sets what is shown (`warn` when it
//! is unset). The other commands keep stderr to their one error line.

use telepact::logging::LogFormat;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::filter::LevelFilter;

/// Sends log events to stderr, filtered by `RUST_LOG` (with the dependencies that log
/// whole messages at `trace`, WebSocket frames among them, held at `debug` unless
/// named). Logging is an aid, not the command's work: if a logger were set already, the
/// command runs on without this one.
///
/// Lines are written by a thread of their own, and dropped while it is behind: a
/// harness that reads only stdout for `READY` and leaves stderr undrained, or a stderr
/// whose reader has gone, never holds up a call. The guard, kept while the server runs,
/// writes what is queued when it is dropped (waiting a second at most).
///
/// With [`LogFormat::Json`] each event is one JSON object a line, for a log collector.
pub(crate) fn to_stderr(format: LogFormat) -> Option<WorkerGuard> {
    let filter = telepact::logging::env_filter(LevelFilter::WARN);
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .thread_name("telepact-log")
        .finish(std::io::stderr());
    let events = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_env_filter(filter);
    let installed = match format {
        LogFormat::Json => events.json().try_init(),
        _ => events
            .with_ansi(telepact::logging::colour_on_stderr())
            .try_init(),
    };
    installed.is_ok().then_some(guard)
}

/// Says what is served where: a line of text on stderr, or, when the log is JSON, an
/// `info` event, so that stderr holds nothing but JSON lines.
pub(crate) fn announce(line: &str, format: LogFormat) {
    match format {
        LogFormat::Json => tracing::info!("{line}"),
        _ => crate::console::print_error_line(line),
    }
}
