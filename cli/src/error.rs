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
    /// A file could not be read (`codegen --check`'s `--out`).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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
    /// The HTTP listener's flags could not be served as given (a certificate that
    /// cannot be read or used).
    #[error(transparent)]
    Serve(#[from] telepact::flags::FlagsError),
    /// The address could not be listened on (or serving on it failed).
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The schema directory given with `flag` cannot be listed.
    #[error("cannot read {flag} {}: {source}", dir.display())]
    UnreadableSchemaDir {
        flag: &'static str,
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The schema directory given with `flag` holds no file.
    #[error(
        "{flag} {} holds no schema file (`*.telepact.json` or `*.telepact.yaml`)",
        dir.display()
    )]
    EmptySchemaDir { flag: &'static str, dir: PathBuf },
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
    /// The generated code would be written into the schema directory, over a schema file
    /// or beside the schemas, where the loader refuses any other file.
    #[error(
        "--out {} would write into the schema directory {}: write the code outside it",
        out.display(),
        dir.display()
    )]
    OutInSchemaDir { out: PathBuf, dir: PathBuf },
    /// `codegen --check` was given stdout, or another stream, to compare with.
    #[error("--check compares the code with the --out file, which cannot be stdout or a device")]
    CheckOnStream,
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
            url: without_password(url, url),
            reason: without_password(&chain(error), url),
        }
    }

    /// A `NoSchema` error for the server at `url` that gave `answer`.
    pub(crate) fn no_schema(url: &str, answer: String) -> Self {
        CliError::NoSchema {
            url: without_password(url, url),
            answer,
        }
    }
}

/// `text` with the credentials of `url` shown as `***`: the password of
/// `http://user:password@host/`, or the whole user part of `http://token@host/` (a token
/// written as the user name), as `url` writes them, scheme or not, and as a parsed URL
/// writes them. An error line may be logged.
fn without_password(text: &str, url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or("");
    let written = authority.rsplit_once('@').map(|(user_info, _)| user_info);
    let parsed = url::Url::parse(url).ok();
    let parsed = parsed.as_ref().map(|url| match url.password() {
        Some(password) => format!("{}:{password}", url.username()),
        None => url.username().to_string(),
    });
    let mut shown = text.to_string();
    for user_info in [written.map(str::to_string), parsed].into_iter().flatten() {
        let hidden = match user_info.split_once(':') {
            Some((user, password)) if !password.is_empty() => format!("{user}:***"),
            Some(_) => continue,
            None if user_info.is_empty() => continue,
            None => "***".to_string(),
        };
        shown = shown.replace(&format!("{user_info}@"), &format!("{hidden}@"));
    }
    shown
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_not_shown() {
        let url = "http://ada:s3cr%21t@127.0.0.1:9/api";
        let error = std::io::Error::other(format!("error sending request for url ({url})"));
        let shown = CliError::unreachable(url, &error).to_string();
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(shown.contains("http://ada:***@127.0.0.1:9/api"), "{shown}");
        let plain = "http://127.0.0.1:9/api";
        assert_eq!(without_password(plain, plain), plain);
        assert_eq!(without_password("a:b@c", "not a url"), "a:b@c");
        // A token as the user name, and a URL without its scheme.
        let token = "http://ghp_SECRET@127.0.0.1:1/api";
        assert_eq!(without_password(token, token), "http://***@127.0.0.1:1/api");
        let bare = "ada:s3cret@127.0.0.1:1/api";
        let said = format!("{bare}: builder error for url ({bare})");
        let shown = without_password(&said, bare);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.starts_with("ada:***@127.0.0.1:1/api"), "{shown}");
    }
}
