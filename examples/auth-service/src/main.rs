//! `cargo run -p telepact-auth-example`: serves the auth example on HTTP with the
//! embedded SQLite store (or Redis with `--redis`).

use std::io::BufRead;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use telepact::flags::{CallFlags, HttpFlags};
use telepact::http::HttpOptions;
use telepact::logging::{LevelFilter, LineBudget, LogFormat, StderrLog};
use telepact::prometheus::Exporter;
use telepact_auth::http::{self, HttpAuthOptions, IpNet};
use telepact_auth::store::SqliteStore;
use telepact_auth::{CredentialStore, MAX_PASSWORD_BYTES, PasswordHasher, PasswordParams};
use telepact_auth_example::directory;
use tokio::net::TcpListener;

/// A Telepact service with passwords, tokens, API keys and sessions on `POST /api/telepact`.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// How log lines are written on stderr: `text`, or `json` (one object a line).
    #[arg(long, env = "TELEPACT_LOG_FORMAT", default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    /// Write a line on stderr for each call as it ends: function, result, client address,
    /// duration (never a credential or a body).
    #[arg(long, env = "TELEPACT_ACCESS_LOG", global = true)]
    access_log: bool,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8003)]
    port: u16,
    /// The SQLite file holding refresh tokens, API keys, sessions and revocations.
    #[arg(long, default_value = "auth-service.sqlite3")]
    db: PathBuf,
    /// Keep credentials in this Redis instead (shared by every instance).
    #[cfg(feature = "redis")]
    #[arg(long)]
    redis: Option<String>,
    /// Count calls and serve them as Prometheus text on `GET /metrics` of this address
    /// alone, in plain HTTP (`127.0.0.1:9090`), with `GET /healthz` and `GET /readyz`.
    #[arg(long, value_name = "HOST:PORT")]
    metrics_addr: Option<SocketAddr>,
    /// A users file (JSON) instead of the demo users.
    #[arg(long)]
    users: Option<PathBuf>,
    /// Leave `Secure` off the session cookie (plain-HTTP development off localhost).
    #[arg(long)]
    insecure_cookie: bool,
    /// An origin whose pages may call with the session cookie, granted credentialed
    /// CORS requests (repeatable; none: any same-site page).
    #[arg(long = "allow-origin")]
    allowed_origins: Vec<String>,
    /// A reverse proxy in front of the service, an address or a network (`10.0.0.0/8`;
    /// repeatable). Its `X-Forwarded-For` then names the client the failed-login
    /// limits count; from any other peer that header is ignored.
    #[arg(long = "trusted-proxy", value_parser = http::parse_trusted_proxy)]
    trusted_proxies: Vec<IpNet>,
    #[command(flatten)]
    http: HttpFlags,
    #[command(flatten)]
    calls: CallFlags,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reads a password from stdin and prints its argon2id hash for a users file.
    HashPassword,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Args = telepact::flags::parse_or_exit();
    // No subscriber is installed before this one, so it cannot fail.
    let _ = StderrLog::new(LevelFilter::INFO)
        .format(args.log_format)
        .calls(args.access_log)
        .init();
    let outcome = match args.command {
        Some(Command::HashPassword) => hash_password(),
        None => run(args).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // On stderr whatever `RUST_LOG` says: a filter that hides errors (`off`, or a
            // misspelt level read as a target) must not hide why the process ended.
            let line = telepact_auth_example::error_line(&*error);
            let _ = writeln!(std::io::stderr(), "{line}");
            ExitCode::FAILURE
        }
    }
}

fn hash_password() -> Result<(), Box<dyn std::error::Error>> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    // An empty line, or stdin that held nothing: its hash would sign in anyone who
    // knows the username.
    if password.is_empty() {
        return Err("no password given on stdin".into());
    }
    // The hasher would refuse it as a malformed credential; say what is wrong.
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("the password is longer than {MAX_PASSWORD_BYTES} bytes").into());
    }
    let hasher = PasswordHasher::new(PasswordParams::default())?;
    println!("{}", hasher.hash(password)?);
    Ok(())
}

async fn open_store(args: &Args) -> Result<Arc<dyn CredentialStore>, Box<dyn std::error::Error>> {
    #[cfg(feature = "redis")]
    if let Some(url) = &args.redis {
        let store = telepact_auth::store::RedisStore::connect(url, "telepact-auth:").await?;
        tracing::info!("credentials in redis");
        return Ok(Arc::new(store));
    }
    let store = SqliteStore::open(&args.db)?;
    tracing::info!(db = %args.db.display(), "credentials in sqlite");
    Ok(Arc::new(store))
}

/// How long the readiness probe waits for the credential store.
const STORE_PROBE_TIME: Duration = Duration::from_secs(1);

/// 1 while the credential store answered the last probe (a readiness check or a
/// scrape) in time, 0 while it did not.
const STORE_UP: &str = "telepact_credential_store_up";

/// Whether the credential store answers a read in time; the answer is kept in
/// [`STORE_UP`] and a failure logged, a line a second at most: anyone may probe, as
/// often as they like, while the store is down.
async fn probe_store(store: &dyn CredentialStore) -> bool {
    static NOT_READY_LINES: LineBudget = LineBudget::per_second(1);
    let failure = match tokio::time::timeout(STORE_PROBE_TIME, store.get("readiness-probe")).await {
        Ok(Ok(_)) => None,
        Ok(Err(error)) => Some(error.to_string()),
        Err(_elapsed) => Some("no answer in time".to_string()),
    };
    metrics::gauge!(STORE_UP).set(if failure.is_none() { 1.0 } else { 0.0 });
    let Some(failure) = failure else {
        return true;
    };
    if let Some(left_out) = NOT_READY_LINES.admit() {
        let left_out = (left_out > 0).then_some(left_out);
        tracing::warn!(%failure, left_out, "not ready: the credential store failed a read");
    }
    false
}

/// Readiness: whether the credential store answers a read in time. Every sign-in and
/// most calls need it, so a balancer should send nothing to an instance whose Redis
/// is gone (while `/healthz` still says the process lives).
async fn ready(store: Arc<dyn CredentialStore>) -> (axum::http::StatusCode, &'static str) {
    if probe_store(&*store).await {
        return (axum::http::StatusCode::OK, "ready");
    }
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "credential store unavailable",
    )
}

/// `GET /healthz` (liveness: the process serves requests) and `GET /readyz`
/// (readiness: the credential store answers).
fn probes(store: &Arc<dyn CredentialStore>) -> axum::Router {
    let probed = Arc::clone(store);
    axum::Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route(
            "/readyz",
            axum::routing::get(move || ready(Arc::clone(&probed))),
        )
}

/// `GET /metrics`, `/healthz` and `/readyz` on `address` alone: each scrape probes the
/// credential store first, so [`STORE_UP`] is as fresh as the scrape.
async fn serve_metrics(
    address: SocketAddr,
    exporter: Exporter,
    server: telepact::Server,
    store: &Arc<dyn CredentialStore>,
) -> Result<(), Box<dyn std::error::Error>> {
    metrics::describe_gauge!(
        STORE_UP,
        "1 while the credential store answered the last probe in time (a scrape or /readyz), 0 while not."
    );
    let probed = Arc::clone(store);
    let scrape = move || {
        let (exporter, server, probed) = (exporter.clone(), server.clone(), Arc::clone(&probed));
        async move {
            probe_store(&*probed).await;
            exporter.scrape(&[server])
        }
    };
    let routes = axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .merge(probes(store));
    Exporter::serve_apart(address, routes).await?;
    Ok(())
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // As many connections as the process may hold (the server keeps within them), before
    // the serve options, whose default bound follows that limit; their certificate is
    // read before anything else is opened.
    telepact::http::raise_open_files_limit();
    let serving = args.http.serve_options()?;
    let users = match &args.users {
        Some(path) => directory::load_file(path)?,
        None => directory::load(directory::DEMO_USERS)?,
    };
    let store = open_store(&args).await?;
    // The facade's recorder too: the listener's connection series and the store's
    // probe land beside the calls.
    let exporter = args.metrics_addr.map(|_| Exporter::install()).transpose()?;
    let builder = telepact_auth_example::builder_on(Arc::clone(&store), users).await?;
    let mut builder = args.calls.server_builder(builder);
    if let Some(exporter) = &exporter {
        builder = builder.metrics_recorder(exporter.recorder());
    }
    let server = builder.build()?;
    if let (Some(address), Some(exporter)) = (args.metrics_addr, exporter) {
        exporter.spawn_upkeep();
        serve_metrics(address, exporter, server.clone(), &store).await?;
    }
    let options = HttpAuthOptions::default()
        .secure_cookie(!args.insecure_cookie)
        .allowed_origins(args.allowed_origins.clone())
        .trusted_proxies(args.trusted_proxies.clone());
    let http_options = args.http.http_options(HttpOptions::default());
    let app = http::router(server, &http_options, options.clone()).merge(probes(&store));
    // Last, so that any layer in the app sees the credential headers marked sensitive.
    let app = http::with_sensitive_credentials(app, &options);
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", args.host, args.port))?;
    let address: SocketAddr = listener.local_addr()?;
    let shutdown = telepact::http::shutdown_signal();
    // The line a supervisor (or a test) waits for before sending requests. One that has
    // stopped reading (a closed pipe) is warned of: `println!` would end the service.
    if let Err(error) = writeln!(std::io::stdout(), "READY {}", address.port()) {
        tracing::warn!(%error, "READY not printed: stdout is not being read");
    }
    let scheme = args.http.scheme();
    tracing::info!(%address, scheme, "serving the auth example on POST /api/telepact");
    telepact::http::serve_with(listener, app, shutdown, serving).await?;
    tracing::info!("shut down");
    Ok(())
}
