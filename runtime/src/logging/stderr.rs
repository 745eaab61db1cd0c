//! A service's log on stderr, as a person or a log collector reads it.

use std::fmt;
use std::str::FromStr;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::util::TryInitError;

/// How [`init_stderr`] writes each event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// A line of text, coloured when stderr is a terminal.
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
/// credential). Fails when a subscriber is installed already.
///
/// ```no_run
/// use telepact::logging::{LogFormat, init_stderr};
/// use tracing_subscriber::filter::LevelFilter;
///
/// init_stderr(LevelFilter::INFO, LogFormat::Json).expect("the first subscriber");
/// tracing::info!(port = 8002, "serving");
/// // {"timestamp":"…","level":"INFO","fields":{"message":"serving","port":8002},"target":"…"}
/// ```
pub fn init_stderr(default: LevelFilter, format: LogFormat) -> Result<(), TryInitError> {
    use tracing_subscriber::util::SubscriberInitExt as _;

    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(super::env_filter(default));
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .finish()
            .try_init(),
        LogFormat::Json => builder.json().finish().try_init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
