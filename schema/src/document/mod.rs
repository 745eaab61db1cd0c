//! Schema documents: their text, their JSON value, and where each path starts in them.

mod json_scan;
mod locate;
mod strict_json;
mod yaml;
mod yaml_scalar;

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::OnceLock;

use serde_json::Value;

use crate::error::Location;
pub(crate) use locate::Locations;

pub(crate) use strict_json::{REPEATED_KEY, from_str as json_from_str};
pub(crate) use yaml::{yaml_json_problem, yaml_syntax_error, yaml_to_json};

/// How a document's text is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Yaml,
}

/// One named schema document.
#[derive(Debug)]
pub(crate) struct Document {
    pub(crate) name: String,
    text: Cow<'static, str>,
    format: Format,
    /// The parsed value; `None` when the text is neither valid JSON nor valid YAML.
    pub(crate) root: Option<Cow<'static, Value>>,
    locations: LocationCache,
}

/// Where a document's locations are found once computed (only when a failure must be
/// located): with the document, or, for the embedded standard definitions, once per
/// process.
#[derive(Debug)]
enum LocationCache {
    Own(OnceCell<Option<Locations>>),
    Shared(&'static OnceLock<Option<Locations>>),
}

impl LocationCache {
    fn own() -> Self {
        LocationCache::Own(OnceCell::new())
    }
}

impl Document {
    /// A document whose value was already parsed (the embedded standard definitions),
    /// sharing the process-wide cache of its locations.
    pub(crate) fn parsed(
        name: &str,
        text: &'static str,
        format: Format,
        root: Option<&'static Value>,
        locations: &'static OnceLock<Option<Locations>>,
    ) -> Document {
        Document {
            name: name.to_string(),
            text: Cow::Borrowed(text),
            format,
            root: root.map(Cow::Borrowed),
            locations: LocationCache::Shared(locations),
        }
    }

    /// Reads `text`, choosing the format from the name's extension; a name without a
    /// known extension is tried as JSON first, then as YAML.
    pub(crate) fn read(name: String, text: String) -> Document {
        let (format, root) = if name.ends_with(".yaml") || name.ends_with(".yml") {
            (Format::Yaml, yaml_root(&text))
        } else if name.ends_with(".json") {
            (Format::Json, strict_json::from_str(&text).ok())
        } else {
            match strict_json::from_str(&text) {
                Ok(value) => (Format::Json, Some(value)),
                Err(_) => (Format::Yaml, yaml_root(&text)),
            }
        };
        Document {
            name,
            text: Cow::Owned(text),
            format,
            root: root.map(Cow::Owned),
            locations: LocationCache::own(),
        }
    }

    /// A placeholder for something that is not a schema document (a subdirectory, a
    /// file with the wrong name): it has no definitions and every path is at its start.
    pub(crate) fn empty(name: String) -> Document {
        Document {
            name,
            text: Cow::Borrowed("[]"),
            format: Format::Json,
            root: Some(Cow::Owned(Value::Array(Vec::new()))),
            locations: LocationCache::own(),
        }
    }

    /// The original text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// How the text is written.
    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// Where the node at `path` starts in the original text (the document start when
    /// it cannot be found).
    pub(crate) fn locate(&self, path: &[Value]) -> Location {
        let scan = || {
            // An unreadable text has nothing to locate.
            self.root.as_ref()?;
            match self.format {
                Format::Json => json_scan::json_locations(&self.text),
                Format::Yaml => yaml::yaml_locations(&self.text),
            }
        };
        let locations = match &self.locations {
            LocationCache::Own(cell) => cell.get_or_init(scan),
            LocationCache::Shared(cell) => cell.get_or_init(scan),
        };
        locations
            .as_ref()
            .map_or(Location::START, |found| found.locate(path))
    }
}

/// YAML schema documents must be sequences; anything else is not a schema text.
fn yaml_root(text: &str) -> Option<Value> {
    yaml_to_json(text).filter(Value::is_array)
}

impl Document {
    /// A document whose bytes are not text: it is reported as `JsonInvalid`.
    pub(crate) fn unreadable(name: String) -> Document {
        Document {
            name,
            text: Cow::Borrowed(""),
            format: Format::Json,
            root: None,
            locations: LocationCache::own(),
        }
    }
}
