//! Serving a router on a listener: plain or TLS, with per-connection limits, the
//! open-files limit the connection cap follows, and the shutdown signal.

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use super::accept;
use super::{DEFAULT_CONNECTIONS_PER_ADDRESS, DEFAULT_HEADER_TIMEOUT, DEFAULT_SHUTDOWN_GRACE};
#[cfg(feature = "tls")]
use super::{TlsConfig, tls};

/// How [`serve_with`] serves: the shutdown grace, how long a request head may take and,
/// with the `tls` feature, TLS.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// How long in-flight requests (and WebSocket sessions: each answers the message it
    /// is on, then closes with 1001) may take after the shutdown signal; `Duration::MAX`
    /// to wait for them however long they take.
    pub grace: Duration,
    /// How long an HTTP/1 connection may take to send a whole request head, waiting for
    /// the next request on a keep-alive connection included, any connection its first
    /// request, an HTTP/2 connection with no request in flight its next one, and a
    /// WebSocket session its next message; past it the connection is closed (an idle
    /// session with 1000). A client that takes nothing written to it for as long (it
    /// stopped reading its answers), or an HTTP/2 client that grants no room for an
    /// answer for as long, has its connection dropped.
    /// [`DEFAULT_HEADER_TIMEOUT`] by default; `Duration::MAX` for none.
    pub header_timeout: Duration,
    /// How many connections one client address may have open at once; past it a new
    /// connection from the address is closed unread. A client opening connections and
    /// sending nothing holds each for the header timeout, and without a bound a few
    /// hundred of them take every file descriptor the process may open (1,024 under
    /// systemd's default), after which no one is answered.
    /// [`DEFAULT_CONNECTIONS_PER_ADDRESS`] by default; `None` for no bound (behind a
    /// proxy whose connections all come from one address, set one above its pool).
    pub connections_per_address: Option<usize>,
    /// How many connections may be open at once in all; past it a new connection is
    /// closed unread. By default seven eighths of the file descriptors the process may
    /// open (its soft `RLIMIT_NOFILE` when the options are made, so that the rest stay for
    /// files, a store's connections and the listener), or none where that cannot be
    /// read; `None` for no bound. A client with many addresses would otherwise take
    /// every descriptor despite [`connections_per_address`](Self::connections_per_address).
    pub max_connections: Option<usize>,
    /// `None`: HTTP/1.1 and cleartext HTTP/2 (h2c). `Some`: HTTPS, with HTTP/2 or
    /// HTTP/1.1 chosen by ALPN.
    #[cfg(feature = "tls")]
    pub tls: Option<TlsConfig>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            grace: DEFAULT_SHUTDOWN_GRACE,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            connections_per_address: Some(DEFAULT_CONNECTIONS_PER_ADDRESS),
            max_connections: default_max_connections(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl ServeOptions {
    /// Sets how long in-flight requests may take after the shutdown signal.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Sets how long a connection may take to send a whole request head.
    #[must_use]
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Sets how many connections may be open in all (`None`: no bound).
    #[must_use]
    pub fn max_connections(mut self, limit: Option<usize>) -> Self {
        self.max_connections = limit;
        self
    }

    /// Sets how many connections one client address may have open (`None`: no bound).
    #[must_use]
    pub fn connections_per_address(mut self, limit: Option<usize>) -> Self {
        self.connections_per_address = limit;
        self
    }

    /// Serves HTTPS with `config` (see [`TlsConfig::from_pem_files`]).
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, config: TlsConfig) -> Self {
        self.tls = Some(config);
        self
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets in-flight
/// requests finish for up to [`DEFAULT_SHUTDOWN_GRACE`]. Each request's
/// [`PeerAddress`](crate::message::PeerAddress) reaches the server.
///
/// # Errors
///
/// None as it stands: the future resolves to `Ok` once shut down. A failed accept (too
/// many open files, say) is logged and retried after a pause, and a connection that
/// fails ends alone.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with(listener, router, shutdown, ServeOptions::default()).await
}

/// Like [`serve`], with in-flight requests given `grace` after the shutdown signal.
/// Past it this returns without them (they end with the runtime), so a stuck handler
/// never keeps the process from stopping.
///
/// # Errors
///
/// As [`serve`]: it resolves to `Ok` once shut down.
pub async fn serve_with_grace(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> io::Result<()> {
    serve_with(
        listener,
        router,
        shutdown,
        ServeOptions::default().grace(grace),
    )
    .await
}

/// Like [`serve`], as `options` say: plain or TLS, and the shutdown grace.
///
/// # Errors
///
/// As [`serve`]: it resolves to `Ok` once shut down. A TLS handshake that fails or
/// takes too long closes that connection alone.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> io::Result<()> {
    let deadlines = accept::Deadlines {
        header: options.header_timeout.min(LONGEST_WAIT),
        grace: options.grace.min(LONGEST_WAIT),
        per_address: options.connections_per_address,
        total: options.max_connections,
    };
    #[cfg(feature = "tls")]
    if let Some(config) = options.tls {
        let tls = tls::Tls::new(config, options.header_timeout);
        return accept::serve_connections(listener, router, shutdown, deadlines, tls).await;
    }
    accept::serve_connections(listener, router, shutdown, deadlines, accept::Plain).await
}

/// The longest of the waits [`serve_with`] sets, about 30 years: a longer one
/// (`Duration::MAX`, meant as none) is past what the clock can add to its time, where
/// hyper's head timer and the shutdown's deadline panicked.
const LONGEST_WAIT: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// Seven eighths of the file descriptors this process may open (its soft
/// `RLIMIT_NOFILE`), at least 64; `None` where the limit cannot be read or is unlimited.
fn default_max_connections() -> Option<usize> {
    let descriptors = usize::try_from(open_files_limit()?.current?).ok()?;
    Some((descriptors - descriptors / 8).max(64))
}

/// Raises this process's soft limit of open file descriptors to its hard limit (a
/// service's start, before [`serve`]: systemd's soft default is 1,024, its hard one far
/// more), and returns the soft limit it then has; `None` where it cannot be read. The
/// server's [`ServeOptions::max_connections`] follows the soft limit.
pub fn raise_open_files_limit() -> Option<u64> {
    let limit = open_files_limit()?;
    if limit.current != limit.maximum {
        let raised = Limit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(error) = set_open_files_limit(raised) {
            tracing::debug!(error = %crate::ErrorChain(&error), "cannot raise the limit of open files");
        }
    }
    open_files_limit()?.current
}

/// A soft and a hard limit; `None`: unlimited.
struct Limit {
    current: Option<u64>,
    maximum: Option<u64>,
}

#[cfg(unix)]
fn open_files_limit() -> Option<Limit> {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    Some(Limit {
        current: limit.current,
        maximum: limit.maximum,
    })
}

#[cfg(unix)]
fn set_open_files_limit(limit: Limit) -> io::Result<()> {
    let limit = rustix::process::Rlimit {
        current: limit.current,
        maximum: limit.maximum,
    };
    Ok(rustix::process::setrlimit(
        rustix::process::Resource::Nofile,
        limit,
    )?)
}

#[cfg(not(unix))]
fn open_files_limit() -> Option<Limit> {
    None
}

#[cfg(not(unix))]
fn set_open_files_limit(_: Limit) -> io::Result<()> {
    Ok(())
}

/// Completes on Ctrl-C (and on SIGTERM on Unix): a ready-made `shutdown` for [`serve`].
///
/// The signals are listened for from this call on, not from the future's first poll:
/// call it before telling anyone the server is up, and a signal sent right after is a
/// graceful shutdown rather than lost (a process started with SIGINT ignored, as a
/// background job of a script is) or the default action's abrupt exit. Call it within
/// a Tokio runtime.
///
/// A second signal while the shutdown waits for requests in flight ends the process at
/// once, as a second Ctrl-C does in most servers: its status is 128 plus the signal's
/// number (130 for SIGINT, 143 for SIGTERM), and a warning says so first.
#[cfg(unix)]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    // A signal that cannot be listened for never arrives.
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    async move {
        next_signal(&mut interrupt, &mut terminate).await;
        tokio::spawn(async move {
            let number = next_signal(&mut interrupt, &mut terminate).await;
            tracing::warn!("a second signal: exiting without waiting for requests in flight");
            std::process::exit(128 + number);
        });
    }
}

/// Waits for the next SIGINT or SIGTERM that `interrupt` and `terminate` (each when it
/// could be listened for) receive, and gives its number.
#[cfg(unix)]
async fn next_signal(
    interrupt: &mut Option<tokio::signal::unix::Signal>,
    terminate: &mut Option<tokio::signal::unix::Signal>,
) -> i32 {
    async fn arrival(signal: &mut Option<tokio::signal::unix::Signal>) {
        match signal {
            Some(signal) => _ = signal.recv().await,
            None => std::future::pending().await,
        }
    }
    tokio::select! {
        () = arrival(interrupt) => 2,
        () = arrival(terminate) => 15,
    }
}

/// Completes on Ctrl-C: a ready-made `shutdown` for [`serve`]. Off Unix, Ctrl-C is
/// listened for from the future's first poll.
#[cfg(not(unix))]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
