//! First pass: find each definition's schema key and reject keys defined twice.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::sink::{Sink, json_path};
use crate::document::Document;

/// The pattern a definition's schema key must match, as reported in failures.
pub(crate) const SCHEMA_KEY_REGEX: &str =
    r"^(((fn|errors|headers|info)|((struct|union|_ext)(<[0-2]>)?))\..*)";

/// One top-level definition of a document.
#[derive(Debug)]
pub(crate) struct Entry<'d> {
    /// Its schema key, e.g. `struct.Example`.
    pub(crate) key: String,
    /// Index of its document.
    pub(crate) doc: usize,
    /// Its position in the document's array.
    pub(crate) index: usize,
    pub(crate) def: &'d Map<String, Value>,
}

/// Whether `key` names a definition (`fn.`, `errors.`, `headers.`, `info.`, `struct.`,
/// `union.`, `_ext.`, the last three optionally with a `<0>`..`<2>` arity).
pub(crate) fn is_schema_key(key: &str) -> bool {
    ["fn.", "errors.", "headers.", "info."]
        .iter()
        .any(|prefix| key.starts_with(prefix))
        || ["struct", "union", "_ext"].iter().any(|kind| {
            key.strip_prefix(kind).is_some_and(|rest| {
                let rest = ["<0>", "<1>", "<2>"]
                    .iter()
                    .find_map(|arity| rest.strip_prefix(arity))
                    .unwrap_or(rest);
                rest.starts_with('.')
            })
        })
}

/// The one schema key of a definition, or how many keys matched and all the keys
/// (sorted) when it has none or several.
pub(crate) fn find_schema_key(def: &Map<String, Value>) -> Result<String, (usize, Vec<String>)> {
    let mut matching = def.keys().filter(|k| is_schema_key(k));
    match (matching.next(), matching.next()) {
        (Some(only), None) => Ok(only.clone()),
        _ => {
            let mut keys: Vec<String> = def.keys().cloned().collect();
            keys.sort();
            let count = keys.iter().filter(|k| is_schema_key(k)).count();
            Err((count, keys))
        }
    }
}

/// Lists every definition of every document (documents in name order, definitions in
/// array order), recording non-object definitions, unrecognised keys and collisions.
pub(crate) fn index_definitions<'d>(sink: &mut Sink<'_>, docs: &'d [Document]) -> Vec<Entry<'d>> {
    let total: usize = docs
        .iter()
        .filter_map(|doc| doc.root.as_deref()?.as_array().map(Vec::len))
        .sum();
    // Sized once: growing small maps dominated loading small schemas.
    let mut entries: Vec<Entry<'d>> = Vec::with_capacity(total);
    let mut by_key: HashMap<String, usize> = HashMap::with_capacity(total);
    let mut info_entry: Option<usize> = None;
    for (doc, document) in docs.iter().enumerate() {
        let Some(Value::Array(definitions)) = document.root.as_deref() else {
            continue;
        };
        for (index, definition) in definitions.iter().enumerate() {
            let Value::Object(def) = definition else {
                sink.type_unexpected(doc, json_path![index], definition, "Object");
                continue;
            };
            let key = match find_schema_key(def) {
                Ok(key) => key,
                Err((actual, keys)) => {
                    let data = json!({
                        "regex": SCHEMA_KEY_REGEX,
                        "actual": actual,
                        "expected": 1,
                        "keys": keys,
                    });
                    sink.push(
                        doc,
                        json_path![index],
                        "ObjectKeyRegexMatchCountUnexpected",
                        data,
                    );
                    continue;
                }
            };
            let is_info = key.starts_with("info.");
            let existing = by_key
                .get(&key)
                .copied()
                .or(if is_info { info_entry } else { None });
            if let Some(other) = existing {
                let other = &entries[other];
                let other_path = json_path![other.index, other.key.clone()];
                sink.collision(doc, json_path![index, key], other.doc, other_path);
                continue;
            }
            if is_info {
                info_entry = Some(entries.len());
            }
            by_key.insert(key.clone(), entries.len());
            entries.push(Entry {
                key,
                doc,
                index,
                def,
            });
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::is_schema_key;

    #[test]
    fn schema_keys() {
        assert!(is_schema_key("struct.X"));
        assert!(is_schema_key("struct<1>.X"));
        assert!(is_schema_key("fn."));
        assert!(is_schema_key("_ext.Select_"));
        assert!(!is_schema_key("struct<3>.X"));
        assert!(!is_schema_key("invalid.Example"));
        assert!(!is_schema_key("->"));
        assert!(!is_schema_key("fn"));
    }
}
