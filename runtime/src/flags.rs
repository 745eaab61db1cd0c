//! Command-line flags for a service's HTTP listener and its calls (feature `flags`): one
//! definition for every binary that serves [`http::router`](crate::http::router) or a
//! [`Server`](crate::Server), flattened into its own clap arguments.
//!
//! | flag | sets | default |
//! |---|---|---|
//! | `--request-timeout DURATION` ([`CallFlags`]) | [`ServerBuilder::request_timeout`] | `10s` |
//! | `--body-limit SIZE` | [`HttpOptions::body_limit`] (413 past it) | `1MiB` |
//! | `--body-timeout DURATION` | [`HttpOptions::body_timeout`] (408 past it) | `30s` |
//! | `--header-timeout DURATION` | [`ServeOptions::header_timeout`] | `1m 15s` |
//! | `--max-connections COUNT` | [`ServeOptions::max_connections`] | seven eighths of the open-file limit |
//! | `--max-connections-per-address COUNT` | [`ServeOptions::connections_per_address`] | `256` |
//! | `--tls-cert PATH`, `--tls-key PATH` | [`ServeOptions::tls`], from PEM files | plain HTTP |
//!
//! Sizes take `B`, `KiB`, `MiB`, `GiB` (or `kB`, `MB`, `GB`; bytes without a unit),
//! durations `ms`, `s`, `m`, `h` or a sum of them (`1m 30s`), counts a number or `none`
//! for no bound. A value that does not read, or one TLS flag without the other, is a
//! usage error: one line on stderr and exit status 2 with [`parse_or_exit`].
//!
//! ```no_run
//! # async fn run(builder: telepact::ServerBuilder) -> Result<(), Box<dyn std::error::Error>> {
//! use clap::Parser;
//! use telepact::flags::{CallFlags, HttpFlags};
//! use telepact::http::{self, HttpOptions};
//!
//! #[derive(Debug, Parser)]
//! struct Args {
//!     #[arg(long, default_value_t = 8080)]
//!     port: u16,
//!     #[command(flatten)]
//!     http: HttpFlags,
//!     #[command(flatten)]
//!     calls: CallFlags,
//! }
//!
//! let args: Args = telepact::flags::parse_or_exit();
//! let server = args.calls.server_builder(builder).build()?;
//! // Before the serve options: their default connection bound follows the open-file limit.
//! http::raise_open_files_limit();
//! let serving = args.http.serve_options()?;
//! let router = http::router(server, &args.http.http_options(HttpOptions::default()));
//! let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
//! http::serve_with(listener, router, http::shutdown_signal(), serving).await?;
//! # Ok(())
//! # }
//! ```

mod refusal;
mod units;

use std::path::PathBuf;
use std::time::Duration;

use crate::ServerBuilder;
use crate::http::{
    DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, DEFAULT_CONNECTIONS_PER_ADDRESS,
    DEFAULT_HEADER_TIMEOUT, HttpOptions, ServeOptions, TlsConfig, TlsError,
};
pub use refusal::{parse_or_exit, refusal_line};
use units::ConnectionLimit;
pub use units::{ByteSize, TimeSpan};

/// The HTTP listener's limits, timeouts and TLS, as flags: `#[command(flatten)]` it into
/// a binary's arguments. Each default is the runtime's own.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "HTTP listener")]
pub struct HttpFlags {
    /// The largest request body accepted (`512KiB`, `4MiB`); a larger one is answered 413
    #[arg(long, value_name = "SIZE", value_parser = ByteSize::parse,
          default_value_t = ByteSize(DEFAULT_BODY_LIMIT))]
    body_limit: ByteSize,
    /// How long a request body may take to arrive (`500ms`, `30s`); a slower one is
    /// answered 408
    #[arg(long, value_name = "DURATION", value_parser = TimeSpan::parse,
          default_value_t = TimeSpan(DEFAULT_BODY_TIMEOUT))]
    body_timeout: TimeSpan,
    /// How long a connection may take to send a request head, an idle keep-alive or
    /// HTTP/2 connection to send its next request, and a WebSocket session its next
    /// message, before it is closed; behind a load balancer, above its idle timeout
    #[arg(long, value_name = "DURATION", value_parser = TimeSpan::parse,
          default_value_t = TimeSpan(DEFAULT_HEADER_TIMEOUT))]
    header_timeout: TimeSpan,
    /// Connections open at once in all, past which a new one is closed unread (`none`:
    /// no bound) [default: seven eighths of the open-file limit]
    #[arg(long, value_name = "COUNT", value_parser = ConnectionLimit::parse)]
    max_connections: Option<ConnectionLimit>,
    /// Connections one client address (an IPv6 client's /64) may have open at once;
    /// behind a proxy, above its connection pool, or `none`
    #[arg(long, value_name = "COUNT", value_parser = ConnectionLimit::parse,
          default_value_t = ConnectionLimit(Some(DEFAULT_CONNECTIONS_PER_ADDRESS)))]
    max_connections_per_address: ConnectionLimit,
    /// PEM certificate chain, leaf first: serves HTTPS (HTTP/2 and HTTP/1.1 by ALPN)
    /// with --tls-key
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert's certificate
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// How long a call may take before it answers `ErrorUnknown_`, unless a flag says
/// otherwise: long enough for any handler that is working, short enough that one that
/// hangs gives its resources back.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The limits of each call, as flags: `#[command(flatten)]` it beside [`HttpFlags`] into
/// the arguments of a binary that serves a [`Server`](crate::Server), over HTTP or
/// anything else.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Calls")]
pub struct CallFlags {
    /// How long one call may take from its arrival (`500ms`, `30s`); past it the handler
    /// is dropped and the call answers ErrorUnknown_. A client's shorter `@time_` narrows
    /// it for its own call
    #[arg(long, value_name = "DURATION", value_parser = TimeSpan::parse,
          default_value_t = TimeSpan(DEFAULT_REQUEST_TIMEOUT))]
    request_timeout: TimeSpan,
}

impl CallFlags {
    /// `builder` with the time limit the flags give.
    pub fn server_builder(&self, builder: ServerBuilder) -> ServerBuilder {
        builder.request_timeout(self.request_timeout.0)
    }

    /// The time limit of one call.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout.0
    }
}

/// Why the flags could not be turned into [`ServeOptions`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlagsError {
    /// The `--tls-cert` and `--tls-key` files could not be read or used.
    #[error("cannot serve HTTPS with --tls-cert and --tls-key")]
    Tls(#[from] TlsError),
}

impl HttpFlags {
    /// `options` with the body limit and body timeout the flags give (the path and
    /// anything else as `options` have them).
    pub fn http_options(&self, options: HttpOptions) -> HttpOptions {
        options
            .body_limit(self.body_limit.0)
            .body_timeout(self.body_timeout.0)
    }

    /// The serve options the flags give: the header timeout, the connection bounds and
    /// TLS, its PEM files read now. Call it after
    /// [`raise_open_files_limit`](crate::http::raise_open_files_limit): without
    /// `--max-connections`, the bound follows the open-file limit as it is here.
    ///
    /// # Errors
    ///
    /// [`FlagsError::Tls`] when a PEM file cannot be read, or the certificate and key
    /// cannot be used (see [`TlsConfig::from_pem_files`]).
    pub fn serve_options(&self) -> Result<ServeOptions, FlagsError> {
        let mut options = ServeOptions::default()
            .header_timeout(self.header_timeout.0)
            .connections_per_address(self.max_connections_per_address.0);
        if let Some(limit) = self.max_connections {
            options = options.max_connections(limit.0);
        }
        if let (Some(certificates), Some(key)) = (&self.tls_cert, &self.tls_key) {
            options = options.tls(TlsConfig::from_pem_files(certificates, key)?);
        }
        Ok(options)
    }

    /// `https` when the flags serve TLS, `http` else: for the address a service logs.
    pub fn scheme(&self) -> &'static str {
        if self.tls_cert.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::{CallFlags, DEFAULT_REQUEST_TIMEOUT, HttpFlags};
    use crate::http::{self, HttpOptions};

    #[derive(Debug, Parser)]
    struct Args {
        #[command(flatten)]
        http: HttpFlags,
        #[command(flatten)]
        calls: CallFlags,
    }

    fn parse_all(arguments: &[&str]) -> Result<Args, clap::Error> {
        let arguments = std::iter::once("service").chain(arguments.iter().copied());
        Args::try_parse_from(arguments)
    }

    fn parse(arguments: &[&str]) -> Result<HttpFlags, clap::Error> {
        parse_all(arguments).map(|args| args.http)
    }

    #[test]
    fn the_request_timeout_is_ten_seconds_unless_given() {
        let calls = |arguments: &[&str]| parse_all(arguments).map(|args| args.calls);
        let default = calls(&[]).expect("no flags parse");
        assert_eq!(default.request_timeout(), DEFAULT_REQUEST_TIMEOUT);
        assert_eq!(DEFAULT_REQUEST_TIMEOUT, Duration::from_secs(10));
        let given = calls(&["--request-timeout", "1m 30s"]).expect("parses");
        assert_eq!(given.request_timeout(), Duration::from_secs(90));
        for refused in ["30", "0s", "soon"] {
            let error = calls(&["--request-timeout", refused]).expect_err(refused);
            assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        }
    }

    /// The flag reaches the server: a call that never ends answers at the limit.
    #[test]
    fn the_request_timeout_flag_limits_the_servers_calls() {
        let schema = crate::schema::Schema::from_text(r#"[{"fn.stuck": {}, "->": [{"Ok_": {}}]}]"#)
            .expect("schema loads");
        let router = crate::FunctionRouter::new().route("fn.stuck", |_request| async {
            std::future::pending::<()>().await;
            Ok::<_, crate::HandlerError>(crate::Message::default())
        });
        let calls = parse_all(&["--request-timeout", "50ms"])
            .expect("parses")
            .calls;
        let server = calls
            .server_builder(crate::Server::builder(schema, router).auth_required(false))
            .build()
            .expect("server builds");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        let answer = runtime.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(10),
                server.process(br#"[{}, {"fn.stuck": {}}]"#),
            )
            .await
        });
        let answer = answer.expect("answered at the flag's limit");
        assert!(
            answer.bytes.starts_with(br#"[{},{"ErrorUnknown_""#),
            "{}",
            String::from_utf8_lossy(&answer.bytes)
        );
    }

    #[test]
    fn without_flags_the_options_are_the_runtimes_defaults() {
        let flags = parse(&[]).expect("no flags parse");
        let options = flags.http_options(HttpOptions::default());
        assert_eq!(options.body_limit, http::DEFAULT_BODY_LIMIT);
        assert_eq!(options.body_timeout, http::DEFAULT_BODY_TIMEOUT);
        let serving = flags.serve_options().expect("no TLS to read");
        let defaults = http::ServeOptions::default();
        assert_eq!(serving.header_timeout, defaults.header_timeout);
        assert_eq!(serving.max_connections, defaults.max_connections);
        assert_eq!(
            serving.connections_per_address,
            defaults.connections_per_address
        );
        assert!(serving.tls.is_none());
        assert_eq!(flags.scheme(), "http");
    }

    #[test]
    fn each_flag_sets_its_option() {
        let flags = parse(&[
            "--body-limit=64KiB",
            "--body-timeout=500ms",
            "--header-timeout=2m",
            "--max-connections=none",
            "--max-connections-per-address=8",
        ])
        .expect("the flags parse");
        let options = flags.http_options(HttpOptions::default().path("/api"));
        assert_eq!(options.path, "/api");
        assert_eq!(options.body_limit, 64 * 1024);
        assert_eq!(options.body_timeout, Duration::from_millis(500));
        let serving = flags.serve_options().expect("no TLS to read");
        assert_eq!(serving.header_timeout, Duration::from_secs(120));
        assert_eq!(serving.max_connections, None);
        assert_eq!(serving.connections_per_address, Some(8));
    }

    #[test]
    fn a_tls_flag_without_the_other_is_a_usage_error() {
        for (given, missing) in [("--tls-cert", "--tls-key"), ("--tls-key", "--tls-cert")] {
            let error = parse(&[given, "file.pem"]).expect_err("refused");
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::MissingRequiredArgument
            );
            assert_eq!(error.exit_code(), 2);
            assert!(error.to_string().contains(missing), "{error}");
        }
    }

    #[test]
    fn an_unreadable_pem_file_names_the_flags_and_the_file() {
        let flags = parse(&[
            "--tls-cert",
            "/nonexistent/cert.pem",
            "--tls-key",
            "key.pem",
        ])
        .expect("both given");
        assert_eq!(flags.scheme(), "https");
        let error = flags.serve_options().expect_err("no such file");
        let message = crate::ErrorChain(&error).to_string();
        assert!(
            message.starts_with(
                "cannot serve HTTPS with --tls-cert and --tls-key: cannot read /nonexistent/cert.pem: "
            ),
            "{message}"
        );
    }

    #[test]
    fn a_value_that_does_not_read_is_a_usage_error() {
        let error = parse(&["--body-limit", "1 mebibyte"]).expect_err("refused");
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("not a size"), "{error}");
    }
}
