//! The accept loop behind [`serve_with`](super::serve_with), plain or TLS: one hyper
//! connection per stream (HTTP/1.1 or HTTP/2, WebSocket upgrades included), the peer
//! address in every request, the first request and every HTTP/1 request head on a
//! deadline, and a graceful shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tower_service::Service;

/// Turns an accepted TCP stream into the stream HTTP is spoken on.
pub(super) trait Handshake: Clone + Send + Sync + 'static {
    /// The stream HTTP runs over.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// `None` drops the connection (a failed TLS handshake, say).
    fn handshake(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> impl Future<Output = Option<Self::Stream>> + Send;
}

/// Cleartext: HTTP straight on the TCP stream.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plain;

impl Handshake for Plain {
    type Stream = TcpStream;

    async fn handshake(&self, stream: TcpStream, _peer: SocketAddr) -> Option<TcpStream> {
        Some(stream)
    }
}

/// How long the loop waits: for a request head, and for in-flight requests after the
/// shutdown signal.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadlines {
    pub(super) header: Duration,
    pub(super) grace: Duration,
}

/// Accepts connections on `listener` until `shutdown` completes, then gives the open
/// ones `deadlines.grace` to finish their requests.
pub(super) async fn serve_connections<H: Handshake>(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    deadlines: Deadlines,
    handshake: H,
) -> io::Result<()> {
    let header = deadlines.header;
    let builder = Arc::new(connection_builder(header));
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    pause_after(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without TCP_NODELAY the tail of a large response waits for the peer's delayed ACK.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let connection = connections.watcher();
        let (handshake, builder, router) =
            (handshake.clone(), Arc::clone(&builder), router.clone());
        tokio::spawn(async move {
            let Some(stream) = handshake.handshake(stream, peer).await else {
                return;
            };
            let first_request = Arc::new(FirstRequest::default());
            let seen = Arc::clone(&first_request);
            let service =
                hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
                    seen.arrived();
                    request.extensions_mut().insert(ConnectInfo(peer));
                    router.clone().call(request)
                });
            let serving = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let mut serving = std::pin::pin!(connection.watch(serving));
            // hyper's head timer starts once it knows the connection speaks HTTP/1; until
            // then (and on HTTP/2) nothing limits a client that sends nothing, or half a
            // preface. A connection with no request by the head deadline is closed; once
            // one has come, the timer is dropped rather than polled on every wake.
            let outcome = tokio::select! {
                biased;
                outcome = &mut serving => outcome,
                () = first_request.notify.notified() => serving.await,
                () = tokio::time::sleep(header) => {
                    tracing::debug!(%peer, "no request in time; connection closed");
                    return;
                }
            };
            if let Err(error) = outcome {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(deadlines.grace, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_ms = deadlines.grace.as_millis(),
            "in-flight requests cancelled at the shutdown deadline"
        );
    }
    Ok(())
}

/// Tells a connection's task that its first request has come.
#[derive(Default)]
struct FirstRequest {
    seen: AtomicBool,
    notify: tokio::sync::Notify,
}

impl FirstRequest {
    /// Called for every request; only the first one notifies.
    fn arrived(&self) {
        if !self.seen.swap(true, Ordering::Relaxed) {
            self.notify.notify_one();
        }
    }
}

/// HTTP/1.1 and HTTP/2 on one port. A connection that does not send a whole request
/// head within `header` is closed, an idle keep-alive one included: without a timer
/// hyper waits for a head forever, so slow or silent clients could hold any number of
/// connections open.
fn connection_builder(header: Duration) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header);
    builder.http2().timer(TokioTimer::new());
    builder
}

/// After a failed accept: a connection that went away costs nothing, anything else
/// (out of file descriptors, say) is waited out for a second rather than spun on.
async fn pause_after(error: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tracing::warn!(%error, "accept failed");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
