//! A WebSocket session at the server's shutdown deadline: a message still being
//! answered then is dropped with its session, as an HTTP request is with its
//! connection, rather than outliving the server (`client_websocket` has the graceful
//! part: a message answered within the grace, then the session closed).
#![cfg(feature = "websocket-client")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use telepact::http::{self, HttpOptions, ServeOptions};
use telepact::schema::Schema;
use telepact::{FunctionRouter, HandlerError, Message, Server};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message as Frame;

/// Sets its flag when dropped: the handler's work was given up.
struct GivenUp(Arc<AtomicBool>);

impl Drop for GivenUp {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Asserts that a warning holding `text` was logged, naming the client's address.
fn assert_warned_naming_the_client(capture: &crate::log_capture::Capture, text: &str) {
    let lines = capture.lines();
    let warned = lines.iter().find(|line| line.contains(text));
    assert!(
        warned.is_some_and(|line| line.starts_with("WARN") && line.contains("127.0.0.1")),
        "{lines:?}"
    );
}

/// A server whose `fn.stuck` never answers; `entered` is told when a call starts, and
/// `given_up` set when its work is dropped.
fn stuck_server(entered: Arc<Notify>, given_up: Arc<AtomicBool>) -> Server {
    let schema = Schema::from_text(r#"[{"fn.stuck": {}, "->": [{"Ok_": {}}]}]"#).expect("loads");
    let router = FunctionRouter::new().route("fn.stuck", move |_request: Message| {
        let (entered, flag) = (Arc::clone(&entered), GivenUp(Arc::clone(&given_up)));
        async move {
            let _flag = flag;
            entered.notify_one();
            std::future::pending::<()>().await;
            Ok::<_, HandlerError>(Message::default())
        }
    });
    Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("server builds")
}

#[tokio::test]
async fn a_message_unanswered_at_the_shutdown_deadline_is_dropped_with_its_session() {
    let capture = crate::log_capture::Capture::default();
    let _logged = tracing::subscriber::set_default(capture.clone());
    let (entered, given_up) = (Arc::new(Notify::new()), Arc::new(AtomicBool::new(false)));
    let server = stuck_server(Arc::clone(&entered), Arc::clone(&given_up));
    let app = http::router(server, &HttpOptions::default());
    let options = ServeOptions::default().grace(Duration::from_millis(100));
    let (mut socket, stop, serving) = crate::client_websocket::app_session(app, options).await;
    socket
        .send(Frame::text(r#"[{}, {"fn.stuck": {}}]"#))
        .await
        .expect("sent");
    entered.notified().await;

    stop.send(()).expect("the server is running");
    let wait = Duration::from_secs(10);
    let ended = tokio::time::timeout(wait, serving).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "serving ended: {ended:?}");

    assert!(
        given_up.load(Ordering::SeqCst),
        "the call's work is dropped by then"
    );
    let closed = tokio::time::timeout(wait, async {
        while let Some(Ok(frame)) = socket.next().await {
            if let Frame::Close(_) = frame {
                break;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the session is closed");
    assert_warned_naming_the_client(&capture, "shutdown deadline; session dropped");
}

/// A session whose client takes none of its answers is dropped at the shutdown's
/// deadline too, its answer unsent, rather than held open past `serve`'s return until
/// the write limit.
#[tokio::test]
async fn a_session_whose_answer_is_not_taken_is_dropped_at_the_shutdown_deadline() {
    use axum::extract::Request;
    use telepact::Encoding;

    let capture = crate::log_capture::Capture::default();
    let _logged = tracing::subscriber::set_default(capture.clone());
    let given_up = Arc::new(AtomicBool::new(false));
    let ended = Arc::clone(&given_up);
    let limits = HttpOptions::default().body_limits();
    // Each message answered with 1 MiB: a client reading none fills the buffers.
    let upgrade = move |request: Request| {
        let flag = GivenUp(Arc::clone(&ended));
        http::websocket_session(request, limits, move |_message| {
            let _held = &flag;
            async { Ok((vec![b' '; 1 << 20], Encoding::Json)) }
        })
    };
    let app = axum::Router::new().route(http::DEFAULT_PATH, axum::routing::get(upgrade));
    let options = ServeOptions::default().grace(Duration::from_millis(100));
    let (mut socket, stop, serving) = crate::client_websocket::app_session(app, options).await;
    for _ in 0..32 {
        socket.send(Frame::text("[{}, {}]")).await.expect("sent");
    }
    // The answers fill the connection's buffers; the session waits to write the rest.
    tokio::time::sleep(Duration::from_millis(500)).await;

    stop.send(()).expect("the server is running");
    let ended = tokio::time::timeout(Duration::from_secs(10), serving).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "serving ended: {ended:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        given_up.load(Ordering::SeqCst),
        "the session is gone once serving has ended"
    );
    assert_warned_naming_the_client(&capture, "untaken at the shutdown deadline");
    drop(socket);
}
