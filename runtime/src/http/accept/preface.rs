//! Whether a connection's client opened it with HTTP/2's preface (RFC 9113, 3.4), read
//! from the first bytes hyper reads: a shutdown closes at once a connection that has
//! made no request, but an HTTP/2 one is told so first (GOAWAY), which hyper's graceful
//! close does, so that a request the client sent meanwhile is answered or retried.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How HTTP/2's preface begins; no HTTP/1 request does so.
const HTTP2_START: &[u8] = b"PRI ";

/// `stream`, setting `http2` once its first bytes read begin HTTP/2's preface.
pub(super) struct PrefaceWatch<S> {
    stream: S,
    /// How many of [`HTTP2_START`] were read, while they all matched.
    matched: usize,
    /// The start was read, or bytes that are not it.
    decided: bool,
    http2: Arc<AtomicBool>,
}

impl<S> PrefaceWatch<S> {
    pub(super) fn new(stream: S, http2: Arc<AtomicBool>) -> Self {
        PrefaceWatch {
            stream,
            matched: 0,
            decided: false,
            http2,
        }
    }

    fn saw(&mut self, read: &[u8]) {
        for byte in read {
            if HTTP2_START.get(self.matched) != Some(byte) {
                self.decided = true;
                return;
            }
            self.matched += 1;
            if self.matched == HTTP2_START.len() {
                self.decided = true;
                self.http2.store(true, Ordering::Release);
                return;
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PrefaceWatch<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if !self.decided {
            let read = buf.filled().get(before..).unwrap_or_default();
            self.saw(read);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PrefaceWatch<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
