//! What a `@select_` header may name for one function: the result's `Ok_` fields under
//! `->`, and the fields of every struct and union reachable from them.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};
use telepact_schema::{Field, FunctionId, Schema, TypeExpr, TypeKind, UnionDef};

use super::compiled::declared_tags;

/// A struct or union reachable from a result, by schema key.
enum Reachable<'a> {
    Struct(&'a indexmap::IndexMap<String, Field>),
    Union(&'a UnionDef),
}

/// The selection object's allowed shape for a function result.
pub(crate) fn possible_select(schema: &Schema, result: &UnionDef) -> Value {
    let ok_fields = result.tags.get("Ok_").map(|t| &t.fields);
    let mut reachable: BTreeMap<&str, Reachable> = BTreeMap::new();
    let mut visited_results: HashSet<FunctionId> = HashSet::new();
    let mut ok_names: Vec<Value> = Vec::new();
    if let Some(fields) = ok_fields {
        let mut keys: Vec<&String> = fields.keys().collect();
        keys.sort();
        ok_names = keys.into_iter().map(|k| Value::String(k.clone())).collect();
        for field in fields.values() {
            collect(schema, &field.ty, &mut reachable, &mut visited_results);
        }
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

fn collect<'a>(
    schema: &'a Schema,
    ty: &TypeExpr,
    reachable: &mut BTreeMap<&'a str, Reachable<'a>>,
    visited_results: &mut HashSet<FunctionId>,
) {
    match &ty.kind {
        TypeKind::Array(inner) | TypeKind::Object(inner) => {
            collect(schema, inner, reachable, visited_results)
        }
        TypeKind::Struct(id) => {
            let def = schema.struct_def(*id);
            if reachable.contains_key(def.name.as_str()) {
                return;
            }
            reachable.insert(&def.name, Reachable::Struct(&def.fields));
            for field in def.fields.values() {
                collect(schema, &field.ty, reachable, visited_results);
            }
        }
        TypeKind::Union(id) => {
            let def = schema.union_def(*id);
            if reachable.contains_key(def.name.as_str()) {
                return;
            }
            reachable.insert(&def.name, Reachable::Union(def));
            for tag in def.tags.values() {
                for field in tag.fields.values() {
                    collect(schema, &field.ty, reachable, visited_results);
                }
            }
        }
        TypeKind::FunctionLink(id) => {
            if !visited_results.insert(*id) {
                return;
            }
            let result = &schema.function(*id).result;
            for tag in declared_tags(result) {
                for field in tag.fields.values() {
                    collect(schema, &field.ty, reachable, visited_results);
                }
            }
        }
        _ => {}
    }
}
