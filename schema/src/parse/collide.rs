//! Collisions between definitions that share a namespace: error tags across
//! `errors.*` sets, error tags against function results, and header names across
//! `headers.*` definitions.

use serde_json::{Map, Value};

use super::entries::Entry;
use super::sink::{Sink, json_path};

/// The non-docstring keys of an object, as a sorted list for comparison.
fn tag_keys(element: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = element
        .as_object()
        .map(|object| {
            object
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "///")
                .collect()
        })
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

/// Sorts entries by document, then position, the order collisions are reported in.
fn in_document_order<'a, 'd>(entries: &[&'a Entry<'d>]) -> Vec<&'a Entry<'d>> {
    let mut sorted = entries.to_vec();
    sorted.sort_by_key(|entry| (entry.doc, entry.index));
    sorted
}

/// Two `errors.*` sets may not declare the same tag; the later one is reported.
pub(crate) fn error_set_collisions(sink: &mut Sink<'_>, errors: &[&Entry<'_>]) {
    let errors = in_document_order(errors);
    for (i, first) in errors.iter().enumerate() {
        for second in &errors[i + 1..] {
            let first_tags = tag_array(first);
            let second_tags = tag_array(second);
            for (k, first_tag) in first_tags.iter().enumerate() {
                let first_keys = tag_keys(first_tag);
                for (l, second_tag) in second_tags.iter().enumerate() {
                    if tag_keys(second_tag) != first_keys {
                        continue;
                    }
                    let Some(name) = first_keys.first() else {
                        continue;
                    };
                    let here = json_path![second.index, second.key.as_str(), l, *name];
                    let there = json_path![first.index, first.key.as_str(), k, *name];
                    sink.collision(second.doc, here, first.doc, there);
                }
            }
        }
    }
}

fn tag_array<'a>(entry: &Entry<'a>) -> &'a [Value] {
    entry
        .def
        .get(&entry.key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn object_at<'a>(entry: &Entry<'a>, key: &str) -> Option<&'a Map<String, Value>> {
    entry.def.get(key).and_then(Value::as_object)
}

/// Two `headers.*` definitions may not declare the same request header, nor the same
/// response header; the later one is reported.
pub(crate) fn header_collisions(sink: &mut Sink<'_>, headers: &[&Entry<'_>]) {
    let headers = in_document_order(headers);
    for (i, first) in headers.iter().enumerate() {
        for second in &headers[i + 1..] {
            let sides = [(first.key.as_str(), second.key.as_str()), ("->", "->")];
            for (first_key, second_key) in sides {
                let (Some(first_body), Some(second_body)) =
                    (object_at(first, first_key), object_at(second, second_key))
                else {
                    continue;
                };
                for name in first_body.keys().filter(|k| second_body.contains_key(*k)) {
                    let here = json_path![second.index, second_key, name.as_str()];
                    let there = json_path![first.index, first_key, name.as_str()];
                    sink.collision(second.doc, here, first.doc, there);
                }
            }
        }
    }
}
