//! The accept loop behind [`serve_with`](super::serve_with), plain or TLS: one hyper
//! connection per stream (HTTP/1.1 or HTTP/2, WebSocket upgrades included), the peer
//! address in every request, the first request and every HTTP/1 request head on a
//! deadline, an HTTP/1 connection dropped when its client goes mid-call, and a
//! graceful shutdown. A connection closed while its client is still sending is closed
//! in stages ([`linger`]), so that the client reads its answer.

mod activity;
mod hangup;
mod linger;
mod preface;
mod untaken;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_io_timeout::TimeoutStream;
use tower_service::Service;

use super::per_address::{Admitted, OpenConnections};
use activity::{Activity, Idle, InFlight, is_last_request};
use hangup::{Hangups, OnHangup, Watch};
use linger::Lingering;
use preface::PrefaceWatch;

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
    /// How many connections one client address may have open.
    pub(super) per_address: Option<usize>,
    /// How many connections may be open in all.
    pub(super) total: Option<usize>,
}

/// How long past the shutdown's deadline the accept loop waits for connections to end:
/// each ends at the deadline itself, given the moment to log what it cut off.
const SETTLE: Duration = Duration::from_millis(250);

/// Accepts connections on `listener` until `shutdown` completes, then gives the open
/// ones `deadlines.grace` to finish their requests.
pub(super) async fn serve_connections<H: Handshake>(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    deadlines: Deadlines,
    handshake: H,
) -> io::Result<()> {
    let builder = Arc::new(connection_builder(deadlines.header));
    // Every connection task holds a receiver: a deadline asks it to finish gracefully by
    // then, and the sender sees the last one dropped when all have.
    let (stopping, _) = watch::channel(None);
    let open = OpenConnections::new(deadlines.per_address, deadlines.total);
    let hangups = Hangups::new();
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
        // Refused before any byte is read: the client sees its connection closed.
        let Some(admitted) = open.admit(peer.ip()) else {
            continue;
        };
        // Without TCP_NODELAY the tail of a large response waits for the peer's delayed ACK.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(error = %crate::ErrorChain(&error), "cannot set TCP_NODELAY");
        }
        let activity = Arc::new(Activity::default());
        let watched = hangups.watch(&stream, Arc::clone(&activity) as Arc<dyn OnHangup>);
        let mut connection = Connection {
            peer,
            activity: Arc::clone(&activity),
            watched,
            router: router.clone(),
            builder: Arc::clone(&builder),
            idle_limit: deadlines.header,
            stop: stopping.subscribe(),
            grace: deadlines.grace,
            admitted: Arc::new(admitted),
        };
        let handshake = handshake.clone();
        let task = tokio::spawn(async move {
            if let Some(stream) = connection.handshake(&handshake, stream).await {
                connection.serve(stream).await;
            }
        });
        activity.keep_task(task.abort_handle());
    }
    drop(listener);
    // A u64 (not `as_millis`' u128), which every log format writes as a number.
    let grace_ms = u64::try_from(deadlines.grace.as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        grace_ms,
        "shutting down: no new connections; requests in flight may finish"
    );
    // One deadline for every connection: each drops, and names, a request unfinished by
    // then, and is gone a moment later; this wait is the backstop for one that is not.
    let deadline = Instant::now() + deadlines.grace;
    stopping.send_replace(Some(deadline));
    if tokio::time::timeout_at(deadline + SETTLE, stopping.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_ms,
            "in-flight requests cancelled at the shutdown deadline"
        );
    }
    Ok(())
}

/// What the accept loop asks of a WebSocket session, which outlives its HTTP
/// connection's task: to end at the server's shutdown (a session holds this until it
/// ends, so the graceful shutdown waits for it), and to end when it idles past the
/// limit an HTTP connection has.
#[derive(Debug, Clone)]
pub(super) struct SessionControl {
    stop: watch::Receiver<Option<Instant>>,
    /// How long a session may go without a message.
    pub(super) idle_limit: Duration,
    /// The client's address, for the log.
    pub(super) peer: SocketAddr,
    /// The connection's place among its address's, held while the session lasts.
    _admitted: Arc<Admitted>,
}

impl SessionControl {
    /// Completes once the server is shutting down (never, if it was dropped without).
    pub(super) async fn shutting_down(&mut self) {
        if self.stop.wait_for(Option::is_some).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Completes at the shutdown's deadline, by which the message being answered must
    /// have been (never, if the server was dropped without a shutdown).
    pub(super) async fn past_the_deadline(&mut self) {
        let deadline = match self.stop.wait_for(Option::is_some).await {
            Ok(deadline) => *deadline,
            Err(_) => None,
        };
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    }
}

/// One accepted connection, before its stream speaks HTTP.
struct Connection {
    peer: SocketAddr,
    /// What is known of its requests.
    activity: Arc<Activity>,
    /// Its place in the server's watch for clients going away, where it has one.
    watched: Option<Watch>,
    router: Router,
    builder: Arc<auto::Builder<TokioExecutor>>,
    /// How long the connection may go without a request (see [`Activity::idle`]).
    idle_limit: Duration,
    /// Once the server stops, when its requests must have finished.
    stop: watch::Receiver<Option<Instant>>,
    /// How long they may take should the accept loop be dropped before it says.
    grace: Duration,
    /// Its place among its address's connections, given back when it ends.
    admitted: Arc<Admitted>,
}

impl Connection {
    /// `handshake` on `stream`, given up once the server stops: a connection still in
    /// its handshake (a TLS client that sent no hello) has no request to finish, and the
    /// shutdown would wait for it until the handshake's limit or the grace ran out, then
    /// warn of requests cut off that it never made.
    async fn handshake<H: Handshake>(
        &mut self,
        handshake: &H,
        stream: TcpStream,
    ) -> Option<H::Stream> {
        tokio::select! {
            biased;
            stream = handshake.handshake(stream, self.peer) => stream,
            _ = self.stop.wait_for(Option::is_some) => {
                tracing::debug!(peer = %self.peer, "handshake unfinished at shutdown; connection closed");
                None
            }
        }
    }

    /// Serves HTTP on `stream` until the client closes it, it idles past the limit, or
    /// the server stops (both graceful: requests in flight are answered first). A
    /// client that takes none of what is written to it for as long as the idle limit
    /// (it stopped reading its answers) has the connection dropped, and so does one
    /// whose answers are still unsent once a graceful close has waited the idle limit
    /// (the shutdown's grace when the server stops): an HTTP/2 client that grants no
    /// flow-control window leaves answers unsent, yet nothing is being written. Such a
    /// client that keeps a request in flight, so that no graceful close begins, has the
    /// connection dropped once an answer has waited the idle limit ([`untaken`]).
    async fn serve<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(mut self, stream: S) {
        let peer = self.peer;
        let activity = Arc::clone(&self.activity);
        let seen = Arc::clone(&activity);
        let watching = self.watched.is_some();
        let router = self.router;
        let session = SessionControl {
            stop: self.stop.clone(),
            idle_limit: self.idle_limit,
            peer,
            _admitted: Arc::clone(&self.admitted),
        };
        let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
            let http1_call = (watching && request.version() < http::Version::HTTP_2)
                .then(|| seen.http1_call(is_last_request(&request)));
            let in_flight = seen.started(request.version());
            request.extensions_mut().insert(ConnectInfo(peer));
            if request.method() == http::Method::GET
                && request.headers().contains_key(http::header::UPGRADE)
            {
                request.extensions_mut().insert(session.clone());
            }
            let answer = router.clone().call(request);
            async move {
                let mut response = answer.await;
                if let Some(InFlight(activity)) = &in_flight {
                    response = response.map(|answer| activity.untaken.track(answer));
                }
                drop((in_flight, http1_call));
                response
            }
        });
        let serving = self.builder.serve_connection_with_upgrades(
            TokioIo::new(write_limited(
                PrefaceWatch::new(
                    Lingering::new(stream, Arc::clone(&self.admitted)),
                    Arc::clone(&activity.http2_preface),
                ),
                self.idle_limit,
            )),
            service,
        );
        let mut serving = std::pin::pin!(serving);
        let mut watch_idle = true;
        let mut closing = Closing::Open;
        let outcome = loop {
            // Made but not polled while no close began.
            let deadline = closing.deadline().unwrap_or_else(Instant::now);
            tokio::select! {
                biased;
                outcome = serving.as_mut() => break outcome,
                stop = self.stop.wait_for(Option::is_some), if closing.is_open() => {
                    // No request to finish: hyper's graceful close would wait for the
                    // rest of an HTTP/1 client's first head until the header timeout.
                    // An HTTP/2 client is told first (GOAWAY), as hyper's close does.
                    if !activity.made_a_request() && !activity.http2_preface.load(Ordering::Acquire) {
                        tracing::debug!(%peer, "no request made by shutdown; connection closed");
                        break Ok(());
                    }
                    let by = stop.ok().and_then(|deadline| *deadline);
                    closing = Closing::Shutdown(by.unwrap_or_else(|| Instant::now() + self.grace));
                    serving.as_mut().graceful_shutdown();
                }
                idle = activity.idle(self.idle_limit), if watch_idle && closing.is_open() => match idle {
                    Idle::Expired => {
                        tracing::debug!(%peer, "no request in time; connection closed");
                        closing = Closing::Idle(Instant::now() + self.idle_limit);
                        serving.as_mut().graceful_shutdown();
                    }
                    // Dropped rather than polled on every wake of a busy connection.
                    Idle::LeftToHyper => watch_idle = false,
                    // Nothing is being written, so no graceful close could finish.
                    Idle::Stalled => {
                        tracing::debug!(%peer, "answers not taken in time; connection dropped");
                        break Ok(());
                    }
                },
                () = tokio::time::sleep_until(deadline), if !closing.is_open() => {
                    // A request still arriving or being answered is cut off: at the
                    // shutdown's deadline that is the operator's to know.
                    if let Closing::Shutdown(_) = closing {
                        tracing::warn!(%peer, "request unfinished at the shutdown deadline; connection dropped");
                    } else {
                        tracing::debug!(%peer, "request unfinished after closing; connection dropped");
                    }
                    break Ok(());
                }
            }
        };
        if let Err(error) = outcome {
            tracing::debug!(%peer, error = %crate::ErrorChain(&*error), "connection ended with an error");
        }
    }
}

/// Whether a connection is closing gracefully, why, and by when it must have closed.
#[derive(Debug, Clone, Copy)]
enum Closing {
    Open,
    /// The server is shutting down.
    Shutdown(Instant),
    /// No request came within the idle limit.
    Idle(Instant),
}

impl Closing {
    fn is_open(self) -> bool {
        matches!(self, Closing::Open)
    }

    fn deadline(self) -> Option<Instant> {
        match self {
            Closing::Open => None,
            Closing::Shutdown(by) | Closing::Idle(by) => Some(by),
        }
    }
}

/// `stream`, whose writes fail once one has waited `limit` for the peer to take
/// anything: hyper has no such limit, and a peer that stops reading would hold the
/// connection, and the answer being written, forever. Boxed, as hyper wants a stream it
/// can move.
fn write_limited<S: AsyncRead + AsyncWrite + Send + 'static>(
    stream: S,
    limit: Duration,
) -> Pin<Box<TimeoutStream<S>>> {
    let mut stream = TimeoutStream::new(stream);
    stream.set_write_timeout(Some(limit));
    Box::pin(stream)
}

/// HTTP/1.1 and HTTP/2 on one port. A connection that does not send a whole request
/// head within `header` is closed, an idle keep-alive one included: without a timer
/// hyper waits for a head forever, so slow or silent clients could hold any number of
/// connections open. hyper is told to read on past an HTTP/1 client's end of input (by
/// default it would drop the request there): whether such a client has gone, or still
/// waits for an answer to a request saying it is the last, is the hang-up watch's to
/// decide (`accept/hangup.rs`, Linux only). An HTTP/1 head past
/// [`HTTP1_BUFFER_BYTES`] is answered 431.
fn connection_builder(header: Duration) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .half_close(true)
        .timer(TokioTimer::new())
        .header_read_timeout(header)
        .max_buf_size(HTTP1_BUFFER_BYTES);
    builder.http2().timer(TokioTimer::new());
    builder
}

/// The most an HTTP/1 connection buffers as it reads, and so the most a request head
/// may hold (64 KiB; bodies are read through it in pieces). A connection holds its head
/// until the head ends or the header timeout passes: with hyper's default, about 400 KB,
/// 800 connections sending heads of 300 KB held 400 MB of the server's memory; HTTP/2
/// header lists are bound at 16 KiB by hyper already.
const HTTP1_BUFFER_BYTES: usize = 64 * 1024;

/// After a failed accept: a connection that went away costs nothing, anything else
/// (out of file descriptors, say) is waited out for a second rather than spun on.
async fn pause_after(error: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tracing::warn!(error = %crate::ErrorChain(error), "accept failed");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
