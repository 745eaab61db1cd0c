//! How the client moves bytes: one request out, one response back.

use std::future::Future;

use crate::router::BoxFuture;

/// The largest answer the HTTP and WebSocket transports read by default: 64 MiB.
pub const DEFAULT_RESPONSE_LIMIT: usize = 64 * 1024 * 1024;

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
///
/// # Example
///
/// A transport that answers every request with a canned message, for a test of what a
/// caller does with it:
///
/// ```
/// use telepact::client::TransportError;
/// use telepact::{Client, Headers, Message};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let down = |_request: Vec<u8>| async {
///     Ok::<_, TransportError>(br#"[{}, {"ErrorUnavailable": {}}]"#.to_vec())
/// };
/// let client = Client::new(down);
/// let ping = Message::new(Headers::new(), "fn.ping_", Default::default());
/// let answer = client.request(ping).await?;
/// assert_eq!(answer.target(), "ErrorUnavailable");
/// # Ok::<_, telepact::ClientError>(())
/// # }).unwrap();
/// ```
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

/// A server is a transport to itself: a client built on one calls it in process, with
/// no bytes leaving it (tests, or a service calling its own API).
///
/// ```
/// use telepact::schema::Schema;
/// use telepact::{Client, FunctionRouter, Headers, Message, Server};
///
/// # tokio_test_block_on(async {
/// let schema = Schema::from_text("[]").expect("loads");
/// let server = Server::builder(schema, FunctionRouter::new())
///     .auth_required(false)
///     .build()
///     .expect("builds");
/// let client = Client::new(server);
/// let answer = client
///     .request(Message::new(Headers::new(), "fn.ping_", Default::default()))
///     .await
///     .expect("answered");
/// assert_eq!(answer.target(), "Ok_");
/// # });
/// # fn tokio_test_block_on(future: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(future)
/// # }
/// ```
impl Transport for crate::Server {
    fn send(&self, request: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        let server = self.clone();
        Box::pin(async move { Ok(server.process(&request).await.bytes) })
    }
}

/// A mock server is a transport to itself too, as a [`Server`](crate::Server) is.
impl Transport for crate::mock::MockServer {
    fn send(&self, request: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        let mock = self.clone();
        Box::pin(async move { Ok(mock.process(&request).await.bytes) })
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
