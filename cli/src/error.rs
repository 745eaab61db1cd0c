//! Why a command failed: one message for stderr.

use std::path::PathBuf;

use telepact_schema::LoadError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// A schema could not be read or is invalid.
    #[error(transparent)]
    Schema(#[from] LoadError),
    /// Code generation failed.
    #[error(transparent)]
    Codegen(#[from] telepact_codegen::Error),
    /// The server could not be reached or did not answer with a Telepact message.
    #[error("cannot fetch the schema from {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The server answered `fn.api_` with something other than its schema.
    #[error("{url} did not serve its schema; it answered {answer}")]
    NoSchema { url: String, answer: String },
    /// An output file or directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The mock server could not be set up for the schema.
    #[error("{0}")]
    Mock(telepact::mock::MockError),
    /// The demo server could not be put together.
    #[error("cannot set up the demo server: {0}")]
    Demo(telepact::BuildError),
    /// The address could not be listened on (or serving on it failed).
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// Neither a schema directory nor a schema URL was given.
    #[error("give a schema directory or a schema URL")]
    NoSchemaSource,
    /// A `NAME=VALUE` flag without its `=` or one of its sides.
    #[error("{flag} expects {form}, got `{value}`")]
    MalformedFlag {
        flag: &'static str,
        form: &'static str,
        value: String,
    },
    /// The shortest generated collection would be longer than the longest.
    #[error(
        "--generated-collection-length-min ({min}) is above --generated-collection-length-max ({max})"
    )]
    CollectionLengths { min: u32, max: u32 },
    /// The mock's `--path` is not a plain URL path, which the mock would serve as given.
    #[error("--path {0}")]
    Path(#[from] telepact::http::InvalidPath),
    /// A language other than Rust was asked for.
    #[error("--lang {0} is not supported: this tool generates Rust only (--lang rust)")]
    Language(String),
}

impl CliError {
    /// The failure as stderr shows it, with ANSI colours when `colour`: schema failures
    /// as the loader renders them (source excerpt, caret, plain words, a count line),
    /// anything else as one `error: ...` line.
    pub(crate) fn render(&self, colour: bool) -> String {
        match self {
            CliError::Schema(error) => error.render(colour),
            CliError::Codegen(error) => error.render(colour),
            other => format!("error: {other}"),
        }
    }

    /// An `Unreachable` error whose reason lists `error` and its causes.
    pub(crate) fn unreachable(url: &str, error: &dyn std::error::Error) -> Self {
        CliError::Unreachable {
            url: url.to_string(),
            reason: chain(error),
        }
    }
}

/// `error: cause: cause`, skipping causes the message already includes.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let part = next.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = next.source();
    }
    text
}
