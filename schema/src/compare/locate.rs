//! Where a schema path is written in a schema directory's files.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::document::Document;
use crate::error::Location;

/// The schema files of a directory, read once, to locate any number of changes in
/// them (see [`Incompatibility::locate_in`](super::Incompatibility::locate_in)), or
/// any schema path ([`SchemaFiles::locate`]).
#[derive(Debug, Default)]
pub struct SchemaFiles {
    /// Each readable schema file with its document, in file-name order.
    files: Vec<(PathBuf, Document)>,
    /// Each schema key → the first file defining it and the definition's index there.
    keys: HashMap<String, (usize, usize)>,
}

impl SchemaFiles {
    /// Reads the `*.telepact.json` and `*.telepact.yaml` files of `dir`. Files that
    /// cannot be read or parsed define nothing; a directory that cannot be read holds
    /// no files.
    pub fn read(dir: &Path) -> Self {
        let Ok(entries) = fs::read_dir(dir) else {
            return SchemaFiles::default();
        };
        let mut names: Vec<String> = entries
            .filter_map(|entry| Some(entry.ok()?.file_name().to_str()?.to_string()))
            .filter(|name| name.ends_with(".telepact.json") || name.ends_with(".telepact.yaml"))
            .collect();
        names.sort();
        let mut located = SchemaFiles::default();
        for name in names {
            let file = dir.join(&name);
            let Ok(text) = fs::read_to_string(&file) else {
                continue;
            };
            let document = Document::read(name, text);
            let number = located.files.len();
            let definitions = document.root.as_deref().and_then(Value::as_array);
            for (index, definition) in definitions.into_iter().flatten().enumerate() {
                for key in definition.as_object().into_iter().flat_map(|d| d.keys()) {
                    located.keys.entry(key.clone()).or_insert((number, index));
                }
            }
            located.files.push((file, document));
        }
        located
    }

    /// The file defining `path[0]` (a schema key such as `struct.Item`) and where the
    /// deepest part of `path` it holds starts: a union tag, a field (matched with or
    /// without its `!`) or a function's `->`. `None` when no file defines the key.
    pub fn locate(&self, path: &[String]) -> Option<(PathBuf, Location)> {
        let (key, rest) = path.split_first()?;
        let &(number, index) = self.keys.get(key)?;
        let (file, document) = &self.files[number];
        let definition = document
            .root
            .as_deref()?
            .as_array()?
            .get(index)?
            .as_object()?;
        let document_path = document_path(index, definition, key, rest)?;
        Some((file.clone(), document.locate(&document_path)))
    }
}

/// The JSON path inside a document (array indices included) of a schema path whose
/// key is defined by `definition`, the document's entry `index`.
fn document_path(
    index: usize,
    definition: &Map<String, Value>,
    key: &str,
    rest: &[String],
) -> Option<Vec<Value>> {
    let mut node = definition.get(key)?;
    let mut path = vec![Value::from(index), Value::from(key)];
    for (depth, segment) in rest.iter().enumerate() {
        if depth == 0 && segment == "->" {
            let Some(result) = definition.get("->") else {
                break;
            };
            path = vec![Value::from(index), Value::from("->")];
            node = result;
            continue;
        }
        match step(node, segment) {
            Some((steps, next)) => {
                path.extend(steps);
                node = next;
            }
            None => break,
        }
    }
    Some(path)
}

/// One step down: into a union's tag (an index, then the tag) or an object's field.
fn step<'a>(node: &'a Value, segment: &str) -> Option<(Vec<Value>, &'a Value)> {
    match node {
        Value::Array(tags) => tags.iter().enumerate().find_map(|(i, tag)| {
            let payload = tag.as_object()?.get(segment)?;
            Some((vec![Value::from(i), Value::from(segment)], payload))
        }),
        Value::Object(fields) => fields
            .iter()
            .find(|(key, _)| key.trim_end_matches('!') == segment.trim_end_matches('!'))
            .map(|(key, value)| (vec![Value::from(key.as_str())], value)),
        _ => None,
    }
}
