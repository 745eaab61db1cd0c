//! Adds the tags of every matching `errors.*` set to each function's result.

use regex::Regex;

use super::defs::ParsedUnion;
use super::entries::Entry;
use super::function::ParsedFunction;
use super::sink::{Sink, json_path};
use crate::model::{FunctionDef, Tag, UnionDef};

/// Whether `regex` matches at the start of `text` (the reference's `re.match`).
fn matches_at_start(regex: &Regex, text: &str) -> bool {
    regex.find(text).is_some_and(|m| m.start() == 0)
}

/// Builds each function (arena order = schema-key order) with the tags of the error
/// sets its `errors_regex` selects. A set may not redeclare a tag the function's
/// result already declares.
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
    functions
        .into_iter()
        .zip(fn_entries)
        .map(|(parsed, entry)| Some(merge_one(sink, entry, parsed?, &sets)))
        .collect()
}

fn merge_one(
    sink: &mut Sink<'_>,
    entry: &Entry<'_>,
    parsed: ParsedFunction,
    sets: &[&(&Entry<'_>, ParsedUnion)],
) -> FunctionDef {
    // The parsed result is owned: its tags are moved, not copied.
    let ParsedUnion {
        mut tags,
        positions: declared,
    } = parsed.result;
    let selected: Vec<_> = sets
        .iter()
        .filter(|set| matches_at_start(&parsed.errors_matcher, &set.0.key))
        .collect();
    tags.reserve(selected.iter().map(|set| set.1.tags.len()).sum());
    for (set_entry, set) in selected.into_iter().map(|s| (s.0, &s.1)) {
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
