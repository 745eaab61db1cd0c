//! `headers.*` definitions: request headers under the schema key, response headers
//! under `->`, every header optional.

use indexmap::IndexMap;
use serde_json::{Value, json};

use super::defs::docstring;
use super::entries::Entry;
use super::fields::parse_fields;
use super::sink::{Sink, json_path};
use super::types::Scope;
use crate::model::Field;

#[derive(Debug)]
pub(crate) struct ParsedHeaders {
    pub(crate) doc: Option<String>,
    pub(crate) request: IndexMap<String, Field>,
    pub(crate) response: IndexMap<String, Field>,
}

pub(crate) fn parse_headers(
    sink: &mut Sink<'_>,
    entry: &Entry<'_>,
    scope: &Scope<'_>,
) -> Option<ParsedHeaders> {
    let before = sink.failures.len();
    let request_path = json_path![entry.index, entry.key.as_str()];
    let request = match entry.def.get(&entry.key) {
        Some(Value::Object(body)) => {
            parse_fields(sink, entry.doc, &request_path, body, true, scope)
        }
        other => {
            let value = other.unwrap_or(&Value::Null);
            sink.type_unexpected(entry.doc, request_path.clone(), value, "Object");
            None
        }
    };
    let response_path = json_path![entry.index, "->"];
    if !entry.def.contains_key("->") {
        let data = json!({"key": "->"});
        sink.push(
            entry.doc,
            response_path.clone(),
            "RequiredObjectKeyMissing",
            data,
        );
    }
    let response = match entry.def.get("->") {
        Some(Value::Object(body)) => {
            parse_fields(sink, entry.doc, &response_path, body, true, scope)
        }
        other => {
            // The reference reports a bad response object at the request key's path.
            let value = other.unwrap_or(&Value::Null);
            sink.type_unexpected(entry.doc, request_path, value, "Object");
            None
        }
    };
    if sink.failures.len() != before {
        return None;
    }
    Some(ParsedHeaders {
        doc: docstring(entry.def),
        request: request?,
        response: response?,
    })
}
