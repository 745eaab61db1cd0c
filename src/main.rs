//! `cargo run`: serves the bakery shift board over HTTP.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::routing::get;
use clap::Parser;
use metrics_exporter_prometheus::{
    BuildError, Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use telepact::flags::HttpFlags;
use telepact::http::{self, HttpOptions};
use telepact::logging::{LogFormat, StderrLog};
use tokio::net::TcpListener;
use tracing_subscriber::filter::LevelFilter;

/// The bakery shift board: a Telepact server on `POST /api/telepact`.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8002)]
    port: u16,
    /// Count calls and serve them as Prometheus text on `GET /metrics` of the API's port
    /// (open to whoever can call the API: prefer --metrics-addr).
    #[arg(long)]
    metrics: bool,
    /// Count calls and serve them on `GET /metrics` (and `GET /healthz`) of this address
    /// alone, in plain HTTP (`127.0.0.1:9090`), rather than on the API's port.
    #[arg(long, value_name = "HOST:PORT")]
    metrics_addr: Option<SocketAddr>,
    #[command(flatten)]
    http: HttpFlags,
    /// How log lines are written on stderr: `text`, or `json` (one object a line).
    #[arg(long, env = "TELEPACT_LOG_FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Write a line on stderr for each call as it ends: function, result, client address,
    /// duration (never a credential or a body).
    #[arg(long, env = "TELEPACT_ACCESS_LOG")]
    access_log: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Args = telepact::flags::parse_or_exit();
    // No subscriber is installed before this one, so it cannot fail.
    let _ = StderrLog::new(LevelFilter::INFO)
        .format(args.log_format)
        .calls(args.access_log)
        .init();
    let outcome = run(args).await;
    // The identity lines of the last calls may still be queued.
    telepact_bakery::identity_log::flush();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // On stderr whatever `RUST_LOG` says: a filter that hides errors (`off`, or a
            // misspelt level read as a target) must not hide why the process ended.
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                telepact::ErrorChain(&*error)
            );
            ExitCode::FAILURE
        }
    }
}

/// Upper bounds of the call-duration histogram's buckets, in seconds: most calls answer
/// well within a millisecond, and none lasts past the request timeout.
const DURATION_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Upper bounds of the message-size histograms' buckets, in bytes.
const SIZE_BUCKETS: [f64; 8] = [
    64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0,
];

/// The exporter, with histograms rather than its default summaries: buckets add up
/// across instances of the board, and folding a sample into one costs less.
fn prometheus_recorder() -> Result<PrometheusRecorder, BuildError> {
    Ok(PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &DURATION_BUCKETS)?
        .set_buckets_for_metric(Matcher::Suffix("_bytes".into()), &SIZE_BUCKETS)?
        .build_recorder())
}

/// How often the Prometheus exporter folds the samples it holds into its histograms:
/// what it holds in between grows with the rate of calls (24 bytes a sample, three
/// samples a call).
const UPKEEP_PERIOD: Duration = Duration::from_secs(1);

/// The exporter keeps every histogram sample until it is asked to fold them (a
/// scrape, or this): without it, samples would pile up while nobody scrapes.
async fn upkeep(prometheus: PrometheusHandle) {
    let mut every = tokio::time::interval(UPKEEP_PERIOD);
    loop {
        every.tick().await;
        prometheus.run_upkeep();
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let counted = args.metrics || args.metrics_addr.is_some();
    let prometheus = counted.then(prometheus_recorder).transpose()?;
    let rendering = prometheus.as_ref().map(PrometheusRecorder::handle);
    let server = match prometheus {
        Some(recorder) => telepact_bakery::builder()
            .metrics_recorder(recorder)
            .build()?,
        None => telepact_bakery::server()?,
    };
    // As many connections as the process may hold (the server keeps within them), before
    // the serve options, whose default bound follows that limit.
    telepact::http::raise_open_files_limit();
    let serving = args.http.serve_options()?;
    let listener = listen(&args.host, args.port).await?;
    let address: SocketAddr = listener.local_addr()?;
    let http_options = args.http.http_options(HttpOptions::default());
    let mut app = http::router(server.clone(), &http_options).route("/healthz", get(healthz));
    let mut metrics = None;
    if let Some(prometheus) = rendering {
        tokio::spawn(upkeep(prometheus.clone()));
        let scrape = scrape_route(server, prometheus);
        match args.metrics_addr {
            Some(metrics_address) => metrics = Some(serve_metrics(metrics_address, scrape).await?),
            None => app = app.merge(scrape),
        }
    }
    // Listening for Ctrl-C before saying so: a signal right after READY shuts down cleanly.
    let shutdown = http::shutdown_signal();
    // The line a supervisor (or a test) waits for before sending requests.
    println!("READY {}", address.port());
    let scheme = args.http.scheme();
    tracing::info!(%address, scheme, "serving the bakery shift board on POST /api/telepact");
    http::serve_with(listener, app, shutdown, serving).await?;
    // Served until the API's listener has shut down: a scrape during its grace still
    // counts the calls finishing then.
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    tracing::info!("shut down");
    Ok(())
}

/// Serves `scrape` and `GET /healthz` on `address`, in plain HTTP, until aborted.
async fn serve_metrics(
    address: SocketAddr,
    scrape: axum::Router,
) -> Result<tokio::task::JoinHandle<std::io::Result<()>>, String> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|e| format!("cannot listen on {address} (--metrics-addr): {e}"))?;
    let routes = scrape.route("/healthz", get(healthz));
    tracing::info!(%address, "serving GET /metrics and /healthz");
    Ok(tokio::spawn(http::serve(
        listener,
        routes,
        std::future::pending(),
    )))
}

/// Liveness: the process serves requests.
async fn healthz() -> &'static str {
    "ok"
}

async fn listen(host: &str, port: u16) -> Result<TcpListener, String> {
    TcpListener::bind((host, port))
        .await
        .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))
}

/// `GET /metrics`: the calls counted, as Prometheus text.
fn scrape_route(server: telepact::Server, prometheus: PrometheusHandle) -> axum::Router {
    let scrape = move || async move {
        // Calls still held in the server's per-thread batches are counted too.
        server.flush_metrics();
        prometheus.render()
    };
    axum::Router::new().route("/metrics", get(scrape))
}
