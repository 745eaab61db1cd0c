//! Serving a router until Ctrl-C, as `telepact mock` and `telepact demo-server` do.

use std::net::SocketAddr;
use std::process::ExitCode;

use telepact::http;
use tokio::net::TcpListener;

use crate::error::CliError;
use crate::{Outcome, console};

/// Listens on `address`, prints `READY <port>` on stdout (the line a script or test
/// waits for) and `what` is served where on stderr, then serves `router` until Ctrl-C
/// or SIGTERM.
pub(crate) async fn until_stopped(
    router: axum::Router,
    address: SocketAddr,
    what: impl FnOnce(SocketAddr) -> String,
) -> Outcome {
    let listen_failed = |source| CliError::Listen { address, source };
    // As many connections as the process may hold (the server keeps within them).
    telepact::http::raise_open_files_limit();
    let listener = TcpListener::bind(address).await.map_err(listen_failed)?;
    let bound = listener.local_addr().map_err(listen_failed)?;
    // Listening for Ctrl-C before saying so: a signal right after READY stops it cleanly.
    let shutdown = http::shutdown_signal();
    console::print_line(&format!("READY {}", bound.port()))?;
    console::print_error_line(&format!("{}; Ctrl-C stops it", what(bound)));
    http::serve(listener, router, shutdown)
        .await
        .map_err(|source| CliError::Listen {
            address: bound,
            source,
        })?;
    Ok(ExitCode::SUCCESS)
}
