//! Struct-like field lists: struct bodies, union tag payloads, function arguments and
//! headers.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::sink::{Sink, join};
use super::types::{Scope, parse_type};
use crate::model::Field;

/// The pattern a field key must match, as reported in failures.
const FIELD_REGEX: &str = r"^([a-z][a-zA-Z0-9_]*)(!)?$";
/// The pattern a header key must match, as reported in failures.
const HEADER_REGEX: &str = r"^@[a-z][a-zA-Z0-9_]*$";

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `Some(optional)` when `key` is a valid field key (`name` or `name!`).
fn field_key(key: &str) -> Option<bool> {
    match key.strip_suffix('!') {
        Some(name) => is_identifier(name).then_some(true),
        None => is_identifier(key).then_some(false),
    }
}

fn header_key(key: &str) -> bool {
    key.strip_prefix('@').is_some_and(is_identifier)
}

/// The part of a key before its first `!`: what two keys must not share.
fn base_name(key: &str) -> &str {
    key.find('!').map_or(key, |end| &key[..end])
}

/// Parses the fields of `body`, found at `path`. Headers (`is_header`) are `@name`
/// keys and always optional. All failures are recorded before giving up.
pub(crate) fn parse_fields(
    sink: &mut Sink<'_>,
    doc: usize,
    path: &[Value],
    body: &Map<String, Value>,
    is_header: bool,
    scope: &Scope<'_>,
) -> Option<IndexMap<String, Field>> {
    let before = sink.failures.len();
    let mut fields: IndexMap<String, Field> = IndexMap::with_capacity(body.len());
    // How many fields in `fields` have each base name: a key repeats each of them.
    let mut names: HashMap<&str, usize> = HashMap::with_capacity(body.len());
    // One path buffer for all fields: only its last segment changes.
    let mut field_path = join(path, Value::Null);
    for (key, declaration) in body {
        let name = base_name(key);
        for _ in 0..names.get(name).copied().unwrap_or(0) {
            sink.push(doc, path.to_vec(), "DuplicateField", json!({"field": name}));
        }
        let optional = if is_header {
            header_key(key).then_some(true)
        } else {
            field_key(key)
        };
        let Some(optional) = optional else {
            let regex = if is_header { HEADER_REGEX } else { FIELD_REGEX };
            let data = json!({"regex": regex});
            sink.push(doc, join(path, key.as_str()), "KeyRegexMatchFailed", data);
            continue;
        };
        if let Some(last) = field_path.last_mut() {
            *last = Value::String(key.clone());
        }
        let Some(ty) = parse_type(sink, doc, &field_path, declaration, scope) else {
            continue;
        };
        let field = Field {
            key: key.clone(),
            name: key.strip_suffix('!').unwrap_or(key).to_string(),
            optional,
            ty,
        };
        fields.insert(key.clone(), field);
        *names.entry(name).or_insert(0) += 1;
    }
    (sink.failures.len() == before && fields.len() == body.len()).then_some(fields)
}
