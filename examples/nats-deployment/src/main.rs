//! The bakery shift board (or the auth example) behind NATS: `worker` serves it on a
//! subject as one member of a queue group; `gateway` serves `POST /api/telepact` over
//! HTTP by forwarding to that subject. Run any number of workers, on any machines
//! reaching NATS. The auth example's workers share their credentials through Redis, and
//! its gateway forwards the HTTP credentials (`Authorization`, `X-API-Key`, the session
//! cookie) for the workers to read, as the example's own HTTP server does.

use std::io::Write;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use telepact::flags::{CallFlags, HttpFlags, TimeSpan};
use telepact::http::{self, HttpOptions};
use telepact::logging::{LevelFilter, LogFormat, StderrLog};
use telepact::prometheus::Exporter;
use telepact::{Server, nats};
use telepact_auth::http::nats::CredentialBridge;
use telepact_auth::http::{HttpAuthOptions, IpNet};
use telepact_auth::store::RedisStore;
use telepact_auth_example::directory;
use tokio::net::TcpListener;

/// One process of the deployment.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The NATS server to use (several comma-separated; credentials as
    /// `nats://user:password@host`).
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats: String,
    /// The service the workers run.
    #[arg(long, value_enum, default_value_t = App::Bakery)]
    app: App,
    /// The subject the service is served on (default `telepact.<app>`).
    #[arg(long, value_parser = subject)]
    subject: Option<String>,
    /// How long a forwarded request may wait for its reply (`500ms`, `10s`, `1m`).
    #[arg(long, value_name = "DURATION", value_parser = TimeSpan::parse,
          default_value_t = TimeSpan(Duration::from_secs(10)))]
    timeout: TimeSpan,
    /// Leave `Secure` off the auth example's session cookie (plain-HTTP development off
    /// localhost). Give the gateway and the workers the same cookie flags.
    #[arg(long, global = true)]
    insecure_cookie: bool,
    /// An origin whose pages may call the auth example with the session cookie,
    /// granted credentialed CORS requests (repeatable; none: any same-site page).
    #[arg(long = "allow-origin", global = true)]
    allowed_origins: Vec<String>,
    #[command(subcommand)]
    mode: Mode,
    /// How log lines are written on stderr: `text`, or `json` (one object a line).
    #[arg(long, env = "TELEPACT_LOG_FORMAT", default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    /// Write a line on stderr for each call as it ends: function, result, client address,
    /// duration (never a credential or a body). Workers only: a gateway refuses it.
    #[arg(long, env = "TELEPACT_ACCESS_LOG", global = true)]
    access_log: bool,
    /// Serve Prometheus text on `GET /metrics` of this address alone, in plain HTTP
    /// (`127.0.0.1:9090`), with `GET /healthz` and `GET /readyz` (ready while NATS is
    /// connected): a worker's calls, or the gateway's forwarded requests.
    #[arg(long, value_name = "HOST:PORT", global = true)]
    metrics_addr: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Answer requests on the subject until Ctrl-C or SIGTERM, then drain.
    Worker(WorkerArgs),
    /// Serve HTTP, forwarding each request to the subject, until Ctrl-C or SIGTERM.
    Gateway(GatewayArgs),
}

#[derive(Debug, clap::Args)]
struct WorkerArgs {
    /// The queue group the workers share (default: the app's name).
    #[arg(long)]
    queue_group: Option<String>,
    /// The Redis every auth worker keeps credentials in (`redis://127.0.0.1:6379/`).
    #[arg(long)]
    redis: Option<String>,
    /// A users file (JSON, as the auth example's own server takes) instead of the demo
    /// users; give every auth worker the same.
    #[arg(long)]
    users: Option<PathBuf>,
    /// Take the caller's address a gateway sends (`--forward-caller-address`), so the
    /// auth example limits failed logins per caller. Only where NATS lets the gateways
    /// alone publish on the subject: any other publisher could name any address.
    #[arg(long)]
    trust_gateway_address: bool,
    /// The most requests this worker answers at once, at least 1 (default: no bound).
    #[arg(long)]
    max_in_flight: Option<NonZeroUsize>,
    #[command(flatten)]
    calls: CallFlags,
}

#[derive(Debug, clap::Args)]
struct GatewayArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8002)]
    port: u16,
    /// A reverse proxy in front of the gateway, an address or a network
    /// (`10.0.0.0/8`; repeatable). Its `X-Forwarded-For` then names the caller whose
    /// address the workers are sent; from any other peer that header is ignored.
    #[arg(long = "trusted-proxy", value_parser = telepact_auth::http::parse_trusted_proxy)]
    trusted_proxies: Vec<IpNet>,
    /// Send each caller's address to the workers (for workers started with
    /// `--trust-gateway-address`). Off, NATS messages carry no headers, which is
    /// cheaper.
    #[arg(long)]
    forward_caller_address: bool,
    #[command(flatten)]
    http: HttpFlags,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Args = telepact::flags::parse_or_exit();
    // No subscriber is installed before this one, so it cannot fail.
    let _ = StderrLog::new(LevelFilter::INFO)
        .format(args.log_format)
        .calls(args.access_log)
        .init();
    match run(args).await {
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

/// `--subject`, refused at once when the workers and the gateway would refuse it (empty,
/// with whitespace, an empty token or a wildcard, or too long), rather than by the
/// gateway at every call.
fn subject(text: &str) -> Result<String, String> {
    match nats::checked_subject(text) {
        Ok(_) => Ok(text.to_string()),
        Err(nats::NatsError::InvalidSubject { .. }) => Err(
            "not a NATS subject of one service (no whitespace, no empty token, no wildcard)"
                .to_string(),
        ),
        Err(error) => Err(error.to_string()),
    }
}

/// A service the workers can run.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum App {
    /// The bakery shift board.
    Bakery,
    /// The auth example, its credentials in the shared Redis (`--redis`).
    Auth,
}

impl App {
    /// How the auth example reads HTTP credentials; `None` for an app that reads none.
    fn http_auth(self, args: &Args) -> Option<HttpAuthOptions> {
        match self {
            App::Bakery => None,
            App::Auth => Some(
                HttpAuthOptions::default()
                    .secure_cookie(!args.insecure_cookie)
                    .allowed_origins(args.allowed_origins.clone()),
            ),
        }
    }

    fn name(self) -> &'static str {
        match self {
            App::Bakery => "bakery",
            App::Auth => "auth",
        }
    }
}

/// The Redis key prefix of the auth example's credentials.
const AUTH_PREFIX: &str = "telepact-auth:";

async fn build_server(
    app: App,
    args: &WorkerArgs,
    exporter: Option<&Exporter>,
) -> Result<Server, Box<dyn std::error::Error>> {
    let redis = args.redis.as_deref();
    let builder = match app {
        App::Bakery => telepact_bakery::builder(),
        App::Auth => {
            let url =
                redis.ok_or("the auth example's workers need --redis URL (their shared store)")?;
            let users = match &args.users {
                Some(path) => directory::load_file(path)?,
                None => directory::load(directory::DEMO_USERS)?,
            };
            let store = RedisStore::connect(url, AUTH_PREFIX).await?;
            telepact_auth_example::builder_on(Arc::new(store), users).await?
        }
    };
    let builder = args.calls.server_builder(builder);
    let builder = match exporter {
        Some(exporter) => builder.metrics_recorder(exporter.recorder()),
        None => builder,
    };
    Ok(builder.build()?)
}

/// 1 while the process's NATS connection is up, 0 while it reconnects: set at each
/// scrape.
const NATS_CONNECTED: &str = "telepact_nats_connected";

/// Whether `client` is connected to NATS now.
fn nats_connected(client: &nats::async_nats::Client) -> bool {
    client.connection_state() == nats::async_nats::connection::State::Connected
}

/// `GET /healthz` (liveness: the process runs) and `GET /readyz` (readiness: NATS is
/// connected; while it reconnects, the gateway answers 503 or 504 and a worker hears
/// nothing).
fn probes(client: &nats::async_nats::Client) -> axum::Router {
    let client = client.clone();
    let ready = move || {
        let connected = nats_connected(&client);
        async move {
            if connected {
                (axum::http::StatusCode::OK, "ready")
            } else {
                (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "NATS not connected",
                )
            }
        }
    };
    axum::Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route("/readyz", axum::routing::get(ready))
}

/// Serves `GET /metrics` (with `server`'s calls, if a worker's), `/healthz` and
/// `/readyz` on `address`.
async fn serve_metrics(
    address: SocketAddr,
    exporter: Exporter,
    server: Option<Server>,
    client: &nats::async_nats::Client,
) -> Result<(), Box<dyn std::error::Error>> {
    metrics::describe_gauge!(
        NATS_CONNECTED,
        "1 while the NATS connection is up, 0 while it reconnects."
    );
    exporter.spawn_upkeep();
    let watched = client.clone();
    let servers: Vec<Server> = server.into_iter().collect();
    let scrape = move || {
        metrics::gauge!(NATS_CONNECTED).set(if nats_connected(&watched) { 1.0 } else { 0.0 });
        let answer = exporter.scrape(&servers);
        async move { answer }
    };
    let routes = axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .merge(probes(client));
    Exporter::serve_apart(address, routes).await?;
    Ok(())
}

/// What the worker and the gateway share: the NATS connection to make, the app, the
/// subject, and how the auth example reads HTTP credentials.
struct Deployment {
    nats: String,
    /// The process's exporter, with `--metrics-addr`.
    metrics: Option<(SocketAddr, Exporter)>,
    timeout: Duration,
    app: App,
    subject: String,
    http_auth: Option<HttpAuthOptions>,
}

impl Deployment {
    async fn connect(&self) -> Result<nats::async_nats::Client, nats::NatsError> {
        nats::connect(&self.nats, self.timeout).await
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // The calls are answered, and logged, by the workers.
    if args.access_log && matches!(args.mode, Mode::Gateway(_)) {
        return Err("--access-log (TELEPACT_ACCESS_LOG) is for workers: \
            a gateway answers no call itself, so it has none to log"
            .into());
    }
    if let Mode::Worker(worker) = &args.mode {
        auth_flags_unused(args.app, worker)?;
    }
    // The facade's recorder too: the listener's connection series and the gateway's
    // requests land beside the calls.
    let metrics = match args.metrics_addr {
        Some(address) => Some((address, Exporter::install()?)),
        None => None,
    };
    let deployment = Deployment {
        metrics,
        http_auth: args.app.http_auth(&args),
        subject: args
            .subject
            .unwrap_or_else(|| format!("telepact.{}", args.app.name())),
        nats: args.nats,
        timeout: args.timeout.0,
        app: args.app,
    };
    match args.mode {
        Mode::Worker(worker) => run_worker(deployment, worker).await?,
        Mode::Gateway(gateway) => run_gateway(deployment, gateway).await?,
    }
    tracing::info!("shut down");
    Ok(())
}

/// Refuses the auth example's `--redis` and `--users` for a worker of `app` that would
/// take them and use neither: the bakery keeps no credentials and its staff are built
/// in, so an operator who gave `--redis` to share its state across workers would be
/// told nothing of its being ignored.
fn auth_flags_unused(app: App, worker: &WorkerArgs) -> Result<(), String> {
    let given = [
        ("--redis", worker.redis.is_some()),
        ("--users", worker.users.is_some()),
    ];
    match (app, given.into_iter().find(|(_, given)| *given)) {
        (App::Bakery, Some((flag, _))) => Err(format!(
            "{flag} is for the auth example's workers (--app auth): \
             the bakery keeps no credentials and its staff are built in"
        )),
        _ => Ok(()),
    }
}

/// Answers requests on the subject until Ctrl-C or SIGTERM, then drains.
async fn run_worker(
    deployment: Deployment,
    args: WorkerArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    // Listened for from the start: a worker still waiting for NATS (unreachable at
    // start) stops on Ctrl-C or SIGTERM with status 0, rather than being killed by it.
    let mut shutdown = std::pin::pin!(http::shutdown_signal());
    let client = deployment.connect().await?;
    let app = deployment.app;
    let exporter = deployment.metrics.as_ref().map(|(_, exporter)| exporter);
    let server = build_server(app, &args, exporter).await?;
    if let Some((address, exporter)) = deployment.metrics {
        serve_metrics(address, exporter, Some(server.clone()), &client).await?;
    }
    let queue_group = args.queue_group.unwrap_or_else(|| app.name().to_string());
    let mut options = nats::WorkerOptions::default()
        .trust_peer_address(args.trust_gateway_address)
        .max_in_flight(args.max_in_flight.map(NonZeroUsize::get));
    if let Some(http_auth) = deployment.http_auth {
        options = options.header_bridge(CredentialBridge::new(&server, http_auth));
    }
    let subject = deployment.subject;
    let subscribing = nats::serve_with(server, client, &subject, &queue_group, options);
    let worker = tokio::select! {
        worker = subscribing => worker?,
        () = &mut shutdown => return Ok(()),
    };
    say_ready("worker");
    tracing::info!(app = app.name(), %subject, %queue_group, "serving over NATS");
    shutdown.await;
    worker.drain().await?;
    Ok(())
}

/// Serves HTTP, forwarding each request to the subject, until Ctrl-C or SIGTERM.
async fn run_gateway(
    deployment: Deployment,
    args: GatewayArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    // As many connections as the process may hold (the server keeps within them), before
    // the serve options, whose default bound follows that limit; their certificate is
    // read before NATS is connected to.
    telepact::http::raise_open_files_limit();
    let serving = args.http.serve_options()?;
    let client = deployment.connect().await?;
    if let Some((address, exporter)) = deployment.metrics {
        serve_metrics(address, exporter, None, &client).await?;
    }
    let probes = probes(&client);
    let (host, port) = (args.host.as_str(), args.port);
    let listener = TcpListener::bind((host, port))
        .await
        .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
    let address = listener.local_addr()?;
    let forwarding =
        nats::GatewayOptions::default().forward_peer_address(args.forward_caller_address);
    let http_options = args.http.http_options(HttpOptions::default());
    let subject = deployment.subject;
    let app = match deployment.http_auth {
        Some(http_auth) => {
            let http_auth = http_auth.trusted_proxies(args.trusted_proxies);
            let gateway = telepact_auth::http::nats::gateway;
            gateway(client, &subject, &http_options, &http_auth, forwarding)?
        }
        None => {
            let app = nats::gateway_with(client, &subject, &http_options, forwarding)?;
            telepact_auth::http::with_client_address(app, args.trusted_proxies)
        }
    };
    let app = app.merge(probes);
    let shutdown = http::shutdown_signal();
    say_ready(&address.port().to_string());
    let scheme = args.http.scheme();
    tracing::info!(%address, scheme, %subject, "forwarding POST /api/telepact to NATS");
    http::serve_with(listener, app, shutdown, serving).await?;
    Ok(())
}

/// Prints `READY {what}` on stdout, for a script or supervisor waiting for it. One that
/// has stopped reading (a closed pipe) is warned of, as the board does: `println!` would
/// end the process, which serves without anyone reading its stdout.
fn say_ready(what: &str) {
    if let Err(error) = writeln!(std::io::stdout(), "READY {what}") {
        tracing::warn!(%error, "READY not printed: stdout is not being read");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_nats_would_refuse_is_a_usage_error() {
        let parse = |subject: &str| Args::try_parse_from(["nats", "--subject", subject, "gateway"]);
        let wildcards = ["telepact.*", "telepact.>"];
        for bad in ["", "telepact bakery", "telepact..bakery", ".telepact"]
            .into_iter()
            .chain(wildcards)
        {
            let error = parse(bad).expect_err(bad);
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad:?}"
            );
            assert!(error.to_string().contains("not a NATS subject"), "{error}");
        }
        let too_long = format!("telepact.{}", "a".repeat(nats::MAX_SUBJECT_BYTES));
        let error = parse(&too_long).expect_err("a subject past the limit");
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(error.to_string().contains("past the 2048 bytes"), "{error}");
        let args = parse("telepact.bakery").expect("a good subject");
        assert_eq!(args.subject.as_deref(), Some("telepact.bakery"));
    }

    /// A worker answering at most no request at once would take none: refused with
    /// one line, where it was taken as 1 unsaid.
    #[test]
    fn a_worker_taking_no_request_at_once_is_a_usage_error() {
        let parse = |most: &str| Args::try_parse_from(["nats", "worker", "--max-in-flight", most]);
        let error = parse("0").expect_err("0 refused");
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        let args = parse("8").expect("8 taken");
        let Mode::Worker(worker) = args.mode else {
            panic!("a worker: {args:?}");
        };
        assert_eq!(worker.max_in_flight.map(NonZeroUsize::get), Some(8));
    }
}
