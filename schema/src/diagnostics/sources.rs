//! The documents' texts and values, kept with the failures so they can be rendered
//! with excerpts and suggestions after loading.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::document::{Document, Format};
use crate::parse::find_schema_key;

/// One document as the renderer needs it.
#[derive(Debug, PartialEq)]
pub(crate) struct Source {
    pub(crate) text: String,
    pub(crate) format: Format,
    pub(crate) root: Option<Value>,
}

impl Source {
    /// The schema key of the definition at `index` of the document's list.
    pub(crate) fn definition(&self, index: usize) -> Option<String> {
        let def = self.root.as_ref()?.as_array()?.get(index)?.as_object()?;
        find_schema_key(def).ok()
    }

    /// The value at `path`, when the document has one there.
    pub(crate) fn value_at(&self, path: &[Value]) -> Option<&Value> {
        let mut value = self.root.as_ref()?;
        for segment in path {
            value = match segment {
                Value::Number(index) => value.get(usize::try_from(index.as_u64()?).ok()?)?,
                Value::String(key) => value.get(key)?,
                _ => return None,
            };
        }
        Some(value)
    }
}

/// Every document of a failed load, by name (cheap to clone).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Sources(Arc<BTreeMap<String, Source>>);

impl Sources {
    /// Copies the documents' texts and values (only done when loading failed).
    pub(crate) fn of(docs: &[Document]) -> Sources {
        let sources = docs
            .iter()
            .map(|doc| {
                let source = Source {
                    text: doc.text().to_string(),
                    format: doc.format(),
                    root: doc.root.as_deref().cloned(),
                };
                (doc.name.clone(), source)
            })
            .collect();
        Sources(Arc::new(sources))
    }

    /// The document named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Source> {
        self.0.get(name)
    }

    /// Every document, by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Source)> {
        self.0.iter().map(|(name, source)| (name.as_str(), source))
    }

    /// The schema key of every definition of every document.
    pub(crate) fn definition_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for source in self.0.values() {
            let Some(Value::Array(definitions)) = &source.root else {
                continue;
            };
            for index in 0..definitions.len() {
                keys.extend(source.definition(index));
            }
        }
        keys
    }
}
