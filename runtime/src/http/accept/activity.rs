//! What a connection's task knows of its requests: when it made its first, which are
//! in flight, whether its client hung up, so that the accept loop closes it when idle
//! and drops it when its client goes.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use super::hangup::OnHangup;
use super::untaken::Untaken;

/// What a connection's task knows of its requests, to close it when idle.
///
/// hyper's head timer covers an HTTP/1 connection once it knows the protocol: a
/// keep-alive connection that sends no next head in time is closed. Before the first
/// request (and on HTTP/2, which hyper lets idle forever) nothing limits a client that
/// sends nothing, half a preface, or one request and then nothing, so the task does.
#[derive(Default)]
pub(super) struct Activity {
    first_seen: AtomicBool,
    http2: AtomicBool,
    /// The client opened the connection with HTTP/2's preface ([`preface`](super::preface)).
    pub(super) http2_preface: Arc<AtomicBool>,
    /// HTTP/2 requests started and not yet answered.
    in_flight: AtomicUsize,
    changed: Notify,
    /// HTTP/1 calls started and not yet answered, counted where the client's end of
    /// input is watched (see [`OnHangup`]).
    http1_calls: AtomicUsize,
    /// An HTTP/1 request said it is the connection's last (see [`is_last_request`]).
    last_request: AtomicBool,
    /// The client shut its side of the connection down.
    hung_up: AtomicBool,
    /// The connection's task, aborted (its call dropped) when its client goes.
    task: Mutex<Task>,
    /// HTTP/2 answers waiting for the client to grant room for them.
    pub(super) untaken: Arc<Untaken>,
}

impl Activity {
    /// Called as each request starts; the returned guard marks it answered when dropped.
    /// After the first request an HTTP/1 connection costs one atomic load per request.
    /// The idle watch hears of the first request, and of an HTTP/2 connection that was
    /// idle becoming busy, so that its timer stops.
    pub(super) fn started(self: &Arc<Self>, version: http::Version) -> Option<InFlight> {
        let http2 = version == http::Version::HTTP_2;
        let was_idle = http2 && self.in_flight.fetch_add(1, Ordering::AcqRel) == 0;
        let first = !self.first_seen.load(Ordering::Acquire);
        if first {
            self.http2.store(http2, Ordering::Release);
            self.first_seen.store(true, Ordering::Release);
        }
        if first || was_idle {
            self.changed.notify_waiters();
        }
        http2.then(|| InFlight(Arc::clone(self)))
    }

    /// Whether a request has started on the connection (its head read whole).
    pub(super) fn made_a_request(&self) -> bool {
        self.first_seen.load(Ordering::Acquire)
    }

    /// Completes once the connection has gone `limit` without a request (none since it
    /// opened, or, on HTTP/2, none in flight since the last was answered), or when an
    /// HTTP/1 connection has made its first request (hyper's timer has it from there),
    /// or once an HTTP/2 answer has waited `limit` for its client to grant room for it,
    /// requests in flight or not.
    pub(super) async fn idle(&self, limit: Duration) -> Idle {
        tokio::select! {
            idle = self.without_requests(limit) => idle,
            () = self.untaken.stalled(limit) => Idle::Stalled,
        }
    }

    async fn without_requests(&self, limit: Duration) -> Idle {
        loop {
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            let first_seen = self.first_seen.load(Ordering::Acquire);
            if first_seen && !self.http2.load(Ordering::Acquire) {
                return Idle::LeftToHyper;
            }
            if first_seen && self.in_flight.load(Ordering::Acquire) > 0 {
                changed.await;
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(limit) => return Idle::Expired,
                () = changed => {}
            }
        }
    }
}

impl Activity {
    /// Counts an HTTP/1 call started (`last`: its request said it is the connection's
    /// last) until the returned guard is dropped; drops the connection at once if its
    /// client has gone already.
    pub(super) fn http1_call(self: &Arc<Self>, last: bool) -> Http1Call {
        if last {
            self.last_request.store(true, Ordering::SeqCst);
        }
        self.http1_calls.fetch_add(1, Ordering::SeqCst);
        if !last && self.hung_up.load(Ordering::SeqCst) {
            self.drop_connection();
        }
        Http1Call(Arc::clone(self))
    }

    pub(super) fn drop_connection(&self) {
        let mut task = self.task.lock().unwrap_or_else(PoisonError::into_inner);
        match &*task {
            Task::Kept(handle) => handle.abort(),
            Task::Unknown => *task = Task::Gone,
            Task::Gone => {}
        }
    }

    /// Keeps the connection's task, to abort when its client goes; aborts it at once
    /// when that was asked before: a worker can run the task's first call before the
    /// accept loop, outside the workers under `#[tokio::main]`, has kept it.
    pub(super) fn keep_task(&self, handle: tokio::task::AbortHandle) {
        let mut task = self.task.lock().unwrap_or_else(PoisonError::into_inner);
        if let Task::Gone = *task {
            handle.abort();
        }
        *task = Task::Kept(handle);
    }
}

/// What [`Activity::drop_connection`] can abort.
#[derive(Default)]
enum Task {
    /// Not yet kept by the accept loop.
    #[default]
    Unknown,
    /// Asked to end before it was kept.
    Gone,
    /// The connection's task.
    Kept(tokio::task::AbortHandle),
}

/// The client shut its side down. An HTTP/1 call being answered then is dropped, with
/// its connection: the client has gone. Not so a call whose request said it was the
/// connection's last, after which a client may shut its side down and read on (RFC
/// 9112: a half-close does not say the client lost interest); nor on HTTP/2, whose own
/// reading sees the end and whose streams are reset one by one. A call started after
/// the end is dropped as it starts ([`Activity::http1_call`]).
///
/// hyper's HTTP/1 half-close stays on, so that hyper reads nothing while a call is
/// answered (see [`hangup`](super::hangup) for what reading would cost). Of curl, wget, Python's urllib
/// and requests, Node's http and fetch, Java's two clients and Perl's HTTP::Tiny, none
/// shuts its side down while waiting for an answer, while a client that gives up (a
/// timeout, Ctrl-C, a page left) closes the connection: the same end of input. Go's
/// net/http (cancelling the request's context), Node's http server and nginx (499)
/// read it so too.
impl OnHangup for Activity {
    fn hung_up(&self) {
        self.hung_up.store(true, Ordering::SeqCst);
        let calls = self.http1_calls.load(Ordering::SeqCst);
        if calls > 0 && !self.last_request.load(Ordering::SeqCst) {
            self.drop_connection();
        }
    }
}

/// An HTTP/1 call not yet answered.
pub(super) struct Http1Call(Arc<Activity>);

impl Drop for Http1Call {
    fn drop(&mut self) {
        self.0.http1_calls.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether `request` says it is the last of its HTTP/1 connection: `Connection: close`,
/// or HTTP/1.0 without `keep-alive`, as hyper reads them.
pub(super) fn is_last_request<B>(request: &http::Request<B>) -> bool {
    let http10 = request.version() == http::Version::HTTP_10;
    let headers = request.headers();
    if !headers.contains_key(http::header::CONNECTION) {
        return http10;
    }
    let says = |token: &str| super::super::lists_token(headers, &http::header::CONNECTION, token);
    says("close") || (http10 && !says("keep-alive"))
}

/// How [`Activity::idle`] ended.
pub(super) enum Idle {
    /// The connection went the whole limit without a request.
    Expired,
    /// An HTTP/1 connection made its first request; hyper's head timer watches it now.
    LeftToHyper,
    /// An HTTP/2 answer waited the whole limit for its client to grant room for it.
    Stalled,
}

/// An HTTP/2 request not yet answered.
pub(super) struct InFlight(pub(super) Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.changed.notify_waiters();
        }
    }
}
