//! Collisions between definitions that share a namespace: error tags across
//! `errors.*` sets, error tags against function results, and header names across
//! `headers.*` definitions.

use std::collections::HashMap;

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

/// The most pairs of declarations of one name reported as the reference reports them,
/// each repeat against every earlier declaration. Past it (a name declared in
/// thousands of definitions: n of them make n²/2 pairs, gigabytes of failures from a
/// text of kilobytes) each repeat is reported once, against the first declaration.
const PAIRS_REPORTED: usize = 10_000;

/// How many earlier declarations each repeat is reported against, given how many
/// times each name is declared.
fn reported_against(declarations: impl Iterator<Item = usize>) -> usize {
    let pairs = declarations
        .map(|n| n.saturating_mul(n.saturating_sub(1)) / 2)
        .fold(0_usize, usize::saturating_add);
    if pairs <= PAIRS_REPORTED {
        usize::MAX
    } else {
        1
    }
}

/// Sorts entries by document, then position, the order collisions are reported in.
fn in_document_order<'a, 'd>(entries: &[&'a Entry<'d>]) -> Vec<&'a Entry<'d>> {
    let mut sorted = entries.to_vec();
    sorted.sort_by_key(|entry| (entry.doc, entry.index));
    sorted
}

/// Two `errors.*` sets may not declare the same tag; the later one is reported, once
/// for each earlier set declaring it (but see [`PAIRS_REPORTED`]), in the order of a
/// comparison of every pair.
pub(crate) fn error_set_collisions(sink: &mut Sink<'_>, errors: &[&Entry<'_>]) {
    let errors = in_document_order(errors);
    let tags_of: Vec<Vec<Vec<&str>>> = errors
        .iter()
        .map(|set| tag_array(set).iter().map(tag_keys).collect())
        .collect();
    let against = {
        let mut counts: HashMap<&[&str], usize> = HashMap::new();
        for keys in tags_of.iter().flatten().filter(|keys| !keys.is_empty()) {
            *counts.entry(keys).or_default() += 1;
        }
        reported_against(counts.into_values())
    };
    // Each tag's keys → where sets before the current one declare them: (set, position).
    let mut declared: HashMap<Vec<&str>, Vec<(usize, usize)>> = HashMap::new();
    let mut found = Vec::new();
    for (j, tags) in tags_of.into_iter().enumerate() {
        for (l, keys) in tags.iter().enumerate() {
            let Some(name) = keys.first() else {
                continue;
            };
            let earlier = declared.get(keys).map_or(&[][..], Vec::as_slice);
            for &(i, k) in earlier.iter().take(against) {
                found.push(((i, j, k, l), *name));
            }
        }
        for (l, keys) in tags.into_iter().enumerate() {
            declared.entry(keys).or_default().push((j, l));
        }
    }
    found.sort_unstable_by_key(|(order, _)| *order);
    for ((i, j, k, l), name) in found {
        let (first, second) = (errors[i], errors[j]);
        let here = json_path![second.index, second.key.as_str(), l, name];
        let there = json_path![first.index, first.key.as_str(), k, name];
        sink.collision(second.doc, here, first.doc, there);
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
/// response header; the later one is reported, once for each earlier definition
/// declaring it (but see [`PAIRS_REPORTED`]), in the order of a comparison of every pair.
pub(crate) fn header_collisions<'d>(sink: &mut Sink<'_>, headers: &[&Entry<'d>]) {
    let headers = in_document_order(headers);
    // The key of a definition's body on each side: request headers, response headers.
    let body_key = |entry: &Entry<'_>, side: usize| -> String {
        if side == 0 {
            entry.key.clone()
        } else {
            "->".to_string()
        }
    };
    let body = |entry: &Entry<'d>, side: usize| object_at(entry, &body_key(entry, side));
    let against = {
        let mut counts: HashMap<(usize, &str), usize> = HashMap::new();
        for side in 0..2 {
            for name in headers
                .iter()
                .filter_map(|e| body(e, side))
                .flat_map(Map::keys)
            {
                *counts.entry((side, name.as_str())).or_default() += 1;
            }
        }
        reported_against(counts.into_values())
    };
    let mut found = Vec::new();
    for side in 0..2 {
        // Each header name → where definitions so far declare it: (definition, position).
        let mut declared: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
        for (j, second) in headers.iter().enumerate() {
            let Some(body) = body(second, side) else {
                continue;
            };
            for (position, name) in body.keys().enumerate() {
                let earlier = declared.entry(name.as_str()).or_default();
                for &(i, first_position) in earlier.iter().take(against) {
                    found.push(((i, j, side, first_position), name.as_str()));
                }
                earlier.push((j, position));
            }
        }
    }
    found.sort_unstable_by_key(|(order, _)| *order);
    for ((i, j, side, _), name) in found {
        let (first, second) = (headers[i], headers[j]);
        let here = json_path![second.index, body_key(second, side), name];
        let there = json_path![first.index, body_key(first, side), name];
        sink.collision(second.doc, here, first.doc, there);
    }
}
