//! What a `@select_` header may name for one function: the result's `Ok_` fields under
//! `->`, and the fields of every struct and union reachable from them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use telepact_schema::{Field, Schema, UnionDef};

/// A struct or union reachable from a result, by schema key.
enum Reachable<'a> {
    Struct(&'a indexmap::IndexMap<String, Field>),
    Union(&'a UnionDef),
}

/// The selection object's allowed shape for a function result.
pub(crate) fn possible_select(schema: &Schema, result: &UnionDef) -> Value {
    let ok_fields = result.tags.get("Ok_").map(|t| &t.fields);
    let ok_names = ok_fields.map_or_else(Vec::new, |fields| sorted_keys(fields.keys()));
    let reached = schema.types_reachable_from(ok_fields.into_iter().flat_map(|f| f.values()));
    // By schema key, structs and unions together, as the selection object lists them.
    let mut reachable: BTreeMap<&str, Reachable> = BTreeMap::new();
    for id in reached.structs {
        let def = schema.struct_def(id);
        reachable.insert(&def.name, Reachable::Struct(&def.fields));
    }
    for id in reached.unions {
        let def = schema.union_def(id);
        reachable.insert(&def.name, Reachable::Union(def));
    }

    let mut select = Map::new();
    let mut arrow = Map::new();
    arrow.insert("Ok_".to_string(), Value::Array(ok_names));
    select.insert("->".to_string(), Value::Object(arrow));
    for (name, what) in reachable {
        match what {
            Reachable::Struct(fields) => {
                let names = sorted_keys(fields.keys());
                if !names.is_empty() {
                    select.insert(name.to_string(), Value::Array(names));
                }
            }
            Reachable::Union(union) => {
                let mut tags: Vec<_> = union.tags.values().collect();
                tags.sort_by(|a, b| a.name.cmp(&b.name));
                let mut by_tag = Map::new();
                for tag in tags {
                    let names = sorted_keys(tag.fields.keys());
                    if !names.is_empty() {
                        by_tag.insert(tag.name.clone(), Value::Array(names));
                    }
                }
                select.insert(name.to_string(), Value::Object(by_tag));
            }
        }
    }
    Value::Object(select)
}

fn sorted_keys<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<Value> {
    let mut keys: Vec<&String> = keys.collect();
    keys.sort();
    keys.into_iter().map(|k| Value::String(k.clone())).collect()
}
