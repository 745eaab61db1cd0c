//! The standard definitions every schema gets: `fn.ping_`, `fn.api_`, the standard
//! headers and errors, and (when the schema declares `union.Auth_`) the auth ones.
//!
//! They are parsed once per process and shared by every load, as are the locations of
//! their definitions (needed only to report a failure that points into them).

use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::Value;

use crate::document::{Document, Format, Locations, yaml_to_json};
use crate::parse::find_schema_key;

const INTERNAL_TEXT: &str = include_str!("standard/internal.telepact.yaml");
const AUTH_TEXT: &str = include_str!("standard/auth.telepact.yaml");
const MOCK_TEXT: &str = include_str!("standard/mock-internal.telepact.yaml");

/// Document name of the standard definitions (not shown by `fn.api_` by default).
pub(crate) const INTERNAL_NAME: &str = "internal_";
/// Document name of the auth definitions (shown by `fn.api_`).
pub(crate) const AUTH_NAME: &str = "auth_";
/// Document name of a mock server's definitions (not shown by `fn.api_` by default).
pub(crate) const MOCK_NAME: &str = "mock_";

/// Whether `name` is one of the standard definitions' documents.
pub(crate) fn is_standard_document(name: &str) -> bool {
    [INTERNAL_NAME, AUTH_NAME, MOCK_NAME].contains(&name)
}

struct Standard {
    text: &'static str,
    value: Option<Value>,
    keys: HashSet<String>,
    /// Located on the first failure that points into these definitions.
    locations: OnceLock<Option<Locations>>,
}

impl Standard {
    fn parse(text: &'static str) -> Standard {
        let value = yaml_to_json(text);
        let keys = schema_keys([value.as_ref()]).unwrap_or_default();
        Standard {
            text,
            value,
            keys,
            locations: OnceLock::new(),
        }
    }

    fn document(&'static self, name: &str) -> Document {
        Document::parsed(
            name,
            self.text,
            Format::Yaml,
            self.value.as_ref(),
            &self.locations,
        )
    }
}

fn internal() -> &'static Standard {
    static INTERNAL: OnceLock<Standard> = OnceLock::new();
    INTERNAL.get_or_init(|| Standard::parse(INTERNAL_TEXT))
}

fn auth() -> &'static Standard {
    static AUTH: OnceLock<Standard> = OnceLock::new();
    AUTH.get_or_init(|| Standard::parse(AUTH_TEXT))
}

fn mock() -> &'static Standard {
    static MOCK: OnceLock<Standard> = OnceLock::new();
    MOCK.get_or_init(|| Standard::parse(MOCK_TEXT))
}

/// The schema keys of all definitions of `roots`, or `None` when a root is not an
/// array or a definition has no single schema key (the documents are invalid and the
/// loader reports why).
fn schema_keys<'a>(roots: impl IntoIterator<Item = Option<&'a Value>>) -> Option<HashSet<String>> {
    let mut keys = HashSet::new();
    for root in roots {
        for definition in root?.as_array()? {
            if let Value::Object(def) = definition {
                keys.insert(find_schema_key(def).ok()?);
            }
        }
    }
    Some(keys)
}

/// Whether any document defines `union.Auth_`.
fn declares_auth(docs: &[Document]) -> bool {
    docs.iter()
        .filter_map(|doc| doc.root.as_deref()?.as_array())
        .flatten()
        .filter_map(Value::as_object)
        .any(|def| def.contains_key("union.Auth_"))
}

/// Adds the standard documents the user's documents need and do not already hold
/// (a schema echoed back from `fn.api_` already carries them); with `mock`, also the
/// mock server's definitions.
pub(crate) fn add_standard_documents(docs: &mut Vec<Document>, mock: bool) {
    let provided = schema_keys(docs.iter().map(|doc| doc.root.as_deref())).unwrap_or_default();
    let needs_auth = declares_auth(docs);
    let internal = internal();
    if !internal.keys.is_subset(&provided) {
        docs.push(internal.document(INTERNAL_NAME));
    }
    let auth = auth();
    if needs_auth && !auth.keys.is_subset(&provided) {
        docs.push(auth.document(AUTH_NAME));
    }
    let mock_definitions = self::mock();
    if mock && !mock_definitions.keys.is_subset(&provided) {
        docs.push(mock_definitions.document(MOCK_NAME));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_documents_parse() {
        assert!(
            internal().value.is_some(),
            "internal definitions must parse"
        );
        assert!(auth().value.is_some(), "auth definitions must parse");
        assert!(mock().value.is_some(), "mock definitions must parse");
        assert!(mock().keys.contains("_ext.Stub_"));
        assert!(internal().keys.contains("fn.ping_"));
        assert!(internal().keys.contains("_ext.Select_"));
        assert!(auth().keys.contains("errors.Auth_"));
    }

    #[test]
    fn mock_schemas_add_the_mock_definitions_out_of_the_public_listing() {
        use crate::{Schema, TypeKind, TypeName};

        let text = r#"[{"fn.find": {"id": "integer"}, "->": [{"Ok_": {}}]}]"#;
        let plain = Schema::from_text(text).expect("schema loads");
        assert!(!plain.has_mock_definitions());
        let mocked = plain.with_mock_definitions().expect("mock schema loads");
        assert!(mocked.has_mock_definitions());
        assert_eq!(mocked.names.get("_ext.Stub_"), Some(&TypeName::MockStub));
        assert_eq!(mocked.names.get("_ext.Call_"), Some(&TypeName::MockCall));
        let (_, create) = mocked.function_by_name("fn.createStub_").expect("defined");
        assert!(create.internal);
        assert_eq!(create.args["stub"].ty.kind, TypeKind::MockStub);
        let (_, find) = mocked.function_by_name("fn.find").expect("defined");
        assert!(find.result.tags.contains_key("ErrorNoMatchingStub_"));
        assert_eq!(mocked.original, plain.original);
        assert_eq!(mocked.full().len(), plain.full().len() + mock().keys.len());
        let direct = Schema::mock_from_documents([("auto_", text)]).expect("mock schema loads");
        assert_eq!(direct.full(), mocked.full());
    }

    /// A load keeps one copy of the user's definitions: the full listing is put
    /// together only when asked for, and then stays.
    #[test]
    fn the_full_listing_is_built_when_first_asked_for() {
        let schema = crate::Schema::from_text(r#"[{"fn.a": {}, "->": [{"Ok_": {}}]}]"#)
            .expect("schema loads");
        assert!(!schema.full.is_built());
        let first = schema.full().as_ptr();
        assert!(schema.full.is_built());
        assert_eq!(schema.full().as_ptr(), first);
    }

    /// A user definition repeating a standard one is reported in the standard document
    /// (`auto_` sorts first), at the same location whether the standard document's
    /// locations are scanned (first load) or reused (every later one).
    #[test]
    fn collisions_locate_standard_definitions_the_same_every_load() {
        let text = r#"[{"fn.ping_": {}, "->": [{"Ok_": {}}]}]"#;
        let failures = || match crate::Schema::from_text(text) {
            Err(crate::LoadError::Invalid(failures)) => failures.to_json(),
            other => panic!("expected a collision, got {other:?}"),
        };
        let first = failures();
        assert_eq!(first[0]["document"], INTERNAL_NAME);
        assert_ne!(first[0]["location"], crate::Location::START.to_json());
        assert_eq!(failures(), first);
    }
}
