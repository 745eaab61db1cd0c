//! stderr written without waiting for it. A log pipe nobody drains (a stalled log
//! shipper, a harness reading only stdout) fills after 64 KiB; a blocking write then
//! holds the thread that logged, an async worker among them, until someone reads, and
//! a service whose workers all log stops answering (the auth example, with its access
//! log on, after about 300 calls).
//!
//! Each line is written at once when stderr can take it, in pieces no larger than a
//! pipe with any room takes whole, so that no write waits; a line it cannot take is
//! left out and counted, and the next line written is preceded by one giving the count.

use std::io::{self, Write};
use std::sync::{Mutex, OnceLock, PoisonError};

use tracing_subscriber::fmt::MakeWriter;

use super::stderr::LogFormat;

/// The most bytes written after one look at whether the output takes them: a pipe with
/// any room has room for this many (its atomic write size), a socket for far more.
#[cfg(target_os = "linux")]
const PIECE: usize = 4096;
#[cfg(not(target_os = "linux"))]
const PIECE: usize = 512;

/// An output, `T` (stderr; a pipe in tests), that lines are written to without waiting.
#[derive(Debug)]
pub(crate) struct Unblocking<T> {
    output: Mutex<Output<T>>,
    format: LogFormat,
}

#[derive(Debug)]
struct Output<T> {
    to: T,
    /// Lines left out since the last one written.
    left_out: u64,
    /// A line was cut short: its end is still to be written.
    cut: bool,
}

impl Unblocking<io::Stderr> {
    /// The process's stderr, the count of lines left out written in `format`.
    fn stderr(format: LogFormat) -> Self {
        Self::new(io::stderr(), format)
    }
}

/// The stderr of the log installed ([`log_stderr`]), which a program's own lines
/// ([`eprintln_unless_full`]) share: they then keep to its count of lines left out, and
/// follow the end of a line it had to cut, rather than run on from it.
static LOG_STDERR: OnceLock<Unblocking<io::Stderr>> = OnceLock::new();

/// The process's one log stderr, made in `format` by the first log installed.
pub(crate) fn log_stderr(format: LogFormat) -> LogStderr {
    LogStderr(LOG_STDERR.get_or_init(|| Unblocking::stderr(format)))
}

/// What a subscriber writes its lines to stderr through: the process's one [`LOG_STDERR`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogStderr(&'static Unblocking<io::Stderr>);

impl<'a> MakeWriter<'a> for LogStderr {
    type Writer = Line<'static, io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        Line(self.0)
    }
}

/// Writes `line` and a newline to stderr if stderr takes them now, as the log writes its
/// lines (and through the installed log's writer, when there is one), and leaves them out
/// otherwise: a program's own line beside its log (where it serves, say) must not hold
/// it on a pipe nobody drains any more than a log line may.
pub fn eprintln_unless_full(line: &str) {
    match LOG_STDERR.get() {
        Some(log) => own_line(log, line),
        None => own_line(&Unblocking::stderr(LogFormat::Text), line),
    }
}

/// Writes a program's own `line` (no newline of its own) to `output` as a log line is.
fn own_line<T: Takes + Write>(output: &Unblocking<T>, line: &str) {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    output.write_line(&bytes);
}

impl<T: Takes + Write> Unblocking<T> {
    pub(crate) fn new(to: T, format: LogFormat) -> Self {
        Unblocking {
            output: Mutex::new(Output {
                to,
                left_out: 0,
                cut: false,
            }),
            format,
        }
    }

    /// Writes `line` if the output takes it now, after the end of a line cut short and
    /// the count of lines left out; leaves it out otherwise.
    fn write_line(&self, line: &[u8]) {
        let mut output = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        let left_out = output.left_out;
        let caught_up = (!output.cut || output.send(b"\n"))
            && (left_out == 0 || output.send(&left_out_line(self.format, left_out)));
        if caught_up {
            output.left_out = 0;
            if output.send(line) {
                return;
            }
        }
        output.left_out = output.left_out.saturating_add(1);
    }
}

impl<T: Takes + Write> Output<T> {
    /// Writes `bytes` piece by piece while the output takes them; `false` when it stops
    /// taking them (what was written of them is then a line cut short).
    fn send(&mut self, bytes: &[u8]) -> bool {
        let mut rest = bytes;
        while !rest.is_empty() {
            let written = if self.to.takes_a_piece() {
                self.to.write(&rest[..rest.len().min(PIECE)])
            } else {
                Ok(0)
            };
            match written {
                Ok(0) => {
                    // Nothing of `bytes` written leaves a line cut before still cut (its
                    // end is what was being sent).
                    self.cut |= rest.len() < bytes.len();
                    return false;
                }
                Ok(written) => rest = &rest[written..],
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                // A reader gone: nothing written now will be read.
                Err(_) => return false,
            }
        }
        self.cut = false;
        true
    }
}

/// The line saying how many lines were left out, in the log's format.
fn left_out_line(format: LogFormat, left_out: u64) -> Vec<u8> {
    const MESSAGE: &str = "log lines left out: stderr was not taking them";
    let line = match format {
        // With a timestamp as every other line has, in the same form.
        LogFormat::Text => format!(
            "{}  WARN telepact::logging: {MESSAGE} left_out={left_out}\n",
            timestamp()
        ),
        LogFormat::Json => format!(
            "{{\"timestamp\":\"{}\",\"level\":\"WARN\",\"fields\":{{\"message\":\"{MESSAGE}\",\"left_out\":{left_out}}},\"target\":\"telepact::logging\"}}\n",
            timestamp()
        ),
    };
    line.into_bytes()
}

/// Now, as `tracing-subscriber` writes an event's time.
fn timestamp() -> String {
    use tracing_subscriber::fmt::time::FormatTime as _;
    let mut text = String::new();
    // Writing into a `String` fails only in the timer; a line without its time is
    // still the count.
    let _ = tracing_subscriber::fmt::time::SystemTime
        .format_time(&mut tracing_subscriber::fmt::format::Writer::new(&mut text));
    text
}

/// Whether an output takes a piece of [`PIECE`] bytes without waiting.
pub(crate) trait Takes {
    fn takes_a_piece(&self) -> bool;
}

#[cfg(unix)]
impl<T: std::os::fd::AsFd> Takes for T {
    fn takes_a_piece(&self) -> bool {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let mut polled = [PollFd::new(self, PollFlags::OUT)];
        let now = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        matches!(poll(&mut polled, Some(&now)), Ok(1))
            && polled[0].revents().contains(PollFlags::OUT)
    }
}

/// Without a way to ask, every write may wait.
#[cfg(not(unix))]
impl<T> Takes for T {
    fn takes_a_piece(&self) -> bool {
        true
    }
}

/// What the formatter writes one event's line through.
#[derive(Debug)]
pub(crate) struct Line<'a, T>(&'a Unblocking<T>);

impl<T: Takes + Write> Write for Line<'_, T> {
    /// Takes the whole line, written or left out: the formatter writes an event's line
    /// in one call.
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        self.0.write_line(line);
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a, T: Takes + Write + 'a> MakeWriter<'a> for Unblocking<T> {
    type Writer = Line<'a, T>;

    fn make_writer(&'a self) -> Self::Writer {
        Line(self)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Read;
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    /// A line of `length` bytes, newline included.
    fn line(mark: char, length: usize) -> Vec<u8> {
        let mut line = mark.to_string().repeat(length - 1).into_bytes();
        line.push(b'\n');
        line
    }

    /// Writes `lines` to `log` on a thread of its own; fails if that takes 10 s.
    fn written_in_time(log: &std::sync::Arc<Unblocking<io::PipeWriter>>, lines: Vec<Vec<u8>>) {
        let (done, finished) = mpsc::channel();
        let log = std::sync::Arc::clone(log);
        std::thread::spawn(move || {
            for line in lines {
                log.write_line(&line);
            }
            let _ = done.send(());
        });
        finished
            .recv_timeout(Duration::from_secs(10))
            .expect("no write waited for the reader");
    }

    /// What the pipe holds now, read in one go (a pipe's reader takes all of it).
    fn drain(reader: &mut io::PipeReader) -> String {
        let mut held = vec![0; 1 << 20];
        let read = reader.read(&mut held).expect("the pipe reads");
        String::from_utf8(held[..read].to_vec()).expect("text")
    }

    /// `text` with each text line's leading timestamp (`2026-…Z`) written `TIME`.
    fn timestamps_named(text: &str) -> String {
        let named = text.split('\n').map(|line| match line.split_once("  ") {
            Some((time, rest)) if time.starts_with("20") && time.ends_with('Z') => {
                format!("TIME  {rest}")
            }
            _ => line.to_string(),
        });
        named.collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn lines_a_full_pipe_cannot_take_are_left_out_and_counted_on_the_next() {
        let (mut reader, writer) = io::pipe().expect("a pipe");
        let log = std::sync::Arc::new(Unblocking::new(writer, LogFormat::Text));
        written_in_time(&log, (0..10_000).map(|_| line('a', 300)).collect());
        let held = drain(&mut reader);
        let fitted = held.lines().count();
        assert!(fitted > 0 && fitted < 10_000, "{fitted} lines fitted");
        assert!(
            held.lines().all(|line| line == "a".repeat(299)),
            "whole lines only"
        );

        written_in_time(&log, vec![line('b', 10)]);
        let held = drain(&mut reader);
        let expected = format!(
            "TIME  WARN telepact::logging: log lines left out: stderr was not taking them left_out={}\n{}\n",
            10_000 - fitted,
            "b".repeat(9)
        );
        assert_eq!(timestamps_named(&held), expected);
    }

    #[test]
    fn a_line_longer_than_a_piece_is_cut_when_the_pipe_fills_and_ended_later() {
        let (mut reader, writer) = io::pipe().expect("a pipe");
        let log = std::sync::Arc::new(Unblocking::new(writer, LogFormat::Json));
        let long = line('c', 1 << 20);
        written_in_time(&log, vec![long.clone()]);
        let held = drain(&mut reader);
        assert!(
            !held.is_empty() && !held.contains('\n'),
            "a piece of it, cut"
        );

        written_in_time(&log, vec![line('d', 10)]);
        let held = drain(&mut reader);
        let (end, rest) = held.split_once('\n').expect("the cut line ended");
        assert!(end.chars().all(|c| c == 'c'), "{end:?}");
        let note: serde_json::Value =
            serde_json::from_str(rest.lines().next().expect("a note")).expect("JSON");
        assert_eq!(note["fields"]["left_out"], 1, "{note}");
        // Timed as the lines around it are: `2026-12-07T16:06:42.123456Z`.
        let time = note["timestamp"].as_str().unwrap_or_default();
        assert!(time.len() > 20 && time.ends_with('Z'), "{note}");
        assert_eq!(rest.lines().nth(1), Some("ddddddddd"));
    }

    /// A program's own line written beside the log follows the end of a line the log
    /// had to cut, where a writer of its own ran it on from the cut line.
    #[test]
    fn a_programs_own_line_follows_the_end_of_a_cut_log_line() {
        let (mut reader, writer) = io::pipe().expect("a pipe");
        let log = std::sync::Arc::new(Unblocking::new(writer, LogFormat::Text));
        written_in_time(&log, vec![line('c', 1 << 20)]);
        let held = drain(&mut reader);
        assert!(!held.is_empty() && !held.contains('\n'), "a piece, cut");

        own_line(&log, "serving on 127.0.0.1:8002");
        let expected = "\nTIME  WARN telepact::logging: log lines left out: stderr was not taking them left_out=1\nserving on 127.0.0.1:8002\n";
        assert_eq!(timestamps_named(&drain(&mut reader)), expected);
    }

    #[test]
    fn a_cut_line_is_still_ended_after_more_lines_are_left_out() {
        let (mut reader, writer) = io::pipe().expect("a pipe");
        let log = std::sync::Arc::new(Unblocking::new(writer, LogFormat::Text));
        // Cut short as the pipe fills, then one more line while it is still full.
        written_in_time(&log, vec![line('c', 1 << 20), line('x', 10)]);
        let held = drain(&mut reader);
        assert!(!held.is_empty() && !held.contains('\n'), "a piece, cut");

        written_in_time(&log, vec![line('d', 10)]);
        let held = drain(&mut reader);
        let expected = format!(
            "\nTIME  WARN telepact::logging: log lines left out: stderr was not taking them left_out=2\n{}\n",
            "d".repeat(9)
        );
        assert_eq!(
            timestamps_named(&held),
            expected,
            "the cut line ended before the count"
        );
    }
}
