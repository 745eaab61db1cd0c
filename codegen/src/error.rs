//! Why code generation failed.

use std::fmt;
use std::path::PathBuf;

use telepact_schema::LoadError;

/// Why code generation failed. Its `Debug` form is its `Display` form, so a build script
/// that returns it from `main` shows the schema's failures as the loader renders them
/// (file and line, source excerpt with a caret, plain words, `help:`) rather than a
/// nested struct dump.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The schema could not be read or is invalid; the message is the loader's rendered
    /// form (see [`LoadError::render`]).
    #[error("{}", schema_message(.0))]
    Schema(#[from] LoadError),
    /// Two schema definitions map to the same Rust name.
    #[error("{second} and {first} would both be named `{name}` in Rust; rename one of them")]
    NameCollision {
        /// The Rust name both would get.
        name: String,
        /// The definition that claimed the name first.
        first: String,
        /// The definition that asked for it again.
        second: String,
    },
    /// An option is not valid: a type attribute or the runtime path that is not Rust, a
    /// Rust snippet nested more than 32 deep or longer than 200 tokens, or an
    /// `extern_path` / `extern_traits` that names no type the schema lets map.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option as given, e.g. `runtime_path("...")`.
        option: String,
        /// Why it is not valid.
        reason: String,
    },
    /// The generated code did not parse; a bug in the generator or in an option.
    #[error("generated code does not parse ({0}); check the attributes and paths given as options")]
    Unparsable(String),
    /// The schema breaks backwards compatibility with its released copy (see
    /// [`Builder::compatible_with`](crate::Builder::compatible_with)); one
    /// `file:row:col: change` line per incompatible change.
    #[error(
        "the schema is not backwards compatible with {}:\n{}",
        released.display(),
        changes.join("\n")
    )]
    Incompatible {
        /// The released schema's directory or file.
        released: PathBuf,
        /// One `file:row:col: change` line per incompatible change.
        changes: Vec<String>,
    },
    /// The released schema [`Builder::compatible_with`](crate::Builder::compatible_with)
    /// names could not be read or is invalid.
    #[error(
        "the released schema compatible_with names ({}) cannot be loaded: {}",
        released.display(),
        schema_message(source)
    )]
    Released {
        /// The released schema's directory, as given.
        released: PathBuf,
        /// Why it cannot be loaded.
        source: LoadError,
    },
    /// A schema directory whose path a `cargo:rerun-if-changed` line cannot hold (not
    /// UTF-8, or holding a line break), so changes to it would go unnoticed.
    #[error(
        "the schema directory {0:?} cannot be watched for changes, as its path is not UTF-8 \
         or holds a line break: move it, or turn emit_rerun_if_changed off"
    )]
    UnwatchablePath(PathBuf),
    /// `OUT_DIR` is not set and no output directory was configured.
    #[error("OUT_DIR is not set: call compile_dir from a build script or set out_dir")]
    NoOutDir,
    /// Two schema directories of one name would write the same output file.
    #[error(
        "{} and {} would both generate {}; give one directory another name or another out_dir",
        first.display(), second.display(), path.display()
    )]
    OutputClash {
        /// The output file both would write.
        path: PathBuf,
        /// The first schema directory.
        first: PathBuf,
        /// The second schema directory.
        second: PathBuf,
    },
    /// Writing the output failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or directory being written (or, for stale parts, listed).
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// `; did you mean `x`?` when `wrong` (a schema key an option names) looks like a
/// misspelling of one of `known`, as the schema's own failures suggest names; else
/// nothing.
pub(crate) fn did_you_mean<'a>(wrong: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    telepact_schema::nearest(wrong, known)
        .map(|found| format!("; did you mean `{found}`?"))
        .unwrap_or_default()
}

fn schema_message(error: &LoadError) -> String {
    match error {
        LoadError::Invalid(failures) => format!("invalid Telepact schema:\n\n{failures}"),
        other => other.to_string(),
    }
}

impl Error {
    /// The error as a command line shows it, with ANSI colours when `colour` (for a
    /// terminal): schema failures as the loader renders them (each `error: ...` with
    /// its excerpt, then a count line), any other error as `error: message`.
    pub fn render(&self, colour: bool) -> String {
        match self {
            Error::Schema(error) => error.render(colour),
            other => format!("error: {other}"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
