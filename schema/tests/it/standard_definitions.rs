//! The embedded standard definitions name and type exactly what the protocol's
//! `spec/` documents do (docstrings are free to differ).

use crate::common;

use serde_json::Value;
use telepact_schema::Schema;

/// Drops every `///` docstring, recursively.
fn without_docs(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| *k != "///")
                .map(|(k, v)| (k.clone(), without_docs(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_docs).collect()),
        other => other.clone(),
    }
}

fn definitions(schema: &Schema) -> Vec<Value> {
    schema.full().iter().map(without_docs).collect()
}

const AUTH_UNION: &str = r#"[{"union.Auth_": [{"Token": {"token": "string"}}]}]"#;

/// Loads a spec document beside `extra`: the spec document then carries its standard
/// definitions itself, so the loader adds none of its own.
fn spec(name: &str, extra: &str) -> Option<Vec<Value>> {
    let path = common::conformance_dir()?.join("spec").join(name);
    let text = std::fs::read_to_string(&path).expect("spec document");
    let schema = Schema::from_documents([(name, text.as_str()), ("extra.json", extra)])
        .unwrap_or_else(|e| panic!("{e}"));
    Some(definitions(&schema))
}

fn auth_only(definitions: Vec<Value>) -> Vec<Value> {
    definitions
        .into_iter()
        .filter(|def| {
            def.as_object()
                .is_some_and(|d| d.contains_key("headers.Auth_") || d.contains_key("errors.Auth_"))
        })
        .collect()
}

#[test]
fn internal_definitions_match_the_spec() {
    let Some(expected) = spec("internal.telepact.yaml", "[]") else {
        return;
    };
    let ours = Schema::from_text("[]").expect("empty schema loads");
    assert_eq!(definitions(&ours), expected);
    assert!(ours.original().is_empty());
}

#[test]
fn auth_definitions_match_the_spec() {
    let Some(expected) = spec("auth.telepact.yaml", AUTH_UNION) else {
        return;
    };
    let ours = Schema::from_text(AUTH_UNION).expect("auth schema loads");
    let expected = auth_only(expected);
    assert_eq!(expected.len(), 2);
    assert_eq!(auth_only(definitions(&ours)), expected);
}
