//! Calls cut off before their answer: the caller gone (an HTTP/1 connection closed, a
//! WebSocket session closed; an HTTP/2 stream reset is in `http2_tls`) or the server's
//! shutdown deadline passed. The handler is dropped, and the call is recorded once, as
//! `cancelled`, in the metrics and in its span.
#![cfg(feature = "websocket-client")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use metrics_util::debugging::{DebuggingRecorder, Snapshotter};
use telepact::http::{self, HttpOptions, ServeOptions};
use telepact::schema::Schema;
use telepact::{FunctionRouter, HandlerError, Headers, Message, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message as Frame;

use super::serve_app;
use crate::log_capture::Capture;

/// A call to `fn.stuck`, which never answers.
pub(crate) const STUCK_CALL: &[u8] = br#"[{}, {"fn.stuck": {}}]"#;

/// How long a test waits for what it expects before failing.
const WAIT: Duration = Duration::from_secs(10);

/// A server whose `fn.stuck` never answers and whose `fn.slow` answers after 100 ms,
/// reporting metrics to a recorder of its own; it counts the `fn.stuck` calls entered
/// and the handlers dropped.
pub(crate) struct Stuck {
    pub(crate) server: Server,
    entered: Arc<Semaphore>,
    given_up: Arc<AtomicUsize>,
    snapshotter: Snapshotter,
}

/// Counts its handler dropped.
struct GivenUp(Arc<AtomicUsize>);

impl Drop for GivenUp {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Stuck {
    pub(crate) fn new() -> Self {
        let (entered, given_up) = (Arc::new(Semaphore::new(0)), Arc::default());
        let schema = Schema::from_text(
            r#"[{"fn.stuck": {}, "->": [{"Ok_": {}}]}, {"fn.slow": {}, "->": [{"Ok_": {}}]}]"#,
        )
        .expect("loads");
        let (entering, dropping) = (Arc::clone(&entered), Arc::clone(&given_up));
        let router = FunctionRouter::new()
            .route("fn.stuck", move |_: Message| {
                let given_up = GivenUp(Arc::clone(&dropping));
                entering.add_permits(1);
                async move {
                    let _given_up = given_up;
                    std::future::pending::<Result<Message, HandlerError>>().await
                }
            })
            .route("fn.slow", |_: Message| async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Default::default()))
            });
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let server = Server::builder(schema, router)
            .auth_required(false)
            .metrics_recorder(recorder)
            .build()
            .expect("server builds");
        Stuck {
            server,
            entered,
            given_up,
            snapshotter,
        }
    }

    pub(crate) fn router(&self) -> axum::Router {
        http::router(self.server.clone(), &HttpOptions::default())
    }

    /// Waits until `calls` more calls to `fn.stuck` have reached the handler.
    pub(crate) async fn entered(&self, calls: u32) {
        let entered = tokio::time::timeout(WAIT, self.entered.acquire_many(calls)).await;
        entered
            .expect("the calls reach the handler")
            .expect("open")
            .forget();
    }

    /// Waits until `calls` handlers of `fn.stuck` in all have been dropped.
    pub(crate) async fn given_up(&self, calls: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.given_up.load(Ordering::SeqCst) < calls {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} of {calls} handlers dropped",
                self.given_up.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The HTTP refusals counted, read once.
    pub(crate) fn refusals(&self) -> Vec<(String, Vec<String>, String)> {
        self.server.flush_metrics();
        crate::call_metrics::refusals_of(&self.snapshotter)
    }

    /// The `fn.stuck` calls and durations counted (labels, and count), read once.
    pub(crate) fn counted(&self) -> Vec<(String, String)> {
        self.server.flush_metrics();
        crate::call_metrics::series_of(&self.snapshotter)
            .into_iter()
            .filter(|(name, ..)| {
                name == "telepact_calls_total" || name == "telepact_call_duration_seconds"
            })
            .filter(|(_, labels, _)| labels[0] == "function=fn.stuck")
            .map(|(_, labels, value)| (labels.join(" "), value))
            .collect()
    }
}

/// What [`Stuck::counted`] gives for `calls` calls cut off.
pub(crate) fn cancelled(calls: usize) -> Vec<(String, String)> {
    vec![
        (
            "function=fn.stuck".to_string(),
            format!("{calls} durations"),
        ),
        (
            "function=fn.stuck result=cancelled".to_string(),
            format!("count {calls}"),
        ),
    ]
}

/// The `telepact.call` spans `capture` saw, by their result.
pub(crate) fn span_results(capture: &Capture) -> Vec<String> {
    let spans = capture.spans().into_iter();
    let calls = spans.filter(|span| span.name == "telepact.call");
    calls
        .map(|span| span.fields.get("result").cloned().unwrap_or_default())
        .collect()
}

/// Opens a connection to `port` and sends a `POST` of `body` with `headers` (each line
/// ending in `\r\n`) in `version` (`1.1` or `1.0`).
pub(crate) async fn send_post(port: u16, version: &str, headers: &str, body: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let head = format!(
        "POST {} HTTP/{version}\r\nHost: x\r\n{headers}Content-Length: {}\r\n\r\n",
        http::DEFAULT_PATH,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    stream.write_all(body).await.expect("writes");
    stream
}

/// An HTTP/1 client that closes its connection, or shuts its side down, while its call
/// is answered on a keep-alive connection has gone: the handler is dropped (not left to
/// run until it ends), and the call counted as `cancelled`. Before, half-close was on for
/// every request, and such a handler ran on.
#[tokio::test]
async fn an_http1_caller_that_goes_away_has_its_call_dropped_and_counted() {
    let capture = Capture::default();
    let _logged = tracing::subscriber::set_default(capture.clone());
    let stuck = Stuck::new();
    let (port, _stop, _serving) = serve_app(stuck.router(), ServeOptions::default()).await;

    let closing = send_post(port, "1.1", "", STUCK_CALL).await;
    stuck.entered(1).await;
    drop(closing);
    stuck.given_up(1).await;

    let mut shutting = send_post(port, "1.1", "", STUCK_CALL).await;
    stuck.entered(1).await;
    shutting.shutdown().await.expect("shuts its side down");
    stuck.given_up(2).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(WAIT, shutting.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server closes the connection");
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));

    assert_eq!(stuck.counted(), cancelled(2));
    assert_eq!(span_results(&capture), ["\"cancelled\""; 2]);
}

/// A client that shuts its side down at once after its request, before the server has
/// even kept its connection's task, has gone all the same: every such connection is
/// closed unanswered. Until 7 December a call that started before the accept loop had
/// kept the task's handle ran on, its connection held open, however the client had
/// gone: served from `#[tokio::main]`'s own future, as an application does, the accept
/// loop runs outside the workers, which run a new connection's task at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_gone_before_their_connection_is_known_are_still_dropped() {
    const CALLERS: usize = 128;
    let stuck = Stuck::new();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async {
        let _ = stopped.await;
    };
    // Served in this future, not a spawned task, as `main` serves.
    let serve = ServeOptions::default().grace(Duration::from_millis(100));
    let serving = http::serve_with(listener, stuck.router(), shutdown, serve);
    let calling = async move {
        let mut callers = Vec::new();
        for _ in 0..CALLERS {
            let mut caller = send_post(port, "1.1", "", STUCK_CALL).await;
            caller.shutdown().await.expect("shuts its side down");
            callers.push(tokio::spawn(async move {
                let mut answer = Vec::new();
                let read = tokio::time::timeout(WAIT, caller.read_to_end(&mut answer)).await;
                read.is_ok() && answer.is_empty()
            }));
        }
        let mut closed = 0;
        for caller in callers {
            closed += usize::from(caller.await.expect("reads"));
        }
        let _ = stop.send(());
        closed
    };
    let (served, closed) = tokio::join!(serving, calling);
    served.expect("serves");
    assert_eq!(closed, CALLERS, "connections closed unanswered");
}

/// A WebSocket message whose session the client closes (a close frame, or the
/// connection dropped) before it is answered is dropped with the session and counted as
/// `cancelled`; before, it ran on until it ended. A connection dropped without a close
/// frame is no refused message (it was counted as a 400). A message sent while the one
/// before it is answered still waits its turn.
#[tokio::test]
async fn a_websocket_message_whose_session_closes_is_dropped_and_counted() {
    let capture = Capture::default();
    let _logged = tracing::subscriber::set_default(capture.clone());
    let stuck = Stuck::new();
    let (port, _stop, _serving) = serve_app(stuck.router(), ServeOptions::default()).await;
    let url = format!("ws://127.0.0.1:{port}{}", http::DEFAULT_PATH);
    let stuck_call = String::from_utf8(STUCK_CALL.to_vec()).expect("UTF-8");

    let (mut closed, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("connects");
    closed
        .send(Frame::text(stuck_call.clone()))
        .await
        .expect("sent");
    stuck.entered(1).await;
    closed.close(None).await.expect("a close frame sent");
    stuck.given_up(1).await;

    let (mut dropped, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("connects");
    dropped.send(Frame::text(stuck_call)).await.expect("sent");
    stuck.entered(1).await;
    drop(dropped);
    stuck.given_up(2).await;

    let (mut session, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("connects");
    for call in [
        r#"[{"@id_": 1}, {"fn.slow": {}}]"#,
        r#"[{"@id_": 2}, {"fn.ping_": {}}]"#,
    ] {
        session.send(Frame::text(call)).await.expect("sent");
    }
    let mut answers = Vec::new();
    while answers.len() < 2 {
        let next = tokio::time::timeout(WAIT, session.next()).await;
        if let Ok(Some(Ok(Frame::Text(text)))) = next {
            answers.push(text.to_string());
        } else {
            panic!("an answer: {next:?}");
        }
    }
    assert_eq!(
        answers,
        [r#"[{"@id_":1},{"Ok_":{}}]"#, r#"[{"@id_":2},{"Ok_":{}}]"#]
    );

    assert_eq!(stuck.counted(), cancelled(2));
    assert_eq!(stuck.refusals(), [], "a session dropped refuses nothing");
    let results = span_results(&capture);
    assert_eq!(results[..2], ["\"cancelled\""; 2], "{results:?}");
}

/// At the shutdown's deadline every call still being answered (here over two HTTP/1
/// connections, two HTTP/2 streams of one connection and a WebSocket session) is cut off
/// and counted once as `cancelled`, each with its span closed so; before, none was
/// counted at all.
#[tokio::test]
async fn calls_cut_off_at_the_shutdown_deadline_are_each_counted_once() {
    let capture = Capture::default();
    let _logged = tracing::subscriber::set_default(capture.clone());
    let stuck = Stuck::new();
    let options = ServeOptions::default().grace(Duration::from_millis(200));
    let (port, stop, serving) = serve_app(stuck.router(), options).await;

    let mut http1 = Vec::new();
    for _ in 0..2 {
        http1.push(send_post(port, "1.1", "", STUCK_CALL).await);
    }
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(telepact::client::tls::plain_http_config().expect("TLS"))
        .http2_prior_knowledge()
        .build()
        .expect("client builds");
    let url = format!("http://127.0.0.1:{port}{}", http::DEFAULT_PATH);
    let http2: Vec<_> = (0..2)
        .map(|_| tokio::spawn(client.post(&url).body(STUCK_CALL).send()))
        .collect();
    let ws_url = format!("ws://127.0.0.1:{port}{}", http::DEFAULT_PATH);
    let (mut session, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .expect("connects");
    let stuck_call = String::from_utf8(STUCK_CALL.to_vec()).expect("UTF-8");
    session.send(Frame::text(stuck_call)).await.expect("sent");
    stuck.entered(5).await;

    stop.send(()).expect("the server is running");
    let ended = tokio::time::timeout(WAIT, serving).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "serving ended: {ended:?}");
    stuck.given_up(5).await;
    // Time for anything recorded twice to be.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(stuck.counted(), cancelled(5));
    assert_eq!(span_results(&capture), ["\"cancelled\""; 5]);
    for call in http2 {
        call.abort();
    }
}
