//! What a schema says that loads but is most likely a mistake: `$` keys. The protocol
//! lets a definition carry any `$` key (metadata of the schema's own), and reads two on
//! functions (`$internal: true`, `$authenticated: false`), so a misspelt one, or one
//! given a value that is not a boolean, is ignored without a word, and leaves a
//! function public or authenticated against its author's intent.

use std::fmt;

use serde_json::Value;

use crate::diagnostics::nearest;
use crate::model::Schema;
use crate::parse::find_schema_key;

/// The `$` keys this library reads, on functions, and the value that changes anything.
const READ_KEYS: [(&str, bool); 2] = [("$internal", true), ("$authenticated", false)];

/// A `$` key of the schema that this library does not read as its author most likely
/// meant (see [`Schema::warnings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchemaWarning {
    /// The definition holding the key, e.g. `fn.listItems`.
    pub definition: String,
    /// The key, e.g. `$authenticate`.
    pub key: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl fmt::Display for SchemaWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.definition, self.message)
    }
}

impl Schema {
    /// The `$` keys of the user's definitions that are most likely mistakes: a
    /// misspelling of one this library reads (other `$` keys are the schema's own
    /// metadata), a read one with a value that is not a boolean, or a read one on a
    /// definition that is not a function. The schema loads all the same, as the
    /// protocol lets a definition carry any `$` key; code generation prints these as
    /// `cargo:warning`s.
    pub fn warnings(&self) -> Vec<SchemaWarning> {
        self.original
            .iter()
            .filter_map(Value::as_object)
            // A loaded schema's definitions have one schema key each.
            .filter_map(|definition| Some((find_schema_key(definition).ok()?, definition)))
            .flat_map(|(name, definition)| {
                definition
                    .iter()
                    .filter(|(key, _)| key.starts_with('$'))
                    .filter_map(move |(key, value)| {
                        let message = problem(&name, key, value)?;
                        Some(SchemaWarning {
                            definition: name.clone(),
                            key: key.clone(),
                            message,
                        })
                    })
            })
            .collect()
    }
}

/// What is wrong with `key: value` in the definition `name`, if anything.
fn problem(name: &str, key: &str, value: &Value) -> Option<String> {
    let Some((_, meaningful)) = READ_KEYS.iter().find(|(read, _)| *read == key) else {
        // Other `$` keys are the schema's own metadata, unless they are a typo.
        let read = nearest(key, READ_KEYS.iter().map(|(read, _)| *read))?;
        return Some(format!(
            "`{key}` is not a key this library reads; did you mean `{read}`?"
        ));
    };
    if !name.starts_with("fn.") {
        return Some(format!("`{key}` is read on functions only"));
    }
    match value {
        Value::Bool(_) => None,
        other => Some(format!(
            "`{key}` takes a boolean (`{key}: {meaningful}`), so `{other}` is ignored"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warnings(text: &str) -> Vec<String> {
        let schema = Schema::from_text(text).expect("loads");
        schema.warnings().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn misspelt_or_misvalued_dollar_keys_are_named() {
        let text = r#"[
            {"$authenticate": false, "fn.open": {}, "->": [{"Ok_": {}}]},
            {"$internal": "true", "fn.hidden": {}, "->": [{"Ok_": {}}]},
            {"$internal": true, "$authenticated": false, "fn.fine": {}, "->": [{"Ok_": {}}]},
            {"$internal": true, "struct.Point": {"x": "integer"}},
            {"$owner": "team-a", "struct.Tag": {}}
        ]"#;
        assert_eq!(
            warnings(text),
            [
                "`fn.hidden`: `$internal` takes a boolean (`$internal: true`), so `\"true\"` is ignored",
                "`fn.open`: `$authenticate` is not a key this library reads; did you mean `$authenticated`?",
                "`struct.Point`: `$internal` is read on functions only",
            ]
        );
    }

    #[test]
    fn a_schema_without_dollar_keys_has_no_warnings() {
        let text = r#"[{"fn.open": {}, "->": [{"Ok_": {}}]}, {"struct.Point": {"x": "integer"}}]"#;
        assert!(warnings(text).is_empty());
    }
}
