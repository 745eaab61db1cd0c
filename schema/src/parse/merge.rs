//! Adds the tags of every matching `errors.*` set to each function's result.

use std::collections::HashMap;

use regex::Regex;
use serde_json::json;

use super::defs::ParsedUnion;
use super::entries::Entry;
use super::function::ParsedFunction;
use super::sink::{Sink, json_path};
use crate::document::Document;
use crate::model::{FunctionDef, Tag, UnionDef};
use crate::standard;

/// How many copies of `errors.*` tags the functions' results may take in all, besides
/// one more for each [`TEXT_BYTES_PER_COPY`] bytes of schema text. Every public
/// function's result takes every set's tags, so a few kilobytes of functions and sets
/// can ask for millions of copies: 3,000 of each, 290 KB, took 14 GB and 54 s to
/// compare. The copies alone allowed a mock server of the schema about 0.6 GB; plain
/// functions, each taking the standard tags (6, or 8 with `union.Auth_`), stay within
/// it past 100,000 of them.
pub(crate) const ERROR_TAG_COPIES: usize = 250_000;

/// Bytes of schema text that allow one more copy of an error tag.
pub(crate) const TEXT_BYTES_PER_COPY: usize = 4;

/// The copies of error tags that `docs` may ask for (their own text counted, not the
/// standard definitions').
fn copy_limit(docs: &[Document]) -> usize {
    let own = docs
        .iter()
        .filter(|doc| !standard::is_standard_document(&doc.name));
    let text: usize = own.map(|doc| doc.text().len()).sum();
    ERROR_TAG_COPIES.saturating_add(text / TEXT_BYTES_PER_COPY)
}

/// Whether `regex` matches at the start of `text` (the reference's `re.match`).
fn matches_at_start(regex: &Regex, text: &str) -> bool {
    regex.find(text).is_some_and(|m| m.start() == 0)
}

/// Builds each function (arena order = schema-key order) with the tags of the error
/// sets its `errors_regex` selects. A set may not redeclare a tag the function's
/// result already declares. A schema whose functions would take more copies of error
/// tags than [`copy_limit`] allows is refused before any is made.
pub(crate) fn merge_errors(
    sink: &mut Sink<'_>,
    fn_entries: &[&Entry<'_>],
    functions: Vec<Option<ParsedFunction>>,
    error_sets: &[(&Entry<'_>, ParsedUnion)],
) -> Vec<Option<FunctionDef>> {
    let mut fn_entries = fn_entries.to_vec();
    fn_entries.sort_by(|a, b| a.key.cmp(&b.key));
    let mut sets: Vec<&(&Entry<'_>, ParsedUnion)> = error_sets.iter().collect();
    sets.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    // Functions share a few patterns (every public one the same): each is matched once.
    let mut selections: Vec<Selection<'_, '_>> = Vec::new();
    let mut by_pattern: HashMap<&str, usize> = HashMap::new();
    let chosen: Vec<Option<usize>> = functions
        .iter()
        .map(|function| {
            let function = function.as_ref()?;
            let index = *by_pattern
                .entry(function.errors_regex.as_str())
                .or_insert_with(|| {
                    let matcher = &function.errors_matcher;
                    let selected = sets
                        .iter()
                        .filter(|set| matches_at_start(matcher, &set.0.key));
                    selections.push(Selection {
                        sets: selected.copied().collect(),
                        functions: 0,
                    });
                    selections.len() - 1
                });
            selections[index].functions += 1;
            Some(index)
        })
        .collect();
    if refused_as_too_many_copies(sink, &fn_entries, &selections) {
        return Vec::new();
    }
    functions
        .into_iter()
        .zip(fn_entries)
        .zip(chosen)
        .map(|((parsed, entry), chosen)| {
            let selected = &selections[chosen?].sets;
            Some(merge_one(sink, entry, parsed?, selected))
        })
        .collect()
}

/// The error sets one `_errors` pattern selects, in key order, and how many functions
/// have the pattern.
struct Selection<'s, 'e> {
    sets: Vec<&'s (&'e Entry<'e>, ParsedUnion)>,
    functions: usize,
}

/// Reports `ErrorTagsPastLimit` when the functions would take more copies of error
/// tags than the schema's text allows: at the schema's own set copied most, or at its
/// first function when only the standard sets are copied.
fn refused_as_too_many_copies(
    sink: &mut Sink<'_>,
    fn_entries: &[&Entry<'_>],
    selections: &[Selection<'_, '_>],
) -> bool {
    // Counted per pattern, not per function: the count itself must not grow with
    // functions × sets.
    let mut copies = 0_usize;
    let mut copies_of_set: HashMap<&str, (usize, &Entry<'_>)> = HashMap::new();
    for selection in selections {
        for (entry, set) in &selection.sets {
            let of_pattern = selection.functions.saturating_mul(set.tags.len());
            copies = copies.saturating_add(of_pattern);
            let of_set = &mut copies_of_set
                .entry(entry.key.as_str())
                .or_insert((0, entry))
                .0;
            *of_set = of_set.saturating_add(of_pattern);
        }
    }
    let limit = copy_limit(sink.docs);
    if copies <= limit {
        return false;
    }
    let own_set = copies_of_set
        .into_values()
        .filter(|(_, entry)| !standard::is_standard_document(&sink.docs[entry.doc].name))
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.key.cmp(&a.1.key)))
        .map(|(_, entry)| entry);
    let own_function = || {
        let mut own = fn_entries.iter();
        own.find(|entry| !standard::is_standard_document(&sink.docs[entry.doc].name))
    };
    let Some(blamed) = own_set.or_else(|| own_function().copied()) else {
        return false;
    };
    let data = json!({"copies": copies, "limit": limit});
    let path = json_path![blamed.index, blamed.key.as_str()];
    sink.push(blamed.doc, path, "ErrorTagsPastLimit", data);
    true
}

fn merge_one(
    sink: &mut Sink<'_>,
    entry: &Entry<'_>,
    parsed: ParsedFunction,
    selected: &[&(&Entry<'_>, ParsedUnion)],
) -> FunctionDef {
    // The parsed result is owned: its tags are moved, not copied.
    let ParsedUnion {
        mut tags,
        positions: declared,
    } = parsed.result;
    tags.reserve(selected.iter().map(|set| set.1.tags.len()).sum());
    for (set_entry, set) in selected.iter().map(|s| (s.0, &s.1)) {
        for (name, tag) in &set.tags {
            if let Some(declared_at) = declared.get(name) {
                let set_at = set.positions.get(name).copied().unwrap_or_default();
                let here = json_path![
                    set_entry.index,
                    set_entry.key.as_str(),
                    set_at,
                    name.as_str()
                ];
                let there = json_path![entry.index, "->", *declared_at, name.as_str()];
                sink.collision(set_entry.doc, here, entry.doc, there);
            }
            let merged = Tag {
                from_errors: Some(set_entry.key.clone()),
                ..tag.clone()
            };
            tags.insert(name.clone(), merged);
        }
    }
    FunctionDef {
        name: entry.key.clone(),
        doc: parsed.doc,
        args: parsed.args,
        result: UnionDef {
            name: format!("{}.->", entry.key),
            doc: None,
            tags,
        },
        internal: parsed.internal,
        unauthenticated: parsed.unauthenticated,
        errors_regex: parsed.errors_regex,
    }
}
