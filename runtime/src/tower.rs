//! The server and client in the tower ecosystem: [`Server`] is a
//! `tower::Service<Bytes>` (request bytes in, [`Response`] out), and any
//! `tower::Service<Vec<u8>>` that answers with bytes is a client [`Transport`] through
//! [`TowerTransport`], so tower's retries, rate limits and timeouts apply to calls.
//!
//! Over HTTP, [`crate::http::router`] is an `axum::Router`, itself a
//! `tower::Service<http::Request<_>>`: `tower-http` layers wrap it with
//! `Router::layer` or `ServiceBuilder`.

// The link to the HTTP router resolves with the `axum` feature (on by default).
#![cfg_attr(not(feature = "axum"), allow(rustdoc::broken_intra_doc_links))]

use std::convert::Infallible;
use std::future::poll_fn;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use tower_service::Service;

use crate::client::{Transport, TransportError};
use crate::router::BoxFuture;
use crate::server::{Response, Server};

/// One Telepact message in, its answer out. Always ready; never fails (a bad request
/// is answered with the protocol's error).
impl Service<bytes::Bytes> for Server {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: bytes::Bytes) -> Self::Future {
        let server = self.clone();
        Box::pin(async move { Ok(server.process(&request).await) })
    }
}

/// Makes a `tower::Service` that carries request bytes to a server and answers with
/// the response bytes a client [`Transport`]. The service is cloned for each call; it
/// need not be `Sync` (a `tower::util::BoxCloneService` is not): the transport keeps it
/// behind a lock, held only to clone it.
///
/// ```
/// use telepact::Client;
/// use telepact::tower::TowerTransport;
///
/// # fn wrap<S>(service: S) -> Client
/// # where
/// #     S: tower_service::Service<Vec<u8>, Response = Vec<u8>> + Clone + Send + 'static,
/// #     S::Error: Into<telepact::client::TransportError>,
/// #     S::Future: Send,
/// # {
/// Client::new(TowerTransport::new(service))
/// # }
/// ```
#[derive(Debug)]
pub struct TowerTransport<S> {
    service: Mutex<S>,
}

impl<S> TowerTransport<S> {
    /// A transport that sends each request through `service`.
    pub fn new(service: S) -> Self {
        TowerTransport {
            service: Mutex::new(service),
        }
    }
}

impl<S: Clone> TowerTransport<S> {
    /// A clone of the service, for one call.
    fn service(&self) -> S {
        self.service
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl<S: Clone> Clone for TowerTransport<S> {
    fn clone(&self) -> Self {
        TowerTransport::new(self.service())
    }
}

impl<S> Transport for TowerTransport<S>
where
    S: Service<Vec<u8>, Response = Vec<u8>> + Clone + Send + 'static,
    S::Error: Into<TransportError>,
    S::Future: Send,
{
    fn send(&self, request: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        let mut service = self.service();
        Box::pin(async move {
            poll_fn(|cx| service.poll_ready(cx))
                .await
                .map_err(Into::into)?;
            service.call(request).await.map_err(Into::into)
        })
    }
}
