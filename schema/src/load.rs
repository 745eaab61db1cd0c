//! Entry points that turn schema documents into a [`Schema`].

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::diagnostics::Sources;
use crate::document::Document;
use crate::error::{LoadError, Location, SchemaFailure, SchemaFailures};
use crate::model::Schema;
use crate::{parse, standard};

/// File names a schema directory may hold.
const FILE_NAME_PATTERN: &str = "*.telepact.json|*.telepact.yaml";

impl Schema {
    /// Loads every `*.telepact.yaml` / `*.telepact.json` file of `dir`.
    ///
    /// Each file is a document named after the file. A subdirectory or a file with
    /// another name makes the schema invalid (`DirectoryDisallowed`,
    /// `FileNamePatternInvalid`). Failures carry the file path in
    /// [`SchemaFailure::file`], so they display as `dir/name.telepact.yaml:3:5: ...`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Schema, LoadError> {
        let dir = dir.as_ref();
        let (docs, file_failures) = read_dir(dir)?;
        let result = if file_failures.is_empty() {
            load(docs)
        } else {
            let failures = with_unreadable(file_failures, &docs);
            Err(LoadError::Invalid(SchemaFailures(
                failures,
                Sources::of(&docs),
            )))
        };
        result.map_err(|error| with_file_paths(error, dir))
    }

    /// Loads one JSON or YAML document, named `auto_`.
    pub fn from_text(text: &str) -> Result<Schema, LoadError> {
        Self::from_documents([("auto_".to_string(), text.to_string())])
    }

    /// Loads several documents given as name → text (JSON or YAML each).
    ///
    /// A name ending in `.yaml`/`.yml` is read as YAML and one ending in `.json` as
    /// JSON; any other name is read as JSON when it parses as JSON, else as YAML.
    /// Definitions are checked in document-name order.
    pub fn from_documents<I, K, V>(documents: I) -> Result<Schema, LoadError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let by_name: BTreeMap<String, String> = documents
            .into_iter()
            .map(|(name, text)| (name.into(), text.into()))
            .collect();
        let docs = by_name
            .into_iter()
            .map(|(name, text)| Document::read(name, text))
            .collect();
        load(docs)
    }
}

fn load(mut docs: Vec<Document>) -> Result<Schema, LoadError> {
    standard::add_standard_documents(&mut docs);
    docs.sort_by(|a, b| a.name.cmp(&b.name));
    parse::parse(&docs)
        .map_err(|failures| LoadError::Invalid(SchemaFailures(failures, Sources::of(&docs))))
}

fn failure_at_start(document: &str, reason: &str, data: Value) -> SchemaFailure {
    SchemaFailure {
        document: document.to_string(),
        path: Vec::new(),
        location: Location::START,
        reason: reason.to_string(),
        data: match data {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        file: None,
    }
}

/// Reads the directory's entries in name order: schema files become documents,
/// anything else a failure (and an empty placeholder document).
fn read_dir(dir: &Path) -> Result<(Vec<Document>, Vec<SchemaFailure>), LoadError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LoadError::Io { path, source }
    };
    let mut names: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .map_err(io_error(dir))?
        .map(|entry| {
            let entry = entry.map_err(io_error(dir))?;
            Ok((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            ))
        })
        .collect::<Result<_, LoadError>>()?;
    names.sort();
    let mut docs = Vec::new();
    let mut failures = Vec::new();
    for (name, path) in names {
        if fs::metadata(&path).map_err(io_error(&path))?.is_dir() {
            failures.push(failure_at_start(&name, "DirectoryDisallowed", json!({})));
            docs.push(Document::empty(name));
        } else if name.ends_with(".telepact.json") || name.ends_with(".telepact.yaml") {
            let bytes = fs::read(&path).map_err(io_error(&path))?;
            docs.push(match String::from_utf8(bytes) {
                Ok(text) => Document::read(name, text),
                Err(_) => Document::unreadable(name),
            });
        } else {
            let data = json!({"expected": FILE_NAME_PATTERN});
            failures.push(failure_at_start(&name, "FileNamePatternInvalid", data));
            docs.push(Document::empty(name));
        }
    }
    Ok((docs, failures))
}

/// Adds `JsonInvalid` for each unreadable document to the directory's failures, in
/// document-name order.
fn with_unreadable(mut failures: Vec<SchemaFailure>, docs: &[Document]) -> Vec<SchemaFailure> {
    for doc in docs.iter().filter(|doc| doc.root.is_none()) {
        failures.push(failure_at_start(&doc.name, "JsonInvalid", json!({})));
    }
    failures.sort_by(|a, b| a.document.cmp(&b.document));
    failures
}

/// Points each failure of a directory's file at that file.
fn with_file_paths(error: LoadError, dir: &Path) -> LoadError {
    match error {
        LoadError::Invalid(SchemaFailures(failures, sources)) => {
            let failures = failures
                .into_iter()
                .map(|failure| {
                    let is_standard = failure.document == standard::INTERNAL_NAME
                        || failure.document == standard::AUTH_NAME;
                    let file = (!is_standard).then(|| dir.join(&failure.document));
                    SchemaFailure { file, ..failure }
                })
                .collect();
            LoadError::Invalid(SchemaFailures(failures, sources))
        }
        other => other,
    }
}
