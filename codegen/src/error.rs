//! Why code generation failed.

use std::fmt;
use std::path::{Path, PathBuf};

use telepact_schema::{ErrorChain, LoadError, Location, SchemaFailures, SchemaFiles};

/// Why code generation failed. `Display` says what failed here and `source()` gives the
/// cause (an I/O error, a released schema's [`LoadError`]), as Rust's errors do. Its
/// `Debug` form is the message with its causes, so a build script that returns it from
/// `main` shows the schema's failures as the loader renders them (file and line, source
/// excerpt with a caret, plain words, `help:`, under an `invalid Telepact schema:` line)
/// rather than a nested struct dump.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The schema could not be read or is invalid: the loader's error, as it is (its
    /// message is the rendered failures, see [`LoadError::render`]).
    #[error(transparent)]
    Schema(#[from] LoadError),
    /// Schema definitions that map to one Rust name, or a definition that maps to a name
    /// the generated code takes: every such collision, a line each, located
    /// (`file:row:col: ...`) when the schema's files are known
    /// ([`Error::located_in`]).
    #[error("{}", lines(.0))]
    NameCollisions(Vec<NameCollision>),
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
    /// names could not be read or is invalid; `source()` says why.
    #[error(
        "the released schema compatible_with names ({}) cannot be loaded",
        released.display()
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
    /// Two schema directories of one name, or of names that differ only in case (one
    /// file on macOS and Windows), would write the same output file.
    #[error(
        "{} and {} would both generate {} (file names are compared ignoring case); give one \
         directory another name or another out_dir",
        first.display(), second.display(), path.display()
    )]
    OutputClash {
        /// The output file both would write, as the first names it.
        path: PathBuf,
        /// The first schema directory.
        first: PathBuf,
        /// The second schema directory.
        second: PathBuf,
    },
    /// Writing the output failed; `source()` is the I/O error.
    #[error("cannot write {}", path.display())]
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

/// A Rust name asked for twice.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NameCollision {
    /// The Rust name both would get.
    pub name: String,
    /// What claimed the name first: a schema path (`struct.GetBookInput`), or the
    /// generated code itself (`Box`, `Client`).
    pub first: String,
    /// The schema path that asked for it again (`fn.getBook`, `struct.S.a_b`).
    pub second: String,
    /// Where the schema's files write `second` (or `first`, when only that one is
    /// theirs), when they are known.
    pub location: Option<(PathBuf, Location)>,
}

impl NameCollision {
    /// The collision with `first` and `second` swapped: the claim that came second
    /// reported as the first, when the first is the one the user's files write.
    pub(crate) fn swapped(self) -> Self {
        NameCollision {
            first: self.second,
            second: self.first,
            ..self
        }
    }
}

/// `file:row:col: ` when located, then what collides.
impl fmt::Display for NameCollision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((file, at)) = &self.location {
            write!(f, "{}:{}:{}: ", file.display(), at.row, at.col)?;
        }
        write!(
            f,
            "{} and {} would both be named `{}` in Rust; rename one of them",
            self.second, self.first, self.name
        )
    }
}

/// The collisions, a line each.
fn lines(collisions: &[NameCollision]) -> String {
    let lines: Vec<String> = collisions.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// Where `files` write the schema path `path` (`fn.x.->.Ok_`, `struct.S.a_b`): the
/// longest of its leading parts that a file defines as a key (an `errors.*` name may
/// hold dots), then the rest inside that definition.
fn locate(files: &SchemaFiles, path: &str) -> Option<(PathBuf, Location)> {
    let parts: Vec<String> = path.split('.').map(String::from).collect();
    (1..=parts.len()).rev().find_map(|at| {
        let mut key_and_rest = vec![parts[..at].join(".")];
        key_and_rest.extend_from_slice(&parts[at..]);
        files.locate(&key_and_rest)
    })
}

/// `error` with its causes for a person: an invalid schema's rendered failures under an
/// `invalid Telepact schema:` line (they start with `error:` themselves), anything else
/// as [`ErrorChain`] writes it.
fn with_causes(error: &Error) -> String {
    let invalid = |failures: &SchemaFailures| format!("invalid Telepact schema:\n\n{failures}");
    match error {
        Error::Schema(LoadError::Invalid(failures)) => invalid(failures),
        Error::Released {
            source: LoadError::Invalid(failures),
            ..
        } => format!("{error}: {}", invalid(failures)),
        other => ErrorChain(other).to_string(),
    }
}

impl Error {
    /// The error as a command line shows it, with ANSI colours when `colour` (for a
    /// terminal): schema failures as the loader renders them (each `error: ...` with
    /// its excerpt, then a count line), name collisions as an `error: ...` line each,
    /// any other error as `error: message: cause`.
    pub fn render(&self, colour: bool) -> String {
        match self {
            Error::Schema(error) => error.render(colour),
            Error::NameCollisions(collisions) => {
                let errors: Vec<String> =
                    collisions.iter().map(|c| format!("error: {c}")).collect();
                errors.join("\n")
            }
            other => format!("error: {}", with_causes(other)),
        }
    }

    /// The error with its name collisions located in the schema files of `dir`
    /// (`file:row:col: ...`) and in file order; any other error as it is.
    /// [`Builder::generate_dir`](crate::Builder::generate_dir) and
    /// [`Builder::compile_dir`](crate::Builder::compile_dir) locate them themselves; a
    /// schema given to [`Builder::generate`](crate::Builder::generate) comes with no
    /// files to point into.
    pub fn located_in(self, dir: &Path) -> Self {
        let Error::NameCollisions(mut collisions) = self else {
            return self;
        };
        let files = SchemaFiles::read(dir);
        for collision in &mut collisions {
            // Against a standard definition, the user's own claim is the one to point at.
            collision.location =
                locate(&files, &collision.second).or_else(|| locate(&files, &collision.first));
        }
        // Located ones first, in file order; the rest as planning found them.
        collisions.sort_by(|a, b| {
            (a.location.is_none(), &a.location).cmp(&(b.location.is_none(), &b.location))
        });
        Error::NameCollisions(collisions)
    }
}

/// The message with its causes, as a build script returning the error prints it.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&with_causes(self))
    }
}
