//! Turns parsed documents into a [`Schema`], reporting every failure.
//!
//! The checks run in stages, as in the reference implementations: each stage runs
//! over every definition and collects all its failures, and a later stage runs only
//! when the earlier ones found nothing (its checks assume a well-formed input).

mod assemble;
mod collide;
mod defs;
mod entries;
mod fields;
mod function;
mod headers;
pub(crate) mod merge;
mod sink;
mod types;

use std::collections::HashSet;

use indexmap::IndexMap;
use serde_json::{Value, json};

use crate::document::Document;
use crate::error::SchemaFailure;
use crate::model::{
    FunctionDef, FunctionId, Schema, StructDef, StructId, TypeName, UnionDef, UnionId,
};
use crate::shortest::UNENDING;
use defs::{ParsedUnion, UnionRules, docstring};
use entries::Entry;
use function::ParsedFunction;
use headers::ParsedHeaders;
use sink::{Sink, json_path};
use types::{NameMeaning, Scope, TYPE_NAME_REGEX, parse_type_name};

pub(crate) use entries::{find_schema_key, is_schema_key};

type Staged<T> = Result<T, Vec<SchemaFailure>>;

/// Stops after a stage that found failures.
fn checkpoint(sink: &mut Sink<'_>) -> Staged<()> {
    if sink.has_failures() {
        Err(std::mem::take(&mut sink.failures))
    } else {
        Ok(())
    }
}

/// Parses `docs` (sorted by name) into a schema.
pub(crate) fn parse(docs: &[Document]) -> Staged<Schema> {
    let mut sink = Sink::new(docs);
    check_roots(&mut sink);
    checkpoint(&mut sink)?;
    let entries = entries::index_definitions(&mut sink, docs);
    checkpoint(&mut sink)?;

    let names = allocate_names(&entries);
    let defined: HashSet<String> = entries.iter().map(|e| e.key.clone()).collect();
    let scope = Scope {
        names: &names,
        defined: &defined,
    };
    let parsed = parse_types(&mut sink, &entries, &scope);
    checkpoint(&mut sink)?;

    let error_entries: Vec<&Entry<'_>> = with_prefix(&entries, "errors.");
    let error_sets: Vec<(&Entry<'_>, ParsedUnion)> = error_entries
        .iter()
        .filter_map(|entry| Some((*entry, defs::parse_errors(&mut sink, entry, &scope)?)))
        .collect();
    checkpoint(&mut sink)?;
    collide::error_set_collisions(&mut sink, &error_entries);
    checkpoint(&mut sink)?;

    let fn_entries = with_prefix(&entries, "fn.");
    let functions = merge::merge_errors(&mut sink, &fn_entries, parsed.functions, &error_sets);
    checkpoint(&mut sink)?;
    let structs = complete(parsed.structs, &mut sink)?;
    let unions = complete(parsed.unions, &mut sink)?;
    let functions = complete(functions, &mut sink)?;

    report_unterminated(&mut sink, &entries, &names, &structs, &unions, &functions);
    let header_entries = with_prefix(&entries, "headers.");
    let headers: Vec<(&Entry<'_>, ParsedHeaders)> = header_entries
        .iter()
        .filter_map(|entry| Some((*entry, headers::parse_headers(&mut sink, entry, &scope)?)))
        .collect();
    checkpoint(&mut sink)?;
    collide::header_collisions(&mut sink, &header_entries);
    checkpoint(&mut sink)?;

    Ok(assemble::assemble(
        docs,
        &entries,
        names,
        assemble::Arenas {
            structs,
            unions,
            functions,
        },
        error_sets,
        headers,
    ))
}

/// Each document must be a JSON array (YAML documents that are not sequences were
/// already refused as unreadable).
fn check_roots(sink: &mut Sink<'_>) {
    for (doc, document) in sink.docs.iter().enumerate() {
        match document.root.as_deref() {
            None => sink.push(doc, Vec::new(), "JsonInvalid", json!({})),
            Some(Value::Array(_)) => {}
            Some(other) => sink.type_unexpected(doc, Vec::new(), other, "Array"),
        }
    }
}

fn with_prefix<'a, 'd>(entries: &'a [Entry<'d>], prefix: &str) -> Vec<&'a Entry<'d>> {
    entries
        .iter()
        .filter(|entry| entry.key.starts_with(prefix))
        .collect()
}

/// Gives every struct, union and function an id, each kind numbered in schema-key
/// order, and records the `_ext.*` extensions that are defined.
fn allocate_names(entries: &[Entry<'_>]) -> IndexMap<String, TypeName> {
    let mut keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    keys.sort_unstable();
    let (mut structs, mut unions, mut functions) = (0u32, 0u32, 0u32);
    let mut names = IndexMap::new();
    for key in keys {
        let name = if key.starts_with("struct.") {
            structs += 1;
            TypeName::Struct(StructId(structs - 1))
        } else if key.starts_with("union.") {
            unions += 1;
            TypeName::Union(UnionId(unions - 1))
        } else if key.starts_with("fn.") {
            functions += 1;
            TypeName::Function(FunctionId(functions - 1))
        } else if key == "_ext.Select_" {
            TypeName::Select
        } else if key == "_ext.Call_" {
            TypeName::MockCall
        } else if key == "_ext.Stub_" {
            TypeName::MockStub
        } else {
            continue;
        };
        names.insert(key.to_string(), name);
    }
    names
}

/// The definitions of the type stage, by arena index (`None` where one failed).
struct ParsedTypes {
    structs: Vec<Option<StructDef>>,
    unions: Vec<Option<UnionDef>>,
    functions: Vec<Option<ParsedFunction>>,
}

fn count(names: &IndexMap<String, TypeName>, kind: fn(&TypeName) -> bool) -> usize {
    names.values().filter(|name| kind(name)).count()
}

/// Parses every struct, union, function and type extension.
fn parse_types(sink: &mut Sink<'_>, entries: &[Entry<'_>], scope: &Scope<'_>) -> ParsedTypes {
    let names = scope.names;
    let mut parsed = ParsedTypes {
        structs: (0..count(names, |n| matches!(n, TypeName::Struct(_))))
            .map(|_| None)
            .collect(),
        unions: (0..count(names, |n| matches!(n, TypeName::Union(_))))
            .map(|_| None)
            .collect(),
        functions: (0..count(names, |n| matches!(n, TypeName::Function(_))))
            .map(|_| None)
            .collect(),
    };
    for entry in entries {
        let key = entry.key.as_str();
        let is_type = ["struct", "union", "fn.", "_ext"]
            .iter()
            .any(|p| key.starts_with(p));
        if !is_type {
            continue;
        }
        if !matches!(parse_type_name(key), Some(NameMeaning::Custom(_))) {
            let data = json!({"regex": TYPE_NAME_REGEX});
            sink.push(
                entry.doc,
                json_path![entry.index],
                "StringRegexMatchFailed",
                data,
            );
            continue;
        }
        match names.get(key) {
            Some(TypeName::Struct(id)) => {
                parsed.structs[id.0 as usize] =
                    defs::parse_struct(sink, entry, &[], scope).map(|fields| StructDef {
                        name: entry.key.clone(),
                        doc: docstring(entry.def),
                        fields,
                    });
            }
            Some(TypeName::Union(id)) => {
                let rules = UnionRules {
                    key,
                    other_keys_allowed: false,
                    required_tags: &[],
                };
                parsed.unions[id.0 as usize] =
                    defs::parse_union(sink, entry, &rules, scope).map(|union| UnionDef {
                        name: entry.key.clone(),
                        doc: docstring(entry.def),
                        tags: union.tags,
                    });
            }
            Some(TypeName::Function(id)) => {
                parsed.functions[id.0 as usize] = function::parse_function(sink, entry, scope);
            }
            Some(TypeName::Select | TypeName::MockCall | TypeName::MockStub) => {}
            None => {
                let data = json!({"name": key});
                sink.push(
                    entry.doc,
                    json_path![entry.index],
                    "TypeExtensionImplementationMissing",
                    data,
                );
            }
        }
    }
    parsed
}

/// All definitions of an arena, once every stage passed. A missing one can only
/// follow a failure that is already recorded.
fn complete<T>(arena: Vec<Option<T>>, sink: &mut Sink<'_>) -> Staged<Vec<T>> {
    arena
        .into_iter()
        .collect::<Option<Vec<T>>>()
        .ok_or_else(|| std::mem::take(&mut sink.failures))
}

/// Reports each struct, union, function argument and result that cannot terminate.
fn report_unterminated(
    sink: &mut Sink<'_>,
    entries: &[Entry<'_>],
    names: &IndexMap<String, TypeName>,
    structs: &[StructDef],
    unions: &[UnionDef],
    functions: &[FunctionDef],
) {
    let depths = crate::shortest::compute(structs, unions, functions);
    for entry in entries {
        let unterminated: Vec<Vec<Value>> = match names.get(&entry.key) {
            Some(TypeName::Struct(id)) if depths.struct_depth(*id) == UNENDING => {
                vec![json_path![entry.index, entry.key.as_str()]]
            }
            Some(TypeName::Union(id)) if depths.union_depth(*id) == UNENDING => {
                vec![json_path![entry.index, entry.key.as_str()]]
            }
            Some(TypeName::Function(id)) => {
                let mut paths = Vec::new();
                if depths.arguments_depth(*id) == UNENDING {
                    paths.push(json_path![entry.index, entry.key.as_str()]);
                }
                if depths.result_depth(*id) == UNENDING {
                    paths.push(json_path![entry.index, "->"]);
                }
                paths
            }
            _ => Vec::new(),
        };
        for path in unterminated {
            sink.push(entry.doc, path, "RecursiveTypeUnterminated", json!({}));
        }
    }
}
