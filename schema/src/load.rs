//! Entry points that turn schema documents into a [`Schema`].

use std::path::Path;

use crate::error::LoadError;
use crate::model::Schema;

impl Schema {
    /// Loads every `*.telepact.yaml` / `*.telepact.json` file of `dir`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Schema, LoadError> {
        let _ = dir;
        todo!("loader")
    }

    /// Loads one JSON or YAML document, named `auto_`.
    pub fn from_text(text: &str) -> Result<Schema, LoadError> {
        Self::from_documents([("auto_".to_string(), text.to_string())])
    }

    /// Loads several documents given as name → text (JSON or YAML each).
    pub fn from_documents<I, K, V>(documents: I) -> Result<Schema, LoadError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let _ = documents.into_iter().map(|(k, v)| (k.into(), v.into()));
        todo!("loader")
    }
}
