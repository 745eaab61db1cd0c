//! A call's time limit: the server's, narrowed by the client's `@time_`, and the wait
//! that keeps to it.

use std::task::Poll;
use std::time::{Duration, Instant};

use crate::message::Headers;
use crate::server::TimedOut;

/// A call's time limit, counted from when its request arrived.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadline {
    arrived: Instant,
    limit: Duration,
}

impl Deadline {
    /// The deadline of a call that `arrived` then: the server's limit, narrowed by the
    /// client's own `@time_` (milliseconds) when that is shorter, since past it nobody
    /// waits for the answer. A server without a limit needs no timer, so `@time_` alone
    /// sets none.
    pub(super) fn of_call(
        server: Option<Duration>,
        headers: &Headers,
        arrived: Instant,
    ) -> Option<Deadline> {
        let server = server?;
        let client = headers.time_limit();
        let limit = client.map_or(server, |client| server.min(client));
        Some(Deadline { arrived, limit })
    }
}

/// `work`'s output, or [`TimedOut`] past `deadline`. The timer is set (and the
/// deadline worked out) only when the work does not finish as it is first polled: most
/// answers come at once, and a timer costs several hundred instructions to set and to
/// drop. It is boxed then, so the state of work that finishes at once (and the box it
/// lives in) holds no timer.
pub(super) async fn within<F: Future>(deadline: Deadline, work: F) -> Result<F::Output, TimedOut> {
    let mut work = std::pin::pin!(work);
    let first = std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => {
            let arrived = tokio::time::Instant::from_std(deadline.arrived);
            // A limit past what the clock can tell (`Duration::MAX` for none) sets no timer.
            let Some(at) = arrived.checked_add(deadline.limit) else {
                return Ok(work.await);
            };
            Box::pin(tokio::time::timeout_at(at, work))
                .await
                .map_err(|_elapsed| TimedOut(deadline.limit))
        }
    }
}
