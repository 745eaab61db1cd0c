//! Builds the [`Schema`] from definitions that passed every check.

use indexmap::IndexMap;
use serde_json::Value;

use super::defs::{ParsedUnion, docstring};
use super::entries::Entry;
use super::headers::ParsedHeaders;
use super::with_prefix;
use crate::document::Document;
use crate::model::{
    ErrorsDef, FullListing, FunctionDef, HeadersDef, InfoDef, Schema, StructDef, TypeName, UnionDef,
};

/// The finished definition arenas.
pub(super) struct Arenas {
    pub(super) structs: Vec<StructDef>,
    pub(super) unions: Vec<UnionDef>,
    pub(super) functions: Vec<FunctionDef>,
}

/// Whether a document's definitions belong to what `fn.api_` shows by default: the
/// user's documents and the auth definitions, not the other standard ones.
fn is_original(document_name: &str) -> bool {
    document_name == "auto_" || document_name == "auth_" || !document_name.ends_with('_')
}

/// `info.*` first, then by schema key.
fn listing_order(entries: &mut [&Entry<'_>]) {
    entries.sort_by(|a, b| {
        let rank = |e: &Entry<'_>| !e.key.starts_with("info.");
        (rank(a), &a.key).cmp(&(rank(b), &b.key))
    });
}

pub(super) fn assemble(
    docs: &[Document],
    entries: &[Entry<'_>],
    names: IndexMap<String, TypeName>,
    arenas: Arenas,
    error_sets: Vec<(&Entry<'_>, ParsedUnion)>,
    headers: Vec<(&Entry<'_>, ParsedHeaders)>,
) -> Schema {
    let mut listed: Vec<&Entry<'_>> = entries.iter().collect();
    listing_order(&mut listed);
    let mut original = Vec::new();
    let mut standard = Vec::new();
    for (position, entry) in listed.iter().enumerate() {
        let definition = Value::Object(entry.def.clone());
        if is_original(&docs[entry.doc].name) {
            original.push(definition);
        } else {
            standard.push((position, definition));
        }
    }

    let mut errors: Vec<ErrorsDef> = error_sets
        .into_iter()
        .map(|(entry, union)| ErrorsDef {
            name: entry.key.clone(),
            doc: docstring(entry.def),
            tags: union.tags,
        })
        .collect();
    errors.sort_by(|a, b| a.name.cmp(&b.name));

    let mut headers: Vec<HeadersDef> = headers
        .into_iter()
        .map(|(entry, parsed)| HeadersDef {
            name: entry.key.clone(),
            doc: parsed.doc,
            request: parsed.request,
            response: parsed.response,
        })
        .collect();
    headers.sort_by(|a, b| a.name.cmp(&b.name));
    let request_headers = headers.iter().flat_map(|h| h.request.clone()).collect();
    let response_headers = headers.iter().flat_map(|h| h.response.clone()).collect();

    let mut infos: Vec<InfoDef> = with_prefix(entries, "info.")
        .into_iter()
        .map(|entry| InfoDef {
            name: entry.key.clone(),
            doc: docstring(entry.def),
        })
        .collect();
    infos.sort_by(|a, b| a.name.cmp(&b.name));

    Schema {
        original,
        full: FullListing::new(standard),
        structs: arenas.structs,
        unions: arenas.unions,
        functions: arenas.functions,
        errors,
        headers,
        infos,
        request_headers,
        response_headers,
        names,
    }
}
