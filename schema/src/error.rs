//! Load errors: every failure of an invalid schema, located in its document.

use std::fmt;
use std::path::PathBuf;

use serde_json::{Map, Value, json};

/// Why a schema could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The documents were read but the schema is invalid.
    #[error("{0}")]
    Invalid(SchemaFailures),
}

impl LoadError {
    /// The schema failures, when the documents were read but found invalid.
    pub fn failures(&self) -> Option<&SchemaFailures> {
        match self {
            LoadError::Invalid(failures) => Some(failures),
            LoadError::Io { .. } => None,
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

/// All the failures of an invalid schema, in the order the loader found them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaFailures(pub Vec<SchemaFailure>);

impl SchemaFailures {
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

/// Renders one failure per line, the way rustc shows errors:
/// `document:row:col: path: reason {data}`.
impl fmt::Display for SchemaFailures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, failure) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{failure}")?;
        }
        Ok(())
    }
}

impl fmt::Display for SchemaFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}", file.display())?,
            None => write!(f, "{}", self.document)?,
        }
        let path = Value::Array(self.path.clone());
        write!(
            f,
            ":{}:{}: {}: {}",
            self.location.row, self.location.col, path, self.reason
        )?;
        if !self.data.is_empty() {
            write!(f, " {}", Value::Object(self.data.clone()))?;
        }
        Ok(())
    }
}
