//! `telepact mock`: a mock server for a schema, over HTTP POST and WebSocket on one path.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{ArgGroup, Args};
use telepact::flags::{ByteSize, HttpFlags};
use telepact::http::{self, HttpOptions};
use telepact::logging::LogFormat;
use telepact::mock::{MockOptions, MockServer};
use telepact::prometheus::Exporter;
use telepact_schema::Schema;
use tower_http::cors::CorsLayer;

use crate::Outcome;
use crate::error::CliError;
use crate::fetch::{FILE_NAME, fetch_api, schema_text};
use crate::serve;

/// The options and environment variables of the reference CLI's `mock` (its boolean
/// variables take `1`/`0`, `true`/`false`, `yes`/`no`, `on`/`off`).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("schema").required(true).args(["http_url", "dir"])))]
pub(crate) struct MockArgs {
    /// HTTP URL of a Telepact API
    #[arg(long, env = "TELEPACT_HTTP_URL")]
    http_url: Option<String>,
    /// Directory of Telepact schemas
    #[arg(long, env = "TELEPACT_DIRECTORY")]
    dir: Option<PathBuf>,
    /// IP address to listen on; the default serves every interface, as the reference's mock does
    #[arg(long, default_value = "0.0.0.0", env = "MOCK_SERVER_HOST")]
    host: IpAddr,
    /// Port to run the mock server on (0 picks a free one)
    #[arg(long, default_value_t = 8080, env = "MOCK_SERVER_PORT")]
    port: u16,
    /// Path to expose the mock API
    #[arg(long, default_value = "/api", env = "MOCK_SERVER_PATH")]
    path: String,
    /// Minimum length of generated collections
    #[arg(long, default_value_t = 0, env = "GENERATED_COLLECTION_LENGTH_MIN")]
    generated_collection_length_min: u32,
    /// Maximum length of generated collections
    #[arg(long, default_value_t = 3, env = "GENERATED_COLLECTION_LENGTH_MAX")]
    generated_collection_length_max: u32,
    /// Disable generation of optional fields (enabled by default)
    #[arg(long, env = "DISABLE_OPTIONAL_FIELD_GENERATION", value_parser = BoolishValueParser::new())]
    disable_optional_field_generation: bool,
    /// Disable generation of message responses (enabled by default)
    #[arg(long, env = "DISABLE_MESSAGE_RESPONSE_GENERATION", value_parser = BoolishValueParser::new())]
    disable_message_response_generation: bool,
    /// Disable randomization of optional field generation (enabled by default)
    #[arg(long, env = "DISABLE_RANDOMIZE_OPTIONAL_FIELD_GENERATION", value_parser = BoolishValueParser::new())]
    disable_random_optional_field_generation: bool,
    /// Bytes of recorded calls and stubs kept (as the mock estimates them); past it,
    /// calls and new stubs answer `ErrorUnknown_` until `fn.clearCalls_` or
    /// `fn.clearStubs_` makes room
    #[arg(long, value_name = "SIZE", value_parser = ByteSize::parse,
          default_value_t = ByteSize(telepact::mock::DEFAULT_MEMORY_LIMIT))]
    memory_limit: ByteSize,
    /// Count calls and serve them as Prometheus text on `GET /metrics` of this address
    /// alone, in plain HTTP (`127.0.0.1:9090`), with `GET /healthz` and `GET /readyz`
    #[arg(long, value_name = "HOST:PORT")]
    metrics_addr: Option<SocketAddr>,
    /// How log lines are written on stderr: `text`, or `json` (one object a line)
    #[arg(long, env = "TELEPACT_LOG_FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(flatten)]
    http: HttpFlags,
}

impl MockArgs {
    /// The mock's options; contradictory collection lengths are refused rather than
    /// silently narrowed.
    fn options(&self) -> Result<MockOptions, CliError> {
        let (min, max) = (
            self.generated_collection_length_min,
            self.generated_collection_length_max,
        );
        if min > max {
            return Err(CliError::CollectionLengths { min, max });
        }
        Ok(MockOptions::default()
            .generate_responses(!self.disable_message_response_generation)
            .include_optional_fields(!self.disable_optional_field_generation)
            .randomize_optional_fields(!self.disable_random_optional_field_generation)
            .collection_length_min(min)
            .collection_length_max(max)
            .memory_limit(self.memory_limit.0))
    }
}

/// Serves the mock until Ctrl-C (or SIGTERM); prints `READY <port>` once listening.
pub(crate) async fn run(args: &MockArgs) -> Outcome {
    crate::logging::to_stderr(args.log_format);
    let options = args.options()?;
    let http_options = args
        .http
        .http_options(HttpOptions::default().checked_path(&args.path)?);
    let schema = match (&args.dir, &args.http_url) {
        (Some(dir), _) => {
            crate::schema_dir::refuse_empty("--dir", dir)?;
            Schema::mock_from_dir(dir)?
        }
        (None, Some(url)) => {
            Schema::mock_from_documents([(FILE_NAME, schema_text(&fetch_api(url, false).await?))])?
        }
        (None, None) => return Err(CliError::NoSchemaSource),
    };
    crate::schema_dir::warn(&schema, None);
    // The facade's recorder, which the mock reports to, with the listener's series.
    let exporter = args.metrics_addr.map(|_| Exporter::install()).transpose()?;
    let options = options.metrics(exporter.is_some());
    let mock = MockServer::with_options(schema, options).map_err(CliError::Mock)?;
    if let (Some(address), Some(exporter)) = (args.metrics_addr, exporter) {
        exporter.spawn_upkeep();
        Exporter::serve_apart(address, exporter.router(Vec::new()).merge(probes())).await?;
    }
    let path = &http_options.path;
    // `POST path` answers one request; `GET path` upgrades to a WebSocket; another path
    // gets a 404 naming this one. A front end in development calls the mock from its
    // own origin (another port), with the credentials and headers it would send the
    // real API: any of them is allowed (the reference's mock sends no CORS headers, so
    // browsers refuse its answers to other origins). Any page a browser that reaches
    // the mock opens may then call it: the README says to give `--host 127.0.0.1`
    // where the network is not yours.
    let router = http::not_found_naming(http::router(mock, &http_options), path)
        .layer(CorsLayer::very_permissive());
    let address = SocketAddr::new(args.host, args.port);
    serve::until_stopped(router, address, &args.http, args.log_format, |origin| {
        format!("mock server on {origin}{path} (HTTP POST and WebSocket)")
    })
    .await
}

/// `GET /healthz` (liveness) and `GET /readyz` (readiness): the mock depends on
/// nothing once its schema is loaded, so it is ready whenever it serves.
fn probes() -> axum::Router {
    axum::Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route("/readyz", axum::routing::get(|| async { "ready" }))
}
