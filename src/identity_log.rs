//! The middleware's identity log: one JSON line on stdout per call that reaches it.
//!
//! The line is written the way the reference example prints it (keys sorted, `", "` and
//! `": "` separators), so tools that read either server's output see the same text.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

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
            event: "middleware.identity".to_string(),
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

    /// Writes the line to stdout and flushes, so a reader sees it at once.
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
#[derive(Debug, Clone, Copy, Serialize)]
pub struct IdentityLine<'a> {
    /// The caller's employee id, when the call was authenticated.
    #[serde(rename = "employeeId")]
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
            event: "middleware.identity",
            function,
            station,
        }
    }

    /// Appends the line, without the newline, to `out`.
    fn write_to(&self, out: &mut Vec<u8>) {
        let mut serializer = Serializer::with_formatter(out, SpacedFormatter);
        // Serialising plain strings and options into memory cannot fail.
        let _ = self.serialize(&mut serializer);
    }

    /// Writes the line and its newline to stdout in one write, so a reader sees it at
    /// once and lines of concurrent calls never interleave.
    pub fn print(&self) {
        let mut line = Vec::with_capacity(128);
        self.write_to(&mut line);
        line.push(b'\n');
        let mut stdout = io::stdout().lock();
        let _ = stdout.write_all(&line);
        let _ = stdout.flush();
    }
}

/// Compact JSON with a space after `,` and `:`.
struct SpacedFormatter;

impl Formatter for SpacedFormatter {
    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        separate(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        separate(writer, first)
    }
}

/// `, ` before every entry but the first.
fn separate<W: ?Sized + Write>(writer: &mut W, first: bool) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
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
    fn an_anonymous_call_logs_nulls() {
        let line = IdentityEvent::new("fn.ping_", None, None).to_line();
        assert_eq!(
            line,
            r#"{"employeeId": null, "event": "middleware.identity", "function": "fn.ping_", "station": null}"#
        );
    }
}
