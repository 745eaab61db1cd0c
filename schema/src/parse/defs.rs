//! Struct, union and error-set definitions.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::entries::Entry;
use super::fields::parse_fields;
use super::sink::{Sink, join, json_path};
use super::types::Scope;
use crate::model::{Field, Tag};

/// The pattern a union tag must match, as reported in failures.
const TAG_REGEX: &str = r"^([A-Z][a-zA-Z0-9_]*)$";
/// The docstring key.
pub(crate) const DOC_KEY: &str = "///";

fn is_tag(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The `///` docstring of a definition or tag: a string, or lines joined by `\n`.
pub(crate) fn docstring(object: &Map<String, Value>) -> Option<String> {
    match object.get(DOC_KEY)? {
        Value::String(text) => Some(text.clone()),
        Value::Array(lines) => {
            let lines: Option<Vec<&str>> = lines.iter().map(Value::as_str).collect();
            Some(lines?.join("\n"))
        }
        _ => None,
    }
}

/// Records `ObjectKeyDisallowed` for each key of `def` that `allowed` rejects.
pub(crate) fn reject_other_keys(
    sink: &mut Sink<'_>,
    entry: &Entry<'_>,
    allowed: impl Fn(&str) -> bool,
) {
    for key in entry.def.keys() {
        if key != &entry.key && key != DOC_KEY && !allowed(key) {
            let path = json_path![entry.index, key.as_str()];
            sink.push(entry.doc, path, "ObjectKeyDisallowed", json!({}));
        }
    }
}

/// A struct body (`struct.*`, or a function's argument struct when `extra_keys`
/// allows `->` and `_errors`).
pub(crate) fn parse_struct(
    sink: &mut Sink<'_>,
    entry: &Entry<'_>,
    extra_keys: &[&str],
    scope: &Scope<'_>,
) -> Option<IndexMap<String, Field>> {
    let before = sink.failures.len();
    reject_other_keys(sink, entry, |key| {
        key == "_ignoreIfDuplicate" || key.starts_with('$') || extra_keys.contains(&key)
    });
    let body_path = json_path![entry.index, entry.key.as_str()];
    let body = match entry.def.get(&entry.key) {
        Some(Value::Object(body)) => Some(body),
        other => {
            sink.type_unexpected(
                entry.doc,
                body_path.clone(),
                other.unwrap_or(&Value::Null),
                "Object",
            );
            None
        }
    };
    if sink.failures.len() != before {
        return None;
    }
    parse_fields(sink, entry.doc, &body_path, body?, false, scope)
}

/// A parsed union: its tags and each tag's position in the definition's array.
#[derive(Debug, Default)]
pub(crate) struct ParsedUnion {
    pub(crate) tags: IndexMap<String, Tag>,
    pub(crate) positions: HashMap<String, usize>,
}

/// How a union definition is checked.
pub(crate) struct UnionRules<'r> {
    /// The key holding the tag array (the schema key, or `->` for a function result).
    pub(crate) key: &'r str,
    /// Whether keys besides `key` and `///` are tolerated (a function result shares
    /// its object with the argument struct).
    pub(crate) other_keys_allowed: bool,
    /// Tags that must be present (`Ok_` for a function result).
    pub(crate) required_tags: &'r [&'r str],
}

/// A union body: `[{"Tag": {fields}}, ...]`, each element optionally with `///`.
pub(crate) fn parse_union(
    sink: &mut Sink<'_>,
    entry: &Entry<'_>,
    rules: &UnionRules<'_>,
    scope: &Scope<'_>,
) -> Option<ParsedUnion> {
    let before = sink.failures.len();
    if !rules.other_keys_allowed {
        reject_other_keys(sink, entry, |key| key == rules.key);
    }
    let body_path = json_path![entry.index, rules.key];
    let elements = match entry.def.get(rules.key) {
        Some(Value::Array(elements)) => elements,
        other => {
            let value = other.unwrap_or(&Value::Null);
            sink.type_unexpected(entry.doc, body_path, value, "Array");
            return None;
        }
    };
    let mut objects = Vec::with_capacity(elements.len());
    for (i, element) in elements.iter().enumerate() {
        match element {
            Value::Object(object) => objects.push(object),
            _ => sink.type_unexpected(entry.doc, join(&body_path, i), element, "Object"),
        }
    }
    if sink.failures.len() != before {
        return None;
    }
    check_required_tags(sink, entry.doc, &body_path, &objects, rules.required_tags);
    let mut union = ParsedUnion {
        tags: IndexMap::with_capacity(objects.len()),
        positions: HashMap::with_capacity(objects.len()),
    };
    let mut all_parsed = true;
    let mut tag_path = join(&body_path, 0);
    for (i, object) in objects.iter().enumerate() {
        // One path buffer for all tags: only its last segment changes.
        if let Some(last) = tag_path.last_mut() {
            *last = Value::from(i);
        }
        match parse_tag(sink, entry.doc, &tag_path, object, scope) {
            Some((name, tag)) => {
                union.positions.insert(name.clone(), i);
                union.tags.insert(name, tag);
            }
            None => all_parsed = false,
        }
    }
    (all_parsed && sink.failures.len() == before).then_some(union)
}

fn check_required_tags(
    sink: &mut Sink<'_>,
    doc: usize,
    body_path: &[Value],
    objects: &[&Map<String, Value>],
    required: &[&str],
) {
    if objects.is_empty() {
        sink.push(doc, body_path.to_vec(), "EmptyArrayDisallowed", json!({}));
        return;
    }
    for tag in required {
        if !objects.iter().any(|object| object.contains_key(*tag)) {
            let data = json!({"key": tag});
            sink.push(doc, join(body_path, 0), "RequiredObjectKeyMissing", data);
        }
    }
}

/// One element of a union array: exactly one tag key besides `///`.
fn parse_tag(
    sink: &mut Sink<'_>,
    doc: usize,
    tag_path: &[Value],
    object: &Map<String, Value>,
    scope: &Scope<'_>,
) -> Option<(String, Tag)> {
    let keys: Vec<&String> = object.keys().filter(|k| *k != DOC_KEY).collect();
    let matching = keys.iter().filter(|k| is_tag(k)).count();
    if matching != 1 {
        let data = json!({"regex": TAG_REGEX, "actual": matching, "expected": 1, "keys": keys});
        sink.push(
            doc,
            tag_path.to_vec(),
            "ObjectKeyRegexMatchCountUnexpected",
            data,
        );
        return None;
    }
    if keys.len() != 1 {
        let data = json!({"expected": 1, "actual": keys.len()});
        sink.push(doc, tag_path.to_vec(), "ObjectSizeUnexpected", data);
        return None;
    }
    let name = keys[0].clone();
    let payload_path = join(tag_path, name.as_str());
    let Some(Value::Object(payload)) = object.get(&name) else {
        let value = object.get(&name).unwrap_or(&Value::Null);
        sink.type_unexpected(doc, payload_path, value, "Object");
        return None;
    };
    let fields = parse_fields(sink, doc, &payload_path, payload, false, scope)?;
    let tag = Tag {
        name: name.clone(),
        doc: docstring(object),
        fields,
        from_errors: None,
    };
    Some((name, tag))
}

/// An `errors.*` definition: only its key and `///` are allowed besides the tags.
pub(crate) fn parse_errors(
    sink: &mut Sink<'_>,
    entry: &Entry<'_>,
    scope: &Scope<'_>,
) -> Option<ParsedUnion> {
    let before = sink.failures.len();
    reject_other_keys(sink, entry, |_| false);
    if sink.failures.len() != before {
        return None;
    }
    let rules = UnionRules {
        key: &entry.key,
        other_keys_allowed: true,
        required_tags: &[],
    };
    parse_union(sink, entry, &rules, scope)
}
