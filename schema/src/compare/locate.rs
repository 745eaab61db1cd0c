//! Where a schema path is written in a schema directory's files.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::document::Document;
use crate::error::Location;

/// Finds the file of `dir` defining `path[0]` (a schema key such as `struct.Item`) and
/// where the deepest part of `path` it holds starts: a union tag, a field (matched with
/// or without its `!`) or a function's `->`. `None` when no file defines the key.
pub(super) fn locate_in_dir(dir: &Path, path: &[String]) -> Option<(PathBuf, Location)> {
    let (key, rest) = path.split_first()?;
    let mut names: Vec<String> = fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.file_name().to_str()?.to_string()))
        .filter(|name| name.ends_with(".telepact.json") || name.ends_with(".telepact.yaml"))
        .collect();
    names.sort();
    names.into_iter().find_map(|name| {
        let file = dir.join(&name);
        let text = fs::read_to_string(&file).ok()?;
        let document = Document::read(name, text);
        let document_path = document_path(document.root.as_deref()?, key, rest)?;
        Some((file, document.locate(&document_path)))
    })
}

/// The JSON path inside a document (array indices included) of a schema path.
fn document_path(root: &Value, key: &str, rest: &[String]) -> Option<Vec<Value>> {
    let (index, definition, mut node) =
        root.as_array()?.iter().enumerate().find_map(|(i, entry)| {
            let definition = entry.as_object()?;
            Some((i, definition, definition.get(key)?))
        })?;
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
