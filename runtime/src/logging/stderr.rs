//! A service's log on stderr, as a person or a log collector reads it.

use std::fmt;
use std::str::FromStr;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::util::TryInitError;

/// How [`init_stderr`] writes each event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// A line of text, coloured when stderr is a terminal and `NO_COLOR` is not set.
    #[default]
    Text,
    /// One JSON object a line (`timestamp`, `level`, `target`, `fields`, and the spans
    /// the event happened in), for a log collector.
    Json,
}

/// A log format's name that is neither `text` nor `json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log format `{0}`: expected `text` or `json`")]
pub struct UnknownLogFormat(pub String);

impl FromStr for LogFormat {
    type Err = UnknownLogFormat;

    /// `text` or `json`, in any case.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(UnknownLogFormat(name.to_string())),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// Installs the process's subscriber: events on stderr in `format`, filtered by
/// [`env_filter`](super::env_filter)`(default)` (so `RUST_LOG=trace` writes no
/// credential). Fails when a subscriber is installed already. [`StderrLog`] does the
/// same with more to choose.
///
/// ```no_run
/// use telepact::logging::{LevelFilter, LogFormat, init_stderr};
///
/// init_stderr(LevelFilter::INFO, LogFormat::Json).expect("the first subscriber");
/// tracing::info!(port = 8002, "serving");
/// // {"timestamp":"…","level":"INFO","fields":{"message":"serving","port":8002},"target":"…"}
/// ```
///
/// # Errors
///
/// As [`StderrLog::init`].
pub fn init_stderr(default: LevelFilter, format: LogFormat) -> Result<(), TryInitError> {
    StderrLog::new(default).format(format).init()
}

/// The target of the call spans, which [`StderrLog::calls`] lets through.
const CALL_SPAN_TARGET: &str = "telepact::server::call_span";

/// A service's log on stderr, to install once: its level, its format and whether each
/// call adds a line of its own (an access log).
///
/// No thread waits for stderr: a line it cannot take at once (a pipe nobody drains is
/// full) is left out, and the next line written is preceded by one saying how many were
/// (`left_out`). A blocking write would hold the async worker that logged until someone
/// read, and a service whose workers all logged would stop answering.
///
/// ```no_run
/// use telepact::logging::{LevelFilter, LogFormat, StderrLog};
///
/// StderrLog::new(LevelFilter::INFO)
///     .format(LogFormat::Json)
///     .calls(true)
///     .init()
///     .expect("the first subscriber");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StderrLog {
    default: LevelFilter,
    format: LogFormat,
    calls: bool,
}

impl StderrLog {
    /// Events at `default` and above (unless `RUST_LOG` says otherwise), as text, and
    /// no line per call.
    pub fn new(default: LevelFilter) -> Self {
        StderrLog {
            default,
            format: LogFormat::Text,
            calls: false,
        }
    }

    /// How each line is written.
    #[must_use]
    pub fn format(mut self, format: LogFormat) -> Self {
        self.format = format;
        self
    }

    /// Whether each call the server answers writes a line as it ends, whatever the
    /// level: its `telepact.call` span closing, with the function, `@id_`, result tag,
    /// encoding, `case_id`, client address and duration (never a credential or a
    /// body). One line a call: a busy server writes a lot.
    #[must_use]
    pub fn calls(mut self, calls: bool) -> Self {
        self.calls = calls;
        self
    }

    /// Installs it as the process's subscriber; fails when one is installed already.
    ///
    /// # Errors
    ///
    /// [`TryInitError`] when the process has a global subscriber already (or a `log`
    /// logger, where a crate of the build turns on `tracing-subscriber`'s `tracing-log`
    /// feature).
    pub fn init(self) -> Result<(), TryInitError> {
        use tracing_subscriber::fmt::format::FmtSpan;
        use tracing_subscriber::util::SubscriberInitExt as _;

        let mut filter = super::env_filter(self.default);
        let mut spans = FmtSpan::NONE;
        if self.calls {
            // A directive this crate writes, which always parses.
            if let Ok(directive) = format!("{CALL_SPAN_TARGET}=debug").parse() {
                filter = filter.add_directive(directive);
            }
            spans = FmtSpan::CLOSE;
        }
        let builder = tracing_subscriber::fmt()
            .with_writer(super::unblocking::log_stderr(self.format))
            .with_env_filter(filter)
            .with_span_events(spans);
        match self.format {
            LogFormat::Text => builder.with_ansi(colour_on_stderr()).finish().try_init(),
            LogFormat::Json => builder.json().finish().try_init(),
        }
    }
}

/// Whether what is written on stderr may be coloured: for a person at a terminal,
/// unless `NO_COLOR` is set and not empty (<https://no-color.org>).
pub fn colour_on_stderr() -> bool {
    colour(
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
        std::env::var_os("NO_COLOR"),
    )
}

/// Whether text lines are coloured: on a terminal, unless `NO_COLOR` is set and not
/// empty.
fn colour(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|set| set.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_coloured_on_a_terminal_unless_no_color_is_set() {
        let set = |value: &str| Some(std::ffi::OsString::from(value));
        assert!(colour(true, None));
        assert!(colour(true, set("")));
        assert!(!colour(true, set("1")));
        assert!(!colour(false, None));
    }

    #[test]
    fn formats_are_read_by_name_in_any_case_and_written_back() {
        assert_eq!("json".parse(), Ok(LogFormat::Json));
        assert_eq!("TEXT".parse(), Ok(LogFormat::Text));
        assert_eq!(
            "yaml".parse::<LogFormat>(),
            Err(UnknownLogFormat("yaml".into()))
        );
        for format in [LogFormat::Text, LogFormat::Json] {
            assert_eq!(format.to_string().parse(), Ok(format));
        }
    }
}
