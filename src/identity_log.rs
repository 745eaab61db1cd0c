//! The middleware's identity log: one JSON line on stdout per call that reaches it.
//!
//! The line is written the way the reference example prints it (keys sorted, `", "` and
//! `": "` separators), so tools that read either server's output see the same text.
//!
//! A call only appends its line to a buffer in memory; a thread of the log's own writes
//! what gathered in one `write` at most [`BATCH_WINDOW`] after the first line of a batch,
//! so no call waits for stdout and a busy server makes one write for many lines. Lines
//! keep the order in which calls appended them. [`flush`] writes what is pending: the
//! binary calls it before it exits, so no line is lost at shutdown. A stdout nobody
//! reads costs neither memory nor the exit: past [`MAX_PENDING_BYTES`] lines are
//! dropped and counted, and [`flush`] waits [`FLUSH_WAIT`] at most.

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

/// The most bytes of lines kept waiting for stdout (about ten thousand lines). Past it,
/// while stdout is not read (a full pipe nobody drains), lines are dropped and counted
/// rather than held: memory stays bounded, and the count is logged once stdout moves.
pub const MAX_PENDING_BYTES: usize = 1 << 20;

/// How long [`flush`] waits for the lines to be written before it gives up on them.
pub const FLUSH_WAIT: Duration = Duration::from_secs(1);

/// Writes every line queued so far to stdout, and flushes it, waiting [`FLUSH_WAIT`] at
/// most. Call before the process exits: lines still queued then would be lost. A
/// stdout nobody reads cannot keep the process from exiting: past the wait the lines
/// are given up, and a warning says so.
pub fn flush() {
    if let Some(writer) = WRITER.get().and_then(Option::as_ref)
        && !writer.flush_within(FLUSH_WAIT)
    {
        tracing::warn!("identity log lines not written: stdout is not being read");
    }
}

/// The lines waiting for stdout, shared by the calls and the log's thread.
#[derive(Debug, Default)]
struct BatchWriter {
    state: Mutex<Pending>,
    /// Wakes the log's thread when the first line of a batch arrives, or a flush asks.
    line_queued: Condvar,
    /// Wakes [`flush`] when a batch has been written.
    batch_written: Condvar,
}

#[derive(Debug, Default)]
struct Pending {
    lines: Vec<u8>,
    /// How many lines were queued, and how many of those were written (or dropped
    /// while the batch before them was being written).
    queued: u64,
    written: u64,
    /// Lines dropped since the last write, the pending ones being at their bound.
    dropped: u64,
    /// The log's thread waits for a line (rather than gathering or writing).
    thread_waiting: bool,
    /// A flush waits: the thread writes at once, without gathering.
    flush_waiting: bool,
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
                        writer.run(&mut io::stdout());
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
        pending.queued += 1;
        if pending.lines.len() >= MAX_PENDING_BYTES {
            // Counted written with the batch it would have joined.
            pending.dropped += 1;
            return;
        }
        line.write_to(&mut pending.lines);
        pending.lines.push(b'\n');
        self.wake_thread(pending);
    }

    fn wake_thread(&self, mut pending: MutexGuard<'_, Pending>) {
        if pending.thread_waiting {
            pending.thread_waiting = false;
            drop(pending);
            self.line_queued.notify_one();
        }
    }

    /// The log's thread: waits for a line, lets others gather for the window (unless a
    /// flush waits), writes them to `out`.
    fn run(&self, out: &mut impl Write) {
        let mut batch = Vec::new();
        loop {
            let mut pending = self.lock();
            while pending.lines.is_empty() && pending.dropped == 0 {
                pending.thread_waiting = true;
                pending = self
                    .line_queued
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            let gather = !pending.flush_waiting;
            drop(pending);
            if gather {
                thread::sleep(BATCH_WINDOW);
            }
            self.write_batch(out, &mut batch);
        }
    }

    /// Takes the pending lines (swapping `batch` in, emptied) and writes them to `out`,
    /// then counts them written. Only the log's thread writes, so batches keep their
    /// order.
    fn write_batch(&self, out: &mut impl Write, batch: &mut Vec<u8>) {
        batch.clear();
        let (taken_up_to, dropped) = {
            let mut pending = self.lock();
            std::mem::swap(&mut pending.lines, batch);
            (pending.queued, std::mem::take(&mut pending.dropped))
        };
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "identity log lines dropped: stdout was not being read"
            );
        }
        if !batch.is_empty() {
            write_out(out, batch);
        }
        let mut pending = self.lock();
        pending.written = pending.written.max(taken_up_to);
        drop(pending);
        self.batch_written.notify_all();
    }

    /// Asks the thread to write what is queued now, and waits up to `wait` for it;
    /// whether it was written.
    fn flush_within(&self, wait: Duration) -> bool {
        let mut pending = self.lock();
        let target = pending.queued;
        pending.flush_waiting = true;
        self.line_queued.notify_one();
        let (mut pending, _) = self
            .batch_written
            .wait_timeout_while(pending, wait, |pending| pending.written < target)
            .unwrap_or_else(PoisonError::into_inner);
        pending.flush_waiting = false;
        pending.written >= target
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

    /// A stdout nobody reads holds neither memory nor the exit: lines past the bound
    /// are dropped and counted, and a flush gives up after its wait.
    #[test]
    fn a_stdout_nobody_reads_bounds_the_lines_and_the_flush() {
        let writer: &'static BatchWriter = Box::leak(Box::default());
        let line = IdentityLine::new("fn.myShift", Some("baker-001"), Some("oven"));
        for _ in 0..50_000 {
            writer.append(&line);
        }
        let pending = writer.lock();
        assert!(pending.lines.len() <= MAX_PENDING_BYTES + 128);
        assert!(pending.dropped > 30_000, "{}", pending.dropped);
        drop(pending);
        let (unblock, blocked) = std::sync::mpsc::channel::<()>();
        thread::spawn(move || writer.run(&mut Stuck(blocked)));
        let started = std::time::Instant::now();
        assert!(!writer.flush_within(Duration::from_millis(200)));
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(unblock);
    }

    #[test]
    fn a_flush_waits_for_the_lines_to_be_written() {
        let writer: &'static BatchWriter = Box::leak(Box::default());
        let written = std::sync::Arc::new(Mutex::new(Vec::new()));
        let sink = SharedSink(std::sync::Arc::clone(&written));
        thread::spawn(move || writer.run(&mut { sink }));
        writer.append(&IdentityLine::new("fn.a", None, None));
        assert!(writer.flush_within(Duration::from_secs(5)));
        assert!(
            String::from_utf8_lossy(&written.lock().unwrap()).contains(r#""function": "fn.a""#)
        );
    }

    /// A stdout whose reader never reads: every write waits until the test ends.
    struct Stuck(std::sync::mpsc::Receiver<()>);

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let _ = self.0.recv();
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    struct SharedSink(std::sync::Arc<Mutex<Vec<u8>>>);

    impl Write for SharedSink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
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
