//! `_ext.Select_`: checking a selection against what a function may select, and
//! applying a selection to a validated result.

use serde_json::{Map, Value};
use telepact_schema::{TypeKind, json_type_name};

use super::compiled::{Compiled, FieldSet, TagSet};
use super::failure::{Reason, ValidationFailure, record};

/// Checks `given` is a sub-shape of `possible`: objects may only use keys `possible` has,
/// arrays may only hold elements `possible` lists. Paths are relative to `given`.
pub(crate) fn check_select(
    path: &mut Vec<Value>,
    given: &Value,
    possible: &Value,
    failures: &mut Vec<ValidationFailure>,
) {
    match possible {
        Value::Array(allowed) => {
            let Value::Array(items) = given else {
                return type_unexpected(path, given, "Array", failures);
            };
            for (i, item) in items.iter().enumerate() {
                if !item.as_str().is_some_and(|name| lists(allowed, name)) {
                    record(failures, || {
                        let mut at = path.clone();
                        at.push(Value::from(i));
                        ValidationFailure {
                            path: at,
                            reason: Reason::ArrayElementDisallowed,
                        }
                    });
                }
            }
        }
        Value::Object(allowed) => {
            let Value::Object(entries) = given else {
                return type_unexpected(path, given, "Object", failures);
            };
            for (key, item) in entries {
                path.push(Value::String(key.clone()));
                match allowed.get(key) {
                    Some(section) => check_select(path, item, section, failures),
                    None => record(failures, || ValidationFailure {
                        path: path.clone(),
                        reason: Reason::ObjectKeyDisallowed,
                    }),
                }
                path.pop();
            }
        }
        _ => {}
    }
}

fn type_unexpected(
    path: &[Value],
    given: &Value,
    expected: &'static str,
    failures: &mut Vec<ValidationFailure>,
) {
    record(failures, || ValidationFailure {
        path: path.to_vec(),
        reason: Reason::TypeUnexpected {
            actual: json_type_name(given),
            expected,
        },
    });
}

/// A checked `@select_` with each list of names sorted and given once, so that a name
/// is found in it by binary search ([`lists`]). A list may repeat a name and be as long
/// as the request: looked up by scanning, a list of 40,000 names over a struct of as
/// many fields took 3.7 s to check and apply.
pub(crate) fn with_sorted_names(mut select: Map<String, Value>) -> Map<String, Value> {
    for value in select.values_mut() {
        match value {
            Value::Array(names) => sort_names(names),
            Value::Object(by_tag) => by_tag
                .values_mut()
                .filter_map(Value::as_array_mut)
                .for_each(sort_names),
            _ => {}
        }
    }
    select
}

fn sort_names(names: &mut Vec<Value>) {
    names.sort_unstable_by(|a, b| a.as_str().cmp(&b.as_str()));
    names.dedup();
}

/// Whether the sorted list of names `names` holds `name`: a list of
/// [`with_sorted_names`], or of what a function may select (sorted as it is made).
pub(crate) fn lists(names: &[Value], name: &str) -> bool {
    names
        .binary_search_by(|listed| listed.as_str().cmp(&Some(name)))
        .is_ok()
}

/// Removes from a validated result every struct field and union payload field the
/// selection omits. Function links are left whole.
pub(crate) struct Selector<'a> {
    pub(crate) compiled: &'a Compiled,
    pub(crate) select: &'a Map<String, Value>,
}

impl Selector<'_> {
    /// Applies the selection to a result body `{tag: payload}` in place.
    pub(crate) fn apply_result(&self, result: &TagSet, body: &mut Map<String, Value>) {
        self.apply_union(result, body);
    }

    fn apply(&self, kind: &TypeKind, value: &mut Value) {
        match (kind, value) {
            (TypeKind::Struct(id), Value::Object(map)) => {
                let entry = &self.compiled.structs[id.0 as usize];
                let selected = self.select.get(&entry.name).and_then(Value::as_array);
                self.apply_fields(&entry.fields, selected, map);
            }
            (TypeKind::Union(id), Value::Object(map)) => {
                self.apply_union(&self.compiled.unions[id.0 as usize], map);
            }
            (TypeKind::Array(inner), Value::Array(items)) => {
                for item in items {
                    self.apply(&inner.kind, item);
                }
            }
            (TypeKind::Object(inner), Value::Object(map)) => {
                for item in map.values_mut() {
                    self.apply(&inner.kind, item);
                }
            }
            _ => {}
        }
    }

    fn apply_union(&self, tags: &TagSet, map: &mut Map<String, Value>) {
        let Some((tag, Value::Object(payload))) = map.iter_mut().next() else {
            return;
        };
        let Some(entry) = tags.find(tag) else {
            return;
        };
        // A union missing from the selection, or a tag missing from the union's
        // selection, keeps all its fields.
        let selected = self
            .select
            .get(&tags.select_key)
            .and_then(Value::as_object)
            .and_then(|by_tag| by_tag.get(tag.as_str()))
            .and_then(Value::as_array);
        self.apply_fields(&entry.fields, selected, payload);
    }

    fn apply_fields(
        &self,
        fields: &FieldSet,
        selected: Option<&Vec<Value>>,
        map: &mut Map<String, Value>,
    ) {
        if let Some(names) = selected {
            map.retain(|key, _| lists(names, key));
        }
        for (key, item) in map.iter_mut() {
            if let Some(field) = fields.find(key) {
                self.apply(&field.ty.kind, item);
            }
        }
    }
}
