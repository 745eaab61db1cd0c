//! HTTP/2 answers waiting for their client to grant room to send them. An HTTP/2
//! client that grants no flow-control window leaves its answers unsent while nothing
//! is written, so no write limit sees it; the idle limit closes its connection only once
//! no request is in flight, which a client starting a request every few seconds never
//! lets happen. Each piece of an answer's body is counted here from when hyper takes it
//! until hyper asks for the next (or drops the body), which it does once the client
//! has granted room for it, and a connection whose oldest piece has waited as long as
//! the idle limit is dropped. A body waiting for its own next piece (a stream of
//! events) is not counted.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The most of an answer hyper is handed at once. hyper hands a piece to the stream
/// once the client grants it room for one byte, and asks for the next once the stream
/// has room for more than it holds: a client granting a byte at a time has its answer
/// wait here, not held in the stream whole.
const PIECE: usize = 16 * 1024;

/// One connection's pieces of answers waiting to be sent, by when they began to.
#[derive(Debug, Default)]
pub(super) struct Untaken {
    waiting: Mutex<BTreeMap<u64, Instant>>,
    next: AtomicU64,
    /// Told when a piece is sent, and when one starts waiting with none before it.
    changed: Notify,
}

impl Untaken {
    /// `answer`, its body's pieces counted while they wait to be sent.
    pub(super) fn track(self: &Arc<Self>, answer: http::Response<Body>) -> http::Response<Body> {
        let untaken = Arc::clone(self);
        answer.map(|body| {
            Body::new(Tracked {
                body,
                rest: Bytes::new(),
                untaken,
                waiting: None,
            })
        })
    }

    /// A piece now waiting to be sent: its key among the waiting.
    fn wait(&self) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let first = {
            let mut waiting = self.lock();
            waiting.insert(id, Instant::now());
            waiting.len() == 1
        };
        if first {
            self.changed.notify_waiters();
        }
        id
    }

    /// The piece of key `id` sent, or its body dropped.
    fn taken(&self, id: u64) {
        self.lock().remove(&id);
        self.changed.notify_waiters();
    }

    /// Completes once a piece of an answer has waited `limit` to be sent.
    pub(super) async fn stalled(&self, limit: Duration) {
        loop {
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            let oldest = self.lock().values().next().copied();
            match oldest {
                Some(since) => tokio::select! {
                    () = tokio::time::sleep_until(since + limit) => return,
                    () = changed => {}
                },
                None => changed.await,
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Instant>> {
        // The map holds no invariant a panic elsewhere could break.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An answer's body, what is left of the data it last gave, and the key of its piece
/// waiting to be sent, if one is.
struct Tracked {
    body: Body,
    rest: Bytes,
    untaken: Arc<Untaken>,
    waiting: Option<u64>,
}

impl Tracked {
    /// The next piece of `self.rest`, counted as waiting.
    fn piece(&mut self) -> hyper::body::Frame<Bytes> {
        let piece = self.rest.split_to(self.rest.len().min(PIECE));
        self.waiting = Some(self.untaken.wait());
        hyper::body::Frame::data(piece)
    }
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    /// hyper asks for the next piece once the last one is sent.
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        if let Some(id) = self.waiting.take() {
            self.untaken.taken(id);
        }
        if self.rest.is_empty() {
            match ready!(Pin::new(&mut self.body).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => self.rest = data,
                    Err(trailers) => return Poll::Ready(Some(Ok(trailers))),
                },
                ended => return Poll::Ready(ended),
            }
        }
        if self.rest.is_empty() {
            return Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::new()))));
        }
        Poll::Ready(Some(Ok(self.piece())))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty() && self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        let rest = u64::try_from(self.rest.len()).unwrap_or(u64::MAX);
        let inner = self.body.size_hint();
        let mut hint = hyper::body::SizeHint::new();
        hint.set_lower(inner.lower().saturating_add(rest));
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper.saturating_add(rest));
        }
        hint
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(id) = self.waiting.take() {
            self.untaken.taken(id);
        }
    }
}
