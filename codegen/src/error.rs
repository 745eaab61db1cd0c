//! Why code generation failed.

use std::fmt;
use std::path::PathBuf;

use telepact_schema::LoadError;

/// Why code generation failed. Its `Debug` form is its `Display` form, so a build script
/// that returns it from `main` shows the schema's `file:row:col: path: reason` lines
/// rather than a nested struct dump.
#[derive(thiserror::Error)]
pub enum Error {
    /// The schema could not be read or is invalid; the message is the loader's, one
    /// failure a line (`file:row:col: path: reason`).
    #[error("{}", schema_message(.0))]
    Schema(#[from] LoadError),
    /// Two schema definitions map to the same Rust name.
    #[error("{second} and {first} would both be named `{name}` in Rust; rename one of them")]
    NameCollision {
        name: String,
        first: String,
        second: String,
    },
    /// An option (such as a type attribute or the runtime path) is not valid Rust.
    #[error("invalid option {option}: {reason}")]
    InvalidOption { option: String, reason: String },
    /// The generated code did not parse; a bug in the generator or in an option.
    #[error("generated code does not parse ({0}); check the type attributes")]
    Unparsable(String),
    /// `OUT_DIR` is not set and no output directory was configured.
    #[error("OUT_DIR is not set: call compile_dir from a build script or set out_dir")]
    NoOutDir,
    /// Two schema directories of one name would write the same output file.
    #[error(
        "{} and {} would both generate {}; give one directory another name or another out_dir",
        first.display(), second.display(), path.display()
    )]
    OutputClash {
        path: PathBuf,
        first: PathBuf,
        second: PathBuf,
    },
    /// Writing the output failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn schema_message(error: &LoadError) -> String {
    match error {
        LoadError::Invalid(failures) => format!("invalid Telepact schema:\n{failures}"),
        other => other.to_string(),
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
