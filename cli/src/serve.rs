//! Serving a router until Ctrl-C or SIGTERM, as `telepact mock` and `telepact demo-server`
//! do, with the HTTP listener's flags.

use std::net::SocketAddr;
use std::process::ExitCode;

use telepact::flags::HttpFlags;
use telepact::http;
use telepact::logging::LogFormat;
use tokio::net::TcpListener;

use crate::error::CliError;
use crate::{Outcome, console};

/// Listens on `address`, prints `READY <port>` on stdout (the line a script or test
/// waits for) and `what` is served where on stderr (given the origin served,
/// `http://127.0.0.1:8080` or its `https` one), then serves `router` as `flags` say until
/// Ctrl-C or SIGTERM, which end it gracefully with status 0.
pub(crate) async fn until_stopped(
    router: axum::Router,
    address: SocketAddr,
    flags: &HttpFlags,
    log: LogFormat,
    what: impl FnOnce(&str) -> String,
) -> Outcome {
    let listen_failed = |source| CliError::Listen { address, source };
    // As many connections as the process may hold (the server keeps within them), before
    // the serve options, whose default bound follows that limit.
    telepact::http::raise_open_files_limit();
    let serving = flags.serve_options()?;
    let listener = TcpListener::bind(address).await.map_err(listen_failed)?;
    let bound = listener.local_addr().map_err(listen_failed)?;
    // Listening for Ctrl-C before saying so: a signal right after READY stops it cleanly.
    let shutdown = http::shutdown_signal();
    console::print_line(&format!("READY {}", bound.port()))?;
    let origin = format!("{}://{bound}", flags.scheme());
    crate::logging::announce(&format!("{}; Ctrl-C stops it", what(&origin)), log);
    http::serve_with(listener, router, shutdown, serving)
        .await
        .map_err(|source| CliError::Listen {
            address: bound,
            source,
        })?;
    Ok(ExitCode::SUCCESS)
}
