//! Why a command failed: one message for stderr.

use std::path::PathBuf;

use telepact::ErrorChain;
use telepact_schema::LoadError;

/// Why a command failed. Each message says what failed at this layer and `source()`
/// gives the cause; [`CliError::render`] shows the whole chain.
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
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An output file or directory could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The mock server could not be set up for the schema.
    #[error(transparent)]
    Mock(telepact::mock::MockError),
    /// The demo server could not be put together.
    #[error("cannot set up the demo server")]
    Demo(#[source] telepact::BuildError),
    /// The HTTP listener's flags could not be served as given (a certificate that
    /// cannot be read or used).
    #[error(transparent)]
    Serve(#[from] telepact::flags::FlagsError),
    /// The address could not be listened on (or serving on it failed).
    #[error("cannot listen on {address}")]
    Listen {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The Prometheus exporter (`--metrics-addr`) could not be set up or served.
    #[error(transparent)]
    Metrics(#[from] telepact::prometheus::ExporterError),
    /// The schema directory given with `flag` cannot be listed.
    #[error("cannot read {flag} {}", dir.display())]
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
    #[error("invalid --path")]
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
    /// anything else as one `error: ...` line with each of its causes.
    pub(crate) fn render(&self, colour: bool) -> String {
        match self {
            CliError::Schema(error) => error.render(colour),
            CliError::Codegen(error) => error.render(colour),
            other => format!("error: {}", ErrorChain(other)),
        }
    }

    /// An `Unreachable` error whose reason lists `error` and its causes (the client's
    /// error is not kept as a source: its text may hold the URL's password, which the
    /// reason shows as `***`).
    pub(crate) fn unreachable(url: &str, error: &dyn std::error::Error) -> Self {
        CliError::Unreachable {
            url: without_credentials(url, url),
            reason: without_credentials(&ErrorChain(error).to_string(), url),
        }
    }

    /// A `NoSchema` error for the server at `url` that gave `answer`.
    pub(crate) fn no_schema(url: &str, answer: String) -> Self {
        CliError::NoSchema {
            url: without_credentials(url, url),
            answer,
        }
    }
}

/// `text` with the credentials of `url` shown as `***`: the password of
/// `http://user:password@host/`, or the whole user part of `http://token@host/` (a token
/// written as the user name), and the query (`?api_key=...`), as `url` writes them,
/// scheme or not, and as a parsed URL writes them. An error line may be logged.
fn without_credentials(text: &str, url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let parsed = url::Url::parse(url).ok().filter(url::Url::has_host);
    // Where no host could be read, a `/` may be in an unescaped password.
    let ends: &[char] = if parsed.is_some() {
        &['/', '?', '#']
    } else {
        &['?', '#']
    };
    let authority = after_scheme.split(ends).next().unwrap_or("");
    let written = authority.rsplit_once('@').map(|(user_info, _)| user_info);
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
    without_query(shown, url)
}

/// `text` with the query of `url` (as written, and as a parsed URL writes it) shown as
/// `***`, as the client shows it: an API key is often passed there.
fn without_query(mut text: String, url: &str) -> String {
    let written = url
        .split_once('?')
        .map(|(_, rest)| rest.split('#').next().unwrap_or(""));
    let parsed = url::Url::parse(url).ok();
    for query in [written, parsed.as_ref().and_then(url::Url::query)]
        .into_iter()
        .flatten()
        .filter(|query| !query.is_empty())
    {
        text = text.replace(&format!("?{query}"), "?***");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing() -> std::io::Error {
        std::io::Error::from(std::io::ErrorKind::NotFound)
    }

    /// The command's failures that have a cause, one of each kind.
    fn errors_with_causes() -> Vec<(&'static str, CliError)> {
        let unreadable = || telepact_schema::Schema::from_dir("/nonexistent/api").unwrap_err();
        let schema = telepact_schema::Schema::from_text(r#"[{"fn.a": {}, "->": [{"Ok_": {}}]}]"#);
        let unbuildable =
            telepact::Server::builder(schema.expect("loads"), telepact::FunctionRouter::new())
                .build()
                .expect_err("no union.Auth_ and no auth_required(false)");
        let path = telepact::http::HttpOptions::default().checked_path("/api/{v}");
        vec![
            ("a schema", CliError::Schema(unreadable())),
            (
                "code generation",
                CliError::Codegen(telepact_codegen::Error::Schema(unreadable())),
            ),
            (
                "a mock",
                CliError::Mock(telepact::mock::MockError::Schema(unreadable())),
            ),
            ("the demo server", CliError::Demo(unbuildable)),
            ("a path", CliError::from(path.expect_err("route syntax"))),
            (
                "a file read",
                CliError::Read {
                    path: "out.rs".into(),
                    source: missing(),
                },
            ),
            (
                "a file written",
                CliError::Write {
                    path: "out.rs".into(),
                    source: missing(),
                },
            ),
            (
                "an address",
                CliError::Listen {
                    address: ([127, 0, 0, 1], 9).into(),
                    source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
                },
            ),
            (
                "a schema directory",
                CliError::UnreadableSchemaDir {
                    flag: "--dir",
                    dir: "api".into(),
                    source: missing(),
                },
            ),
        ]
    }

    #[test]
    fn no_message_repeats_its_cause() {
        for (name, error) in errors_with_causes() {
            telepact_test_support::assert_causes_shown_once(name, &error);
        }
    }

    #[test]
    fn a_failure_is_one_line_with_each_cause_once() {
        let read = CliError::Read {
            path: "out.rs".into(),
            source: missing(),
        };
        assert_eq!(
            read.render(false),
            "error: cannot read out.rs: entity not found"
        );
        let schema =
            CliError::Schema(telepact_schema::Schema::from_dir("/nonexistent/api").unwrap_err());
        assert_eq!(
            schema.render(false),
            "error: cannot read /nonexistent/api: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn passwords_in_urls_are_not_shown() {
        let url = "http://ada:s3cr%21t@127.0.0.1:9/api";
        let error = std::io::Error::other(format!("error sending request for url ({url})"));
        let shown = CliError::unreachable(url, &error).to_string();
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(shown.contains("http://ada:***@127.0.0.1:9/api"), "{shown}");
        let plain = "http://127.0.0.1:9/api";
        assert_eq!(without_credentials(plain, plain), plain);
        assert_eq!(without_credentials("a:b@c", "not a url"), "a:b@c");
        // A token as the user name, and a URL without its scheme.
        let token = "http://ghp_SECRET@127.0.0.1:1/api";
        assert_eq!(
            without_credentials(token, token),
            "http://***@127.0.0.1:1/api"
        );
        let bare = "ada:s3cret@127.0.0.1:1/api";
        let said = format!("{bare}: builder error for url ({bare})");
        let shown = without_credentials(&said, bare);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.starts_with("ada:***@127.0.0.1:1/api"), "{shown}");
    }

    #[test]
    fn a_password_with_an_unescaped_slash_is_not_shown() {
        let url = "http://ada:pa/ss@127.0.0.1:1/api";
        let error = std::io::Error::other("invalid port number");
        let shown = CliError::unreachable(url, &error).to_string();
        assert!(!shown.contains("pa/ss"), "{shown}");
        assert!(shown.contains("http://ada:***@127.0.0.1:1/api"), "{shown}");
        // An `@` in the path of a URL with a host is not taken for credentials.
        let at = "http://127.0.0.1:1/users/@me";
        assert_eq!(without_credentials(at, at), at);
    }

    #[test]
    fn a_key_in_a_urls_query_is_not_shown() {
        let url = "http://127.0.0.1:9/api?api_key=s3cret&v=1";
        let error =
            std::io::Error::other("error sending request for url (http://127.0.0.1:9/api?***)");
        let shown = CliError::unreachable(url, &error).to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.starts_with("cannot fetch the schema from http://127.0.0.1:9/api?***: "),
            "{shown}"
        );
        let shown = CliError::no_schema(url, "{}".into()).to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        // Written with characters the parsed URL writes otherwise.
        let spaced = "http://127.0.0.1:9/api?key=a b";
        let said = format!("{spaced} or http://127.0.0.1:9/api?key=a%20b");
        let shown = without_credentials(&said, spaced);
        assert_eq!(
            shown,
            "http://127.0.0.1:9/api?*** or http://127.0.0.1:9/api?***"
        );
    }
}
