//! The values the flags take, written as an operator writes them: sizes with a unit
//! (`512KiB`, `1MiB`), durations with one (`500ms`, `30s`, `2m`), connection counts or
//! `none`. Each is shown in `--help` as it is written, and reads back as the same value.

use std::fmt;
use std::time::Duration;

/// A size flag's value, a number of bytes as `bytesize` reads it: digits, then `B` (or
/// nothing), `KiB`, `MiB`, `GiB`, or the decimal `kB`, `MB`, `GB`; at least one byte.
/// Shown (in `--help`'s default) in the largest binary unit that gives it exactly.
///
/// ```
/// # #[derive(clap::Parser)]
/// # struct Args {
/// #[arg(long, value_parser = telepact::flags::ByteSize::parse,
///       default_value_t = telepact::flags::ByteSize(64 << 20))]
/// memory_limit: telepact::flags::ByteSize,
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub usize);

/// The binary units a size is shown in, largest first.
const BINARY_UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];

impl ByteSize {
    /// Reads `text` as a size.
    ///
    /// # Errors
    ///
    /// A line saying what a size looks like, when `text` is none or is 0 bytes.
    pub fn parse(text: &str) -> Result<ByteSize, String> {
        // `bytesize`'s own message quotes a cut-off unit: say what is accepted instead.
        let size: bytesize::ByteSize = text.trim().parse().map_err(|_| {
            "not a size: give a number and B, KiB, MiB or GiB (or kB, MB, GB), such as 512KiB"
                .to_string()
        })?;
        // `bytesize` reads a size past 64 bits as the largest: a few digits too many
        // would be taken for no limit at all.
        let bytes = Some(size.as_u64())
            .filter(|&bytes| bytes < u64::MAX)
            .and_then(|bytes| usize::try_from(bytes).ok())
            .ok_or_else(|| "more bytes than this machine can count".to_string())?;
        if bytes == 0 {
            return Err("0 bytes leaves room for nothing: give at least 1".to_string());
        }
        Ok(ByteSize(bytes))
    }
}

/// Exact, unlike `bytesize`'s rounded display: `--help` shows the default as it reads.
impl fmt::Display for ByteSize {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = u64::try_from(self.0).unwrap_or(u64::MAX);
        match BINARY_UNITS
            .iter()
            .find(|&&(_, scale)| bytes >= scale && bytes.is_multiple_of(scale))
        {
            Some((unit, scale)) => write!(formatter, "{}{unit}", bytes / scale),
            None => write!(formatter, "{bytes}B"),
        }
    }
}

/// A duration flag's value, as `humantime` reads it: `500ms`, `30s`, `2m`, `1h 30m`...;
/// more than none. A number alone is refused: its unit would be a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpan(pub Duration);

impl TimeSpan {
    /// Reads `text` as a duration.
    ///
    /// # Errors
    ///
    /// `humantime`'s reason, when `text` is no duration, or a line when it is 0.
    pub fn parse(text: &str) -> Result<TimeSpan, String> {
        let span = humantime::parse_duration(text.trim()).map_err(|error| error.to_string())?;
        if span.is_zero() {
            return Err("a wait of 0 would end at once: give more than 0".to_string());
        }
        Ok(TimeSpan(span))
    }
}

impl fmt::Display for TimeSpan {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", humantime::format_duration(self.0))
    }
}

/// How many connections: a count of at least one, or `none` for no bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ConnectionLimit(pub(super) Option<usize>);

impl ConnectionLimit {
    pub(super) fn parse(text: &str) -> Result<ConnectionLimit, String> {
        if text.trim().eq_ignore_ascii_case("none") {
            return Ok(ConnectionLimit(None));
        }
        let count: usize = text
            .trim()
            .parse()
            .map_err(|_| "give a number of connections, or `none` for no bound".to_string())?;
        if count == 0 {
            return Err(
                "0 would refuse every connection: give at least 1, or `none` for no bound"
                    .to_string(),
            );
        }
        Ok(ConnectionLimit(Some(count)))
    }
}

impl fmt::Display for ConnectionLimit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(count) => write!(formatter, "{count}"),
            None => formatter.write_str("none"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{ByteSize, ConnectionLimit, TimeSpan};

    #[test]
    fn sizes_read_with_their_units() {
        let read = |text| ByteSize::parse(text).map(|size| size.0);
        assert_eq!(read("1MiB"), Ok(1 << 20));
        assert_eq!(read("512 KiB"), Ok(512 << 10));
        assert_eq!(read("2gib"), Ok(2 << 30));
        assert_eq!(read("10MB"), Ok(10_000_000));
        assert_eq!(read("1kB"), Ok(1_000));
        assert_eq!(read("4096"), Ok(4096));
        assert_eq!(read("100B"), Ok(100));
        for refused in ["", "MiB", "1 mebibyte", "-1", "0", "0MiB"] {
            assert!(read(refused).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn durations_read_with_their_units() {
        let read = |text| TimeSpan::parse(text).map(|span| span.0);
        assert_eq!(read("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(read("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(read("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(read("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(read("1.5s"), Ok(Duration::from_millis(1500)));
        for refused in ["", "s", "30", "0s", "1d2", "-1s"] {
            assert!(read(refused).is_err(), "{refused:?}");
        }
        assert!(read(&format!("{}h", u64::MAX)).is_err());
    }

    #[test]
    fn connection_limits_are_counts_or_none() {
        let read = |text| ConnectionLimit::parse(text).map(|limit| limit.0);
        assert_eq!(read("256"), Ok(Some(256)));
        assert_eq!(read("none"), Ok(None));
        assert!(read("0").is_err());
        assert!(read("many").is_err());
    }

    /// `--help` shows a default as it is written, and clap reads that text back.
    #[test]
    fn what_is_shown_reads_back_as_the_same_value() {
        for bytes in [1, 100, 1000, 1024, 1 << 20, 3 << 30, (1 << 20) + 1] {
            let shown = ByteSize(bytes).to_string();
            assert_eq!(ByteSize::parse(&shown), Ok(ByteSize(bytes)), "{shown}");
        }
        assert_eq!(ByteSize(1 << 20).to_string(), "1MiB");
        for span in [
            Duration::from_millis(1),
            Duration::from_millis(1500),
            Duration::from_secs(30),
            Duration::from_secs(75),
            Duration::from_secs(120),
            Duration::from_secs(7200),
        ] {
            let shown = TimeSpan(span).to_string();
            assert_eq!(TimeSpan::parse(&shown), Ok(TimeSpan(span)), "{shown}");
        }
        assert_eq!(TimeSpan(Duration::from_secs(75)).to_string(), "1m 15s");
        for limit in [Some(1), Some(256), None] {
            let shown = ConnectionLimit(limit).to_string();
            assert_eq!(ConnectionLimit::parse(&shown), Ok(ConnectionLimit(limit)));
        }
    }
}
