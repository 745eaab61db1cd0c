//! The log of the servers this tool runs (`mock`, `demo-server`): the runtime's
//! warnings and errors on stderr, such as why an auth hook refused a call or the cause
//! behind an `ErrorUnknown_`'s case id. `RUST_LOG` sets what is shown (`warn` when it
//! is unset). The other commands keep stderr to their one error line.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// Sends log events to stderr, filtered by `RUST_LOG` (with the dependencies that log
/// whole messages at `trace`, WebSocket frames among them, held at `debug` unless
/// named). Logging is an aid, not the command's work: if a logger were set already, the
/// command runs on without this one.
pub(crate) fn to_stderr() {
    let spec = std::env::var("RUST_LOG").unwrap_or_default();
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::WARN.into())
        .parse_lossy(&spec);
    let filter = telepact::logging::held_at_debug(&spec)
        .filter_map(|directive| directive.parse().ok())
        .fold(filter, EnvFilter::add_directive);
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(crate::colour_on_stderr())
        .with_env_filter(filter)
        .try_init();
}
