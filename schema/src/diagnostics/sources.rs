//! The documents' texts and values, kept with the failures so they can be rendered
//! with excerpts and suggestions after loading.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::place::Kind;
use super::words::PRIMITIVES;
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
#[derive(Debug, Clone, Default)]
pub(crate) struct Sources {
    documents: Arc<BTreeMap<String, Source>>,
    /// Found on first use, then read by every failure's suggestion.
    type_names: Arc<OnceLock<Vec<String>>>,
}

impl PartialEq for Sources {
    fn eq(&self, other: &Self) -> bool {
        self.documents == other.documents
    }
}

impl Sources {
    /// Copies the documents' texts and values (only done when loading failed).
    pub(crate) fn of(docs: &[Document]) -> Sources {
        let documents = docs
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
        Sources {
            documents: Arc::new(documents),
            type_names: Arc::default(),
        }
    }

    /// The document named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Source> {
        self.documents.get(name)
    }

    /// Every document, by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Source)> {
        self.documents
            .iter()
            .map(|(name, source)| (name.as_str(), source))
    }

    /// The schema key of every definition of every document.
    fn definition_keys(&self) -> impl Iterator<Item = String> {
        self.documents.values().flat_map(|source| {
            let count = match &source.root {
                Some(Value::Array(definitions)) => definitions.len(),
                _ => 0,
            };
            (0..count).filter_map(|index| source.definition(index))
        })
    }

    /// The primitive types and the struct, union and function names of the schema,
    /// for suggestions.
    pub(crate) fn type_names(&self) -> &[String] {
        self.type_names.get_or_init(|| {
            let mut names: Vec<String> = PRIMITIVES.iter().map(|p| p.to_string()).collect();
            names.extend(self.definition_keys().filter(|key| {
                matches!(Kind::of(key), Kind::Struct | Kind::Union | Kind::Function)
            }));
            names
        })
    }
}
