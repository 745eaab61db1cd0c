//! Turns a panicking future into an error, so one bad handler cannot take the server down.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A panic caught while polling a handler.
#[derive(Debug, thiserror::Error)]
#[error("panicked: {0}")]
pub struct Panicked(pub String);

/// Polls `inner`, answering a panic with [`Panicked`].
pub(crate) struct CatchUnwind<F> {
    inner: F,
}

impl<F> CatchUnwind<F> {
    pub(crate) fn new(inner: F) -> Self {
        CatchUnwind { inner }
    }
}

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Panicked>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = Pin::new(&mut self.inner);
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(Panicked(panic_message(payload.as_ref())))),
        }
    }
}

/// What `observe` returns, or its panic: for the hooks that observe a call, whose panic
/// is their failure, not the call's end.
pub(crate) fn caught<T>(observe: impl FnOnce() -> T) -> Result<T, Panicked> {
    catch_unwind(AssertUnwindSafe(observe))
        .map_err(|payload| Panicked(panic_message(payload.as_ref())))
}

/// The future `start` makes, that of a handler, middleware or auth hook: one that
/// panics before its future exists (a closure doing its work before its `async` block)
/// gets a future that panics as it is first polled, so that [`CatchUnwind`] answers
/// both alike rather than the panic unwinding through the transport's task.
pub(crate) fn start_caught<F: Future>(
    start: impl FnOnce() -> F,
    panicking: impl FnOnce(Panicking) -> F,
) -> F {
    catch_unwind(AssertUnwindSafe(start)).unwrap_or_else(|payload| panicking(Panicking(payload)))
}

/// A panic caught while a future was made, raised again when awaited.
pub(crate) struct Panicking(Box<dyn Any + Send>);

impl Panicking {
    /// Panics with the caught panic's payload.
    pub(crate) async fn resume<T>(self) -> T {
        resume_unwind(self.0)
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
