//! Closing a connection in stages (RFC 9112, 9.6): a connection the server ends while
//! its client is still sending (a body over the limit or too slow, answered before it
//! was read) has its write side shut and what still comes read and thrown away for a
//! while, before it is closed. Closed at once with unread bytes, the kernel resets it,
//! and a client still writing its body (Python's `http.client`, which reads nothing
//! until it has sent all) sees the reset instead of the answer waiting for it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::super::per_address::Admitted;

/// The longest a closed connection is read on.
const LINGER_FOR: Duration = Duration::from_secs(10);
/// The longest it waits for each next read: a client that has stopped sending has
/// nothing left to lose to a reset.
const LINGER_READ_WAIT: Duration = Duration::from_secs(2);
/// The most bytes it reads and throws away.
const LINGER_BYTES: usize = 64 * 1024 * 1024;

/// A connection's stream that, dropped before its client's input ended, lingers as
/// above in a task of its own, holding the connection's place among its address's.
pub(super) struct Lingering<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> {
    stream: Option<S>,
    input_ended: bool,
    admitted: Arc<Admitted>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Lingering<S> {
    pub(super) fn new(stream: S, admitted: Arc<Admitted>) -> Self {
        Lingering {
            stream: Some(stream),
            input_ended: false,
            admitted,
        }
    }

    fn stream(&mut self) -> io::Result<&mut S> {
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Drop for Lingering<S> {
    fn drop(&mut self) {
        if self.input_ended {
            return;
        }
        let (Some(stream), Ok(runtime)) =
            (self.stream.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let admitted = Arc::clone(&self.admitted);
        runtime.spawn(async move {
            let _ = tokio::time::timeout(LINGER_FOR, linger(stream)).await;
            drop(admitted);
        });
    }
}

/// Shuts `stream`'s write side, then reads it until its client closes, goes quiet for
/// [`LINGER_READ_WAIT`] or has sent [`LINGER_BYTES`].
async fn linger<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    if std::future::poll_fn(|cx| Pin::new(&mut stream).poll_shutdown(cx))
        .await
        .is_err()
    {
        return;
    }
    let mut scratch = [0u8; 8192];
    let mut discarded = 0;
    while discarded < LINGER_BYTES {
        let read = std::future::poll_fn(|cx| {
            let mut buffer = ReadBuf::new(&mut scratch);
            Pin::new(&mut stream)
                .poll_read(cx, &mut buffer)
                .map_ok(|()| buffer.filled().len())
        });
        match tokio::time::timeout(LINGER_READ_WAIT, read).await {
            Ok(Ok(read)) if read > 0 => discarded += read,
            _ => return,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncRead for Lingering<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let asked = buf.remaining() > 0;
        let polled = Pin::new(self.stream()?).poll_read(cx, buf);
        // Nothing read into room for it: the client's input has ended (or failed).
        match &polled {
            Poll::Ready(Ok(())) if asked && buf.filled().len() == before => {
                self.input_ended = true;
            }
            Poll::Ready(Err(_)) => self.input_ended = true,
            _ => {}
        }
        polled
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncWrite for Lingering<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.stream()?).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.stream()?).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(S::is_write_vectored)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.stream()?).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.stream()?).poll_shutdown(cx)
    }
}
