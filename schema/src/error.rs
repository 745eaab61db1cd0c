//! Load errors: every failure of an invalid schema, located in its document.

use std::fmt;
use std::path::PathBuf;

use serde_json::{Map, Value};

/// Why a schema could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The documents were read but the schema is invalid.
    #[error("{0}")]
    Invalid(SchemaFailures),
}

/// 1-based row and column in a document's original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Location {
    pub row: usize,
    pub col: usize,
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
}

/// All the failures of an invalid schema, in the order the loader found them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaFailures(pub Vec<SchemaFailure>);

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
        let path = Value::Array(self.path.clone());
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.document, self.location.row, self.location.col, path, self.reason
        )?;
        if !self.data.is_empty() {
            write!(f, " {}", Value::Object(self.data.clone()))?;
        }
        Ok(())
    }
}
