//! The shared path → location step: both the JSON scanner and the YAML reader record
//! where each key and array element starts, keyed by the element's JSON path.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::Location;

/// Start positions of every key (and array element) in one document, by JSON path.
#[derive(Debug, Default)]
pub(crate) struct Locations {
    by_path: HashMap<String, Location>,
}

impl Locations {
    /// Remembers that the node at `path` starts at `location`.
    pub(crate) fn record(&mut self, path: &[Value], location: Location) {
        self.by_path.insert(path_key(path), location);
    }

    /// Where the node at `path` starts; the document start when the path is unknown.
    pub(crate) fn locate(&self, path: &[Value]) -> Location {
        self.by_path
            .get(&path_key(path))
            .copied()
            .unwrap_or(Location::START)
    }
}

/// A path as compact JSON, so integer indices and string keys never collide.
fn path_key(path: &[Value]) -> String {
    let mut key = String::from("[");
    for (i, segment) in path.iter().enumerate() {
        if i > 0 {
            key.push(',');
        }
        key.push_str(&segment.to_string());
    }
    key.push(']');
    key
}
