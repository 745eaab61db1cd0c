//! Entry points that turn schema documents into a [`Schema`].

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
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
    ///
    /// # Errors
    ///
    /// - [`LoadError::Io`] when `dir` or one of its entries cannot be read, when an
    ///   entry's name is not UTF-8, when a schema file is not a regular file, or when it
    ///   is larger than [`MAX_SCHEMA_FILE_BYTES`].
    /// - [`LoadError::Invalid`] with every failure found when the schema is invalid:
    ///   a misnamed file or a subdirectory, a file that is not UTF-8 (`JsonInvalid`),
    ///   and each failure [`Schema::from_documents`] reports.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Schema, LoadError> {
        load_dir(dir.as_ref(), Standards::Server)
    }

    /// Loads every schema file of `dir` for a mock server: [`Schema::from_dir`] plus
    /// the mock definitions (`fn.createStub_`, `fn.verify_`, `_ext.Stub_`, ...).
    ///
    /// # Errors
    ///
    /// As [`Schema::from_dir`]; a definition of the schema that repeats a mock
    /// definition's name is a [`LoadError::Invalid`] too.
    pub fn mock_from_dir(dir: impl AsRef<Path>) -> Result<Schema, LoadError> {
        load_dir(dir.as_ref(), Standards::Mock)
    }

    /// Loads one JSON or YAML document, named `auto_`, for a mock server:
    /// [`Schema::from_text`] plus the mock definitions.
    ///
    /// # Errors
    ///
    /// As [`Schema::mock_from_documents`].
    pub fn mock_from_text(text: &str) -> Result<Schema, LoadError> {
        Self::mock_from_documents([("auto_", text)])
    }

    /// Loads documents for a mock server: [`Schema::from_documents`] plus the mock
    /// definitions.
    ///
    /// # Errors
    ///
    /// As [`Schema::from_documents`]; a definition that repeats a mock definition's
    /// name is a [`LoadError::Invalid`] too.
    pub fn mock_from_documents<I, K, V>(documents: I) -> Result<Schema, LoadError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        load(read_documents(documents), Standards::Mock)
    }

    /// This schema with the mock definitions added (itself, reloaded from its
    /// definitions, when they are already there).
    ///
    /// # Errors
    ///
    /// [`LoadError::Invalid`] when the schema defines a name that a mock definition
    /// also defines (`union.VerificationFailure_`, say), which a schema loaded without
    /// the mock definitions may do.
    pub fn with_mock_definitions(&self) -> Result<Schema, LoadError> {
        let text = Value::Array(self.original.clone()).to_string();
        load(read_documents([("auto_", text)]), Standards::Mock)
    }

    /// Whether the mock definitions are loaded (`fn.createStub_` is defined).
    pub fn has_mock_definitions(&self) -> bool {
        self.names.contains_key("_ext.Stub_") && self.names.contains_key("fn.createStub_")
    }
}

/// Which standard definitions a load adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standards {
    Server,
    Mock,
}

fn load_dir(dir: &Path, standards: Standards) -> Result<Schema, LoadError> {
    let (docs, file_failures) = read_dir(dir)?;
    let result = if file_failures.is_empty() {
        load(docs, standards)
    } else {
        let failures = with_unreadable(file_failures, &docs);
        Err(LoadError::Invalid(SchemaFailures(
            failures,
            Sources::of(&docs),
        )))
    };
    result.map_err(|error| with_file_paths(error, dir))
}

impl Schema {
    /// Loads one JSON or YAML document, named `auto_`.
    ///
    /// # Errors
    ///
    /// As [`Schema::from_documents`].
    pub fn from_text(text: &str) -> Result<Schema, LoadError> {
        Self::from_documents([("auto_".to_string(), text.to_string())])
    }

    /// Loads several documents given as name → text (JSON or YAML each).
    ///
    /// A name ending in `.yaml`/`.yml` is read as YAML and one ending in `.json` as
    /// JSON; any other name is read as JSON when it parses as JSON, else as YAML.
    /// Definitions are checked in document-name order.
    ///
    /// # Errors
    ///
    /// [`LoadError::Invalid`] with every failure found, each located in its document:
    /// text that is not valid JSON or YAML (`JsonInvalid`), a definition that breaks the
    /// schema's rules (an unknown type, a name defined twice, a standard definition
    /// repeated, ...), a document named like the standard definitions' documents
    /// (`internal_`, `auth_`, `mock_`: `DocumentNameReserved`). Documents given as
    /// text are never read from disk, so [`LoadError::Io`] does not occur.
    pub fn from_documents<I, K, V>(documents: I) -> Result<Schema, LoadError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        load(read_documents(documents), Standards::Server)
    }
}

/// Reads name → text pairs into documents, in name order.
fn read_documents<I, K, V>(documents: I) -> Vec<Document>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    let by_name: BTreeMap<String, String> = documents
        .into_iter()
        .map(|(name, text)| (name.into(), text.into()))
        .collect();
    by_name
        .into_iter()
        .map(|(name, text)| Document::read(name, text))
        .collect()
}

fn load(mut docs: Vec<Document>, standards: Standards) -> Result<Schema, LoadError> {
    // Failures are known by document name: a document named like the standard
    // definitions' would have its failures shown in their text, and its definitions
    // taken for theirs.
    let reserved: Vec<SchemaFailure> = docs
        .iter()
        .filter(|doc| standard::is_standard_document(&doc.name))
        .map(|doc| failure_at_start(&doc.name, "DocumentNameReserved", json!({})))
        .collect();
    if !reserved.is_empty() {
        return Err(LoadError::Invalid(SchemaFailures(
            reserved,
            Sources::of(&docs),
        )));
    }
    standard::add_standard_documents(&mut docs, standards == Standards::Mock);
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

/// What one entry of a schema directory holds, as read.
enum Entry {
    /// A schema file's text.
    Text(String),
    /// A schema file that is not UTF-8.
    NotText,
    /// A subdirectory.
    Directory,
    /// A file whose name is not a schema file's.
    Misnamed,
}

/// Reads the directory's entries in name order, the schema files' texts included.
fn read_entries(dir: &Path) -> Result<Vec<(String, Entry)>, LoadError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LoadError::Io { path, source }
    };
    let mut names: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .map_err(io_error(dir))?
        .map(|entry| {
            let entry = entry.map_err(io_error(dir))?;
            // A document is known by its name: two names that are not text would read
            // alike, and each file's failures be shown in the other's text.
            let name = entry.file_name().into_string().map_err(|_| {
                let not_text = io::Error::new(io::ErrorKind::InvalidData, "its name is not UTF-8");
                io_error(&entry.path())(not_text)
            })?;
            Ok((name, entry.path()))
        })
        .collect::<Result<_, LoadError>>()?;
    names.sort();
    let mut entries = Vec::with_capacity(names.len());
    for (name, path) in names {
        let metadata = fs::metadata(&path).map_err(io_error(&path))?;
        let entry = if metadata.is_dir() {
            Entry::Directory
        } else if name.ends_with(".telepact.json") || name.ends_with(".telepact.yaml") {
            // A device or a pipe could be read without end, or wait for ever.
            if !metadata.is_file() {
                return Err(io_error(&path)(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a regular file",
                )));
            }
            let bytes = read_at_most(&path, metadata.len()).map_err(io_error(&path))?;
            String::from_utf8(bytes).map_or(Entry::NotText, Entry::Text)
        } else {
            Entry::Misnamed
        };
        entries.push((name, entry));
    }
    Ok(entries)
}

/// A subdirectory: a schema directory holds files only.
fn directory_disallowed(name: &str) -> SchemaFailure {
    failure_at_start(name, "DirectoryDisallowed", json!({}))
}

/// A file whose name is not a schema file's.
fn file_name_invalid(name: &str) -> SchemaFailure {
    let data = json!({"expected": FILE_NAME_PATTERN});
    failure_at_start(name, "FileNamePatternInvalid", data)
}

/// Reads the directory's entries in name order: schema files become documents,
/// anything else a failure (and an empty placeholder document).
fn read_dir(dir: &Path) -> Result<(Vec<Document>, Vec<SchemaFailure>), LoadError> {
    let mut docs = Vec::new();
    let mut failures = Vec::new();
    for (name, entry) in read_entries(dir)? {
        let doc = match entry {
            Entry::Text(text) => Document::read(name, text),
            Entry::NotText => Document::unreadable(name),
            Entry::Directory => {
                failures.push(directory_disallowed(&name));
                Document::empty(name)
            }
            Entry::Misnamed => {
                failures.push(file_name_invalid(&name));
                Document::empty(name)
            }
        };
        docs.push(doc);
    }
    Ok((docs, failures))
}

/// Reads the schema files of `dir` as file name → text, without loading them: the
/// documents [`Schema::from_documents`] (or [`Schema::mock_from_documents`]) takes,
/// to load them beside documents of one's own, say. YAML stays YAML (the loader reads
/// both, and locates failures in the text as written).
///
/// # Errors
///
/// - [`LoadError::Io`] as for [`Schema::from_dir`].
/// - [`LoadError::Invalid`] with a failure for each entry that no schema may hold,
///   located at its file: a subdirectory (`DirectoryDisallowed`), a file with another
///   name (`FileNamePatternInvalid`) or a schema file that is not UTF-8
///   (`JsonInvalid`). What the texts say is not checked until they are loaded.
pub fn read_schema_dir(dir: impl AsRef<Path>) -> Result<BTreeMap<String, String>, LoadError> {
    let dir = dir.as_ref();
    let mut texts = BTreeMap::new();
    let mut failures = Vec::new();
    let mut placeholders = Vec::new();
    for (name, entry) in read_entries(dir)? {
        let failure = match entry {
            Entry::Text(text) => {
                texts.insert(name, text);
                continue;
            }
            Entry::NotText => failure_at_start(&name, "JsonInvalid", json!({})),
            Entry::Directory => directory_disallowed(&name),
            Entry::Misnamed => file_name_invalid(&name),
        };
        failures.push(failure);
        placeholders.push(Document::empty(name));
    }
    if failures.is_empty() {
        return Ok(texts);
    }
    let sources = Sources::of(&placeholders);
    let error = LoadError::Invalid(SchemaFailures(failures, sources));
    Err(with_file_paths(error, dir))
}

/// The most bytes a schema file may have. The largest schemas seen are a few megabytes,
/// and the model takes about a hundred bytes of memory for each byte of text: a file of a
/// gigabyte (of NULs, say) would take the loader past any machine's memory.
pub const MAX_SCHEMA_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// The file at `path`, whose metadata gave `length`, refused past
/// [`MAX_SCHEMA_FILE_BYTES`] (read no further, should it have grown since).
fn read_at_most(path: &Path, length: u64) -> io::Result<Vec<u8>> {
    let too_large = || {
        let limit = MAX_SCHEMA_FILE_BYTES >> 20;
        let message = format!("a schema file may have at most {limit} MiB");
        io::Error::new(io::ErrorKind::FileTooLarge, message)
    };
    if length > MAX_SCHEMA_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(MAX_SCHEMA_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SCHEMA_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
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
                    let is_standard = standard::is_standard_document(&failure.document);
                    let file = (!is_standard).then(|| dir.join(&failure.document));
                    SchemaFailure { file, ..failure }
                })
                .collect();
            LoadError::Invalid(SchemaFailures(failures, sources))
        }
        other => other,
    }
}
