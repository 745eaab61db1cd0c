//! How the client moves bytes: one request out, one response back.

use std::future::Future;

use crate::router::BoxFuture;

/// What a transport may fail with (connection refused, HTTP status, ...).
pub type TransportError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Carries one serialized request to a server and brings back the serialized response.
///
/// Requests are JSON text or MessagePack; [`crate::binary::is_msgpack`] tells which (an
/// HTTP transport uses it to pick the content type). The client applies its own
/// deadline around `send`, so a transport needs no timeout of its own.
///
/// Any `Fn(Vec<u8>) -> impl Future<Output = Result<Vec<u8>, TransportError>>` is a
/// transport, which makes in-process and test transports one closure long.
pub trait Transport: Send + Sync + 'static {
    /// Sends one encoded request and resolves to the encoded response.
    fn send(&self, request: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, TransportError>>;

    /// Like [`Transport::send`], also carrying `headers` in the transport's own framing
    /// (an authoriser's `Authorization` header, say). A transport without headers of
    /// its own refuses a non-empty map rather than send the call without them.
    fn send_with_headers(
        &self,
        request: Vec<u8>,
        headers: http::HeaderMap,
    ) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        if headers.is_empty() {
            return self.send(request);
        }
        Box::pin(async { Err("this transport cannot carry transport headers".into()) })
    }
}

impl<F, Fut> Transport for F
where
    F: Fn(Vec<u8>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<u8>, TransportError>> + Send + 'static,
{
    fn send(&self, request: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        Box::pin(self(request))
    }
}
