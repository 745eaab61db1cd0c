//! Collects failures, locating each in its document as it is recorded.

use serde_json::{Map, Value, json};

use crate::document::Document;
use crate::error::{SchemaFailure, json_type_name};

/// Builds a JSON path from indices and keys: `json_path![0, "struct.X", "field"]`.
macro_rules! json_path {
    ($($segment:expr),* $(,)?) => {
        vec![$(serde_json::Value::from($segment)),*]
    };
}
pub(crate) use json_path;

/// `base` followed by one more segment.
pub(crate) fn join(base: &[Value], segment: impl Into<Value>) -> Vec<Value> {
    let mut path = Vec::with_capacity(base.len() + 1);
    path.extend_from_slice(base);
    path.push(segment.into());
    path
}

/// Where failures go while the documents are checked.
pub(crate) struct Sink<'d> {
    pub(crate) docs: &'d [Document],
    pub(crate) failures: Vec<SchemaFailure>,
}

impl<'d> Sink<'d> {
    pub(crate) fn new(docs: &'d [Document]) -> Self {
        Sink {
            docs,
            failures: Vec::new(),
        }
    }

    pub(crate) fn has_failures(&self) -> bool {
        !self.failures.is_empty()
    }

    /// Records `reason` with `data` (a JSON object) at `path` of document `doc`.
    pub(crate) fn push(&mut self, doc: usize, path: Vec<Value>, reason: &str, data: Value) {
        let document = &self.docs[doc];
        let data = match data {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        self.failures.push(SchemaFailure {
            document: document.name.clone(),
            location: document.locate(&path),
            path,
            reason: reason.to_string(),
            data,
            file: None,
        });
    }

    /// `TypeUnexpected`: `value` is not of the `expected` kind.
    pub(crate) fn type_unexpected(
        &mut self,
        doc: usize,
        path: Vec<Value>,
        value: &Value,
        expected: &str,
    ) {
        let data = json!({
            "actual": {json_type_name(value): {}},
            "expected": {expected: {}},
        });
        self.push(doc, path, "TypeUnexpected", data);
    }

    /// `PathCollision`: `path` in `doc` repeats what `other_path` in `other_doc` defines.
    pub(crate) fn collision(
        &mut self,
        doc: usize,
        path: Vec<Value>,
        other_doc: usize,
        other_path: Vec<Value>,
    ) {
        let other = &self.docs[other_doc];
        let data = json!({
            "document": other.name,
            "path": other_path,
            "location": other.locate(&other_path).to_json(),
        });
        self.push(doc, path, "PathCollision", data);
    }
}
