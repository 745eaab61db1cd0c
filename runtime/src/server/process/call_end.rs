//! Where a call's end is recorded, in its span and its metrics, whether it was answered
//! or cut off: its future dropped before the answer was made (the caller's connection
//! went, the server's shutdown deadline passed). One place for both, so a call cut off
//! is counted and timed as an answered one is.

use std::time::Instant;

use tracing::Span;

use super::super::Inner;
use super::super::call_metrics::{CANCELLED, CallMetrics, FunctionKeys};
use super::super::call_span::{record_cancelled, record_response};
use crate::codec::Encoding;
use crate::message::Message;

/// A call under way, to be recorded once as it ends: by [`answered`](Self::answered),
/// or, when dropped unanswered, as `cancelled`. It borrows the call's span rather than
/// holding it: moved in and out of the call's future, a larger guard cost more on
/// every call.
pub(super) struct CallEnd<'s> {
    inner: &'s Inner,
    span: &'s Span,
    /// When the call began; `None` when nothing records calls (no metrics, the span
    /// disabled).
    started: Option<Instant>,
    request_bytes: usize,
    /// The metric keys of the call's function, once known.
    pub(super) function: Option<&'s FunctionKeys>,
}

impl<'s> CallEnd<'s> {
    pub(super) fn new(
        inner: &'s Inner,
        span: &'s Span,
        started: Option<Instant>,
        request_bytes: usize,
    ) -> Self {
        if let Some(metric_keys) = &inner.metrics {
            metric_keys.call_began();
        }
        CallEnd {
            inner,
            span,
            started,
            request_bytes,
            function: None,
        }
    }

    /// Records the call answered with `response`, sent as `bytes` bytes.
    #[inline]
    pub(super) fn answered(
        self,
        response: &Message,
        encoding: Encoding,
        packed: bool,
        bytes: usize,
    ) {
        // Not dropped, even by a recorder or subscriber panicking below: the drop would
        // record the call again, as cancelled. Only references and numbers, so nothing
        // is left undropped. Counted before the span is written, so that a subscriber
        // panicking there leaves no call in flight for ever.
        let call = std::mem::ManuallyDrop::new(self);
        if let Some(started) = call.started {
            call.count(response.target(), Some(bytes), started);
            record_response(call.span, response, encoding, packed, started);
        }
    }

    /// Out of line: a call is seldom cut off.
    #[cold]
    #[inline(never)]
    fn cancelled(&self, started: Instant) {
        record_cancelled(self.span, started);
        self.count(CANCELLED, None, started);
    }

    fn count(&self, result: &str, response_bytes: Option<usize>, started: Instant) {
        let Some(metric_keys) = &self.inner.metrics else {
            return;
        };
        metric_keys.call_ended();
        let call = CallMetrics {
            keys: self.function.unwrap_or_else(|| metric_keys.function(None)),
            result,
            request_bytes: self.request_bytes,
            response_bytes,
            started,
        };
        call.record(metric_keys);
    }
}

impl Drop for CallEnd<'_> {
    /// Dropped unanswered (an answered call's never is), the call is recorded as
    /// `cancelled`.
    fn drop(&mut self) {
        if let Some(started) = self.started {
            self.cancelled(started);
        }
    }
}
