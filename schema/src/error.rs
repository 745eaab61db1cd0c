//! Load errors: every failure of an invalid schema, located in its document.

use std::fmt;
use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::diagnostics::{self, Sources};
use crate::error_chain::ErrorChain;

/// Why a schema could not be loaded. `Debug` writes the message with its cause (the
/// failures with their excerpts, or `cannot read ...: ` and the I/O error, as
/// [`ErrorChain`] does), so a `main` that returns this error with `?` prints what to fix,
/// not the documents' parsed trees.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file or directory could not be read; `source()` is the I/O error.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The documents were read but the schema is invalid. `Display` renders the
    /// failures with their source excerpts (see [`SchemaFailures::render`]).
    #[error("{0}")]
    Invalid(SchemaFailures),
}

impl fmt::Debug for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&ErrorChain(self), f)
    }
}

impl LoadError {
    /// The schema failures, when the documents were read but found invalid.
    pub fn failures(&self) -> Option<&SchemaFailures> {
        match self {
            LoadError::Invalid(failures) => Some(failures),
            LoadError::Io { .. } => None,
        }
    }

    /// The error for a person: the schema failures with their files, lines, source
    /// excerpts and plain-words messages (ANSI colours when `colour`; the first 100, as
    /// [`SchemaFailures::render`] says), or the I/O error's line with its cause.
    pub fn render(&self, colour: bool) -> String {
        match self {
            LoadError::Invalid(failures) => failures.render(colour),
            LoadError::Io { .. } => format!("error: {}", ErrorChain(self)),
        }
    }
}

/// 1-based row and column in a document's original text.
///
/// Columns count characters (not bytes), the way the protocol's reference
/// implementations do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Location {
    /// Line, from 1.
    pub row: usize,
    /// Character in the line, from 1.
    pub col: usize,
}

impl Location {
    /// The first character of a document, used when a path cannot be located.
    pub const START: Location = Location { row: 1, col: 1 };

    /// `{"row": .., "col": ..}`, the protocol's shape.
    pub fn to_json(&self) -> Value {
        json!({"row": self.row, "col": self.col})
    }
}

/// One reason a schema is invalid, as the protocol reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaFailure {
    /// The document name (file name, `auto_` for a single text).
    pub document: String,
    /// JSON path inside the document: integers for array indices, strings for keys.
    pub path: Vec<Value>,
    /// Where `path` starts in the document's original text.
    pub location: Location,
    /// The protocol's reason tag, e.g. `PathCollision`, `TypeUnexpected`.
    pub reason: String,
    /// The reason's payload, e.g. `{"expected": {"Object": {}}, "actual": {"Array": {}}}`.
    pub data: Map<String, Value>,
    /// The file the document was read from, when it was loaded from a directory.
    /// [`Display`](fmt::Display) shows this path instead of the bare document name.
    pub file: Option<PathBuf>,
}

impl SchemaFailure {
    /// The failure in the protocol's shape:
    /// `{"document", "location": {"row", "col"}, "path", "reason": {Tag: data}}`.
    pub fn to_json(&self) -> Value {
        let mut reason = Map::new();
        reason.insert(self.reason.clone(), Value::Object(self.data.clone()));
        json!({
            "document": self.document,
            "location": self.location.to_json(),
            "path": self.path,
            "reason": reason,
        })
    }
}

/// All the failures of an invalid schema, in the order the loader found them, with
/// the text of the documents they point into (for rendering).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaFailures(pub Vec<SchemaFailure>, pub(crate) Sources);

impl SchemaFailures {
    /// Failures without document texts: they render without source excerpts.
    pub fn new(failures: Vec<SchemaFailure>) -> Self {
        SchemaFailures(failures, Sources::default())
    }

    /// The failures for a person, in file order: location, source line with a caret
    /// under the offending key or value, plain-words message, `help:` where one helps,
    /// and a count line at the end. ANSI colours when `colour` (for a terminal).
    ///
    /// The first 100 are shown, and the count line says so when there are more: past
    /// that they are rarely read, and each costs the length of the lines it shows. The
    /// list itself ([`SchemaFailures::0`](SchemaFailures)) holds every failure.
    pub fn render(&self, colour: bool) -> String {
        diagnostics::render(self, colour)
    }

    /// Every failure in the protocol's shape (see [`SchemaFailure::to_json`]).
    pub fn to_json(&self) -> Value {
        Value::Array(self.0.iter().map(SchemaFailure::to_json).collect())
    }

    /// Iterates over the failures.
    pub fn iter(&self) -> std::slice::Iter<'_, SchemaFailure> {
        self.0.iter()
    }

    /// How many failures there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a SchemaFailures {
    type Item = &'a SchemaFailure;
    type IntoIter = std::slice::Iter<'a, SchemaFailure>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// [`SchemaFailures::render`] without colour.
impl fmt::Display for SchemaFailures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// One line in plain words, the way compilers show a short error, e.g.
/// ``api/orchard.telepact.yaml:2:5: field `id` of `struct.Tree` has an unknown type``
/// (the full form, with excerpt and suggestions, is [`SchemaFailures::render`]).
impl fmt::Display for SchemaFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.shown_name(),
            self.location.row,
            self.location.col,
            diagnostics::title(self, &Sources::default())
        )
    }
}

impl SchemaFailure {
    /// The file path when the document was read from a directory, else its name.
    pub(crate) fn shown_name(&self) -> String {
        match &self.file {
            Some(file) => visible(&file.display().to_string()),
            None => visible(&self.document),
        }
    }
}

/// `name` (a file's) with each control character shown as its picture (`␛` for ESC) or
/// escaped: a file may be named so as to move a terminal's cursor or set its title.
pub(crate) fn visible(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '\0'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or(c).to_string(),
            '\u{7f}' => '\u{2421}'.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The protocol's name for the JSON type of `value` (`Null`, `Boolean`, `Number`,
/// `String`, `Array`, `Object`): the `actual` of a `TypeUnexpected` failure, in a
/// schema and in a message alike.
pub fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

#[cfg(test)]
mod debug_tests {
    use crate::Schema;

    #[test]
    fn a_load_errors_debug_is_its_message_with_its_cause() {
        let error = Schema::from_text(r#"[{"struct.A": {"x": "nothing"}}]"#).expect_err("invalid");
        assert_eq!(format!("{error:?}"), error.to_string());
        assert!(format!("{error:?}").contains("nothing"), "{error:?}");
        let unread = Schema::from_dir("/nonexistent/api").expect_err("no such directory");
        let shown = format!("{unread:?}");
        assert!(
            shown.starts_with("cannot read /nonexistent/api: ") && shown.len() > 30,
            "{shown}"
        );
    }
}
