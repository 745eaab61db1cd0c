//! `cargo run`: serves the bakery shift board over HTTP.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::StatusCode;
use axum::routing::get;
use clap::Parser;
use telepact::flags::{CallFlags, HttpFlags};
use telepact::http::{self, HttpOptions};
use telepact::logging::{LevelFilter, LogFormat, StderrLog};
use telepact::prometheus::Exporter;
use tokio::net::TcpListener;

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
    #[arg(long, conflicts_with = "metrics_addr")]
    metrics: bool,
    /// Count calls and serve them on `GET /metrics` (and `GET /healthz`) of this address
    /// alone, in plain HTTP (`127.0.0.1:9090`), rather than on the API's port.
    #[arg(long, value_name = "HOST:PORT")]
    metrics_addr: Option<SocketAddr>,
    #[command(flatten)]
    http: HttpFlags,
    #[command(flatten)]
    calls: CallFlags,
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

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let counted = args.metrics || args.metrics_addr.is_some();
    // The facade's recorder too: the listener's connection series land beside the calls.
    let exporter = counted.then(Exporter::install).transpose()?;
    let builder = args.calls.server_builder(telepact_bakery::builder());
    let server = match &exporter {
        Some(exporter) => builder.metrics_recorder(exporter.recorder()).build()?,
        None => builder.build()?,
    };
    // As many connections as the process may hold (the server keeps within them), before
    // the serve options, whose default bound follows that limit.
    telepact::http::raise_open_files_limit();
    let serving = args.http.serve_options()?;
    let listener = listen(&args.host, args.port).await?;
    let address: SocketAddr = listener.local_addr()?;
    let http_options = args.http.http_options(HttpOptions::default());
    let draining = Arc::new(AtomicBool::new(false));
    let probes = probes(&draining);
    let mut app = http::router(server.clone(), &http_options).merge(probes.clone());
    let mut metrics = None;
    if let Some(exporter) = exporter {
        exporter.spawn_upkeep();
        // Calls still held in the server's per-thread batches are counted too.
        let scrape = exporter.router(vec![server]);
        match args.metrics_addr {
            Some(address) => {
                metrics = Some(Exporter::serve_apart(address, scrape.merge(probes)).await?);
            }
            None => app = app.merge(scrape),
        }
    }
    // Another path gets a 404 naming the API's.
    let app = http::not_found_naming(app, &http_options.path);
    // Listening for Ctrl-C before saying so: a signal right after READY shuts down cleanly.
    let signal = http::shutdown_signal();
    let shutdown = async move {
        signal.await;
        draining.store(true, Ordering::Relaxed);
    };
    // The line a supervisor (or a test) waits for before sending requests. A stdout
    // nobody reads does not stop the board, as it does not stop the identity lines.
    if let Err(error) = writeln!(std::io::stdout(), "READY {}", address.port()) {
        tracing::warn!(%error, "READY not printed: stdout is not being read");
    }
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

/// `GET /healthz` (liveness: the process serves requests) and `GET /readyz`
/// (readiness): the board depends on nothing outside the process, so it is ready
/// until it begins to shut down; from then the API's port takes no new connection
/// while calls in flight finish, and `/readyz` (still served on `--metrics-addr`)
/// answers 503 `draining` so that a balancer sends no more calls its way.
fn probes(draining: &Arc<AtomicBool>) -> axum::Router {
    let draining = Arc::clone(draining);
    let ready = move || async move {
        if draining.load(Ordering::Relaxed) {
            (StatusCode::SERVICE_UNAVAILABLE, "draining")
        } else {
            (StatusCode::OK, "ready")
        }
    };
    axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

async fn listen(host: &str, port: u16) -> Result<TcpListener, String> {
    TcpListener::bind((host, port))
        .await
        .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))
}
