//! The middleware's identity log: one JSON line on stdout per call that reaches it.
//!
//! The line is written the way the reference example prints it (keys sorted, `", "` and
//! `": "` separators), so tools that read either server's output see the same text.
//!
//! A call only appends its line to a buffer in memory; a thread of the log's own writes
//! what gathered in one `write` at most [`BATCH_WINDOW`] after the first line of a batch,
//! so no call waits for stdout and a busy server makes one write for many lines. Lines
//! keep the order in which calls appended them. [`flush`] writes what is pending: the
//! binary calls it before it exits, so no line is lost at shutdown.

use std::io::{self, Write};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::Duration;

use serde::Serialize;

/// The event the middleware logs on every call.
const EVENT: &str = "middleware.identity";

/// [`EVENT`] as a JSON string.
const EVENT_JSON: &[u8] = br#""middleware.identity""#;

/// One `middleware.identity` event. Fields are declared in sorted key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct IdentityEvent {
    /// The caller's employee id, when the call was authenticated.
    #[serde(rename = "employeeId")]
    pub employee_id: Option<String>,
    /// Always `middleware.identity`.
    pub event: String,
    /// The function called.
    pub function: String,
    /// The caller's station, when the call was authenticated.
    pub station: Option<String>,
}

impl IdentityEvent {
    /// The event for a call of `function` by the given caller.
    pub fn new(function: &str, employee_id: Option<&str>, station: Option<&str>) -> Self {
        IdentityEvent {
            employee_id: employee_id.map(str::to_string),
            event: EVENT.to_string(),
            function: function.to_string(),
            station: station.map(str::to_string),
        }
    }

    /// The event as one line of text, without the newline.
    pub fn to_line(&self) -> String {
        let mut out = Vec::new();
        self.line().write_to(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Queues the line for stdout (see the [module](self) docs).
    pub fn print(&self) {
        self.line().print();
    }

    fn line(&self) -> IdentityLine<'_> {
        IdentityLine {
            employee_id: self.employee_id.as_deref(),
            event: &self.event,
            function: &self.function,
            station: self.station.as_deref(),
        }
    }
}

/// An [`IdentityEvent`] that borrows its text: what the middleware prints on every call,
/// with no copy of the strings.
#[derive(Debug, Clone, Copy)]
pub struct IdentityLine<'a> {
    /// The caller's employee id, when the call was authenticated.
    pub employee_id: Option<&'a str>,
    /// What happened (`middleware.identity`).
    pub event: &'a str,
    /// The function called.
    pub function: &'a str,
    /// The caller's station, when known.
    pub station: Option<&'a str>,
}

impl<'a> IdentityLine<'a> {
    /// The `middleware.identity` event of a call to `function`.
    pub fn new(function: &'a str, employee_id: Option<&'a str>, station: Option<&'a str>) -> Self {
        IdentityLine {
            employee_id,
            event: EVENT,
            function,
            station,
        }
    }

    /// Appends the line, without the newline, to `out`: the keys in sorted order, each
    /// text as a JSON string (escaped as `serde_json` escapes it) or `null`.
    fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#"{"employeeId": "#);
        json_text(out, self.employee_id);
        out.extend_from_slice(br#", "event": "#);
        // The event every call logs is written as text ready made.
        if self.event == EVENT {
            out.extend_from_slice(EVENT_JSON);
        } else {
            json_text(out, Some(self.event));
        }
        out.extend_from_slice(br#", "function": "#);
        json_text(out, Some(self.function));
        out.extend_from_slice(br#", "station": "#);
        json_text(out, self.station);
        out.push(b'}');
    }

    /// Queues the line and its newline for stdout, whole: lines of concurrent calls
    /// never interleave. It reaches stdout within [`BATCH_WINDOW`], or at [`flush`].
    pub fn print(&self) {
        match writer() {
            Some(writer) => writer.append(self),
            None => {
                let mut line = Vec::with_capacity(128);
                self.write_to(&mut line);
                line.push(b'\n');
                write_out(&mut io::stdout().lock(), &line);
            }
        }
    }
}

/// How long the log's thread lets lines gather after the first of a batch before it
/// writes them.
pub const BATCH_WINDOW: Duration = Duration::from_millis(5);

/// Writes every line queued so far to stdout, and flushes it. Call before the process
/// exits: lines still queued then would be lost.
pub fn flush() {
    if let Some(writer) = WRITER.get().and_then(Option::as_ref) {
        writer.write_pending();
    }
}

/// The lines waiting for stdout, shared by the calls and the log's thread.
#[derive(Debug, Default)]
struct BatchWriter {
    state: Mutex<Pending>,
    /// Wakes the log's thread when the first line of a batch arrives.
    line_queued: Condvar,
}

#[derive(Debug, Default)]
struct Pending {
    lines: Vec<u8>,
    /// The log's thread waits for a line (rather than gathering or writing).
    thread_waiting: bool,
}

static WRITER: OnceLock<Option<BatchWriter>> = OnceLock::new();

/// The batch writer, its thread started on first use; `None` when no thread could be
/// started (lines are then written by the calls themselves).
fn writer() -> Option<&'static BatchWriter> {
    WRITER
        .get_or_init(|| {
            thread::Builder::new()
                .name("identity-log".to_string())
                .spawn(|| {
                    // Waits until `get_or_init` has stored the writer.
                    if let Some(writer) = writer() {
                        writer.run();
                    }
                })
                .ok()
                .map(|_| BatchWriter::default())
        })
        .as_ref()
}

impl BatchWriter {
    fn append(&self, line: &IdentityLine<'_>) {
        let mut pending = self.lock();
        line.write_to(&mut pending.lines);
        pending.lines.push(b'\n');
        if pending.thread_waiting {
            pending.thread_waiting = false;
            drop(pending);
            self.line_queued.notify_one();
        }
    }

    /// The log's thread: waits for a line, lets others gather for the window, writes.
    fn run(&self) {
        let mut spare = Vec::new();
        loop {
            let mut pending = self.lock();
            while pending.lines.is_empty() {
                pending.thread_waiting = true;
                pending = self
                    .line_queued
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            drop(pending);
            thread::sleep(BATCH_WINDOW);
            self.write_batch(&mut io::stdout().lock(), &mut spare);
        }
    }

    fn write_pending(&self) {
        self.write_batch(&mut io::stdout().lock(), &mut Vec::new());
    }

    /// Swaps the pending lines for `spare` (emptied) and writes them to `out`. Callers
    /// hold stdout's lock before the lines are taken, which keeps batches in order
    /// between the thread and [`flush`].
    fn write_batch(&self, out: &mut impl Write, spare: &mut Vec<u8>) {
        spare.clear();
        std::mem::swap(&mut self.lock().lines, spare);
        if !spare.is_empty() {
            write_out(out, spare);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic while a line was appended leaves at worst that line cut short.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `text` as a JSON string, or `null`.
fn json_text(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        // Nothing to escape (no control character, quote or backslash): the text
        // between quotes, the bytes `serde_json` writes.
        Some(text) if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') => {
            out.reserve(text.len() + 2);
            out.push(b'"');
            out.extend_from_slice(text.as_bytes());
            out.push(b'"');
        }
        // Writing a string into memory cannot fail.
        Some(text) => {
            let _ = serde_json::to_writer(&mut *out, text);
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// Writes whole lines and flushes, so a reader sees them at once. A closed stdout is
/// not the calls' concern: the lines are dropped.
fn write_out(stdout: &mut impl Write, lines: &[u8]) {
    let _ = stdout.write_all(lines);
    let _ = stdout.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authenticated_call_logs_the_identity() {
        let line = IdentityEvent::new("fn.myShift", Some("baker-001"), Some("oven")).to_line();
        assert_eq!(
            line,
            r#"{"employeeId": "baker-001", "event": "middleware.identity", "function": "fn.myShift", "station": "oven"}"#
        );
    }

    #[test]
    fn queued_lines_are_kept_in_order_until_flushed() {
        let writer = BatchWriter::default();
        writer.append(&IdentityLine::new("fn.a", Some("baker-001"), Some("oven")));
        writer.append(&IdentityLine::new("fn.b", None, None));
        let mut written = Vec::new();
        writer.write_batch(&mut written, &mut Vec::new());
        assert_eq!(
            String::from_utf8(written).unwrap(),
            concat!(
                r#"{"employeeId": "baker-001", "event": "middleware.identity", "function": "fn.a", "station": "oven"}"#,
                "\n",
                r#"{"employeeId": null, "event": "middleware.identity", "function": "fn.b", "station": null}"#,
                "\n",
            )
        );
        assert!(writer.lock().lines.is_empty());
    }

    /// Text that JSON must escape stays the same text when the line is read back.
    #[test]
    fn a_line_reads_back_as_the_event() {
        let odd = [
            "quote \" and backslash \\",
            "line\nbreak\ttab",
            "caf\u{e9} \u{1F950}",
            "\u{1}",
            "plain \u{7f} text",
        ];
        for text in odd {
            let event = IdentityEvent::new(text, Some(text), None);
            let back: IdentityEvent = serde_json::from_str(&event.to_line()).unwrap();
            assert_eq!(back, event, "{text:?}");
        }
        let line = IdentityEvent::new("fn.x", Some("a\"b"), Some("c\\d")).to_line();
        assert_eq!(
            line,
            r#"{"employeeId": "a\"b", "event": "middleware.identity", "function": "fn.x", "station": "c\\d"}"#
        );
    }

    #[test]
    fn an_anonymous_call_logs_nulls() {
        let line = IdentityEvent::new("fn.ping_", None, None).to_line();
        assert_eq!(
            line,
            r#"{"employeeId": null, "event": "middleware.identity", "function": "fn.ping_", "station": null}"#
        );
    }
}
